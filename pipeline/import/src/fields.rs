//! What a column of a readings table holds, recognised from its header in Chinese or English
//! (`单位名称`, `关注人数`, `粉丝数`, `累积关注人数`, `followers` …), and user-given mappings for
//! layouts haoqi does not know (`--map 累积关注人数=followers,时间=date`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::table::{column_index, fold_header};

/// The meaning of a column in a readings table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// 序号: a row number, ignored (a `示例` here marks the template's example row).
    Seq,
    /// The unit's name (单位名称).
    Unit,
    /// The account's name as shown on the platform (账号名称).
    Account,
    /// haoqi's account id (`XJ-P-650100-gzh`).
    AccountId,
    /// The platform's id (gh_…, sph…, a Bilibili mid).
    PlatformId,
    Platform,
    /// The follower count (关注人数; 累积关注人数 in an official account's export).
    Followers,
    Date,
    Reporter,
    Likes,
    Views,
    Posts,
    /// 新关注人数 / 取消关注人数 / 净增关注人数 of a back-office export: checked against the
    /// cumulative count, not stored.
    NewFollowers,
    Unfollows,
    NetGain,
    /// 备注 and anything mapped to `ignore`.
    Ignore,
}

impl Field {
    pub const ALL: [Field; 16] = [
        Field::Seq,
        Field::Unit,
        Field::Account,
        Field::AccountId,
        Field::PlatformId,
        Field::Platform,
        Field::Followers,
        Field::Date,
        Field::Reporter,
        Field::Likes,
        Field::Views,
        Field::Posts,
        Field::NewFollowers,
        Field::Unfollows,
        Field::NetGain,
        Field::Ignore,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Seq => "seq",
            Field::Unit => "unit",
            Field::Account => "account",
            Field::AccountId => "account_id",
            Field::PlatformId => "platform_id",
            Field::Platform => "platform",
            Field::Followers => "followers",
            Field::Date => "date",
            Field::Reporter => "reporter",
            Field::Likes => "likes",
            Field::Views => "views",
            Field::Posts => "posts",
            Field::NewFollowers => "new_followers",
            Field::Unfollows => "unfollows",
            Field::NetGain => "net_gain",
            Field::Ignore => "ignore",
        }
    }

    /// Header texts (folded with [`fold_header`]) that mean this field.
    pub fn synonyms(self) -> &'static [&'static str] {
        match self {
            Field::Seq => &["序号", "序", "no", "no.", "#", "序列号", "seq"],
            Field::Unit => &[
                "单位名称",
                "单位",
                "填报单位",
                "所属单位",
                "单位全称",
                "机构名称",
                "机构",
                "unit",
                "unit_name",
                "unitname",
                "organisation",
                "organization",
            ],
            Field::Account => &[
                "账号名称",
                "账号",
                "账号昵称",
                "帐号名称",
                "帐号",
                "昵称",
                "公众号名称",
                "公众号",
                "视频号名称",
                "视频号",
                "抖音号名称",
                "快手号名称",
                "account",
                "account_name",
                "display_name",
                "nickname",
            ],
            Field::AccountId => &["account_id", "账号编号", "haoqi编号", "haoqi_id"],
            Field::PlatformId => &[
                "platform_id",
                "账号id",
                "帐号id",
                "平台账号id",
                "平台id",
                "视频号id",
                "原始id",
                "微信号",
                "公众号id",
                "gh_id",
                "uniq_id",
                "抖音号",
                "快手号",
                "uid",
                "mid",
            ],
            Field::Platform => &["平台", "平台名称", "所属平台", "platform"],
            Field::Followers => &[
                "关注人数",
                "关注数",
                "粉丝数",
                "粉丝量",
                "粉丝",
                "粉丝数量",
                "粉丝总数",
                "总粉丝数",
                "当前粉丝数",
                "关注者总数",
                "关注者数",
                "关注者",
                "累积关注人数",
                "累计关注人数",
                "累积人数",
                "累计人数",
                "总关注人数",
                "关注总数",
                "followers",
                "follower",
                "fans",
                "fans_count",
                "follower_count",
                "cumulate_user",
            ],
            Field::Date => &[
                "日期",
                "时间",
                "统计时间",
                "统计日期",
                "填报时间",
                "填报日期",
                "截止日期",
                "截至日期",
                "截止时间",
                "截至时间",
                "date",
                "ref_date",
                "as_of",
                "day",
                "observed_at",
            ],
            Field::Reporter => &["填报人", "填表人", "报送人", "联系人", "reporter"],
            Field::Likes => &[
                "获赞数",
                "点赞数",
                "获赞",
                "点赞",
                "总获赞",
                "获赞总数",
                "likes",
            ],
            Field::Views => &["播放量", "播放数", "总播放量", "播放次数", "views"],
            Field::Posts => &["作品数", "发布数", "视频数", "作品", "发文数", "posts"],
            Field::NewFollowers => &[
                "新关注人数",
                "新增关注",
                "新增关注人数",
                "新增人数",
                "新增粉丝",
                "新增粉丝数",
                "new_user",
                "new_followers",
            ],
            Field::Unfollows => &[
                "取消关注人数",
                "取消关注",
                "取关人数",
                "取消关注数",
                "cancel_user",
                "unfollows",
            ],
            Field::NetGain => &[
                "净增关注人数",
                "净增关注",
                "净增人数",
                "净增粉丝",
                "净增粉丝数",
                "net_gain",
                "net",
            ],
            Field::Ignore => &["备注", "说明", "note", "notes", "remark", "ignore"],
        }
    }

    /// The field a header names, if haoqi knows it.
    pub fn from_header(label: &str) -> Option<Field> {
        let folded = fold_header(label);
        if folded.is_empty() {
            return None;
        }
        Field::ALL
            .into_iter()
            .find(|f| f.synonyms().contains(&folded.as_str()))
    }

    /// Whether the field says which account a row is about.
    pub fn identifies(self) -> bool {
        matches!(
            self,
            Field::Unit | Field::Account | Field::AccountId | Field::PlatformId
        )
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Field {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        let alias = match t.as_str() {
            "new" => Some(Field::NewFollowers),
            "cancel" => Some(Field::Unfollows),
            "net" => Some(Field::NetGain),
            "account_name" | "name" => Some(Field::Account),
            "unit_name" => Some(Field::Unit),
            _ => None,
        };
        alias
            .or_else(|| Field::ALL.into_iter().find(|f| f.as_str() == t))
            .ok_or_else(|| {
                format!(
                    "unknown field {s:?} (expected one of {})",
                    Field::ALL.map(Field::as_str).join(", ")
                )
            })
    }
}

