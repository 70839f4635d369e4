//! `openclaw doctor [--fix] [--dry-run] [--json]`: check the config file, the state dir, the
//! service, the cooldowns and the running gateway, and say what to fix.
//!
//! Every finding has an id, a severity, one sentence saying what is wrong (or found), and the
//! one command that fixes it. `--fix` applies the safe fixes (file and directory modes); each
//! file is first copied to `$STATE/backups/doctor-<time>/` and the backup is named. `--dry-run`
//! shows what `--fix` would change and changes nothing. Works without a running gateway (the file
//! checks are offline). Exit 0 when no error remains, 1 otherwise.

use crate::client::{self, ClientArgs};
use crate::service::RuntimeInfo;
use clap::Args;
use openclaw_rs_protocol::methods::gateway::StatusParams;
use serde::Serialize;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Flags of `openclaw doctor`.
#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    /// Connection flags for the gateway checks.
    #[command(flatten)]
    pub client: ClientArgs,
    /// Apply the safe fixes (file modes), backing up each file first.
    #[arg(long)]
    pub fix: bool,
    /// Show what --fix would change; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; nothing to fix.
    Info,
    /// Something may not work as expected; does not change the exit code.
    Warn,
    /// Something is broken; `doctor` exits 1 unless `--fix` repaired it.
    Error,
}

/// A change `--fix` can make safely.
#[derive(Debug, Clone)]
enum Action {
    /// Set the permission bits of a file (backed up first) or a directory.
    Chmod { path: PathBuf, mode: u32 },
}

/// What `--fix`/`--dry-run` did about a finding.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Change {
    /// e.g. `chmod 600 /path`.
    action: String,
    applied: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    backup: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Finding {
    id: String,
    severity: Severity,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
    /// `--fix` can apply `fix` itself.
    auto_fix: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    change: Option<Change>,
    #[serde(skip)]
    action: Option<Action>,
}

#[derive(Debug, Default)]
struct Findings(Vec<Finding>);

impl Findings {
    fn add(&mut self, id: &str, severity: Severity, message: String, fix: Option<String>) {
        self.0.push(Finding {
            id: id.to_owned(),
            severity,
            message,
            fix,
            auto_fix: false,
            change: None,
            action: None,
        });
    }

    fn add_fixable(&mut self, id: &str, severity: Severity, message: String, action: Action) {
        let Action::Chmod { path, mode } = &action;
        let fix = format!("chmod {mode:o} {}", path.display());
        self.0.push(Finding {
            id: id.to_owned(),
            severity,
            message,
            fix: Some(fix),
            auto_fix: true,
            change: None,
            action: Some(action),
        });
    }

    /// A legacy problem/note string (`message\n  fix: command`) as a finding.
    fn add_text(&mut self, id: &str, severity: Severity, text: &str) {
        let (message, fix) = match text.split_once("\n  fix: ") {
            Some((m, f)) => (m.to_owned(), Some(f.trim().to_owned())),
            None => (text.to_owned(), None),
        };
        self.add(id, severity, message, fix);
    }
}

