//! The committee's workbook: a summary (period, totals, goal progress, growth by prefecture with
//! a chart), one ranked sheet per group with every input and the score (and a chart of the top
//! accounts), the units, the ineligible accounts with reasons, the anomalies with their numbers,
//! and the method in Chinese and English. Headers are two rows (Chinese, then English); numbers
//! are numbers, dates are dates.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use rust_xlsxwriter::{Chart, ChartType, Format, FormatBorder, Workbook, Worksheet, XlsxError};

use super::{Components, Ranking, FORMULA_VERSION};

pub const SUMMARY: &str = "摘要 Summary";
pub const UNITS: &str = "单位 Units";
pub const INELIGIBLE: &str = "不合格 Ineligible";
pub const ANOMALIES: &str = "异常 Anomalies";
pub const METHOD: &str = "方法 Method";

/// The ranked sheet's name for a group.
pub fn group_sheet(group: &str) -> String {
    let zh = match group {
        "vertical" => "纵向",
        "horizontal" => "横向",
        "region_assoc" => "自治区科协",
        "prefecture_assoc" => "地州市科协",
        "county_assoc" => "县市区科协",
        "society" => "学会",
        "university" => "高校科协",
        "enterprise" => "企业科协",
        "museum" => "科技馆",
        _ => "排名",
    };
    format!("{zh} {group}")
}

struct Formats {
    header: Format,
    date: Format,
    int: Format,
    pct: Format,
    score: Format,
    wrap: Format,
}

fn formats() -> Formats {
    Formats {
        header: Format::new()
            .set_bold()
            .set_border_bottom(FormatBorder::Thin)
            .set_text_wrap(),
        date: Format::new().set_num_format("yyyy-mm-dd"),
        int: Format::new().set_num_format("#,##0"),
        pct: Format::new().set_num_format("0.0%"),
        score: Format::new().set_num_format("0.00"),
        wrap: Format::new().set_text_wrap(),
    }
}

fn headers(ws: &mut Worksheet, f: &Formats, cols: &[(&str, &str, f64)]) -> Result<(), XlsxError> {
    for (c, (zh, en, width)) in cols.iter().enumerate() {
        let c = c as u16;
        ws.write_string_with_format(0, c, *zh, &f.header)?;
        ws.write_string_with_format(1, c, *en, &f.header)?;
        ws.set_column_width(c, *width)?;
    }
    ws.set_freeze_panes(2, 0)?;
    print_setup(ws)?;
    Ok(())
}

/// A4 landscape, one page wide and as many long as needed, the two header rows on every page:
/// a committee prints the ranking and signs it (issue 18: printed, a quarter's ranking was 309
/// pages with the scores on other pages than the names).
fn print_setup(ws: &mut Worksheet) -> Result<(), XlsxError> {
    const A4: u8 = 9;
    ws.set_paper_size(A4)
        .set_landscape()
        .set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(0, 1)?;
    Ok(())
}

/// A filter on the header rows over `rows` data rows and `cols` columns, and the table alone
/// as the print area (the chart beside it is for the screen).
fn table_end(ws: &mut Worksheet, rows: usize, cols: usize) -> Result<(), XlsxError> {
    let last_row = 1 + rows as u32;
    let last_col = cols.saturating_sub(1) as u16;
    ws.autofilter(1, 0, last_row, last_col)?;
    ws.set_print_area(0, 0, last_row, last_col)?;
    Ok(())
}

/// A cell that is a number, or "n/a" when the platform does not expose it.
fn num_or_na(
    ws: &mut Worksheet,
    r: u32,
    c: u16,
    v: Option<f64>,
    fmt: &Format,
) -> Result<(), XlsxError> {
    match v {
        Some(x) => ws.write_number_with_format(r, c, x, fmt).map(|_| ()),
        None => ws.write_string(r, c, "n/a").map(|_| ()),
    }
}

