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
    /// When the payload was built, in Unix milliseconds.
    pub ts: u64,
    /// How long building it took, in milliseconds.
    pub duration_ms: u64,
    /// Plugin state; this gateway loads none.
    pub plugins: PluginsHealth,
    /// Whether config hot reload is running.
    pub config_reload: ConfigReloadHealth,
    /// Channel id → its health; this gateway has no chat channels.
    pub channels: BTreeMap<String, Value>,
    /// Display order of `channels`; empty here.
    pub channel_order: Vec<String>,
    /// Channel id → display name; empty here.
    pub channel_labels: BTreeMap<String, String>,
    /// Heartbeat interval in seconds; 0 here (no heartbeats run).
    pub heartbeat_seconds: u64,
    /// The agent used when a request names none (`main`).
    pub default_agent_id: String,
    /// Per-agent health rows; always empty here.
    pub agents: Vec<AgentHealth>,
    /// Present in the `health` result and event, as on Node; absent from
    /// `hello-ok.snapshot.health`, whose schema is closed without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_runtime: Option<ModelRuntimeHealth>,
    /// How late the async runtime runs its timers, and how busy it is.
    pub event_loop: EventLoopHealth,
    /// This gateway's own figures (not in OpenClaw's payload; absent from the hello snapshot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayFacts>,
}

/// `health.plugins`: this gateway loads no plugins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PluginsHealth {
    /// Plugins loaded; always empty here.
    pub loaded: Vec<String>,
    /// Plugins that failed to load; always empty here.
    pub errors: Vec<Value>,
    /// Plugins configured but not available; always empty here.
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
    /// The agent id.
    pub agent_id: String,
    /// Whether it is the default agent.
    pub is_default: bool,
}

/// `health.modelRuntime`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ModelRuntimeHealth {
    /// Whether some agent's runtime is not ready.
    pub degraded: bool,
    /// Agents whose runtime is not ready yet.
    pub pending_agents: Vec<String>,
}

/// `health.eventLoop` (OpenClaw's `GatewayEventLoopHealthSchema`), measured on the tokio runtime.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EventLoopHealth {
    /// Whether any of `reasons` applies now.
    pub degraded: bool,
    /// `event_loop_delay`, `event_loop_utilization` or `cpu`.
    pub reasons: Vec<String>,
    /// Length of the measuring window, in milliseconds.
    pub interval_ms: f64,
    /// 99th percentile of timer lateness in the window, in milliseconds.
    pub delay_p99_ms: f64,
    /// Worst timer lateness in the window, in milliseconds.
    pub delay_max_ms: f64,
    /// Share of the window the runtime was busy, 0 to 1.
    pub utilization: f64,
    /// Process CPU time over wall time in the window, per core.
    pub cpu_core_ratio: f64,
}

