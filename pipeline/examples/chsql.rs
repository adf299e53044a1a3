//! Runs SQL from stdin against an embedded store: `cargo run --example chsql -- ./data/x`.
fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "./data/scratch".into());
    let store = haoqi_pipeline::store::EmbeddedStore::open(std::path::Path::new(&path), "scratch")
        .unwrap_or_else(|e| panic!("{e}"));
    let mut sql = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut sql).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    for stmt in haoqi_pipeline::store::sql::statements(&sql) {
        let r = rt.block_on(haoqi_pipeline::store::Store::query_rows(&store, &stmt));
        match r {
            Ok(rows) => rows.iter().for_each(|r| println!("{}", serde_json::Value::Object(r.clone()))),
            Err(e) => println!("ERR {e}"),
        }
    }
}
