//! The `openclaw.json` config model, path resolution and JSON5 loading.
//!
//! The file is JSON5 (comments, trailing commas). Unknown keys are warnings, not failures.
//! Every supported key is a typed field here; the reload classifier (crate `openclaw-rs-reload`)
//! has an explicit rule for each of them.
//!
//! Entry points: [`load`] (a file) and [`parse`] (text) return a [`Loaded`] (the typed
//! [`Config`], the raw document and warnings); [`config_path`] and [`resolve_port`] apply the
//! environment the way OpenClaw does.
//!
//! ```
//! use std::path::Path;
//!
//! let text = r#"{
//!   // JSON5: comments and trailing commas are fine.
//!   gateway: { port: 19000, },
//!   someFutureKey: 1,
//! }"#;
//! let loaded = openclaw_rs_config::parse(text, Path::new("openclaw.json")).expect("valid config");
//! assert_eq!(loaded.config.gateway.port, Some(19000));
//! assert!(!loaded.warnings.is_empty(), "an unknown key is a warning, not an error");
//! ```
#![warn(missing_docs)]

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub mod schema;

/// The default gateway port.
pub const DEFAULT_PORT: u16 = 18789;

/// The whole config file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Config {
    /// `gateway.*`: port, bind, auth, proxies, reload.
    pub gateway: GatewayConfig,
    /// `agents.*`: defaults and per-agent entries.
    pub agents: AgentsConfig,
    /// `runtimes.<name>`: app-server runtimes by name.
    pub runtimes: BTreeMap<String, RuntimeConfig>,
    /// `session.*`: spawn and concurrency limits.
    pub session: SessionConfig,
    /// `logging.*`.
    pub logging: LoggingConfig,
    /// `auth.*`: auth profiles, their order and cooldown settings.
    pub auth: AuthConfig,
    /// Written by tools (`lastTouchedVersion`, migrations); never affects behaviour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<serde_json::Value>,
}

/// `gateway.*`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct GatewayConfig {
    /// `gateway.port`; `OPENCLAW_GATEWAY_PORT` wins over it.
    pub port: Option<u16>,
    /// `gateway.bind`: `loopback` (default) or `lan`.
    pub bind: Option<BindMode>,
    /// `gateway.auth.*`.
    pub auth: GatewayAuthConfig,
    /// Close a socket that has not sent `connect` after this long (default 10 s).
    pub handshake_timeout_ms: Option<u64>,
    /// Peers whose `X-Forwarded-For` / `X-Real-IP` headers are believed.
    pub trusted_proxies: Vec<String>,
    /// `gateway.reload.*`.
    pub reload: ReloadConfig,
    /// `gateway.controlUi.*`: the browser dashboard served on the gateway port.
    pub control_ui: ControlUiConfig,
}

/// `gateway.controlUi.*` (OpenClaw's keys).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ControlUiConfig {
    /// Serve the Control UI (default true). Hot: off stops serving pages and assets at once.
    pub enabled: Option<bool>,
    /// URL prefix the UI is served under, e.g. `/openclaw` (default: none, the UI is at `/`).
    pub base_path: Option<String>,
    /// A directory holding a Control UI build (`index.html`, `assets/`); default: discovered.
    pub root: Option<PathBuf>,
}

impl ControlUiConfig {
    /// `enabled`, defaulting to true.
    pub fn is_enabled(&self) -> bool {
        self.enabled.unwrap_or(true)
    }
}

/// `gateway.bind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BindMode {
    /// 127.0.0.1 and ::1.
    Loopback,
    /// 0.0.0.0; refuses to start without auth.
    Lan,
}

/// `gateway.auth.*`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct GatewayAuthConfig {
    /// `gateway.auth.mode` (default: token when a token is set or generated).
    pub mode: Option<AuthMode>,
    /// `gateway.auth.token`.
    pub token: Option<String>,
    /// `gateway.auth.password`.
    pub password: Option<String>,
    /// `gateway.auth.rateLimit.*`.
    pub rate_limit: RateLimitConfig,
}

/// `gateway.auth.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// No shared secret.
    None,
    /// A shared token.
    Token,
    /// A shared password.
    Password,
}