/// `health.gateway`: this gateway's own figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayFacts {
    /// This gateway's version.
    pub version: String,
    /// How long it has been running, in milliseconds.
    pub uptime_ms: u64,
    /// Open WebSocket connections.
    pub connections: usize,
    /// Whether a restart is draining it.
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
    /// The version of the program serving (this gateway's version; OpenClaw puts its own here).
    pub runtime_version: String,
    /// This gateway's version.
    pub version: String,
    /// The gateway's process id.
    pub pid: u32,
    /// Random id of this gateway process, new on each start.
    pub boot_id: String,
    /// When the process started, in Unix milliseconds.
    pub started_at_ms: u64,
    /// How long it has been running, in milliseconds.
    pub uptime_ms: u64,
    /// Open WebSocket connections.
    pub connections: usize,
    /// The process's memory use.
    pub process_memory: ProcessMemory,
    /// Path of the config file.
    pub config_path: String,
    /// The state directory.
    pub state_dir: String,
    /// The shared-secret auth mode: `token`, `password` or `none`.
    pub auth_mode: String,
    /// The URLs the gateway listens on.
    pub listen: Vec<String>,
    /// Whether a restart is draining the gateway.
    pub draining: bool,
    /// The live config's state.
    pub reload: ReloadStatus,
    /// Sessions and the run queue.
    pub sessions: StatusSessions,
    /// Heartbeats; none run here.
    pub heartbeat: StatusHeartbeat,
    /// Chat channels; always empty here.
    pub channel_summary: Vec<Value>,
    /// Queued system events; always empty here.
    pub queued_system_events: Vec<Value>,
    /// Owners of secrets that failed to resolve; always empty here.
    pub degraded_secret_owners: Vec<Value>,
    /// Plugins in a degraded state; always empty here.
    pub degraded_plugins: Vec<Value>,
    /// Runs counted the way OpenClaw counts background tasks.
    pub tasks: TaskSummary,
    /// OpenClaw's task audit; all zero here.
    pub task_audit: TaskAudit,
    /// Device pairing state.
    pub pairing: PairingSummary,
    /// The connection limits in force (as in `hello-ok.policy`).
    pub policy: crate::handshake::Policy,
    /// The runtime's scheduling health (as in `health`; the Control UI's Debug view shows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_loop: Option<EventLoopHealth>,
    /// The agents OpenClaw's CLI lists; only when `includeCliProjection` was `true`.
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
    /// The auth profile.
    pub profile: String,
    /// The lane (`main` or a helper lane) in which it is blocked.
    pub lane: String,
    /// The model it is blocked for; absent when the whole profile is.
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
    /// Path of the config file watched.
    pub config_path: String,
    /// Hash of the config file the live config came from.
    pub hash: String,
    /// When the last change was applied (unix ms), if any since start.
    pub last_applied_at_ms: Option<u64>,
    /// Dotted paths changed by the last applied edit.
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
    /// What is wrong, e.g. the parse error.
    pub message: String,
    /// Unix ms.
    pub at_ms: u64,
    /// The file that was read.
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
    /// When the restart was requested, in Unix milliseconds.
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
    /// Whether the sessions manager is running (`false` when the gateway was built without one).
    pub started: bool,
    /// Directories where sessions are stored.
    pub paths: Vec<String>,
    /// Number of sessions.
    pub count: usize,
    /// Default model settings; `null`s here.
    pub defaults: StatusSessionDefaults,
    /// Recently active sessions; always empty here.
    pub recent: Vec<Value>,
    /// Session counts per agent.
    pub by_agent: Vec<AgentSessions>,
    /// Sessions with a run in progress; absent without a sessions manager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<usize>,
    /// Runs waiting in session queues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued: Option<usize>,
    /// Child results not yet announced to their parent sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_announces: Option<usize>,
    /// Process ids of the live app-server runtimes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_server_pids: Option<Vec<u32>>,
    /// The spawn limits in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<SessionLimits>,
}

/// `status.sessions.defaults`: no model is configured by default (`null`s).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusSessionDefaults {
    /// Default model; `null` here.
    pub model: Option<String>,
    /// Default context window in tokens; `null` here.
    pub context_tokens: Option<u64>,
}

/// One `status.sessions.byAgent[]` row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AgentSessions {
    /// The agent id.
    pub agent_id: String,
    /// Directory where its sessions are stored.
    pub path: String,
    /// Number of its sessions.
    pub count: usize,
    /// Its recent sessions; always empty here.
    pub recent: Vec<Value>,
}

/// The session limits in force.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SessionLimits {
    /// How deep `sessions.spawn` may nest (a child of a child of …).
    pub max_spawn_depth: u32,
    /// Children one session may have.
    pub max_children_per_session: u32,
    /// Subagent runs that may run at once, gateway-wide.
    pub max_concurrent_subagent_runs: u32,
}

/// `status.heartbeat`: this gateway runs no heartbeats.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StatusHeartbeat {
    /// The agent heartbeats would run for.
    pub default_agent_id: String,
    /// Per-agent heartbeat state; always empty here.
    pub agents: Vec<Value>,
}

/// OpenClaw's `status.tasks` summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TaskSummary {
    /// Tasks counted: here the active subagent runs (finished runs are not counted).
    pub total: usize,
    /// Tasks queued or running (subagent runs of sessions at depth 1 or more).
    pub active: usize,
    /// Tasks that ended; 0 here.
    pub terminal: usize,
    /// Tasks that failed; 0 here.
    pub failures: usize,
    /// Counts per status.
    pub by_status: TasksByStatus,
    /// Counts per kind of runtime.
    pub by_runtime: TasksByRuntime,
}

