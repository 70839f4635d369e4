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
    /// Only this channel's requests; accepted, there are none here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<super::NonEmpty>,
    /// Only this channel account's requests; accepted, there are none here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<super::NonEmpty>,
}

/// `channels.pairing.list` result (OpenClaw's `ChannelsPairingListResultSchema`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelsPairingListResult {
    /// Channel accounts that take pairing requests; always empty here.
    pub accounts: Vec<Value>,
    /// Pending channel pairing requests; always empty here.
    pub requests: Vec<Value>,
    /// Whether a command owner is configured for channel pairing; `false` here.
    pub command_owner_configured: bool,
    /// Pairing limits; zero here.
    pub limits: ChannelPairingLimits,
}

/// `channels.pairing.list.limits`: zero here (no channel accepts pairing requests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelPairingLimits {
    /// Pending requests allowed per account.
    pub pending_per_account: u32,
    /// How long a request stays valid, in milliseconds.
    pub ttl_ms: u64,
}

/// `cron.list {…}` (OpenClaw's closed `CronListParamsSchema`; filters accepted, nothing to filter).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CronListParams {
    /// Only jobs of this session; accepted, there are no jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<super::NonEmpty>,
    /// Only jobs of this session agent; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_agent_id: Option<super::NonEmpty>,
    /// Include disabled jobs; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_disabled: Option<bool>,
    /// Page size (1 to 200, default 200); echoed in the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Page start; echoed in the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    /// Search text; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Enabled-state filter; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<super::Choice>,
    /// Schedule kind filter; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_kind: Option<super::Choice>,
    /// Last run status filter; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run_status: Option<super::Choice>,
    /// Trigger filter; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<super::Choice>,
    /// Sort key; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<super::Choice>,
    /// Sort direction; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_dir: Option<super::Choice>,
    /// Only jobs of this agent; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<super::NonEmpty>,
    /// Compact rows; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compact: Option<bool>,
    /// Include delivery previews; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_delivery_previews: Option<bool>,
}

/// `cron.list` result (the Node gateway's page shape): no jobs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CronListResult {
    /// Scheduled jobs; always empty here.
    pub jobs: Vec<Value>,
    /// Names the (always empty) job snapshot the page was read from.
    pub snapshot_revision: String,
    /// Jobs matching the filters; 0 here.
    pub total: u64,
    /// Page start.
    pub offset: u64,
    /// Page size.
    pub limit: u64,
    /// Whether more jobs follow; `false` here.
    pub has_more: bool,
    /// Offset of the next page; `null` here.
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
    /// Whether the scheduler runs; `false` here.
    pub enabled: bool,
    /// Whether triggers fire; `false` here.
    pub triggers_enabled: bool,
    /// Number of jobs; 0 here.
    pub jobs: u64,
    /// Next scheduled wake-up, in Unix milliseconds; `null` here.
    pub next_wake_at_ms: Option<u64>,
}

/// `cron.runs {…}` (OpenClaw's closed `CronRunsParamsSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CronRunsParams {
    /// Only runs of this agent; accepted, there are no runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<super::NonEmpty>,
    /// Which jobs' runs to list; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<super::Choice>,
    /// A job id (alias of `jobId`); accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<super::NonEmpty>,
    /// Only runs of this job; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<super::NonEmpty>,
    /// Only this run; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<super::NonEmpty>,
    /// Page size (default 50); echoed in the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Page start; echoed in the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    /// Run status filter (several); accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statuses: Option<Vec<String>>,
    /// Run status filter (one); accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<super::Choice>,
    /// Delivery status filter (several); accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_statuses: Option<Vec<String>>,
    /// Delivery status filter (one); accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_status: Option<super::Choice>,
    /// Search text; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Sort direction; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_dir: Option<super::Choice>,
}

/// `cron.runs` result (the Node gateway's page shape): no runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CronRunsResult {
    /// Job runs; always empty here.
    pub entries: Vec<Value>,
    /// Runs matching the filters; 0 here.
    pub total: u64,
    /// Page start.
    pub offset: u64,
    /// Page size.
    pub limit: u64,
    /// Whether more runs follow; `false` here.
    pub has_more: bool,
    /// Offset of the next page; `null` here.
    pub next_offset: Option<u64>,
}

