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
    /// The host's display name (the hostname here).
    pub machine_name: String,
    /// The host's network name.
    pub hostname: String,
    /// `linux`, `macos`, … (Rust's `std::env::consts::OS`).
    pub platform: String,
    /// Kernel release.
    pub release: String,
    /// CPU architecture (`x86_64`, `aarch64`, …).
    pub arch: String,
    /// Human-readable OS name and version.
    pub os_label: String,
    /// The port the gateway listens on, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The runtime serving the gateway: OpenClaw puts Node's version here; this gateway says
    /// what it is (`openclaw-rs <version>`), never a Node version it does not run on.
    pub node_version: String,
    /// This process's id.
    pub pid: u32,
    /// Random id of this gateway process (the `hello-ok.server.bootId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_instance_id: Option<String>,
    /// How long the gateway has been running, in milliseconds.
    pub uptime_ms: u64,
    /// Logical CPUs of the host.
    pub cpu_count: u32,
    /// CPU model name, when the OS says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_model: Option<String>,
    /// Load averages over 1, 5 and 15 minutes; absent where the OS has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_average: Option<[f64; 3]>,
    /// Total memory of the host, in bytes.
    pub memory_total_bytes: u64,
    /// Free memory of the host, in bytes.
    pub memory_free_bytes: u64,
    /// How late the async runtime runs its timers; absent when not measured.
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
    /// When the heartbeat ran, in Unix milliseconds.
    pub ts: u64,
    /// The heartbeat's outcome.
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
    /// Events the recorder keeps; 0 here.
    pub capacity: u64,
    /// Events recorded; 0 here.
    pub count: u64,
    /// Events dropped for lack of capacity; 0 here.
    pub dropped: u64,
    /// Sequence number of the oldest kept event; `null` here.
    pub first_seq: Option<u64>,
    /// Sequence number of the newest kept event; `null` here.
    pub last_seq: Option<u64>,
    /// The kept events; always empty here.
    pub events: Vec<Value>,
}

/// `diagnostics.lanes {}` (no OpenClaw params schema).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosticsLanesParams {}

/// `diagnostics.lanes` result (the Node gateway's shape).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticsLanesResult {
    /// When the snapshot was taken, in Unix milliseconds.
    pub ts: u64,
    /// One row per run lane.
    pub lanes: Vec<Lane>,
    /// Node's dynamic lanes; none here.
    pub dynamic: Option<Value>,
}

/// One run lane: runs queued and active, and its concurrency cap.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lane {
    /// The lane name (`main`, `subagent`, …).
    pub lane: String,
    /// Runs waiting for a slot.
    pub queued_count: u64,
    /// Runs in progress.
    pub active_count: u64,
    /// `null` where the lane has no gateway-wide cap.
    pub max_concurrent: Option<u64>,
    /// Whether the lane takes no new runs (a restart is draining it).
    pub draining: bool,
    /// Bumped when the lane is reset; Node's counter, 0 here.
    pub generation: u64,
    /// What holds the lane back (Node's field); always `null` here.
    pub blocked_by: Option<String>,
}

/// `doctor.memory.status {agentId?, probe?}` (no OpenClaw params schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DoctorMemoryStatusParams {
    /// The agent to report on; `main` when absent.
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
    /// The agent reported on.
    pub agent_id: String,
    /// Whether a memory search runtime is registered; never here.
    pub search_runtime_registered: bool,
    /// State of the embedding provider.
    pub embedding: MemoryEmbedding,
}

/// `doctor.memory.status.embedding`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryEmbedding {
    /// Whether embeddings work; `false` here.
    pub ok: bool,
    /// Why not.
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
    /// This gateway's version: the schema belongs to it.
    pub version: String,
    /// ISO-8601.
    pub generated_at: String,
}

/// One `config.schema.uiHints` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UiHint {
    /// Short field name for the editor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// One-paragraph explanation of the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Section of the editor the field belongs in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Sort position within its group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<i64>,
    /// Hidden behind the editor's "advanced" toggle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced: Option<bool>,
    /// The value is a secret: shown redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitive: Option<bool>,
    /// Example value shown in an empty input.
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
    /// The dotted path looked up.
    pub path: String,
    /// The node's schema, without its children's.
    pub schema: Value,
    /// `hot`, `restart` or `none`: what an edit of this path needs (the reload classifier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reload_kind: Option<String>,
    /// The editor hint for this path, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<UiHint>,
    /// The config path the hint is registered under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint_path: Option<String>,
    /// The node's direct children.
    pub children: Vec<ConfigSchemaChild>,
}

/// One `config.schema.lookup.children[]` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigSchemaChild {
    /// The child's key within its parent.
    pub key: String,
    /// The child's full dotted path.
    pub path: String,
    /// JSON Schema type of the child (`object`, `string`, …), when it has one.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether the parent schema requires it.
    pub required: bool,
    /// Whether it has children of its own (lookup its `path` to see them).
    pub has_children: bool,
    /// `hot`, `restart` or `none`: what an edit of this path needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reload_kind: Option<String>,
    /// The editor hint for this child, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<UiHint>,
    /// The config path the hint is registered under.
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
    Ok {
        /// The stored values by key (only the requested keys, when `keys` was given).
        entries: Map<String, Value>,
    },
    /// The caller has no durable profile.
    NoDurableIdentity,
}

/// `users.prefs.set {entries, expectedEntries?}` (OpenClaw's closed
/// `UsersPrefsSetParamsSchema`). A `null` value deletes the key; `expectedEntries` makes the
/// write conditional (`null` = the key must be absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UsersPrefsSetParams {
    /// Keys to write; a `null` value deletes the key.
    pub entries: Map<String, Value>,
    /// Conditions: each key must currently hold this value (`null`: be absent), or nothing is
    /// written.
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
    /// The profile whose preferences changed.
    pub profile_id: String,
    /// The keys written or deleted.
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
