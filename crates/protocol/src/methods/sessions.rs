//! Sessions, chat and agent runs: `sessions.list|get|subscribe|unsubscribe|spawn`,
//! `chat.send|abort|history`, `agent`, `agent.wait`, and the `chat`, `agent` and
//! `sessions.changed` events.
//!
//! The params types declare every field of OpenClaw's schemas so that what its clients send is
//! accepted (and what its schemas forbid is refused). Fields this gateway does not act on say
//! "accepted, not used here" (routing to channels, UI provenance, model and thinking knobs of
//! runtimes this gateway does not run).

use super::{event, request, NonEmpty};
use crate::FailureClass;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `sessions.list` params (OpenClaw's `SessionsListParamsSchema`). Used: `limit`, `offset`,
/// `agentId`, `spawnedBy`, `excludeSubagents`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionsListParams {
    /// Most rows to return (1 to 10,000, default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// Rows to skip first, for paging (see `nextOffset`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Only sessions active in the last N minutes; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_minutes: Option<u64>,
    /// Only sessions with a run in progress; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_only: Option<bool>,
    /// Only sessions with a recorded interaction; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_last_interaction: Option<bool>,
    /// Sort key; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<String>,
    /// Include the global session; accepted (there is none here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_global: Option<bool>,
    /// Include sessions of unknown kind; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_unknown: Option<bool>,
    /// Leave out subagent (spawned) sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_subagents: Option<bool>,
    /// Leave out cron sessions; accepted (there are none here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_cron: Option<bool>,
    /// Leave out system sessions; accepted (there are none here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_system: Option<bool>,
    /// Only sessions of configured agents; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configured_agents_only: Option<bool>,
    /// Add titles derived from the transcript; accepted, rows here carry none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_derived_titles: Option<bool>,
    /// Add each session's last message; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_last_message: Option<bool>,
    /// Add an activity summary; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_activity_summary: Option<bool>,
    /// Only sessions with this label; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<NonEmpty>,
    /// Only sessions of this project; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<NonEmpty>,
    /// Only sessions in this workspace directory; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_dir: Option<NonEmpty>,
    /// Only sessions in this sidebar group; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Only pinned sessions; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<bool>,
    /// Board view filter; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board_face: Option<String>,
    /// Only sessions with a board; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_board: Option<bool>,
    /// Only sessions created by this user; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_id: Option<NonEmpty>,
    /// Only sessions owned by this user; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<NonEmpty>,
    /// Sort the caller's own sessions first; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_first: Option<bool>,
    /// Only sessions involving the caller; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub involving_me: Option<bool>,
    /// Relation to a user profile; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_relation: Option<Value>,
    /// Only sessions involving this profile; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub involving_profile_id: Option<NonEmpty>,
    /// Add the people of each session; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_people: Option<bool>,
    /// Only the children of this session key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spawned_by: Option<NonEmpty>,
    /// Only sessions of this agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
    /// Search text; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// Archived-state filter; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<Value>,
}

