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
    /// Every configured agent.
    pub agents: Vec<AgentSummary>,
}

/// One agent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AgentSummary {
    /// The agent id, the second part of its session keys (`agent:<id>:…`).
    pub id: String,
    /// Where its runs work (`agents.entries.<id>.workspace`, else the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// Its model, when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<AgentModel>,
    /// The runtime its runs go to.
    pub agent_runtime: AgentRuntime,
}

/// `agents.list[].model`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AgentModel {
    /// The model id its runs use.
    pub primary: String,
}

/// `agent.identity.get {agentId?, sessionKey?}` (OpenClaw's `AgentIdentityParamsSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentIdentityParams {
    /// Which agent to describe; `main` when neither this nor `sessionKey` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
    /// A session key whose agent to describe; wins over `agentId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
}

/// `agent.identity.get` result (OpenClaw's `AgentIdentityResultSchema`). This gateway has no
/// agent identity config, so the name is OpenClaw's default (`nameSource: "default"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AgentIdentityResult {
    /// The agent described.
    pub agent_id: String,
    /// Its display name.
    pub name: String,
    /// Where the name comes from; always `default` here.
    pub name_source: String,
    /// Avatar URL or emoji; this gateway sends none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
}

request! {
    AgentsListParams => AgentsListResult, "agents.list";
    AgentIdentityParams => AgentIdentityResult, "agent.identity.get";
}
