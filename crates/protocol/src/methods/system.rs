//! Gateway and diagnostics beyond `health`/`status`: `system.info`, `update.status`,
//! `last-heartbeat`, `diagnostics.stability`, `diagnostics.lanes`, `doctor.memory.status`,
//! `config.schema`, and the Control UI's preferences (`users.prefs.get|set`, the
//! `users.prefs.changed` event).
//!
//! Shapes: OpenClaw's `SystemInfoResult`, `UpdateStatusResult`, `ConfigSchemaResponse`,
//! `UsersPrefs*` schemas; where OpenClaw has no result schema, the Node gateway's answer to the
//! same call (openclaw@2026.9.6).

use super::gateway::EventLoopHealth;
use super::{event, request};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// `system.info {}` (OpenClaw's closed `SystemInfoParamsSchema`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemInfoParams {}

/// `system.info` result (OpenClaw's `SystemInfoResultSchema`): the host and this process.
/// Optional fields this gateway cannot measure (a JS heap, disks) are left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemInfoResult {
    pub machine_name: String,
    pub hostname: String,
    /// `linux`, `macos`, … (Rust's `std::env::consts::OS`).
    pub platform: String,
    /// Kernel release.
    pub release: String,
    pub arch: String,
    pub os_label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The runtime serving the gateway: OpenClaw puts Node's version here; this gateway says
    /// what it is (`openclaw-rs <version>`), never a Node version it does not run on.
    pub node_version: String,
    pub pid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_instance_id: Option<String>,
    pub uptime_ms: u64,
    pub cpu_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_average: Option<[f64; 3]>,
    pub memory_total_bytes: u64,
    pub memory_free_bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_loop: Option<EventLoopHealth>,
}

/// `update.status {refreshCheckout?}` (OpenClaw's closed `UpdateStatusParamsSchema`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateStatusParams {
    /// Accepted, not used: this gateway has no checkout to refresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_checkout: Option<bool>,
}

/// `update.status` result (OpenClaw's `UpdateStatusResultSchema`). This gateway has no update
/// channel: no sentinel, no available update, no schedule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStatusResult {
    /// The restart sentinel of an update in progress; always `null` here.
    pub sentinel: Option<Value>,
    /// An update newer than the running version; always `null` here (never claimed).
    pub update_available: Option<Value>,
}

/// `last-heartbeat {}`: OpenClaw takes no params (no schema); any object is accepted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastHeartbeatParams {}

/// The last heartbeat event, as Node answers `last-heartbeat`. This gateway runs no heartbeat,
/// so the result is always `null` (`Option::None`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeartbeatEvent {
    pub ts: u64,
    pub status: String,
}

/// `diagnostics.stability {}` (no OpenClaw params schema).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosticsStabilityParams {}

/// `diagnostics.stability` result: the Node gateway's recorder snapshot. This gateway keeps no
/// diagnostic-event recorder: capacity 0, no events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticsStabilityResult {
    /// ISO-8601 time of the snapshot.
    pub generated_at: String,
    pub capacity: u64,
    pub count: u64,
    pub dropped: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    pub events: Vec<Value>,
}

/// `diagnostics.lanes {}` (no OpenClaw params schema).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosticsLanesParams {}

/// `diagnostics.lanes` result (the Node gateway's shape).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticsLanesResult {
    pub ts: u64,
    pub lanes: Vec<Lane>,
    /// Node's dynamic lanes; none here.
    pub dynamic: Option<Value>,
}

/// One run lane: runs queued and active, and its concurrency cap.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lane {
    pub lane: String,
    pub queued_count: u64,
    pub active_count: u64,
    /// `null` where the lane has no gateway-wide cap.
    pub max_concurrent: Option<u64>,
    pub draining: bool,
    pub generation: u64,
    pub blocked_by: Option<String>,
}

/// `doctor.memory.status {agentId?, probe?}` (no OpenClaw params schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DoctorMemoryStatusParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// Accepted, not used (nothing to probe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<bool>,
}

/// `doctor.memory.status` result: the Node gateway's "no memory search manager" answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DoctorMemoryStatusResult {
    pub agent_id: String,
    pub search_runtime_registered: bool,
    pub embedding: MemoryEmbedding,
}

/// `doctor.memory.status.embedding`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryEmbedding {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `config.schema {}` (OpenClaw's closed `ConfigSchemaParamsSchema`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigSchemaParams {}

/// `config.schema` result (OpenClaw's `ConfigSchemaResponseSchema`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigSchemaResponse {
    /// A JSON Schema (draft 7 subset) of the config file.
    pub schema: Value,
    /// Dotted path → its label and help for the config editor.
    pub ui_hints: BTreeMap<String, UiHint>,
    pub version: String,
    /// ISO-8601.
    pub generated_at: String,
}

