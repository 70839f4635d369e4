//! `cargo xtask fuzz`: coverage-guided fuzzing on the stable toolchain with afl.rs (AFL++).
//!
//! - `--target T [--seconds N]`: build target T instrumented (`cargo afl build --release` in
//!   `fuzz/`, its own target dir), fuzz it for N seconds (default 60) from the seed corpus in
//!   `fuzz/corpus/T`, print execs, execs/s, corpus size and crashes. Fails when AFL saved a crash.
//! - `--target T --execs N [--seconds S]`: fuzz T until about N executions (AFL++ `-E`), or S
//!   seconds if that comes first: the way to reach a figure such as 10M execs per target.
//! - `--smoke [--seconds N]`: every target for N seconds (default 20): the CI smoke.
//!
//! Needs `cargo-afl` with its AFL++ built (`cargo install cargo-afl && cargo afl config --build`;
//! `.ci/run` does both when missing). Findings stay in `fuzz/target/afl/T/default/crashes`: turn
//! each into a regression test in the owning crate and add the input to `fuzz/regressions/T/`.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context, Result};

/// The targets (binaries in `fuzz/src/bin`), in smoke order.
const TARGETS: &[&str] = &[
    "http_head",
    "ws_frames",
    "connect",
    "config",
    "jsonrpc",
    "journal",
];

pub(crate) fn fuzz(args: &[String]) -> Result<()> {
    let mut target = None;
    let mut seconds = None;
    let mut execs = None;
    let mut smoke = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--target" => target = Some(it.next().context("--target needs a name")?.clone()),
            "--seconds" => {
                let v = it.next().context("--seconds needs a number")?;
                seconds = Some(v.parse::<u64>().with_context(|| {
                    format!("--seconds {v}: expected a whole number of seconds")
                })?);
            }
            "--execs" => {
                let v = it.next().context("--execs needs a number")?;
                execs = Some(v.replace('_', "").parse::<u64>().with_context(|| {
                    format!("--execs {v}: expected a whole number of executions (e.g. 10000000)")
                })?);
            }
            "--smoke" => smoke = true,
            other => bail!(
                "unknown fuzz argument `{other}` (expected --target T, --seconds N, --execs N, --smoke; targets: {})",
                TARGETS.join(", ")
            ),
        }
    }
    let targets: Vec<&str> = match (&target, smoke) {
        (Some(t), false) => {
            if !TARGETS.contains(&t.as_str()) {
                bail!(
                    "unknown fuzz target `{t}` (targets: {})",
                    TARGETS.join(", ")
                );
            }
            vec![t.as_str()]
        }
        (None, true) => TARGETS.to_vec(),
        _ => bail!("give either --target T or --smoke"),
    };
    if smoke && execs.is_some() {
        bail!("--execs is for one --target (the smoke is time-boxed: use --seconds)");
    }
    // With --execs alone there is no time box: the exec count ends the run.
    let seconds = match (seconds, execs) {
        (Some(s), _) => Some(s),
        (None, Some(_)) => None,
        (None, None) => Some(if smoke { 20 } else { 60 }),
    };
    let limit = Limit { seconds, execs };
    check_cargo_afl()?;
    let fuzz_dir = crate::root().join("fuzz");
    let mut build = crate::cargo();
    build
        .current_dir(&fuzz_dir)
        .args(["afl", "build", "--release"]);
    for t in &targets {
        build.args(["--bin", t]);
    }
    crate::run_cmd(&mut build)?;
    // Seeds and past findings first: a known crash fails here, before any fuzzing.
    crate::run_cmd(crate::cargo().current_dir(&fuzz_dir).args([
        "afl",
        "test",
        "--release",
        "--test",
        "corpus",
    ]))?;
    let mut results = Vec::new();
    for t in &targets {
        results.push(run_target(&fuzz_dir, t, limit)?);
    }
    println!(
        "\nfuzz results ({} per target, afl.rs + AFL++ on stable):",
        limit.describe()
    );
    println!(
        "{:<10} {:>12} {:>10} {:>8} {:>8}",
        "target", "execs", "execs/s", "corpus", "crashes"
    );
    for r in &results {
        println!(
            "{:<10} {:>12} {:>10.0} {:>8} {:>8}",
            r.target, r.execs, r.execs_per_sec, r.corpus, r.crashes
        );
    }
    let crashed: Vec<&Stats> = results.iter().filter(|r| r.crashes > 0).collect();
    if !crashed.is_empty() {
        for r in &crashed {
            eprintln!(
                "xtask: {} crash(es) in `{}`: inputs in {}",
                r.crashes,
                r.target,
                r.crash_dir.display()
            );
        }
        bail!("fuzzing found crashes: make each a regression test in the owning crate");
    }
    Ok(())
}

