//! Config and restarts: `config.get|set|patch|apply`, `gateway.restart.preflight|request`,
//! and this gateway's `auth.cooldowns.list|clear`.

use super::{request, NonEmpty};
use crate::methods::gateway::RestartIntent;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// `config.get {}` (OpenClaw's `ConfigGetParamsSchema`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigGetParams {}

/// `config.get` result, OpenClaw's keys. Secrets are redacted everywhere, `raw` included.
/// Includes are not supported (`includedPaths` is empty); the source, resolved and runtime
/// configs are the same document here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigGetResult {
    /// Path of the config file.
    pub path: String,
    /// Files pulled in by includes; always empty (includes are not supported here).
    pub included_paths: Vec<String>,
    /// Whether the file exists (a gateway may run on defaults without one).
    pub exists: bool,
    /// The file text, or the redacted document as JSON when the file holds secrets.
    pub raw: String,
    /// The document as written (redacted).
    pub parsed: Value,
    /// The document as written (redacted); the same as `parsed` here.
    pub source_config: Value,
    /// The config in force (redacted).
    pub resolved: Value,
    /// The config in force (redacted); the same as `resolved` here.
    pub runtime_config: Value,
    /// The config in force (redacted); the same as `resolved` here.
    pub config: Value,
    /// Hash of the file's text; pass it as `baseHash` to a later write.
    pub hash: String,
    /// The same as `hash` here.
    pub config_revision_hash: String,
    /// Hash of the config in force (it differs from `hash` while an edit is refused or waits).
    pub applied_config_hash: String,
    /// `false` when the last edit of the file was refused (see `issues`).
    pub valid: bool,
    /// Why the last edit was refused; empty when `valid`.
    pub issues: Vec<ConfigIssue>,
    /// Warnings about the file (e.g. keys this gateway ignores).
    pub warnings: Vec<String>,
    /// OpenClaw's list of outdated config keys; always empty here.
    pub legacy_issues: Vec<Value>,
    /// Restart-required paths changed since boot and not yet applied.
    pub pending_restart: Vec<String>,
}

/// A problem with the config file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigIssue {
    /// What is wrong.
    pub message: String,
    /// When the problem was found, in Unix milliseconds.
    pub at_ms: u64,
}

/// `config.set {raw, baseHash?}` (OpenClaw's `ConfigSetParamsSchema`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigSetParams {
    /// The whole file, JSON5.
    pub raw: NonEmpty,
    /// The `hash` of the config this edit was made against; refused when the file changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_hash: Option<NonEmpty>,
}

/// Where OpenClaw delivers a restart notice (accepted, not used: this gateway has no channels).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeliveryContext {
    /// Channel name; accepted, not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Recipient on the channel; accepted, not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Channel account; accepted, not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Channel thread (string or number); accepted, not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<Value>,
}

/// `config.patch {raw, baseHash?, …}` (OpenClaw's `ConfigPatchParamsSchema`): `raw` is a
/// JSON5 merge patch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigPatchParams {
    /// The JSON5 merge patch: objects merge, `null` deletes a key, other values replace.
    pub raw: NonEmpty,
    /// The `hash` of the config this patch was made against; refused when the file changed since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_hash: Option<NonEmpty>,
    /// Accepted, not used (restart notices go to no session here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
    /// Accepted, not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_context: Option<DeliveryContext>,
    /// Accepted, not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Accepted, not used: restarts here are drained, never scheduled by delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_delay_ms: Option<u64>,
    /// Accepted, not used: the merge patch replaces what it names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_paths: Option<Vec<NonEmpty>>,
}

/// `config.apply {raw, baseHash?, …}` (OpenClaw's `ConfigApplyParamsSchema`): a whole-file
/// write like `config.set`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigApplyParams {
    /// The whole new file, JSON5.
    pub raw: NonEmpty,
    /// The `hash` of the config this edit was made against; refused when the file changed since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_hash: Option<NonEmpty>,
    /// Accepted, not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
    /// Accepted, not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_context: Option<DeliveryContext>,
    /// Accepted, not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Accepted, not used: restarts here are drained, never scheduled by delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_delay_ms: Option<u64>,
}