/// One `config.schema.uiHints` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UiHint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitive: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
}

/// `config.schema.lookup {path}` (OpenClaw's closed `ConfigSchemaLookupParamsSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigSchemaLookupParams {
    /// Dotted path (`gateway.port`).
    pub path: super::NonEmpty,
}

/// `config.schema.lookup` result (OpenClaw's `ConfigSchemaLookupResultSchema`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigSchemaLookupResult {
    pub path: String,
    /// The node's schema, without its children's.
    pub schema: Value,
    /// `hot`, `restart` or `none`: what an edit of this path needs (the reload classifier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reload_kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<UiHint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint_path: Option<String>,
    pub children: Vec<ConfigSchemaChild>,
}

/// One `config.schema.lookup.children[]` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigSchemaChild {
    pub key: String,
    pub path: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub required: bool,
    pub has_children: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reload_kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<UiHint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint_path: Option<String>,
}

/// A preference key: 1–256 characters (OpenClaw's `^.{1,256}$`).
pub const PREF_KEY_MAX_CHARS: usize = 256;
/// Keys per `users.prefs.get`/`set` call (OpenClaw's `maxItems`/`maxProperties`).
pub const PREFS_PER_CALL: usize = 32;

/// Preference entries: key → any JSON value.
pub type PrefEntries = Map<String, Value>;

/// `users.prefs.get {keys?}` (OpenClaw's closed `UsersPrefsGetParamsSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsersPrefsGetParams {
    /// Only these keys (all when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<String>>,
}

/// `users.prefs.get` result (OpenClaw's `UsersPrefsGetResultSchema`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum UsersPrefsGetResult {
    /// The stored entries.
    Ok { entries: Map<String, Value> },
    /// The caller has no durable profile.
    NoDurableIdentity,
}

/// `users.prefs.set {entries, expectedEntries?}` (OpenClaw's closed
/// `UsersPrefsSetParamsSchema`). A `null` value deletes the key; `expectedEntries` makes the
/// write conditional (`null` = the key must be absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UsersPrefsSetParams {
    pub entries: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_entries: Option<Map<String, Value>>,
}

/// `users.prefs.set` result (OpenClaw's `UsersPrefsSetResultSchema`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum UsersPrefsSetResult {
    /// Written.
    Ok,
    /// `expectedEntries` did not match; nothing was written.
    Conflict,
    /// The caller has no durable profile.
    NoDurableIdentity,
}

/// The `users.prefs.changed` event (OpenClaw's `UsersPrefsChangedEventSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsersPrefsChanged {
    pub profile_id: String,
    pub keys: Vec<String>,
}

/// The `users.prefs.set` refusal for a profile over its key limit, with OpenClaw's
/// `UserPrefsLimitExceededErrorDetails`.
pub fn prefs_limit_exceeded(limit: usize, current_count: usize) -> crate::ErrorShape {
    crate::ErrorShape::new(
        crate::ErrorCode::InvalidRequest,
        format!(
            "users.prefs.set exceeds the {limit}-key profile limit (current count: {current_count})"
        ),
    )
    .with_details(serde_json::json!({
        "code": "USER_PREFS_LIMIT_EXCEEDED",
        "limit": limit,
        "currentCount": current_count,
    }))
}

request! {
    SystemInfoParams => SystemInfoResult, "system.info";
    UpdateStatusParams => UpdateStatusResult, "update.status";
    LastHeartbeatParams => Option<HeartbeatEvent>, "last-heartbeat";
    DiagnosticsStabilityParams => DiagnosticsStabilityResult, "diagnostics.stability";
    DiagnosticsLanesParams => DiagnosticsLanesResult, "diagnostics.lanes";
    DoctorMemoryStatusParams => DoctorMemoryStatusResult, "doctor.memory.status";
    ConfigSchemaParams => ConfigSchemaResponse, "config.schema";
    ConfigSchemaLookupParams => ConfigSchemaLookupResult, "config.schema.lookup";
    UsersPrefsGetParams => UsersPrefsGetResult, "users.prefs.get";
    UsersPrefsSetParams => UsersPrefsSetResult, "users.prefs.set";
}

event! {
    UsersPrefsChanged, "users.prefs.changed";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefs_results_use_openclaw_status_tags() {
        let ok = UsersPrefsGetResult::Ok {
            entries: Map::new(),
        };
        assert_eq!(
            serde_json::to_string(&ok).unwrap(),
            r#"{"status":"ok","entries":{}}"#
        );
        assert_eq!(
            serde_json::to_string(&UsersPrefsSetResult::Conflict).unwrap(),
            r#"{"status":"conflict"}"#
        );
        assert_eq!(
            serde_json::to_string(&UsersPrefsGetResult::NoDurableIdentity).unwrap(),
            r#"{"status":"no_durable_identity"}"#
        );
    }
}