/// `chat.send` params (OpenClaw's `ChatSendParamsSchema`). Used: `sessionKey`, `message`,
/// `idempotencyKey` (also the run id), `timeoutMs`, and this gateway's `model` and `runtime`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChatSendParams {
    /// The session to send to: `agent:<agentId>:<rest>`, or a short form completed with `agentId`.
    pub session_key: NonEmpty,
    /// The agent that completes a short `sessionKey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
    /// OpenClaw's session id guard; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<NonEmpty>,
    /// The user's message; the run's input.
    pub message: String,
    /// Mentions in the message; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentions: Option<Vec<Value>>,
    /// Work context attached by the UI; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_context: Option<Value>,
    /// The UI's intent data; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<Value>,
    /// Thinking level; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
    /// Fast mode switch; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast_mode: Option<Value>,
    /// Fast mode auto-on delay in seconds; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast_auto_on_seconds: Option<u64>,
    /// How to queue behind a running run; accepted, runs here always queue in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_mode: Option<String>,
    /// Deliver the reply to a channel; accepted, not used here (no channels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver: Option<bool>,
    /// Originating channel; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub originating_channel: Option<String>,
    /// Originating recipient; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub originating_to: Option<String>,
    /// Originating channel account; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub originating_account_id: Option<String>,
    /// Originating thread; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub originating_thread_id: Option<String>,
    /// The message this one replies to; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to_id: Option<NonEmpty>,
    /// File attachments; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<Value>>,
    /// Tool bindings; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_bindings: Option<Value>,
    /// Run deadline in milliseconds; 0 or absent means no deadline beyond the runtime's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Provenance of system input; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_input_provenance: Option<Value>,
    /// Provenance receipt; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_provenance_receipt: Option<String>,
    /// Treat a leading `/` as text; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppress_command_interpretation: Option<bool>,
    /// Transcript leaf guard; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_leaf_entry_id: Option<NonEmpty>,
    /// Routing contract guard; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_session_routing_contract: Option<NonEmpty>,
    /// Permission mode guard; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_permission_mode: Option<String>,
    /// Tool override guard; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_tool_overrides: Option<Value>,
    /// Client-chosen key that makes a resend safe; also the run id (a resend returns the same run).
    pub idempotency_key: NonEmpty,
    /// This gateway's extension: the model for this run (OpenClaw sets it per session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// This gateway's extension: the runtime (a `runtimes.<name>` key) for this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
}

/// `chat.abort` params. Used: `sessionKey`, `runId` (default: every run of the session).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChatAbortParams {
    /// The session whose runs to abort (short forms completed with `agentId`).
    pub session_key: NonEmpty,
    /// The agent that completes a short `sessionKey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
    /// Only this run; every queued and running run of the session when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<NonEmpty>,
    /// Keep side runs going; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserve_side_runs: Option<bool>,
}

/// `chat.history` params. Used: `sessionKey`, `limit` (default 200).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChatHistoryParams {
    /// The session whose transcript to read (short forms completed with `agentId`).
    pub session_key: NonEmpty,
    /// The agent that completes a short `sessionKey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
    /// Paging cursor; accepted, not used here (the latest messages are returned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Most messages to return, the latest ones (1 to 10,000, default 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// Byte budget; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
    /// Offset for paging; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Pending input boundary; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_before: Option<u64>,
    /// Run ids whose inputs to include; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_run_ids: Option<Vec<NonEmpty>>,
    /// Read around this message; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<NonEmpty>,
    /// Session id guard; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<NonEmpty>,
    /// Character budget; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_chars: Option<u64>,
}