/// A user's column mapping: header text (or a column letter such as `C`) → field, in the order
/// given. Stored by name with `--save-map` and reused with `--use-map`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping(pub Vec<(String, Field)>);

impl FromStr for Mapping {
    type Err = String;
    /// `累积关注人数=followers,时间=date` (full-width `，` and `＝` work too).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = Vec::new();
        for part in s.split([',', '，', ';', '；']) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (header, field) = part
                .split_once('=')
                .or_else(|| part.split_once('＝'))
                .ok_or_else(|| format!("{part:?} is not HEADER=FIELD"))?;
            let header = header.trim();
            if header.is_empty() {
                return Err(format!("{part:?} has no header before ="));
            }
            out.push((header.to_string(), field.parse::<Field>()?));
        }
        if out.is_empty() {
            return Err("the mapping is empty".into());
        }
        Ok(Mapping(out))
    }
}

impl fmt::Display for Mapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(h, fl)| format!("{h}={fl}")).collect();
        f.write_str(&parts.join(","))
    }
}

impl Mapping {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `self` with `other`'s entries added; `other` wins where both name a header.
    pub fn merged(mut self, other: &Mapping) -> Mapping {
        for (h, f) in &other.0 {
            let key = fold_header(h);
            self.0.retain(|(x, _)| fold_header(x) != key);
            self.0.push((h.clone(), *f));
        }
        self
    }

