//! Chat: `chat.send`, `chat.abort`, `chat.history`, the chat view's reads (`chat.startup`, `chat.metadata`, `commands.list`, `progressCard.get`)
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

use crate::fanout::deliver_chat;
use crate::methods::agents::{agent_model, agent_runtime};
use crate::rpc::{CallCtx, MethodSpec};
use crate::state::GatewayState;
use crate::wire;
use openclaw_rs_protocol::methods::chat::{
    AccountSelection, ChatMetadataParams, ChatMetadataResult, ChatStartupResult, CommandArg,
    CommandEntry, CommandScope, CommandsListParams, CommandsListResult, ProgressCardGetParams,
    ProgressCardGetResult, StartupParams,
};
use openclaw_rs_protocol::methods::sessions::{
    ChatAbortParams, ChatAbortResult, ChatHistoryParams, ChatHistoryResult,
};
use openclaw_rs_protocol::methods::sessions::{
    ChatBody, ChatEvent, ChatMessage, ChatSendParams, ChatSendResult, TextContent,
};
use openclaw_rs_protocol::ErrorShape;
use openclaw_rs_sessions::{SendRequest, SessionError};
use std::sync::Arc;
use std::time::Duration;

pub(crate) fn specs() -> Vec<MethodSpec> {
    vec![
        MethodSpec::typed(chat_startup),
        MethodSpec::typed(chat_metadata),
        MethodSpec::typed(commands_list),
        MethodSpec::typed(progress_card_get),
        MethodSpec::typed(chat_send),
        MethodSpec::typed(chat_abort),
        MethodSpec::typed(chat_history),
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
        models: crate::methods::agents::model_choices(state, agent, false).await,
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
        .map(|k| wire::canonical_key(k, p.agent_id.as_deref()))
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
    let key = wire::canonical_key(&p.session_key, p.agent_id.as_deref())?;
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
    wire::canonical_key(&p.session_key, p.agent_id.as_deref())?;
    state.session_manager()?;
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
    let mgr = state.session_manager()?;
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
            Err(e) => return Err(wire::error_shape(e)),
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
    let cfg = state.config().load();
    let agent = openclaw_rs_sessions::parse_key(key)
        .map(|k| k.agent_id)
        .unwrap_or_else(|_| "main".into());
    let (runtime, _) = agent_runtime(&cfg, &agent);
    let model = agent_model(&cfg, &agent, &runtime).unwrap_or_else(|| "(runtime default)".into());
    let mut t = format!(
        "🦞 OpenClaw-rs {} (Rust gateway)\n⏱️ Uptime: gateway {}\n\n🧠 Model: {model}\n🤖 Runtime: {runtime}\n\n",
        crate::base::VERSION,
        duration(state.uptime_ms() / 1000),
    );
    let info = state.sessions().and_then(|s| s.manager().get(key));
    match info {
        Some(i) => {
            let ago = crate::base::now_ms().saturating_sub(i.updated_at) / 1000;
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

/// The most transcript entries a history read scans (to count them and page from the end).
const HISTORY_SCAN: usize = 100_000;

async fn chat_send(
    state: Arc<GatewayState>,
    ctx: CallCtx,
    p: ChatSendParams,
) -> Result<ChatSendResult, ErrorShape> {
    let key = wire::canonical_key(&p.session_key, p.agent_id.as_deref())?;
    if let Some(reply) = try_command(&state, &ctx, &key, &p).await {
        return reply;
    }
    // The run's events reach this connection after it has read this answer.
    ctx.connection().hold_events_until_read(ctx.request_id());
    let req = SendRequest {
        session_key: key,
        message: p.message,
        idempotency_key: Some(p.idempotency_key.into()),
        model: p.model,
        runtime: p.runtime,
        timeout: p.timeout_ms.filter(|m| *m > 0).map(Duration::from_millis),
        origin: Some(Arc::from(ctx.conn_id())),
    };
    let acc = state
        .session_manager()?
        .send(req)
        .await
        .map_err(wire::error_shape)?;
    Ok(ChatSendResult {
        run_id: acc.run_id,
        status: "started".into(),
        duplicate: acc.duplicate,
        run_status: acc.duplicate.then(|| acc.state.as_str().to_owned()),
    })
}

async fn chat_abort(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: ChatAbortParams,
) -> Result<ChatAbortResult, ErrorShape> {
    let key = wire::canonical_key(&p.session_key, p.agent_id.as_deref())?;
    let run_ids = state
        .session_manager()?
        .abort(&key, p.run_id.as_deref())
        .await
        .map_err(wire::error_shape)?;
    Ok(ChatAbortResult {
        ok: true,
        aborted: !run_ids.is_empty(),
        run_ids,
    })
}

async fn chat_history(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: ChatHistoryParams,
) -> Result<ChatHistoryResult, ErrorShape> {
    let limit = p.limit.unwrap_or(200).clamp(1, 10_000) as usize;
    let key = wire::canonical_key(&p.session_key, p.agent_id.as_deref())?;
    history_result(&state, &key, limit).await
}

/// The last `limit` messages of a session with its row and the defaults (`chat.history`,
/// `chat.startup`). An agent's main session that has no message yet has an empty history.
pub(crate) async fn history_result(
    state: &GatewayState,
    key: &str,
    limit: usize,
) -> Result<ChatHistoryResult, ErrorShape> {
    let parsed = openclaw_rs_sessions::parse_key(key).map_err(wire::error_shape)?;
    let mgr = state.session_manager()?;
    let entries = match mgr.history(key, HISTORY_SCAN).await {
        Ok(e) => e,
        Err(SessionError::NotFound(_))
            if parsed.kind != openclaw_rs_sessions::KeyKind::Subagent =>
        {
            Vec::new()
        }
        Err(e) => return Err(wire::error_shape(e)),
    };
    // Entries carry their position in the whole transcript: the last one's is the count.
    let total = entries.last().map_or(0, |e| e.seq as usize);
    let skip = entries.len().saturating_sub(limit);
    let mut info = [mgr
        .get(key)
        .as_ref()
        .map(wire::session_row)
        .unwrap_or_else(|| wire::unstarted_row(key, &parsed))];
    crate::methods::agents::fill_models(&state.config().load(), &mut info);
    let [info] = info;
    Ok(ChatHistoryResult {
        session_key: key.to_owned(),
        messages: entries[skip..].iter().map(wire::history_message).collect(),
        pending_inputs: Default::default(),
        has_more: entries.get(skip).is_some_and(|e| e.seq > 1),
        total_messages: total,
        defaults: crate::methods::agents::session_defaults(state),
        session_info: Some(info),
    })
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