/// `agent` params (OpenClaw's `AgentParamsSchema`). Used: `message`, `idempotencyKey`,
/// `agentId`, `sessionKey`, `sessionId` (keys `agent:<agentId>:explicit:<sessionId>`), `model`,
/// `timeout` (seconds) and `deliver` (refused: no channels here).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentParams {
    /// The message to run.
    pub message: NonEmpty,
    /// The agent; `main` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
    /// Model provider; accepted, not used here (the agent's runtime serves the model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The model for this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Channel recipient; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Reply recipient; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Names an explicit session: `agent:<agentId>:explicit:<sessionId>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The session to run in; default the agent's main session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
    /// Session id guard; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_existing_session_id: Option<NonEmpty>,
    /// Thinking level; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
    /// Deliver the reply to a channel; `true` is refused (no channels here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver: Option<bool>,
    /// File attachments; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<Value>>,
    /// Channel; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Reply channel; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_channel: Option<String>,
    /// Channel account; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Reply channel account; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_account_id: Option<String>,
    /// Channel thread; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    /// Channel group; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// Channel group channel; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_channel: Option<String>,
    /// Channel group space; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_space: Option<String>,
    /// Run deadline in seconds; 0 or absent means none beyond the runtime's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// Deliver if possible; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_effort_deliver: Option<bool>,
    /// OpenClaw's lane name; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lane: Option<String>,
    /// Working directory; accepted, not used here (the agent's workspace is used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<NonEmpty>,
    /// OpenClaw MCP cleanup switch; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_bundle_mcp_on_run_end: Option<bool>,
    /// OpenClaw model-run switch; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_run: Option<bool>,
    /// Prompt mode; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_mode: Option<String>,
    /// Extra system prompt; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_system_prompt: Option<String>,
    /// Bootstrap context mode; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap_context_mode: Option<String>,
    /// Bootstrap context run kind; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap_context_run_kind: Option<String>,
    /// ACP turn source; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acp_turn_source: Option<String>,
    /// OpenClaw-internal handoff id; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_runtime_handoff_id: Option<NonEmpty>,
    /// OpenClaw-internal retry flag; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_execution_identity_retry: Option<bool>,
    /// OpenClaw-internal recovery attempt; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_execution_identity_recovery_attempt: Option<u64>,
    /// OpenClaw-internal approval follow-up guard; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec_approval_followup_expected_session_id: Option<NonEmpty>,
    /// OpenClaw-internal events; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_events: Option<Vec<Value>>,
    /// Input provenance; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_provenance: Option<Value>,
    /// Do not record the prompt; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppress_prompt_persistence: Option<bool>,
    /// Session effects mode; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_effects: Option<String>,
    /// Reply delivery mode; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_reply_delivery_mode: Option<String>,
    /// Disable the message tool; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_message_tool: Option<bool>,
    /// Swarm collector switch; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swarm_collector: Option<bool>,
    /// Swarm output schema; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swarm_output_schema: Option<Value>,
    /// Restart-safe tools switch; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_restart_safe_tools: Option<bool>,
    /// Code-mode tools switch; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_code_mode_tools: Option<bool>,
    /// Voice wake trigger; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice_wake_trigger: Option<String>,
    /// Client-chosen key that makes a resend safe; also the run id.
    pub idempotency_key: NonEmpty,
    /// Label for the session; accepted, not used here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<NonEmpty>,
}

/// `sessions.list` result. OpenClaw has no result schema for the whole; its rows follow
/// `SessionRowSchema` and its `defaults` are what the Control UI reads. Decoding is lenient.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SessionsListResult {
    /// When the list was built, in Unix milliseconds.
    pub ts: u64,
    /// Where sessions live.
    pub path: String,
    /// Rows in this page.
    pub count: usize,
    /// Sessions matching the filters, over all pages.
    pub total_count: usize,
    /// The page size used.
    pub limit_applied: usize,
    /// The `offset` of the next page; `null` on the last page.
    pub next_offset: Option<usize>,
    /// Whether more rows follow.
    pub has_more: bool,
    /// What a new session runs with.
    pub defaults: SessionDefaults,
    /// The page of sessions.
    pub sessions: Vec<SessionRow>,
}

/// `sessions.list.defaults`: what a new session runs with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SessionDefaults {
    /// The configured model, if any (the embedded runtime needs none).
    pub model: Option<String>,
    /// The runtime that serves `model`.
    pub model_provider: Option<String>,
    /// Default context window in tokens; `null` here (the runtimes do not say).
    pub context_tokens: Option<u64>,
    /// The runtime new sessions run on.
    pub agent_runtime: AgentRuntime,
    /// Where a model choice applies: `session`.
    pub model_selection_target: String,
    /// Thinking levels a session can pick; always empty here (no thinking knobs).
    pub thinking_levels: Vec<ThinkingLevel>,
    /// The same levels as plain ids; always empty here.
    pub thinking_options: Vec<String>,
}

/// The runtime a session runs on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AgentRuntime {
    /// A `runtimes.<name>` key (`embedded` by default).
    pub id: String,
    /// OpenClaw's source words: `agent` (`agents.entries.<id>.runtime`), `defaults`
    /// (`agents.defaults.runtime`) or `implicit` (the built-in `embedded`).
    pub source: String,
}

/// A thinking level a runtime offers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ThinkingLevel {
    /// Level id as sent in params.
    pub id: String,
    /// Display name.
    pub label: String,
}