/// An id for a legacy auth string, from what it talks about.
fn auth_id(text: &str) -> &'static str {
    if text.contains("pairing") || text.contains("pending") {
        "auth.pairing"
    } else if text.contains("token from") || text.contains("gateway token") {
        "auth.token_sources"
    } else if text.contains("device") {
        "auth.device"
    } else {
        "auth"
    }
}

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// `openclaw doctor`.
pub async fn run(doctor: DoctorArgs) -> anyhow::Result<ExitCode> {
    let args = &doctor.client;
    let state = client::state_dir(args.conn.state_dir.as_ref());
    let mut problems: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut findings = Findings::default();

    // 1. The config file, exactly as the gateway would read it.
    let path = openclaw_rs_config::config_path(&state, env);
    let config = match openclaw_rs_config::load(&path) {
        Ok(l) => {
            for w in &l.warnings {
                notes.push(format!("config: {w}"));
                findings.add(
                    "config.warning",
                    Severity::Warn,
                    format!("config: {w}"),
                    Some(format!("edit {}", path.display())),
                );
            }
            json!({"path": path, "valid": true, "warnings": l.warnings})
        }
        Err(e) => {
            problems.push(format!(
                "config is invalid: {e}\n  the gateway keeps running on its last good config; fix the file and it is picked up automatically"
            ));
            findings.add(
                "config.invalid",
                Severity::Error,
                format!("config is invalid (the gateway keeps its last good config): {e}"),
                Some(format!(
                    "edit {} (it is picked up automatically)",
                    path.display()
                )),
            );
            json!({"path": path, "valid": false, "error": e.to_string()})
        }
    };

    // 2. Cooldowns (runtime state, never in config).
    let now = openclaw_rs_cooldowns::now_ms();
    let cooldowns = match openclaw_rs_cooldowns::Cooldowns::open(
        &state,
        openclaw_rs_cooldowns::Policy::default(),
    ) {
        Ok(c) => {
            let snap = c.snapshot();
            let active: Vec<Value> = snap
                .entries()
                .into_iter()
                .filter(|e| e.until() > now)
                .map(|e| {
                    let line = format!(
                        "auth profile {} is {} in lane {}{} ({}) until {}",
                        e.profile,
                        if e.disabled_until.is_some_and(|d| d > now) {
                            "disabled"
                        } else {
                            "cooling down"
                        },
                        e.lane,
                        e.model
                            .as_deref()
                            .map(|m| format!(" for model {m}"))
                            .unwrap_or_default(),
                        e.reason.as_str(),
                        openclaw_rs_cooldowns::rfc3339(e.until())
                    );
                    notes.push(line.clone());
                    findings.add(
                        "cooldowns.active",
                        Severity::Warn,
                        line,
                        Some(format!(
                            "none needed: it ends at {}; fix the profile's credential or quota if it repeats",
                            openclaw_rs_cooldowns::rfc3339(e.until())
                        )),
                    );
                    serde_json::to_value(e).unwrap_or_default()
                })
                .collect();
            json!({"active": active})
        }
        Err(e) => {
            problems.push(format!("cooldowns: {e}"));
            findings.add(
                "cooldowns.unreadable",
                Severity::Error,
                format!("cooldowns: {e}"),
                None,
            );
            json!({"error": e.to_string()})
        }
    };

    // 3. The running gateway's view: version, rejected edits, pending restarts, runtimes.
    let gateway = if RuntimeInfo::read(&state).is_some() || args.conn.url.is_some() {
        match connect(args, &state).await {
            Ok(c) => {
                let s = c.call(StatusParams::default()).await;
                c.close().await;
                match s {
                    Ok(s) => {
                        let url = s.listen.first().map(String::as_str).unwrap_or("");
                        findings.add(
                            "gateway.reachable",
                            Severity::Info,
                            format!("gateway {} is running (pid {}, {url})", s.version, s.pid),
                            None,
                        );
                        if let Some(ui) = &s.control_ui {
                            // A gateway without a UI build is a valid (headless) setup: a note.
                            let line = crate::service::control_ui_line(ui, url);
                            notes.push(format!("control UI: {line}"));
                            let found = ui.source != "builtIn";
                            findings.add(
                                if found {
                                    "control_ui.found"
                                } else {
                                    "control_ui.missing"
                                },
                                Severity::Info,
                                format!("control UI: {line}"),
                                (!found).then(|| "npm i -g openclaw@2026.9.6".to_owned()),
                            );
                        }
                        let reload = &s.reload;
                        if let Some(e) = &reload.last_error {
                            problems.push(format!(
                                "the gateway rejected the last config edit and keeps its last good config: {}",
                                e.message
                            ));
                            findings.add(
                                "config.rejected_edit",
                                Severity::Error,
                                format!(
                                    "the gateway rejected the last config edit and keeps its last good config: {}",
                                    e.message
                                ),
                                Some(format!("edit {}", e.path)),
                            );
                        }
                        if let Some(r) = &reload.restart {
                            let line = format!(
                                "restart pending ({}): {}; deadline {}",
                                r.who,
                                r.reason,
                                openclaw_rs_cooldowns::rfc3339(r.deadline_ms)
                            );
                            notes.push(line.clone());
                            findings.add(
                                "restart.pending",
                                Severity::Warn,
                                line,
                                Some("openclaw gateway restart --force (restart now; in-flight runs re-run)".into()),
                            );
                        }
                        if let Some(r) = &s.runtimes {
                            let retired = r.retired_graceful_total + r.retired_wedged_total;
                            if retired > 0 {
                                findings.add(
                                    "runtimes.degraded",
                                    Severity::Warn,
                                    format!(
                                        "{retired} app-server process(es) were retired after failures since the gateway started ({} wedged)",
                                        r.retired_wedged_total
                                    ),
                                    Some("openclaw gateway call logs.tail (find the failing runs' errors)".into()),
                                );
                            }
                        }
                        if s.pairing.pending > 0 {
                            findings.add(
                                "pairing.pending",
                                Severity::Warn,
                                format!("{} device pairing request(s) are waiting", s.pairing.pending),
                                Some("openclaw devices list (then openclaw devices approve <requestId>)".into()),
                            );
                        }
                        json!({"running": true, "pid": s.pid, "version": s.version, "reload": reload, "controlUi": s.control_ui, "runtimes": s.runtimes, "pendingPairings": s.pairing.pending})
                    }
                    Err(e) => {
                        problems.push(format!("gateway status failed: {e}"));
                        findings.add(
                            "gateway.status_failed",
                            Severity::Error,
                            format!("gateway status failed: {e}"),
                            Some("openclaw gateway restart".into()),
                        );
                        json!({"running": true, "error": e.to_string()})
                    }
                }
            }
            Err(e) => {
                notes.push(format!("gateway not reachable: {e}"));
                findings.add(
                    "gateway.unreachable",
                    Severity::Warn,
                    format!("gateway not reachable: {e}"),
                    Some("openclaw gateway restart".into()),
                );
                json!({"running": false})
            }
        }
    } else {
        findings.add(
            "gateway.not_running",
            Severity::Warn,
            format!(
                "no gateway is running for state dir {}",
                state.root().display()
            ),
            Some("openclaw gateway start".into()),
        );
        json!({"running": false})
    };

    // 4. Auth: token sources vs the running gateway, this machine's device, pending pairing.
    let (p0, n0) = (problems.len(), notes.len());
    let auth = crate::devices::doctor_section(args, &state, &mut problems, &mut notes).await;
    for p in &problems[p0..] {
        findings.add_text(auth_id(p), Severity::Error, p);
    }
    for n in &notes[n0..] {
        findings.add_text(auth_id(n), Severity::Info, n);
    }

    // 5. The service, and the state dir: modes, free disk, journal and log sizes.
    let manager = crate::systemd::manager(&state);
    match &manager {
        crate::systemd::Manager::Pidfile => findings.add(
            "service.not_installed",
            Severity::Info,
            "the gateway is not installed as a service (it runs as a pidfile daemon)".into(),
            Some("openclaw gateway install".into()),
        ),
        crate::systemd::Manager::Systemd { enabled: true, .. } => findings.add(
            "service.installed",
            Severity::Info,
            crate::systemd::describe(&manager),
            None,
        ),
        crate::systemd::Manager::Systemd { enabled: false, .. } => findings.add(
            "service.not_enabled",
            Severity::Warn,
            crate::systemd::describe(&manager),
            Some(format!("systemctl --user enable {}", crate::systemd::UNIT)),
        ),
        crate::systemd::Manager::Unreachable { .. } => findings.add(
            "service.unreachable",
            Severity::Warn,
            crate::systemd::describe(&manager),
            Some(format!(
                "systemctl --user enable --now {}",
                crate::systemd::UNIT
            )),
        ),
    }
    check_state_dir(&state, &path, &mut findings);

    // 6. --fix / --dry-run.
    if doctor.fix || doctor.dry_run {
        apply(&state, &mut findings, doctor.dry_run);
    }
    let unfixed_errors = findings
        .0
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .filter(|f| {
            !f.change
                .as_ref()
                .is_some_and(|c| c.applied && c.error.is_none())
        })
        .count();

    if args.json {
        client::print_json(&json!({
            "ok": unfixed_errors == 0,
            "findings": findings.0,
            "problems": problems,
            "notes": notes,
            "config": config,
            "cooldowns": cooldowns,
            "gateway": gateway,
            "auth": auth,
            "service": crate::systemd::describe(&manager),
        }));
    } else {
        for f in &findings.0 {
            let tag = match f.severity {
                Severity::Error => "error",
                Severity::Warn => "warn ",
                Severity::Info => "info ",
            };
            println!(
                "[{tag}] {}: {}",
                f.id,
                f.message.replace('\n', "\n        ")
            );
            if let Some(fix) = &f.fix {
                println!("        fix: {fix}");
            }
            if let Some(c) = &f.change {
                let what = match (c.applied, &c.error) {
                    (_, Some(e)) => format!("FAILED: {} ({e})", c.action),
                    (true, None) => format!("fixed: {}", c.action),
                    (false, None) => format!("would run: {}", c.action),
                };
                println!("        {what}");
                if let Some(b) = &c.backup {
                    println!(
                        "        {} {b}",
                        if c.applied {
                            "backup:"
                        } else {
                            "would back up to:"
                        }
                    );
                }
            }
        }
        let fixable = findings.0.iter().filter(|f| f.auto_fix).count();
        if doctor.dry_run {
            println!("doctor --dry-run: nothing was changed ({fixable} fix(es) shown)");
        } else if !doctor.fix && fixable > 0 {
            println!("doctor: {fixable} finding(s) can be fixed safely: openclaw doctor --fix (preview: --dry-run)");
        }
        if unfixed_errors == 0 {
            println!("doctor: no problems found");
        }
    }
    Ok(if unfixed_errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Files in the state dir that hold secrets (must be 0600), besides the sessions' journals.
const SECRET_FILES: &[&str] = &[
    "gateway.token",
    "devices/token-key",
    "devices/pairing.json",
    "identity/device.json",
    "identity/device-auth.json",
    "logs/gateway.jsonl",
];

/// Disk free below this is an error (journals and the token cannot be written).
const DISK_ERROR_BYTES: u64 = 100 * 1024 * 1024;
/// Below this, a warning.
const DISK_WARN_BYTES: u64 = 1024 * 1024 * 1024;
/// The pidfile daemon's stdout log is not rotated: warn above this.
const DAEMON_LOG_WARN_BYTES: u64 = 100 * 1024 * 1024;

fn check_state_dir(state: &openclaw_rs_state::StateDir, config: &Path, findings: &mut Findings) {
    use std::os::unix::fs::PermissionsExt;
    let root = state.root();
    let Ok(meta) = std::fs::metadata(root) else {
        findings.add(
            "state.missing",
            Severity::Info,
            format!("state dir {} does not exist yet", root.display()),
            Some("openclaw gateway start".into()),
        );
        return;
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        findings.add_fixable(
            "state.dir_mode",
            Severity::Warn,
            format!(
                "state dir {} is open to other users (mode {mode:o}); it holds secrets",
                root.display()
            ),
            Action::Chmod {
                path: root.to_path_buf(),
                mode: 0o700,
            },
        );
    }
    let mut secrets: Vec<PathBuf> = SECRET_FILES.iter().map(|f| state.join(f)).collect();
    // The config holds the gateway token or password when set there.
    if std::fs::read_to_string(config).is_ok_and(|t| t.contains("token") || t.contains("password"))
    {
        secrets.push(config.to_path_buf());
    }
    if let Ok(dir) = std::fs::read_dir(state.join("sessions")) {
        secrets.extend(
            dir.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "jsonl" || x == "json")),
        );
    }
    for path in secrets {
        let Ok(m) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !m.is_file() {
            continue;
        }
        let mode = m.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            findings.add_fixable(
                "state.secret_mode",
                Severity::Error,
                format!(
                    "{} holds a secret but other users can access it (mode {mode:o}, must be 600)",
                    path.display()
                ),
                Action::Chmod { path, mode: 0o600 },
            );
        }
    }
    match free_bytes(root) {
        Some(free) if free < DISK_ERROR_BYTES => findings.add(
            "state.disk_free",
            Severity::Error,
            format!(
                "only {} free on the state dir's filesystem: journal writes will fail",
                human_bytes(free)
            ),
            Some(format!("df -h {} (free space there)", root.display())),
        ),
        Some(free) if free < DISK_WARN_BYTES => findings.add(
            "state.disk_free",
            Severity::Warn,
            format!("{} free on the state dir's filesystem", human_bytes(free)),
            Some(format!("df -h {} (free space there)", root.display())),
        ),
        Some(free) => findings.add(
            "state.disk_free",
            Severity::Info,
            format!("{} free on the state dir's filesystem", human_bytes(free)),
            None,
        ),
        None => {}
    }
    let (journal_bytes, journal_files) = dir_size(&state.join("sessions"));
    findings.add(
        "state.journal_size",
        Severity::Info,
        format!(
            "session journals: {} in {journal_files} file(s)",
            human_bytes(journal_bytes)
        ),
        None,
    );
    let (log_bytes, log_files) = dir_size(&state.join("logs"));
    findings.add(
        "state.log_size",
        Severity::Info,
        format!(
            "logs: {} in {log_files} file(s) (gateway.jsonl rolls at {} and keeps {} archives)",
            human_bytes(log_bytes),
            human_bytes(openclaw_rs_gateway::logfile::MAX_FILE_BYTES),
            openclaw_rs_gateway::logfile::ARCHIVES
        ),
        None,
    );
    let daemon_log = state.join("logs/gateway.log");
    if let Ok(m) = std::fs::metadata(&daemon_log) {
        if m.len() > DAEMON_LOG_WARN_BYTES {
            findings.add(
                "state.daemon_log_size",
                Severity::Warn,
                format!(
                    "{} (the background gateway's output) is {} and is not rotated",
                    daemon_log.display(),
                    human_bytes(m.len())
                ),
                Some(format!(
                    "openclaw gateway stop && mv {} {}.old && openclaw gateway start",
                    daemon_log.display(),
                    daemon_log.display()
                )),
            );
        }
    }
}

