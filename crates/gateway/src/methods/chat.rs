//! The chat view's reads (`chat.startup`, `chat.metadata`, `commands.list`, `progressCard.get`)
//! and the slash commands this gateway handles itself when they arrive as chat text.
//!
//! # Slash commands
//! OpenClaw's clients send some commands as chat messages (`chat.send {message:"/status"}`) and
//! let the gateway interpret them; `commands.list` tells them which. This gateway handles
//! `/status`, `/help`, `/commands` and `/stop`: the reply goes out as a final `chat` event of the
//! message's run id whose message is marked `command: true` (the TUI shows it as a system line,
//! the Control UI as the reply), to the sender and to the session's subscribers. Command
//! exchanges are not written to the transcript (they are not part of the conversation; OpenClaw
//! also keeps them out of the model's context). Every other message, including unknown `/x`,
//! is chat text for the runtime. `suppressCommandInterpretation: true` sends a command as text.

use super::agents::{agent_model, agent_runtime};
use super::sessions::{deliver_chat, history_result, manager};
use super::{CallCtx, MethodSpec};
use crate::state::GatewayState;
use openclaw_rs_protocol::methods::chat::{
    AccountSelection, ChatMetadataParams, ChatMetadataResult, ChatStartupResult, CommandArg,
    CommandEntry, CommandScope, CommandsListParams, CommandsListResult, ProgressCardGetParams,
    ProgressCardGetResult, StartupParams,
};
use openclaw_rs_protocol::methods::sessions::{
    ChatBody, ChatEvent, ChatMessage, ChatSendParams, ChatSendResult, TextContent,
};
use openclaw_rs_protocol::ErrorShape;
use std::sync::Arc;

pub(crate) fn specs() -> Vec<MethodSpec> {
    vec![
        MethodSpec::typed(chat_startup),
        MethodSpec::typed(chat_metadata),
        MethodSpec::typed(commands_list),
        MethodSpec::typed(progress_card_get),
    ]
}

/// The slash commands this gateway handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Help,
    Commands,
    Status,
    Stop,
}

impl Command {
    const ALL: [Command; 4] = [
        Command::Help,
        Command::Commands,
        Command::Status,
        Command::Stop,
    ];

    fn name(self) -> &'static str {
        match self {
            Command::Help => "help",
            Command::Commands => "commands",
            Command::Status => "status",
            Command::Stop => "stop",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Command::Help => "Show available commands.",
            Command::Commands => "List all slash commands.",
            Command::Status => "Show current status.",
            Command::Stop => "Stop the current run.",
        }
    }

    fn category(self) -> &'static str {
        match self {
            Command::Help | Command::Commands | Command::Status => "status",
            Command::Stop => "session",
        }
    }

    /// `/name` or `/name args` (case-insensitive name), else `None`.
    fn parse(message: &str) -> Option<Command> {
        let rest = message.trim().strip_prefix('/')?;
        let name = rest.split_whitespace().next()?.to_ascii_lowercase();
        Command::ALL.into_iter().find(|c| c.name() == name)
    }

    fn entry(self, include_args: bool) -> CommandEntry {
        // `/status` takes an optional section name in OpenClaw; ours ignores arguments.
        let args = (include_args && self == Command::Status).then(|| {
            vec![CommandArg {
                name: "section".into(),
                description: "Ignored: the whole status is shown".into(),
                kind: "string".into(),
                required: None,
            }]
        });
        CommandEntry {
            name: self.name().into(),
            native_name: Some(self.name().into()),
            text_aliases: vec![format!("/{}", self.name())],
            description: self.description().into(),
            category: Some(self.category().into()),
            source: "native".into(),
            scope: CommandScope::Both,
            accepts_args: self == Command::Status,
            args,
        }
    }
}

/// The command list (`commands.list`, `chat.metadata.commands`).
fn command_entries(scope: Option<CommandScope>, include_args: bool) -> Vec<CommandEntry> {
    Command::ALL
        .into_iter()
        .map(|c| c.entry(include_args))
        .filter(|e| match scope {
            None | Some(CommandScope::Both) => true,
            Some(s) => e.scope == s || e.scope == CommandScope::Both,
        })
        .collect()
}

async fn commands_list(
    _state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: CommandsListParams,
) -> Result<CommandsListResult, ErrorShape> {
    Ok(CommandsListResult {
        commands: command_entries(p.scope, p.include_args.unwrap_or(true)),
    })
}

async fn metadata(state: &Arc<GatewayState>, agent: Option<&str>) -> ChatMetadataResult {
    ChatMetadataResult {
        models: super::agents::model_choices(state, agent, false).await,
        commands: command_entries(None, true),
        swarm_enabled: false,
        account_selection: AccountSelection {
            kind: "automatic".into(),
            label: "Automatic account selection".into(),
        },
        runtime_selection_locked: None,
    }
}

async fn chat_metadata(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: ChatMetadataParams,
) -> Result<ChatMetadataResult, ErrorShape> {
    let key = p
        .session_key
        .as_deref()
        .map(|k| super::sessions::canonical_key(k, p.agent_id.as_deref()))
        .transpose()?;
    let agent = match &key {
        Some(k) => openclaw_rs_sessions::parse_key(k).ok().map(|k| k.agent_id),
        None => p.agent_id.map(String::from),
    };
    Ok(metadata(&state, agent.as_deref()).await)
}

async fn chat_startup(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    StartupParams(p): StartupParams,
) -> Result<ChatStartupResult, ErrorShape> {
    let key = super::sessions::canonical_key(&p.session_key, p.agent_id.as_deref())?;
    let limit = p.limit.unwrap_or(200).clamp(1, 10_000) as usize;
    let history = history_result(&state, &key, limit).await?;
    let agent = openclaw_rs_sessions::parse_key(&key)
        .map(|k| k.agent_id)
        .unwrap_or_else(|_| "main".into());
    let mut metadata = metadata(&state, Some(&agent)).await;
    // A run may pick another runtime (`chat.send {runtime}`): the selection is not locked.
    metadata.runtime_selection_locked = Some(false);
    Ok(ChatStartupResult { history, metadata })
}