/// `status.tasks.byStatus`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TasksByStatus {
    /// Waiting.
    pub queued: usize,
    /// In progress.
    pub running: usize,
    /// Completed; 0 here.
    pub succeeded: usize,
    /// Failed; 0 here.
    pub failed: usize,
    /// Hit their deadline; 0 here.
    pub timed_out: usize,
    /// Cancelled; 0 here.
    pub cancelled: usize,
    /// Lost track of; 0 here.
    pub lost: usize,
}

/// `status.tasks.byRuntime`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TasksByRuntime {
    /// Subagent runs (`sessions.spawn`).
    pub subagent: usize,
    /// ACP runs; 0 here.
    pub acp: usize,
    /// CLI runs; 0 here.
    pub cli: usize,
    /// Cron runs; 0 here.
    pub cron: usize,
}

/// OpenClaw's `status.taskAudit`: this gateway has no task auditor, so every count is 0.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TaskAudit {
    /// Tasks audited; 0 here.
    pub total: usize,
    /// Audit warnings; 0 here.
    pub warnings: usize,
    /// Audit errors; 0 here.
    pub errors: usize,
    /// Findings per code; 0 here.
    pub by_code: TaskAuditCodes,
}

/// `status.taskAudit.byCode`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskAuditCodes {
    /// Queued too long.
    pub stale_queued: usize,
    /// Running too long.
    pub stale_running: usize,
    /// Lost.
    pub lost: usize,
    /// Result delivery failed.
    pub delivery_failed: usize,
    /// Cleanup missing.
    pub missing_cleanup: usize,
    /// Timestamps that contradict each other.
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
    /// The agents.
    pub agents: CliAgents,
    /// Update channel; `null` here (no update channel).
    pub update_channel: Option<String>,
}

/// `status.cliProjection.agents`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CliAgents {
    /// The default agent id.
    pub default_id: String,
    /// Agent ownership data; `null` here.
    pub ownership: Option<Value>,
    /// Whether the CLI must ask which agent to use; `false` here.
    pub selection_required: bool,
    /// One row per agent.
    pub rows: Vec<CliAgentRow>,
}

/// One agent the CLI lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CliAgentRow {
    /// The agent id.
    pub id: String,
}

/// `gateway.identity.get` result: this gateway process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayIdentity {
    /// Random id of this gateway process, new on each start.
    pub boot_id: String,
    /// The same as `bootId` here.
    pub instance_id: String,
    /// This gateway's version.
    pub version: String,
    /// The host name.
    pub host: String,
    /// The gateway's process id.
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
    /// Path of the log file read.
    pub file: String,
    /// Byte offset to pass as `cursor` next time.
    pub cursor: u64,
    /// The file's size in bytes.
    pub size: u64,
    /// Log lines read, oldest first.
    pub lines: Vec<String>,
    /// Whether lines were skipped to respect `limit` or `maxBytes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
    /// Whether the file was rotated or shrank since `cursor` (reading restarted from the
    /// beginning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<bool>,
}

/// One `system-presence` entry (OpenClaw's `PresenceEntrySchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceEntry {
    /// Host name (the gateway's, or the client's display name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The client's IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// The client's (or gateway's) version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The device family.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    /// The client mode (`gateway` for the gateway's own entry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Why the entry exists: `self` for the gateway, `connect` for a client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// One-line summary for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// When the entry was made (connect time), in Unix milliseconds.
    pub ts: u64,
    /// The paired device id, for device-authenticated clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The roles of the connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// The scopes granted to the connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// The client's instance id (the gateway's boot id for its own entry).
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
    /// Only this channel; accepted, there are none here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<super::NonEmpty>,
}

/// `channels.status` result (OpenClaw's `ChannelsStatusResultSchema`); empty maps here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelsStatusResult {
    /// When the status was taken, in Unix milliseconds.
    pub ts: u64,
    /// Display order of channels; empty here.
    pub channel_order: Vec<String>,
    /// Channel id → display name; empty here.
    pub channel_labels: BTreeMap<String, String>,
    /// Channel id → detail label; empty here.
    pub channel_detail_labels: BTreeMap<String, String>,
    /// Channel id → image; empty here.
    pub channel_system_images: BTreeMap<String, String>,
    /// Channel metadata; empty here.
    pub channel_meta: Vec<Value>,
    /// Channel id → status; empty here.
    pub channels: BTreeMap<String, Value>,
    /// Channel id → accounts; empty here.
    pub channel_accounts: BTreeMap<String, Value>,
    /// Channel id → default account id; empty here.
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
