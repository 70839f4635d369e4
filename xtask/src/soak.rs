//! `cargo xtask soak --minutes N` and `cargo xtask chaos --rounds N`: release build, then
//! `openclaw-bench soak|chaos` (crates/bench/src/soak.rs) against it; `--write-docs` replaces
//! the matching section of `docs/reliability.md`.

use std::process::Command;

use anyhow::{bail, Result};

pub(crate) fn run(kind: &str, args: &[String]) -> Result<()> {
    let mut pass: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match (kind, a.as_str()) {
            ("soak", "--minutes") | ("chaos", "--rounds") => {
                let v = it
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("{a} needs a value"))?;
                pass.extend([a.clone(), v.clone()]);
            }
            (_, "--write-docs") => pass.extend([
                "--write-docs".to_owned(),
                crate::root()
                    .join("docs/reliability.md")
                    .to_string_lossy()
                    .into_owned(),
            ]),
            _ => bail!(
                "unknown {kind} argument `{a}` (expected {} N [--write-docs])",
                if kind == "soak" {
                    "--minutes"
                } else {
                    "--rounds"
                }
            ),
        }
    }
    let release = crate::bench::build_release()?;
    let mut cmd = Command::new(release.join("openclaw-bench"));
    // The embedded runtime the gateway spawns for runs.
    cmd.env(
        "OPENCLAW_APP_SERVER_BIN",
        release.join("openclaw-app-server"),
    );
    cmd.current_dir(crate::root())
        .arg(kind)
        .arg("--ours")
        .arg(release.join("gateway"))
        .args(&pass);
    crate::run_cmd(&mut cmd)
}
