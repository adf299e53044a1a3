//! The workbooks people fill in or edit: the readings template (a statistics table in the shape
//! of seed 001 — title, 填报单位 / 填报人 / 填报时间, then 序号 / 单位名称 / 账号名称 / 平台 /
//! 关注人数 / 统计日期), the registry template, and the registry export. Each has its columns, a
//! filled example row (marked 示例 in 序号, which the importers skip), drop-down lists for
//! platform and kind, and a sheet of instructions. `haoqi import readings` and `haoqi registry
//! import` read them back as they are.

use chrono::NaiveDate;
use haoqi_platform::Platform;
use rust_xlsxwriter::{
    DataValidation, DataValidationErrorStyle, DocProperties, ExcelDateTime, Format, FormatAlign,
    FormatBorder, Workbook, Worksheet, XlsxError,
};

use super::registry_import::{export_header, export_rows, RegField};
use super::table::Cell;
use haoqi_registry::{Kind, Registry};

/// Sheet names.
pub const READINGS_SHEET: &str = "统计表";
pub const REGISTRY_SHEET: &str = "登记表";
pub const UNITS_SHEET: &str = "单位列表";
pub const HELP_SHEET: &str = "说明";

/// The readings template's header, in order.
pub const READINGS_HEADER: [&str; 8] = [
    "序号",
    "单位名称（unit）",
    "账号名称（account）",
    "平台（platform）",
    "关注人数（followers）",
    "统计日期（date）",
    "填报人（reporter）",
    "备注（note）",
];

/// The row (0-based) of the readings template's header; the example row follows it.
pub const READINGS_HEADER_ROW: u32 = 2;

/// Rows given a drop-down list below the header.
const VALIDATED_ROWS: u32 = 2_000;

fn properties() -> Result<DocProperties, XlsxError> {
    // A fixed creation time: the same template is the same bytes.
    let created = ExcelDateTime::from_ymd(2024, 1, 1)?;
    Ok(DocProperties::new()
        .set_title("haoqi")
        .set_author("haoqi")
        .set_creation_datetime(&created))
}

fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_background_color(0xDDEBF7)
        .set_align(FormatAlign::Center)
        .set_text_wrap()
}

/// Writes one cell of a [`Cell`] value.
fn write_cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    date: &Format,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Empty => {}
        Cell::Text(s) => {
            ws.write_string(row, col, s)?;
        }
        Cell::Int(n) => {
            ws.write_number(row, col, *n as f64)?;
        }
        Cell::Float(x) => {
            ws.write_number(row, col, *x)?;
        }
        Cell::Bool(b) => {
            ws.write_boolean(row, col, *b)?;
        }
        Cell::DateTime(dt) => {
            ws.write_datetime_with_format(row, col, dt.date(), date)?;
        }
        Cell::Error(e) => {
            ws.write_string(row, col, e)?;
        }
    }
    Ok(())
}

/// A sheet to write: rows of cells from A1 and merged ranges (first row, first column, last
/// row, last column; 0-based).
#[derive(Debug, Clone, Default)]
pub struct SheetSpec {
    pub name: String,
    pub rows: Vec<Vec<Cell>>,
    pub merges: Vec<(u32, u16, u32, u16)>,
}

/// Writes sheets as an XLSX workbook, cell by cell (dates as Excel dates). For the fixtures and
/// tests of importers: it writes what a person's spreadsheet may hold, merged titles included.
pub fn write_sheets(sheets: &[SheetSpec]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    wb.set_properties(&properties()?);
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for spec in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(&spec.name)?;
        for (r, row) in spec.rows.iter().enumerate() {
            let r = u32::try_from(r).map_err(|_| XlsxError::RowColumnLimitError)?;
            for (c, cell) in row.iter().enumerate() {
                let c = u16::try_from(c).map_err(|_| XlsxError::RowColumnLimitError)?;
                let covered = spec.merges.iter().any(|m| {
                    (m.0..=m.2).contains(&r) && (m.1..=m.3).contains(&c) && (m.0, m.1) != (r, c)
                });
                if !covered {
                    write_cell(ws, r, c, cell, &date)?;
                }
            }
        }
        for &(r0, c0, r1, c1) in &spec.merges {
            let text = spec
                .rows
                .get(r0 as usize)
                .and_then(|row| row.get(c0 as usize))
                .map(|c| c.text().into_owned())
                .unwrap_or_default();
            ws.merge_range(
                r0,
                c0,
                r1,
                c1,
                &text,
                &Format::new().set_align(FormatAlign::Center),
            )?;
        }
    }
    wb.save_to_buffer()
}