/// One session (OpenClaw's `SessionRowSchema`, plus this gateway's run-queue fields).
/// Decoding is lenient (missing fields default), so rows of the Node gateway decode too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SessionRow {
    /// The session key, `agent:<agentId>:<rest>`.
    pub key: String,
    /// `direct`: every session here is a direct conversation with an agent.
    pub kind: String,
    /// `main` (an agent's main session), `named` (another top-level session) or `subagent`.
    pub classification: String,
    /// The agent the session belongs to.
    pub agent_id: String,
    /// Whether it is the agent's main session.
    pub is_main: bool,
    /// Whether it is a spawned (background) session, i.e. its depth is 1 or more.
    pub is_background: bool,
    /// Label given at spawn, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Absent for a session that has no message yet (`sessions.describe` of a main session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<u64>,
    /// When the session last changed, in Unix milliseconds.
    pub updated_at: Option<u64>,
    /// `operator` or `spawn`.
    pub created_via: String,
    /// The run state in OpenClaw's words: `queued`, `running`, `done`, `failed`, `killed`,
    /// `timeout`; absent before the first run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The id of the session's most recent run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run_id: Option<String>,
    /// The session key of the parent that spawned it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spawned_by: Option<String>,
    /// The parent session's key, for a spawned session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_session_key: Option<String>,
    /// Spawn depth: 0 for a top-level session, the parent's depth + 1 for a child.
    pub spawn_depth: u32,
    /// This gateway: the running run, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running_run_id: Option<String>,
    /// This gateway: runs waiting in the session's FIFO.
    pub queued: usize,
    /// This gateway: child sessions spawned from this one.
    pub children: usize,
    /// This gateway: child results not yet recorded in this session's transcript.
    pub pending_announces: usize,
    /// This gateway's run state of the last run (`completed`, `failed`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run_status: Option<String>,
    /// The model the session's agent runs with (configured, or its runtime's default), when
    /// known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The runtime that serves `model` (a `runtimes.<name>` key, or `embedded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_provider: Option<String>,
}

/// `sessions.get {sessionKey}` (this gateway; `key` is accepted as an alias).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionsGetParams {
    /// The session (`agent:<agentId>:<rest>`); required in practice, refused when absent.
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "key")]
    pub session_key: Option<NonEmpty>,
}

/// `sessions.get` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsGetResult {
    /// The session's row.
    pub session: SessionRow,
}

/// `sessions.subscribe {sessionKey?}` / `sessions.unsubscribe {sessionKey?}`: one session's
/// events, or every session's (`key` is accepted as an alias).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionsSubscribeParams {
    /// The session to watch; every session when absent.
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "key")]
    pub session_key: Option<NonEmpty>,
}

/// `sessions.unsubscribe {sessionKey?}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionsUnsubscribeParams {
    /// The session to stop watching; the all-sessions subscription when absent.
    #[serde(default, skip_serializing_if = "Option::is_none", alias = "key")]
    pub session_key: Option<NonEmpty>,
}

/// `sessions.subscribe` / `sessions.unsubscribe` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// Whether the connection is now subscribed.
    pub subscribed: bool,
    /// The session concerned; absent for the all-sessions subscription.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
}

/// `sessions.spawn {task, …}`: this gateway's method for spawning a subagent run from outside
/// a run (`openclaw sessions-spawn`). OpenClaw 2026.9.6 has no such method.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionsSpawnParams {
    /// What the child run does.
    pub task: NonEmpty,
    /// The child's agent; `main` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
    /// The model for the child run; the agent's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<NonEmpty>,
    /// A `runtimes.<name>` key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<NonEmpty>,
    /// Label for the child session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Seconds; 0 or absent: no limit beyond the runtime's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_timeout_seconds: Option<u64>,
    /// Alias of `runTimeoutSeconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// `keep` (default) or `delete` the child session when its run ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<Cleanup>,
    /// The session the child reports to; absent: a child of the main session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_session_key: Option<NonEmpty>,
    /// A retried spawn with the same key gets the same child back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<NonEmpty>,
}

/// What happens to a child session when its run ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cleanup {
    /// Keep the child session and its transcript.
    #[default]
    Keep,
    /// Delete the child session when its run ends.
    Delete,
}