    /// The field the mapping gives a column: by its header text first, then by its letter.
    pub fn lookup(&self, col: usize, label: &str) -> Option<Field> {
        let folded = fold_header(label);
        if !folded.is_empty() {
            if let Some((_, f)) = self.0.iter().find(|(h, _)| fold_header(h) == folded) {
                return Some(*f);
            }
        }
        self.0
            .iter()
            .find(|(h, _)| column_index(h.trim()) == Some(col))
            .map(|(_, f)| *f)
    }

    /// Entries that name no column of `labels` (a typo in `--map`).
    pub fn unused(&self, labels: &[String]) -> Vec<String> {
        self.0
            .iter()
            .filter(|(h, _)| {
                let key = fold_header(h);
                let by_label = labels.iter().any(|l| fold_header(l) == key);
                let by_letter = column_index(h.trim()).is_some_and(|c| c < labels.len());
                !(by_label || by_letter)
            })
            .map(|(h, _)| h.clone())
            .collect()
    }

    pub fn to_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .0
            .iter()
            .map(|(h, f)| (h.clone(), serde_json::Value::String(f.as_str().into())))
            .collect();
        serde_json::Value::Object(map).to_string()
    }

    pub fn from_json(text: &str) -> Result<Mapping, String> {
        let v: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for (h, f) in v {
            let f = f
                .as_str()
                .ok_or("a field must be a string")?
                .parse::<Field>()?;
            out.push((h, f));
        }
        Ok(Mapping(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_in_chinese_and_english() {
        for (h, f) in [
            ("单位名称", Field::Unit),
            ("单位", Field::Unit),
            ("账号名称", Field::Account),
            ("账号", Field::Account),
            ("关注人数", Field::Followers),
            ("关注人数（人）", Field::Followers),
            ("粉丝数", Field::Followers),
            ("粉丝量", Field::Followers),
            ("关注数", Field::Followers),
            ("累积关注人数", Field::Followers),
            ("关注者总数", Field::Followers),
            ("Followers", Field::Followers),
            ("平台", Field::Platform),
            ("日期", Field::Date),
            ("统计时间", Field::Date),
            ("填报时间", Field::Date),
            ("时间", Field::Date),
            ("新关注人数", Field::NewFollowers),
            ("取消关注人数", Field::Unfollows),
            ("净增关注人数", Field::NetGain),
            ("视频号ID", Field::PlatformId),
            ("序号", Field::Seq),
        ] {
            assert_eq!(Field::from_header(h), Some(f), "{h}");
        }
        assert_eq!(Field::from_header("关注情况"), None);
    }

    #[test]
    fn mappings_parse_and_look_up() {
        let m: Mapping = "累积关注人数=followers，时间=date,C=unit".parse().unwrap();
        assert_eq!(m.0.len(), 3);
        assert_eq!(m.lookup(5, "累积关注人数"), Some(Field::Followers));
        assert_eq!(m.lookup(2, "whatever"), Some(Field::Unit));
        assert_eq!(m.lookup(3, "whatever"), None);
        assert!("x".parse::<Mapping>().is_err());
        assert!("x=bogus".parse::<Mapping>().unwrap_err().contains("bogus"));
        let back = Mapping::from_json(&m.to_json()).unwrap();
        assert_eq!(back, m);
        let unused = m.unused(&["时间".into(), "x".into(), "y".into()]);
        assert_eq!(unused, vec!["累积关注人数".to_string()]);
        let merged = m.merged(&"时间=ignore".parse().unwrap());
        assert_eq!(merged.lookup(0, "时间"), Some(Field::Ignore));
    }
}
