//! Config reload inside the gateway: hot apply, `config.changed`, and restarts that drop nothing.
//!
//! [`ReloadRuntime`] (field `GatewayState::reload`) owns the [`ConfigStore`] (the file and the
//! live config), the cooldown table, and the restart state. [`run_loop`] is one background task
//! in the server's shutdown tree: it owns the file watcher and drives restarts.
//!
//! **Hot apply.** Every applied edit stores the effective config into `GatewayState::config`,
//! publishes it on [`ReloadRuntime::subscribe_config`], performs the plan's actions (log level,
//! shared-secret rotation with 4001 closes, cooldown policy, …) and broadcasts `config.changed`.
//! Restart-required values are held at their boot values until the restart (see
//! `openclaw_rs_reload::effective_config`).
//!
//! **Restarts.** A restart-required edit (or `gateway.restart.request`, or SIGUSR2 when enabled)
//! starts a drain: registered [`DrainTarget`]s stop starting new runs but keep accepting and
//! persisting work; in-flight runs get `gateway.reload.drainTimeoutMs`; who/why/deadline are
//! logged and shown in `status`. More edits during the drain join the same restart; reverting the
//! edit cancels it. Then the gateway shuts down with `shutdown {restartExpectedMs}` + 1012 and
//! records a [`RestartIntent`]; the binary re-executes itself with the listening sockets
//! inherited ([`ListenerHandoff`]), so the kernel keeps queueing connections and no client sees
//! "connection refused".

use crate::options::SharedAuth;
use crate::state::{now_ms, GatewayState};
use openclaw_rs_config::{AuthMode, Config};
use openclaw_rs_cooldowns::{Cooldowns, Policy};
use openclaw_rs_reload::{ConfigStore, ConfigWatcher, HotAction, ReloadOutcome};

use openclaw_rs_protocol::methods::config::RestartPreflight;
use openclaw_rs_protocol::methods::gateway::ReloadStatus;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch, Notify};

/// Default `gateway.reload.drainTimeoutMs`.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// `shutdown.restartExpectedMs` announced for a re-exec restart.
pub const RESTART_EXPECTED_MS: u64 = 1500;
/// How often the config file is polled when it cannot be watched.
const POLL_FALLBACK: Duration = Duration::from_secs(2);
/// How often a drain re-checks in-flight work.
const DRAIN_POLL: Duration = Duration::from_millis(100);

/// Something with runs that a restart must drain (the sessions manager).
pub trait DrainTarget: Send + Sync + std::fmt::Debug {
    /// `true`: start no new run, but keep accepting and persisting incoming work.
    /// `false`: resume (a pending restart was cancelled).
    fn set_paused(&self, paused: bool);
    /// Runs in flight right now.
    fn in_flight(&self) -> usize;
}

/// Sets the process log filter (`logging.level`); registered by the binary.
pub type LogLevelHook = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// A restart the gateway is draining for, or has stopped for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartIntent {
    /// Who asked: `config reload`, `gateway.restart.request (conn …)`, `SIGUSR2`.
    pub who: String,
    /// Why, e.g. `config change requires restart (gateway.port)`.
    pub reason: String,
    /// Restart-required config paths (empty for an explicit restart).
    pub paths: Vec<String>,
    pub requested_at_ms: u64,
    /// When the drain gives up waiting for in-flight runs (they are persisted and re-run).
    pub deadline_ms: u64,
    /// Skip the wait (never the persistence).
    pub force: bool,
    /// Asked for explicitly (not cancelled by reverting config).
    pub explicit: bool,
    /// `draining` or `restarting`.
    pub phase: &'static str,
}

#[derive(Debug, Default)]
struct RestartState {
    /// An explicit request waiting to be picked up by the loop.
    requested: Option<RestartIntent>,
    /// The drain in progress.
    active: Option<RestartIntent>,
    /// Set when the gateway shut down to restart: the binary re-execs.
    exec: Option<RestartIntent>,
}

