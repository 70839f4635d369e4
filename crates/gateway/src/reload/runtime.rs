//! [`ReloadRuntime`]: the reload and restart state of one gateway (`GatewayState::reload`):
//! the config store (file and live config), the cooldown table, the restart state, the drain
//! targets and the log-level hook. The tasks that act on it live in `hot` and `drain`.
//!
//! Layer 1: uses `options`, `base`, `wire` and `reload::intent`.

use crate::base::now_ms;
use crate::reload::intent::RestartIntent;
use openclaw_rs_config::Config;
use openclaw_rs_cooldowns::{Cooldowns, Policy};
use openclaw_rs_protocol::methods::config::RestartPreflight;
use openclaw_rs_protocol::methods::gateway::ReloadStatus;
use openclaw_rs_reload::ConfigStore;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Default `gateway.reload.drainTimeoutMs`.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// `shutdown.restartExpectedMs` announced for a re-exec restart.
pub const RESTART_EXPECTED_MS: u64 = 1500;

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

#[derive(Debug, Default)]
pub(super) struct RestartState {
    /// An explicit request waiting to be picked up by the loop.
    pub(super) requested: Option<RestartIntent>,
    /// The drain in progress.
    pub(super) active: Option<RestartIntent>,
    /// Set when the gateway shut down to restart: the binary re-execs.
    pub(super) exec: Option<RestartIntent>,
}

/// Reload and restart state of one gateway (`GatewayState::reload`).
pub struct ReloadRuntime {
    pub(super) store: Arc<ConfigStore>,
    pub(super) cooldowns: Arc<Cooldowns>,
    pub(super) config_tx: watch::Sender<Arc<Config>>,
    pub(super) wake: Notify,
    pub(super) restart: Mutex<RestartState>,
    pub(super) drain_targets: Mutex<Vec<Arc<dyn DrainTarget>>>,
    pub(super) log_hook: Mutex<Option<LogLevelHook>>,
    pub(super) restart_signal: std::sync::atomic::AtomicBool,
    pub(super) debounce: Duration,
    /// The handshake timeout came from `gateway.handshakeTimeoutMs` (or its default), not from
    /// the environment: config edits then apply to the next connection.
    pub(super) handshake_from_config: bool,
    pub(super) handshake_fixed: Duration,
    /// Serializes [`apply_outcome`] (watcher and RPC writes) so actions see a consistent
    /// before/after.
    pub(super) apply_lock: Mutex<()>,
    /// Watch the config file (false for a fixed in-memory config).
    pub(super) watch_file: bool,
}

impl std::fmt::Debug for ReloadRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReloadRuntime")
            .field("store", &self.store.path())
            .finish_non_exhaustive()
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ReloadRuntime {
    /// Build from the gateway options: the config file at `opts.config_path` (the live config
    /// is `opts.config` when they differ, e.g. a test that passes a config without a file) and
    /// the cooldown table in the state dir.
    ///
    /// With `watch_file` false (a fixed in-memory config) the file is neither read nor watched:
    /// the live config is `opts.config` until an RPC write changes it.
    pub(crate) fn new(opts: &crate::options::GatewayOptions, watch_file: bool) -> ReloadRuntime {
        let path = opts.config_path.clone();
        let store = match ConfigStore::open(&path) {
            Ok(s) if watch_file && *s.config() == opts.config => s,
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
            watch_file,
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

    /// Let the reload task restart on SIGUSR2 (binaries only; tests leave it off).
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
    /// (see [`crate::reload::ListenerHandoff::exec`]).
    pub fn restart_to_exec(&self) -> Option<RestartIntent> {
        lock(&self.restart).exec.clone()
    }

    pub(super) fn drain_timeout(&self, force: bool) -> Duration {
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

    pub(super) fn in_flight(&self) -> usize {
        lock(&self.drain_targets)
            .iter()
            .map(|t| t.in_flight())
            .sum()
    }

    pub(super) fn pause_runs(&self, paused: bool) {
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