fn components(
    ws: &mut Worksheet,
    r: u32,
    c0: u16,
    c: &Components,
    f: &Formats,
) -> Result<(), XlsxError> {
    let parts = [
        c.followers,
        c.growth,
        c.completion,
        c.views,
        c.likes,
        c.posts,
    ];
    for (k, v) in parts.iter().enumerate() {
        num_or_na(ws, r, c0 + k as u16, *v, &f.score)?;
    }
    Ok(())
}

const COMPONENT_HEADERS: [(&str, &str, f64); 6] = [
    ("粉丝分", "s followers", 9.0),
    ("增长分", "s growth", 9.0),
    ("完成分", "s completion", 9.0),
    ("播放分", "s views", 9.0),
    ("点赞分", "s likes", 9.0),
    ("发布分", "s posts", 9.0),
];

/// Writes the workbook. `goal` and `goal_followers` give the summary's goal progress.
pub fn write(path: &Path, r: &Ranking, goal: u64, goal_followers: u64) -> Result<(), XlsxError> {
    workbook(r, goal, goal_followers)?.save(path)
}

/// The same workbook as bytes, for serving it without a file (the web application).
pub fn to_bytes(r: &Ranking, goal: u64, goal_followers: u64) -> Result<Vec<u8>, XlsxError> {
    workbook(r, goal, goal_followers)?.save_to_buffer()
}

fn workbook(r: &Ranking, goal: u64, goal_followers: u64) -> Result<Workbook, XlsxError> {
    let f = formats();
    let mut wb = Workbook::new();
    // Excel's own level: saves in about 70 % of the default's time for a file ~5 % larger.
    wb.set_zip_compression_level(3);
    summary_sheet(wb.add_worksheet(), r, goal, goal_followers, &f)?;
    for g in &r.groups {
        ranked_sheet(wb.add_worksheet(), r, g, &f)?;
    }
    units_sheet(wb.add_worksheet(), r, &f)?;
    ineligible_sheet(wb.add_worksheet(), r, &f)?;
    anomalies_sheet(wb.add_worksheet(), r, &f)?;
    method_sheet(wb.add_worksheet(), r, &f)?;
    Ok(wb)
}

/// The period, the counts, the goal, and growth by prefecture with its chart.
fn summary_sheet(
    ws: &mut Worksheet,
    r: &Ranking,
    goal: u64,
    goal_followers: u64,
    f: &Formats,
) -> Result<(), XlsxError> {
    ws.set_name(SUMMARY)?;
    ws.set_column_width(0, 28.0)?;
    ws.set_column_width(1, 18.0)?;
    ws.write_string_with_format(0, 0, "科普矩阵补贴排名 Subsidy ranking", &f.header)?;
    let eligible = r.accounts.len() as f64;
    let considered = eligible + r.ineligible.len() as f64;
    let end_total: u64 = r.inputs().filter_map(|i| i.followers_end).sum();
    let rows: [(&str, SummaryValue); 10] = [
        ("期间起 From", SummaryValue::Date(r.from)),
        ("期间止 To", SummaryValue::Date(r.to)),
        ("分组 Tier", SummaryValue::Text(r.tier.clone())),
        (
            "公式版本 Formula",
            SummaryValue::Text(r.formula_version.clone()),
        ),
        (
            "参评账号 Accounts considered",
            SummaryValue::Int(considered),
        ),
        ("合格 Eligible", SummaryValue::Int(eligible)),
        (
            "不合格 Ineligible",
            SummaryValue::Int(r.ineligible.len() as f64),
        ),
        (
            "未处理异常 Open anomalies",
            SummaryValue::Int(r.anomalies.len() as f64),
        ),
        (
            "参评账号期末粉丝 Followers at end (considered)",
            SummaryValue::Int(end_total as f64),
        ),
        (
            "矩阵目标进度 Matrix goal progress",
            SummaryValue::Pct(goal_followers as f64 / goal.max(1) as f64),
        ),
    ];
    for (i, (label, v)) in rows.iter().enumerate() {
        let row = i as u32 + 2;
        ws.write_string(row, 0, *label)?;
        match v {
            SummaryValue::Date(d) => {
                ws.write_datetime_with_format(row, 1, *d, &f.date)?;
            }
            SummaryValue::Text(t) => {
                ws.write_string(row, 1, t)?;
            }
            SummaryValue::Int(n) => {
                ws.write_number_with_format(row, 1, *n, &f.int)?;
            }
            SummaryValue::Pct(p) => {
                ws.write_number_with_format(row, 1, *p, &f.pct)?;
            }
        }
    }
    ws.write_number_with_format(12, 1, goal as f64, &f.int)?;
    ws.write_string(12, 0, "目标 Goal")?;
    ws.write_number_with_format(13, 1, goal_followers as f64, &f.int)?;
    ws.write_string(13, 0, "矩阵粉丝 Matrix followers")?;

    // Growth by prefecture, over every account considered.
    let mut by_pref: BTreeMap<String, i64> = BTreeMap::new();
    for i in r.inputs() {
        let name = i
            .prefecture_name
            .clone()
            .unwrap_or_else(|| "全区 region-wide".into());
        *by_pref.entry(name).or_default() += i.followers_gained.unwrap_or(0);
    }
    let top = 15u32;
    ws.write_string_with_format(top, 0, "地区 Prefecture", &f.header)?;
    ws.write_string_with_format(top, 1, "粉丝增长 Follower growth", &f.header)?;
    for (k, (name, g)) in by_pref.iter().enumerate() {
        ws.write_string(top + 1 + k as u32, 0, name)?;
        ws.write_number_with_format(top + 1 + k as u32, 1, *g as f64, &f.int)?;
    }
    if !by_pref.is_empty() {
        let last = top + by_pref.len() as u32;
        let mut chart = Chart::new(ChartType::Bar);
        chart
            .add_series()
            .set_name("粉丝增长 Follower growth")
            .set_categories((SUMMARY, top + 1, 0, last, 0))
            .set_values((SUMMARY, top + 1, 1, last, 1));
        chart
            .title()
            .set_name("各地区粉丝增长 Growth by prefecture");
        ws.insert_chart(2, 3, &chart)?;
    }
    Ok(())
}

