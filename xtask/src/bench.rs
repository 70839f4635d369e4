//! `cargo xtask bench`: builds the release binaries, then runs `openclaw-bench` (crates/bench), which
//! measures our gateway and the real Node gateway side by side and writes `docs/benchmarks.md`.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Result};

pub(crate) fn bench(args: &[String]) -> Result<()> {
    let mut quick = false;
    let mut with_node = true;
    let mut write = true;
    let mut ui_only = false;
    for arg in args {
        match arg.as_str() {
            "--quick" => quick = true,
            "--ui-only" => ui_only = true,
            "--no-node" => with_node = false,
            "--no-write" => write = false,
            other => {
                bail!(
                    "unknown bench argument `{other}` (expected --quick, --no-node, --no-write, --ui-only)"
                )
            }
        }
    }
    let deps = if with_node {
        Some(crate::deps::install()?)
    } else {
        None
    };
    let release = build_release()?;
    let mut cmd = Command::new(release.join("openclaw-bench"));
    cmd.current_dir(crate::root())
        .arg("--ours")
        .arg(release.join("gateway"))
        .arg("--app-server")
        .arg(release.join("openclaw-app-server"));
    if let Some(deps) = &deps {
        cmd.arg("--node")
            .arg(&deps.node)
            .arg("--openclaw")
            .arg(&deps.openclaw_mjs)
            .arg("--playwright")
            .arg(&deps.playwright);
        if let Some(pkg) = deps.openclaw_mjs.parent() {
            cmd.arg("--control-ui").arg(pkg.join("dist/control-ui"));
        }
    }
    if quick {
        cmd.arg("--quick");
    }
    if ui_only {
        // Only the Control UI rows, printed; docs/benchmarks.md stays the full run's.
        cmd.arg("--ui-only");
        write = false;
    }
    let mut shown = String::from("cargo xtask bench");
    for a in args.iter().filter(|a| a.as_str() != "--no-write") {
        shown.push(' ');
        shown.push_str(a);
    }
    cmd.arg("--command").arg(&shown);
    if write {
        cmd.arg("--out")
            .arg(crate::root().join("docs/benchmarks.md"));
    }
    crate::run_cmd(&mut cmd)
}

/// Build the release gateway, embedded runtime and `openclaw-bench`; returns the release dir.
pub(crate) fn build_release() -> Result<PathBuf> {
    crate::run_cmd(crate::cargo().args([
        "build",
        "--release",
        "-p",
        "openclaw-gateway-bin",
        "-p",
        "openclaw-app-server-bin",
        "-p",
        "openclaw-bench",
    ]))?;
    Ok(target_dir().join("release"))
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => crate::root().join("target"),
    }
}
