//! [`GatewayError`]: why the gateway could not start or keep serving.
//!
//! Layer 0: uses nothing else in the crate.

/// Why the gateway could not start or keep serving.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// A listener could not be used (bind, non-blocking mode, registration with the runtime).
    #[error("listener {addr}: {source}")]
    Listener {
        /// The listen address (or what the listener was for).
        addr: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// No listener was given.
    #[error("no listener to serve on")]
    NoListener,
    /// The options are inconsistent (e.g. LAN bind without auth).
    #[error("{0}")]
    Config(String),
    /// The gateway's metrics could not be registered (e.g. the registry given to
    /// [`crate::GatewayBuilder::metrics_registry`] already has one of its names).
    #[error("{0}")]
    Metrics(String),
    /// State directory failure (token file, …).
    #[error(transparent)]
    State(#[from] openclaw_rs_state::StateError),
}
