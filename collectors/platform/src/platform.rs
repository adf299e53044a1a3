//! The platforms an account can live on, in one table: each row gives the stable identifier
//! (used in registry files, in the store and on every report: `douyin`, `wechat_channels`, …),
//! the name people write, the other names hand-filled tables use, whether the plan counts it
//! as a short-video platform, and, for a platform haoqi polls itself, where and how gently.
//! Adding a platform starts with one row here; every `match` over [`Platform`] in the
//! workspace is exhaustive, so the compiler lists what else the new row needs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How haoqi polls a platform's public profiles by default (an operator overrides each value
/// in `[collect.<id>]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Crawl {
    /// The public host the adapter's paths are joined to.
    pub base_url: &'static str,
    /// Requests per second, all accounts together.
    pub per_second: f64,
    pub burst: u32,
}

/// The shape of a platform's account id: Douyin's `sec_uid` (`MS4wLjABAAAA…`), Kuaishou's
/// `3x…`, Bilibili's numeric `mid`, Channels' `sph…`, an official account's `gh_…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdShape {
    /// A fixed prefix and hex-like digits.
    Hex { prefix: &'static str, digits: usize },
    /// A decimal number.
    Number,
}

impl IdShape {
    /// A made-up id of this shape for the demo registry: from `hex` (digits of a hash, at least
    /// as many as the shape needs) or `number`.
    pub fn sample(self, hex: &str, number: u64) -> String {
        match self {
            IdShape::Hex { prefix, digits } => {
                format!("{prefix}{}", hex.get(..digits).unwrap_or(hex))
            }
            IdShape::Number => number.to_string(),
        }
    }
}

/// A counter a reading can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    Followers,
    Likes,
    Views,
    Posts,
    Following,
}

macro_rules! platforms {
    ($(
        $(#[$doc:meta])*
        $variant:ident {
            id: $id:literal,
            name: $name:literal,
            aliases: [$($alias:literal),*],
            short: $short:literal,
            id_shape: $shape:expr,
            video: $video:literal,
            exposes: [$($counter:ident),*],
            crawl: $crawl:expr $(,)?
        }
    ),+ $(,)?) => {
        /// A platform an account is registered on.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Platform {
            $( $(#[$doc])* #[serde(rename = $id)] $variant, )+
        }

        const COUNT: usize = [$($id),+].len();

        impl Platform {
            /// Every platform, in the table's order.
            pub const ALL: [Platform; COUNT] = [$(Platform::$variant),+];

            /// The stable identifier.
            pub fn as_str(self) -> &'static str {
                match self { $(Platform::$variant => $id,)+ }
            }

            /// The name people in the association use.
            pub fn chinese_name(self) -> &'static str {
                match self { $(Platform::$variant => $name,)+ }
            }

            /// Other names a hand-filled table may use.
            pub fn aliases(self) -> &'static [&'static str] {
                match self { $(Platform::$variant => &[$($alias),*],)+ }
            }

            /// The short code in account ids (`ks001-dy`).
            pub fn short(self) -> &'static str {
                match self { $(Platform::$variant => $short,)+ }
            }

            /// What the platform's own account ids look like.
            pub fn id_shape(self) -> IdShape {
                match self { $(Platform::$variant => $shape,)+ }
            }

            /// One of the short-video platforms on which the plan (seed 000, §3.3) requires
            /// every unit to open a standardised account.
            pub const fn is_video(self) -> bool {
                match self { $(Platform::$variant => $video,)+ }
            }

            /// Whether the platform's public numbers include `counter`.
            pub fn exposes(self, counter: Counter) -> bool {
                match self { $(Platform::$variant => [$(Counter::$counter),*].contains(&counter),)+ }
            }

            /// How haoqi polls it, or `None` when its numbers arrive only through imports.
            pub fn crawl(self) -> Option<Crawl> {
                match self { $(Platform::$variant => $crawl,)+ }
            }
        }
    };
}

platforms! {
    Douyin {
        id: "douyin",
        name: "抖音",
        aliases: [],
        short: "dy",
        id_shape: IdShape::Hex { prefix: "MS4wLjABAAAA", digits: 40 },
        video: true,
        // Signed requests (reference §2): gentler than Bilibili.
        exposes: [Followers, Likes, Posts, Following],
        crawl: Some(Crawl { base_url: "https://www.douyin.com", per_second: 0.2, burst: 1 }),
    },
    /// No public counters: its numbers arrive through imports.
    WechatChannels {
        id: "wechat_channels",
        name: "视频号",
        aliases: ["微信视频号"],
        short: "sph",
        id_shape: IdShape::Hex { prefix: "sph", digits: 11 },
        video: true,
        exposes: [Followers],
        crawl: None,
    },
    Kuaishou {
        id: "kuaishou",
        name: "快手",
        aliases: [],
        short: "ks",
        id_shape: IdShape::Hex { prefix: "3x", digits: 13 },
        video: true,
        exposes: [Followers, Posts, Following],
        crawl: Some(Crawl { base_url: "https://www.kuaishou.com", per_second: 0.2, burst: 1 }),
    },
    Bilibili {
        id: "bilibili",
        name: "哔哩哔哩",
        aliases: ["b站", "B站", "bilibili.com"],
        short: "bili",
        id_shape: IdShape::Number,
        video: true,
        // Reference §1.5: risk control after ~70 calls at 1/s.
        exposes: [Followers, Likes, Views, Posts, Following],
        crawl: Some(Crawl { base_url: "https://api.bilibili.com", per_second: 0.5, burst: 1 }),
    },
    /// Tracked but not required by the plan; imported.
    WechatOfficial {
        id: "wechat_official",
        name: "公众号",
        aliases: ["微信公众号"],
        short: "gzh",
        id_shape: IdShape::Hex { prefix: "gh_", digits: 12 },
        video: false,
        exposes: [Followers],
        crawl: None,
    },
}

