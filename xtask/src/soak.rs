//! `cargo xtask soak --minutes N` and `cargo xtask chaos --rounds N`: release build, then
//! `openclaw-bench soak|chaos` (crates/bench/src/soak.rs) against it; `--write-docs` replaces
//! the matching section of `docs/reliability.md`. Soak flags: `--spawns-per-sec F` (default 0.5),
//! `--retention-minutes M` and `--journal-max-bytes N` (written to the gateway's `openclaw.json`
//! as `session.retention.*`, to see the retention policy act within the run).

use std::process::Command;

use anyhow::{bail, Result};

pub(crate) fn run(kind: &str, args: &[String]) -> Result<()> {
    let mut pass: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match (kind, a.as_str()) {
            (
                "soak",
                "--minutes" | "--spawns-per-sec" | "--retention-minutes" | "--journal-max-bytes",
            )
            | ("chaos", "--rounds") => {
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
                "unknown {kind} argument `{a}` (expected {} [--write-docs])",
                if kind == "soak" {
                    "--minutes N [--spawns-per-sec F] [--retention-minutes M] [--journal-max-bytes N]"
                } else {
                    "--rounds N"
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
