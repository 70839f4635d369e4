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
    pub path: String,
    pub included_paths: Vec<String>,
    pub exists: bool,
    /// The file text, or the redacted document as JSON when the file holds secrets.
    pub raw: String,
    /// The document as written (redacted).
    pub parsed: Value,
    pub source_config: Value,
    /// The config in force (redacted).
    pub resolved: Value,
    pub runtime_config: Value,
    pub config: Value,
    pub hash: String,
    pub config_revision_hash: String,
    pub applied_config_hash: String,
    pub valid: bool,
    pub issues: Vec<ConfigIssue>,
    pub warnings: Vec<String>,
    pub legacy_issues: Vec<Value>,
    /// Restart-required paths changed since boot and not yet applied.
    pub pending_restart: Vec<String>,
}

/// A problem with the config file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigIssue {
    pub message: String,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<Value>,
}

/// `config.patch {raw, baseHash?, …}` (OpenClaw's `ConfigPatchParamsSchema`): `raw` is a
/// JSON5 merge patch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigPatchParams {
    pub raw: NonEmpty,
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
    pub raw: NonEmpty,
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
    pub ok: bool,
    pub path: String,
    /// Hash of the file now on disk.
    pub hash: String,
    /// The config in force (redacted).
    pub config: Value,
    pub changed_paths: Vec<String>,
    /// Hot actions performed (`rotateToken`, `logLevel`, …).
    pub actions: Vec<String>,
    pub requires_restart: bool,
    pub pending_restart: Vec<String>,
    /// OpenClaw reports a write as a persisted "sentinel".
    pub sentinel: WriteSentinel,
}

/// `sentinel` of a config write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteSentinel {
    pub persisted: bool,
    pub payload: SentinelPayload,
}

/// `sentinel.payload`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentinelPayload {
    /// `config-set`, `config-patch` or `config-apply`.
    pub kind: String,
    pub status: String,
    pub stats: SentinelStats,
}

/// `sentinel.payload.stats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentinelStats {
    pub mode: String,
    pub root: String,
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
    pub drain_timeout_ms: u64,
    pub pending_restart_paths: Vec<String>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `gateway.restart.request` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartRequestResult {
    pub ok: bool,
    pub restart: RestartIntent,
}

/// `auth.cooldowns.list {}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CooldownsListParams {}

/// `auth.cooldowns.list` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CooldownsListResult {
    pub cooldowns: Vec<CooldownRow>,
    pub ts: u64,
}

/// One auth-profile cooldown (lane-scoped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CooldownRow {
    pub profile: String,
    /// `None`: the whole profile (billing, auth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub lane: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_until: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_until: Option<u64>,
    /// `rate_limit`, `billing`, `auth`, … (the failure class).
    pub reason: String,
    pub error_count: u32,
    pub failure_counts: BTreeMap<String, u32>,
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
    pub ok: bool,
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
