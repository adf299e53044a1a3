//! The generator of `tests/fixtures/import/`: every bad-input case of the import issue as a file
//! (GBK and BOM CSV, XLSX with a title row and a merged header, counts such as `1.2万`, `—`,
//! `不详`, full-width spaces, duplicates, an unknown unit, a negative number, four date forms, a
//! truncated XLSX, an XLSX renamed to .csv, back-office exports), and the seed-001 statistics
//! table filled in for 40 units as GBK CSV and as XLSX, with the registry rows that give 25 county
//! associations an official account.
//!
//! The files are committed; `fixtures_are_what_the_generator_writes` checks that they still are
//! what this code writes. To regenerate them after a change:
//!
//! ```sh
//! cargo test -p haoqi-import --lib fixtures -- --ignored
//! ```

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::registry_import::export_header;
use super::table::Cell;
use super::template::{write_sheets, SheetSpec};
use haoqi_registry::{naming, Registry, Unit};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/import")
}

fn t(s: &str) -> Cell {
    if s.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(s.to_string())
    }
}

fn day(y: i32, m: u32, d: u32) -> Cell {
    Cell::DateTime(
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("a valid date"),
    )
}

fn csv_text(rows: &[Vec<String>]) -> String {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    for r in rows {
        w.write_record(r).expect("csv");
    }
    String::from_utf8(w.into_inner().expect("csv")).expect("utf-8")
}

fn strs(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|s| (*s).to_string()).collect()
}

/// One row of the seed-001 table: what is written, and what it must become.
struct StatRow {
    unit_text: String,
    count_text: String,
    account_id: String,
    value: u64,
    lo: u64,
    hi: Option<u64>,
}

fn short_name(u: &Unit) -> String {
    u.name.replace("科学技术协会", "科协")
}

/// The 25 county associations given an official account in `registry/gzh-counties.csv`.
fn gzh_counties(r: &Registry) -> Vec<&Unit> {
    r.units
        .iter()
        .filter(|u| u.kind == haoqi_registry::Kind::CountyAssoc)
        .take(25)
        .collect()
}

fn seed001_rows(r: &Registry) -> Vec<StatRow> {
    let mut rows = Vec::new();
    let mut push = |unit_text: String, account_id: String, count_text: String| {
        let c = haoqi_model::count::parse_count(&count_text)
            .expect("a count")
            .expect("known");
        rows.push(StatRow {
            unit_text,
            count_text,
            account_id,
            value: c.value,
            lo: c.lower,
            hi: c.upper,
        });
    };
    let region = r.unit("XJ-R-650000").expect("region");
    push(
        region.name.clone(),
        "XJ-R-650000-gzh".into(),
        "35.6万".into(),
    );
    let prefectures: Vec<&Unit> = r
        .units
        .iter()
        .filter(|u| u.kind == haoqi_registry::Kind::PrefectureAssoc)
        .collect();
    for (i, u) in prefectures.iter().enumerate() {
        // Several ways units write their own name and numbers.
        let text = match i % 4 {
            0 => short_name(u),
            1 => u.name.clone(),
            2 => {
                let place = u.name.trim_end_matches("科学技术协会");
                format!("{}科协", naming::short_place(place))
            }
            _ => short_name(u).replace("科协", " 科协"),
        };
        let n = 20_000 + 1_379 * i as u64;
        let count = match i {
            3 => "1.2万".to_string(),
            5 => haoqi_model::table::group_thousands(n),
            9 => "10万+".to_string(),
            _ => n.to_string(),
        };
        push(text, format!("{}-gzh", u.unit_id), count);
    }
    for (i, u) in gzh_counties(r).iter().enumerate() {
        push(
            short_name(u),
            format!("{}-gzh", u.unit_id),
            (800 + 97 * i as u64).to_string(),
        );
    }
    rows
}

const SEED_TITLE: &str = "临沂科协微信公众号关注情况统计表";

