//! The gateway server library: WebSocket + HTTP on one port, handshake, auth, method dispatch, shutdown.
//!
//! Entry points:
//! - [`run`]: serve on listeners bound by the caller until `shutdown` resolves.
//! - [`Gateway`]: the same, but gives access to the [`GatewayState`] before serving
//!   (tests, embedders, other areas that need to reach into the running gateway).
//! - [`launch`]: turn flags + env + config into [`GatewayOptions`] and bound listeners.
//!
//! **Architecture Invariant:** one shutdown tree. `serve` owns the accept tasks, the tick task and
//! every connection task; each connection task owns its writer task and its in-flight requests.
//! Nothing is detached.

mod budget;
mod conn;
pub mod connect;
pub mod control_ui;
pub mod event_loop;
mod http;
pub mod launch;
pub mod logfile;
pub mod methods;
mod options;
pub mod reload;
mod server;
pub mod state;
pub mod wire;

pub use budget::AdmissionStats;
pub use methods::{CallCtx, MethodSpec};

/// Entry points for the fuzz targets in `fuzz/` (not an API).
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::conn::fuzz_preauth_frames as preauth_frames;
    pub use crate::http::fuzz_request_head as request_head;
}
pub use openclaw_rs_config::AuthMode;
pub use options::{GatewayOptions, SharedAuth};
pub use server::{raise_fd_limit, Gateway};
pub use state::{Connection, ConnectionInfo, GatewayState, ShutdownPlan};

use std::future::Future;

/// The gateway's version string (`hello-ok.server.version`, `/startupz`, `status`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Why the gateway could not start or keep serving.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// A listener could not be used (bind, non-blocking mode, registration with the runtime).
    #[error("listener {addr}: {source}")]
    Listener {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    /// No listener was given.
    #[error("no listener to serve on")]
    NoListener,
    /// The options are inconsistent (e.g. LAN bind without auth).
    #[error("{0}")]
    Config(String),
    /// State directory failure (token file, …).
    #[error(transparent)]
    State(#[from] openclaw_rs_state::StateError),
}

/// Serve on `listeners` (already bound) until `shutdown` resolves, then drain and return.
///
/// On shutdown every client receives a `shutdown` event and a 1012 close; connections get
/// `opts.shutdown_grace` to finish before they are dropped.
pub async fn run(
    listeners: Vec<std::net::TcpListener>,
    opts: GatewayOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), GatewayError> {
    Gateway::new(opts)?.serve(listeners, shutdown).await
}
