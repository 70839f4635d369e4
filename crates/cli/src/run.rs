//! `openclaw gateway run` / the `gateway` binary: resolve, lock the state dir, bind, serve.

use crate::base::CliError;
use crate::runtime_file::RuntimeInfo;
use clap::{Args, ValueEnum};
use openclaw_rs_config::{AuthMode, BindMode};
use openclaw_rs_gateway::launch::{self, LaunchFlags};
use openclaw_rs_gateway::reload::LogLevelHook;
use openclaw_rs_state::{FileLock, StateDir};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Flags of `gateway run` (and of the `gateway` binary).
#[derive(Debug, Clone, Args, Default)]
pub struct RunArgs {
    /// Port (default: OPENCLAW_GATEWAY_PORT, gateway.port, 18789).
    #[arg(long)]
    pub port: Option<u16>,
    /// `loopback` (127.0.0.1 and ::1, default) or `lan` (0.0.0.0; requires auth).
    #[arg(long, value_enum)]
    pub bind: Option<BindArg>,
    /// Shared-secret mode (default: token).
    #[arg(long, value_enum)]
    pub auth: Option<AuthArg>,
    /// Gateway token (default: OPENCLAW_GATEWAY_TOKEN, gateway.auth.token, else generated into $STATE/gateway.token).
    #[arg(long, allow_hyphen_values = true)]
    pub token: Option<String>,
    /// Gateway password (password auth mode).
    #[arg(long, allow_hyphen_values = true)]
    pub password: Option<String>,
    /// State directory (default: OPENCLAW_STATE_DIR or ~/.openclaw).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Log filter (default: OPENCLAW_LOG, logging.level, `info`).
    #[arg(long)]
    pub log_level: Option<String>,
    /// Accepted for compatibility with OpenClaw's CLI (this gateway runs without a config file).
    #[arg(long, hide = true)]
    pub allow_unconfigured: bool,
}

/// Values of `--bind`: `Loopback` listens on 127.0.0.1 and ::1 only (the default); `Lan` on
/// every interface (0.0.0.0), refused with `--auth none`.
// Doc comments on the variants would become clap's per-value help and change `--help`.
#[expect(missing_docs, reason = "the variants are described on the enum")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BindArg {
    Loopback,
    Lan,
}

/// Values of `--auth`, the shared secret `connect` must prove: `None` (no secret; refused with
/// `--bind lan`), `Token` (the gateway token, the default) or `Password`.
// Doc comments on the variants would become clap's per-value help and change `--help`.
#[expect(missing_docs, reason = "the variants are described on the enum")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthArg {
    None,
    Token,
    Password,
}

/// Values of `--log-format`, how log lines on stderr look: `Text` (human-readable, the
/// default) or `Json` (one JSON object per line).
// Doc comments on the variants would become clap's per-value help and change `--help`.
#[expect(missing_docs, reason = "the variants are described on the enum")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl RunArgs {
    fn flags(&self) -> LaunchFlags {
        LaunchFlags {
            port: self.port,
            bind: self.bind.map(|b| match b {
                BindArg::Loopback => BindMode::Loopback,
                BindArg::Lan => BindMode::Lan,
            }),
            auth: self.auth.map(|a| match a {
                AuthArg::None => AuthMode::None,
                AuthArg::Token => AuthMode::Token,
                AuthArg::Password => AuthMode::Password,
            }),
            token: self.token.clone(),
            password: self.password.clone(),
            state_dir: self.state_dir.clone(),
        }
    }
}

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// Install the subscriber. Returns a hook that swaps the filter (`logging.level` hot reload),
/// or `None` when `--log-level`/`OPENCLAW_LOG` fixed the level (they win over the config), and
/// the log file's writer (started once the state dir is known).
fn init_tracing(
    format: LogFormat,
    level: Option<&str>,
) -> (
    Option<LogLevelHook>,
    openclaw_rs_gateway::logfile::LogWriter,
) {
    use tracing_subscriber::EnvFilter;
    let fixed = level.map(str::to_owned).or_else(|| env("OPENCLAW_LOG"));
    let filter = fixed.clone().unwrap_or_else(|| "info".into());
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("info"));
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // Besides stderr, every event goes to the gateway's rolling JSONL file (started in
    // `run_foreground` once the state dir is known; see `openclaw_rs_gateway::logfile`).
    let (file, writer) = openclaw_rs_gateway::logfile::layer();
    let hook = match format {
        LogFormat::Json => {
            let b = builder.json().with_filter_reloading();
            let h = reload_hook(b.reload_handle());
            b.finish().with(file).try_init().ok().map(|_| h)
        }
        LogFormat::Text => {
            let b = builder.with_filter_reloading();
            let h = reload_hook(b.reload_handle());
            b.finish().with(file).try_init().ok().map(|_| h)
        }
    };
    (hook.filter(|_| fixed.is_none()), writer)
}