fn seed001_grid(r: &Registry, numbers_as_numbers: bool) -> Vec<Vec<Cell>> {
    let rows = seed001_rows(r);
    let mut g = vec![
        vec![t(SEED_TITLE), Cell::Empty, Cell::Empty],
        vec![t("填报单位：新疆科协科普部"), Cell::Empty, Cell::Empty],
        vec![t("填报时间：2024年3月5日"), Cell::Empty, Cell::Empty],
        vec![t("序号"), t("单位名称"), t("关注人数")],
    ];
    for (i, s) in rows.iter().enumerate() {
        let count = match (numbers_as_numbers, s.count_text.parse::<i64>()) {
            (true, Ok(n)) => Cell::Int(n),
            _ => t(&s.count_text),
        };
        g.push(vec![Cell::Int(i as i64 + 1), t(&s.unit_text), count]);
    }
    g.push(vec![Cell::Empty, Cell::Empty, Cell::Empty]);
    let total: u64 = rows.iter().map(|s| s.value).sum();
    g.push(vec![t("合计"), Cell::Empty, Cell::Int(total as i64)]);
    g.push(vec![
        t("注：请于12月20日前报送至市科协调宣部。"),
        Cell::Empty,
        Cell::Empty,
    ]);
    g
}

fn cells_to_strings(g: &[Vec<Cell>]) -> Vec<Vec<String>> {
    g.iter()
        .map(|r| r.iter().map(|c| c.text().into_owned()).collect())
        .collect()
}

fn xlsx(name: &str, rows: Vec<Vec<Cell>>, merges: Vec<(u32, u16, u32, u16)>) -> Vec<u8> {
    write_sheets(&[SheetSpec {
        name: name.into(),
        rows,
        merges,
    }])
    .expect("xlsx")
}

