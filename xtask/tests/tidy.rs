//! Repository hygiene, enforced by plain `cargo test`: every `.rs` file starts with a `//!` doc comment,
//! no line ends in whitespace, and no test is hidden behind `should_panic` or `ignore` attributes
//! (a skipped test prints why at run time instead).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Every `.rs` file of the workspace, skipping build output, caches and VCS metadata.
fn rust_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if name.starts_with('.') || name == "target" || name == "node_modules" {
                    continue;
                }
                stack.push(path);
            } else if kind.is_file() && name.ends_with(".rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn rel(path: &Path) -> String {
    let root = root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn tidy_finds_the_workspace_sources() {
    let files = rust_files();
    let names: Vec<String> = files.iter().map(|p| rel(p)).collect();
    assert!(
        names.iter().any(|n| n == "xtask/tests/tidy.rs"),
        "the walk must see this file; saw {} files",
        names.len()
    );
    assert!(
        names.iter().any(|n| n.starts_with("crates/")),
        "the walk must see crates/"
    );
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let bad: Vec<String> = rust_files()
        .into_iter()
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            !text.trim_start_matches('\u{feff}').starts_with("//!")
        })
        .map(|p| rel(&p))
        .collect();
    assert!(
        bad.is_empty(),
        "these files do not start with a `//!` module doc (add one line saying what the file is for):\n  {}",
        bad.join("\n  ")
    );
}

#[test]
fn no_trailing_whitespace() {
    let mut bad = Vec::new();
    for path in rust_files() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (i, line) in text.lines().enumerate() {
            if line.ends_with(' ') || line.ends_with('\t') {
                bad.push(format!("{}:{}", rel(&path), i + 1));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "trailing whitespace at (run rustfmt on your files):\n  {}",
        bad.join("\n  ")
    );
}

#[test]
fn no_should_panic_or_ignored_tests() {
    // Built from pieces so this file does not match itself.
    let forbidden = [
        concat!("#[", "should_panic"),
        concat!("#[", "ignore]"),
        concat!("#[", "ignore ="),
        concat!("#[", "ignore("),
    ];
    let mut bad = Vec::new();
    for path in rust_files() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (i, line) in text.lines().enumerate() {
            if forbidden.iter().any(|f| line.contains(f)) {
                bad.push(format!("{}:{}: {}", rel(&path), i + 1, line.trim()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "tests must not be hidden or expect a panic; assert on the returned error instead, and skip at run time \
         with an eprintln! saying why:\n  {}",
        bad.join("\n  ")
    );
}