/// The result of `config.set`, `config.patch` and `config.apply`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigWriteResult {
    /// Always `true` (failures are error responses).
    pub ok: bool,
    /// Path of the file written.
    pub path: String,
    /// Hash of the file now on disk.
    pub hash: String,
    /// The config in force (redacted).
    pub config: Value,
    /// Dotted config paths that changed with this write.
    pub changed_paths: Vec<String>,
    /// Hot actions performed (`rotateToken`, `logLevel`, …).
    pub actions: Vec<String>,
    /// Whether a changed path needs a restart to take effect.
    pub requires_restart: bool,
    /// Restart-required paths changed and not yet applied (this write's and earlier ones).
    pub pending_restart: Vec<String>,
    /// OpenClaw reports a write as a persisted "sentinel".
    pub sentinel: WriteSentinel,
}

/// `sentinel` of a config write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteSentinel {
    /// Always `true`: the write is on disk before the answer.
    pub persisted: bool,
    /// What was written.
    pub payload: SentinelPayload,
}

/// `sentinel.payload`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentinelPayload {
    /// `config-set`, `config-patch` or `config-apply`.
    pub kind: String,
    /// `ok`.
    pub status: String,
    /// Details of the write.
    pub stats: SentinelStats,
}

/// `sentinel.payload.stats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentinelStats {
    /// The method that wrote (`config.set`, `config.patch` or `config.apply`).
    pub mode: String,
    /// Path of the file written.
    pub root: String,
    /// Whether a changed path needs a restart to take effect.
    pub requires_restart: bool,
}

/// `gateway.restart.preflight {}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartPreflightParams {}

/// `gateway.restart.preflight` result: what a restart would wait for now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestartPreflight {
    /// Runs a restart would drain.
    pub in_flight_runs: usize,
    /// How long a restart would wait for runs to finish, in milliseconds.
    pub drain_timeout_ms: u64,
    /// Restart-required config paths changed since boot.
    pub pending_restart_paths: Vec<String>,
    /// The restart already requested, if any.
    pub restart: Option<RestartIntent>,
    /// How this gateway restarts.
    pub mode: String,
}

/// `gateway.restart.request {force?, reason?}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestartRequestParams {
    /// Skip waiting for runs to drain (they are persisted and re-run either way).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    /// Why the restart is requested; logged and reported in the restart intent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `gateway.restart.request` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartRequestResult {
    /// Always `true` (a refusal is an error response).
    pub ok: bool,
    /// The restart now pending.
    pub restart: RestartIntent,
}

/// `auth.cooldowns.list {}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CooldownsListParams {}

/// `auth.cooldowns.list` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CooldownsListResult {
    /// Current cooldowns, active or expired but still on record.
    pub cooldowns: Vec<CooldownRow>,
    /// When the list was taken, in Unix milliseconds.
    pub ts: u64,
}

/// One auth-profile cooldown (lane-scoped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CooldownRow {
    /// The auth profile id the cooldown applies to.
    pub profile: String,
    /// `None`: the whole profile (billing, auth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The lane (`main` or a helper lane) in which the profile is blocked.
    pub lane: String,
    /// End of a model-scoped cooldown (rate limit, transient failures), in Unix milliseconds;
    /// absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_until: Option<u64>,
    /// End of a longer disable (billing or auth failures), in Unix milliseconds; absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_until: Option<u64>,
    /// `rate_limit`, `billing`, `auth`, … (the failure class).
    pub reason: String,
    /// Consecutive failures within the failure window.
    pub error_count: u32,
    /// Consecutive failures per reason within the window, keyed by reason name.
    pub failure_counts: BTreeMap<String, u32>,
    /// Time of the last failure, in Unix milliseconds.
    pub last_failure_at: u64,
    /// Still blocking now.
    pub active: bool,
}

/// `auth.cooldowns.clear {profile}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CooldownsClearParams {
    /// The auth profile id whose cooldowns end now.
    pub profile: NonEmpty,
}

/// `auth.cooldowns.clear` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CooldownsClearResult {
    /// Always `true` (a refusal is an error response).
    pub ok: bool,
    /// The profile whose cooldowns were cleared.
    pub profile: String,
}

request! {
    ConfigGetParams => ConfigGetResult, "config.get";
    ConfigSetParams => ConfigWriteResult, "config.set";
    ConfigPatchParams => ConfigWriteResult, "config.patch";
    ConfigApplyParams => ConfigWriteResult, "config.apply";
    RestartPreflightParams => RestartPreflight, "gateway.restart.preflight";
    RestartRequestParams => RestartRequestResult, "gateway.restart.request";
    CooldownsListParams => CooldownsListResult, "auth.cooldowns.list";
    CooldownsClearParams => CooldownsClearResult, "auth.cooldowns.clear";
}
