//! Config reload: dotted-path diffs, the rule table and pure classifier (hot / restart / none),
//! the live config store behind `ArcSwap`, and the debounced file watcher.
//!
//! Flow: an edit (file watcher or an in-process `config.set`/`config.patch`) → parse and
//! validate (an invalid edit keeps the last good config and is recorded in [`ReloadStatus`]) →
//! [`classify()`] against the running config → hot actions applied in place by the gateway, and
//! restart-required paths held back until the restart (see [`store::effective_config`]).

pub mod classify;
pub mod diff;
pub mod docs;
pub mod store;
pub mod watch;

pub use classify::{
    classify, classify_raw, Decision, HotAction, Kind, PathDecision, ReloadPlan, RULES,
};
pub use diff::diff_paths;
pub use store::{
    effective_config, hash_bytes, Applied, ConfigStore, Rejected, ReloadOutcome, ReloadStatus,
    Snapshot, WriteError,
};
pub use watch::{ConfigWatcher, WatchError, DEFAULT_DEBOUNCE};