/// `skills.status {agentId?, sessionKey?}` (OpenClaw's closed schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SkillsStatusParams {
    /// The agent whose skills to report; `main` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<super::NonEmpty>,
    /// A session whose agent to use; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<super::NonEmpty>,
}

/// `skills.status` result (the Node gateway's shape): no skills are loaded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillsStatusResult {
    /// The agent's working directory.
    pub workspace_dir: String,
    /// The agent reported on.
    pub agent_id: String,
    /// Loaded skills; always empty here.
    pub skills: Vec<Value>,
}

/// `skills.library.list {sessionKey?, scope?}` (OpenClaw's closed schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SkillsLibraryListParams {
    /// A session whose library to list; accepted.
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
    /// Library skills; always empty here.
    pub entries: Vec<Value>,
    /// The caller's user profile; `null` here.
    pub profile_id: Option<String>,
    /// Whether the caller has several profiles; `false` here.
    pub multiple_profiles: bool,
    /// `unavailable`: there is nowhere to save a skill.
    pub default_target: String,
    /// Whether the caller may manage workspace skills; `false` here.
    pub can_manage_workspace: bool,
    /// How many skills a selection may hold by default.
    pub default_selection_limit: u32,
}

/// `skills.search {query?, limit?}` (OpenClaw's closed schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillsSearchParams {
    /// Search text; accepted, there is no registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<super::NonEmpty>,
    /// Most results wanted; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// `skills.search` result (OpenClaw's `SkillsSearchResultSchema`): no registry to search.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SkillsSearchResult {
    /// Matching skills; always empty here.
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
    /// Installed plugins; always empty here.
    pub plugins: Vec<Value>,
    /// Plugin load problems; always empty here.
    pub diagnostics: Vec<Value>,
    /// Whether plugins may be installed or removed from the UI; `false` here.
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
    /// Plugins with Control UI surfaces; always empty here.
    pub plugins: Vec<Value>,
    /// Catalog problems; always empty here.
    pub diagnostics: Vec<Value>,
}

/// `plugin.surface.refresh {surface, observedUrl?}` (no OpenClaw schema; Node's handler reads
/// these two). Answered `UNAVAILABLE`: there are no plugin surfaces.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginSurfaceRefreshParams {
    /// The plugin surface to refresh.
    pub surface: String,
    /// The URL the client saw the surface at.
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
    /// Only tasks of this agent; accepted, there is no task ledger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<super::NonEmpty>,
    /// Only tasks of this session; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<super::NonEmpty>,
    /// Page size; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Paging cursor; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Sort key; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<String>,
}

/// `tasks.list` result (OpenClaw's `TasksListResultSchema`): no task ledger.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TasksListResult {
    /// Tasks; always empty here.
    pub tasks: Vec<Value>,
}

/// `users.list {}` (OpenClaw's closed schema).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsersListParams {}

/// `users.list` result (OpenClaw's `UsersListResultSchema`): no user profiles.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UsersListResult {
    /// User profiles; always empty here.
    pub profiles: Vec<Value>,
}

/// `artifacts.list {…}` (OpenClaw's closed `ArtifactsListParamsSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArtifactsListParams {
    /// Only artifacts of this session; accepted, there is no artifact store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<super::NonEmpty>,
    /// Only artifacts of this run; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<super::NonEmpty>,
    /// Only artifacts of this task; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<super::NonEmpty>,
    /// Only artifacts of this agent; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<super::NonEmpty>,
    /// Only artifacts of messages with this role; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_role: Option<String>,
    /// Only artifacts of this type; accepted.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Page size; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Paging cursor; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// `artifacts.list` result (the Node gateway's shape): no artifact store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArtifactsListResult {
    /// Artifacts; always empty here.
    pub artifacts: Vec<Value>,
}

/// `environments.list {runtimeId?, projection?, includeDesktopSetup?}` (OpenClaw's closed schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvironmentsListParams {
    /// Only this environment; accepted, there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_id: Option<super::NonEmpty>,
    /// OpenClaw's projection name; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projection: Option<String>,
    /// Include desktop setup data; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_desktop_setup: Option<bool>,
}

/// `environments.list` result (OpenClaw's `EnvironmentsListResultSchema`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentsListResult {
    /// The one environment: the gateway's own host (`gateway`, type `local`).
    pub environments: Vec<EnvironmentSummary>,
}