const VIDEO_COUNT: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < COUNT {
        if Platform::ALL[i].is_video() {
            n += 1;
        }
        i += 1;
    }
    n
};

impl Platform {
    /// The short-video platforms (see [`Platform::is_video`]), in the table's order.
    pub const VIDEO: [Platform; VIDEO_COUNT] = {
        let mut out = [Platform::ALL[0]; VIDEO_COUNT];
        let (mut i, mut j) = (0, 0);
        while i < COUNT {
            if Platform::ALL[i].is_video() {
                out[j] = Platform::ALL[i];
                j += 1;
            }
            i += 1;
        }
        out
    };

    /// The platforms haoqi polls itself, in the table's order.
    pub fn crawled() -> impl Iterator<Item = Platform> {
        Platform::ALL.into_iter().filter(|p| p.crawl().is_some())
    }

    /// The environment variable an operator puts this platform's cookie in
    /// (`HAOQI_BILIBILI_COOKIE`): credentials never go in a file in the repository.
    pub fn cookie_env(self) -> String {
        format!("HAOQI_{}_COOKIE", self.as_str().to_ascii_uppercase())
    }
}

/// A platform name that is not one of [`Platform::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown platform {:?} (expected one of {})", .0, expected())]
pub struct UnknownPlatform(pub String);

fn expected() -> String {
    Platform::ALL.map(Platform::as_str).join(", ")
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Platform {
    type Err = UnknownPlatform;

    /// Accepts the identifier, the Chinese name and the aliases, so hand-filled tables work too.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Platform::ALL
            .into_iter()
            .find(|p| {
                p.as_str().eq_ignore_ascii_case(t)
                    || p.chinese_name() == t
                    || p.aliases().contains(&t)
            })
            .ok_or_else(|| UnknownPlatform(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Platform::ALL {
            assert_eq!(p.as_str().parse::<Platform>(), Ok(p));
            assert_eq!(p.chinese_name().parse::<Platform>(), Ok(p));
            for a in p.aliases() {
                assert_eq!(a.parse::<Platform>(), Ok(p));
            }
            assert_eq!(
                serde_json::to_string(&p).ok(),
                Some(format!("\"{}\"", p.as_str()))
            );
        }
        assert_eq!("B站".parse::<Platform>(), Ok(Platform::Bilibili));
        assert_eq!(" DOUYIN ".parse::<Platform>(), Ok(Platform::Douyin));
    }

    #[test]
    fn names_are_unique() {
        let mut all: Vec<&str> = Platform::ALL
            .iter()
            .flat_map(|p| {
                [p.as_str(), p.chinese_name()]
                    .into_iter()
                    .chain(p.aliases().iter().copied())
            })
            .collect();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "a name names two platforms");
    }

    #[test]
    fn unknown_is_an_error() {
        let e = "weibo".parse::<Platform>().unwrap_err();
        assert!(
            e.to_string()
                .contains("douyin, wechat_channels, kuaishou, bilibili, wechat_official"),
            "{e}"
        );
        assert!("".parse::<Platform>().is_err());
    }

    #[test]
    fn wechat_official_is_not_a_video_platform() {
        assert!(!Platform::WechatOfficial.is_video());
        assert_eq!(Platform::VIDEO.len(), 4);
        assert!(Platform::VIDEO.iter().all(|p| p.is_video()));
    }

    #[test]
    fn the_crawled_platforms_and_their_defaults() {
        let crawled: Vec<Platform> = Platform::crawled().collect();
        assert_eq!(
            crawled,
            [Platform::Douyin, Platform::Kuaishou, Platform::Bilibili]
        );
        assert_eq!(Platform::Bilibili.crawl().map(|c| c.per_second), Some(0.5));
        assert_eq!(Platform::Douyin.crawl().map(|c| c.per_second), Some(0.2));
        assert_eq!(Platform::WechatChannels.crawl(), None);
        assert_eq!(Platform::Douyin.cookie_env(), "HAOQI_DOUYIN_COOKIE");
    }

    #[test]
    fn sample_ids_have_the_platforms_shapes() {
        let hex = "0123456789abcdef".repeat(4);
        assert_eq!(Platform::Bilibili.id_shape().sample(&hex, 42), "42");
        let dy = Platform::Douyin.id_shape().sample(&hex, 0);
        assert!(dy.starts_with("MS4wLjABAAAA") && dy.len() == 52, "{dy}");
        assert_eq!(
            Platform::Kuaishou.id_shape().sample(&hex, 0),
            "3x0123456789abc"
        );
        assert_eq!(Platform::WechatOfficial.short(), "gzh");
        assert!(!Platform::Kuaishou.exposes(Counter::Likes));
        assert!(Platform::Bilibili.exposes(Counter::Views));
        assert!(Platform::ALL.iter().all(|p| p.exposes(Counter::Followers)));
    }
}
