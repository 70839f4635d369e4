//! Run execution: the sessions component of a gateway ([`Sessions`]), the app-server executor,
//! executors per runtime, runtime auth selection from cooldowns ([`run_auth`]) and the dynamic
//! tools offered to runs.
//!
//! Layers 0–2 (see each module); nothing here uses a handler module.
//!
//! # Tools for runs
//! Runs on the embedded runtime, and on runtimes configured with `dynamicTools: true` (real
//! Codex), are offered the dynamic tool `sessions_spawn` (module `tools`): a task calls
//! `"$OPENCLAW_APP_SERVER_BIN" tool sessions_spawn '{"task":…}'`, or the model calls the tool and
//! Codex sends `item/tool/call`; either way the child is spawned in process through the run's
//! `SpawnHandle`, never over WebSocket.

pub(crate) mod app_server;
pub(crate) mod executors;
pub(crate) mod lifecycle;
pub mod run_auth;
pub(crate) mod sessions;
pub(crate) mod tools;

pub use app_server::embedded_binary;
pub use sessions::Sessions;