fn reload_hook<S: 'static>(
    handle: tracing_subscriber::reload::Handle<tracing_subscriber::EnvFilter, S>,
) -> LogLevelHook {
    Box::new(move |level: &str| {
        let f = tracing_subscriber::EnvFilter::try_new(level)
            .map_err(|e| format!("invalid logging.level `{level}`: {e}"))?;
        handle.reload(f).map_err(|e| e.to_string())
    })
}

/// How long a starting gateway waits for the state-dir lock (a CLI may be probing it).
const LOCK_WAIT: Duration = Duration::from_millis(1500);

/// Run the gateway in the foreground until SIGTERM/SIGINT.
pub fn run_foreground(args: RunArgs) -> anyhow::Result<ExitCode> {
    let (log_hook, log_writer) = init_tracing(args.log_format, args.log_level.as_deref());
    let mut resolved = launch::resolve(&args.flags(), env).map_err(|e| match e {
        openclaw_rs_gateway::GatewayError::Config(m) => CliError::usage(m),
        other => CliError::new(1, other.to_string()),
    })?;
    for w in &resolved.warnings {
        tracing::warn!("{w}");
    }
    let state = resolved.options.state_dir.clone();
    let lock_path = crate::runtime_file::lock_path(&state);
    let lock = acquire_with_wait(&lock_path)?.ok_or_else(|| {
        let running = RuntimeInfo::read(&state)
            .map(|r| format!(" (pid {}, {})", r.pid, r.url))
            .unwrap_or_default();
        CliError::new(
            1,
            format!(
                "a gateway is already running for state dir {}{running}; stop it with `openclaw gateway stop`, or use another --state-dir",
                state.root().display()
            ),
        )
    })?;
    log_writer.start(state.join(openclaw_rs_gateway::logfile::LOG_FILE));
    if let (Some(hook), Some(level)) = (&log_hook, &resolved.options.config.logging.level) {
        if let Err(e) = hook(level) {
            tracing::warn!("{e}");
        }
    }
    // After a re-exec restart the listening sockets are inherited (no refused connections).
    let listeners = openclaw_rs_gateway::reload::take_listeners(
        resolved.bind,
        resolved.port,
        env,
        || launch::bind_listeners(resolved.bind, resolved.port),
    )
    .map_err(|e| {
        let in_use = matches!(&e, openclaw_rs_gateway::GatewayError::Listener { source, .. } if source.kind() == std::io::ErrorKind::AddrInUse);
        if in_use {
            CliError::new(
                1,
                format!(
                    "{e}\nport {} is already in use by another program; choose another with --port or OPENCLAW_GATEWAY_PORT",
                    resolved.port
                ),
            )
        } else {
            CliError::new(1, e.to_string())
        }
    })?;
    let urls = launch::listen_urls(&listeners);
    let port = listeners
        .first()
        .and_then(|l| l.local_addr().ok())
        .map(|a| a.port())
        .unwrap_or(resolved.port);
    resolved.options.listen_urls = urls.clone();
    let info = RuntimeInfo {
        pid: std::process::id(),
        port,
        url: format!("ws://127.0.0.1:{port}"),
        bind: match resolved.bind {
            BindMode::Loopback => "loopback".into(),
            BindMode::Lan => "lan".into(),
        },
        auth_mode: resolved.options.auth.mode.as_str().into(),
        version: openclaw_rs_gateway::VERSION.into(),
        started_at_ms: openclaw_rs_gateway::now_ms(),
        state_dir: state.root().display().to_string(),
    };
    // The runtime file is written (fsynced) beside startup, not before it: on a re-exec restart
    // those fsyncs would otherwise add ~100 ms during which the inherited socket only queues.
    let info_writer = {
        let state = state.clone();
        std::thread::spawn(move || {
            if let Err(e) = info.write(&state) {
                tracing::error!("cannot write the runtime file: {e}");
            }
        })
    };
    if resolved.token_generated {
        tracing::info!(
            path = %state.join(launch::TOKEN_FILE).display(),
            "generated a gateway token (stored 0600; clients on this machine read it from there)"
        );
    }
    tracing::info!(urls = ?urls, auth = resolved.options.auth.mode.as_str(), state_dir = %state.root().display(), "listening");
    let embedded = openclaw_rs_gateway::runs::embedded_binary();
    if !embedded.is_file() {
        // Runs on the default runtime would fail one by one; say so once, with the fix.
        tracing::warn!(
            path = %embedded.display(),
            "the embedded runtime binary is missing, so runs on the default runtime will fail: build it with `cargo build --release --bins` or set OPENCLAW_APP_SERVER_BIN"
        );
    }

    // Under systemd (Type=notify): READY=1 once /readyz answers, so `systemctl start` returns
    // when the gateway serves. The thread ends when ready, on timeout, or when serving ends.
    let serving_done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ready_notifier = crate::sd_notify::notify_wanted().then(|| {
        let done = serving_done.clone();
        std::thread::spawn(move || {
            let deadline = std::time::Instant::now() + Duration::from_secs(120);
            while !done.load(std::sync::atomic::Ordering::Acquire)
                && std::time::Instant::now() < deadline
            {
                if crate::runtime_file::http_ready(port) {
                    crate::sd_notify::notify(&format!(
                        "READY=1\nMAINPID={}\nSTATUS=serving on ws://127.0.0.1:{port}",
                        std::process::id()
                    ));
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    });

    let runtime = build_runtime()?;
    let result = runtime.block_on(openclaw_rs_gateway::reload::serve_restartable(
        listeners,
        resolved.options,
        signals(),
        log_hook,
    ));
    let _ = info_writer.join();
    serving_done.store(true, std::sync::atomic::Ordering::Release);
    if let Some(t) = ready_notifier {
        let _ = t.join();
    }
    let restart = result.map_err(|e| CliError::new(1, e.to_string()));
    if let Ok(Some(restart)) = restart {
        // Same pid after exec: the service manager waits for the new image's READY=1.
        crate::sd_notify::notify(&format!(
            "RELOADING=1\nMONOTONIC_USEC={}\nSTATUS=restarting in place",
            crate::sd_notify::monotonic_usec()
        ));
        // Same pid after exec: the runtime file stays; the lock is re-taken by the new image.
        // The async runtime is not dropped (that would wait on blocking threads); exec ends it.
        drop(lock);
        let e = restart.exec();
        return Err(
            CliError::new(1, format!("cannot re-execute the gateway for restart: {e}")).into(),
        );
    }
    crate::sd_notify::notify("STOPPING=1");
    RuntimeInfo::remove_if_ours(&state, std::process::id());
    drop(lock);
    restart?;
    Ok(ExitCode::SUCCESS)
}

/// The gateway's runtime: `OPENCLAW_GATEWAY_THREADS` workers (1 = a single-threaded runtime),
/// default one per CPU.
fn build_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    limit_malloc_arenas();
    let threads = env("OPENCLAW_GATEWAY_THREADS").and_then(|v| v.trim().parse::<usize>().ok());
    let built = match threads {
        Some(1) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        Some(n) if n > 1 => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build(),
        _ => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
    };
    built.map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))
}

/// Malloc arenas of a gateway process (glibc).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MALLOC_ARENAS: i32 = 1;

/// glibc gives threads their own malloc arenas (up to eight per CPU), and memory freed in one
/// arena is not reused by another. The gateway's blocking pool (journal fsyncs) starts and ends
/// threads all the time, so its RSS kept growing with runs: over the second half of 10,000 runs
/// about 0.5 KB per run with the default or two arenas, about 0.1 KB with one (`cargo xtask
/// soak`, figures in docs/reliability.md). Per-thread caches (tcache) keep the hot path off the
/// arena lock. Called before the runtime's threads start; `MALLOC_ARENA_MAX` in the
/// environment still wins.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: `mallopt` only changes allocator tuning; it takes plain integers and is
        // safe to call at any time (glibc serializes it with allocation).
        #[allow(unsafe_code)]
        let ok = unsafe { libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS) };
        if ok != 1 {
            tracing::debug!("mallopt(M_ARENA_MAX) was refused; keeping glibc's default arenas");
        }
    }
}

