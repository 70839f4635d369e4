//! Gateway and diagnostics: `health`, `status`, `gateway.identity.get`, `logs.tail`,
//! `system-presence`, `channels.status`.

use super::request;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// `health {}` params. OpenClaw's `probe` flag is accepted; this gateway's health is always
/// current, so it changes nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthParams {
    /// Accepted, not used (the payload is always fresh).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<bool>,
}

/// The `health` payload (also `hello-ok.snapshot.health` and the `health` event).
/// Decoding is lenient (missing fields default), so a client reads any gateway's health.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HealthResult {
    /// False while draining.
    pub ok: bool,
    pub ts: u64,
    pub duration_ms: u64,
    pub plugins: PluginsHealth,
    pub config_reload: ConfigReloadHealth,
    /// Channel id → its health; this gateway has no chat channels.
    pub channels: BTreeMap<String, Value>,
    pub channel_order: Vec<String>,
    pub channel_labels: BTreeMap<String, String>,
    pub heartbeat_seconds: u64,
    pub default_agent_id: String,
    pub agents: Vec<AgentHealth>,
    /// Present in the `health` result and event, as on Node; absent from
    /// `hello-ok.snapshot.health`, whose schema is closed without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_runtime: Option<ModelRuntimeHealth>,
    pub event_loop: EventLoopHealth,
    /// This gateway's own figures (not in OpenClaw's payload; absent from the hello snapshot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayFacts>,
}

/// `health.plugins`: this gateway loads no plugins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PluginsHealth {
    pub loaded: Vec<String>,
    pub errors: Vec<Value>,
    pub unavailable: Vec<Value>,
}

/// `health.configReload`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConfigReloadHealth {
    /// `active` while the config watcher runs.
    pub hot_reload_status: String,
}

/// One `health.agents[]` row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AgentHealth {
    pub agent_id: String,
    pub is_default: bool,
}

/// `health.modelRuntime`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ModelRuntimeHealth {
    pub degraded: bool,
    pub pending_agents: Vec<String>,
}

/// `health.eventLoop` (OpenClaw's `GatewayEventLoopHealthSchema`), measured on the tokio runtime.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EventLoopHealth {
    pub degraded: bool,
    /// `event_loop_delay`, `event_loop_utilization` or `cpu`.
    pub reasons: Vec<String>,
    pub interval_ms: f64,
    pub delay_p99_ms: f64,
    pub delay_max_ms: f64,
    pub utilization: f64,
    pub cpu_core_ratio: f64,
}

/// `health.gateway`: this gateway's own figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayFacts {
    pub version: String,
    pub uptime_ms: u64,
    pub connections: usize,
    pub draining: bool,
}

/// `status {includeCliProjection?}` params.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusParams {
    /// Add `cliProjection` (the agents OpenClaw's CLI lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_cli_projection: Option<bool>,
}

/// The `status` payload: OpenClaw's summary fields plus this gateway's process facts.
/// Decoding is lenient (missing fields default), so our CLI reads the Node gateway's status too.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StatusResult {
    pub runtime_version: String,
    pub version: String,
    pub pid: u32,
    pub boot_id: String,
    pub started_at_ms: u64,
    pub uptime_ms: u64,
    pub connections: usize,
    pub process_memory: ProcessMemory,
    pub config_path: String,
    pub state_dir: String,
    pub auth_mode: String,
    pub listen: Vec<String>,
    pub draining: bool,
    pub reload: ReloadStatus,
    pub sessions: StatusSessions,
    pub heartbeat: StatusHeartbeat,
    pub channel_summary: Vec<Value>,
    pub queued_system_events: Vec<Value>,
    pub degraded_secret_owners: Vec<Value>,
    pub degraded_plugins: Vec<Value>,
    pub tasks: TaskSummary,
    pub task_audit: TaskAudit,
    pub pairing: PairingSummary,
    pub policy: crate::handshake::Policy,
    /// The runtime's scheduling health (as in `health`; the Control UI's Debug view shows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_loop: Option<EventLoopHealth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cli_projection: Option<CliProjection>,
    /// This gateway's own extension: which Control UI build the HTTP side serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_ui: Option<ControlUiStatus>,
    /// This gateway's own extension: the app-server pool's health (retired processes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtimes: Option<RuntimeHealth>,
    /// This gateway's own extension: auth-profile cooldowns in force now.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cooldowns: Vec<ActiveCooldown>,
}

