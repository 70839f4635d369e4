//! Subsystems this gateway does not have (channels pairing, cron automations, skills, plugins,
//! tasks, users, artifacts, environments, talk, mentions, pull requests, setup, usage, secrets):
//! the read methods OpenClaw's clients call, answered with the valid empty result in OpenClaw's
//! shapes (its `<Method>Result` schemas, else the Node gateway's answer to the same call).
//! Their write methods are answered `UNAVAILABLE` by the gateway and have no types here.

use super::request;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `channels.pairing.list {channel?, accountId?}` (OpenClaw's closed schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChannelsPairingListParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<super::NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<super::NonEmpty>,
}

/// `channels.pairing.list` result (OpenClaw's `ChannelsPairingListResultSchema`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelsPairingListResult {
    pub accounts: Vec<Value>,
    pub requests: Vec<Value>,
    pub command_owner_configured: bool,
    pub limits: ChannelPairingLimits,
}

/// `channels.pairing.list.limits`: zero here (no channel accepts pairing requests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelPairingLimits {
    pub pending_per_account: u32,
    pub ttl_ms: u64,
}

/// `cron.list {…}` (OpenClaw's closed `CronListParamsSchema`; filters accepted, nothing to filter).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CronListParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<super::NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_agent_id: Option<super::NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_disabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<super::Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_kind: Option<super::Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run_status: Option<super::Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<super::Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<super::Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_dir: Option<super::Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<super::NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compact: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_delivery_previews: Option<bool>,
}

/// `cron.list` result (the Node gateway's page shape): no jobs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CronListResult {
    pub jobs: Vec<Value>,
    /// Names the (always empty) job snapshot the page was read from.
    pub snapshot_revision: String,
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
    pub has_more: bool,
    pub next_offset: Option<u64>,
}

/// `cron.status {}` (OpenClaw's closed `CronStatusParamsSchema`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CronStatusParams {}

/// `cron.status` result (the Node gateway's shape): the scheduler is off, no jobs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CronStatusResult {
    pub enabled: bool,
    pub triggers_enabled: bool,
    pub jobs: u64,
    pub next_wake_at_ms: Option<u64>,
}

/// `cron.runs {…}` (OpenClaw's closed `CronRunsParamsSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CronRunsParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<super::NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<super::Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<super::NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<super::NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<super::NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statuses: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<super::Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_statuses: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_status: Option<super::Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_dir: Option<super::Choice>,
}

/// `cron.runs` result (the Node gateway's page shape): no runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CronRunsResult {
    pub entries: Vec<Value>,
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
    pub has_more: bool,
    pub next_offset: Option<u64>,
}

/// `skills.status {agentId?, sessionKey?}` (OpenClaw's closed schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SkillsStatusParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<super::NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<super::NonEmpty>,
}

/// `skills.status` result (the Node gateway's shape): no skills are loaded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillsStatusResult {
    /// The agent's working directory.
    pub workspace_dir: String,
    pub agent_id: String,
    pub skills: Vec<Value>,
}

/// `skills.library.list {sessionKey?, scope?}` (OpenClaw's closed schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SkillsLibraryListParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<super::NonEmpty>,
    /// `mine`, `team` or `all`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<super::Choice>,
}

/// `skills.library.list` result (the Node gateway's shape): no library.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillsLibraryListResult {
    pub entries: Vec<Value>,
    pub profile_id: Option<String>,
    pub multiple_profiles: bool,
    /// `unavailable`: there is nowhere to save a skill.
    pub default_target: String,
    pub can_manage_workspace: bool,
    pub default_selection_limit: u32,
}

/// `skills.search {query?, limit?}` (OpenClaw's closed schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillsSearchParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<super::NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// `skills.search` result (OpenClaw's `SkillsSearchResultSchema`): no registry to search.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SkillsSearchResult {
    pub results: Vec<Value>,
}

/// `plugins.list {}` (OpenClaw's closed schema).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginsListParams {}

/// `plugins.list` result (OpenClaw's `PluginsListResultSchema`): no plugins, no mutations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginsListResult {
    pub plugins: Vec<Value>,
    pub diagnostics: Vec<Value>,
    pub mutation_allowed: bool,
}

/// `plugins.controlUi.list {}` (OpenClaw's closed schema).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginsControlUiListParams {}

/// `plugins.controlUi.list` result (OpenClaw's `PluginsControlUiCatalogSchema`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PluginsControlUiCatalog {
    /// A constant: the (empty) catalog never changes.
    pub revision: String,
    pub plugins: Vec<Value>,
    pub diagnostics: Vec<Value>,
}