/// `sessions.spawn` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpawnAccepted {
    /// `accepted`.
    pub status: String,
    /// The child's run id.
    pub run_id: String,
    /// The child session's key.
    pub child_session_key: String,
    /// True when an earlier spawn with the same idempotency key is returned.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
}

/// `chat.send` result: `runId` is the idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatSendResult {
    /// The run id (the `idempotencyKey`).
    pub run_id: String,
    /// `started`.
    pub status: String,
    /// True when this key was sent before; `runStatus` then says where that run is.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
    /// State of the earlier run when `duplicate` (`queued`, `running`, `completed`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_status: Option<String>,
}

/// `chat.abort` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatAbortResult {
    /// Always `true` (a refusal is an error response).
    pub ok: bool,
    /// Whether any run was aborted.
    pub aborted: bool,
    /// The runs aborted.
    pub run_ids: Vec<String>,
}

/// `chat.history` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatHistoryResult {
    /// The canonical session key.
    pub session_key: String,
    /// The latest messages, oldest first.
    pub messages: Vec<HistoryMessage>,
    /// Messages accepted but not yet in the transcript: none here (a message is in the
    /// transcript before `chat.send` answers).
    #[serde(default)]
    pub pending_inputs: PendingInputs,
    /// More messages precede the first one returned.
    #[serde(default)]
    pub has_more: bool,
    /// Messages in the whole transcript.
    #[serde(default)]
    pub total_messages: usize,
    /// What a new session runs with (as `sessions.list.defaults`).
    #[serde(default)]
    pub defaults: SessionDefaults,
    /// The session's row, once it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_info: Option<SessionRow>,
}

/// `chat.history.pendingInputs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PendingInputs {
    /// Pending inputs; always empty here.
    pub items: Vec<Value>,
    /// Number of pending inputs; 0 here.
    pub total: usize,
}

/// One transcript message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryMessage {
    /// `user`, `assistant` or `system` (announces of child results).
    pub role: String,
    /// The message text, as one text block.
    pub content: Vec<TextContent>,
    /// When the message was recorded, in Unix milliseconds.
    pub timestamp: u64,
    /// The run the message belongs to.
    pub run_id: String,
    /// This gateway's run state, on assistant messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The failure class of a failed run's reply (`auth`, `rate_limit`, …); absent otherwise. An
    /// unknown class from a newer gateway reads as [`FailureClass::Runtime`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_class: Option<FailureClass>,
    /// On an announce: the child session whose result it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_session_key: Option<String>,
    /// On an announce: its id, unique per child result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announce_id: Option<String>,
    /// Where the message is in the transcript (OpenClaw's `__openclaw` message metadata): what
    /// clients match a message by when it reaches them twice (from `chat.history` and from a
    /// `session.message` event, or as their own optimistic copy).
    #[serde(rename = "__openclaw")]
    pub openclaw: TranscriptMeta,
}

/// A transcript message's `__openclaw` metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptMeta {
    /// The message's id: its run and its position, `<runId>#<seq>` (unique per transcript
    /// entry, stable). Clients treat a reply with an id as the run's recorded reply.
    pub id: String,
    /// The message's 1-based position in the session's transcript (stable: the transcript only
    /// grows; a reset starts a new one).
    pub seq: u64,
    /// As OpenClaw derives it from the message's run id (the `chat.send` `idempotencyKey`):
    /// `<runId>:user` on the message that queued the run, `<runId>` on its reply; none on
    /// announces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// A text content block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextContent {
    /// `text`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The text.
    pub text: String,
}

impl TextContent {
    /// A `{type:"text", text}` block.
    pub fn new(text: impl Into<String>) -> TextContent {
        TextContent {
            kind: "text".into(),
            text: text.into(),
        }
    }
}

/// `agent.wait {runId, timeoutMs?}` (OpenClaw's `AgentWaitParamsSchema`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentWaitParams {
    /// The run to wait for (the `runId` of `chat.send` or `agent`).
    pub run_id: NonEmpty,
    /// Default 30 s, at most 10 min.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

