//! The ranking as rows: for the terminal, CSV and JSON. Numbers are written with fixed decimals
//! so the same period on the same data gives the same bytes.

use super::{Components, Ranking};
use haoqi_model::table::Table;

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "n/a".into())
}

fn fixed(v: Option<f64>, places: usize) -> String {
    v.map(|x| format!("{x:.places$}"))
        .unwrap_or_else(|| "n/a".into())
}

fn comps(c: &Components) -> Vec<String> {
    [
        c.followers,
        c.growth,
        c.completion,
        c.views,
        c.likes,
        c.posts,
    ]
    .iter()
    .map(|v| fixed(*v, 4))
    .collect()
}

/// Every account considered: the ranked ones by group and rank, then the ineligible with their
/// reasons. `top` limits the ranked rows per group.
pub fn accounts(r: &Ranking, top: Option<usize>) -> Table {
    let mut t = Table::new(&[
        "group",
        "rank",
        "account_id",
        "display_name",
        "unit",
        "kind",
        "prefecture",
        "platform",
        "followers_end",
        "followers_gained",
        "views_gained",
        "likes_gained",
        "posts_gained",
        "target",
        "completion",
        "coverage",
        "s_followers",
        "s_growth",
        "s_completion",
        "s_views",
        "s_likes",
        "s_posts",
        "score",
        "eligible",
        "reasons",
    ]);
    for g in &r.groups {
        for a in r
            .accounts
            .iter()
            .filter(|a| &a.group == g)
            .take(top.unwrap_or(usize::MAX))
        {
            let i = &a.input;
            let mut row = vec![
                a.group.clone(),
                a.rank.to_string(),
                i.account_id.clone(),
                i.display_name.clone(),
                i.unit_name.clone(),
                i.kind.clone(),
                i.prefecture_name.clone().unwrap_or_default(),
                i.platform.clone(),
                opt(i.followers_end),
                opt(i.followers_gained),
                opt(i.views_gained),
                opt(i.likes_gained),
                opt(i.posts_gained),
                opt(i.target),
                fixed(i.completion, 4),
                format!("{:.4}", i.coverage),
            ];
            row.extend(comps(&a.components));
            row.push(format!("{:.2}", a.score));
            row.push("true".into());
            row.push(String::new());
            t.push(row);
        }
    }
    for x in &r.ineligible {
        let i = &x.input;
        let mut row = vec![
            x.group.clone(),
            String::new(),
            i.account_id.clone(),
            i.display_name.clone(),
            i.unit_name.clone(),
            i.kind.clone(),
            i.prefecture_name.clone().unwrap_or_default(),
            i.platform.clone(),
            opt(i.followers_end),
            opt(i.followers_gained),
            opt(i.views_gained),
            opt(i.likes_gained),
            opt(i.posts_gained),
            opt(i.target),
            fixed(i.completion, 4),
            format!("{:.4}", i.coverage),
        ];
        row.extend(std::iter::repeat_n(String::new(), 7));
        row.push("false".into());
        row.push(x.reasons.join("; "));
        t.push(row);
    }
    t
}

/// A short table for the terminal.
pub fn brief(r: &Ranking, top: Option<usize>) -> Table {
    let mut t = Table::new(&[
        "group",
        "rank",
        "account",
        "unit",
        "platform",
        "followers",
        "growth",
        "score",
    ]);
    for g in &r.groups {
        for a in r
            .accounts
            .iter()
            .filter(|a| &a.group == g)
            .take(top.unwrap_or(20))
        {
            t.push(vec![
                a.group.clone(),
                a.rank.to_string(),
                a.input.display_name.clone(),
                a.input.unit_name.clone(),
                a.input.platform.clone(),
                opt(a.input.followers_end),
                opt(a.input.followers_gained),
                format!("{:.2}", a.score),
            ]);
        }
    }
    t
}
