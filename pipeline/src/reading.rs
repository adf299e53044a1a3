//! A reading: one observation of one account's counters at one time, normalised, with where it
//! came from. Readings enter the store in [`Batch`]es whose token is a hash of their readings, so
//! the same readings sent twice (a retry, a replay from the spool) are recognised and counted
//! once.

use chrono::{DateTime, Utc};
use haoqi_collectors::Platform;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
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

    /// The row as the `readings` table takes it (without the batch columns).
    fn row(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("account_id".into(), self.account_id.clone().into());
        m.insert("platform".into(), self.platform.as_str().into());
        m.insert("observed_at".into(), to_clickhouse(self.observed_at).into());
        for (name, c) in [
            ("followers", self.followers),
            ("likes", self.likes),
            ("views", self.views),
            ("posts", self.posts),
            ("following", self.following),
        ] {
            m.insert(name.into(), c.map(|c| c.value).into());
            m.insert(format!("{name}_lo"), c.map(|c| c.lower).into());
            m.insert(format!("{name}_hi"), c.and_then(|c| c.upper).into());
        }
        m.insert("source".into(), self.source.as_str().into());
        m.insert("parser_version".into(), self.parser_version.clone().into());
        m.insert("flags".into(), self.flags.clone().into());
        m.insert("provenance".into(), self.provenance.clone().into());
        m
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
        let rows: Vec<Map<String, Value>> = readings.iter().map(Reading::row).collect();
        let mut hasher = Sha256::new();
        for r in &rows {
            hasher.update(Value::Object(r.clone()).to_string().as_bytes());
            hasher.update(b"\n");
        }
        let token = hex::encode(hasher.finalize());
        let ingested = to_clickhouse(created_at);
        let mut data = String::with_capacity(rows.len() * 320);
        for mut r in rows {
            r.insert("batch_id".into(), token.clone().into());
            r.insert("ingested_at".into(), ingested.clone().into());
            data.push_str(&Value::Object(r).to_string());
            data.push('\n');
        }
        Batch {
            token,
            rows: readings.len(),
            data,
        }
    }
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
        let row: Value = serde_json::from_str(b.data.lines().next().unwrap()).unwrap();
        assert_eq!(row["followers"], 100_000);
        assert_eq!(row["followers_lo"], 100_000);
        assert_eq!(row["followers_hi"], Value::Null);
        assert_eq!(row["likes"], Value::Null);
        assert_eq!(row["observed_at"], "2023-11-14 22:13:20.000");
    }
}