/// A run as `agent.wait` (and the final `agent` reply) reports it: OpenClaw's wait vocabulary in
/// `status` (`ok`, `error`, `timeout`, `pending`) with `stopReason`, this gateway's run state in
/// `runStatus`. `waitTimedOut` is set when the wait ended before the run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunResult {
    /// The run id.
    pub run_id: String,
    /// The session it ran in.
    pub session_key: String,
    /// OpenClaw's wait status: `ok`, `error`, `timeout` (also when the wait ended first) or
    /// `pending` (still queued).
    pub status: String,
    /// `aborted`, `timeout` or `interrupted` when the run ended that way; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    /// This gateway's run state: `queued`, `running`, `completed`, `failed`, `aborted`, `timeout`
    /// or `interrupted`.
    pub run_status: String,
    /// Times the run was started (a run interrupted by a restart is re-run).
    pub attempts: u32,
    /// When the run was queued, in Unix milliseconds.
    pub created_at: u64,
    /// When it started, in Unix milliseconds; `null` while queued.
    pub started_at: Option<u64>,
    /// When it ended, in Unix milliseconds; `null` while not ended.
    pub ended_at: Option<u64>,
    /// The reply text of a completed run; `null` otherwise.
    pub text: Option<String>,
    /// Why the run did not complete; `null` otherwise.
    pub error: Option<String>,
    /// The failure class when the run failed (`auth`, `rate_limit`, `quota`, `upstream`, `timeout`,
    /// `interrupted`, `runtime`, `config`); `null` otherwise. An unknown class from a newer gateway
    /// reads as [`FailureClass::Runtime`] instead of failing the whole result.
    pub error_class: Option<FailureClass>,
    /// Whether retrying the same input may succeed (e.g. after a rate limit).
    pub retryable: bool,
    /// The parent session key when the run belongs to a spawned session.
    pub spawned_by: Option<String>,
    /// `true` when the wait ended before the run did (the run goes on).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wait_timed_out: bool,
    /// `queue` when the run had not started when the wait ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_phase: Option<String>,
}

/// The two replies of `agent`: `accepted` at once, then the run's end (same request id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AgentReply {
    /// The run ended (or was already running: `status: "in_flight"`).
    Done(Box<AgentDone>),
    /// First reply: the run was queued.
    Accepted(AgentAccepted),
}

/// `agent`'s first reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentAccepted {
    /// The run id (the `idempotencyKey`).
    pub run_id: String,
    /// `accepted`.
    pub status: String,
    /// The session the run was queued in.
    pub session_key: String,
    /// The agent that runs it.
    pub agent_id: String,
    /// When it was queued, in Unix milliseconds.
    pub accepted_at: u64,
}

/// `agent`'s final reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentDone {
    /// The run's end, as `agent.wait` reports it (flattened into this object).
    #[serde(flatten)]
    pub run: RunResult,
    /// `completed`, `aborted`, `failed`, or `already running`.
    pub summary: String,
    /// The agent that ran it.
    pub agent_id: String,
    /// The reply payloads and run metadata; absent for `already running`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<AgentOutput>,
}

/// `agent` result payloads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentOutput {
    /// The reply, one payload per text (an error text has `isError`).
    pub payloads: Vec<AgentPayload>,
    /// Run metadata.
    pub meta: AgentMeta,
}

/// One reply payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentPayload {
    /// The text.
    pub text: String,
    /// Whether the text is an error message rather than a reply.
    pub is_error: bool,
}

/// `agent` result metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentMeta {
    /// How long the run ran, in milliseconds; `null` when it never started.
    pub duration_ms: Option<u64>,
    /// This gateway's run state (as `runStatus`).
    pub run_status: String,
    /// The failure class when the run failed; `null` otherwise (same reading rule as
    /// [`RunResult::error_class`]).
    pub error_class: Option<FailureClass>,
}

