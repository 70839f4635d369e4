//! OpenClaw's Control UI (the browser dashboard) on the gateway port: where the build comes
//! from ([`ControlUi::resolve`], once at start) and how it is served (`serve`).
//!
//! The build is found, in order: `gateway.controlUi.root`; else the `dist/control-ui` of an
//! installed `openclaw` npm package, found from the `openclaw` executable on `PATH` (symlinks
//! resolved), from the npm prefix (`npm_config_prefix`), or next to the `node` on `PATH`; else a
//! small built-in page says the UI is not installed and how to install it. Resolving costs a
//! few `stat` calls and one read of `index.html` (no subprocess, no walk of the build).

mod serve;

pub(crate) use serve::{respond, wants_control_ui};

use openclaw_rs_config::ControlUiConfig;
use openclaw_rs_protocol::methods::gateway::ControlUiStatus;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The npm package that ships the Control UI build this gateway is a drop-in for.
pub const OPENCLAW_PACKAGE: &str = "openclaw@2026.9.6";

/// Where a served build came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UiSource {
    /// `gateway.controlUi.root`.
    Configured,
    /// An installed `openclaw` npm package's `dist/control-ui`.
    Installed,
    /// No build: the built-in "not installed" page.
    BuiltIn,
}

impl UiSource {
    /// The spelling in `status.controlUi.source`.
    pub fn as_str(self) -> &'static str {
        match self {
            UiSource::Configured => "configured",
            UiSource::Installed => "installed",
            UiSource::BuiltIn => "builtIn",
        }
    }
}

/// The process environment the discovery reads (a value, so tests can pass their own).
#[derive(Debug, Clone, Default)]
pub struct DiscoveryEnv {
    /// `PATH`.
    pub path: Option<OsString>,
    /// `npm_config_prefix` (or `NPM_CONFIG_PREFIX`): the global npm prefix.
    pub npm_prefix: Option<OsString>,
}

impl DiscoveryEnv {
    /// This process's `PATH` and npm prefix.
    pub fn from_process() -> DiscoveryEnv {
        DiscoveryEnv {
            path: std::env::var_os("PATH"),
            npm_prefix: std::env::var_os("npm_config_prefix")
                .or_else(|| std::env::var_os("NPM_CONFIG_PREFIX")),
        }
    }
}

/// The Control UI this gateway serves, resolved once at start.
#[derive(Debug)]
pub struct ControlUi {
    /// Where the build came from.
    pub source: UiSource,
    /// The build directory, canonical (no symlinks), when there is one.
    pub root: Option<PathBuf>,
    /// `gateway.controlUi.basePath`, normalized: `""` or `/x` (no trailing slash).
    pub base_path: String,
    /// `data-openclaw-control-ui-build-id` of the build's `index.html`.
    pub build_id: Option<String>,
    /// How the build was found, or why none is served.
    pub detail: String,
    /// Bounds the file bodies being streamed at once.
    pub(crate) file_permits: tokio::sync::Semaphore,
}

/// File bodies streamed at once; more requests wait for a permit (a browser opens about six
/// connections per origin, so this never slows one page load).
const MAX_CONCURRENT_FILES: usize = 32;

impl ControlUi {
    /// Resolve the build from the config and the environment, without a subprocess or a walk.
    pub fn resolve(cfg: &ControlUiConfig, env: &DiscoveryEnv) -> ControlUi {
        let base_path = normalize_base_path(cfg.base_path.as_deref());
        let (source, root, detail) = match &cfg.root {
            Some(root) => match build_dir(root) {
                Some(dir) => (UiSource::Configured, Some(dir), "gateway.controlUi.root".into()),
                None => (
                    UiSource::BuiltIn,
                    None,
                    format!(
                        "gateway.controlUi.root {} holds no Control UI build (no index.html)",
                        root.display()
                    ),
                ),
            },
            None => match discover(env) {
                Some((dir, via)) => (UiSource::Installed, Some(dir), via),
                None => (
                    UiSource::BuiltIn,
                    None,
                    "no openclaw npm package with a Control UI build found (looked at `openclaw` on PATH, the npm prefix and `node`'s global root)".into(),
                ),
            },
        };
        let build_id = root.as_deref().and_then(read_build_id);
        ControlUi {
            source,
            root,
            base_path,
            build_id,
            detail,
            file_permits: tokio::sync::Semaphore::new(MAX_CONCURRENT_FILES),
        }
    }