/// Bytes and regular files under `dir` (recursive; missing: 0).
fn dir_size(dir: &Path) -> (u64, usize) {
    let mut bytes = 0;
    let mut files = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => {
                    files += 1;
                    bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
                }
                _ => {}
            }
        }
    }
    (bytes, files)
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Free bytes for unprivileged users on the filesystem holding `path` (statvfs).
fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs reads a NUL-terminated path we own and writes into a zeroed struct we own.
    #[allow(unsafe_code)]
    let (rc, st) = unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        (libc::statvfs(c.as_ptr(), &mut st), st)
    };
    // The field types differ between targets (u32 on some 32-bit ones).
    #[allow(clippy::useless_conversion)]
    let free = u64::from(st.f_bavail).saturating_mul(u64::from(st.f_frsize));
    (rc == 0).then_some(free)
}

/// Apply (or, with `dry_run`, describe) every safe fix. Files are copied to
/// `$STATE/backups/doctor-<time>/<relative path>` (0600) before they are changed.
fn apply(state: &openclaw_rs_state::StateDir, findings: &mut Findings, dry_run: bool) {
    use std::os::unix::fs::PermissionsExt;
    let stamp = openclaw_rs_cooldowns::rfc3339(openclaw_rs_cooldowns::now_ms()).replace(':', "");
    let backup_dir = state.join("backups").join(format!("doctor-{stamp}"));
    for f in findings.0.iter_mut() {
        let Some(Action::Chmod { path, mode }) = f.action.clone() else {
            continue;
        };
        let action = format!("chmod {mode:o} {}", path.display());
        let is_file = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file());
        let backup = is_file.then(|| {
            let rel = path.strip_prefix(state.root()).unwrap_or(&path);
            let rel = rel.strip_prefix("/").unwrap_or(rel);
            backup_dir.join(rel)
        });
        if dry_run {
            f.change = Some(Change {
                action,
                applied: false,
                backup: backup.map(|b| b.display().to_string()),
                error: None,
            });
            continue;
        }
        let result = (|| -> Result<(), String> {
            if let Some(b) = &backup {
                if let Some(parent) = b.parent() {
                    use std::os::unix::fs::DirBuilderExt;
                    // Backups of secrets are private too.
                    std::fs::DirBuilder::new()
                        .recursive(true)
                        .mode(0o700)
                        .create(parent)
                        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
                }
                let bytes = std::fs::read(&path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                openclaw_rs_state::write_atomic(b, &bytes, openclaw_rs_state::SECRET_MODE)
                    .map_err(|e| e.to_string())?;
            }
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                .map_err(|e| format!("cannot chmod {}: {e}", path.display()))
        })();
        f.change = Some(Change {
            action,
            applied: result.is_ok(),
            backup: backup.map(|b| b.display().to_string()),
            error: result.err(),
        });
    }
}