/// Every fixture file: (name, bytes).
pub(crate) fn files() -> Vec<(String, Vec<u8>)> {
    let r = Registry::reference().expect("reference registry");
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |name: &str, bytes: Vec<u8>| out.push((name.to_string(), bytes));
    let gbk = |s: &str| {
        let (b, _, bad) = encoding_rs::GBK.encode(s);
        assert!(!bad, "GBK can encode the fixture");
        b.into_owned()
    };
    let bom = |s: &str| {
        let mut b = b"\xEF\xBB\xBF".to_vec();
        b.extend_from_slice(s.as_bytes());
        b
    };

    // The registry rows giving 25 county associations an official account (registry import
    // --partial), in the layout of `haoqi registry export`.
    let mut reg = vec![export_header()];
    for (i, u) in gzh_counties(&r).iter().enumerate() {
        let account_id = format!("{}-gzh", u.unit_id);
        let pid = format!(
            "gh_{}",
            &hex::encode(Sha256::digest(account_id.as_bytes()))[..12]
        );
        let opt = |c: Option<u32>| c.map_or(String::new(), |c| c.to_string());
        reg.push(vec![
            (i + 1).to_string(),
            u.unit_id.clone(),
            u.kind.as_str().into(),
            u.name.clone(),
            opt(u.prefecture_code),
            opt(u.county_code),
            u.department.clone(),
            "否".into(),
            u.note.clone(),
            account_id,
            "wechat_official".into(),
            pid,
            short_name(u),
            "official".into(),
            "否".into(),
            "是".into(),
            String::new(),
        ]);
    }
    add("registry-gzh-counties.csv", csv_text(&reg).into_bytes());

    // The seed-001 table for 40 units: GBK CSV as Chinese Excel saves it, and XLSX with the
    // title merged over the table's width.
    let grid = seed001_grid(&r, false);
    add("seed001-gbk.csv", gbk(&csv_text(&cells_to_strings(&grid))));
    add(
        "seed001.xlsx",
        xlsx("Sheet1", seed001_grid(&r, true), vec![(0, 0, 0, 2)]),
    );
    let mut expected = vec![strs(&["account_id", "followers", "lo", "hi"])];
    for s in seed001_rows(&r) {
        expected.push(vec![
            s.account_id,
            s.value.to_string(),
            s.lo.to_string(),
            s.hi.map_or(String::new(), |h| h.to_string()),
        ]);
    }
    add("seed001-expected.csv", csv_text(&expected).into_bytes());

    // UTF-8 with a BOM, English headers.
    add(
        "bom.csv",
        bom("unit,followers,date\n乌鲁木齐市科协,15000,2024-03-05\n哈密市科协,8800,2024-03-05\n"),
    );

    // A title row and a two-row merged header: 序号 and 单位名称 span both header rows,
    // 关注情况 spans 关注人数 and 统计日期.
    add(
        "title-merged-header.xlsx",
        xlsx(
            "关注情况",
            vec![
                vec![
                    t("2024年3月公众号关注情况统计"),
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                ],
                vec![t("序号"), t("单位名称"), t("关注情况"), Cell::Empty],
                vec![Cell::Empty, Cell::Empty, t("关注人数"), t("统计日期")],
                vec![
                    Cell::Int(1),
                    t("乌鲁木齐市科协"),
                    Cell::Int(15000),
                    day(2024, 3, 5),
                ],
                vec![Cell::Int(2), t("吐鲁番市科协"), t("9,876"), day(2024, 3, 5)],
                vec![Cell::Int(3), t("喀什地区科协"), t("2.3万"), day(2024, 3, 6)],
                vec![t("合计"), Cell::Empty, Cell::Int(47876), Cell::Empty],
            ],
            vec![(0, 0, 0, 3), (1, 0, 2, 0), (1, 1, 2, 1), (1, 2, 1, 3)],
        ),
    );

    // Every count form: three importable, three unknown (reported, not 0).
    add(
        "counts.csv",
        "序号,单位名称,关注人数\n1,乌鲁木齐市科协,1.2万\n2,克拉玛依市科协,\"3,456\"\n3,吐鲁番市科协,10万+\n4,哈密市科协,\n5,昌吉回族自治州科协,—\n6,阿克苏地区科协,不详\n"
            .as_bytes()
            .to_vec(),
    );
    // Full-width spaces, full-width digits, a half-width space inside a name.
    add(
        "fullwidth-spaces.csv",
        "序号,单位名称,关注人数\n1,\u{3000}乌鲁木齐市\u{3000}科协\u{3000},１２３４５\n2,克拉玛依市 科学技术协会,2345\n3,哈密市科协\u{3000},\"３，４５６\"\n"
            .as_bytes()
            .to_vec(),
    );
    add(
        "duplicate-row.csv",
        "序号,单位名称,关注人数\n1,乌鲁木齐市科协,15000\n2,克拉玛依市科协,3456\n3,乌鲁木齐市科协,15000\n"
            .as_bytes()
            .to_vec(),
    );
    add(
        "duplicate-conflict.csv",
        "序号,单位名称,关注人数\n1,乌鲁木齐市科协,15000\n2,克拉玛依市科协,3456\n3,乌鲁木齐市科协,16000\n"
            .as_bytes()
            .to_vec(),
    );
    add(
        "unknown-unit.csv",
        "序号,单位名称,关注人数\n1,乌鲁木齐市科学协会,15000\n2,克拉玛依市科协,3456\n3,火星科协,12\n"
            .as_bytes()
            .to_vec(),
    );
    add(
        "negative.csv",
        "序号,单位名称,关注人数\n1,乌鲁木齐市科协,15000\n2,克拉玛依市科协,-5\n"
            .as_bytes()
            .to_vec(),
    );
    add(
        "bad-count.csv",
        "序号,单位名称,关注人数\n1,乌鲁木齐市科协,一万二\n2,克拉玛依市科协,12.5\n"
            .as_bytes()
            .to_vec(),
    );
    // The same day four ways; 45356 is 2024-03-05 as an Excel serial.
    add(
        "dates.csv",
        "单位名称,关注人数,日期\n乌鲁木齐市科协,15000,2024年3月5日\n克拉玛依市科协,3456,2024/3/5\n吐鲁番市科协,7000,2024-03-05\n哈密市科协,8800,45356\n"
            .as_bytes()
            .to_vec(),
    );
    add(
        "dates.xlsx",
        xlsx(
            "Sheet1",
            vec![
                vec![t("单位名称"), t("关注人数"), t("日期")],
                vec![t("乌鲁木齐市科协"), Cell::Int(15000), day(2024, 3, 5)],
                vec![t("克拉玛依市科协"), Cell::Int(3456), Cell::Int(45356)],
                vec![t("吐鲁番市科协"), Cell::Int(7000), t("2024年3月5日")],
                vec![t("哈密市科协"), Cell::Int(8800), t("2024/3/5")],
            ],
            Vec::new(),
        ),
    );
    let dates_xlsx = out
        .iter()
        .find(|(n, _)| n == "dates.xlsx")
        .map(|(_, b)| b.clone())
        .unwrap_or_default();
    let seed_xlsx = out
        .iter()
        .find(|(n, _)| n == "seed001.xlsx")
        .map(|(_, b)| b.clone())
        .unwrap_or_default();
    let mut add = |name: &str, bytes: Vec<u8>| out.push((name.to_string(), bytes));
    // An XLSX cut off half way, as an interrupted download leaves it.
    add("truncated.xlsx", seed_xlsx[..seed_xlsx.len() / 2].to_vec());
    // A workbook someone renamed to .csv.
    add("renamed-xlsx.csv", dates_xlsx);
    // An official account's 用户增长 export for 乌鲁木齐科协 (gh_89d2a55c95c8): a week, the
    // cumulative count consistent with the net change except on 03-06 (净增 misreported).
    let mut growth = strs(&[
        "时间",
        "新关注人数",
        "取消关注人数",
        "净增关注人数",
        "累积关注人数",
    ])
    .join(",");
    growth.push('\n');
    let mut cumulative: i64 = 352_110;
    for d in 1..=7u32 {
        let new = 90 + i64::from(d) * 3;
        let cancel = 9 + i64::from(d % 3);
        let net = new - cancel;
        cumulative += net;
        let shown_net = if d == 6 { net + 10 } else { net };
        growth.push_str(&format!(
            "2024-03-{d:02},{new},{cancel},{shown_net},{cumulative}\n"
        ));
    }
    add("gzh-user-growth.csv", growth.into_bytes());
    // A 视频号助手 follower export (UTF-8 with BOM), accounts by their 视频号ID.
    let mut ch = String::from("日期,账号名称,视频号ID,关注者总数,新增关注,取消关注,净增关注\n");
    for (i, unit) in ["XJ-P-650100", "XJ-P-650200", "XJ-P-652900"]
        .iter()
        .enumerate()
    {
        let a = r
            .accounts
            .iter()
            .find(|a| a.unit_id == *unit && a.platform == haoqi_platform::Platform::WechatChannels)
            .expect("a channels account");
        let mut total = 48_000 + 10_000 * i as i64;
        for d in 1..=3 {
            let (new, cancel) = (133 + d, 21);
            total += new - cancel;
            ch.push_str(&format!(
                "2024-03-0{d},{},{},{total},{new},{cancel},{}\n",
                a.display_name,
                a.platform_id,
                new - cancel
            ));
        }
    }
    add("channels-followers.csv", bom(&ch));
    // A layout haoqi does not know: needs --map 统计日=date,粉丝累计=followers.
    add(
        "channels-custom.csv",
        "统计日,视频号,粉丝累计,备注\n2024-03-10,好奇乌鲁木齐,51000,\n2024-03-10,好奇克拉玛依,61000,\n"
            .as_bytes()
            .to_vec(),
    );
    // After seed001 (2024-03-05): 乌鲁木齐 falls to less than half, 克拉玛依 grows tenfold.
    add(
        "suspicious.csv",
        "单位名称,关注人数,日期\n乌鲁木齐市科协,9000,2024-03-12\n克拉玛依市科协,250000,2024-03-12\n吐鲁番市科协,23000,2024-03-12\n"
            .as_bytes()
            .to_vec(),
    );
    // A registry sheet with a bad kind and a county under the wrong prefecture.
    let header = export_header().join(",");
    add(
        "registry-bad.csv",
        format!(
            "{header}\n1,XJ-X-1,shop,某单位,650100,,科普部,否,,XJ-X-1-dy,douyin,X1,好奇某,flexible,是,是,\n\
             2,XJ-C-650102,county_assoc,天山区科学技术协会,652900,650102,科普部,否,,XJ-C-650102-gzh,wechat_official,gh_x,天山区科协,official,否,是,\n"
        )
        .into_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regenerates the committed fixtures.
    #[test]
    #[ignore = "writes tests/fixtures/import; run with --ignored after changing the generator"]
    fn write_fixtures() {
        let d = dir();
        std::fs::create_dir_all(&d).unwrap();
        for (name, bytes) in files() {
            std::fs::write(d.join(&name), bytes).unwrap();
        }
    }

    #[test]
    fn fixtures_are_what_the_generator_writes() {
        // The fixtures are committed beside this crate: a missing directory is a failure.
        let d = dir();
        assert!(
            d.is_dir(),
            "{} is missing; regenerate the fixtures",
            d.display()
        );
        for (name, bytes) in files() {
            let on_disk = std::fs::read(d.join(&name))
                .unwrap_or_else(|e| panic!("{name}: {e}; regenerate the fixtures"));
            assert!(
                on_disk == bytes,
                "{name} differs from what the generator writes; regenerate the fixtures \
                 (cargo test -p haoqi-import --lib fixtures -- --ignored)"
            );
        }
    }
}
