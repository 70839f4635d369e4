//! `cargo xtask install-deps`: node 24 and the real OpenClaw and Codex CLIs from npm, into `.cache/npm`.
//!
//! The commands are the ones that worked on this machine (reference §1): `npm i node@24.21.0` in one folder
//! yields a real node 24 binary at `node_modules/node/bin/node` (the system node is v20; openclaw needs
//! node 24.16 or newer); then, with that node first on `PATH`, `npm i openclaw@2026.9.6 @openai/codex@0.169.0` in a
//! second folder; then `npm i playwright-core@1.65.2` in a third folder, `.cache/npm/playwright` (the
//! Control UI browser tests drive Debian's `/usr/bin/chromium` with it through `executablePath`: browsers
//! cannot be downloaded here; 1.65.2 drives Chromium 156, checked on this machine).
//! Idempotent: each step is skipped when the installed version already matches.
//! The layout is shared with `crates/test-support/src/node.rs`; keep the two in step.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

pub(crate) const NODE_VERSION: &str = "24.21.0";
pub(crate) const OPENCLAW_VERSION: &str = "2026.9.6";
pub(crate) const CODEX_VERSION: &str = "0.169.0";
/// Drives Debian's Chromium 156 (`executablePath`); OpenClaw's own dependency (1.63.0) is older.
pub(crate) const PLAYWRIGHT_VERSION: &str = "1.65.2";

/// Where everything lives once installed.
#[derive(Debug, Clone)]
pub(crate) struct NodeDeps {
    pub(crate) node: PathBuf,
    pub(crate) openclaw_mjs: PathBuf,
    pub(crate) codex: PathBuf,
    /// The `playwright-core` package folder (its `index.mjs` is what scripts import).
    pub(crate) playwright: PathBuf,
}

impl NodeDeps {
    pub(crate) fn locate() -> NodeDeps {
        let dir = npm_dir();
        NodeDeps {
            node: dir.join("node24/node_modules/node/bin/node"),
            openclaw_mjs: dir.join("openclaw/node_modules/openclaw/openclaw.mjs"),
            codex: dir.join("openclaw/node_modules/@openai/codex/bin/codex.js"),
            playwright: dir.join("playwright/node_modules/playwright-core"),
        }
    }

    /// `PATH` with our node 24 first.
    pub(crate) fn path_env(&self) -> std::ffi::OsString {
        let mut dirs: Vec<PathBuf> = Vec::new();
        if let Some(bin) = self.node.parent() {
            dirs.push(bin.to_path_buf());
        }
        dirs.push(npm_dir().join("openclaw/node_modules/.bin"));
        if let Some(path) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&path));
        }
        std::env::join_paths(dirs).unwrap_or_default()
    }
}

/// `.cache/npm` under the workspace root, unless `OPENCLAW_NPM_DIR` says otherwise.
pub(crate) fn npm_dir() -> PathBuf {
    match std::env::var_os("OPENCLAW_NPM_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => crate::root().join(".cache/npm"),
    }
}

