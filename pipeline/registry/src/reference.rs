//! The reference registry: the whole matrix as the plan describes it (seed 000 §3), so that
//! every command runs at full size out of the box. Regions are the researched table
//! (`shared/data/xinjiang_regions.csv`, copied unchanged). The 1 + 14 + 96 associations are the
//! real places; societies, universities, enterprises and museums are a deterministic sample
//! (their real names are not in the sources) and say so in `sample` and `note`. Every unit gets
//! a standardised account on each of the four video platforms, named by the naming rule, with
//! sample platform ids in each platform's real id format.
//!
//! `haoqi registry reference --out DIR` writes the files; the ones in `pipeline/registry/` were
//! written by it, and a test keeps the two in step.

use std::collections::HashSet;

use haoqi_platform::Platform;
use sha2::{Digest, Sha256};

use super::{naming, Kind, Region, RegionLevel};

pub const SAMPLE_NOTE: &str = "样例数据：真实名称未知 sample: real name unknown";
pub const SAMPLE_ID_NOTE: &str = "平台ID为样例 sample platform id";

/// 130 topics for the sample societies' 好奇的X说 accounts; the first two are the plan's own.
const SOCIETY_TOPICS: [&str; 130] = [
    "地理",
    "红枣",
    "气象",
    "地质",
    "天文",
    "植物",
    "动物",
    "医学",
    "农学",
    "林学",
    "水利",
    "土壤",
    "园艺",
    "昆虫",
    "植保",
    "作物",
    "草原",
    "畜牧",
    "兽医",
    "蚕桑",
    "棉花",
    "葡萄",
    "核桃",
    "枸杞",
    "香梨",
    "甜瓜",
    "番茄",
    "薰衣草",
    "沙漠",
    "冰川",
    "湿地",
    "生态",
    "环境",
    "治沙",
    "化学",
    "物理",
    "数学",
    "力学",
    "电子",
    "计算机",
    "人工智能",
    "通信",
    "测绘",
    "遥感",
    "石油",
    "天然气",
    "煤炭",
    "矿业",
    "冶金",
    "电力",
    "新能源",
    "风电",
    "光伏",
    "储能",
    "机械",
    "汽车",
    "铁路",
    "公路",
    "航空",
    "建筑",
    "城市",
    "交通",
    "水产",
    "食品",
    "营养",
    "中医药",
    "民族医药",
    "药学",
    "护理",
    "防疫",
    "心理",
    "口腔",
    "眼健康",
    "儿童健康",
    "急救",
    "康复",
    "体育",
    "科技史",
    "考古",
    "文物",
    "博物",
    "民俗",
    "语言",
    "教育",
    "科普创作",
    "翻译",
    "图书",
    "档案",
    "统计",
    "经济",
    "管理",
    "金融",
    "法治",
    "标准",
    "计量",
    "质量",
    "检验",
    "消防",
    "安全",
    "地震",
    "防灾",
    "气候",
    "水文",
    "天山",
    "昆仑",
    "塔河",
    "丝路",
    "古生物",
    "恐龙",
    "化石",
    "玉石",
    "矿物",
    "岩石",
    "鸟类",
    "野生动物",
    "雪豹",
    "马",
    "骆驼",
    "蜜蜂",
    "菌菇",
    "花卉",
    "种子",
    "育种",
    "节水",
    "农机",
    "无人机",
    "机器人",
    "航天",
    "大数据",
    "新材料",
];

/// The generated units and accounts as CSV text (the header rows included).
pub struct ReferenceFiles {
    pub units_csv: String,
    pub accounts_csv: String,
}

struct Gen {
    unit_id: String,
    kind: Kind,
    name: String,
    prefecture: Option<u32>,
    county: Option<u32>,
    department: &'static str,
    sample: bool,
    /// The name after 好奇 (or the topic after 好奇的X说).
    account_stem: String,
}

