//! The naming rule for standardised accounts (seed 000 §3.4): the region's account is 好奇新疆;
//! associations, museums, enterprise and university associations use `好奇` + place or short
//! unit name (好奇阿克苏, 好奇民丰); societies use `好奇的X说` + topic (好奇的X说地理), where the
//! `X` is literal in both of the plan's examples.

use super::Kind;

/// Why a name breaks the rule, or `None` when it follows it.
pub fn violation(kind: Kind, name: &str) -> Option<String> {
    let name = fold(name);
    const SOCIETY: &str = "好奇的X说";
    if name.chars().any(char::is_whitespace) {
        return Some("contains spaces".into());
    }
    match kind {
        Kind::RegionAssoc => {
            (name != "好奇新疆").then(|| "the region's account is 好奇新疆".into())
        }
        Kind::Society => match name.strip_prefix(SOCIETY) {
            Some(topic) if !topic.is_empty() => None,
            Some(_) => Some("好奇的X说 needs a topic after it (好奇的X说地理)".into()),
            None => Some("a society's account is 好奇的X说 + topic (好奇的X说地理)".into()),
        },
        _ => match name.strip_prefix("好奇") {
            Some(rest) if rest.starts_with("的X说") => {
                Some("好奇的X说… is the societies' form; use 好奇 + place or unit".into())
            }
            Some(rest) if !rest.is_empty() => None,
            Some(_) => Some("好奇 needs a place or unit name after it (好奇阿克苏)".into()),
            None => Some("must start with 好奇 (好奇 + place or short unit name)".into()),
        },
    }
}

/// Full-width letters (Ｘ) fold to ASCII so that only the shape is judged.
fn fold(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| match c as u32 {
            0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// The short form of a place name used after 好奇: 阿克苏地区 → 阿克苏, 昌吉回族自治州 → 昌吉,
/// 巴里坤哈萨克自治县 → 巴里坤, 民丰县 → 民丰.
pub fn short_place(name: &str) -> String {
    const ETHNIC: [&str; 6] = ["哈萨克", "回族", "蒙古", "锡伯", "柯尔克孜", "塔吉克"];
    let mut s = name.trim().to_string();
    for suffix in ["自治州", "自治县"] {
        if let Some(rest) = s.strip_suffix(suffix) {
            s = rest.to_string();
            for e in ETHNIC {
                if let Some(rest) = s.strip_suffix(e) {
                    s = rest.to_string();
                }
            }
            return s;
        }
    }
    for suffix in ["地区", "市", "县", "区"] {
        if let Some(rest) = s.strip_suffix(suffix) {
            if rest.chars().count() >= 2 {
                return rest.to_string();
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plans_examples_pass() {
        assert_eq!(violation(Kind::RegionAssoc, "好奇新疆"), None);
        assert_eq!(violation(Kind::PrefectureAssoc, "好奇阿克苏"), None);
        assert_eq!(violation(Kind::CountyAssoc, "好奇民丰"), None);
        assert_eq!(violation(Kind::Society, "好奇的X说地理"), None);
        assert_eq!(violation(Kind::Society, "好奇的X说红枣"), None);
        assert_eq!(violation(Kind::Society, "好奇的Ｘ说红枣"), None);
    }

    #[test]
    fn breaking_names_are_caught() {
        assert!(violation(Kind::CountyAssoc, "民丰科协").is_some());
        assert!(violation(Kind::CountyAssoc, "好奇").is_some());
        assert!(violation(Kind::CountyAssoc, "好奇 民丰").is_some());
        assert!(violation(Kind::Museum, "好奇的X说恐龙").is_some());
        assert!(violation(Kind::Society, "好奇地理").is_some());
        assert!(violation(Kind::Society, "好奇的X说").is_some());
        assert!(violation(Kind::RegionAssoc, "好奇新疆科协").is_some());
    }

    #[test]
    fn short_places() {
        assert_eq!(short_place("阿克苏地区"), "阿克苏");
        assert_eq!(short_place("昌吉回族自治州"), "昌吉");
        assert_eq!(short_place("博尔塔拉蒙古自治州"), "博尔塔拉");
        assert_eq!(short_place("巴里坤哈萨克自治县"), "巴里坤");
        assert_eq!(short_place("民丰县"), "民丰");
        assert_eq!(short_place("乌鲁木齐市"), "乌鲁木齐");
        assert_eq!(short_place("天山区"), "天山");
    }
}