async fn progress_card_get(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: ProgressCardGetParams,
) -> Result<ProgressCardGetResult, ErrorShape> {
    super::sessions::canonical_key(&p.session_key, p.agent_id.as_deref())?;
    manager(&state)?;
    Ok(ProgressCardGetResult { card: None })
}

/// Handle `p.message` as a slash command if it is one this gateway handles; `None` when it is
/// chat text. `key` is the canonical session key.
pub(crate) async fn try_command(
    state: &Arc<GatewayState>,
    ctx: &CallCtx,
    key: &str,
    p: &ChatSendParams,
) -> Option<Result<ChatSendResult, ErrorShape>> {
    if p.suppress_command_interpretation == Some(true) {
        return None;
    }
    let command = Command::parse(&p.message)?;
    Some(run_command(state, ctx, key, p, command).await)
}

async fn run_command(
    state: &Arc<GatewayState>,
    ctx: &CallCtx,
    key: &str,
    p: &ChatSendParams,
    command: Command,
) -> Result<ChatSendResult, ErrorShape> {
    let mgr = manager(state)?;
    let text = match command {
        Command::Status => status_text(state, key),
        Command::Help | Command::Commands => {
            let mut t = String::from("Commands handled by this gateway:\n");
            for c in Command::ALL {
                t.push_str(&format!("/{} — {}\n", c.name(), c.description()));
            }
            t.push_str("Any other message goes to the agent.");
            t
        }
        Command::Stop => match mgr.abort(key, None).await {
            Ok(ids) if ids.is_empty() => "No active run to stop.".to_owned(),
            Ok(ids) => format!("Stopped {} run(s): {}", ids.len(), ids.join(", ")),
            Err(openclaw_rs_sessions::SessionError::NotFound(_)) => {
                "No active run to stop.".to_owned()
            }
            Err(e) => return Err(super::sessions::error_shape(e)),
        },
    };
    let run_id = p.idempotency_key.to_string();
    let agent = openclaw_rs_sessions::parse_key(key)
        .map(|k| k.agent_id)
        .unwrap_or_else(|_| "main".into());
    let event = ChatEvent {
        run_id: run_id.clone(),
        session_key: key.to_owned(),
        agent_id: agent,
        spawned_by: None,
        seq: 0,
        body: ChatBody::Final {
            message: ChatMessage {
                role: "assistant".into(),
                content: vec![TextContent::new(text)],
                command: true,
                idempotency_key: None,
            },
            stop_reason: Some("stop".into()),
        },
    };
    deliver_chat(state, ctx.conn_id(), &event);
    Ok(ChatSendResult {
        run_id,
        status: "started".into(),
        duplicate: false,
        run_status: None,
    })
}

/// The `/status` card: this gateway, the session, its runtime and model, its queue.
fn status_text(state: &Arc<GatewayState>, key: &str) -> String {
    let cfg = state.config.load();
    let agent = openclaw_rs_sessions::parse_key(key)
        .map(|k| k.agent_id)
        .unwrap_or_else(|_| "main".into());
    let (runtime, _) = agent_runtime(&cfg, &agent);
    let model = agent_model(&cfg, &agent, &runtime).unwrap_or_else(|| "(runtime default)".into());
    let mut t = format!(
        "🦞 OpenClaw-rs {} (Rust gateway)\n⏱️ Uptime: gateway {}\n\n🧠 Model: {model}\n🤖 Runtime: {runtime}\n\n",
        crate::VERSION,
        duration(state.uptime_ms() / 1000),
    );
    let info = state.sessions.get().and_then(|s| s.manager.get(key));
    match info {
        Some(i) => {
            let ago = crate::state::now_ms().saturating_sub(i.updated_at) / 1000;
            t.push_str(&format!(
                "🧵 Session: {key} • {} • updated {} ago\n",
                i.status(),
                duration(ago)
            ));
            let running = i
                .running_run_id
                .map(|r| format!("running {r}"))
                .unwrap_or_else(|| "nothing running".into());
            t.push_str(&format!("🪢 Queue: {} queued • {running}", i.queued));
            if i.children > 0 {
                t.push_str(&format!("\n👥 Subagents: {}", i.children));
            }
        }
        None => t.push_str(&format!("🧵 Session: {key} • no messages yet")),
    }
    t
}

/// `2h 3m`, `4m 5s`, `6s`.
fn duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m {s}s"),
        _ => format!("{h}h {m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_by_name_only() {
        assert_eq!(Command::parse("/status"), Some(Command::Status));
        assert_eq!(Command::parse("  /STATUS full "), Some(Command::Status));
        assert_eq!(Command::parse("/stop"), Some(Command::Stop));
        assert_eq!(Command::parse("/statusx"), None);
        assert_eq!(Command::parse("status"), None);
        assert_eq!(Command::parse("/"), None);
        assert_eq!(Command::parse("echo /status"), None);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(6), "6s");
        assert_eq!(duration(245), "4m 5s");
        assert_eq!(duration(7380), "2h 3m");
    }

    #[test]
    fn text_scope_lists_every_command() {
        let text = command_entries(Some(CommandScope::Text), false);
        assert_eq!(text.len(), Command::ALL.len());
        assert!(text.iter().all(|e| e.args.is_none()));
        let status = command_entries(None, true)
            .into_iter()
            .find(|e| e.name == "status");
        assert!(status.is_some_and(|s| s.args.is_some()));
    }
}