/// Generates the reference units and accounts from the regions.
pub fn generate(regions: &[Region]) -> ReferenceFiles {
    let prefectures: Vec<&Region> = regions
        .iter()
        .filter(|r| r.level == RegionLevel::Prefecture)
        .collect();
    let mut used_stems: HashSet<String> = HashSet::new();
    let mut units = vec![Gen {
        unit_id: "XJ-R-650000".into(),
        kind: Kind::RegionAssoc,
        name: "新疆维吾尔自治区科学技术协会".into(),
        prefecture: None,
        county: None,
        department: "科普部",
        sample: false,
        account_stem: "新疆".into(),
    }];
    used_stems.insert("新疆".into());
    for p in &prefectures {
        let stem = naming::short_place(&p.name);
        used_stems.insert(stem.clone());
        units.push(Gen {
            unit_id: format!("XJ-P-{}", p.code),
            kind: Kind::PrefectureAssoc,
            name: format!("{}科学技术协会", p.name),
            prefecture: Some(p.code),
            county: None,
            department: "科普部",
            sample: false,
            account_stem: stem,
        });
    }
    for p in &prefectures {
        for c in regions
            .iter()
            .filter(|r| r.level == RegionLevel::County && r.parent_code == Some(p.code))
        {
            // 和田县 and 和田市 both shorten to 和田, which is the prefecture's: keep the full
            // name where the short one is taken.
            let short = naming::short_place(&c.name);
            let stem = if used_stems.contains(&short) {
                c.name.clone()
            } else {
                short
            };
            used_stems.insert(stem.clone());
            units.push(Gen {
                unit_id: format!("XJ-C-{}", c.code),
                kind: Kind::CountyAssoc,
                name: format!("{}科学技术协会", c.name),
                prefecture: Some(p.code),
                county: Some(c.code),
                department: "科普部",
                sample: false,
                account_stem: stem,
            });
        }
    }
    for (i, topic) in SOCIETY_TOPICS.iter().enumerate() {
        units.push(Gen {
            unit_id: format!("XJ-S-{:03}", i + 1),
            kind: Kind::Society,
            name: format!("自治区{topic}学会（样例）"),
            prefecture: None,
            county: None,
            department: "学会学术部",
            sample: true,
            account_stem: (*topic).to_string(),
        });
    }
    let located = [
        (Kind::University, "U", "高校", "高校科协", "组织人事部"),
        (Kind::Enterprise, "E", "企业", "企业科协", "组织人事部"),
        (Kind::Museum, "M", "场馆", "科普场馆", "科普部"),
    ];
    for (kind, letter, short, long, department) in located {
        let n = kind.planned_count();
        let places = spread(n, &prefectures);
        for (i, p) in places.iter().enumerate() {
            let number = format!("{:03}", i + 1);
            units.push(Gen {
                unit_id: format!("XJ-{letter}-{number}"),
                kind,
                name: format!("{}{long}{number}（样例）", naming::short_place(&p.name)),
                prefecture: Some(p.code),
                county: None,
                department,
                sample: true,
                account_stem: format!("{short}{number}"),
            });
        }
    }

    let mut u = csv::Writer::from_writer(Vec::new());
    let mut a = csv::Writer::from_writer(Vec::new());
    // Writing to a Vec cannot fail; the results are collected for form's sake.
    let mut res = u
        .write_record(super::UNIT_COLUMNS)
        .and(a.write_record(super::ACCOUNT_COLUMNS.iter().copied().chain(["note"])));
    let mut mid: u64 = 3_493_000_000;
    for g in &units {
        let opt = |c: Option<u32>| c.map_or(String::new(), |c| c.to_string());
        res = res.and(u.write_record([
            g.unit_id.as_str(),
            g.kind.as_str(),
            g.name.as_str(),
            &opt(g.prefecture),
            &opt(g.county),
            g.department,
            if g.sample { "true" } else { "false" },
            if g.sample { SAMPLE_NOTE } else { "" },
        ]));
        let display = match g.kind {
            Kind::Society => format!("好奇的X说{}", g.account_stem),
            _ => format!("好奇{}", g.account_stem),
        };
        for p in Platform::VIDEO {
            let account_id = format!("{}-{}", g.unit_id, p.short());
            mid += 1;
            res = res.and(a.write_record([
                account_id.as_str(),
                g.unit_id.as_str(),
                p.as_str(),
                &sample_platform_id(p, &account_id, mid),
                &display,
                "flexible",
                "true",
                "true",
                SAMPLE_ID_NOTE,
            ]));
        }
        // The associations' older WeChat official accounts stay the official channel (seed 000
        // §3.5); tracked, not standardised.
        if matches!(g.kind, Kind::RegionAssoc | Kind::PrefectureAssoc) {
            let account_id = format!("{}-{}", g.unit_id, Platform::WechatOfficial.short());
            let old_name = if g.kind == Kind::RegionAssoc {
                "新疆科协".to_string()
            } else {
                format!("{}科协", g.account_stem)
            };
            res = res.and(a.write_record([
                account_id.as_str(),
                g.unit_id.as_str(),
                Platform::WechatOfficial.as_str(),
                &sample_platform_id(Platform::WechatOfficial, &account_id, 0),
                &old_name,
                "official",
                "false",
                "true",
                SAMPLE_ID_NOTE,
            ]));
        }
    }
    debug_assert!(res.is_ok());
    let text = |w: csv::Writer<Vec<u8>>| {
        w.into_inner()
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default()
    };
    ReferenceFiles {
        units_csv: text(u),
        accounts_csv: text(a),
    }
}