/// Reload and restart state of one gateway (`GatewayState::reload`).
pub struct ReloadRuntime {
    store: Arc<ConfigStore>,
    cooldowns: Arc<Cooldowns>,
    config_tx: watch::Sender<Arc<Config>>,
    wake: Notify,
    restart: Mutex<RestartState>,
    drain_targets: Mutex<Vec<Arc<dyn DrainTarget>>>,
    log_hook: Mutex<Option<LogLevelHook>>,
    restart_signal: std::sync::atomic::AtomicBool,
    debounce: Duration,
    /// The handshake timeout came from `gateway.handshakeTimeoutMs` (or its default), not from
    /// the environment: config edits then apply to the next connection.
    handshake_from_config: bool,
    handshake_fixed: Duration,
    /// Serializes [`apply_outcome`] (watcher and RPC writes) so actions see a consistent
    /// before/after.
    apply_lock: Mutex<()>,
}

impl std::fmt::Debug for ReloadRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReloadRuntime")
            .field("store", &self.store.path())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ReloadRuntime {
    /// Build from the gateway options: the config file at `opts.config_path` (the live config
    /// is `opts.config` when they differ, e.g. a test that passes a config without a file) and
    /// the cooldown table in the state dir.
    pub fn new(opts: &crate::GatewayOptions) -> ReloadRuntime {
        let path = opts.config_path.clone();
        let store = match ConfigStore::open(&path) {
            Ok(s) if *s.config() == opts.config => s,
            _ => ConfigStore::with_config(&path, opts.config.clone()),
        };
        let policy = Policy::from_settings(&opts.config.auth.cooldowns);
        let cooldowns = match Cooldowns::open(&opts.state_dir, policy.clone()) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("{e}; cooldowns are kept in memory only until this is fixed");
                Cooldowns::in_memory(policy)
            }
        };
        let (config_tx, _) = watch::channel(store.config());
        ReloadRuntime {
            store: Arc::new(store),
            cooldowns: Arc::new(cooldowns),
            config_tx,
            wake: Notify::new(),
            restart: Mutex::new(RestartState::default()),
            drain_targets: Mutex::new(Vec::new()),
            log_hook: Mutex::new(None),
            restart_signal: Default::default(),
            debounce: openclaw_rs_reload::DEFAULT_DEBOUNCE,
            handshake_from_config: opts.handshake_timeout
                == opts
                    .config
                    .gateway
                    .handshake_timeout_ms
                    .map(|ms| Duration::from_millis(ms.max(1)))
                    .unwrap_or(crate::options::DEFAULT_HANDSHAKE_TIMEOUT),
            handshake_fixed: opts.handshake_timeout,
            apply_lock: Mutex::new(()),
        }
    }

    /// The handshake timeout for a new connection: `gateway.handshakeTimeoutMs` from the live
    /// config (hot), unless the environment fixed it at start.
    pub fn handshake_timeout(&self) -> Duration {
        if !self.handshake_from_config {
            return self.handshake_fixed;
        }
        self.store
            .config()
            .gateway
            .handshake_timeout_ms
            .map(|ms| Duration::from_millis(ms.max(1)))
            .unwrap_or(crate::options::DEFAULT_HANDSHAKE_TIMEOUT)
    }

    /// The config file and live config.
    pub fn store(&self) -> &Arc<ConfigStore> {
        &self.store
    }

    /// The auth-profile cooldown table (runtime state, `$STATE/state/cooldowns.json`).
    pub fn cooldowns(&self) -> &Arc<Cooldowns> {
        &self.cooldowns
    }

    /// Every applied config (effective values), for areas that rebuild on change
    /// (agent defaults, runtimes, session limits).
    pub fn subscribe_config(&self) -> watch::Receiver<Arc<Config>> {
        self.config_tx.subscribe()
    }

    /// Register work a restart must drain (the sessions manager).
    pub fn add_drain_target(&self, t: Arc<dyn DrainTarget>) {
        lock(&self.drain_targets).push(t);
    }

    /// Register how `logging.level` changes are applied (a tracing reload handle).
    pub fn set_log_level_hook(&self, hook: LogLevelHook) {
        *lock(&self.log_hook) = Some(hook);
    }

    /// Let [`run_loop`] restart on SIGUSR2 (binaries only; tests leave it off).
    pub fn enable_restart_signal(&self) {
        self.restart_signal
            .store(true, std::sync::atomic::Ordering::Release);
    }

    /// Ask for a restart (drained like a config restart; `force` skips the wait).
    pub fn request_restart(&self, who: &str, reason: &str, force: bool) -> RestartIntent {
        let now = now_ms();
        let intent = RestartIntent {
            who: who.to_string(),
            reason: reason.to_string(),
            paths: Vec::new(),
            requested_at_ms: now,
            deadline_ms: now + self.drain_timeout(force).as_millis() as u64,
            force,
            explicit: true,
            phase: "draining",
        };
        tracing::warn!(who, reason, force, "gateway restart requested");
        lock(&self.restart).requested = Some(intent.clone());
        self.wake.notify_one();
        intent
    }

    /// The restart being drained, if any.
    pub fn pending_restart(&self) -> Option<RestartIntent> {
        let r = lock(&self.restart);
        r.active.clone().or_else(|| r.requested.clone())
    }

    /// Set once the gateway stopped in order to restart: the binary should re-exec
    /// (see [`ListenerHandoff::exec`]).
    pub fn restart_to_exec(&self) -> Option<RestartIntent> {
        lock(&self.restart).exec.clone()
    }

    fn drain_timeout(&self, force: bool) -> Duration {
        if force {
            return Duration::ZERO;
        }
        self.store
            .config()
            .gateway
            .reload
            .drain_timeout_ms
            .map(Duration::from_millis)
            .unwrap_or(DEFAULT_DRAIN_TIMEOUT)
    }

    fn in_flight(&self) -> usize {
        lock(&self.drain_targets)
            .iter()
            .map(|t| t.in_flight())
            .sum()
    }

    fn pause_runs(&self, paused: bool) {
        for t in lock(&self.drain_targets).iter() {
            t.set_paused(paused);
        }
    }

    /// `gateway.restart.preflight`: what a restart would wait for right now.
    pub fn preflight(&self) -> RestartPreflight {
        RestartPreflight {
            in_flight_runs: self.in_flight(),
            drain_timeout_ms: self.drain_timeout(false).as_millis() as u64,
            pending_restart_paths: self.store.pending_restart(),
            restart: self
                .pending_restart()
                .as_ref()
                .map(crate::wire::restart_intent),
            mode: "re-exec with inherited listeners".into(),
        }
    }

    /// The `reload` section of `status` / `doctor`.
    pub fn status(&self) -> ReloadStatus {
        crate::wire::reload_status(&self.store.status(), self.pending_restart().as_ref())
    }
}