/// `status.runtimes` (this gateway's extension): app-server processes since the gateway started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RuntimeHealth {
    /// Process slots now (starting, ready, retired and draining).
    pub processes: usize,
    /// Active leases (runs on a process) now.
    pub leases: usize,
    /// Processes spawned since start.
    pub spawned_total: u64,
    /// Graceful retirements (a run failed on the process; it closes when idle).
    pub retired_graceful_total: u64,
    /// Wedged processes killed (their runs failed at once).
    pub retired_wedged_total: u64,
}

/// One entry of `status.cooldowns`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ActiveCooldown {
    pub profile: String,
    pub lane: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The failure reason (`rate_limit`, `auth`, …).
    pub reason: String,
    /// Unix ms when it stops blocking.
    pub until_ms: u64,
}

/// `status.controlUi` (this gateway's extension): what the gateway port serves to a browser.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ControlUiStatus {
    /// `gateway.controlUi.enabled` in the live config.
    pub enabled: bool,
    /// The URL prefix (`""` when the UI is at `/`).
    pub base_path: String,
    /// `configured` (`gateway.controlUi.root`), `installed` (the `openclaw` npm package's build,
    /// found from `PATH` or the global npm root) or `builtIn` (no build: a page saying how to
    /// install one).
    pub source: String,
    /// The served build's directory, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// The build's own id (`data-openclaw-control-ui-build-id` of its `index.html`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_id: Option<String>,
    /// How it was found, or why no build is served.
    pub detail: String,
}

/// `status.processMemory`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProcessMemory {
    /// `null` where the platform does not say.
    pub rss_bytes: Option<u64>,
}

/// `status.reload`: the live config's state (also in `doctor`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReloadStatus {
    pub config_path: String,
    /// Hash of the config file the live config came from.
    pub hash: String,
    /// When the last change was applied (unix ms), if any since start.
    pub last_applied_at_ms: Option<u64>,
    pub last_changed_paths: Vec<String>,
    /// The last rejected edit; cleared by the next good one.
    pub last_error: Option<ConfigError>,
    /// Warnings of the live file (unknown keys, …).
    pub warnings: Vec<String>,
    /// Restart-required paths changed since boot and not yet applied.
    pub pending_restart_paths: Vec<String>,
    /// `gateway.reload.mode=off`: edits are validated but not applied.
    pub apply_disabled: bool,
    /// The restart being drained for, if any.
    pub restart: Option<RestartIntent>,
}

/// A rejected config edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigError {
    pub message: String,
    /// Unix ms.
    pub at_ms: u64,
    pub path: String,
    /// Hash of the rejected file bytes.
    pub hash: String,
}

/// A restart the gateway is draining for, or has stopped for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestartIntent {
    /// Who asked: `config reload`, `gateway.restart.request (conn …)`, `SIGUSR2`.
    pub who: String,
    /// Why, e.g. `config change requires restart (gateway.port)`.
    pub reason: String,
    /// Restart-required config paths (empty for an explicit restart).
    pub paths: Vec<String>,
    pub requested_at_ms: u64,
    /// When the drain gives up waiting for in-flight runs (they are persisted and re-run).
    pub deadline_ms: u64,
    /// Skip the wait (never the persistence).
    pub force: bool,
    /// Asked for explicitly (not cancelled by reverting config).
    pub explicit: bool,
    /// `draining` or `restarting`.
    pub phase: String,
}

/// `status.sessions`: OpenClaw's fields plus this gateway's run queue figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StatusSessions {
    pub started: bool,
    pub paths: Vec<String>,
    pub count: usize,
    pub defaults: StatusSessionDefaults,
    pub recent: Vec<Value>,
    pub by_agent: Vec<AgentSessions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_announces: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_server_pids: Option<Vec<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<SessionLimits>,
}

/// `status.sessions.defaults`: no model is configured by default (`null`s).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusSessionDefaults {
    pub model: Option<String>,
    pub context_tokens: Option<u64>,
}

/// One `status.sessions.byAgent[]` row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AgentSessions {
    pub agent_id: String,
    pub path: String,
    pub count: usize,
    pub recent: Vec<Value>,
}