/// Connect without reading the config file (it may be the thing that is broken): `--url` or
/// the runtime file's URL, and `--token`/`--password`, `OPENCLAW_GATEWAY_TOKEN`, or the token
/// file in the state dir.
async fn connect(
    args: &ClientArgs,
    state: &openclaw_rs_state::StateDir,
) -> anyhow::Result<openclaw_rs_client::Client> {
    let url = args
        .conn
        .url
        .clone()
        .or_else(|| RuntimeInfo::read(state).map(|r| r.url))
        .ok_or_else(|| anyhow::anyhow!("no gateway URL: pass --url"))?;
    let mut o = openclaw_rs_client::ClientOptions::new(url);
    o.password = args.conn.password.clone();
    o.token = args
        .conn
        .token
        .clone()
        .or_else(|| env("OPENCLAW_GATEWAY_TOKEN"))
        .or_else(|| {
            std::fs::read_to_string(state.join(openclaw_rs_gateway::launch::TOKEN_FILE))
                .ok()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
        });
    o.scopes = vec![openclaw_rs_protocol::scopes::READ.to_owned()];
    o.connect_timeout = std::time::Duration::from_millis(args.timeout.max(1));
    o.request_timeout = o.connect_timeout;
    Ok(openclaw_rs_client::Client::connect(o).await?)
}