/// One group's ranked accounts with every input, the components and the score, and a chart of
/// the top ten.
fn ranked_sheet(ws: &mut Worksheet, r: &Ranking, g: &str, f: &Formats) -> Result<(), XlsxError> {
    let name = group_sheet(g);
    ws.set_name(&name)?;
    let mut cols: Vec<(&str, &str, f64)> = vec![
        ("排名", "Rank", 6.0),
        ("账号ID", "Account id", 16.0),
        ("账号名称", "Account name", 16.0),
        ("单位", "Unit", 24.0),
        ("类别", "Kind", 14.0),
        ("地区", "Prefecture", 14.0),
        ("平台", "Platform", 12.0),
        ("期末粉丝", "Followers at end", 12.0),
        ("粉丝增长", "Follower growth", 12.0),
        ("播放增长", "Views gained", 12.0),
        ("点赞增长", "Likes gained", 12.0),
        ("发布增长", "Posts gained", 10.0),
        ("目标", "Target", 12.0),
        ("完成率", "Target completion", 10.0),
        ("覆盖率", "Coverage", 9.0),
    ];
    cols.extend(COMPONENT_HEADERS);
    cols.push(("得分", "Score (0–1000)", 10.0));
    headers(ws, f, &cols)?;
    let rows: Vec<_> = r.accounts.iter().filter(|a| a.group == g).collect();
    for (k, a) in rows.iter().enumerate() {
        let row = k as u32 + 2;
        let i = &a.input;
        ws.write_number(row, 0, f64::from(a.rank))?;
        ws.write_string(row, 1, &i.account_id)?;
        ws.write_string(row, 2, &i.display_name)?;
        ws.write_string(row, 3, &i.unit_name)?;
        ws.write_string(row, 4, &i.kind)?;
        ws.write_string(row, 5, i.prefecture_name.as_deref().unwrap_or("全区"))?;
        ws.write_string(row, 6, &i.platform)?;
        num_or_na(ws, row, 7, i.followers_end.map(|v| v as f64), &f.int)?;
        num_or_na(ws, row, 8, i.followers_gained.map(|v| v as f64), &f.int)?;
        num_or_na(ws, row, 9, i.views_gained.map(|v| v as f64), &f.int)?;
        num_or_na(ws, row, 10, i.likes_gained.map(|v| v as f64), &f.int)?;
        num_or_na(ws, row, 11, i.posts_gained.map(|v| v as f64), &f.int)?;
        num_or_na(ws, row, 12, i.target.map(|v| v as f64), &f.int)?;
        num_or_na(ws, row, 13, i.completion, &f.pct)?;
        ws.write_number_with_format(row, 14, i.coverage, &f.pct)?;
        components(ws, row, 15, &a.components, f)?;
        ws.write_number_with_format(row, 21, a.score, &f.score)?;
    }
    table_end(ws, rows.len(), cols.len())?;
    if !rows.is_empty() {
        let last = 1 + rows.len().min(10) as u32;
        let mut chart = Chart::new(ChartType::Bar);
        chart
            .add_series()
            .set_name("得分 Score")
            .set_categories((name.as_str(), 2, 2, last, 2))
            .set_values((name.as_str(), 2, 21, last, 21));
        chart.title().set_name("前十名 Top 10 accounts");
        ws.insert_chart(2, 23, &chart)?;
    }
    Ok(())
}

