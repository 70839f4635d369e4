//! Project automation: `cargo xtask <task>`.
//!
//! Tasks:
//! - `install-deps`: node 24, `openclaw@2026.9.6` and `@openai/codex@0.169.0` from npm into `.cache/npm`.
//! - `test`: install-deps, build every binary, run the whole test suite (interop included).
//! - `lint`: `cargo fmt --all --check`, clippy with `-D warnings`, `cargo doc` with
//!   `RUSTDOCFLAGS=-D warnings`, every embedder example run, `cargo package --no-verify` of the
//!   library crates.
//! - `package`: `cargo package` of the library crates, each verified by building it from its tarball.
//! - `examples`: build and run the embedder examples (also part of `lint`).
//! - `ci`: lint, then test.
//! - `fuzz`: afl.rs fuzz targets (`--target T --seconds N`, or `--smoke` for every target).
//! - `soak`, `chaos`: long-running load and kill -9 rounds against the release build.
//! - `bench`: ours versus the Node gateway, side by side; prints a table and writes `docs/benchmarks.md`.
#![allow(clippy::disallowed_methods)] // xtask runs cargo, npm and other tools directly (the spawn rule is for library code)

mod bench;
mod deps;
mod fuzz;
mod soak;
mod test;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context, Result};

const USAGE: &str = "\
usage: cargo xtask <task> [args]

tasks:
  install-deps   install node 24, openclaw@2026.9.6, @openai/codex@0.169.0 and playwright-core@1.65.2
                 into .cache/npm
  test [ARGS]    install-deps, cargo build --workspace --bins, then cargo test --workspace [ARGS]
  lint           cargo fmt --all --check; cargo clippy --workspace --all-targets -- -D warnings;
                 RUSTDOCFLAGS='-D warnings' cargo doc --workspace --no-deps; run the embedder examples;
                 cargo package --no-verify of the library crates
  examples       build and run the embedder examples (each must exit 0; part of lint)
  package        cargo package of the library crates, verified (a clean build of each; slow)
  ci             lint, then test, then fuzz --smoke
  fuzz --target T [--seconds N] | --smoke [--seconds N]
                 build the afl.rs target T (fuzz/src/bin) and fuzz it N s (default 60) from
                 fuzz/corpus/T; --smoke: every target N s (default 20); prints execs, execs/s,
                 corpus size and crashes, fails on a crash
  soak --minutes N [--write-docs]
                 release build; 200 health/s + one sessions.spawn every 2 s for N minutes; RSS
                 slope, fds, state-dir files and bytes, latency p50/p99 (docs/reliability.md)
  chaos --rounds N [--write-docs]
                 release build; N rounds of runs in flight + kill -9 + restart on one state dir;
                 acknowledged runs lost, re-runs (docs/reliability.md)
  bench [--quick] [--no-node] [--no-write] [--ui-only]
                 release build, then ours versus the Node gateway; writes docs/benchmarks.md
                 (--ui-only: only the Control UI rows in Chromium, printed, nothing written)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    let Some((task, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        bail!("no task given");
    };
    match task.as_str() {
        "install-deps" => deps::install().map(|_| ()),
        "test" => test::test(rest),
        "lint" => test::lint(),
        "examples" => test::examples(),
        "ci" => {
            test::lint()?;
            test::test(rest)?;
            fuzz::fuzz(&["--smoke".to_owned()])
        }
        "fuzz" => fuzz::fuzz(rest),
        "soak" => soak::run("soak", rest),
        "chaos" => soak::run("chaos", rest),
        "bench" => bench::bench(rest),
        "package" => test::package(),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => {
            eprint!("{USAGE}");
            bail!("unknown task `{other}`")
        }
    }
}

/// The workspace root (the parent of `xtask/`).
pub(crate) fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The `cargo` that runs us (so `cargo +toolchain xtask` stays on that toolchain).
pub(crate) fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root());
    cmd
}

/// Runs a command to completion, echoing it first; fails with the command line when it fails.
pub(crate) fn run_cmd(cmd: &mut Command) -> Result<()> {
    let shown = show(cmd);
    eprintln!("xtask: $ {shown}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

pub(crate) fn show(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}
