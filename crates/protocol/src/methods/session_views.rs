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
    pub key: NonEmpty,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_derived_titles: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_last_message: Option<bool>,
}

/// `sessions.describe` result: the session's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsDescribeResult {
    pub session: SessionRow,
}

/// `sessions.messages.subscribe {key, agentId?, includeApprovals?}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionsMessagesSubscribeParams {
    pub key: NonEmpty,
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
    pub key: NonEmpty,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
}

/// `sessions.messages.subscribe|unsubscribe` result (Node: `{subscribed, key}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagesSubscription {
    pub subscribed: bool,
    pub key: String,
}

/// The `session.message` event: a message was added to a session's transcript (sent to
/// connections subscribed with `sessions.messages.subscribe`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionMessageEvent {
    pub session_key: String,
    pub agent_id: String,
    pub message: HistoryMessage,
    /// The message's id and position in the transcript (as its `__openclaw.id` and `.seq`).
    pub message_id: String,
    pub message_seq: u64,
    /// The run the message belongs to.
    pub run_id: String,
    pub ts: u64,
}

/// `sessions.observer.visibility {visible}`: whether the caller's session view is on screen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsObserverVisibilityParams {
    pub visible: bool,
}

/// `sessions.observer.visibility` result (OpenClaw's schema: `{ok: true}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OkTrue {
    pub ok: bool,
}

/// `sessions.catalog.list` params (OpenClaw's `SessionsCatalogListParamsSchema`; nothing is
/// used: this gateway has no external session catalogs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionsCatalogListParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_id: Option<NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_only: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursors: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_id: Option<NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_partial_results: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_per_host: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_ids: Option<Vec<NonEmpty>>,
}

/// `sessions.catalog.list` result: no catalogs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsCatalogListResult {
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
    pub groups: Vec<Value>,
    pub section_order: Vec<String>,
}

/// `sessions.groups.defaults {}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsGroupsDefaultsParams {}

/// `sessions.groups.defaults` result: none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsGroupsDefaultsResult {
    pub defaults: Vec<Value>,
}

/// `sessions.branches.list {sessionKey, agentId?}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionsBranchesListParams {
    pub session_key: NonEmpty,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
}

/// `sessions.branches.list` result: transcripts here are linear, so no branches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsBranchesListResult {
    pub branches: Vec<Value>,
}

/// `sessions.companion.state {sessionKey, agentId?}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionsCompanionStateParams {
    pub session_key: NonEmpty,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
}

/// `sessions.companion.state` result: no companion, no exchanges.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsCompanionStateResult {
    pub exchanges: Vec<Value>,
}

/// `sessions.reset {key, agentId?, reason?, expectedSessionId?}` (OpenClaw's
/// `SessionsResetParamsSchema`). Refused here: see `docs/sessions.md`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionsResetParams {
    pub key: NonEmpty,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
    /// `new` or `reset`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_session_id: Option<NonEmpty>,
}

/// `sessions.delete {key, …}` (OpenClaw's `SessionsDeleteParamsSchema`). Refused here: see
/// `docs/sessions.md`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionsDeleteParams {
    pub key: NonEmpty,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_transcript: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_session_id: Option<NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_lifecycle_revision: Option<NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_session_updated_at: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emit_lifecycle_hooks: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_only: Option<bool>,
}

/// `sessions.reset` / `sessions.delete` result (OpenClaw's `SessionsDeleteResultSchema`
/// shape). Never produced yet: both are refused with `UNAVAILABLE`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRemoval {
    pub ok: bool,
    pub key: String,
    pub deleted: bool,
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