/// Apply one outcome (from the watcher or an in-process write): swap the live config, perform
/// hot actions, broadcast `config.changed`, and wake the restart logic.
pub fn apply_outcome(state: &GatewayState, outcome: &ReloadOutcome) {
    let rt = &state.reload;
    let _serial = lock(&rt.apply_lock);
    match outcome {
        ReloadOutcome::Unchanged => {}
        ReloadOutcome::Rejected(r) => {
            state.broadcast(&crate::wire::config_rejected(r));
        }
        ReloadOutcome::Applied(a) => {
            if !a.apply_disabled {
                // `state.config` is the store's ArcSwap: already swapped.
                let old = a.previous.clone();
                let new = rt.store.config();
                for action in &a.plan.actions {
                    apply_action(state, *action, &old, &new);
                }
                rt.config_tx.send_replace(new);
                tracing::info!(paths = ?a.changed_paths, actions = ?a.plan.actions, "config hot reload applied");
            }
            state.broadcast(&crate::wire::config_applied(a));
            rt.wake.notify_one();
        }
    }
}

fn apply_action(state: &GatewayState, action: HotAction, old: &Config, new: &Config) {
    match action {
        HotAction::SetLogLevel => {
            let level = new.logging.level.clone().unwrap_or_else(|| "info".into());
            match lock(&state.reload.log_hook).as_ref() {
                Some(hook) => match hook(&level) {
                    Ok(()) => tracing::info!(%level, "log level changed"),
                    Err(e) => tracing::warn!(%level, error = %e, "log level not applied"),
                },
                None => {
                    tracing::info!(%level, "logging.level recorded (this process has no log reload handle)")
                }
            }
        }
        HotAction::RotateSharedSecret => rotate_shared_secret(state, old, new),
        HotAction::UpdateCooldownSettings => {
            state
                .reload
                .cooldowns
                .set_policy(Policy::from_settings(&new.auth.cooldowns));
        }
        // Read from the live config where they are used (next run, next lease, next connect);
        // areas that cache them watch `subscribe_config`.
        HotAction::ReloadRuntimes
        | HotAction::UpdateAgentDefaults
        | HotAction::UpdateLimits
        | HotAction::UpdateTrustedProxies
        | HotAction::UpdateAuthProfiles => {}
        // The HTTP path reads `gateway.controlUi.enabled` from the live config per request.
        HotAction::ToggleControlUi => {
            tracing::info!(
                enabled = new.gateway.control_ui.is_enabled(),
                "control UI serving toggled"
            );
        }
    }
}

