//! The server backend: a ClickHouse server or cluster over HTTP, through the `clickhouse` crate.
//! It sends the same SQL text as the embedded backend. Inserts go as `JSONEachRow` through
//! `insert_formatted_with`, so the statement (with its deduplication token) is identical too.

use async_trait::async_trait;
use clickhouse::Client;

use super::location::ServerLocation;
use super::{Store, StoreError};

#[derive(Clone)]
pub struct ServerStore {
    client: Client,
    url: String,
    user: String,
    database: String,
}

impl std::fmt::Debug for ServerStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl ServerStore {
    pub fn new(loc: &ServerLocation) -> Result<Self, StoreError> {
        super::check_identifier(&loc.database)?;
        let mut client = Client::default()
            .with_url(&loc.url)
            .with_user(&loc.user)
            .with_database(&loc.database)
            // Readings are small; uncompressed bodies keep requests inspectable.
            .with_compression(clickhouse::Compression::None)
            .with_option("output_format_json_quote_64bit_integers", "0");
        if !loc.password.is_empty() {
            client = client.with_password(loc.password.expose());
        }
        Ok(ServerStore {
            client,
            url: loc.url.clone(),
            user: loc.user.clone(),
            database: loc.database.clone(),
        })
    }
}

/// The crate treats `?` as a bind placeholder; `??` is a literal `?`. Our SQL is fully rendered
/// before it gets here, so every `?` is literal.
fn escape_placeholders(sql: &str) -> String {
    sql.replace('?', "??")
}

fn map_error(e: clickhouse::error::Error) -> StoreError {
    use clickhouse::error::Error as E;
    match e {
        E::Network(err) => StoreError::Unavailable(format!("network: {err}")),
        E::TimedOut => StoreError::Unavailable("timed out".into()),
        E::BadResponse(msg) => {
            if msg.contains("Code: ") {
                StoreError::from_clickhouse_message(msg)
            } else {
                // An HTTP error without a ClickHouse exception: a proxy or an overloaded server.
                StoreError::Unavailable(format!("bad response: {msg}"))
            }
        }
        other => StoreError::Decode(other.to_string()),
    }
}

#[async_trait]
impl Store for ServerStore {
    async fn execute(&self, sql: &str) -> Result<(), StoreError> {
        self.client
            .query(&escape_placeholders(sql))
            .execute()
            .await
            .map_err(map_error)
    }

    async fn query_json_each_row(&self, sql: &str) -> Result<Vec<u8>, StoreError> {
        let mut cursor = self
            .client
            .query(&escape_placeholders(sql))
            .fetch_bytes("JSONEachRow")
            .map_err(map_error)?;
        Ok(cursor.collect().await.map_err(map_error)?.to_vec())
    }

    async fn insert_json_each_row(&self, insert_sql: &str, data: &[u8]) -> Result<(), StoreError> {
        let mut insert = self.client.insert_formatted_with(insert_sql.to_string());
        insert
            .send(bytes::Bytes::copy_from_slice(data))
            .await
            .map_err(map_error)?;
        insert.end().await.map_err(map_error)
    }

    fn database(&self) -> &str {
        &self.database
    }

    fn describe(&self) -> String {
        format!("{} as {} (database {})", self.url, self.user, self.database)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_marks_are_literal() {
        assert_eq!(escape_placeholders("SELECT '?'"), "SELECT '??'");
    }
}

/// The HTTP backend against the `clickhouse` crate's mock server: what SQL and rows it sends and
/// how it classifies failures. (The SQL itself is verified on the embedded engine.)
#[cfg(test)]
mod mock_tests {
    use clickhouse::test::{handlers, Mock};

    use super::*;
    use crate::location::{Secret, StoreLocation};

    fn store(mock: &Mock) -> ServerStore {
        let loc = StoreLocation::parse(
            &format!("{}/matrix", mock.url().replace("http://", "http://writer@")),
            Some(Secret::new("pw")),
        )
        .expect("url");
        let StoreLocation::Server(s) = loc else {
            panic!("not a server location")
        };
        ServerStore::new(&s).expect("store")
    }

    #[tokio::test]
    async fn sends_the_rendered_statement() {
        let mock = Mock::new();
        let s = store(&mock);
        let recorded = mock.add(handlers::record_ddl());
        let sql = crate::sql::render(
            crate::sql::queries::MIGRATIONS_CREATE,
            &crate::sql::Params::new(s.database()),
        )
        .expect("render");
        s.execute(&sql).await.expect("execute");
        let sent = recorded.query().await;
        assert!(
            sent.contains("CREATE TABLE IF NOT EXISTS `matrix`.schema_migrations"),
            "{sent}"
        );
    }

    #[tokio::test]
    async fn sends_readings_as_json_each_row() {
        let mock = Mock::new();
        let s = store(&mock);
        let recorded = mock.add(handlers::record_ddl());
        let reading = haoqi_model::reading::Reading::followers(
            "XJ-C-653127-ks",
            haoqi_platform::Platform::Kuaishou,
            chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("time"),
            haoqi_model::count::parse_count("12.6万")
                .expect("count")
                .expect("known"),
            haoqi_model::reading::Source::Crawl,
        );
        let batch = haoqi_model::reading::Batch::new(&[reading], chrono::Utc::now());
        let params = crate::sql::Params::new(s.database()).set("token", batch.token.clone());
        let insert =
            crate::sql::render(crate::sql::queries::READINGS_INSERT, &params).expect("render");
        s.insert_json_each_row(&insert, batch.data.as_bytes())
            .await
            .expect("insert");
        let body = recorded.query().await;
        let row: serde_json::Value = serde_json::from_str(body.trim()).expect("one JSON row");
        assert_eq!(row["account_id"], "XJ-C-653127-ks");
        assert_eq!(row["followers"], 126_000);
        assert_eq!(row["followers_lo"], 125_500);
        assert_eq!(row["followers_hi"], 126_499);
        assert_eq!(
            row["batch_id"],
            haoqi_model::reading::batch_id(&batch.token)
        );
    }

    #[tokio::test]
    async fn server_failures_are_retryable_and_bad_sql_is_not() {
        let mock = Mock::new();
        let s = store(&mock);
        mock.add(handlers::failure(
            clickhouse::test::status::SERVICE_UNAVAILABLE,
        ));
        let e = s.execute("SELECT 1").await.expect_err("503");
        assert!(e.is_retryable(), "{e}");
        assert!(!e.to_string().contains("pw"));
        mock.add(handlers::exception(62));
        let e = s.execute("SELEC 1").await.expect_err("syntax error");
        assert!(!e.is_retryable(), "{e:?}");
    }
}
