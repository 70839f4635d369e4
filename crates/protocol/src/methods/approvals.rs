//! Nodes and approvals: `node.list`, `node.pair.list`, `exec.approvals.get`,
//! `exec.approval.list`, `exec.approval.grants.list`, `approval.history`, `question.list`,
//! `plugin.approval.list`, `openclaw.approval.list`.
//!
//! This gateway has no node role peers and raises no approvals or questions: its runtimes run
//! commands without asking. The lists are empty in OpenClaw's shapes, and `exec.approvals.get`
//! reports that policy (`security: full`, `ask: off`).

use super::request;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `node.list {}` (OpenClaw's closed `NodeListParamsSchema`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeListParams {}

/// `node.list` result (the Node gateway's shape): connected nodes; none here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeListResult {
    /// When the list was taken, in Unix milliseconds.
    pub ts: u64,
    /// Connected node clients; always empty here.
    pub nodes: Vec<Value>,
}

/// `node.pair.list {}` (OpenClaw's closed `NodePairListParamsSchema`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodePairListParams {}

/// `node.pair.list` result (the Node gateway's shape): no node pairings here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodePairListResult {
    /// Node pairing requests waiting for approval; always empty here.
    pub pending: Vec<Value>,
    /// Paired nodes; always empty here.
    pub paired: Vec<Value>,
}

/// `exec.approvals.get {}` (OpenClaw's closed `ExecApprovalsGetParamsSchema`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecApprovalsGetParams {}

/// `exec.approvals.get` result (the Node gateway's shape): the exec-approval policy file and
/// the defaults in force.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecApprovalsGetResult {
    /// Where a policy file would be.
    pub path: String,
    /// Whether it exists (never here: this gateway keeps none).
    pub exists: bool,
    /// The policy document in force (OpenClaw's empty default here).
    pub file: ExecApprovalsFile,
    /// SHA-256 (hex) of the policy document reported in `file`.
    pub hash: String,
    /// The effective exec policy after defaults are applied.
    pub resolved_defaults: ExecApprovalDefaults,
}

/// The exec-approvals policy file (OpenClaw's `ExecApprovalsFile`): version and overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecApprovalsFile {
    /// Format version of the policy file (OpenClaw's current one).
    pub version: u32,
    /// Policy fields that apply to every agent; empty here.
    pub defaults: serde_json::Map<String, Value>,
    /// Per-agent policy overrides, keyed by agent id; empty here.
    pub agents: serde_json::Map<String, Value>,
}

/// The exec policy in force.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecApprovalDefaults {
    /// `full`: commands run unrestricted by an allowlist.
    pub security: String,
    /// `off`: nobody is asked.
    pub ask: String,
    /// What happens when asking is impossible.
    pub ask_fallback: String,
    /// Whether skills' own commands are allowed without asking.
    pub auto_allow_skills: bool,
}

/// `exec.approval.list {}` (no OpenClaw params schema).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecApprovalListParams {}

/// `exec.approval.grants.list {limit?}` (OpenClaw's closed validator).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecApprovalGrantsListParams {
    /// Largest number of grants to return; accepted, the list is empty here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// `exec.approval.grants.list` result: standing grants; none here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExecApprovalGrantsListResult {
    /// Standing exec grants; always empty here.
    pub grants: Vec<Value>,
}

/// `approval.history {cursor?, limit?, kind?}` (OpenClaw's closed `ApprovalHistoryParamsSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalHistoryParams {
    /// Opaque cursor from a previous page's `nextCursor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Largest number of items to return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// `exec`, `plugin` or `system-agent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ApprovalKind>,
}

/// An approval's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalKind {
    /// Shell command approvals.
    Exec,
    /// Approvals raised by plugins.
    Plugin,
    /// Approvals raised by OpenClaw's system agent.
    SystemAgent,
}

/// `approval.history` result (OpenClaw's `ApprovalHistoryResultSchema`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalHistoryResult {
    /// Resolved approvals, newest first; always empty here.
    pub items: Vec<Value>,
    /// Cursor for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `question.list {}` (OpenClaw's closed `QuestionListParamsSchema`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionListParams {}

/// `question.list` result (OpenClaw's `QuestionListResultSchema`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QuestionListResult {
    /// Questions waiting for an operator's answer; always empty here.
    pub questions: Vec<Value>,
}

/// `plugin.approval.list {}` (no OpenClaw params schema).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginApprovalListParams {}

/// `openclaw.approval.list {}` (no OpenClaw params schema).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenclawApprovalListParams {}

request! {
    NodeListParams => NodeListResult, "node.list";
    NodePairListParams => NodePairListResult, "node.pair.list";
    ExecApprovalsGetParams => ExecApprovalsGetResult, "exec.approvals.get";
    ExecApprovalListParams => Vec<Value>, "exec.approval.list";
    ExecApprovalGrantsListParams => ExecApprovalGrantsListResult, "exec.approval.grants.list";
    ApprovalHistoryParams => ApprovalHistoryResult, "approval.history";
    QuestionListParams => QuestionListResult, "question.list";
    PluginApprovalListParams => Vec<Value>, "plugin.approval.list";
    OpenclawApprovalListParams => Vec<Value>, "openclaw.approval.list";
}
