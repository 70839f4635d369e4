//! `docs/config.md`, generated from the config schema and the reload rule table.
//!
//! Regenerate with `UPDATE_DOCS=1 cargo test -p openclaw-rs-reload docs`; without it the test fails
//! when the committed file is stale. [`config_markdown`] is also callable from `cargo xtask`.

use crate::classify::{describe, rule_for};
use openclaw_rs_config::schema::SCHEMA;

/// The full text of `docs/config.md`.
pub fn config_markdown() -> String {
    let mut s = String::new();
    s.push_str(
        "<!-- Generated from crates/config/src/schema.rs and crates/reload/src/classify.rs. -->\n",
    );
    s.push_str(
        "<!-- Do not edit: run `UPDATE_DOCS=1 cargo test -p openclaw-rs-reload docs`. -->\n\n",
    );
    s.push_str("# Configuration (`openclaw.json`)\n\n");
    s.push_str(
        "The file is `$OPENCLAW_STATE_DIR/openclaw.json` (or `OPENCLAW_CONFIG_PATH`), written in JSON5: \
comments and trailing commas are fine. A syntax error names the line and column. Unknown keys are \
warnings, never failures, and changing one never reloads or restarts anything.\n\n",
    );
    s.push_str(
        "The gateway watches the file. Each edit is diffed path by path and every path has exactly one \
rule (column *On change*):\n\n\
- **none**: nothing to do; the new value is read where it is used.\n\
- **hot**: applied in place by the named action; no connection or run is disturbed.\n\
- **restart**: the gateway announces a restart, keeps accepting and queueing work, drains in-flight \
runs up to `gateway.reload.drainTimeoutMs`, then re-executes itself with the listening socket \
inherited, so no client sees a refused connection. Several edits in a burst cause one restart; \
reverting the edit before the drain ends cancels it.\n\n\
An invalid edit is rejected: the last good config keeps running and the error is shown by \
`openclaw status`, `openclaw doctor` and the `config.changed` event.\n\n\
Auth-profile cooldowns are runtime state in `$STATE/state/cooldowns.json`, never in this file; \
`auth.cooldowns` holds only their settings.\n\n",
    );
    s.push_str("`*` stands for a name you choose (an agent id, a runtime name, a profile id, a provider).\n\n");
    s.push_str("| Path | Type | Default | On change | Description |\n|---|---|---|---|---|\n");
    for f in SCHEMA {
        let on_change = rule_for(f.path)
            .map(|r| describe(r.decision))
            .unwrap_or_else(|| "(no rule)".into());
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            f.path,
            f.ty.replace('|', "\\|"),
            f.default,
            on_change,
            f.doc.replace('|', "\\|")
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn docs_config_md_is_current() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/config.md");
        let want = config_markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&path, &want).unwrap();
            eprintln!("wrote {}", path.display());
            return;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "docs/config.md is stale; regenerate with `UPDATE_DOCS=1 cargo test -p openclaw-rs-reload docs`"
        );
    }
}