/// The `chat` event (OpenClaw's `ChatEventSchema`): common fields and one body per `state`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatEvent {
    /// The run the event belongs to.
    pub run_id: String,
    /// The session it runs in.
    pub session_key: String,
    /// The session's agent.
    pub agent_id: String,
    /// The parent session key when the run belongs to a spawned session; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spawned_by: Option<String>,
    /// Per-run sequence, shared with the run's `agent` events.
    pub seq: u64,
    /// The state and its data.
    #[serde(flatten)]
    pub body: ChatBody,
}

/// The state-specific part of a `chat` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum ChatBody {
    /// The run moved to a phase (OpenClaw's phase names only).
    #[serde(rename_all = "camelCase")]
    Status {
        /// One of OpenClaw's phase names (`starting_model` when a run starts,
        /// `preparing_context`, …).
        phase: String,
    },
    /// Streamed text.
    #[serde(rename_all = "camelCase")]
    Delta {
        /// The text added since the previous delta.
        delta_text: String,
    },
    /// The run completed.
    #[serde(rename_all = "camelCase")]
    Final {
        /// The reply.
        message: ChatMessage,
        /// Why the run stopped, when OpenClaw has a word for it; absent otherwise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stop_reason: Option<String>,
    },
    /// The run was aborted (or timed out, or was interrupted and will not re-run).
    #[serde(rename_all = "camelCase")]
    Aborted {
        /// What happened, for display.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error_message: Option<String>,
        /// `aborted`, `timeout` or `interrupted`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stop_reason: Option<String>,
    },
    /// The run failed.
    #[serde(rename_all = "camelCase")]
    Error {
        /// What went wrong, for display.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error_message: Option<String>,
        /// `refusal`, `timeout`, `rate_limit`, `context_length` or `unknown`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error_kind: Option<String>,
        /// This gateway's failure class, as `{providerRuntimeFailureKind}`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error_detail: Option<ErrorDetail>,
        /// Why the run stopped, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stop_reason: Option<String>,
    },
}

/// `chat.errorDetail` (OpenClaw's closed `ChatErrorDetailSchema`; this gateway fills the one
/// field it knows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// Why the runtime failed: this gateway's failure class (`auth`, `rate_limit`,
    /// `transport`, …).
    pub provider_runtime_failure_kind: String,
}

/// The assistant message of a final `chat` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    /// `assistant`.
    pub role: String,
    /// The reply text, as one text block.
    pub content: Vec<TextContent>,
    /// The reply of a slash command handled by the gateway (`/status`), not of a model run:
    /// OpenClaw's clients show it as a system line.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub command: bool,
    /// The run id, as on the reply OpenClaw records in the transcript (its `idempotencyKey`):
    /// clients match this streamed copy with the recorded reply by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// The `agent` event (OpenClaw's `AgentEventSchema`; like Node, also with `sessionKey` and
/// `agentId`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentEvent {
    /// The run the event belongs to.
    pub run_id: String,
    /// Per-run sequence, shared with the run's `chat` events.
    pub seq: u64,
    /// `lifecycle`, `run_status`, `assistant`, …
    pub stream: String,
    /// When the event was sent, in Unix milliseconds.
    pub ts: u64,
    /// The parent session key when the run belongs to a spawned session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spawned_by: Option<String>,
    /// Stream-specific data, as the runtime reported it.
    pub data: Value,
    /// The session the run belongs to.
    pub session_key: String,
    /// The session's agent.
    pub agent_id: String,
}

/// `data` of an `agent` event with `stream: "announce"`: a child's result, announced on the
/// parent session. Lenient (every field optional), as the data of a runtime stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AnnounceData {
    /// Unique id of this announce.
    pub announce_id: Option<String>,
    /// The child session whose result it is.
    pub child_session_key: Option<String>,
    /// The child run's state (`completed`, `failed`, …).
    pub status: Option<String>,
    /// The child's reply, when it completed.
    pub text: Option<String>,
    /// Why the child did not complete.
    pub error: Option<String>,
    /// The child's failure class; an unknown class reads as [`FailureClass::Runtime`].
    pub error_class: Option<FailureClass>,
    /// The child's label, if it had one.
    pub label: Option<String>,
}

