//! `cargo xtask test`, `cargo xtask lint`: the README's test command and the lint gate.
//!
//! `test` runs `cargo test` (not nextest): the interop tests share one real Node gateway per test binary,
//! which only works when a binary's tests run in one process. cargo prints one "test result" line per
//! binary; we add one closing summary line over all of them.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::Instant;

use anyhow::{bail, Context, Result};

pub(crate) fn lint() -> Result<()> {
    crate::run_cmd(crate::cargo().args(["fmt", "--all", "--check"]))
        .context("formatting differs: run `cargo fmt -p <crate>` on the crates you changed")?;
    crate::run_cmd(crate::cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The API docs must build without warnings (broken or private intra-doc links, bad HTML).
    crate::run_cmd(
        crate::cargo()
            .args(["doc", "--workspace", "--no-deps"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )
    .context("rustdoc warnings: fix the doc comments it names")?;
    examples()?;
    // The library crates package (no verify: that rebuilds every crate from its tarball, which
    // `cargo xtask package` does).
    crate::run_cmd(&mut package_cmd(false))?;
    eprintln!("xtask: lint ok (fmt + clippy + doc + examples + package)");
    Ok(())
}

/// The publishable library crates, in dependency order.
pub(crate) const LIBRARY_CRATES: &[&str] = &[
    "openclaw-rs-protocol",
    "openclaw-rs-state",
    "openclaw-rs-config",
    "openclaw-rs-auth",
    "openclaw-rs-app-server",
    "openclaw-rs-embedded-app-server",
    "openclaw-rs-reload",
    "openclaw-rs-cooldowns",
    "openclaw-rs-sessions",
    "openclaw-rs-gateway",
    "openclaw-rs-client",
    "openclaw-rs-cli",
];

/// `cargo package` of the library crates; `verify` builds each from its tarball (cargo resolves
/// the unpublished workspace dependencies through a temporary local registry).
fn package_cmd(verify: bool) -> std::process::Command {
    let mut cmd = crate::cargo();
    cmd.args(["package", "--quiet"]);
    if !verify {
        cmd.arg("--no-verify");
    }
    for krate in LIBRARY_CRATES {
        cmd.args(["-p", krate]);
    }
    cmd
}

/// `cargo xtask package`: package and verify every library crate (slow: a clean build of each).
pub(crate) fn package() -> Result<()> {
    crate::run_cmd(&mut package_cmd(true))?;
    eprintln!("xtask: package ok (every library crate builds from its packaged sources)");
    Ok(())
}

/// `(package, example)`: the embedder examples `lint` (and `cargo xtask examples`) runs; each
/// finishes in seconds and checks its own result.
pub(crate) const EXAMPLES: &[(&str, &str)] = &[
    ("openclaw-rs-gateway", "embed"),
    ("openclaw-rs-gateway", "extra_method"),
    ("openclaw-rs-gateway", "custom_executor"),
    ("openclaw-rs-app-server", "lease_pool"),
    ("openclaw-rs-sessions", "spawn_subagent"),
    ("openclaw-rs-auth", "verify_device"),
    ("openclaw-rs-reload", "classify_diff"),
];

/// Compile and run every example of [`EXAMPLES`]. `lease_pool` runs the embedded app-server
/// binary, so it is built first.
pub(crate) fn examples() -> Result<()> {
    crate::run_cmd(crate::cargo().args(["build", "--quiet", "-p", "openclaw-app-server-bin"]))?;
    for (package, example) in EXAMPLES {
        crate::run_cmd(crate::cargo().args([
            "run",
            "--quiet",
            "-p",
            package,
            "--example",
            example,
        ]))
        .with_context(|| format!("example `{example}` of {package} failed"))?;
    }
    Ok(())
}

pub(crate) fn test(extra: &[String]) -> Result<()> {
    let started = Instant::now();
    crate::deps::install()?;
    crate::run_cmd(crate::cargo().args(["build", "--workspace", "--bins"]))?;

    let mut cmd = crate::cargo();
    cmd.args(["test", "--workspace", "--no-fail-fast"])
        .args(extra);
    eprintln!("xtask: $ {}", crate::show(&cmd));
    // cargo writes the per-test lines and "test result" lines to stdout; read them as they come.
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .context("could not start cargo test")?;
    let mut totals = Totals::default();
    if let Some(stdout) = child.stdout.take() {
        let mut out = std::io::stdout().lock();
        for line in BufReader::new(stdout).lines() {
            let line = line.context("reading cargo test output")?;
            totals.observe(&line);
            // A closed stdout (e.g. `| head`) must not abort the run.
            let _ = writeln!(out, "{line}");
        }
    }
    let status = child.wait().context("waiting for cargo test")?;
    let secs = started.elapsed().as_secs_f64();
    let summary = format!(
        "xtask test summary: {} passed, {} failed, {} ignored, {} filtered out, in {} test binaries; {:.1} s total",
        totals.passed, totals.failed, totals.ignored, totals.filtered, totals.binaries, secs
    );
    println!("\n{summary}");
    if !status.success() || totals.failed > 0 {
        if !totals.failed_names.is_empty() {
            println!("failed tests:");
            for name in &totals.failed_names {
                println!("    {name}");
            }
        }
        bail!("the test suite failed ({status})");
    }
    Ok(())
}

#[derive(Default)]
struct Totals {
    passed: u64,
    failed: u64,
    ignored: u64,
    filtered: u64,
    binaries: u64,
    failed_names: Vec<String>,
}

impl Totals {
    fn observe(&mut self, line: &str) {
        if let Some(rest) = line.strip_prefix("test result: ") {
            // "ok. 3 passed; 0 failed; 1 ignored; 0 measured; 2 filtered out; finished in 0.01s"
            self.binaries += 1;
            for part in rest.split(';') {
                let words: Vec<&str> = part.split_whitespace().collect();
                let count = |i: usize| {
                    words
                        .get(i)
                        .and_then(|w| w.parse::<u64>().ok())
                        .unwrap_or(0)
                };
                match words.as_slice() {
                    [.., _, "passed"] => self.passed += count(words.len() - 2),
                    [.., _, "failed"] => self.failed += count(words.len() - 2),
                    [.., _, "ignored"] => self.ignored += count(words.len() - 2),
                    [_, "filtered", "out"] => self.filtered += count(0),
                    _ => {}
                }
            }
        } else if let Some(name) = line
            .strip_prefix("test ")
            .and_then(|l| l.strip_suffix(" ... FAILED"))
        {
            self.failed_names.push(name.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Totals;

    #[test]
    fn sums_result_lines_over_binaries() {
        let mut t = Totals::default();
        t.observe("test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 2 filtered out; finished in 0.01s");
        t.observe("test a::b ... FAILED");
        t.observe("test result: FAILED. 4 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.00s");
        assert_eq!(
            (t.passed, t.failed, t.ignored, t.filtered, t.binaries),
            (7, 1, 1, 2, 2)
        );
        assert_eq!(t.failed_names, vec!["a::b".to_string()]);
    }
}
