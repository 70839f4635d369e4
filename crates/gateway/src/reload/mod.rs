//! Config reload inside the gateway: hot apply, `config.changed`, and restarts that drop nothing.
//!
//! [`ReloadRuntime`] (field `GatewayState::reload`) owns the [`ConfigStore`](openclaw_rs_reload::ConfigStore) (the file and the
//! live config), the cooldown table, and the restart state. `drain::run_loop` is one background task
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
//!
//! Modules, one reason to change each:
//! - `intent`: [`RestartIntent`], what a restart is for (layer 0).
//! - `runtime`: [`ReloadRuntime`], the config store, cooldown table, restart state and drain
//!   targets of one gateway (layer 1; `GatewayState::reload`).
//! - `hot`: hot apply of a config edit ([`apply_outcome`]).
//! - `drain`: the reload task (file watcher) and the restart drain state machine.
//! - `handoff`: passing the listening sockets to the next process image.
//! - `restart`: serving with restarts, for binaries ([`serve_restartable`], [`take_listeners`]).

pub(crate) mod drain;
pub mod handoff;
pub(crate) mod hot;
pub(crate) mod intent;
pub(crate) mod restart;
pub(crate) mod runtime;

pub use handoff::{inherited_listeners, ListenerHandoff, LISTEN_FDS_ENV};
pub use hot::apply_outcome;
pub use intent::RestartIntent;
pub use restart::{serve_restartable, take_listeners, Restart};
pub use runtime::{
    DrainTarget, LogLevelHook, ReloadRuntime, DEFAULT_DRAIN_TIMEOUT, RESTART_EXPECTED_MS,
};
