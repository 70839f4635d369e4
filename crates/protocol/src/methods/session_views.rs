//! The session reads and edits of the Control UI and TUI: `sessions.describe`,
//! `sessions.messages.subscribe|unsubscribe` (and the `session.message` event they deliver),
//! `sessions.patch`, `sessions.reset`, `sessions.delete`, `sessions.observer.visibility`,
//! `sessions.catalog.list`, `sessions.groups.list|defaults`, `sessions.branches.list` and
//! `sessions.companion.state`.
//!
//! Params follow OpenClaw's `<Name>ParamsSchema`; results its `<Name>ResultSchema` where it has
//! one, else the Node gateway's answers. Features this gateway does not have (external session
//! catalogs, groups, branches, the companion) answer their valid empty result.

use super::sessions::{HistoryMessage, SessionRow};
use super::{event, request, NonEmpty};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `sessions.describe {key, agentId?, …}` (OpenClaw's `SessionsDescribeParamsSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionsDescribeParams {
    /// The session key (`agent:<agentId>:<rest>`, or a short form completed with `agentId`).
    pub key: NonEmpty,
    /// The agent that completes a short `key`; `main` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
    /// Accepted; rows here carry no derived titles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_derived_titles: Option<bool>,
    /// Accepted; not used by this gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_last_message: Option<bool>,
}

/// `sessions.describe` result: the session's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsDescribeResult {
    /// The session as `sessions.list` shows it.
    pub session: SessionRow,
}

/// `sessions.messages.subscribe {key, agentId?, includeApprovals?}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionsMessagesSubscribeParams {
    /// The session whose new transcript messages to receive.
    pub key: NonEmpty,
    /// The agent that completes a short `key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
    /// Accepted; this gateway has no approvals to include.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_approvals: Option<bool>,
}

/// `sessions.messages.unsubscribe {key, agentId?}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionsMessagesUnsubscribeParams {
    /// The session to stop receiving messages of.
    pub key: NonEmpty,
    /// The agent that completes a short `key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
}

/// `sessions.messages.subscribe|unsubscribe` result (Node: `{subscribed, key}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagesSubscription {
    /// `true` after subscribe, `false` after unsubscribe.
    pub subscribed: bool,
    /// The canonical session key.
    pub key: String,
}

/// The `session.message` event: a message was added to a session's transcript (sent to
/// connections subscribed with `sessions.messages.subscribe`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionMessageEvent {
    /// The session the message was added to (canonical key).
    pub session_key: String,
    /// The session's agent.
    pub agent_id: String,
    /// The message, as `chat.history` lists it.
    pub message: HistoryMessage,
    /// The message's id and position in the transcript (as its `__openclaw.id` and `.seq`).
    pub message_id: String,
    /// The message's 1-based position in the transcript.
    pub message_seq: u64,
    /// The run the message belongs to.
    pub run_id: String,
    /// When the event was sent, in Unix milliseconds.
    pub ts: u64,
}

/// `sessions.observer.visibility {visible}`: whether the caller's session view is on screen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsObserverVisibilityParams {
    /// Whether the session view is on screen; accepted, this gateway does not act on it.
    pub visible: bool,
}

/// `sessions.observer.visibility` result (OpenClaw's schema: `{ok: true}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OkTrue {
    /// Always `true`.
    pub ok: bool,
}

/// `sessions.catalog.list` params (OpenClaw's `SessionsCatalogListParamsSchema`; nothing is
/// used: this gateway has no external session catalogs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionsCatalogListParams {
    /// Which external catalog to list; not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_id: Option<NonEmpty>,
    /// Not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_only: Option<bool>,
    /// Paging cursors per catalog host; not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursors: Option<std::collections::BTreeMap<String, String>>,
    /// Not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
    /// Not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_id: Option<NonEmpty>,
    /// Not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_partial_results: Option<bool>,
    /// Search text; not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// Not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_per_host: Option<u64>,
    /// Not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_ids: Option<Vec<NonEmpty>>,
}

/// `sessions.catalog.list` result: no catalogs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsCatalogListResult {
    /// External session catalogs; always empty here.
    pub catalogs: Vec<Value>,
}