impl GatewayAuthConfig {
    /// The auth mode in force: the explicit `mode`, else `password` when a password is set,
    /// else `token`.
    pub fn effective_mode(&self) -> AuthMode {
        match (self.mode, &self.password) {
            (Some(m), _) => m,
            (None, Some(_)) => AuthMode::Password,
            (None, None) => AuthMode::Token,
        }
    }
}

impl AuthMode {
    /// The wire and config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::None => "none",
            AuthMode::Token => "token",
            AuthMode::Password => "password",
        }
    }
}

/// `gateway.auth.rateLimit.*`: failed auth attempts per peer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RateLimitConfig {
    /// Failed attempts allowed per peer within the window.
    pub max_attempts: Option<u32>,
    /// Window in which failed attempts are counted.
    pub window_ms: Option<u64>,
    /// How long a peer is refused after too many failures.
    pub lockout_ms: Option<u64>,
    /// Loopback clients are not counted (default true).
    pub exempt_loopback: Option<bool>,
}

/// `gateway.reload.*`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ReloadConfig {
    /// `hybrid` (default) or `off`.
    pub mode: Option<ReloadMode>,
    /// How long a restart waits for in-flight runs before persisting them and restarting.
    pub drain_timeout_ms: Option<u64>,
}

/// `gateway.reload.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReloadMode {
    /// Apply hot changes in place; drain and re-exec for the rest. OpenClaw's retired `hot`
    /// and `restart` values mean this too.
    #[serde(alias = "hot", alias = "restart")]
    Hybrid,
    /// Validate edits, apply nothing.
    Off,
}

/// `agents.*`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AgentsConfig {
    /// `agents.defaults`: settings every agent inherits.
    pub defaults: AgentSettings,
    /// `agents.entries.<id>`: per-agent overrides.
    pub entries: BTreeMap<String, AgentSettings>,
}

/// Settings of one agent (or the defaults).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AgentSettings {
    /// Name of an entry in `runtimes` (default: `embedded`).
    pub runtime: Option<String>,
    /// Model id passed to the runtime (default for the embedded runtime: `exec`).
    pub model: Option<String>,
    /// Working directory for runs (default `$STATE/workspace`).
    pub workspace: Option<PathBuf>,
}

/// `runtimes.<name>`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RuntimeConfig {
    /// `app-server`.
    pub kind: String,
    /// Program and arguments, e.g. `["codex", "app-server"]`.
    pub command: Vec<String>,
    /// Environment variables set for the process (the rest is scrubbed).
    pub env: BTreeMap<String, String>,
    /// Auth identity that separates shared processes (e.g. an auth profile id).
    pub auth_profile: Option<String>,
    /// Offer runs on this runtime the gateway's dynamic tools (`sessions_spawn`), negotiating
    /// Codex's `experimentalApi` capability to do so. The embedded runtime always has them.
    pub dynamic_tools: bool,
    /// The runtime's home (`CODEX_HOME`): its credentials, config and history. Absolute.
    pub home: Option<PathBuf>,
    /// Sandbox of the runtime's threads (default `workspace-write`).
    pub sandbox: Option<SandboxMode>,
}

/// `runtimes.<name>.sandbox`: what commands run by the agent may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxMode {
    /// Read anywhere, write nowhere.
    ReadOnly,
    /// Write inside the run's workspace.
    WorkspaceWrite,
    /// No sandbox.
    DangerFullAccess,
}

impl SandboxMode {
    /// The app-server's spelling (`thread/start.sandbox`).
    pub fn as_str(self) -> &'static str {
        match self {
            SandboxMode::ReadOnly => "read-only",
            SandboxMode::WorkspaceWrite => "workspace-write",
            SandboxMode::DangerFullAccess => "danger-full-access",
        }
    }
}

/// `session.*`: limits on sessions and subagents.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SessionConfig {
    /// Maximum spawn depth (default 1, max 5).
    pub max_spawn_depth: Option<u32>,
    /// Maximum children per session (default 5).
    pub max_children_per_session: Option<u32>,
    /// Maximum concurrent subagent runs (default 8); more wait in the subagent lane.
    pub max_concurrent_subagent_runs: Option<u32>,
    /// What happens to finished subagent sessions.
    pub retention: RetentionConfig,
}

