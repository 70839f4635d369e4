//! Client and lease pool for shared app-server children speaking JSON-RPC over stdio.
//!
//! - [`client::Client`]: one child, one writer, one reader; correlation, routing, poisoning.
//! - [`pool::Pool`]: one shared process per [`ProcessKey`], leased by runs ([`pool::Lease`]).
//! - [`run::execute`]: one agent run (thread + turn) on a leased process, with typed failures.
//! - [`classify`]: failure shapes to [`FailureClass`].

pub mod classify;
pub mod client;
pub mod error;
pub mod key;
pub mod ledger;
pub mod pool;
pub mod run;
pub mod spawn;

pub use error::{ClientError, FailureClass, PoolError, RunError, TransportError};
pub use key::ProcessKey;
pub use pool::{Lease, Pool, PoolConfig, PoolStats};
pub use run::{execute, CancelToken, RunEvent, RunOutcome, RunSpec};