fn units_sheet(ws: &mut Worksheet, r: &Ranking, f: &Formats) -> Result<(), XlsxError> {
    ws.set_name(UNITS)?;
    let mut cols: Vec<(&str, &str, f64)> = vec![
        ("分组", "Group", 10.0),
        ("排名", "Rank", 6.0),
        ("单位ID", "Unit id", 14.0),
        ("单位", "Unit", 24.0),
        ("类别", "Kind", 14.0),
        ("地区", "Prefecture", 14.0),
        ("合格账号数", "Eligible accounts", 8.0),
        ("期末粉丝", "Followers at end", 12.0),
        ("粉丝增长", "Follower growth", 12.0),
        ("播放增长", "Views gained", 12.0),
        ("点赞增长", "Likes gained", 12.0),
        ("发布增长", "Posts gained", 10.0),
        ("完成率", "Target completion", 10.0),
    ];
    cols.extend(COMPONENT_HEADERS);
    cols.push(("得分", "Score (0–1000)", 10.0));
    headers(ws, f, &cols)?;
    for (k, u) in r.units.iter().enumerate() {
        let row = k as u32 + 2;
        ws.write_string(row, 0, &u.group)?;
        ws.write_number(row, 1, f64::from(u.rank))?;
        ws.write_string(row, 2, &u.unit_id)?;
        ws.write_string(row, 3, &u.unit_name)?;
        ws.write_string(row, 4, &u.kind)?;
        ws.write_string(row, 5, u.prefecture_name.as_deref().unwrap_or("全区"))?;
        ws.write_number(row, 6, f64::from(u.accounts))?;
        ws.write_number_with_format(row, 7, u.followers_end as f64, &f.int)?;
        ws.write_number_with_format(row, 8, u.followers_gained as f64, &f.int)?;
        num_or_na(ws, row, 9, u.views_gained.map(|v| v as f64), &f.int)?;
        num_or_na(ws, row, 10, u.likes_gained.map(|v| v as f64), &f.int)?;
        num_or_na(ws, row, 11, u.posts_gained.map(|v| v as f64), &f.int)?;
        num_or_na(ws, row, 12, u.completion, &f.pct)?;
        components(ws, row, 13, &u.components, f)?;
        ws.write_number_with_format(row, 19, u.score, &f.score)?;
    }
    table_end(ws, r.units.len(), cols.len())?;
    Ok(())
}