/// The `sessions.changed` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionsChanged {
    /// The session that changed.
    pub session_key: String,
    /// The session's agent.
    pub agent_id: String,
    /// `created`, `spawned`, `message`, `run.started`, `run.ended`, `announce`, `deleted`.
    pub reason: String,
    /// The run concerned, for `run.*` reasons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// When it changed, in Unix milliseconds.
    pub ts: u64,
    /// The session's row after the change.
    pub session: SessionRow,
}

request! {
    SessionsListParams => SessionsListResult, "sessions.list";
    SessionsGetParams => SessionsGetResult, "sessions.get";
    SessionsSubscribeParams => Subscription, "sessions.subscribe";
    SessionsUnsubscribeParams => Subscription, "sessions.unsubscribe";
    SessionsSpawnParams => SpawnAccepted, "sessions.spawn";
    ChatSendParams => ChatSendResult, "chat.send";
    ChatAbortParams => ChatAbortResult, "chat.abort";
    ChatHistoryParams => ChatHistoryResult, "chat.history";
    AgentWaitParams => RunResult, "agent.wait";
    AgentParams => AgentReply, "agent";
}

event! {
    ChatEvent, "chat";
    AgentEvent, "agent";
    SessionsChanged, "sessions.changed";
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run_result(error_class: Value) -> Value {
        json!({
            "runId": "r1", "sessionKey": "agent:main:main", "status": "error",
            "runStatus": "failed", "attempts": 1, "createdAt": 1, "startedAt": 2, "endedAt": 3,
            "text": null, "error": "boom", "errorClass": error_class, "retryable": false,
            "spawnedBy": null,
        })
    }

    #[test]
    fn error_class_keeps_its_wire_name() {
        for class in FailureClass::ALL {
            let v = run_result(json!(class.as_str()));
            let r: RunResult = serde_json::from_value(v.clone()).expect("a known class decodes");
            assert_eq!(r.error_class, Some(class));
            assert_eq!(serde_json::to_value(&r).expect("encode"), v, "{class}");
        }
        let r: RunResult = serde_json::from_value(run_result(Value::Null)).expect("null decodes");
        assert_eq!(r.error_class, None);
        assert_eq!(
            serde_json::to_value(&r).expect("encode")["errorClass"],
            Value::Null
        );
    }

    #[test]
    fn an_unknown_error_class_from_a_newer_gateway_does_not_fail_the_payload() {
        let r: RunResult = serde_json::from_value(run_result(json!("gpu_on_fire")))
            .expect("an unknown class must not fail the whole result");
        assert_eq!(r.error_class, Some(FailureClass::Runtime));
        assert_eq!(r.error, Some("boom".into()));

        let d: AnnounceData =
            serde_json::from_value(json!({"childSessionKey": "c", "errorClass": "gpu_on_fire"}))
                .expect("announce data stays lenient");
        assert_eq!(d.error_class, Some(FailureClass::Runtime));
        assert_eq!(d.child_session_key.as_deref(), Some("c"));

        let m: AgentMeta = serde_json::from_value(
            json!({"durationMs": 5, "runStatus": "failed", "errorClass": "rateLimit"}),
        )
        .expect("the older camelCase spelling reads");
        assert_eq!(m.error_class, Some(FailureClass::RateLimit));
    }

    #[test]
    fn history_message_omits_an_absent_error_class() {
        let m = HistoryMessage {
            role: "assistant".into(),
            content: vec![TextContent::new("hi")],
            timestamp: 1,
            run_id: "r1".into(),
            status: Some("failed".into()),
            error_class: Some(FailureClass::Quota),
            child_session_key: None,
            announce_id: None,
            openclaw: TranscriptMeta {
                id: "r1#2".into(),
                seq: 2,
                idempotency_key: Some("r1".into()),
            },
        };
        let v = serde_json::to_value(&m).expect("encode");
        assert_eq!(v["errorClass"], "quota");
        let back: HistoryMessage = serde_json::from_value(v).expect("decode");
        assert_eq!(back, m);
        let v = serde_json::to_value(HistoryMessage {
            error_class: None,
            ..m
        })
        .expect("encode");
        assert!(v.get("errorClass").is_none(), "{v}");
    }
}
