//! Agents: `agents.list` and `agent.identity.get`, from the config's `agents.*`.
//!
//! Shapes follow OpenClaw's `AgentsListResultSchema` and `AgentIdentityResultSchema`.

use super::request;
use super::sessions::AgentRuntime;
use super::NonEmpty;
use serde::{Deserialize, Serialize};

/// `agents.list {}` (OpenClaw's `AgentsListParamsSchema`: no fields).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentsListParams {}

/// `agents.list` result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AgentsListResult {
    /// `main`.
    pub default_id: String,
    /// `main`: the rest of an agent's main session key.
    pub main_key: String,
    /// `per-sender`.
    pub scope: String,
    pub agents: Vec<AgentSummary>,
}

/// One agent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AgentSummary {
    pub id: String,
    /// Where its runs work (`agents.entries.<id>.workspace`, else the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// Its model, when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<AgentModel>,
    pub agent_runtime: AgentRuntime,
}

/// `agents.list[].model`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AgentModel {
    pub primary: String,
}

/// `agent.identity.get {agentId?, sessionKey?}` (OpenClaw's `AgentIdentityParamsSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentIdentityParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
}

/// `agent.identity.get` result (OpenClaw's `AgentIdentityResultSchema`). This gateway has no
/// agent identity config, so the name is OpenClaw's default (`nameSource: "default"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AgentIdentityResult {
    pub agent_id: String,
    pub name: String,
    pub name_source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
}

request! {
    AgentsListParams => AgentsListResult, "agents.list";
    AgentIdentityParams => AgentIdentityResult, "agent.identity.get";
}