/// One environment agents run in (OpenClaw's `EnvironmentSummarySchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentSummary {
    /// Environment id (`gateway`).
    pub id: String,
    /// Environment type (`local`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `available`, …
    pub status: String,
    /// The host's OS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Whether sessions run in it; `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_host: Option<bool>,
    /// What it can do (`agent.run`, `sessions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Vec<String>>,
}

/// `talk.catalog {provider?, model?}` (OpenClaw's closed schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TalkCatalogParams {
    /// Only this talk provider; accepted, there are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<super::NonEmpty>,
    /// Only this model; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<super::NonEmpty>,
}

/// `talk.catalog` result (OpenClaw's `TalkCatalogResultSchema`): no talk modes or providers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TalkCatalogResult {
    /// Talk modes; always empty here.
    pub modes: Vec<String>,
    /// Audio transports; always empty here.
    pub transports: Vec<String>,
    /// Brains (reply models) for talk; always empty here.
    pub brains: Vec<String>,
    /// Text-to-speech providers.
    pub speech: TalkProviders,
    /// Speech-to-text providers.
    pub transcription: TalkProviders,
    /// Realtime voice providers.
    pub realtime: TalkProviders,
}

/// One `talk.catalog` provider group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TalkProviders {
    /// Whether a provider of this kind is usable; `false` here.
    pub ready: bool,
    /// Providers of this kind; always empty here.
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
    /// Random id of this gateway process (its boot id).
    pub gateway_instance_id: String,
    /// Bumped when the inbox changes; 0 here.
    pub revision: u64,
    /// Mentions; always empty here.
    pub items: Vec<Value>,
}

/// `controlUi.sessionPullRequests.subscribe {sessionKeys, refreshSessionKeys?}` (Node's parser).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionPullRequestsSubscribeParams {
    /// Sessions whose pull requests to watch.
    pub session_keys: Vec<String>,
    /// Sessions whose pull requests to fetch again now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_session_keys: Option<Vec<String>>,
}

/// `controlUi.sessionPullRequests.subscribe` result (the Node gateway's shape). Always
/// `subscribed: false` here: there is no pull-request source to watch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionPullRequestsSubscribeResult {
    /// Whether the watch is on; always `false` here.
    pub subscribed: bool,
}

/// `openclaw.setup.detect {agentId?}` (as OpenClaw's `SystemAgentSetupDetectParamsSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetupDetectParams {
    /// The agent to detect setup for; `main` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<super::NonEmpty>,
}

/// `openclaw.setup.detect` result (OpenClaw's `SystemAgentSetupDetectResultSchema`): this
/// gateway has no setup wizard; its runtimes are configured in its config file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetupDetectResult {
    /// Runtimes that could be set up; always empty here.
    pub candidates: Vec<Value>,
    /// Providers that need manual setup; always empty here.
    pub manual_providers: Vec<Value>,
    /// The agent's working directory.
    pub workspace: String,
    /// Whether setup is done; always `true` here (runtimes come from the config file).
    pub setup_complete: bool,
}

/// `usage.status {}` (no OpenClaw params schema).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageStatusParams {}

/// `usage.status` result (the Node gateway's shape): provider quota windows; none known.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageStatusResult {
    /// When the status was taken, in Unix milliseconds.
    pub updated_at: u64,
    /// Providers with quota windows; always empty here.
    pub providers: Vec<Value>,
}

/// `usage.cost {days?, startDate?, endDate?, agentId?, agentScope?, mode?}` (no OpenClaw schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageCostParams {
    /// Number of days to cover; default 30, echoed in the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    /// First day (`YYYY-MM-DD`); accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// Last day (`YYYY-MM-DD`); accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    /// Only this agent; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// Which agents count; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_scope: Option<String>,
    /// Cost mode; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<super::Choice>,
}

