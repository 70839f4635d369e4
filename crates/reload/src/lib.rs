//! Config reload: dotted-path diffs, the rule table and pure classifier (hot / restart / none),
//! the live config store behind `ArcSwap`, and the debounced file watcher.
//!
//! Flow: an edit (file watcher or an in-process `config.set`/`config.patch`) → parse and
//! validate (an invalid edit keeps the last good config and is recorded in [`ReloadStatus`]) →
//! [`classify()`] against the running config → hot actions applied in place by the gateway, and
//! restart-required paths held back until the restart (see [`store::effective_config`]).
//!
//! Entry points: [`classify()`] (pure: old config, new config → [`ReloadPlan`]), [`diff_paths`],
//! [`ConfigStore`] (the live config), [`ConfigWatcher`] (the debounced file watcher).
//!
//! ```
//! use std::path::Path;
//! use openclaw_rs_reload::{classify, HotAction};
//!
//! let parse = |t: &str| openclaw_rs_config::parse(t, Path::new("openclaw.json")).unwrap().config;
//! let old = parse(r#"{ gateway: { port: 18789 } }"#);
//! let new = parse(r#"{ gateway: { port: 18790, auth: { rateLimit: { maxAttempts: 5 } } } }"#);
//! let plan = classify(&old, &new);
//! assert!(plan.requires_restart());
//! assert_eq!(plan.restart_paths, vec!["gateway.port".to_string()]);
//! assert!(plan.actions.contains(&HotAction::UpdateLimits));
//! ```
#![warn(missing_docs)]

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