/// `plugin.surface.refresh {surface, observedUrl?}` (no OpenClaw schema; Node's handler reads
/// these two). Answered `UNAVAILABLE`: there are no plugin surfaces.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginSurfaceRefreshParams {
    pub surface: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_url: Option<String>,
}

/// `tasks.list {…}` (OpenClaw's closed `TasksListParamsSchema`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TasksListParams {
    /// One status or a list of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<super::NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<super::NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<String>,
}

/// `tasks.list` result (OpenClaw's `TasksListResultSchema`): no task ledger.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TasksListResult {
    pub tasks: Vec<Value>,
}

/// `users.list {}` (OpenClaw's closed schema).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsersListParams {}

/// `users.list` result (OpenClaw's `UsersListResultSchema`): no user profiles.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UsersListResult {
    pub profiles: Vec<Value>,
}

/// `artifacts.list {…}` (OpenClaw's closed `ArtifactsListParamsSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArtifactsListParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<super::NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<super::NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<super::NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<super::NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_role: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// `artifacts.list` result (the Node gateway's shape): no artifact store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArtifactsListResult {
    pub artifacts: Vec<Value>,
}

/// `environments.list {runtimeId?, projection?, includeDesktopSetup?}` (OpenClaw's closed schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvironmentsListParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_id: Option<super::NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projection: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_desktop_setup: Option<bool>,
}

/// `environments.list` result (OpenClaw's `EnvironmentsListResultSchema`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentsListResult {
    pub environments: Vec<EnvironmentSummary>,
}

/// One environment agents run in (OpenClaw's `EnvironmentSummarySchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentSummary {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `available`, …
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_host: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Vec<String>>,
}

/// `talk.catalog {provider?, model?}` (OpenClaw's closed schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TalkCatalogParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<super::NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<super::NonEmpty>,
}

/// `talk.catalog` result (OpenClaw's `TalkCatalogResultSchema`): no talk modes or providers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TalkCatalogResult {
    pub modes: Vec<String>,
    pub transports: Vec<String>,
    pub brains: Vec<String>,
    pub speech: TalkProviders,
    pub transcription: TalkProviders,
    pub realtime: TalkProviders,
}

/// One `talk.catalog` provider group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TalkProviders {
    pub ready: bool,
    pub providers: Vec<Value>,
}

/// `mentions.list {}` (OpenClaw's closed schema).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MentionsListParams {}

/// `mentions.list` result (OpenClaw's `MentionsListResultSchema`): no mention inbox.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MentionsListResult {
    pub gateway_instance_id: String,
    pub revision: u64,
    pub items: Vec<Value>,
}

/// `controlUi.sessionPullRequests.subscribe {sessionKeys, refreshSessionKeys?}` (Node's parser).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionPullRequestsSubscribeParams {
    pub session_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_session_keys: Option<Vec<String>>,
}

/// `controlUi.sessionPullRequests.subscribe` result (the Node gateway's shape). Always
/// `subscribed: false` here: there is no pull-request source to watch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionPullRequestsSubscribeResult {
    pub subscribed: bool,
}

/// `openclaw.setup.detect {agentId?}` (as OpenClaw's `SystemAgentSetupDetectParamsSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetupDetectParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<super::NonEmpty>,
}

/// `openclaw.setup.detect` result (OpenClaw's `SystemAgentSetupDetectResultSchema`): this
/// gateway has no setup wizard; its runtimes are configured in its config file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetupDetectResult {
    pub candidates: Vec<Value>,
    pub manual_providers: Vec<Value>,
    pub workspace: String,
    pub setup_complete: bool,
}

/// `usage.status {}` (no OpenClaw params schema).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageStatusParams {}

/// `usage.status` result (the Node gateway's shape): provider quota windows; none known.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageStatusResult {
    pub updated_at: u64,
    pub providers: Vec<Value>,
}

/// `usage.cost {days?, startDate?, endDate?, agentId?, agentScope?, mode?}` (no OpenClaw schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageCostParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<super::Choice>,
}

/// Token and cost totals (OpenClaw's usage totals). Costs are 0 with no entries; an entry
/// without a known price would count in `missingCostEntries`, never get an invented price.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageTotals {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub total_tokens: u64,
    pub total_cost: f64,
    pub input_cost: f64,
    pub output_cost: f64,
    pub cache_read_cost: f64,
    pub cache_write_cost: f64,
    pub missing_cost_entries: u64,
}

/// `usage.cost` result (the Node gateway's shape). The runtimes report no token usage to this
/// gateway: no daily rows, zero totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageCostResult {
    pub updated_at: u64,
    pub days: u32,
    pub daily: Vec<Value>,
    pub totals: UsageTotals,
}