/// Token and cost totals (OpenClaw's usage totals). Costs are 0 with no entries; an entry
/// without a known price would count in `missingCostEntries`, never get an invented price.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageTotals {
    /// Input tokens.
    pub input: u64,
    /// Output tokens.
    pub output: u64,
    /// Tokens read from the prompt cache.
    pub cache_read: u64,
    /// Tokens written to the prompt cache.
    pub cache_write: u64,
    /// All tokens.
    pub total_tokens: u64,
    /// All costs, in US dollars.
    pub total_cost: f64,
    /// Cost of input tokens, in US dollars.
    pub input_cost: f64,
    /// Cost of output tokens, in US dollars.
    pub output_cost: f64,
    /// Cost of cache reads, in US dollars.
    pub cache_read_cost: f64,
    /// Cost of cache writes, in US dollars.
    pub cache_write_cost: f64,
    /// Entries whose price is not known (not counted in the costs).
    pub missing_cost_entries: u64,
}

/// `usage.cost` result (the Node gateway's shape). The runtimes report no token usage to this
/// gateway: no daily rows, zero totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageCostResult {
    /// When the result was built, in Unix milliseconds.
    pub updated_at: u64,
    /// Number of days covered.
    pub days: u32,
    /// One row per day; always empty here.
    pub daily: Vec<Value>,
    /// Totals over the days; zero here.
    pub totals: UsageTotals,
}

/// `sessions.usage {…}` (OpenClaw's closed `SessionsUsageParamsSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionsUsageParams {
    /// Only this session; accepted, there is no usage to report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<super::NonEmpty>,
    /// Only this agent; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<super::NonEmpty>,
    /// Which agents count; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_scope: Option<String>,
    /// Only sessions created by this key; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_key: Option<super::NonEmpty>,
    /// First day (`YYYY-MM-DD`); echoed as `startDate` (default 29 days before today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// Last day (`YYYY-MM-DD`); echoed as `endDate` (default today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    /// Cost mode; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<super::Choice>,
    /// Preset date range; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<super::Choice>,
    /// Grouping; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<super::Choice>,
    /// Include sessions no longer present; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_historical: Option<bool>,
    /// UTC offset for day boundaries; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utc_offset: Option<String>,
    /// IANA time zone for day boundaries; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<super::NonEmpty>,
    /// Most sessions wanted; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Include context weight figures; accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_context_weight: Option<bool>,
}

/// `sessions.usage` result (the Node gateway's shape): no usage reported.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionsUsageResult {
    /// When the result was built, in Unix milliseconds.
    pub updated_at: u64,
    /// `YYYY-MM-DD`.
    pub start_date: String,
    /// `YYYY-MM-DD`.
    pub end_date: String,
    /// Sessions with usage; always empty here.
    pub sessions: Vec<Value>,
    /// Totals; zero here.
    pub totals: UsageTotals,
    /// Aggregates; zero or empty here.
    pub aggregates: UsageAggregates,
    /// Session creators to filter by; always empty here.
    pub creator_options: Vec<Value>,
}

/// `sessions.usage.aggregates`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageAggregates {
    /// Sessions counted.
    pub session_count: u64,
    /// Message counts.
    pub messages: UsageMessages,
    /// Tool call counts.
    pub tools: UsageTools,
    /// Usage per model; empty here.
    pub by_model: Vec<Value>,
    /// Usage per provider; empty here.
    pub by_provider: Vec<Value>,
    /// Usage per agent; empty here.
    pub by_agent: Vec<Value>,
    /// Usage per channel; empty here.
    pub by_channel: Vec<Value>,
    /// Usage per creator; empty here.
    pub by_creator: Vec<Value>,
    /// Cost per day; empty here.
    pub cost_daily: Vec<Value>,
    /// Latency per day; empty here.
    pub daily_latency: Vec<Value>,
    /// Usage per model per day; empty here.
    pub model_daily: Vec<Value>,
    /// Usage per day; empty here.
    pub daily: Vec<Value>,
}

/// `sessions.usage.aggregates.messages`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageMessages {
    /// All messages.
    pub total: u64,
    /// User messages.
    pub user: u64,
    /// Assistant messages.
    pub assistant: u64,
    /// Tool calls.
    pub tool_calls: u64,
    /// Tool results.
    pub tool_results: u64,
    /// Messages that were errors.
    pub errors: u64,
}

/// `sessions.usage.aggregates.tools`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageTools {
    /// All tool calls.
    pub total_calls: u64,
    /// Distinct tools called.
    pub unique_tools: u64,
    /// Usage per tool; empty here.
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
    /// Always `true`.
    pub ok: bool,
    /// Warnings raised by the reload; 0 here.
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