/// Installs what is missing and returns the locations. Prints what it did and where.
pub(crate) fn install() -> Result<NodeDeps> {
    let deps = NodeDeps::locate();
    let dir = npm_dir();

    let node_dir = dir.join("node24");
    match node_version(&deps.node) {
        Some(v) if v == NODE_VERSION => {
            eprintln!(
                "xtask: node {v} already installed at {}",
                deps.node.display()
            );
        }
        found => {
            eprintln!(
                "xtask: installing node {NODE_VERSION} into {} (found: {})",
                node_dir.display(),
                found.as_deref().unwrap_or("none")
            );
            npm_install(&node_dir, &[&format!("node@{NODE_VERSION}")], None)?;
            match node_version(&deps.node) {
                Some(v) if v == NODE_VERSION => {}
                other => bail!(
                    "after `npm i node@{NODE_VERSION}`, {} reports {:?}; expected {NODE_VERSION}. \
                     The package's preinstall script downloads the real binary: check that npm may run install scripts",
                    deps.node.display(),
                    other
                ),
            }
            eprintln!(
                "xtask: node {NODE_VERSION} installed at {}",
                deps.node.display()
            );
        }
    }

    let pkg_dir = dir.join("openclaw");
    let openclaw = package_version(&pkg_dir.join("node_modules/openclaw/package.json"));
    let codex = package_version(&pkg_dir.join("node_modules/@openai/codex/package.json"));
    if openclaw.as_deref() == Some(OPENCLAW_VERSION) && codex.as_deref() == Some(CODEX_VERSION) {
        eprintln!(
            "xtask: openclaw {OPENCLAW_VERSION} and @openai/codex {CODEX_VERSION} already installed in {}",
            pkg_dir.display()
        );
    } else {
        eprintln!(
            "xtask: installing openclaw@{OPENCLAW_VERSION} and @openai/codex@{CODEX_VERSION} into {} (found: openclaw {}, codex {})",
            pkg_dir.display(),
            openclaw.as_deref().unwrap_or("none"),
            codex.as_deref().unwrap_or("none"),
        );
        npm_install(
            &pkg_dir,
            &[
                &format!("openclaw@{OPENCLAW_VERSION}"),
                &format!("@openai/codex@{CODEX_VERSION}"),
            ],
            Some(&deps),
        )?;
        for (path, what) in [(&deps.openclaw_mjs, "openclaw"), (&deps.codex, "codex")] {
            if !path.is_file() {
                bail!(
                    "npm finished but {} is missing; the {what} package layout changed?",
                    path.display()
                );
            }
        }
        eprintln!(
            "xtask: installed openclaw and codex in {}",
            pkg_dir.display()
        );
    }
    let pw_dir = dir.join("playwright");
    let playwright = package_version(&deps.playwright.join("package.json"));
    if playwright.as_deref() == Some(PLAYWRIGHT_VERSION) {
        eprintln!(
            "xtask: playwright-core {PLAYWRIGHT_VERSION} already installed in {}",
            pw_dir.display()
        );
    } else {
        eprintln!(
            "xtask: installing playwright-core@{PLAYWRIGHT_VERSION} into {} (found: {})",
            pw_dir.display(),
            playwright.as_deref().unwrap_or("none")
        );
        npm_install(
            &pw_dir,
            &[&format!("playwright-core@{PLAYWRIGHT_VERSION}")],
            Some(&deps),
        )?;
        if !deps.playwright.join("index.mjs").is_file() {
            bail!(
                "npm finished but {}/index.mjs is missing; the playwright-core layout changed?",
                deps.playwright.display()
            );
        }
    }
    eprintln!(
        "xtask: node: {}\nxtask: openclaw: {} {}\nxtask: codex: {}\nxtask: playwright-core: {}",
        deps.node.display(),
        deps.node.display(),
        deps.openclaw_mjs.display(),
        deps.codex.display(),
        deps.playwright.display()
    );
    Ok(deps)
}

fn npm_install(dir: &Path, packages: &[&str], with_node: Option<&NodeDeps>) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if !dir.join("package.json").is_file() {
        // A private package.json keeps npm from walking up into another project.
        std::fs::write(
            dir.join("package.json"),
            "{\n  \"name\": \"openclaw-rs-npm-cache\",\n  \"private\": true\n}\n",
        )
        .with_context(|| format!("writing {}/package.json", dir.display()))?;
    }
    let mut cmd = Command::new("npm");
    cmd.current_dir(dir)
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
        .args(packages)
        .env("npm_config_update_notifier", "false");
    if let Some(deps) = with_node {
        cmd.env("PATH", deps.path_env());
    }
    crate::run_cmd(&mut cmd)
        .context("npm install failed (is `npm` on PATH and the registry reachable?)")
}

fn node_version(node: &Path) -> Option<String> {
    if !node.is_file() {
        return None;
    }
    let out = Command::new(node).arg("--version").output().ok()?;
    if !out.status.success() {
        return None;
    }
    let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Some(v.trim_start_matches('v').to_string())
}

fn package_version(package_json: &Path) -> Option<String> {
    let text = std::fs::read_to_string(package_json).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value.get("version")?.as_str().map(str::to_string)
}