/// Shared token/password rotation with the auth mode unchanged: the new secret works at once,
/// connections that proved the old one close with 4001 "gateway auth changed". A secret set by a
/// flag or environment variable wins over the file and is left alone.
fn rotate_shared_secret(state: &GatewayState, old: &Config, new: &Config) {
    let current = state.auth.load_full();
    let mut next: SharedAuth = (*current).clone();
    let mut closed_method = None;
    // Where the token in force came from: the config file, the generated token file, or a
    // flag/environment variable (which wins and is never rotated by a config edit).
    let token_file = || {
        openclaw_rs_state::read_optional(&state.opts.state_dir.join(crate::launch::TOKEN_FILE))
            .ok()
            .flatten()
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
            .filter(|t| !t.is_empty())
    };
    if old.gateway.auth.token != new.gateway.auth.token {
        let from_config = current.token.is_some()
            && (current.token == old.gateway.auth.token
                || (old.gateway.auth.token.is_none() && current.token == token_file()));
        if !from_config {
            tracing::warn!("gateway.auth.token changed in config, but the token in force comes from a flag or environment variable; not rotated");
        } else {
            next.token = match new.gateway.auth.token.clone().filter(|t| !t.is_empty()) {
                Some(t) => Some(t),
                None if current.mode == AuthMode::Token => {
                    crate::launch::load_or_generate_token(&state.opts.state_dir)
                        .map(|(t, _)| t)
                        .ok()
                }
                None => None,
            };
            if next.token != current.token && current.mode == AuthMode::Token {
                closed_method = Some("token");
            }
        }
    }
    if old.gateway.auth.password != new.gateway.auth.password {
        let from_config = current.password == old.gateway.auth.password;
        if !from_config {
            tracing::warn!("gateway.auth.password changed in config, but the password in force comes from a flag or environment variable; not rotated");
        } else {
            next.password = new.gateway.auth.password.clone();
            if next.password != current.password && current.mode == AuthMode::Password {
                closed_method = Some("password");
            }
        }
    }
    if next == *current {
        return;
    }
    let stale_token = state.devices.stale_device_tokens(&next.secrets());
    state.auth.store(Arc::new(next));
    // Device tokens earned with the old secret stop working; their connections go too.
    let stale = state.close_where(
        |c| {
            let i = c.info();
            i.auth_method == "device-token"
                && i.device_id
                    .as_deref()
                    .is_some_and(|d| stale_token(d, &i.role))
        },
        openclaw_rs_protocol::close::AUTH_CHANGED,
        openclaw_rs_protocol::close::REASON_AUTH_CHANGED,
    );
    if stale > 0 {
        tracing::info!(
            closed = stale,
            "shared secret rotated; connections on device tokens earned with it closed"
        );
    }
    if let Some(method) = closed_method {
        let n = state.close_where(
            |c| c.info().auth_method == method,
            openclaw_rs_protocol::close::AUTH_CHANGED,
            openclaw_rs_protocol::close::REASON_AUTH_CHANGED,
        );
        tracing::info!(
            closed = n,
            method,
            "shared secret rotated; old-credential connections closed"
        );
    }
}

