//! The folders of `src/` are layers (DESIGN.md, "What are the pieces?"): each imports only from
//! the layers before it in [`LAYERS`], never from one after it. This test reads every
//! `crate::…` path in the library's sources and fails on one that points the wrong way.

use std::path::Path;

/// The layers, lowest first.
const LAYERS: [&str; 9] =
    ["domain", "util", "pricebook", "rules", "engine", "billing", "report", "reconcile", "io"];

fn layer(name: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == name)
}

/// The top-level modules named by `crate::NAME` in `text`, with their line numbers.
fn imports(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            found.push((n + 1, name));
        }
    }
    found
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn imports_point_only_to_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut wrong = Vec::new();
    let mut checked = 0;
    for name in LAYERS {
        let mut paths = Vec::new();
        files(&src.join(name), &mut paths);
        assert!(!paths.is_empty(), "src/{name} has no files");
        let own = layer(name).unwrap();
        for path in paths {
            let text = std::fs::read_to_string(&path).unwrap();
            for (line, target) in imports(&text) {
                checked += 1;
                match layer(&target) {
                    Some(l) if l <= own => {}
                    Some(_) => wrong.push(format!("{}:{line}: crate::{target}", path.display())),
                    // Anything else at the crate's root is a re-export of lib.rs, which the
                    // layers must not lean on.
                    None => wrong.push(format!("{}:{line}: crate::{target} is not a layer", path.display())),
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} imports found: is the test reading the sources?");
    assert!(wrong.is_empty(), "imports that point up a layer:\n{}", wrong.join("\n"));
}

#[test]
fn the_check_sees_an_import_up_a_layer() {
    let found = imports("use crate::engine::Engine; // and crate::domain::time::Stamp");
    assert_eq!(found, [(1, "engine".to_string()), (1, "domain".to_string())]);
    assert!(layer("engine") > layer("rules"));
}
