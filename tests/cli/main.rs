//! Golden tests of the command line on the fixtures. Expected outputs live in
//! `fixtures/golden/`; run with `WABILL_BLESS=1` to rewrite them on purpose (then review the diff).

#[path = "../common/mod.rs"]
mod common;

mod bad_input;
mod price;
mod reconcile;
mod tariffs;
mod webhooks;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

pub(crate) fn wabill(args: &[&str]) -> Run {
    wabill_stdin(args, None)
}

pub(crate) fn wabill_stdin(args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wabill"))
        .args(args)
        .current_dir(root())
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wabill runs");
    if let Some(input) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Compares `actual` with the golden file `name`, or rewrites it under `WABILL_BLESS=1`.
pub(crate) fn golden(name: &str, actual: &str) {
    let path = root().join("fixtures/golden").join(name);
    if std::env::var_os("WABILL_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("missing golden file {}", path.display()));
    assert!(
        expected == actual,
        "{} differs from the output:\n{actual}\n(WABILL_BLESS=1 rewrites it)",
        path.display()
    );
}

pub(crate) const EXAMPLE: [&str; 4] =
    ["price", "fixtures/example/log.csv", "--accounts", "fixtures/example/accounts.csv"];
