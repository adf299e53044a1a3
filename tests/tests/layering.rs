//! The structure rules, checked on every build (README, "For developers"):
//!
//! 1. Dependencies between the workspace's crates point one way: every crate has a layer and
//!    depends only on crates of a lower one (collectors never on pipeline, import and analytics
//!    not on each other, nothing on the binary). Read from `cargo metadata`, so an arrow added
//!    in any Cargo.toml is seen.
//! 2. Inside a crate, no two top-level modules import each other, directly or round a circle
//!    (`use crate::a` in `b` and `use crate::b` in `a`): a circle means the two are one module,
//!    or a third holds what both need.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Each crate's layer, lowest first. A crate may depend on crates of a lower layer only.
const LAYERS: &[(&str, u32)] = &[
    ("haoqi-platform", 0),
    ("haoqi-crawl", 1),
    ("haoqi-simulator", 1),
    ("haoqi-model", 2),
    ("haoqi-store", 3),
    ("haoqi-appdb", 3),
    ("haoqi-registry", 4),
    ("haoqi-import", 5),
    ("haoqi-analytics", 5),
    ("haoqi-web", 6),
    ("haoqi", 7),
    ("haoqi-tests", 8),
];

/// Crates that gather data from the platforms: they never depend on the pipeline's.
const COLLECTORS: &[&str] = &["haoqi-platform", "haoqi-crawl", "haoqi-simulator"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn layer(name: &str) -> Option<u32> {
    LAYERS.iter().find(|(n, _)| *n == name).map(|(_, l)| *l)
}

struct Package {
    name: String,
    src: PathBuf,
    /// (dependency, kind: "normal" | "dev" | "build")
    deps: Vec<(String, String)>,
}

fn workspace() -> Vec<Package> {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata json");
    let members: BTreeSet<&str> = meta["workspace_members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m.as_str())
        .collect();
    meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| p["id"].as_str().is_some_and(|id| members.contains(id)))
        .map(|p| {
            let manifest = PathBuf::from(p["manifest_path"].as_str().expect("manifest"));
            Package {
                name: p["name"].as_str().expect("name").to_string(),
                src: manifest.parent().expect("package dir").join("src"),
                deps: p["dependencies"]
                    .as_array()
                    .expect("dependencies")
                    .iter()
                    .filter(|d| d["path"].is_string())
                    .map(|d| {
                        let kind = d["kind"].as_str().unwrap_or("normal").to_string();
                        (d["name"].as_str().expect("dep name").to_string(), kind)
                    })
                    .collect(),
            }
        })
        .collect()
}

#[test]
fn dependencies_between_crates_point_one_way() {
    let packages = workspace();
    let mut wrong = Vec::new();
    for p in &packages {
        let Some(mine) = layer(&p.name) else {
            wrong.push(format!(
                "{} has no layer in tests/tests/layering.rs",
                p.name
            ));
            continue;
        };
        for (dep, kind) in &p.deps {
            let Some(theirs) = layer(dep) else {
                wrong.push(format!("{} depends on {dep}, which has no layer", p.name));
                continue;
            };
            // A test may use a crate of its own layer (the crawler's tests run against the
            // simulator); production code only ever reaches down.
            let ok = if kind == "dev" {
                theirs <= mine
            } else {
                theirs < mine
            };
            if !ok {
                wrong.push(format!(
                    "{} (layer {mine}) depends on {dep} (layer {theirs}) as a {kind} dependency",
                    p.name
                ));
            }
            if COLLECTORS.contains(&p.name.as_str()) && !COLLECTORS.contains(&dep.as_str()) {
                wrong.push(format!("{} is a collector and depends on {dep}", p.name));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(
        packages.len() >= 10,
        "the workspace has its crates: {}",
        packages.len()
    );
}

/// The crate-level module a source file belongs to (`rank/xlsx.rs` → `rank`), `None` for the
/// crate root.
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.trim_end_matches(".rs").to_string();
    (!matches!(name.as_str(), "lib" | "main")).then_some(name)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The crate's module graph: top-level module → the top-level modules it names as `crate::x`
/// (or `super::x` from a file directly under `src/`). Test modules are left out: a test may
/// reach anywhere in its crate.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let Some(from) = top_module(src, &f) else {
            continue;
        };
        let text = std::fs::read_to_string(&f).expect("read source");
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        let at_top = f.parent() == Some(src);
        let mut names = Vec::new();
        for (prefix, applies) in [("crate::", true), ("super::", at_top)] {
            if !applies {
                continue;
            }
            for (i, _) in code.match_indices(prefix) {
                let rest = &code[i + prefix.len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                names.push(name);
            }
        }
        for name in names {
            if !name.is_empty() && name != from && name.chars().all(|c| !c.is_uppercase()) {
                graph.entry(from.clone()).or_default().insert(name);
            }
        }
    }
    graph
}

fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        let here = path.last()?.clone();
        for next in graph.get(&here).into_iter().flatten() {
            if let Some(at) = path.iter().position(|p| p == next) {
                let mut circle = path[at..].to_vec();
                circle.push(next.clone());
                return Some(circle);
            }
            if done.contains(next) {
                continue;
            }
            path.push(next.clone());
            if let Some(c) = walk(graph, path, done) {
                return Some(c);
            }
            path.pop();
        }
        done.insert(here);
        None
    }
    let mut done = BTreeSet::new();
    for start in graph.keys() {
        if done.contains(start) {
            continue;
        }
        if let Some(c) = walk(graph, &mut vec![start.clone()], &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn no_module_imports_round_a_circle() {
    let mut circles = Vec::new();
    for p in workspace() {
        if let Some(c) = find_circle(&module_graph(&p.src)) {
            circles.push(format!("{}: {}", p.name, c.join(" → ")));
        }
    }
    assert!(circles.is_empty(), "{}", circles.join("\n"));
}

#[test]
fn the_circle_finder_finds_circles() {
    let g = |edges: &[(&str, &str)]| {
        let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            m.entry((*a).into()).or_default().insert((*b).into());
        }
        m
    };
    assert_eq!(
        find_circle(&g(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    assert_eq!(find_circle(&g(&[("a", "b"), ("b", "c"), ("a", "c")])), None);
}
