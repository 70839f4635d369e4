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

/// Files of gateway, cli, client, auth and sessions allowed to build JSON by hand in non-test
/// code, each with its reason. Every other payload is a typed `openclaw_rs_protocol` value.
const HAND_BUILT_JSON: &[(&str, &str)] = &[
    (
        "crates/gateway/src/connect.rs",
        "`details` of connect refusals; pinned field by field against Node by the e2e refusal tables",
    ),
    (
        "crates/auth/src/policy.rs",
        "`details` of auth refusals; pinned field by field against Node by the e2e refusal tables",
    ),
    (
        "crates/auth/src/proof.rs",
        "`details` of device-signature refusals; pinned against Node by the e2e refusal tables",
    ),
    (
        "crates/gateway/src/wire.rs",
        "`details` of the LIMIT_EXCEEDED refusal (this gateway's own detail code)",
    ),
    (
        "crates/gateway/src/http.rs",
        "bodies of the HTTP probes (/health, /readyz, /startupz), not WebSocket frames",
    ),
    (
        "crates/gateway/src/runs/tools.rs",
        "dynamic tool results for the app-server runtime (Codex's protocol, not OpenClaw's wire)",
    ),
    (
        "crates/gateway/src/rpc.rs",
        "`MethodSpec::new`, the untyped escape hatch for embedders' and tests' methods",
    ),
    (
        "crates/sessions/src/manager/worker.rs",
        "`data` of `agent` events: stream data as the runtime reports it (an open object in OpenClaw's schema)",
    ),
    (
        "crates/cli/src/doctor.rs",
        "the CLI's own `doctor --json` report, not a gateway payload",
    ),
    (
        "crates/cli/src/devices.rs",
        "the device section of the CLI's own `doctor --json` report, not a gateway payload",
    ),
];

/// Lines of `text` before its `#[cfg(test)]` module that build JSON by hand.
fn hand_built_json(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .take_while(|(_, l)| !l.trim_start().starts_with("#[cfg(test)]"))
        .filter(|(_, l)| {
            let code = l.split("//").next().unwrap_or("");
            code.contains("json!(")
                || code.contains("Value::Object(")
                || code.contains("serde_json::Map")
                || code.contains("Map<String, Value>")
        })
        .map(|(i, l)| (i + 1, l.trim().to_owned()))
        .collect()
}

#[test]
fn payloads_are_typed_outside_protocol() {
    let mut bad = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for path in rust_files() {
        let name = rel(&path);
        let in_scope = ["gateway", "cli", "client", "auth", "sessions"]
            .iter()
            .any(|c| name.starts_with(&format!("crates/{c}/src/")));
        if !in_scope || name.ends_with("/tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let hits = hand_built_json(&text);
        if hits.is_empty() {
            continue;
        }
        if HAND_BUILT_JSON.iter().any(|(f, _)| *f == name) {
            seen.insert(name);
            continue;
        }
        for (line, code) in hits {
            bad.push(format!("{name}:{line}: {code}"));
        }
    }
    assert!(
        bad.is_empty(),
        "JSON built by hand outside openclaw-rs-protocol; use a typed payload from \
         openclaw_rs_protocol::methods (or list the file in HAND_BUILT_JSON with its reason):\n{}",
        bad.join("\n")
    );
    let stale: Vec<_> = HAND_BUILT_JSON
        .iter()
        .filter(|(f, _)| !seen.contains(*f))
        .map(|(f, _)| *f)
        .collect();
    assert!(
        stale.is_empty(),
        "HAND_BUILT_JSON lists files that no longer build JSON by hand; remove them: {stale:?}"
    );
}