fn list(values: &[&str], title: &str, message: &str) -> Result<DataValidation, XlsxError> {
    DataValidation::new()
        .allow_list_strings(values)?
        .set_input_title(title)?
        .set_input_message(message)?
        .set_error_title(title)?
        .set_error_message(format!("请从下拉列表中选择：{}", values.join("、")))
}

/// An example account from the registry for the filled row (an official account when there is
/// one, as in seed 001).
fn example_account(registry: &Registry, platform: Option<Platform>) -> (String, String, Platform) {
    let wanted = platform.unwrap_or(Platform::WechatOfficial);
    registry
        .accounts
        .iter()
        .find(|a| a.active && a.platform == wanted)
        .or_else(|| registry.accounts.iter().find(|a| a.active))
        .and_then(|a| {
            registry
                .unit(&a.unit_id)
                .map(|u| (u.name.clone(), a.display_name.clone(), a.platform))
        })
        .unwrap_or_else(|| {
            (
                "乌鲁木齐市科学技术协会".into(),
                "乌鲁木齐科协".into(),
                wanted,
            )
        })
}

fn help_sheet(wb: &mut Workbook, lines: &[(&str, &str)]) -> Result<(), XlsxError> {
    let ws = wb.add_worksheet();
    ws.set_name(HELP_SHEET)?;
    ws.set_column_width(0, 28)?;
    ws.set_column_width(1, 90)?;
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    for (i, (k, v)) in lines.iter().enumerate() {
        let r = i as u32;
        ws.write_string_with_format(r, 0, *k, &bold)?;
        ws.write_string_with_format(r, 1, *v, &wrap)?;
    }
    Ok(())
}

