//! `docs/compat.md` against `openclaw_rs_protocol::METHODS`: every method the doc's tables list is
//! served, every OpenClaw method served (`openclaw: true`) is listed outside "Our extensions",
//! every extension (`openclaw: false`) is listed in "Our extensions", each row has one of the three
//! statuses, and a method listed in several client sections has the same status in each.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use openclaw_rs_protocol::METHODS;

const STATUSES: &[&str] = &["implemented", "empty here", "unavailable"];
const EXTENSIONS: &str = "Our extensions";

fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// One table row: its section, method and status.
#[derive(Debug)]
struct Row {
    section: String,
    method: String,
    status: String,
    line: usize,
}

/// The rows of every `| method | status | reason |` table, with the `## ` section they sit in.
fn rows(text: &str) -> Vec<Row> {
    let mut out = Vec::new();
    let mut section = String::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(h) = line.strip_prefix("## ") {
            section = h.trim().to_owned();
            continue;
        }
        let cells: Vec<&str> = line.trim().split('|').map(str::trim).collect();
        // `| a | b | c |` splits into ["", a, b, c, ""].
        if cells.len() < 5 || !cells[0].is_empty() {
            continue;
        }
        let (method, status) = (cells[1], cells[2]);
        if method == "method" || method.starts_with("---") {
            continue;
        }
        out.push(Row {
            section: section.clone(),
            method: method.trim_matches('`').to_owned(),
            status: status.to_owned(),
            line: i + 1,
        });
    }
    out
}

fn doc() -> String {
    let path = root().join("docs/compat.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

#[test]
fn compat_doc_parses() {
    let rows = rows(&doc());
    assert!(
        rows.len() > 50,
        "docs/compat.md should have its method tables; parsed {} rows",
        rows.len()
    );
    let bad: Vec<String> = rows
        .iter()
        .filter(|r| !STATUSES.contains(&r.status.as_str()))
        .map(|r| format!("line {}: `{}` has status `{}`", r.line, r.method, r.status))
        .collect();
    assert!(
        bad.is_empty(),
        "each row's status is one of {STATUSES:?}:\n  {}",
        bad.join("\n  ")
    );
    let mut seen: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    let mut conflicts = Vec::new();
    for r in &rows {
        if let Some((status, section)) = seen.get(r.method.as_str()) {
            if *status != r.status {
                conflicts.push(format!(
                    "`{}`: `{}` in {}, `{}` in {} (line {})",
                    r.method, status, section, r.status, r.section, r.line
                ));
            }
        } else {
            seen.insert(&r.method, (&r.status, &r.section));
        }
    }
    assert!(
        conflicts.is_empty(),
        "a method has one status:\n  {}",
        conflicts.join("\n  ")
    );
}

#[test]
fn compat_doc_matches_the_method_table() {
    let rows = rows(&doc());
    let listed: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r.section != EXTENSIONS)
        .map(|r| r.method.as_str())
        .collect();
    let extensions: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r.section == EXTENSIONS)
        .map(|r| r.method.as_str())
        .collect();
    let served: BTreeMap<&str, bool> = METHODS.iter().map(|d| (d.name, d.openclaw)).collect();
    let mut problems = Vec::new();
    for m in listed.iter().chain(extensions.iter()) {
        if !served.contains_key(m) {
            problems.push(format!(
                "`{m}` is in docs/compat.md but not in openclaw_rs_protocol::METHODS"
            ));
        }
    }
    for m in &extensions {
        if served.get(m) == Some(&true) {
            problems.push(format!(
                "`{m}` is an OpenClaw method (`openclaw: true`) but listed under \"{EXTENSIONS}\""
            ));
        }
    }
    for (name, openclaw) in &served {
        match (openclaw, listed.contains(name), extensions.contains(name)) {
            (true, false, _) => problems.push(format!(
                "OpenClaw method `{name}` is served but missing from docs/compat.md"
            )),
            (false, _, false) => problems.push(format!(
                "extension `{name}` is served but missing from \"{EXTENSIONS}\" in docs/compat.md"
            )),
            (false, true, _) => problems.push(format!(
                "extension `{name}` (`openclaw: false`) is listed as an OpenClaw client's method"
            )),
            _ => {}
        }
    }
    assert!(
        problems.is_empty(),
        "docs/compat.md and openclaw_rs_protocol::METHODS disagree ({} problems):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}