/// `session.retention.*`: how long finished subagent sessions are kept.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RetentionConfig {
    /// Minutes after a subagent session finished (no queued or running run, result delivered)
    /// before its journal moves to `sessions/archive/` and it leaves memory (default 60;
    /// 0 keeps finished subagent sessions in place).
    pub archive_after_minutes: Option<u64>,
    /// Archived journals kept; the oldest beyond this are deleted (default 1000).
    pub max_archived: Option<u64>,
    /// Days an archived journal is kept (default 30; 0 keeps them until `maxArchived`).
    pub archived_max_age_days: Option<u64>,
    /// A live session's journal larger than this is compacted: its oldest finished runs move
    /// to `sessions/archive/` (default 8 MiB; 0 never compacts; else at least 1024).
    pub journal_max_bytes: Option<u64>,
    /// Finished runs a compacted journal keeps, newest first (default 100; 1 to 100000).
    pub journal_keep_runs: Option<u64>,
}

/// Smallest non-zero `session.retention.journalMaxBytes`.
pub const MIN_JOURNAL_MAX_BYTES: u64 = 1024;
/// Largest `session.retention.journalKeepRuns`.
pub const MAX_JOURNAL_KEEP_RUNS: u64 = 100_000;

/// Values that parse but are out of range, as `(path, message)`.
fn check_ranges(config: &Config) -> Option<(&'static str, String)> {
    let r = &config.session.retention;
    if let Some(b) = r.journal_max_bytes {
        if b != 0 && b < MIN_JOURNAL_MAX_BYTES {
            return Some((
                "session.retention.journalMaxBytes",
                format!(
                    "{b} is too small: use 0 (never compact) or at least {MIN_JOURNAL_MAX_BYTES} (the default is 8388608)"
                ),
            ));
        }
    }
    if let Some(n) = r.journal_keep_runs {
        if !(1..=MAX_JOURNAL_KEEP_RUNS).contains(&n) {
            return Some((
                "session.retention.journalKeepRuns",
                format!(
                    "{n} is out of range: use 1 to {MAX_JOURNAL_KEEP_RUNS} (the default is 100)"
                ),
            ));
        }
    }
    None
}

/// `logging.*`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LoggingConfig {
    /// A tracing filter, e.g. `info` or `openclaw_rs_gateway=debug`.
    pub level: Option<String>,
}

/// `auth.*`: model-provider auth profiles (not gateway auth).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AuthConfig {
    /// `auth.profiles.<name>`: each profile as written (its `env` is applied to runs).
    pub profiles: BTreeMap<String, serde_json::Value>,
    /// `auth.order.<runtime>`: profiles to try, in order.
    pub order: BTreeMap<String, Vec<String>>,
    /// Cooldown *settings* (backoff lengths), never cooldown state.
    pub cooldowns: CooldownSettings,
}

/// `auth.cooldowns.*`: how long a failing auth profile rests. Settings only: the cooldown
/// *state* lives in `$STATE/state/cooldowns.json` (crate `openclaw-rs-cooldowns`), never here.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CooldownSettings {
    /// Cooldown per consecutive transient failure (default `[30000, 60000, 300000]`; the last
    /// entry repeats).
    pub transient_ms: Option<Vec<u64>>,
    /// First rate-limit cooldown; doubles per failure (default 30 s).
    pub rate_limit_base_ms: Option<u64>,
    /// Rate-limit cooldown cap (default 24 h).
    pub rate_limit_max_ms: Option<u64>,
    /// First billing disable; doubles per failure (default 10 min).
    pub billing_base_ms: Option<u64>,
    /// Billing disable cap (default 24 h).
    pub billing_max_ms: Option<u64>,
    /// First permanent-auth disable; doubles per failure (default 10 min).
    pub auth_permanent_base_ms: Option<u64>,
    /// Permanent-auth disable cap (default 1 h).
    pub auth_permanent_max_ms: Option<u64>,
    /// Error counters reset after this long without failures (default 24 h).
    pub failure_window_ms: Option<u64>,
    /// Where helper/side-lane failures are recorded: `local` (default: only that lane) or
    /// `shared` (also the main lane).
    pub helper_lane_policy: Option<LanePolicy>,
}