/// The reload background task (one per serving gateway, in the server's shutdown tree):
/// owns the file watcher, applies what it reports, and drives restarts.
pub async fn run_loop(state: Arc<GatewayState>) {
    let rt = &state.reload;
    let (tx, mut rx) = mpsc::channel(16);
    let watcher = match ConfigWatcher::spawn(rt.store.clone(), rt.debounce, tx) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::error!("{e}; polling the config file every {POLL_FALLBACK:?} instead");
            None
        }
    };
    // Without a file watch (e.g. inotify limits), poll the file instead.
    let mut poll = watcher
        .is_none()
        .then(|| tokio::time::interval(POLL_FALLBACK));
    let mut usr2 = if rt.restart_signal.load(std::sync::atomic::Ordering::Acquire) {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined2()).ok()
    } else {
        None
    };
    loop {
        let draining = lock(&rt.restart).active.is_some();
        tokio::select! {
            Some(outcome) = rx.recv() => apply_outcome(&state, &outcome),
            _ = rt.wake.notified() => {}
            Some(()) = async { match usr2.as_mut() { Some(s) => s.recv().await, None => std::future::pending().await } } => {
                rt.request_restart("SIGUSR2", "restart signal received", false);
            }
            _ = tokio::time::sleep(DRAIN_POLL), if draining => {}
            _ = async { match poll.as_mut() { Some(p) => { p.tick().await; } None => std::future::pending().await } } => {
                let outcome = rt.store.reload_from_disk();
                apply_outcome(&state, &outcome);
            }
        }
        if step_restart(&state) {
            // The gateway is shutting down to restart; nothing more to watch.
            return;
        }
    }
}

/// Advance the restart state machine. Returns `true` once shutdown-for-restart was requested.
fn step_restart(state: &GatewayState) -> bool {
    let rt = &state.reload;
    let config_paths = rt.store.pending_restart();
    let now = now_ms();
    let mut r = lock(&rt.restart);
    if let Some(req) = r.requested.take() {
        // An explicit request joins (or starts) the drain; `force` shortens it.
        r.active = Some(match r.active.take() {
            Some(mut a) => {
                a.explicit = true;
                a.force |= req.force;
                a.deadline_ms = a.deadline_ms.min(req.deadline_ms);
                a.who = format!("{}, {}", a.who, req.who);
                a
            }
            None => req,
        });
        drop(r);
        rt.pause_runs(true);
        r = lock(&rt.restart);
    }
    match r.active.as_mut() {
        None if config_paths.is_empty() => return false,
        None => {
            let deadline = now + rt.drain_timeout(false).as_millis() as u64;
            let intent = RestartIntent {
                who: "config reload".into(),
                reason: format!(
                    "config change requires restart ({})",
                    config_paths.join(", ")
                ),
                paths: config_paths,
                requested_at_ms: now,
                deadline_ms: deadline,
                force: false,
                explicit: false,
                phase: "draining",
            };
            tracing::warn!(who = %intent.who, reason = %intent.reason, deadline = %openclaw_rs_cooldowns::rfc3339(deadline),
                "restart pending: new runs wait (messages are still accepted and queued); draining in-flight runs");
            r.active = Some(intent);
            drop(r);
            rt.pause_runs(true);
            r = lock(&rt.restart);
        }
        Some(a) if !a.explicit && config_paths.is_empty() => {
            tracing::info!(reason = %a.reason, "config reverted; pending restart cancelled");
            r.active = None;
            drop(r);
            rt.pause_runs(false);
            return false;
        }
        Some(a) => {
            if !config_paths.is_empty() && a.paths != config_paths {
                a.paths = config_paths.clone();
                a.reason = format!(
                    "config change requires restart ({})",
                    config_paths.join(", ")
                );
            }
        }
    }
    let Some(active) = r.active.clone() else {
        return false;
    };
    drop(r);
    let in_flight = rt.in_flight();
    if in_flight > 0 && now < active.deadline_ms && !active.force {
        return false;
    }
    // The next image boots from the file: never restart into a config it cannot load (that
    // would turn a restart into an outage). Keep serving and say why.
    if let Err(e) = openclaw_rs_config::load(rt.store.path()) {
        tracing::error!(error = %e, who = %active.who, "restart cancelled: the config file cannot be loaded; fix it and the restart proceeds");
        lock(&rt.restart).active = None;
        rt.pause_runs(false);
        return false;
    }
    if in_flight > 0 {
        tracing::warn!(
            in_flight,
            "drain deadline reached; in-flight runs are persisted and re-run after the restart"
        );
    }
    let mut intent = active;
    intent.phase = "restarting";
    tracing::warn!(who = %intent.who, reason = %intent.reason, "restarting gateway now");
    {
        let mut r = lock(&rt.restart);
        r.active = Some(intent.clone());
        r.exec = Some(intent.clone());
    }
    state.request_shutdown(crate::ShutdownPlan {
        reason: format!("gateway restarting: {}", intent.reason),
        restart_expected_ms: Some(RESTART_EXPECTED_MS),
    });
    true
}

