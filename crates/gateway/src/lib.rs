//! The OpenClaw-compatible gateway as a library: WebSocket + HTTP on one port, the `connect`
//! handshake with shared-secret and device auth, the RPC method registry, sessions and runs on
//! app-server runtimes, config hot reload, and one shutdown tree.
//!
//! This is what the `gateway` binary and `openclaw gateway run` serve; embed it to serve the same
//! protocol from your own Tokio program (OpenClaw's Control UI, TUI and CLI, or the typed client
//! `openclaw_rs_client`, connect to it unchanged).
//!
//! # Entry points
//! - [`run`]: serve with defaults on listeners you bound, until a future resolves.
//! - [`Gateway::builder`] → [`GatewayBuilder`]: choose the parts — a fixed in-memory [`Config`]
//!   or a watched file, the auth service, the sessions manager, the run executor per runtime
//!   (the app-server pool or your own [`RunExecutor`]), extra methods with their scopes
//!   ([`MethodSpec`]), the listeners — then [`Gateway::serve`] / [`Gateway::run_until`].
//! - [`GatewayState`] (from [`Gateway::state`], and the first argument of every method handler):
//!   broadcast events, look at connections, read the live config, request a shutdown.
//! - [`launch`]: flags + environment + config file to [`GatewayOptions`] and bound listeners,
//!   as the binaries do; [`reload::serve_restartable`] adds restarts with socket hand-off.
//!
//! # Example
//! Embed a gateway on `127.0.0.1:0` with a fixed config and a token, then stop it
//! (`examples/embed.rs` also calls it with the typed client):
//! ```no_run
//! use openclaw_rs_gateway::{Gateway, SharedAuth};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let state_dir = std::env::temp_dir().join("embedded-gateway");
//! let gateway = Gateway::builder(&state_dir)
//!     .fixed_config(openclaw_rs_config::Config::default())
//!     .auth(SharedAuth::token("a-long-random-token"))
//!     .bind("127.0.0.1:0")?
//!     .build()?;
//! println!("listening on ws://{}", gateway.local_addrs()[0]);
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let serving = tokio::spawn(gateway.run_until(async move {
//!     let _ = stopped.await;
//! }));
//! // … connect clients …
//! let _ = stop.send(());
//! serving.await??;
//! # Ok(())
//! # }
//! ```
//!
//! # Layering
//! Modules form layers; a module uses only modules of its own or lower layers, and never in a
//! cycle (a tidy test, `xtask/tests/module_cycles.rs`, fails on any module cycle):
//! 1. Foundations: `base`, `error`, `options`, `control_ui`, `event_loop`, `budget`, `logfile`,
//!    `launch`, `metrics` (the [`metrics::Metrics`] value), `wire` (conversion into the protocol's
//!    types), `reload::{intent, handoff}`, `runs::{run_auth, executors, sessions, tools,
//!    app_server}` (run execution).
//! 2. `reload::runtime` (config store, cooldowns, restart state).
//! 3. `state` ([`GatewayState`], [`Connection`]): never a handler; `metrics::levels` (the state as
//!    the metrics' level source).
//! 4. Services on the state: `rpc` ([`MethodSpec`], [`CallCtx`], the registry), `fanout`
//!    (event fan-out), `http`, `connect`, `control_ui::serve`, `reload::hot` (hot apply),
//!    `reload::drain` (reload task, restart drain), `runs::lifecycle`, `metrics::route`
//!    (`GET /metrics`).
//! 5. `methods::*`: the RPC handlers, one module per area.
//! 6. `conn` (one connection), `server` (accept loop, shutdown tree).
//! 7. `builder` ([`Gateway`], [`GatewayBuilder`]), `reload::restart`, the crate root.
//!
//! **Architecture Invariant:** one shutdown tree. `serve` owns the accept loop, the tick task,
//! the event-loop monitor, the reload task (config watcher, restart drain), the session event
//! fan-out and every connection task; each connection task owns its writer task and its
//! in-flight requests; the sessions manager and the app-server pool are shut down before
//! `serve` returns. Nothing is detached.
//!
//! **Architecture Invariant:** nothing global. Mutable state belongs to one gateway: its metrics
//! ([`GatewayState::metrics`], in a registry of its own or the one given to
//! [`GatewayBuilder::metrics_registry`]), the sessions manager's observer, locks, the restart
//! count ([`GatewayOptions::restarts`]). Two gateways in one process count and lock separately;
//! only process-level things are shared (the `process_*` figures, the tracing subscriber and its
//! log-file writer installed by the CLI).

#![warn(missing_docs)]

mod base;
mod budget;
mod builder;
mod conn;
pub mod connect;
pub mod control_ui;
mod error;
mod event_loop;
mod fanout;
mod http;
pub mod launch;
pub mod logfile;
mod methods;
pub mod metrics;
mod options;
pub mod reload;
mod rpc;
pub mod runs;
mod server;
mod state;
mod wire;

pub use base::{now_ms, VERSION};
pub use budget::AdmissionStats;
pub use builder::{Gateway, GatewayBuilder};
pub use error::GatewayError;
pub use event_loop::EventLoopStats;
pub use openclaw_rs_config::{AuthMode, Config};
pub use openclaw_rs_sessions::RunExecutor;
pub use options::{GatewayOptions, SharedAuth, DEFAULT_HANDSHAKE_TIMEOUT};
/// The `prometheus` crate the gateway's metrics are made with (give
/// [`GatewayBuilder::metrics_registry`] a registry of this version).
pub use prometheus;
pub use rpc::{CallCtx, FastHandler, Handler, MethodSpec};
pub use runs::Sessions;
pub use server::raise_fd_limit;
pub use state::{
    CloseRequest, Connection, ConnectionInfo, GatewayState, ShutdownPlan, HEALTH_CACHE_TTL,
};

/// Entry points for the fuzz targets in `fuzz/` (not an API).
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::conn::fuzz_preauth_frames as preauth_frames;
    pub use crate::http::fuzz_request_head as request_head;
}

use std::future::Future;

/// Serve on `listeners` (already bound) until `shutdown` resolves, then drain and return.
///
/// Every part is at its default (see [`GatewayBuilder`]). On shutdown every client receives a
/// `shutdown` event and a 1012 close; connections get `opts.shutdown_grace` to finish before
/// they are dropped.
pub async fn run(
    listeners: Vec<std::net::TcpListener>,
    opts: GatewayOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), GatewayError> {
    Gateway::new(opts)?.serve(listeners, shutdown).await
}
