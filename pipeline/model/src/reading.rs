//! A reading: one observation of one account's counters at one time, normalised, with where it
//! came from. Readings enter the store in [`Batch`]es whose token is a hash of their readings, so
//! the same readings sent twice (a retry, a replay from the spool) are recognised and counted
//! once.

use chrono::{DateTime, Utc};
use haoqi_platform::Platform;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::count::Count;
use crate::time::to_clickhouse;

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Crawl,
    OfficialApi,
    Import,
    Simulated,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Crawl => "crawl",
            Source::OfficialApi => "official_api",
            Source::Import => "import",
            Source::Simulated => "simulated",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub account_id: String,
    pub platform: Platform,
    pub observed_at: DateTime<Utc>,
    pub followers: Option<Count>,
    pub likes: Option<Count>,
    pub views: Option<Count>,
    pub posts: Option<Count>,
    pub following: Option<Count>,
    pub source: Source,
    pub parser_version: String,
    pub flags: Vec<String>,
    /// A URL, or a file's sha256 and row number for imports.
    pub provenance: String,
}

impl Reading {
    /// A reading with only followers, as most tests and imports have.
    pub fn followers(
        account_id: &str,
        platform: Platform,
        observed_at: DateTime<Utc>,
        followers: Count,
        source: Source,
    ) -> Self {
        Reading {
            account_id: account_id.to_string(),
            platform,
            observed_at,
            followers: Some(followers),
            likes: None,
            views: None,
            posts: None,
            following: None,
            source,
            parser_version: String::new(),
            flags: Vec::new(),
            provenance: String::new(),
        }
    }
}

/// A reading as the `readings` table takes it, minus the batch columns. Unknown counters are
/// left out (the column's default is NULL), and so are the bounds of exact ones (their defaults
/// copy the value): every field sent costs insert time. An open upper bound is sent as `null`.
#[derive(Serialize)]
struct Row<'a> {
    account_id: &'a str,
    platform: &'static str,
    observed_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    followers: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    followers_lo: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    followers_hi: Option<Option<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    likes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    likes_lo: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    likes_hi: Option<Option<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    views: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    views_lo: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    views_hi: Option<Option<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    posts: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    posts_lo: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    posts_hi: Option<Option<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    following: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    following_lo: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    following_hi: Option<Option<u64>>,
    source: &'static str,
    parser_version: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    flags: &'a [String],
    provenance: &'a str,
}

impl<'a> From<&'a Reading> for Row<'a> {
    fn from(r: &'a Reading) -> Self {
        let v = |c: Option<Count>| c.map(|c| c.value);
        let inexact = |c: Option<Count>| c.filter(|c| !c.is_exact());
        let lo = |c: Option<Count>| inexact(c).map(|c| c.lower);
        let hi = |c: Option<Count>| inexact(c).map(|c| c.upper);
        Row {
            account_id: &r.account_id,
            platform: r.platform.as_str(),
            observed_at: to_clickhouse(r.observed_at),
            followers: v(r.followers),
            followers_lo: lo(r.followers),
            followers_hi: hi(r.followers),
            likes: v(r.likes),
            likes_lo: lo(r.likes),
            likes_hi: hi(r.likes),
            views: v(r.views),
            views_lo: lo(r.views),
            views_hi: hi(r.views),
            posts: v(r.posts),
            posts_lo: lo(r.posts),
            posts_hi: hi(r.posts),
            following: v(r.following),
            following_lo: lo(r.following),
            following_hi: hi(r.following),
            source: r.source.as_str(),
            parser_version: &r.parser_version,
            flags: &r.flags,
            provenance: &r.provenance,
        }
    }
}

/// Readings ready to insert: the exact bytes sent and their deduplication token. A batch is
/// serialised once; retries and replays send the same bytes with the same token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub token: String,
    pub rows: usize,
    /// `JSONEachRow` text.
    pub data: String,
}