/// The auth profile a run uses, chosen by [`select_run_auth`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAuth {
    pub profile: String,
    /// `main` for a user's own session, `subagent` for spawned helpers.
    pub lane: String,
    pub model: String,
    /// Profiles passed over because they were cooling down.
    pub skipped: Vec<openclaw_rs_cooldowns::Skipped>,
    /// `auth.profiles.<profile>.env`, merged into the runtime's environment.
    pub env: std::collections::BTreeMap<String, String>,
}

/// The lane of a run: helpers (spawned runs) record failures in their own lane, so a helper's
/// 401 never cools down the profile of the user's own session (`auth.cooldowns.helperLanePolicy`).
pub fn run_lane(spawned: bool) -> &'static str {
    if spawned {
        "subagent"
    } else {
        openclaw_rs_cooldowns::MAIN_LANE
    }
}

/// Choose the auth profile for a run on `runtime`: the candidates are `auth.order.<runtime>`,
/// else the runtime's `authProfile`; the first one not cooling down for (model, lane) wins.
/// `Ok(None)`: the runtime has no auth profile (nothing to track). `Err`: every candidate is
/// cooling down; the message names each one and until when.
pub fn select_run_auth(
    state: &GatewayState,
    runtime: &str,
    model: Option<&str>,
    spawned: bool,
) -> Result<Option<RunAuth>, String> {
    let cfg = state.config.load();
    let candidates: Vec<String> = match cfg.auth.order.get(runtime) {
        Some(order) if !order.is_empty() => order.clone(),
        _ => match cfg
            .runtimes
            .get(runtime)
            .and_then(|r| r.auth_profile.clone())
        {
            Some(p) => vec![p],
            None => return Ok(None),
        },
    };
    let model = model.unwrap_or("default").to_string();
    let lane = run_lane(spawned);
    let selected = state
        .reload
        .cooldowns
        .select(&candidates, &model, lane, openclaw_rs_cooldowns::now_ms())
        .map_err(|e| e.to_string())?;
    if !selected.skipped.is_empty() {
        let skipped: Vec<String> = selected.skipped.iter().map(|s| s.to_string()).collect();
        tracing::info!(profile = %selected.profile, skipped = ?skipped, lane, "auth profile failover");
    }
    let env = cfg
        .auth
        .profiles
        .get(&selected.profile)
        .and_then(|p| p.get("env"))
        .and_then(|e| e.as_object())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Ok(Some(RunAuth {
        profile: selected.profile,
        lane: lane.to_string(),
        model,
        skipped: selected.skipped,
        env,
    }))
}

/// Record a failed run against its auth profile (runtime state in `state/cooldowns.json`; never
/// config, so never a reload or restart). Classes that say nothing about the profile are
/// ignored.
pub fn record_run_failure(
    state: &GatewayState,
    auth: &RunAuth,
    class: openclaw_rs_cooldowns::FailureClass,
) {
    let Some(reason) = openclaw_rs_cooldowns::FailureReason::from_class(class) else {
        return;
    };
    if let Err(e) = state.reload.cooldowns.record_failure(
        &auth.profile,
        &auth.model,
        &auth.lane,
        reason,
        openclaw_rs_cooldowns::now_ms(),
    ) {
        tracing::warn!("cooldown recorded in memory but not persisted: {e}");
    }
}

pub use handoff::{inherited_listeners, ListenerHandoff, LISTEN_FDS_ENV};