/// `auth.cooldowns.helperLanePolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LanePolicy {
    /// A helper lane's failure cools down only that lane.
    Local,
    /// A helper lane's failure also cools down the main lane.
    Shared,
}

/// A config file that could not be used, with where and why.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// JSON5 syntax error.
    #[error("config {path}: syntax error{}: {message}", location_suffix(*line, *column))]
    Syntax {
        /// The config file.
        path: PathBuf,
        /// 1-based line of the error, when known.
        line: Option<usize>,
        /// 1-based column of the error, when known.
        column: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// Valid JSON5, but a value has the wrong type or is out of range.
    #[error("config {path}: {message}")]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// The offending path and value, and the fix.
        message: String,
    },
}

fn location_suffix(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
        (Some(l), None) => format!(" at line {l}"),
        _ => String::new(),
    }
}

/// A loaded config plus the warnings found while loading (unknown keys, …).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Loaded {
    /// The typed config.
    pub config: Config,
    /// The parsed document, as written (before typing), for diffs and `config.get`.
    pub raw: serde_json::Value,
    /// Unknown keys and other non-fatal findings.
    pub warnings: Vec<String>,
}

/// Parse JSON5 text into a config. `path` is only used in messages.
pub fn parse(text: &str, path: &Path) -> Result<Loaded, ConfigError> {
    from_value(parse_value(text, path)?, path)
}

/// Parse JSON5 text into an untyped document (empty text is `{}`), with line/column errors.
pub fn parse_value(text: &str, path: &Path) -> Result<serde_json::Value, ConfigError> {
    let raw: serde_json::Value = if text.trim().is_empty() {
        serde_json::Value::Object(Default::default())
    } else {
        json5::from_str(text).map_err(|e| {
            let (line, column, message) = match &e {
                json5::Error::Message { msg, location } => (
                    location.as_ref().map(|l| l.line),
                    location.as_ref().map(|l| l.column),
                    msg.clone(),
                ),
            };
            ConfigError::Syntax {
                path: path.to_path_buf(),
                line,
                column,
                message,
            }
        })?
    };
    Ok(raw)
}

/// Type a parsed document, collecting unknown keys as warnings.
pub fn from_value(raw: serde_json::Value, path: &Path) -> Result<Loaded, ConfigError> {
    if !raw.is_object() {
        return Err(ConfigError::Invalid {
            path: path.to_path_buf(),
            message: "the top level must be an object".into(),
        });
    }
    let config: Config = serde_path_to_error::deserialize(raw.clone()).map_err(|e| {
        let at = e.path().to_string();
        ConfigError::Invalid {
            path: path.to_path_buf(),
            message: format!("`{at}`: {}", e.inner()),
        }
    })?;
    if let Some((at, message)) = check_ranges(&config) {
        return Err(ConfigError::Invalid {
            path: path.to_path_buf(),
            message: format!("`{at}`: {message}"),
        });
    }
    let mut warnings = Vec::new();
    let typed = serde_json::to_value(&config).unwrap_or_default();
    unknown_keys(&raw, &typed, "", &mut warnings);
    Ok(Loaded {
        config,
        raw,
        warnings,
    })
}

/// Keys present in `raw` that the typed model dropped.
fn unknown_keys(
    raw: &serde_json::Value,
    typed: &serde_json::Value,
    prefix: &str,
    out: &mut Vec<String>,
) {
    let (Some(r), Some(t)) = (raw.as_object(), typed.as_object()) else {
        return;
    };
    for (k, v) in r {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match t.get(k) {
            None => out.push(format!("unknown config key `{path}` (ignored)")),
            Some(tv) => {
                // Maps keyed by user names (runtimes, entries, profiles) are typed per value.
                unknown_keys(v, tv, &path, out)
            }
        }
    }
}