fn check_cargo_afl() -> Result<()> {
    let ok = crate::cargo()
        .args(["afl", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        bail!("cargo-afl is missing: install it with `cargo install cargo-afl --locked && cargo afl config --build` (the stable-toolchain AFL++ driver)");
    }
    Ok(())
}

/// When a fuzzing run ends: after `seconds`, after about `execs` executions, whichever is first.
#[derive(Debug, Clone, Copy)]
struct Limit {
    seconds: Option<u64>,
    execs: Option<u64>,
}

impl Limit {
    fn describe(&self) -> String {
        match (self.seconds, self.execs) {
            (Some(s), Some(n)) => format!("{n} execs or {s} s"),
            (Some(s), None) => format!("{s} s"),
            (None, Some(n)) => format!("{n} execs"),
            (None, None) => "no limit".to_owned(),
        }
    }
}

#[derive(Debug)]
struct Stats {
    target: String,
    execs: u64,
    execs_per_sec: f64,
    corpus: u64,
    crashes: u64,
    crash_dir: PathBuf,
}

fn run_target(fuzz_dir: &Path, target: &str, limit: Limit) -> Result<Stats> {
    let input = fuzz_dir.join("corpus").join(target);
    let out = fuzz_dir.join("target/afl").join(target);
    // A fresh output dir per run: AFL refuses to overwrite a finished session otherwise.
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).with_context(|| format!("create {}", out.display()))?;
    let log_path = out.with_extension("log");
    let log = std::fs::File::create(&log_path)?;
    let binary = fuzz_dir.join("target/release").join(target);
    let mut cmd = crate::cargo();
    cmd.current_dir(fuzz_dir).args(["afl", "fuzz"]);
    if let Some(s) = limit.seconds {
        cmd.args(["-V", &s.to_string()]);
    }
    if let Some(n) = limit.execs {
        cmd.args(["-E", &n.to_string()]);
    }
    cmd.arg("-i")
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .arg("--")
        .arg(&binary)
        // No curses UI; shared CPUs (no pinning); don't require a core_pattern change or the
        // performance governor (this is a shared dev machine, not a fuzzing farm).
        .env("AFL_NO_UI", "1")
        .env("AFL_NO_AFFINITY", "1")
        .env("AFL_SKIP_CPUFREQ", "1")
        .env("AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES", "1")
        .env("AFL_FAST_CAL", "1")
        // Targets that write files (journal replay) write them in memory when /dev/shm exists.
        .env("TMPDIR", fuzz_tmpdir())
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log));
    eprintln!(
        "xtask: fuzzing `{target}` for {} (log: {})",
        limit.describe(),
        log_path.display()
    );
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{}`", crate::show(&cmd)))?;
    let stats_path = out.join("default/fuzzer_stats");
    let text = std::fs::read_to_string(&stats_path).with_context(|| {
        format!(
            "AFL wrote no stats ({status}); its log {}:\n{}",
            log_path.display(),
            tail(&log_path, 30)
        )
    })?;
    let field = |name: &str| -> Option<&str> {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == name).then(|| v.trim())
        })
    };
    let num = |name: &str| field(name).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let execs = num("execs_done");
    let run_time = num("run_time").max(1);
    Ok(Stats {
        target: target.to_owned(),
        execs,
        execs_per_sec: execs as f64 / run_time as f64,
        corpus: num("corpus_count"),
        crashes: num("saved_crashes").max(num("unique_crashes")),
        crash_dir: out.join("default/crashes"),
    })
}

/// A tmpfs for the targets' scratch files when there is one (disk I/O would bound execs/s).
fn fuzz_tmpdir() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