fn ineligible_sheet(ws: &mut Worksheet, r: &Ranking, f: &Formats) -> Result<(), XlsxError> {
    ws.set_name(INELIGIBLE)?;
    headers(
        ws,
        f,
        &[
            ("分组", "Group", 10.0),
            ("账号ID", "Account id", 16.0),
            ("账号名称", "Account name", 16.0),
            ("单位", "Unit", 24.0),
            ("平台", "Platform", 12.0),
            ("期末粉丝", "Followers at end", 12.0),
            ("覆盖率", "Coverage", 9.0),
            ("原因", "Reasons", 80.0),
        ],
    )?;
    for (k, i) in r.ineligible.iter().enumerate() {
        let row = k as u32 + 2;
        ws.write_string(row, 0, &i.group)?;
        ws.write_string(row, 1, &i.input.account_id)?;
        ws.write_string(row, 2, &i.input.display_name)?;
        ws.write_string(row, 3, &i.input.unit_name)?;
        ws.write_string(row, 4, &i.input.platform)?;
        num_or_na(ws, row, 5, i.input.followers_end.map(|v| v as f64), &f.int)?;
        ws.write_number_with_format(row, 6, i.input.coverage, &f.pct)?;
        ws.write_string_with_format(row, 7, i.reasons.join("; "), &f.wrap)?;
    }
    Ok(())
}

fn anomalies_sheet(ws: &mut Worksheet, r: &Ranking, f: &Formats) -> Result<(), XlsxError> {
    ws.set_name(ANOMALIES)?;
    headers(
        ws,
        f,
        &[
            ("账号ID", "Account id", 16.0),
            ("日期", "Day", 11.0),
            ("类型", "Kind", 22.0),
            ("数值", "Value", 12.0),
            ("前值", "Previous", 12.0),
            ("变化", "Change", 10.0),
            ("趋势/日", "Trend per day", 10.0),
            ("阈值", "Threshold", 10.0),
            ("状态", "Status", 10.0),
            ("说明", "Reason", 80.0),
        ],
    )?;
    let all = r
        .anomalies
        .iter()
        .map(|a| (a, "未处理 open"))
        .chain(r.resolved.iter().map(|a| (a, "已处理 resolved")));
    for (k, (a, status)) in all.enumerate() {
        let row = k as u32 + 2;
        ws.write_string(row, 0, &a.account_id)?;
        ws.write_datetime_with_format(row, 1, a.day, &f.date)?;
        ws.write_string(row, 2, &a.kind)?;
        ws.write_number_with_format(row, 3, a.value as f64, &f.int)?;
        ws.write_number_with_format(row, 4, a.previous as f64, &f.int)?;
        ws.write_number_with_format(row, 5, a.gain as f64, &f.int)?;
        ws.write_number_with_format(row, 6, a.trend, &f.score)?;
        ws.write_number_with_format(row, 7, a.threshold, &f.score)?;
        ws.write_string(row, 8, status)?;
        ws.write_string_with_format(row, 9, a.reason(), &f.wrap)?;
    }
    Ok(())
}

fn method_sheet(ws: &mut Worksheet, r: &Ranking, f: &Formats) -> Result<(), XlsxError> {
    ws.set_name(METHOD)?;
    ws.set_column_width(0, 120.0)?;
    for (k, line) in method_text(r).iter().enumerate() {
        ws.write_string_with_format(k as u32, 0, line, &f.wrap)?;
    }
    Ok(())
}

enum SummaryValue {
    Date(NaiveDate),
    Text(String),
    Int(f64),
    Pct(f64),
}

