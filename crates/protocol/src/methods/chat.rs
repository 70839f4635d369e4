//! The chat view's reads: `commands.list`, `chat.metadata`, `chat.startup` and
//! `progressCard.get`.
//!
//! `chat.startup` is `chat.history` plus `chat.metadata` in one answer (what the Control UI's chat
//! view loads first); `chat.metadata` is what its composer needs (the model choices and the slash
//! commands). Shapes follow OpenClaw's schemas (`CommandsListResultSchema`,
//! `ProgressCardGetResultSchema`) and, where it has none, the Node gateway's answers
//! (openclaw@2026.9.6).

use super::sessions::ChatHistoryResult;
use super::{request, NonEmpty};
use crate::methods::models::ModelChoice;
use serde::{Deserialize, Serialize};

/// `commands.list` params (OpenClaw's `CommandsListParamsSchema`). `scope` filters by where a
/// command may be typed (`text`, `native`, `both`); `includeArgs: false` drops argument specs.
/// `sessionKey`, `agentId` and `provider` are accepted: every agent here has the same commands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommandsListParams {
    /// Accepted; every session here has the same commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<NonEmpty>,
    /// Accepted; every agent here has the same commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
    /// Accepted; the commands do not depend on a channel provider here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<NonEmpty>,
    /// Only commands that may be typed this way; all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<CommandScope>,
    /// `false` drops each command's `args`; default `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_args: Option<bool>,
}

/// Where a command may be typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommandScope {
    /// As chat text (`/status`).
    Text,
    /// As a channel's native command.
    Native,
    /// Both.
    Both,
}

/// `commands.list` result (OpenClaw's `CommandsListResultSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandsListResult {
    /// The slash commands this gateway handles.
    pub commands: Vec<CommandEntry>,
}

/// One slash command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandEntry {
    /// Command name without the slash (`status`).
    pub name: String,
    /// Name of the command as a channel's native command, when it differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native_name: Option<String>,
    /// The text forms that invoke it, with the slash (`/status`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub text_aliases: Vec<String>,
    /// One-line description shown in the command picker.
    pub description: String,
    /// `session`, `options`, `status`, `management`, `media` or `tools`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// `native` for the gateway's own commands.
    pub source: String,
    /// Where it may be typed.
    pub scope: CommandScope,
    /// Whether the command takes arguments after its name.
    pub accepts_args: bool,
    /// Argument specs; absent when `includeArgs` was `false` or the command has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<CommandArg>>,
}

/// One argument of a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandArg {
    /// Argument name.
    pub name: String,
    /// What the argument is for.
    pub description: String,
    /// `string`, `number` or `boolean`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether it must be given; absent means optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
}

/// `chat.metadata` params (OpenClaw's `ChatMetadataParamsSchema`). `authProfileId` is accepted:
/// this gateway has no per-user model accounts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChatMetadataParams {
    /// The agent whose choices to list; from `sessionKey` when that is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
    /// Accepted; this gateway has no per-user model accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_profile_id: Option<NonEmpty>,
    /// The session whose agent to use; wins over `agentId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<NonEmpty>,
}

/// `chat.metadata` result (the Node gateway's shape; OpenClaw has no result schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ChatMetadataResult {
    /// The models a chat can pick (what `models.list` lists).
    pub models: Vec<ModelChoice>,
    /// The slash commands (what `commands.list` lists).
    pub commands: Vec<CommandEntry>,
    /// Whether multi-agent swarms can be started: never here.
    pub swarm_enabled: bool,
    /// How the model account is chosen.
    pub account_selection: AccountSelection,
    /// Whether the session's runtime is fixed (on `chat.startup` only): runs keep the runtime
    /// their session was configured with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_selection_locked: Option<bool>,
}

/// How the model account is chosen: `automatic` (this gateway has no per-user accounts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccountSelection {
    /// `automatic`.
    pub kind: String,
    /// Display text for the account choice.
    pub label: String,
}

/// `chat.startup` params: `chat.history`'s (OpenClaw's `ChatStartupParamsSchema` is
/// `ChatHistoryParamsSchema`'s session form).
pub type ChatStartupParams = StartupParams;

/// `chat.startup {sessionKey, …}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StartupParams(pub super::sessions::ChatHistoryParams);

/// `chat.startup` result: the history and the metadata of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatStartupResult {
    /// The session's transcript page, as `chat.history` answers it (flattened into this object).
    #[serde(flatten)]
    pub history: ChatHistoryResult,
    /// The model choices and commands, as `chat.metadata` answers them.
    pub metadata: ChatMetadataResult,
}

/// `progressCard.get {sessionKey, agentId?}` (OpenClaw's `ProgressCardGetParamsSchema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProgressCardGetParams {
    /// The session whose card to get.
    pub session_key: NonEmpty,
    /// Accepted; the agent comes from the session key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<NonEmpty>,
}

/// `progressCard.get` result: `card` is always `null` here (runs publish no progress cards).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressCardGetResult {
    /// The session's card; always `null` here.
    pub card: Option<ProgressCard>,
}

/// A progress card (OpenClaw's shape; never produced by this gateway).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressCard {
    /// The session the card belongs to.
    pub session_key: String,
    /// Bumped on each update of the card.
    pub revision: u64,
    /// Last update, in Unix milliseconds.
    pub updated_at: u64,
    /// The card's content as Markdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
}

request! {
    CommandsListParams => CommandsListResult, "commands.list";
    ChatMetadataParams => ChatMetadataResult, "chat.metadata";
    StartupParams => ChatStartupResult, "chat.startup";
    ProgressCardGetParams => ProgressCardGetResult, "progressCard.get";
}
