//! What the end-to-end benches share: their scratch directory, their settings from the
//! environment, running the wabill binary, and reading its `--stats` line.

use std::path::PathBuf;
use std::process::Command;

/// The read buffer wabill uses for every CSV file (64 KiB).
pub const READ_BUFFER: usize = 64 * 1024;

/// The bench's directory, removed when dropped (at the end of `main`, or on a panic) unless
/// `WABILL_BENCH_KEEP` is set.
pub struct Scratch(pub PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::env::var_os("WABILL_BENCH_KEEP").is_some() {
            eprintln!("keeping {} (WABILL_BENCH_KEEP)", self.0.display());
        } else if let Err(e) = std::fs::remove_dir_all(&self.0) {
            eprintln!("could not remove {}: {e}", self.0.display());
        }
    }
}

pub fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

pub fn wabill(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_wabill")).args(args).output().expect("wabill runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "wabill {args:?} failed: {stderr}");
    stderr
}

/// Seconds and peak MiB from a `--stats` line.
pub fn stats(stderr: &str) -> (f64, f64) {
    let line = stderr.lines().find(|l| l.starts_with("wabill: stats:")).expect("a stats line");
    let seconds = line.split_whitespace().nth(2).unwrap().parse().unwrap();
    let peak = line.split("peak memory ").nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
    (seconds, peak)
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}