fn acquire_with_wait(path: &std::path::Path) -> anyhow::Result<Option<FileLock>> {
    let start = std::time::Instant::now();
    let mut deadline = start + LOCK_WAIT;
    loop {
        match FileLock::try_acquire(path) {
            Ok(Some(l)) => return Ok(Some(l)),
            Ok(None) => {
                // A gateway killed a moment ago may still hold the lock while it exits: wait for
                // it (bounded) instead of refusing as if it were alive.
                let state_dir = path.parent().map(StateDir::new);
                let runtime_pid = state_dir
                    .as_ref()
                    .and_then(crate::runtime_file::runtime_pid);
                if let crate::holder::Holder::Dying(..) = crate::holder::probe(path, runtime_pid) {
                    deadline = deadline.max(start + crate::holder::DYING_WAIT);
                }
                if std::time::Instant::now() >= deadline {
                    return Ok(None);
                }
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => return Err(CliError::new(1, e.to_string()).into()),
        }
    }
}

/// Resolves on SIGTERM or SIGINT.
async fn signals() {
    use tokio::signal::unix::{signal, SignalKind};
    let (term, int) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    );
    match (term, int) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM received"),
                _ = int.recv() => tracing::info!("SIGINT received"),
            }
        }
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "cannot install signal handlers; stop the gateway with SIGKILL");
            std::future::pending::<()>().await
        }
    }
}