/// Load the file at `path`; a missing file is an empty config.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text, path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Loaded {
            raw: serde_json::json!({}),
            ..Loaded::default()
        }),
        Err(source) => Err(ConfigError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// `OPENCLAW_CONFIG_PATH`, else `$STATE/openclaw.json`.
pub fn config_path(
    state: &openclaw_rs_state::StateDir,
    get: impl Fn(&str) -> Option<String>,
) -> PathBuf {
    get("OPENCLAW_CONFIG_PATH")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| state.config_path())
}

/// Port precedence: explicit flag > `OPENCLAW_GATEWAY_PORT` > `gateway.port` > 18789.
pub fn resolve_port(
    flag: Option<u16>,
    config: &Config,
    get: impl Fn(&str) -> Option<String>,
) -> u16 {
    flag.or_else(|| get("OPENCLAW_GATEWAY_PORT").and_then(|p| p.trim().parse().ok()))
        .or(config.gateway.port)
        .unwrap_or(DEFAULT_PORT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json5_with_comments_and_trailing_commas() {
        let l = parse(
            "{ // hand written\n gateway: { port: 1234, auth: { mode: 'token', token: 'a', }, }, }",
            Path::new("x"),
        )
        .unwrap();
        assert_eq!(l.config.gateway.port, Some(1234));
        assert_eq!(l.config.gateway.auth.mode, Some(AuthMode::Token));
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let e = parse("{\n  gateway: {\n    port: ,\n  }\n}", Path::new("/c.json")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("line 3"), "{msg}");
        assert!(msg.contains("/c.json"), "{msg}");
    }

    #[test]
    fn unknown_keys_warn() {
        let l = parse("{ browser: {}, gateway: { colour: 1 } }", Path::new("x")).unwrap();
        assert_eq!(l.warnings.len(), 2, "{:?}", l.warnings);
        assert!(l.warnings.iter().any(|w| w.contains("gateway.colour")));
    }

    #[test]
    fn journal_compaction_settings_are_range_checked() {
        let ok = parse(
            "{ session: { retention: { journalMaxBytes: 0, journalKeepRuns: 1 } } }",
            Path::new("x"),
        )
        .unwrap();
        assert_eq!(ok.config.session.retention.journal_max_bytes, Some(0));
        assert_eq!(ok.config.session.retention.journal_keep_runs, Some(1));
        for (text, path, hint) in [
            (
                "{ session: { retention: { journalMaxBytes: 10 } } }",
                "journalMaxBytes",
                "at least 1024",
            ),
            (
                "{ session: { retention: { journalKeepRuns: 0 } } }",
                "journalKeepRuns",
                "1 to 100000",
            ),
            (
                "{ session: { retention: { journalKeepRuns: 100001 } } }",
                "journalKeepRuns",
                "1 to 100000",
            ),
        ] {
            let e = parse(text, Path::new("x")).unwrap_err().to_string();
            assert!(e.contains(&format!("`session.retention.{path}`")), "{e}");
            assert!(e.contains(hint), "{e}");
        }
    }

    #[test]
    fn wrong_type_is_invalid() {
        let e = parse("{ gateway: { port: 'x' } }", Path::new("x")).unwrap_err();
        assert!(matches!(e, ConfigError::Invalid { .. }));
        assert!(e.to_string().contains("`gateway.port`"), "{e}");
    }

    #[test]
    fn reload_mode_accepts_retired_values_and_names_bad_ones() {
        let l = parse("{ gateway: { reload: { mode: 'hot' } } }", Path::new("x")).unwrap();
        assert_eq!(l.config.gateway.reload.mode, Some(ReloadMode::Hybrid));
        let e = parse(
            "{ gateway: { reload: { mode: 'sometimes' } } }",
            Path::new("x"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("`gateway.reload.mode`"), "{e}");
    }

    #[test]
    fn port_precedence() {
        let mut c = Config::default();
        assert_eq!(resolve_port(None, &c, |_| None), 18789);
        c.gateway.port = Some(1);
        assert_eq!(resolve_port(None, &c, |_| None), 1);
        assert_eq!(resolve_port(None, &c, |_| Some("2".into())), 2);
        assert_eq!(resolve_port(Some(3), &c, |_| Some("2".into())), 3);
    }
}
