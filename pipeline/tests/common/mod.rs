//! What the binary's tests share: running `haoqi` in a scratch directory, and the simulator.
// Each test binary uses part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub(crate) fn haoqi(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_haoqi"))
        .current_dir(dir)
        .args(args)
        .env_remove("HAOQI_STORE")
        .env_remove("HAOQI_REGISTRY")
        .env_remove("HAOQI_CLICKHOUSE_PASSWORD")
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run haoqi")
}

pub(crate) fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub(crate) fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("mkdir");
    d
}

/// Runs `haoqi` in `dir` with the words of `line` (split on spaces: for arguments without
/// any), asserts that it succeeded, and returns its stdout.
pub(crate) fn ok(dir: &Path, line: &str) -> String {
    let args: Vec<&str> = line.split_whitespace().collect();
    let out = haoqi(dir, &args);
    assert!(out.status.success(), "haoqi {line}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `haoqi` in `dir` with the words of `line`, asserts that it failed, and returns what
/// it said (stdout and stderr).
pub(crate) fn fails(dir: &Path, line: &str) -> String {
    let args: Vec<&str> = line.split_whitespace().collect();
    let out = haoqi(dir, &args);
    assert!(
        !out.status.success(),
        "haoqi {line} should fail: {}",
        text(&out)
    );
    text(&out)
}

/// Starts `haoqi simulate` on a free port and returns it with its URL.
pub(crate) fn simulator(dir: &Path, faults: &str) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let child = Command::new(env!("CARGO_BIN_EXE_haoqi"))
        .current_dir(dir)
        .args([
            "simulate",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--limit",
            "1000",
            "--faults",
            faults,
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("simulator");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    (child, url)
}

/// The single number a `haoqi sql` query yields.
pub(crate) fn sql_number(dir: &Path, sql: &str) -> u64 {
    let out = haoqi(dir, &["sql", sql, "--format", "csv"]);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no number from {sql}: {}", text(&out)))
}
