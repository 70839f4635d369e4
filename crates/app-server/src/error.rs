//! Error types: transport failures shared by every waiter, RPC errors, pool errors and the typed
//! run-level failure classes.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Why a transport to an app-server child stopped being usable. Once set it never changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportFailureKind {
    /// The child exited (status text included in the detail).
    Exited,
    /// stdout reached end of file.
    Eof,
    /// Writing to the child's stdin failed (EPIPE or another I/O error).
    BrokenPipe,
    /// The child wrote a line that is not a JSON-RPC message.
    Malformed,
    /// The pool retired the process because it was wedged (a request timed out, or an interrupt
    /// got no answer). Active leases fail with this.
    Wedged,
    /// The process was closed on purpose (idle grace, retirement, pool shutdown).
    Closed,
}

/// A transport failure: the kind plus a human detail. Shared through [`TransportError`].
#[derive(Debug, PartialEq, Eq)]
pub struct TransportFailure {
    /// What happened.
    pub kind: TransportFailureKind,
    /// Details for humans (exit status, the offending line, the I/O error).
    pub detail: String,
}

/// Cheap-to-clone transport error: every pending request and every subscriber sees the same one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError(pub Arc<TransportFailure>);

impl TransportError {
    /// Builds a new shared failure.
    pub fn new(kind: TransportFailureKind, detail: impl Into<String>) -> Self {
        Self(Arc::new(TransportFailure {
            kind,
            detail: detail.into(),
        }))
    }

    /// The failure kind.
    pub fn kind(&self) -> &TransportFailureKind {
        &self.0.kind
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.0.kind {
            TransportFailureKind::Exited => "app-server process exited",
            TransportFailureKind::Eof => "app-server closed its stdout",
            TransportFailureKind::BrokenPipe => "writing to app-server stdin failed",
            TransportFailureKind::Malformed => "app-server wrote a malformed line",
            TransportFailureKind::Wedged => "app-server was retired as wedged",
            TransportFailureKind::Closed => "app-server connection was closed",
        };
        write!(f, "{what}: {}", self.0.detail)
    }
}

impl std::error::Error for TransportError {}

/// Error returned by one JSON-RPC request on a [`crate::client::Client`].
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// The transport is poisoned; the process must be retired.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The server answered with a JSON-RPC error object. The process is healthy.
    #[error("app-server rejected `{method}` with error {code}: {message}")]
    Rpc {
        /// Method that was called.
        method: String,
        /// JSON-RPC error code (`-32600` for app-level errors, `-32001` for overload).
        code: i64,
        /// Error message from the server.
        message: String,
        /// Optional `error.data`.
        data: Option<serde_json::Value>,
    },
    /// No reply within the timeout. The process is considered wedged.
    #[error("app-server did not answer `{method}` within {timeout:?}")]
    Timeout {
        /// Method that was called.
        method: String,
        /// The timeout that passed.
        timeout: Duration,
    },
    /// The outgoing queue to the writer task is full (the child does not read its stdin).
    #[error("app-server request queue is full ({capacity} lines); the child is not reading stdin")]
    QueueFull {
        /// Capacity of the queue.
        capacity: usize,
    },
}

/// JSON-RPC code the Codex app-server uses for every app-level error.
pub const CODE_INVALID_REQUEST: i64 = -32600;
/// JSON-RPC code for "Server overloaded; retry later."
pub const CODE_OVERLOADED: i64 = -32001;

/// Error from [`crate::pool::Pool::acquire`].
#[derive(Debug, Clone, thiserror::Error)]
pub enum PoolError {
    /// The app-server process failed to start or to answer `initialize`.
    #[error("app-server `{command}` failed to start: {message}")]
    Startup {
        /// Program that was started.
        command: String,
        /// What went wrong (spawn error, exit before initialize, initialize timeout, ...).
        message: String,
    },
    /// This waiter's own deadline passed before the shared startup finished.
    #[error("timed out waiting for app-server `{command}` to become ready (the startup continues for other waiters)")]
    AcquireTimeout {
        /// Program being started.
        command: String,
    },
    /// A process cap is reached.
    #[error(
        "app-server process limit reached: {what} (raise `{setting}` or wait for runs to finish)"
    )]
    Capacity {
        /// Which cap.
        what: String,
        /// Setting that controls it.
        setting: &'static str,
    },
    /// The key is unusable (empty command, ...).
    #[error("invalid app-server runtime: {0}")]
    InvalidKey(String),
    /// The pool was shut down.
    #[error("app-server pool is shut down")]
    Shutdown,
}

/// The typed failure class of a run, defined once in `openclaw_rs_protocol` and shared with
/// the sessions layer and the cooldowns table.
pub use openclaw_rs_protocol::FailureClass;

/// A failed run: class, message, whether retrying the same run may succeed, and the upstream HTTP
/// status when known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("run failed ({class}): {message}")]
#[serde(rename_all = "camelCase")]
pub struct RunError {
    /// Failure class.
    pub class: FailureClass,
    /// Human message.
    pub message: String,
    /// Whether retrying may succeed.
    pub retryable: bool,
    /// Upstream HTTP status, when the app-server reported one.
    pub http_status: Option<u16>,
}

impl RunError {
    /// Builds a run error.
    pub fn new(class: FailureClass, message: impl Into<String>, retryable: bool) -> Self {
        Self {
            class,
            message: message.into(),
            retryable,
            http_status: None,
        }
    }
}

impl From<PoolError> for RunError {
    fn from(e: PoolError) -> Self {
        let (class, retryable) = match &e {
            PoolError::Startup { .. } => (FailureClass::Startup, false),
            PoolError::AcquireTimeout { .. } => (FailureClass::Startup, true),
            PoolError::Capacity { .. } => (FailureClass::Overload, true),
            PoolError::InvalidKey(_) => (FailureClass::Config, false),
            PoolError::Shutdown => (FailureClass::Transport, true),
        };
        RunError::new(class, e.to_string(), retryable)
    }
}