    /// `status.controlUi`.
    pub fn status(&self, enabled: bool) -> ControlUiStatus {
        ControlUiStatus {
            enabled,
            base_path: self.base_path.clone(),
            source: self.source.as_str().into(),
            root: self.root.as_ref().map(|r| r.display().to_string()),
            build_id: self.build_id.clone(),
            detail: self.detail.clone(),
        }
    }

    /// `hello-ok.server.controlUiBuildSource`: `configured` whenever a build is served. The
    /// build never ships with this server (it is the operator's `openclaw` package or a
    /// configured directory), so the UI must not compare its version with the server's.
    pub fn hello_build_source(&self) -> Option<String> {
        (self.source != UiSource::BuiltIn).then(|| "configured".to_owned())
    }
}

/// `""` for none or `/`, else `/x/y` (leading slash, no trailing slash).
pub fn normalize_base_path(raw: Option<&str>) -> String {
    let trimmed = raw.unwrap_or("").trim().trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("/{trimmed}")
    }
}

/// `dir`, canonical, when it holds an `index.html` file.
fn build_dir(dir: &Path) -> Option<PathBuf> {
    let dir = dir.canonicalize().ok()?;
    dir.join("index.html").is_file().then_some(dir)
}

/// The package directory's `dist/control-ui`, when it is a build.
fn package_build(package: &Path) -> Option<PathBuf> {
    build_dir(&package.join("dist").join("control-ui"))
}

/// Find an installed `openclaw` npm package's build. Our own Rust CLI is also called
/// `openclaw`: a candidate counts only when a `dist/control-ui/index.html` is really there.
fn discover(env: &DiscoveryEnv) -> Option<(PathBuf, String)> {
    let path_dirs: Vec<PathBuf> = env
        .path
        .as_ref()
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default();
    // 1. `openclaw` on PATH: `<prefix>/bin/openclaw -> ../lib/node_modules/openclaw/openclaw.mjs`.
    for dir in &path_dirs {
        let exe = dir.join("openclaw");
        if !exe.is_file() {
            continue;
        }
        if let Some(package) = exe.canonicalize().ok().as_deref().and_then(Path::parent) {
            if let Some(b) = package_build(package) {
                return Some((b, format!("`openclaw` on PATH ({})", exe.display())));
            }
        }
        // A wrapper script instead of a symlink: the npm layout next to it.
        if let Some(b) = global_package_build(&dir.join("..")) {
            return Some((b, format!("`openclaw` on PATH ({})", exe.display())));
        }
    }
    // 2. The global npm root, computed (`npm root -g` is a slow subprocess).
    if let Some(prefix) = &env.npm_prefix {
        if let Some(b) = global_package_build(Path::new(prefix)) {
            return Some((b, format!("npm prefix {}", Path::new(prefix).display())));
        }
    }
    // 3. Next to the `node` on PATH: `<prefix>/bin/node`, `<prefix>/lib/node_modules`.
    for dir in &path_dirs {
        let node = dir.join("node");
        if !node.is_file() {
            continue;
        }
        let mut prefixes = vec![dir.join("..")];
        if let Some(real_bin) = node.canonicalize().ok().as_deref().and_then(Path::parent) {
            prefixes.push(real_bin.join(".."));
        }
        for prefix in prefixes {
            if let Some(b) = global_package_build(&prefix) {
                return Some((b, format!("global npm root of {}", node.display())));
            }
        }
    }
    None
}

/// `<prefix>/lib/node_modules/openclaw/dist/control-ui`, when it is a build.
fn global_package_build(prefix: &Path) -> Option<PathBuf> {
    package_build(&prefix.join("lib").join("node_modules").join("openclaw"))
}

/// Largest `index.html` read (the real one is about 18 KB).
pub(crate) const MAX_INDEX_BYTES: u64 = 1024 * 1024;