/// For binaries: the listeners to serve on. After a re-exec restart the inherited listeners are
/// used when they still match what is wanted (same port, or any port when `port` is 0, and the
/// same loopback/LAN choice); otherwise (e.g. `gateway.port` changed) they are closed and
/// `bind` is called.
pub fn take_listeners(
    bind_mode: openclaw_rs_config::BindMode,
    port: u16,
    get: impl Fn(&str) -> Option<String>,
    bind: impl FnOnce() -> Result<Vec<std::net::TcpListener>, crate::GatewayError>,
) -> Result<Vec<std::net::TcpListener>, crate::GatewayError> {
    let inherited = inherited_listeners(get).map_err(crate::GatewayError::Config)?;
    if let Some(ls) = inherited {
        let lan = bind_mode == openclaw_rs_config::BindMode::Lan;
        let fits = !ls.is_empty()
            && ls.iter().all(|l| {
                l.local_addr()
                    .map(|a| (port == 0 || a.port() == port) && a.ip().is_unspecified() == lan)
                    .unwrap_or(false)
            });
        if fits {
            tracing::info!(
                count = ls.len(),
                "serving on listeners inherited from the previous gateway image"
            );
            return Ok(ls);
        }
        tracing::info!("inherited listeners do not match the configured address; binding anew");
    }
    bind()
}

/// A gateway that stopped in order to restart: call [`Restart::exec`].
#[derive(Debug)]
pub struct Restart {
    pub intent: RestartIntent,
    handoff: ListenerHandoff,
}

impl Restart {
    /// Re-execute this binary with the same arguments and the listening sockets inherited.
    /// Returns only on failure.
    pub fn exec(self) -> std::io::Error {
        let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        tracing::warn!(who = %self.intent.who, reason = %self.intent.reason, "re-executing for restart");
        self.handoff.exec(&args)
    }
}

/// For binaries: serve like [`crate::run`], with SIGUSR2 restarts and the log-level hook
/// enabled. Returns `Some(Restart)` when the gateway stopped to restart; the caller releases
/// its state-dir lock and calls [`Restart::exec`] (the sockets stay open meanwhile, so the
/// kernel keeps accepting connections into the backlog).
pub async fn serve_restartable(
    listeners: Vec<std::net::TcpListener>,
    opts: crate::GatewayOptions,
    shutdown: impl std::future::Future<Output = ()>,
    log_hook: Option<LogLevelHook>,
) -> Result<Option<Restart>, crate::GatewayError> {
    let handoff =
        ListenerHandoff::new(&listeners).map_err(|source| crate::GatewayError::Listener {
            addr: "listener duplicate for restart".into(),
            source,
        })?;
    let gateway = crate::Gateway::new(opts)?;
    let state = gateway.state().clone();
    state.reload.enable_restart_signal();
    if let Some(h) = log_hook {
        state.reload.set_log_level_hook(h);
    }
    gateway.serve(listeners, shutdown).await?;
    Ok(state
        .reload
        .restart_to_exec()
        .map(|intent| Restart { intent, handoff }))
}

/// Passing listening sockets to the next process image.
///
/// **Why unsafe:** adopting an inherited descriptor (`FromRawFd`) and clearing `FD_CLOEXEC`
/// (`fcntl`) have no safe std API. Each use is local, checked, and explained below.
#[allow(unsafe_code)]
mod handoff {
    use std::ffi::OsString;
    use std::net::TcpListener;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
    use std::os::unix::process::CommandExt;

    /// Comma-separated descriptor numbers of listeners handed over by the previous process.
    pub const LISTEN_FDS_ENV: &str = "OPENCLAW_LISTEN_FDS";

