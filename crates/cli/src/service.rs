//! The background gateway: `start` (detached re-spawn of `gateway run`), `stop`, `restart`, `status`.
//!
//! Files in the state dir:
//! - `gateway.lock`: flock held by the running gateway for its whole life (the truth about "running");
//!   these files are read and written by `runtime_file.rs`.
//! - `gateway.pid`: the pid; `gateway.runtime.json`: pid, port, url, bind, auth mode, version, start time.
//! - `logs/gateway.log`: stdout/stderr of a gateway started with `gateway start`.

use crate::base::{CliError, EXIT_NOT_RUNNING};
use crate::client::{self, ClientArgs};
use crate::run::RunArgs;
pub(crate) use crate::runtime_file::http_ready;
pub use crate::runtime_file::{is_locked, lock_path, runtime_pid, RuntimeInfo};
use clap::Args;
use openclaw_rs_protocol::methods::config::RestartRequestParams;
use openclaw_rs_protocol::methods::gateway::{ReloadStatus, StatusParams};
use openclaw_rs_state::{FileLock, StateDir};
use serde::Serialize;
use std::io::Read;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Wait (bounded) while a gateway that was killed a moment ago still holds the lock; an error
/// names it if it is still exiting after [`crate::holder::DYING_WAIT`].
pub fn wait_for_dying_holder(state: &StateDir) -> Result<(), CliError> {
    use crate::holder::{settle, Holder, DYING_WAIT};
    match settle(&lock_path(state), || runtime_pid(state), DYING_WAIT) {
        Holder::Dying(pid, why) => Err(CliError::new(
            1,
            format!(
                "the previous gateway (pid {pid}, {why}) still holds {} after {} s; check it with `ps -o pid,stat,wchan -p {pid}` and retry",
                lock_path(state).display(),
                DYING_WAIT.as_secs()
            ),
        )),
        Holder::Free | Holder::Live(_) => Ok(()),
    }
}

/// Flags of `gateway start` / `restart`: the run flags, plus how long to wait.
#[derive(Debug, Clone, Args)]
pub struct StartArgs {
    /// The flags the background gateway runs with (those of `gateway run`).
    #[command(flatten)]
    pub run: RunArgs,
    /// Seconds to wait for the gateway to become ready.
    #[arg(long, default_value_t = 30)]
    pub wait: u64,
}