/// The method in plain Chinese and English, with this ranking's weights and thresholds.
pub fn method_text(r: &Ranking) -> Vec<String> {
    let c = &r.config;
    let w = &c.weights;
    let a = &c.anomaly;
    vec![
        format!("公式版本 Formula version: {FORMULA_VERSION}"),
        String::new(),
        "一、得分 Score".into(),
        "每项指标先取对数归一：s = ln(1 + x) / ln(1 + 组内最高值)，取值 0–1；负增长按 0 计。得分 = 1000 × Σ(权重 × s) / Σ(该账号具备的指标权重)，s 不取舍，只在最后把得分四舍五入到两位小数。".into(),
        "Each component x is log-normalised against the best eligible account of the group: s = ln(1 + x) / ln(1 + max x), 0..1, negative gains count as 0. Score = 1000 × Σ(weight × s) / Σ(weights of the components the account has); s is not rounded, the score is rounded once, to 0.01, at the end.".into(),
        format!(
            "权重 Weights: 期末粉丝 followers {} · 粉丝增长 growth {} · 目标完成率 completion {} · 播放增长 views {} · 点赞增长 likes {} · 发布增长 posts {}",
            w.followers, w.growth, w.completion, w.views, w.likes, w.posts
        ),
        "粉丝、增长、完成率在整个分组内比较；播放、点赞、发布并非所有平台都公开，只在同一平台内比较，平台不公开的指标记为 n/a，其权重按比例分给其余指标。".into(),
        "Followers, growth and completion are compared across the whole group; views, likes and posts are not exposed by every platform, so they are compared within the platform only, and a missing one (n/a) has its weight spread over the account's other components.".into(),
        "单位得分：合格账号的各项指标相加后按同一公式计算，所有指标在全组内比较。Units: the sums of their eligible accounts, scored by the same formula, every component compared across the group.".into(),
        String::new(),
        "二、并列 Ties".into(),
        "得分（保留两位小数）高者在前；相同则粉丝增长多者在前，再相同则期末粉丝多者在前，最后按账号ID升序。".into(),
        "Score (to 0.01) descending, then follower growth descending, then followers at the end descending, then account id ascending.".into(),
        String::new(),
        "三、参评条件 Eligibility".into(),
        format!(
            "规范账号 standardised account: {}；名称符合命名规范 name follows the naming rule: {}；期间数据覆盖率 coverage ≥ {:.0}%；无未处理异常 no unresolved anomaly。不合格账号列在“不合格”表并写明原因。",
            if c.require_standardised { "必须 required" } else { "不要求 not required" },
            if c.require_naming { "必须 required" } else { "不要求 not required" },
            c.min_coverage * 100.0
        ),
        "Ineligible accounts are listed on the Ineligible sheet with every reason, never dropped silently.".into(),
        String::new(),
        "四、异常 Anomalies".into(),
        format!(
            "粉丝单日激增 jump: 单日增长 > {} 且 > {} × 本账号前 {} 个读数日的平均日增长 (a one-day gain above {} and above {} × the account's mean daily gain over the previous {} reading days)。",
            a.jump_min, a.jump_factor, a.trend_days, a.jump_min, a.jump_factor, a.trend_days
        ),
        format!(
            "激增无互动 jump without engagement: 当日点赞+播放增长 < {} × 粉丝增长 (likes + views grew by less than {} × the followers gain that day)。",
            a.engagement_ratio, a.engagement_ratio
        ),
        format!(
            "同日聚集 clusters: 同一单位 ≥ {} 个账号或同一地州 ≥ {} 个账号同日激增 (jumps on {}+ accounts of a unit or {}+ of a prefecture on one day)。",
            a.unit_cluster_min, a.prefecture_cluster_min, a.unit_cluster_min, a.prefecture_cluster_min
        ),
        format!(
            "粉丝骤降 drop: 确定的单日减少 > 前值的 {:.0}% 且 > {} (a certain one-day loss above {:.0}% of the previous value and above {})。累计数倒退 backwards: 点赞或播放确定减少 (likes or views certainly lower than the day before)。",
            a.drop_share * 100.0, a.drop_min, a.drop_share * 100.0, a.drop_min
        ),
        format!(
            "数据主要为导入 mostly imported: 可抓取平台上期间读数中导入占比 > {:.0}% (on a crawlable platform, more than {:.0}% of the period's readings were imported)。",
            c.max_imported_share * 100.0, c.max_imported_share * 100.0
        ),
        "缩写数值（如 1.2万）按区间处理：只有超出分辨率的变化才算增长或下降。Abbreviated counts (1.2万) are intervals: only changes beyond their resolution count.".into(),
        String::new(),
        "五、数据 Data".into(),
        "期末值为期末当日结束前最后一次读数；期初值为期间开始前最后一次读数（期间内才开始上报的账号取期间内第一次读数）。每个数字都可在 haoqi 中追溯到原始读数。".into(),
        "The value at the end is the last reading before the period's last day ends; the start is the last reading before the period (for an account that began reporting inside it, its first reading in the period). Every figure traces back to readings in haoqi.".into(),
    ]
}
