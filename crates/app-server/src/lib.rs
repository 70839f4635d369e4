//! Client and lease pool for shared app-server children speaking JSON-RPC over stdio.
//!
//! - [`client::Client`]: one child, one writer, one reader; correlation, routing, poisoning.
//! - [`pool::Pool`]: one shared process per [`ProcessKey`], leased by runs ([`pool::Lease`]).
//! - [`run::execute`]: one agent run (thread + turn) on a leased process, with typed failures.
//! - [`classify`]: failure shapes to [`FailureClass`].
//! - [`tools`]: dynamic tools a run declares and answers (`item/tool/call`), via
//!   [`execute_with_tools`].
//!
//! A run-level failure (a 401 on the turn, a `-32600` rejection, a failed `thread/start`) fails
//! only that run; the shared process stays for every other run. Only a broken transport or a
//! wedged process retires it. See `docs/app-server.md`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), openclaw_rs_app_server::RunError> {
//! use std::time::Duration;
//! use openclaw_rs_app_server::{execute, CancelToken, Pool, PoolConfig, ProcessKey, RunSpec};
//!
//! let pool = Pool::new(PoolConfig::default());
//! let key = ProcessKey::new(vec!["openclaw-app-server".into()]);
//! let (events, mut rx) = tokio::sync::mpsc::channel(64);
//! let spec = RunSpec {
//!     task: "echo test".into(),
//!     model: None,
//!     cwd: std::env::temp_dir(),
//!     timeout: Duration::from_secs(60),
//!     thread_id: None,
//!     sandbox: None,
//! };
//! let run = tokio::spawn(async move { while rx.recv().await.is_some() {} });
//! let outcome = execute(&pool, &key, spec, events, CancelToken::new()).await?;
//! assert_eq!(outcome.final_text, "test\n");
//! # let _ = run.await;
//! pool.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! A runnable piece that needs no child process: how a pool failure becomes a typed run failure.
//!
//! ```
//! use openclaw_rs_app_server::{FailureClass, PoolError, RunError};
//!
//! let err = RunError::from(PoolError::Shutdown);
//! assert_eq!(err.class, FailureClass::Transport);
//! assert!(err.retryable);
//! ```
//!
//! The whole path (pool, lease, run on the embedded app-server) runs as the `lease_pool`
//! example: `cargo build -p openclaw-app-server-bin && cargo run -p openclaw-rs-app-server
//! --example lease_pool`.
#![warn(missing_docs)]

pub mod catalog;
pub mod classify;
pub mod client;
pub mod error;
pub mod key;
pub mod ledger;
pub mod pool;
pub mod run;
pub mod spawn;
pub mod tools;

/// Entry points for the fuzz targets in `fuzz/` (not an API).
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::client::fuzz_decode_stdout as decode_stdout;
}

pub use catalog::{list_models, read_account, AccountState, AppModel, CatalogError};
pub use error::{ClientError, FailureClass, PoolError, RunError, TransportError};
pub use key::ProcessKey;
pub use pool::{Lease, Pool, PoolConfig, PoolStats, ProcessInfo};
pub use run::{execute, execute_with_tools, CancelToken, RunEvent, RunOutcome, RunSpec};
pub use tools::{
    DynamicTool, DynamicToolKind, RunTools, ToolCall, ToolError, ToolFuture, ToolHandler,
    ToolOutput,
};