impl Batch {
    pub fn new(readings: &[Reading], created_at: DateTime<Utc>) -> Batch {
        // Pass 1: each row once, hashed as written. The token must not depend on when the
        // batch was made, so the batch columns are appended only afterwards.
        let mut rows: Vec<u8> = Vec::with_capacity(readings.len() * 200);
        let mut ends = Vec::with_capacity(readings.len());
        for r in readings {
            // Serialising plain strings and integers into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut rows, &Row::from(r));
            ends.push(rows.len());
        }
        let mut hasher = Sha256::new();
        let mut start = 0;
        for end in &ends {
            hasher.update(&rows[start..*end]);
            hasher.update(b"\n");
            start = *end;
        }
        let token = hex::encode(hasher.finalize());
        // Pass 2: close each object with the batch columns.
        // The column keeps 64 bits of the token: enough to tell batches apart, cheaper to store.
        let suffix = format!(
            ",\"batch_id\":\"{}\",\"ingested_at\":\"{}\"}}\n",
            batch_id(&token),
            to_clickhouse(created_at)
        );
        let mut data = String::with_capacity(rows.len() + ends.len() * suffix.len());
        let mut start = 0;
        for end in ends {
            // Each row is a JSON object; drop its closing brace and append the batch columns.
            data.push_str(&String::from_utf8_lossy(&rows[start..end - 1]));
            data.push_str(&suffix);
            start = end;
        }
        Batch {
            token,
            rows: readings.len(),
            data,
        }
    }
}

/// The `batch_id` column's value for a batch token.
pub fn batch_id(token: &str) -> &str {
    &token[..16.min(token.len())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::count::parse_count;

    fn reading(v: &str) -> Reading {
        Reading::followers(
            "a1",
            Platform::Kuaishou,
            DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            parse_count(v).unwrap().unwrap(),
            Source::Crawl,
        )
    }

    #[test]
    fn the_token_depends_on_the_readings_not_on_when_they_were_batched() {
        let t0 = DateTime::from_timestamp(0, 0).unwrap();
        let t1 = DateTime::from_timestamp(100, 0).unwrap();
        let a = Batch::new(&[reading("1.3万")], t0);
        let b = Batch::new(&[reading("1.3万")], t1);
        let c = Batch::new(&[reading("1.4万")], t0);
        assert_eq!(a.token, b.token);
        assert_ne!(a.token, c.token);
    }

    #[test]
    fn rows_carry_the_interval() {
        let b = Batch::new(&[reading("10万+")], DateTime::from_timestamp(0, 0).unwrap());
        let row: serde_json::Value = serde_json::from_str(b.data.lines().next().unwrap()).unwrap();
        assert_eq!(row["followers"], 100_000);
        assert_eq!(row["followers_lo"], 100_000);
        assert_eq!(
            row["followers_hi"],
            serde_json::Value::Null,
            "open upper bound: NULL"
        );
        let b = Batch::new(&[reading("1.3万")], DateTime::from_timestamp(0, 0).unwrap());
        let row: serde_json::Value = serde_json::from_str(b.data.lines().next().unwrap()).unwrap();
        assert_eq!(
            (row["followers_lo"].as_u64(), row["followers_hi"].as_u64()),
            (Some(12_500), Some(13_499))
        );
        let b = Batch::new(&[reading("12345")], DateTime::from_timestamp(0, 0).unwrap());
        let row: serde_json::Value = serde_json::from_str(b.data.lines().next().unwrap()).unwrap();
        assert_eq!(
            row.get("followers_lo"),
            None,
            "exact: the bounds default to the value"
        );
        assert_eq!(
            row.get("likes"),
            None,
            "unknown counters are left to the NULL default"
        );
        assert_eq!(row["batch_id"], batch_id(&b.token));
        assert_eq!(row["observed_at"], "2023-11-14 22:13:20.000");
    }
}