    fn set_cloexec(fd: RawFd, on: bool) -> std::io::Result<()> {
        // SAFETY: fcntl on a descriptor number has no memory-safety preconditions; an invalid
        // descriptor yields EBADF, which we report.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        if flags < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let flags = if on {
            flags | libc::FD_CLOEXEC
        } else {
            flags & !libc::FD_CLOEXEC
        };
        // SAFETY: as above.
        if unsafe { libc::fcntl(fd, libc::F_SETFD, flags) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// Listeners named by `OPENCLAW_LISTEN_FDS` (via `get`), or `None` when it is unset.
    /// Each descriptor must be an open, listening TCP socket; it gets `FD_CLOEXEC` back so the
    /// gateway's children never inherit it.
    pub fn inherited_listeners(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Vec<TcpListener>>, String> {
        let Some(spec) = get(LISTEN_FDS_ENV).filter(|s| !s.trim().is_empty()) else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for part in spec.split(',') {
            let fd: RawFd = part.trim().parse().map_err(|_| {
                format!("{LISTEN_FDS_ENV}={spec}: `{part}` is not a descriptor number")
            })?;
            if fd < 3 {
                return Err(format!(
                    "{LISTEN_FDS_ENV}={spec}: descriptor {fd} is stdio, not a listener"
                ));
            }
            // Checks the descriptor is open (EBADF otherwise) before anything takes ownership.
            set_cloexec(fd, true).map_err(|e| {
                format!("{LISTEN_FDS_ENV}={spec}: descriptor {fd} is not usable: {e}")
            })?;
            let mut kind: libc::c_int = 0;
            let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
            // SAFETY: `kind` and `len` are valid, correctly sized out-pointers for SO_ACCEPTCONN.
            let rc = unsafe {
                libc::getsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    libc::SO_ACCEPTCONN,
                    (&mut kind as *mut libc::c_int).cast(),
                    &mut len,
                )
            };
            if rc != 0 || kind == 0 {
                return Err(format!(
                    "{LISTEN_FDS_ENV}={spec}: descriptor {fd} is not a listening socket"
                ));
            }
            // SAFETY: the descriptor is open, is a listening socket (checked above), and was
            // handed to this process image solely for this purpose: nothing else owns it.
            out.push(unsafe { TcpListener::from_raw_fd(fd) });
        }
        Ok(Some(out))
    }

    /// Duplicates of the listening sockets, kept by the binary so the sockets stay open while
    /// the gateway shuts down and the next image starts.
    #[derive(Debug)]
    pub struct ListenerHandoff {
        fds: Vec<OwnedFd>,
    }

    impl ListenerHandoff {
        /// Duplicate `listeners` (the duplicates are close-on-exec until [`Self::exec`]).
        pub fn new(listeners: &[TcpListener]) -> std::io::Result<ListenerHandoff> {
            let fds = listeners
                .iter()
                .map(|l| l.try_clone().map(OwnedFd::from))
                .collect::<Result<_, _>>()?;
            Ok(ListenerHandoff { fds })
        }

        /// The descriptor list as passed in `OPENCLAW_LISTEN_FDS`.
        pub fn env_value(&self) -> String {
            self.fds
                .iter()
                .map(|f| f.as_raw_fd().to_string())
                .collect::<Vec<_>>()
                .join(",")
        }

        /// Replace this process with the same binary and arguments, passing the listeners.
        /// Returns only on failure.
        pub fn exec(self, args: &[OsString]) -> std::io::Error {
            for f in &self.fds {
                if let Err(e) = set_cloexec(f.as_raw_fd(), false) {
                    return e;
                }
            }
            let exe = std::env::current_exe()
                .unwrap_or_else(|_| std::path::PathBuf::from("/proc/self/exe"));
            let mut cmd = openclaw_rs_app_server::spawn::exec_command(&exe);
            if let Some(a0) = args.first() {
                cmd.arg0(a0);
            }
            cmd.args(args.iter().skip(1))
                .env(LISTEN_FDS_ENV, self.env_value());
            tracing::info!(exe = %exe.display(), fds = %self.env_value(), "re-executing gateway with inherited listeners");
            // The descriptors must survive into the new image: leak them on purpose.
            let _keep: Vec<RawFd> = self
                .fds
                .into_iter()
                .map(std::os::fd::IntoRawFd::into_raw_fd)
                .collect();
            cmd.exec()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inherited_listener_round_trip() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let h = ListenerHandoff::new(std::slice::from_ref(&l)).unwrap();
        let spec = h.env_value();
        // Adopting takes ownership of the duplicate, so forget the handoff's copy.
        std::mem::forget(h);
        let got = inherited_listeners(|k| (k == LISTEN_FDS_ENV).then(|| spec.clone()))
            .unwrap()
            .unwrap();
        assert_eq!(got[0].local_addr().unwrap(), addr);
        assert!(inherited_listeners(|_| None).unwrap().is_none());
        let e = inherited_listeners(|_| Some("1".into())).unwrap_err();
        assert!(e.contains("stdio"), "{e}");
        let e = inherited_listeners(|_| Some("x".into())).unwrap_err();
        assert!(e.contains("not a descriptor"), "{e}");
        let f = std::fs::File::open("/proc/self/status").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&f);
        let e = inherited_listeners(|_| Some(fd.to_string())).unwrap_err();
        assert!(e.contains("not a listening socket"), "{e}");
    }
}