/// The statistics table a unit fills in: columns, one example row, 30 numbered rows, a
/// drop-down for the platform (and for the unit's name, from the registry's list, which a
/// person may override), and the instructions.
pub fn readings_template(
    registry: &Registry,
    platform: Option<Platform>,
    example_day: NaiveDate,
) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    wb.set_properties(&properties()?);
    let header = header_format();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let title = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center);
    let grey = Format::new().set_font_color(0x808080).set_italic();
    let grey_date = Format::new()
        .set_font_color(0x808080)
        .set_italic()
        .set_num_format("yyyy-mm-dd");
    let units_len = registry.units.len() as u32;
    {
        let ws = wb.add_worksheet();
        ws.set_name(READINGS_SHEET)?;
        let last_col = (READINGS_HEADER.len() - 1) as u16;
        ws.merge_range(0, 0, 0, last_col, "好奇科普矩阵账号关注情况统计表", &title)?;
        ws.write_string(1, 0, "填报单位：")?;
        ws.write_string(1, 3, "填报人：")?;
        ws.write_string(1, 5, "填报时间：")?;
        let h = READINGS_HEADER_ROW;
        for (c, label) in READINGS_HEADER.iter().enumerate() {
            ws.write_string_with_format(h, c as u16, *label, &header)?;
        }
        for (c, w) in [6.0, 34.0, 22.0, 14.0, 18.0, 16.0, 12.0, 24.0]
            .iter()
            .enumerate()
        {
            ws.set_column_width(c as u16, *w)?;
        }
        let (unit, account, p) = example_account(registry, platform);
        let ex = h + 1;
        ws.write_string_with_format(ex, 0, "示例", &grey)?;
        ws.write_string_with_format(ex, 1, &unit, &grey)?;
        ws.write_string_with_format(ex, 2, &account, &grey)?;
        ws.write_string_with_format(ex, 3, p.chinese_name(), &grey)?;
        ws.write_number_with_format(ex, 4, 12345.0, &grey)?;
        ws.write_datetime_with_format(ex, 5, example_day, &grey_date)?;
        ws.write_string_with_format(ex, 6, "张三", &grey)?;
        ws.write_string_with_format(
            ex,
            7,
            "示例行，导入时跳过；可写 1.2万、10万+，不详留空",
            &grey,
        )?;
        for i in 0..30u32 {
            ws.write_number(ex + 1 + i, 0, f64::from(i + 1))?;
            ws.set_cell_format(ex + 1 + i, 5, &date)?;
        }
        let names: Vec<&str> = Platform::ALL.iter().map(|p| p.chinese_name()).collect();
        ws.add_data_validation(
            ex,
            3,
            ex + VALIDATED_ROWS,
            3,
            &list(
                &names,
                "平台",
                "选择平台（抖音、视频号、快手、哔哩哔哩、公众号）",
            )?,
        )?;
        if units_len > 0 {
            let units = DataValidation::new()
                .allow_list_formula(
                    format!("='{UNITS_SHEET}'!$A$2:$A${}", units_len + 1)
                        .as_str()
                        .into(),
                )
                .set_error_style(DataValidationErrorStyle::Warning)
                .set_input_title("单位名称")?
                .set_input_message("从单位列表中选择，或按登记的名称填写")?;
            ws.add_data_validation(ex, 1, ex + VALIDATED_ROWS, 1, &units)?;
        }
        let count = DataValidation::new()
            .allow_any_value()
            .set_input_title("关注人数")?
            .set_input_message(
                "整数（12345），或平台显示的写法（1.2万、10万+）；不详请留空，不要填 0",
            )?;
        ws.add_data_validation(ex, 4, ex + VALIDATED_ROWS, 4, &count)?;
        ws.set_freeze_panes(h + 1, 0)?;
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name(UNITS_SHEET)?;
        for (c, label) in [
            "单位名称（unit）",
            "单位编号（unit_id）",
            "单位类型（kind）",
            "账号（accounts）",
        ]
        .iter()
        .enumerate()
        {
            ws.write_string_with_format(0, c as u16, *label, &header)?;
        }
        ws.set_column_width(0, 36)?;
        ws.set_column_width(1, 16)?;
        ws.set_column_width(2, 16)?;
        ws.set_column_width(3, 80)?;
        for (i, u) in registry.units.iter().enumerate() {
            let r = i as u32 + 1;
            ws.write_string(r, 0, &u.name)?;
            ws.write_string(r, 1, &u.unit_id)?;
            ws.write_string(r, 2, u.kind.chinese_name())?;
            let accounts: Vec<String> = registry
                .accounts_of(&u.unit_id)
                .filter(|a| a.active)
                .map(|a| format!("{} {}", a.platform.chinese_name(), a.display_name))
                .collect();
            ws.write_string(r, 3, accounts.join("；"))?;
        }
    }
    help_sheet(
        &mut wb,
        &[
            ("用途 Purpose", "各单位填报账号关注人数（粉丝数）。Each unit fills in its accounts' follower counts."),
            ("单位名称 unit", "按登记的单位名称填写（见“单位列表”）；全角/半角、空格不影响匹配。The unit's registered name."),
            ("账号名称 account", "平台上显示的账号名称，如 好奇阿克苏；同一单位在同一平台有多个账号时必填。"),
            ("平台 platform", "抖音、视频号、快手、哔哩哔哩、公众号（下拉选择）。"),
            ("关注人数 followers", "整数，或平台显示的写法：1.2万、3,456、10万+。不详请留空或填“不详”，不要填 0；负数会被拒绝。"),
            ("统计日期 date", "2024-03-05、2024/3/5、2024年3月5日 均可；整表同一天时也可只填上方“填报时间”。"),
            ("示例行 example", "序号为“示例”的一行不会导入。The row marked 示例 is not imported."),
            ("合计 totals", "合计/总计行会被跳过。Total rows are skipped."),
            ("导入 import", "haoqi import readings 文件.xlsx --platform wechat_official --reporter 姓名 --dry-run（先预览），再去掉 --dry-run 导入。"),
        ],
    )?;
    wb.save_to_buffer()
}