/// Flags of `gateway stop`.
#[derive(Debug, Clone, Args)]
pub struct StopArgs {
    /// State directory (default: OPENCLAW_STATE_DIR or ~/.openclaw).
    #[arg(long)]
    pub state_dir: Option<std::path::PathBuf>,
    /// Seconds to wait for the gateway to exit.
    #[arg(long, default_value_t = 30)]
    pub wait: u64,
}

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// `gateway start`.
pub fn start(args: StartArgs) -> anyhow::Result<ExitCode> {
    let state = client::state_dir(args.run.state_dir.as_ref());
    state
        .ensure()
        .map_err(|e| CliError::new(1, e.to_string()))?;
    match crate::systemd::manager(&state) {
        crate::systemd::Manager::Systemd { .. } => return crate::systemd::run_verb("start"),
        m @ crate::systemd::Manager::Unreachable { .. } => {
            println!("note: {}", crate::systemd::describe(&m))
        }
        crate::systemd::Manager::Pidfile => {}
    }
    // One start at a time per state dir.
    let _starting = FileLock::acquire(&state.join("gateway.start.lock"))
        .map_err(|e| CliError::new(1, e.to_string()))?;
    wait_for_dying_holder(&state)?;
    if let Some(info) = RuntimeInfo::read(&state) {
        println!(
            "gateway already running (pid {}, {}, version {}); logs: {}",
            info.pid,
            info.url,
            info.version,
            state.join("logs/gateway.log").display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let config_path = openclaw_rs_config::config_path(&state, env);
    let config = openclaw_rs_config::load(&config_path)
        .map_err(|e| CliError::usage(e.to_string()))?
        .config;
    let mut port = openclaw_rs_config::resolve_port(args.run.port, &config, env);

    let log_dir = state.join("logs");
    openclaw_rs_state::ensure_dir(&log_dir).map_err(|e| CliError::new(1, e.to_string()))?;
    let log_path = log_dir.join("gateway.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| CliError::new(1, format!("cannot open {}: {e}", log_path.display())))?;
    let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
    let log_err = log
        .try_clone()
        .map_err(|e| CliError::new(1, format!("cannot open {}: {e}", log_path.display())))?;

    let exe = std::env::current_exe()
        .map_err(|e| CliError::new(1, format!("cannot locate this executable: {e}")))?;
    let mut cmd = openclaw_rs_app_server::spawn::detached_command(exe);
    cmd.arg("gateway")
        .arg("run")
        .arg("--port")
        .arg(port.to_string());
    cmd.arg("--state-dir").arg(state.root());
    let r = &args.run;
    if let Some(b) = r.bind {
        cmd.arg("--bind").arg(match b {
            crate::run::BindArg::Loopback => "loopback",
            crate::run::BindArg::Lan => "lan",
        });
    }
    if let Some(a) = r.auth {
        cmd.arg("--auth").arg(match a {
            crate::run::AuthArg::None => "none",
            crate::run::AuthArg::Token => "token",
            crate::run::AuthArg::Password => "password",
        });
    }
    if let Some(l) = &r.log_level {
        cmd.arg("--log-level").arg(l);
    }
    if r.log_format == crate::run::LogFormat::Json {
        cmd.arg("--log-format").arg("json");
    }
    // Secrets go through the environment, not argv (visible in `ps`).
    if let Some(t) = &r.token {
        cmd.env("OPENCLAW_GATEWAY_TOKEN", t);
    }
    if let Some(p) = &r.password {
        cmd.env("OPENCLAW_GATEWAY_PASSWORD", p);
    }
    {
        use std::os::unix::process::CommandExt;
        // Own process group: a Ctrl-C in this terminal does not reach the gateway.
        cmd.process_group(0);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_err));
    let mut child = cmd
        .spawn()
        .map_err(|e| CliError::new(1, format!("cannot start the gateway: {e}")))?;

    let deadline = Instant::now() + Duration::from_secs(args.wait.max(1));
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let tail = log_tail(&log_path, log_start);
            return Err(CliError::new(
                1,
                format!("the gateway exited during startup ({status}); its log says:\n{tail}"),
            )
            .into());
        }
        // The child writes its runtime file once bound (it knows the real port, even for --port 0).
        let bound = openclaw_rs_state::read_optional(&state.join("gateway.runtime.json"))
            .ok()
            .flatten()
            .and_then(|b| serde_json::from_slice::<RuntimeInfo>(&b).ok())
            .filter(|r| r.pid == child.id());
        if let Some(r) = &bound {
            if http_ready(r.port) {
                port = r.port;
                break;
            }
        }
        if Instant::now() >= deadline {
            return Err(CliError::new(
                1,
                format!(
                    "the gateway (pid {}) did not become ready within {} s; see {}",
                    child.id(),
                    args.wait,
                    log_path.display()
                ),
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    println!(
        "gateway started (pid {}) on ws://127.0.0.1:{port}; logs: {}",
        child.id(),
        log_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn log_tail(path: &std::path::Path, from: u64) -> String {
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        use std::io::Seek;
        let _ = f.seek(std::io::SeekFrom::Start(from));
        let _ = f.take(64 * 1024).read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Send a signal to a pid.
fn kill(pid: u32, sig: libc::c_int) -> std::io::Result<()> {
    let pid = libc::pid_t::try_from(pid)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "pid out of range"))?;
    // SAFETY: kill(2) takes plain integers and has no memory-safety preconditions.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::kill(pid, sig) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// `gateway stop`.
pub fn stop(args: StopArgs) -> anyhow::Result<ExitCode> {
    let state = client::state_dir(args.state_dir.as_ref());
    if let crate::systemd::Manager::Systemd { .. } = crate::systemd::manager(&state) {
        return crate::systemd::run_verb("stop");
    }
    stop_in(&state, args.wait)?;
    Ok(ExitCode::SUCCESS)
}

fn stop_in(state: &StateDir, wait: u64) -> anyhow::Result<Option<RuntimeInfo>> {
    let Some(info) = RuntimeInfo::read(state) else {
        println!(
            "gateway is not running (state dir {})",
            state.root().display()
        );
        return Ok(None);
    };
    kill(info.pid, libc::SIGTERM).map_err(|e| {
        CliError::new(
            1,
            format!("cannot signal the gateway (pid {}): {e}", info.pid),
        )
    })?;
    let deadline = Instant::now() + Duration::from_secs(wait.max(1));
    while is_locked(state) {
        if Instant::now() >= deadline {
            return Err(CliError::new(
                1,
                format!(
                    "the gateway (pid {}) is still running {wait} s after SIGTERM; force it with `kill -9 {}`",
                    info.pid, info.pid
                ),
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    println!("gateway stopped (pid {})", info.pid);
    Ok(Some(info))
}

/// Flags of `gateway restart`.
#[derive(Debug, Clone, Args)]
pub struct RestartArgs {
    /// The start flags. `--wait` bounds the wait for the restarted gateway; any run flag (or no
    /// running gateway) makes `restart` a stop-then-start with these flags.
    #[command(flatten)]
    pub start: StartArgs,
    /// Do not wait for in-flight runs: they are persisted and re-run after the restart.
    #[arg(long)]
    pub force: bool,
}

/// `gateway restart`: a running gateway restarts in place (SIGUSR2: it drains in-flight runs,
/// then re-execs with its listening socket inherited, so no connection is refused). With run
/// flags given, or when nothing is running, it is stop-then-start instead.
pub fn restart(args: RestartArgs) -> anyhow::Result<ExitCode> {
    let force = args.force;
    let mut args = args.start;
    let state = client::state_dir(args.run.state_dir.as_ref());
    let r = &args.run;
    let no_run_flags = r.port.is_none()
        && r.bind.is_none()
        && r.auth.is_none()
        && r.token.is_none()
        && r.password.is_none()
        && r.log_level.is_none();
    if let Some(info) = RuntimeInfo::read(&state).filter(|_| no_run_flags && is_locked(&state)) {
        let asked = if force {
            // `force` needs the RPC (a signal carries no options).
            let cargs = ClientArgs {
                conn: client::ConnArgs {
                    url: Some(info.url.clone()),
                    state_dir: args.run.state_dir.clone(),
                    ..client::ConnArgs::default()
                },
                timeout: 10_000,
                ..ClientArgs::default()
            };
            crate::base::block_on(async {
                let (c, _) =
                    client::connect(&cargs, &[openclaw_rs_protocol::scopes::ADMIN]).await?;
                let r = c
                    .call(RestartRequestParams {
                        force: Some(true),
                        reason: Some("openclaw gateway restart --force".into()),
                    })
                    .await;
                c.close().await;
                r.map_err(anyhow::Error::from)
            })?
            .map(|_| ())
        } else {
            kill(info.pid, libc::SIGUSR2).map_err(anyhow::Error::from)
        };
        if asked.is_ok() {
            println!(
                "gateway (pid {}) is restarting in place: in-flight runs drain first (gateway.reload.drainTimeoutMs), new messages are queued",
                info.pid
            );
            let deadline = Instant::now() + Duration::from_secs(args.wait.max(1));
            while Instant::now() < deadline {
                if let Some(now) = RuntimeInfo::read(&state) {
                    if now.started_at_ms != info.started_at_ms && is_locked(&state) {
                        println!("gateway restarted (pid {}, {})", now.pid, now.url);
                        return Ok(ExitCode::SUCCESS);
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            return Err(CliError::new(
                1,
                format!(
                    "the gateway (pid {}) has not restarted within {} s; it may still be draining in-flight runs: see `openclaw gateway status`",
                    info.pid, args.wait
                ),
            )
            .into());
        }
    }
    if let crate::systemd::Manager::Systemd { .. } = crate::systemd::manager(&state) {
        return crate::systemd::run_verb("restart");
    }
    if let Some(prev) = stop_in(&state, args.wait)? {
        if args.run.port.is_none() {
            args.run.port = Some(prev.port);
        }
    }
    start(args)
}

/// `gateway status --json` when no gateway runs.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotRunning<'a> {
    running: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    service: String,
}

/// `gateway status --json` of a running gateway: the runtime file, completed by `status`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusOutput<'a> {
    running: bool,
    pid: Option<u64>,
    url: String,
    version: Option<String>,
    uptime_ms: Option<u64>,
    auth_mode: Option<String>,
    connections: Option<usize>,
    pending_pairing_requests: Option<usize>,
    rss_bytes: Option<u64>,
    state_dir: String,
    reload: Option<&'a ReloadStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    control_ui: Option<&'a openclaw_rs_protocol::methods::gateway::ControlUiStatus>,
    rpc: RpcOutcome<'a>,
    /// Who runs it: the systemd user unit or the pidfile daemon.
    service: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    runtimes: Option<&'a openclaw_rs_protocol::methods::gateway::RuntimeHealth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cooldowns: Option<&'a [openclaw_rs_protocol::methods::gateway::ActiveCooldown]>,
}

/// One line saying which Control UI the gateway serves (`gateway status`, `doctor`).
pub fn control_ui_line(
    ui: &openclaw_rs_protocol::methods::gateway::ControlUiStatus,
    url: &str,
) -> String {
    let http = url
        .replacen("ws://", "http://", 1)
        .replacen("wss://", "https://", 1);
    let at = format!("{}{}/", http.trim_end_matches('/'), ui.base_path);
    match (ui.enabled, ui.source.as_str(), &ui.root) {
        (false, _, _) => "disabled (gateway.controlUi.enabled is false)".to_owned(),
        (true, "builtIn", _) => format!(
            "not installed ({}); install it with `npm i -g openclaw@2026.9.6` or set gateway.controlUi.root",
            ui.detail
        ),
        (true, source, Some(root)) => format!("{source} build at {root}, served at {at}"),
        (true, source, None) => format!("{source}, served at {at}"),
    }
}

/// Whether the `status` call worked.
#[derive(Serialize)]
struct RpcOutcome<'a> {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

/// `gateway status`.
pub async fn status(args: ClientArgs) -> anyhow::Result<ExitCode> {
    let state = client::state_dir(args.conn.state_dir.as_ref());
    // With --url the question is about that gateway only, not the state dir's.
    let info = if args.conn.url.is_some() {
        None
    } else {
        RuntimeInfo::read(&state)
    };
    let service = crate::systemd::describe(&crate::systemd::manager(&state));
    if info.is_none() && args.conn.url.is_none() {
        if args.json {
            client::print_json(&NotRunning {
                running: false,
                state_dir: Some(state.root().display().to_string()),
                error: None,
                service,
            });
        } else {
            println!(
                "gateway is not running (state dir {}); start it with `openclaw gateway start`",
                state.root().display()
            );
            println!("  managed by:  {service}");
        }
        return Ok(ExitCode::from(EXIT_NOT_RUNNING));
    }
    let rpc = match client::connect(&args, &[openclaw_rs_protocol::scopes::READ]).await {
        Ok((c, target)) => {
            let r = c
                .call(StatusParams::default())
                .await
                .map_err(|e| client::explain(&e, &target));
            c.close().await;
            r
        }
        Err(e) => match e.downcast::<CliError>() {
            Ok(c) => Err(c),
            Err(e) => Err(CliError::new(1, e.to_string())),
        },
    };
    if info.is_none() {
        if let Err(e) = &rpc {
            if e.exit == EXIT_NOT_RUNNING {
                if args.json {
                    client::print_json(&NotRunning {
                        running: false,
                        state_dir: None,
                        error: Some(&e.message),
                        service,
                    });
                } else {
                    println!("gateway is not running: {}", e.message);
                }
                return Ok(ExitCode::from(EXIT_NOT_RUNNING));
            }
        }
    }
    let s = rpc.as_ref().ok();
    let pid = s
        .map(|s| u64::from(s.pid))
        .or(info.as_ref().map(|i| i.pid as u64));
    let url = args
        .conn
        .url
        .clone()
        .or(info.as_ref().map(|i| i.url.clone()))
        .unwrap_or_default();
    let version = s
        .map(|s| s.version.clone())
        .or(info.as_ref().map(|i| i.version.clone()));
    let uptime = s.map(|s| s.uptime_ms).or(info
        .as_ref()
        .map(|i| openclaw_rs_gateway::now_ms().saturating_sub(i.started_at_ms)));
    let auth = s
        .map(|s| s.auth_mode.clone())
        .or(info.as_ref().map(|i| i.auth_mode.clone()));
    let connections = s.map(|s| s.connections);
    let pending_pairing = s.map(|s| s.pairing.pending);
    let rss = s.and_then(|s| s.process_memory.rss_bytes);
    if args.json {
        client::print_json(&StatusOutput {
            running: true,
            pid,
            url,
            version,
            uptime_ms: uptime,
            auth_mode: auth,
            connections,
            pending_pairing_requests: pending_pairing,
            rss_bytes: rss,
            state_dir: state.root().display().to_string(),
            reload: s.map(|s| &s.reload),
            control_ui: s.and_then(|s| s.control_ui.as_ref()),
            rpc: RpcOutcome {
                ok: rpc.is_ok(),
                error: rpc.as_ref().err().map(|e| e.message.as_str()),
            },
            service,
            runtimes: s.and_then(|s| s.runtimes.as_ref()),
            cooldowns: s.map(|s| s.cooldowns.as_slice()),
        });
    } else {
        println!("gateway running");
        println!(
            "  pid:         {}",
            pid.map(|p| p.to_string()).unwrap_or("?".into())
        );
        println!("  url:         {url}");
        println!("  version:     {}", version.unwrap_or("?".into()));
        println!(
            "  uptime:      {}",
            uptime.map(client::human_ms).unwrap_or("?".into())
        );
        println!("  auth mode:   {}", auth.unwrap_or("?".into()));
        println!("  managed by:  {service}");
        println!(
            "  connections: {}",
            connections.map(|c| c.to_string()).unwrap_or("?".into())
        );
        match pending_pairing {
            Some(0) | None => {}
            Some(n) => println!(
                "  pairing:     {n} pending request(s): see `openclaw devices list`, approve with `openclaw devices approve <requestId>`"
            ),
        }
        if let Some(rss) = rss {
            println!("  memory:      {:.1} MB RSS", rss as f64 / 1_048_576.0);
        }
        if let Some(r) = s.and_then(|s| s.runtimes.as_ref()) {
            let retired = r.retired_graceful_total + r.retired_wedged_total;
            if retired > 0 {
                println!(
                    "  runtimes:    degraded: {retired} app-server process(es) retired after failures since start ({} wedged); see `openclaw doctor`",
                    r.retired_wedged_total
                );
            }
        }
        for c in s.map(|s| s.cooldowns.as_slice()).unwrap_or_default() {
            println!(
                "  cooldown:    auth profile {} in lane {}{} ({}) until {}",
                c.profile,
                c.lane,
                c.model
                    .as_deref()
                    .map(|m| format!(" for model {m}"))
                    .unwrap_or_default(),
                c.reason,
                openclaw_rs_cooldowns::rfc3339(c.until_ms)
            );
        }
        if let Some(r) = s.and_then(|s| s.reload.restart.as_ref()) {
            println!(
                "  restart:     {} ({}): {}; deadline {}",
                r.phase,
                r.who,
                r.reason,
                openclaw_rs_cooldowns::rfc3339(r.deadline_ms)
            );
        }
        if let Some(ui) = s.and_then(|s| s.control_ui.as_ref()) {
            println!("  control UI:  {}", control_ui_line(ui, &url));
        }
        if let Some(err) = s.and_then(|s| s.reload.last_error.as_ref().map(|e| &e.message)) {
            println!(
                "  config:      last edit rejected; serving the last good config. fix the file (`openclaw doctor` shows it):\n               {}",
                err.replace('\n', "\n               ")
            );
        }
        if let Some(paths) = s.map(|s| &s.reload.pending_restart_paths) {
            if !paths.is_empty() {
                println!(
                    "  restart:     pending for {} (drains in-flight runs first)",
                    paths.join(", ")
                );
            }
        }
        if let Err(e) = &rpc {
            println!(
                "  rpc:         failed: {}",
                e.message.replace('\n', "\n               ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