/// A sample id in the platform's real format (see [`haoqi_platform::IdShape`]).
fn sample_platform_id(p: Platform, account_id: &str, mid: u64) -> String {
    p.id_shape()
        .sample(&hex::encode(Sha256::digest(account_id.as_bytes())), mid)
}

/// Spreads `n` units over the prefectures in proportion to population (largest remainder),
/// in prefecture order, so the sample looks like a province rather than a round-robin.
fn spread<'a>(n: usize, prefectures: &[&'a Region]) -> Vec<&'a Region> {
    let total: u64 = prefectures.iter().filter_map(|p| p.population_2020).sum();
    if total == 0 || prefectures.is_empty() {
        return Vec::new();
    }
    let n64 = n as u64;
    let mut shares: Vec<(usize, u64, u64)> = prefectures
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let x = p.population_2020.unwrap_or(0) * n64;
            (i, x / total, x % total)
        })
        .collect();
    let assigned: u64 = shares.iter().map(|s| s.1).sum();
    let mut by_remainder: Vec<usize> = (0..shares.len()).collect();
    by_remainder.sort_by(|a, b| shares[*b].2.cmp(&shares[*a].2).then(a.cmp(b)));
    for i in by_remainder.into_iter().take((n64 - assigned) as usize) {
        shares[i].1 += 1;
    }
    shares
        .iter()
        .flat_map(|(i, k, _)| std::iter::repeat_n(prefectures[*i], *k as usize))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Registry, TargetRules};

    #[test]
    fn the_committed_files_are_what_the_generator_writes() {
        let regions = Registry::reference_regions().expect("regions");
        let files = generate(&regions);
        let [_, (_, units), (_, accounts)] = Registry::reference_texts();
        assert!(
            files.units_csv == units && files.accounts_csv == accounts,
            "pipeline/registry is out of date: run `haoqi registry reference --out pipeline/registry`"
        );
    }

    #[test]
    fn the_reference_is_the_plans_matrix() {
        let r = Registry::reference().expect("reference");
        for kind in Kind::ALL {
            assert_eq!(
                r.units.iter().filter(|u| u.kind == kind).count(),
                kind.planned_count(),
                "{kind}"
            );
        }
        assert_eq!(r.units.len(), 694);
        for u in &r.units {
            for p in Platform::VIDEO {
                let n = r
                    .accounts_of(&u.unit_id)
                    .filter(|a| a.platform == p && a.standardised)
                    .count();
                assert_eq!(n, 1, "{} on {p}", u.unit_id);
            }
            assert_eq!(
                u.sample,
                !matches!(
                    u.kind,
                    Kind::RegionAssoc | Kind::PrefectureAssoc | Kind::CountyAssoc
                )
            );
        }
        let report = crate::check::check(&r, &TargetRules::default());
        assert_eq!(report.errors, 0, "{:#?}", report.findings);
        assert_eq!(report.per_rule.get("naming_rule"), Some(&0));
    }
}