fn registry_validations(ws: &mut Worksheet, first: u32, last: u32) -> Result<(), XlsxError> {
    let col = |f: RegField| RegField::ALL.iter().position(|x| *x == f).unwrap_or(0) as u16;
    let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    let platforms: Vec<&str> = Platform::ALL.iter().map(|p| p.as_str()).collect();
    ws.add_data_validation(
        first,
        col(RegField::Kind),
        last,
        col(RegField::Kind),
        &list(&kinds, "单位类型 kind", "region_assoc 自治区科协, prefecture_assoc 地州市科协, county_assoc 县市区科协, society 学会, university 高校, enterprise 企业, museum 场馆")?,
    )?;
    ws.add_data_validation(
        first,
        col(RegField::Platform),
        last,
        col(RegField::Platform),
        &list(&platforms, "平台 platform", "douyin 抖音, wechat_channels 视频号, kuaishou 快手, bilibili 哔哩哔哩, wechat_official 公众号")?,
    )?;
    ws.add_data_validation(
        first,
        col(RegField::Role),
        last,
        col(RegField::Role),
        &list(
            &["flexible", "official"],
            "角色 role",
            "flexible 新开的灵活账号；official 原有的官方账号",
        )?,
    )?;
    for f in [RegField::Sample, RegField::Standardised, RegField::Active] {
        ws.add_data_validation(
            first,
            col(f),
            last,
            col(f),
            &list(&["是", "否"], f.chinese(), "是 / 否")?,
        )?;
    }
    Ok(())
}

fn registry_sheet(wb: &mut Workbook, rows: &[Vec<String>], example: bool) -> Result<(), XlsxError> {
    let header = header_format();
    let grey = Format::new().set_font_color(0x808080).set_italic();
    let ws = wb.add_worksheet();
    ws.set_name(REGISTRY_SHEET)?;
    for (c, label) in export_header().iter().enumerate() {
        ws.write_string_with_format(0, c as u16, label, &header)?;
    }
    for (c, w) in [
        6.0, 14.0, 16.0, 34.0, 12.0, 12.0, 12.0, 8.0, 20.0, 18.0, 16.0, 24.0, 18.0, 10.0, 10.0,
        8.0, 20.0,
    ]
    .iter()
    .enumerate()
    {
        ws.set_column_width(c as u16, *w)?;
    }
    let mut r = 1u32;
    if example {
        let ex = [
            "示例",
            "XJ-C-650102",
            "county_assoc",
            "天山区科学技术协会",
            "650100",
            "650102",
            "科普部",
            "否",
            "",
            "XJ-C-650102-dy",
            "douyin",
            "MS4wLjABAAAA…",
            "好奇天山",
            "flexible",
            "是",
            "是",
            "示例行，导入时跳过",
        ];
        for (c, v) in ex.iter().enumerate() {
            ws.write_string_with_format(r, c as u16, *v, &grey)?;
        }
        r += 1;
    }
    for row in rows {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r, c as u16, v)?;
            }
        }
        r += 1;
    }
    let last = (r + VALIDATED_ROWS).min(1_048_575);
    registry_validations(ws, 1, last)?;
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

fn registry_help(wb: &mut Workbook) -> Result<(), XlsxError> {
    help_sheet(
        wb,
        &[
            ("用途 Purpose", "单位与账号登记表：每个账号一行，单位的列在其每个账号行重复。One row per account; a unit's columns repeat on each of its accounts."),
            ("单位类型 kind", "region_assoc, prefecture_assoc, county_assoc, society, university, enterprise, museum（下拉选择；也可写中文：县市区科协 等）"),
            ("平台 platform", "douyin, wechat_channels, kuaishou, bilibili, wechat_official（或 抖音、视频号、快手、哔哩哔哩、公众号）"),
            ("角色 role", "flexible（新开账号）或 official（原有官方账号）"),
            ("代码 codes", "地州代码、县市区代码为 6 位行政区划代码（见 regions.csv）；学会不填。"),
            ("启用 active", "否 = 停用（保留历史）。整表导入时，表中没有的账号会被停用；加 --partial 则只新增和修改。"),
            ("检查 checks", "导入前按 haoqi registry check 的规则检查；有错误时不做任何修改。"),
            ("导入 import", "haoqi --registry 目录 registry import 文件.xlsx --dry-run（先看差异），再去掉 --dry-run。"),
        ],
    )
}

