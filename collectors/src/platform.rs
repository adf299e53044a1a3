//! The platforms an account can live on. The names are the stable identifiers used in registry
//! files, in the store and on every report (`douyin`, `wechat_channels`, …).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A platform an account is registered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Douyin,
    WechatChannels,
    Kuaishou,
    Bilibili,
    WechatOfficial,
}

/// A platform name that is not one of [`Platform::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown platform {0:?} (expected one of douyin, wechat_channels, kuaishou, bilibili, wechat_official)")]
pub struct UnknownPlatform(pub String);

impl Platform {
    pub const ALL: [Platform; 5] = [
        Platform::Douyin,
        Platform::WechatChannels,
        Platform::Kuaishou,
        Platform::Bilibili,
        Platform::WechatOfficial,
    ];

    /// The four short-video platforms on which the plan (seed 000, §3.3) requires every unit to
    /// open a standardised account. The WeChat official account is tracked but not required.
    pub const VIDEO: [Platform; 4] = [
        Platform::Douyin,
        Platform::WechatChannels,
        Platform::Kuaishou,
        Platform::Bilibili,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Douyin => "douyin",
            Platform::WechatChannels => "wechat_channels",
            Platform::Kuaishou => "kuaishou",
            Platform::Bilibili => "bilibili",
            Platform::WechatOfficial => "wechat_official",
        }
    }

    /// The name people in the association use.
    pub fn chinese_name(self) -> &'static str {
        match self {
            Platform::Douyin => "抖音",
            Platform::WechatChannels => "视频号",
            Platform::Kuaishou => "快手",
            Platform::Bilibili => "哔哩哔哩",
            Platform::WechatOfficial => "公众号",
        }
    }

    pub fn is_video(self) -> bool {
        Platform::VIDEO.contains(&self)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Platform {
    type Err = UnknownPlatform;

    /// Accepts the identifier and the Chinese name, so hand-filled tables work too.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Platform::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(t) || p.chinese_name() == t)
            .or(match t {
                "b站" | "B站" | "bilibili.com" => Some(Platform::Bilibili),
                "微信视频号" => Some(Platform::WechatChannels),
                "微信公众号" => Some(Platform::WechatOfficial),
                _ => None,
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
        }
    }

    #[test]
    fn unknown_is_an_error() {
        assert!("weibo".parse::<Platform>().is_err());
        assert!("".parse::<Platform>().is_err());
    }

    #[test]
    fn wechat_official_is_not_a_video_platform() {
        assert!(!Platform::WechatOfficial.is_video());
        assert_eq!(Platform::VIDEO.iter().filter(|p| p.is_video()).count(), 4);
    }
}