/// `sessions.groups.list {}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsGroupsListParams {}

/// `sessions.groups.list` result: no groups.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionsGroupsListResult {
    /// Session groups; always empty here.
    pub groups: Vec<Value>,
    /// Order of the sidebar sections; always empty here.
    pub section_order: Vec<String>,
}

/// `sessions.groups.defaults {}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsGroupsDefaultsParams {}

/// `sessions.groups.defaults` result: none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsGroupsDefaultsResult {
    /// Default groups; always empty here.
    pub defaults: Vec<Value>,
}

/// `sessions.branches.list {sessionKey, agentId?}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionsBranchesListParams {
    /// The session whose branches to list.
    pub session_key: NonEmpty,
    /// The agent that completes a short `sessionKey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
}

/// `sessions.branches.list` result: transcripts here are linear, so no branches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsBranchesListResult {
    /// Transcript branches; always empty here.
    pub branches: Vec<Value>,
}

/// `sessions.companion.state {sessionKey, agentId?}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionsCompanionStateParams {
    /// The session whose companion state to get.
    pub session_key: NonEmpty,
    /// The agent that completes a short `sessionKey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
}

/// `sessions.companion.state` result: no companion, no exchanges.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsCompanionStateResult {
    /// Companion exchanges; always empty here.
    pub exchanges: Vec<Value>,
}

/// `sessions.reset {key, agentId?, reason?, expectedSessionId?}` (OpenClaw's
/// `SessionsResetParamsSchema`). Refused here: see `docs/sessions.md`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionsResetParams {
    /// The session to reset.
    pub key: NonEmpty,
    /// The agent that completes a short `key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
    /// `new` or `reset`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Refuse unless the session still has this id (guards against a concurrent reset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_session_id: Option<NonEmpty>,
}

/// `sessions.delete {key, …}` (OpenClaw's `SessionsDeleteParamsSchema`). Refused here: see
/// `docs/sessions.md`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionsDeleteParams {
    /// The session to delete.
    pub key: NonEmpty,
    /// The agent that completes a short `key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
    /// Whether to delete the transcript file too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_transcript: Option<bool>,
    /// Refuse unless the session still has this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_session_id: Option<NonEmpty>,
    /// Refuse unless the session is still at this lifecycle revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_lifecycle_revision: Option<NonEmpty>,
    /// Refuse unless the session was last updated at this time (Unix milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_session_updated_at: Option<f64>,
    /// Whether OpenClaw's lifecycle hooks run for the deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emit_lifecycle_hooks: Option<bool>,
    /// Only delete an archived session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_only: Option<bool>,
}

/// `sessions.reset` / `sessions.delete` result (OpenClaw's `SessionsDeleteResultSchema`
/// shape). Never produced yet: both are refused with `UNAVAILABLE`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRemoval {
    /// Whether the operation succeeded.
    pub ok: bool,
    /// The session key operated on.
    pub key: String,
    /// Whether the session was deleted.
    pub deleted: bool,
    /// Paths of the transcript files archived.
    pub archived: Vec<String>,
}

request! {
    SessionsResetParams => SessionRemoval, "sessions.reset";
    SessionsDeleteParams => SessionRemoval, "sessions.delete";
    SessionsDescribeParams => SessionsDescribeResult, "sessions.describe";
    SessionsMessagesSubscribeParams => MessagesSubscription, "sessions.messages.subscribe";
    SessionsMessagesUnsubscribeParams => MessagesSubscription, "sessions.messages.unsubscribe";
    SessionsObserverVisibilityParams => OkTrue, "sessions.observer.visibility";
    SessionsCatalogListParams => SessionsCatalogListResult, "sessions.catalog.list";
    SessionsGroupsListParams => SessionsGroupsListResult, "sessions.groups.list";
    SessionsGroupsDefaultsParams => SessionsGroupsDefaultsResult, "sessions.groups.defaults";
    SessionsBranchesListParams => SessionsBranchesListResult, "sessions.branches.list";
    SessionsCompanionStateParams => SessionsCompanionStateResult, "sessions.companion.state";
}

event! {
    SessionMessageEvent, "session.message";
}