/// The blank registry workbook: the columns, one example row, drop-downs for kind, platform,
/// role and the yes/no columns.
pub fn registry_template() -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    wb.set_properties(&properties()?);
    registry_sheet(&mut wb, &[], true)?;
    registry_help(&mut wb)?;
    wb.save_to_buffer()
}

/// The registry as a workbook in the same layout, to edit and import back.
pub fn registry_export(registry: &Registry) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    wb.set_properties(&properties()?);
    registry_sheet(&mut wb, &export_rows(registry), false)?;
    registry_help(&mut wb)?;
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry_import;
    use crate::table;
    use crate::SourceFile;
    use std::path::Path;

    #[test]
    fn the_readings_template_reads_back_with_its_header_and_example() {
        let r = Registry::reference().unwrap();
        let day = NaiveDate::from_ymd_opt(2024, 3, 5).unwrap();
        let bytes = readings_template(&r, Some(Platform::WechatOfficial), day).unwrap();
        let g = table::read(Path::new("t.xlsx"), &bytes, None).unwrap();
        assert_eq!(g.sheet.as_deref(), Some(READINGS_SHEET));
        let header: Vec<String> = g.rows[READINGS_HEADER_ROW as usize]
            .cells
            .iter()
            .map(|c| c.text().into_owned())
            .collect();
        assert_eq!(header, READINGS_HEADER.map(String::from).to_vec());
        // The title is merged across the header's width.
        assert_eq!(g.rows[0].get(7).text(), "好奇科普矩阵账号关注情况统计表");
        let ex = &g.rows[READINGS_HEADER_ROW as usize + 1];
        assert_eq!(ex.get(0).text(), "示例");
        assert_eq!(
            ex.get(5),
            &Cell::DateTime(day.and_hms_opt(0, 0, 0).unwrap())
        );
        // The same template is the same bytes.
        assert_eq!(
            bytes,
            readings_template(&r, Some(Platform::WechatOfficial), day).unwrap()
        );
    }

    #[test]
    fn the_registry_export_imports_as_no_change() {
        let r = Registry::reference().unwrap();
        let bytes = registry_export(&r).unwrap();
        let src = SourceFile::from_bytes(Path::new("registry.xlsx"), &bytes, None).unwrap();
        let p = registry_import::plan(&src, &r, &haoqi_registry::TargetRules::default(), false)
            .unwrap();
        assert!(
            p.problems.is_empty(),
            "{:?}",
            &p.problems[..3.min(p.problems.len())]
        );
        assert!(p.diff.is_empty(), "{:?}", p.diff);
        let t = registry_template().unwrap();
        let src = SourceFile::from_bytes(Path::new("template.xlsx"), &t, None).unwrap();
        let p =
            registry_import::plan(&src, &r, &haoqi_registry::TargetRules::default(), true).unwrap();
        assert_eq!(p.rows_read, 0, "the example row is skipped");
        assert_eq!(p.skipped.get("example").map(Vec::len), Some(1));
    }

    #[test]
    fn sheets_write_with_merges() {
        let spec = SheetSpec {
            name: "S".into(),
            rows: vec![
                vec![Cell::Text("标题".into()), Cell::Empty, Cell::Empty],
                vec![
                    Cell::Text("a".into()),
                    Cell::Int(3),
                    Cell::DateTime(
                        NaiveDate::from_ymd_opt(2024, 3, 5)
                            .unwrap()
                            .and_hms_opt(0, 0, 0)
                            .unwrap(),
                    ),
                ],
            ],
            merges: vec![(0, 0, 0, 2)],
        };
        let bytes = write_sheets(&[spec]).unwrap();
        let g = table::read(Path::new("s.xlsx"), &bytes, None).unwrap();
        assert_eq!(g.rows[0].get(2).text(), "标题");
        assert_eq!(g.rows[1].get(1), &Cell::Float(3.0));
        assert!(matches!(g.rows[1].get(2), Cell::DateTime(_)));
    }
}