/// The session limits in force.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SessionLimits {
    pub max_spawn_depth: u32,
    pub max_children_per_session: u32,
    pub max_concurrent_subagent_runs: u32,
}

/// `status.heartbeat`: this gateway runs no heartbeats.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StatusHeartbeat {
    pub default_agent_id: String,
    pub agents: Vec<Value>,
}

/// OpenClaw's `status.tasks` summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TaskSummary {
    pub total: usize,
    pub active: usize,
    pub terminal: usize,
    pub failures: usize,
    pub by_status: TasksByStatus,
    pub by_runtime: TasksByRuntime,
}

/// `status.tasks.byStatus`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TasksByStatus {
    pub queued: usize,
    pub running: usize,
    pub succeeded: usize,
    pub failed: usize,
    pub timed_out: usize,
    pub cancelled: usize,
    pub lost: usize,
}

/// `status.tasks.byRuntime`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TasksByRuntime {
    pub subagent: usize,
    pub acp: usize,
    pub cli: usize,
    pub cron: usize,
}

/// OpenClaw's `status.taskAudit`: this gateway has no task auditor, so every count is 0.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TaskAudit {
    pub total: usize,
    pub warnings: usize,
    pub errors: usize,
    pub by_code: TaskAuditCodes,
}

/// `status.taskAudit.byCode`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskAuditCodes {
    pub stale_queued: usize,
    pub stale_running: usize,
    pub lost: usize,
    pub delivery_failed: usize,
    pub missing_cleanup: usize,
    pub inconsistent_timestamps: usize,
}

/// `status.pairing`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairingSummary {
    /// Pairing requests waiting for an operator.
    pub pending: usize,
}

/// `status.cliProjection`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CliProjection {
    pub agents: CliAgents,
    pub update_channel: Option<String>,
}

/// `status.cliProjection.agents`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CliAgents {
    pub default_id: String,
    pub ownership: Option<Value>,
    pub selection_required: bool,
    pub rows: Vec<CliAgentRow>,
}

/// One agent the CLI lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CliAgentRow {
    pub id: String,
}

/// `gateway.identity.get` result: this gateway process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayIdentity {
    pub boot_id: String,
    pub instance_id: String,
    pub version: String,
    pub host: String,
    pub pid: u32,
}

/// `logs.tail {cursor?, limit?, maxBytes?}` (OpenClaw's `LogsTailParamsSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogsTailParams {
    /// Byte offset returned by the previous call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<u64>,
    /// Lines at most (1..=5000, default 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// Bytes read at most (1..=1000000, default 250000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
}

/// `logs.tail` result (OpenClaw's `LogsTailResultSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogsTailResult {
    pub file: String,
    pub cursor: u64,
    pub size: u64,
    pub lines: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<bool>,
}

/// One `system-presence` entry (OpenClaw's `PresenceEntrySchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub ts: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
}

/// `channels.status {probe?, timeoutMs?, channel?}` (OpenClaw's `ChannelsStatusParamsSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChannelsStatusParams {
    /// Accepted, not used (no channels to probe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<bool>,
    /// Accepted, not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<super::NonEmpty>,
}

/// `channels.status` result (OpenClaw's `ChannelsStatusResultSchema`); empty maps here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelsStatusResult {
    pub ts: u64,
    pub channel_order: Vec<String>,
    pub channel_labels: BTreeMap<String, String>,
    pub channel_detail_labels: BTreeMap<String, String>,
    pub channel_system_images: BTreeMap<String, String>,
    pub channel_meta: Vec<Value>,
    pub channels: BTreeMap<String, Value>,
    pub channel_accounts: BTreeMap<String, Value>,
    pub channel_default_account_id: BTreeMap<String, String>,
}

/// `system-presence {}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemPresenceParams {}

request! {
    HealthParams => HealthResult, "health";
    StatusParams => StatusResult, "status";
    LogsTailParams => LogsTailResult, "logs.tail";
    SystemPresenceParams => Vec<PresenceEntry>, "system-presence";
    ChannelsStatusParams => ChannelsStatusResult, "channels.status";
}

/// `gateway.identity.get {}` (a distinct type so that it can name its method).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayIdentityParams {}

request! {
    GatewayIdentityParams => GatewayIdentity, "gateway.identity.get";
}