/// `data-openclaw-control-ui-build-id` of `<root>/index.html`.
fn read_build_id(root: &Path) -> Option<String> {
    let path = root.join("index.html");
    if std::fs::metadata(&path).ok()?.len() > MAX_INDEX_BYTES {
        return None;
    }
    let html = std::fs::read_to_string(path).ok()?;
    let tag_start = html.find("<html")?;
    let tag = &html[tag_start..tag_start + html[tag_start..].find('>')?];
    let attr = "data-openclaw-control-ui-build-id=\"";
    let start = tag.find(attr)? + attr.len();
    let id = &tag[start..start + tag[start..].find('"')?];
    (!id.is_empty()).then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_package(dir: &Path) -> PathBuf {
        let ui = dir.join("dist/control-ui");
        std::fs::create_dir_all(&ui).unwrap();
        std::fs::write(
            ui.join("index.html"),
            "<!doctype html>\n<html data-openclaw-control-ui-build-id=\"b-1\" lang=\"en\"></html>",
        )
        .unwrap();
        std::fs::write(dir.join("openclaw.mjs"), "").unwrap();
        ui.canonicalize().unwrap()
    }

    #[test]
    fn base_path_is_normalized() {
        assert_eq!(normalize_base_path(None), "");
        assert_eq!(normalize_base_path(Some("/")), "");
        assert_eq!(normalize_base_path(Some("openclaw/")), "/openclaw");
        assert_eq!(normalize_base_path(Some("/a/b")), "/a/b");
    }

    #[test]
    fn configured_root_wins_and_a_bad_one_says_so() {
        let t = tempfile::tempdir().unwrap();
        let ui = fake_package(t.path());
        let cfg = ControlUiConfig {
            root: Some(t.path().join("dist/control-ui")),
            ..Default::default()
        };
        let r = ControlUi::resolve(&cfg, &DiscoveryEnv::default());
        assert_eq!(r.source, UiSource::Configured);
        assert_eq!(r.root.as_deref(), Some(ui.as_path()));
        assert_eq!(r.build_id.as_deref(), Some("b-1"));
        let cfg = ControlUiConfig {
            root: Some(t.path().to_path_buf()),
            ..Default::default()
        };
        let r = ControlUi::resolve(&cfg, &DiscoveryEnv::default());
        assert_eq!(r.source, UiSource::BuiltIn);
        assert!(r.detail.contains("no index.html"), "{}", r.detail);
    }

    #[cfg(unix)]
    #[test]
    fn discovered_through_a_symlinked_executable_but_not_our_own_binary() {
        let t = tempfile::tempdir().unwrap();
        let prefix = t.path().join("prefix");
        let package = prefix.join("lib/node_modules/openclaw");
        let ui = fake_package(&package);
        // Our Rust `openclaw` first on PATH: no build next to it, so it is skipped.
        let ours = t.path().join("target");
        std::fs::create_dir_all(&ours).unwrap();
        std::fs::write(ours.join("openclaw"), "").unwrap();
        // The npm layout in a directory elsewhere: bin/openclaw -> the package's openclaw.mjs.
        let bin = t.path().join("elsewhere/bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(package.join("openclaw.mjs"), bin.join("openclaw")).unwrap();
        let env = DiscoveryEnv {
            path: Some(std::env::join_paths([&ours, &bin]).unwrap()),
            npm_prefix: None,
        };
        let r = ControlUi::resolve(&ControlUiConfig::default(), &env);
        assert_eq!(r.source, UiSource::Installed);
        assert_eq!(r.root.as_deref(), Some(ui.as_path()));
        // Only our binary on PATH: nothing found.
        let env = DiscoveryEnv {
            path: Some(std::env::join_paths([&ours]).unwrap()),
            npm_prefix: None,
        };
        let r = ControlUi::resolve(&ControlUiConfig::default(), &env);
        assert_eq!(r.source, UiSource::BuiltIn);
        assert_eq!(r.hello_build_source(), None);
        // The npm prefix finds it.
        let env = DiscoveryEnv {
            path: None,
            npm_prefix: Some(prefix.into_os_string()),
        };
        let r = ControlUi::resolve(&ControlUiConfig::default(), &env);
        assert_eq!(r.root.as_deref(), Some(ui.as_path()));
        assert_eq!(r.hello_build_source().as_deref(), Some("configured"));
    }

    #[test]
    fn found_next_to_node() {
        let t = tempfile::tempdir().unwrap();
        let ui = fake_package(&t.path().join("lib/node_modules/openclaw"));
        std::fs::create_dir_all(t.path().join("bin")).unwrap();
        std::fs::write(t.path().join("bin/node"), "").unwrap();
        let env = DiscoveryEnv {
            path: Some(t.path().join("bin").into_os_string()),
            npm_prefix: None,
        };
        let r = ControlUi::resolve(&ControlUiConfig::default(), &env);
        assert_eq!(r.root.as_deref(), Some(ui.as_path()));
    }
}