/// `sessions.usage {…}` (OpenClaw's closed `SessionsUsageParamsSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionsUsageParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<super::NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<super::NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_key: Option<super::NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<super::Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<super::Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<super::Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_historical: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utc_offset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<super::NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_context_weight: Option<bool>,
}

/// `sessions.usage` result (the Node gateway's shape): no usage reported.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionsUsageResult {
    pub updated_at: u64,
    /// `YYYY-MM-DD`.
    pub start_date: String,
    pub end_date: String,
    pub sessions: Vec<Value>,
    pub totals: UsageTotals,
    pub aggregates: UsageAggregates,
    pub creator_options: Vec<Value>,
}

/// `sessions.usage.aggregates`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageAggregates {
    pub session_count: u64,
    pub messages: UsageMessages,
    pub tools: UsageTools,
    pub by_model: Vec<Value>,
    pub by_provider: Vec<Value>,
    pub by_agent: Vec<Value>,
    pub by_channel: Vec<Value>,
    pub by_creator: Vec<Value>,
    pub cost_daily: Vec<Value>,
    pub daily_latency: Vec<Value>,
    pub model_daily: Vec<Value>,
    pub daily: Vec<Value>,
}

/// `sessions.usage.aggregates.messages`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageMessages {
    pub total: u64,
    pub user: u64,
    pub assistant: u64,
    pub tool_calls: u64,
    pub tool_results: u64,
    pub errors: u64,
}

/// `sessions.usage.aggregates.tools`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageTools {
    pub total_calls: u64,
    pub unique_tools: u64,
    pub tools: Vec<Value>,
}

/// `secrets.reload {}` (no OpenClaw params schema).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretsReloadParams {}

/// `secrets.reload` result (the Node gateway's shape). This gateway holds no secret refs:
/// nothing to reload, no warnings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretsReloadResult {
    pub ok: bool,
    pub warning_count: u64,
}

request! {
    ChannelsPairingListParams => ChannelsPairingListResult, "channels.pairing.list";
    CronListParams => CronListResult, "cron.list";
    CronStatusParams => CronStatusResult, "cron.status";
    CronRunsParams => CronRunsResult, "cron.runs";
    SkillsStatusParams => SkillsStatusResult, "skills.status";
    SkillsLibraryListParams => SkillsLibraryListResult, "skills.library.list";
    SkillsSearchParams => SkillsSearchResult, "skills.search";
    PluginsListParams => PluginsListResult, "plugins.list";
    PluginsControlUiListParams => PluginsControlUiCatalog, "plugins.controlUi.list";
    PluginSurfaceRefreshParams => Value, "plugin.surface.refresh";
    TasksListParams => TasksListResult, "tasks.list";
    UsersListParams => UsersListResult, "users.list";
    ArtifactsListParams => ArtifactsListResult, "artifacts.list";
    EnvironmentsListParams => EnvironmentsListResult, "environments.list";
    TalkCatalogParams => TalkCatalogResult, "talk.catalog";
    MentionsListParams => MentionsListResult, "mentions.list";
    SessionPullRequestsSubscribeParams => SessionPullRequestsSubscribeResult, "controlUi.sessionPullRequests.subscribe";
    SetupDetectParams => SetupDetectResult, "openclaw.setup.detect";
    UsageStatusParams => UsageStatusResult, "usage.status";
    UsageCostParams => UsageCostResult, "usage.cost";
    SessionsUsageParams => SessionsUsageResult, "sessions.usage";
    SecretsReloadParams => SecretsReloadResult, "secrets.reload";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode_params;
    use serde_json::json;

    #[test]
    fn refusals_use_the_validator_phrases() {
        let e = decode_params::<SkillsLibraryListParams>(
            "skills.library.list",
            Some(json!({"scope": {"x": 1}})),
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "invalid skills.library.list params: at /scope: must be string; at /scope: must be equal to constant; at /scope: must match a schema in anyOf"
        );
        let e =
            decode_params::<CronListParams>("cron.list", Some(json!({"bogus": true}))).unwrap_err();
        assert_eq!(
            e.message,
            "invalid cron.list params: at root: unexpected property 'bogus'"
        );
        let ok: SkillsLibraryListParams =
            decode_params("skills.library.list", Some(json!({"scope": "mine"}))).unwrap();
        assert_eq!(ok.scope.as_deref(), Some("mine"));
        let e = decode_params::<crate::methods::approvals::ApprovalHistoryParams>(
            "approval.history",
            Some(json!({"cursor": 1})),
        )
        .unwrap_err();
        assert_eq!(e.message, "invalid approval.history params");
    }
}
