//! `openclaw sessions-spawn`, `openclaw sessions [list]` and `openclaw sessions tail KEY`.
//!
//! `sessions-spawn` spawns a subagent through the gateway (`sessions.spawn`), streams the run's
//! output as it arrives (deltas on stdout; a progress line on stderr when stderr is a terminal)
//! and exits with a code that names the error class.

use crate::base::{CliError, EXIT_USAGE};
use crate::client::{connect, explain, print_json, ClientArgs, ConnArgs, Target};
use clap::{Args, Subcommand};
use openclaw_rs_client::{decode_event, Client, ClientError, Subscription};
use openclaw_rs_protocol::methods::sessions::{
    AgentEvent, AgentWaitParams, AnnounceData, ChatBody, ChatEvent, ChatHistoryParams,
    HistoryMessage, RunResult, SessionsListParams, SessionsSpawnParams, SessionsSubscribeParams,
};
use openclaw_rs_protocol::{scopes, ErrorCode, FailureClass, NonEmpty};
use serde::Serialize;
use serde_json::Value;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Exit code: the run failed in its runtime (or for a reason without a more specific code).
pub const EXIT_RUNTIME: u8 = 70;
/// Exit code: a session limit refused the spawn (`session.max*`).
pub const EXIT_LIMIT: u8 = 75;
/// Exit code: authentication failed (gateway credentials, scope, or the model credential).
pub const EXIT_AUTH: u8 = 77;
/// Exit code: the run timed out.
pub const EXIT_TIMEOUT: u8 = 124;
/// Exit code: the run was aborted or interrupted.
pub const EXIT_ABORTED: u8 = 130;

const SPAWN_EXIT_HELP: &str = "\
Exit codes:
  0    the run completed
  1    other failure (connection lost, unexpected reply)
  3    no gateway is running at the target URL
  64   bad usage or parameters (unknown runtime, malformed key, bad config)
  70   the run failed in its runtime (errorClass runtime/upstream/rate_limit/quota/config)
  75   refused for now: a session limit (session.maxSpawnDepth, or maxChildrenPerSession
       for a spawn with --parent), or the gateway is unavailable (storage, backlog full);
       runs beyond maxConcurrentSubagentRuns are queued, not refused
  77   authentication failed (gateway token/scope, or the model's credential: errorClass auth)
  124  the run timed out (--timeout or the runtime's deadline)
  130  the run was aborted or interrupted";

/// `openclaw sessions-spawn`.
#[derive(Debug, Args)]
#[command(after_help = SPAWN_EXIT_HELP)]
pub struct SpawnArgs {
    /// The task for the subagent (with the embedded runtime: a shell command).
    #[arg(long, allow_hyphen_values = true)]
    pub task: String,
    /// Model for the run (default: the runtime's default; `exec` for the embedded runtime).
    #[arg(long)]
    pub model: Option<String>,
    /// Agent id of the child (default: the parent's agent, `main`).
    #[arg(long = "agent")]
    pub agent: Option<String>,
    /// Runtime name (`embedded` or an entry of `runtimes` in openclaw.json).
    #[arg(long)]
    pub runtime: Option<String>,
    /// A label shown in `openclaw sessions`.
    #[arg(long)]
    pub label: Option<String>,
    /// Parent session key (default `agent:<agent>:main`).
    #[arg(long = "parent")]
    pub parent: Option<String>,
    /// Run timeout in seconds (default: the gateway's, 600).
    #[arg(long = "timeout", value_name = "S")]
    pub run_timeout: Option<u64>,
    /// Return as soon as the spawn is accepted (print runId and childSessionKey).
    #[arg(long)]
    pub no_wait: bool,
    /// Print the result as JSON instead of streaming the output.
    #[arg(long)]
    pub json: bool,
    /// Where the gateway is and how to authenticate.
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Timeout of each gateway request in milliseconds (not the run's).
    #[arg(long, default_value_t = 10_000)]
    pub request_timeout: u64,
}

impl SpawnArgs {
    fn client_args(&self) -> ClientArgs {
        ClientArgs {
            conn: self.conn.clone(),
            timeout: self.request_timeout,
            json: self.json,
        }
    }
}

/// `openclaw sessions`.
#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// `list` (the default) or `tail`.
    #[command(subcommand)]
    pub command: Option<SessionsCommand>,
    /// Connection flags for the default `list`.
    #[command(flatten)]
    pub client: ClientArgs,
}

/// `openclaw sessions <list|tail>`.
#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// List sessions (the default).
    List(ClientArgs),
    /// Print a session's recent transcript, then follow its runs live.
    Tail(TailArgs),
}

/// `openclaw sessions tail KEY`.
#[derive(Debug, Args)]
pub struct TailArgs {
    /// Session key, e.g. agent:main:main.
    pub key: String,
    /// Transcript entries to print first.
    #[arg(long, default_value_t = 20)]
    pub lines: u64,
    /// Print the transcript and exit instead of following.
    #[arg(long)]
    pub no_follow: bool,
    /// Connection flags.
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Dispatch `openclaw sessions …`.
pub async fn sessions(args: SessionsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        None => list(args.client).await,
        Some(SessionsCommand::List(c)) => list(c).await,
        Some(SessionsCommand::Tail(t)) => tail(t).await,
    }
}

/// Map a request failure to an exit code and message.
fn request_error(e: &ClientError, target: &Target) -> CliError {
    if let Some(shape) = e.error_shape() {
        let detail = shape.detail_code().unwrap_or("");
        let exit = match (shape.code, detail) {
            (ErrorCode::Forbidden, "LIMIT_EXCEEDED") | (ErrorCode::Unavailable, _) => EXIT_LIMIT,
            (ErrorCode::Forbidden, _) => EXIT_AUTH,
            (ErrorCode::InvalidRequest, _) => EXIT_USAGE,
            _ => 1,
        };
        let msg = match exit {
            EXIT_LIMIT => format!("spawn refused: {}", shape.message),
            EXIT_AUTH => format!(
                "{}\nconnect with a token that grants operator.write (see `openclaw gateway status`)",
                shape.message
            ),
            _ => shape.message.clone(),
        };
        return CliError::new(exit, msg);
    }
    explain(e, target)
}

/// The exit code for a run that did not complete: `class` is the wire `errorClass` (the shared
/// `FailureClass`; unknown names decode as `runtime`), `status` the wait status.
fn exit_for_class(class: FailureClass, status: &str) -> u8 {
    match (status, class) {
        ("aborted", _) | ("interrupted", _) => EXIT_ABORTED,
        ("timeout", _) | (_, FailureClass::Timeout) => EXIT_TIMEOUT,
        (_, FailureClass::Auth) => EXIT_AUTH,
        _ => EXIT_RUNTIME,
    }
}

/// The progress line on stderr (only when stderr is a terminal).
struct Progress {
    enabled: bool,
    shown: bool,
    started: Instant,
    label: String,
    phase: String,
}

impl Progress {
    fn new(label: String) -> Progress {
        Progress {
            enabled: std::io::stderr().is_terminal(),
            shown: false,
            started: Instant::now(),
            label,
            phase: "queued".into(),
        }
    }

    fn draw(&mut self) {
        if !self.enabled {
            return;
        }
        let mut err = std::io::stderr();
        let _ = write!(
            err,
            "\r\x1b[2K{} {} {:.1}s",
            self.label,
            self.phase,
            self.started.elapsed().as_secs_f64()
        );
        let _ = err.flush();
        self.shown = true;
    }

    fn clear(&mut self) {
        if self.enabled && self.shown {
            let mut err = std::io::stderr();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.shown = false;
        }
    }
}

/// [`connect`], but a refused handshake (bad token, password, pairing) exits with
/// [`EXIT_AUTH`].
async fn connect_classified(
    args: &ClientArgs,
    scopes: &[&str],
) -> anyhow::Result<(Client, Target)> {
    let target = crate::client::resolve_target(args)?;
    match Client::connect(crate::client::client_options(&target, args, scopes)).await {
        Ok(c) => Ok((c, target)),
        Err(e @ ClientError::Handshake { .. }) => {
            Err(CliError::new(EXIT_AUTH, explain(&e, &target).message).into())
        }
        Err(e) => Err(explain(&e, &target).into()),
    }
}

/// `openclaw sessions-spawn`.
pub async fn spawn(args: SpawnArgs) -> anyhow::Result<ExitCode> {
    let client_args = args.client_args();
    let (client, target) = connect_classified(&client_args, &[scopes::READ, scopes::WRITE]).await?;
    // Subscribe before spawning: the run's events are addressed to this connection.
    let mut events = client.subscribe::<ChatEvent>();
    let params = SessionsSpawnParams {
        task: non_empty("--task", args.task.clone())?,
        model: opt_non_empty("--model", &args.model)?,
        agent_id: opt_non_empty("--agent", &args.agent)?,
        runtime: opt_non_empty("--runtime", &args.runtime)?,
        label: args.label.clone(),
        parent_session_key: opt_non_empty("--parent", &args.parent)?,
        run_timeout_seconds: args.run_timeout,
        ..SessionsSpawnParams::default()
    };
    let accepted = client
        .call(params)
        .await
        .map_err(|e| request_error(&e, &target))?;
    let child = accepted.child_session_key.clone();
    let Some(run_id) = NonEmpty::new(accepted.run_id.clone()) else {
        return Err(
            CliError::new(1, format!("unexpected sessions.spawn reply: {accepted:?}")).into(),
        );
    };
    if args.no_wait {
        if args.json {
            print_json(&accepted);
        } else {
            println!("accepted runId={run_id} childSessionKey={child}");
        }
        client.close().await;
        return Ok(ExitCode::SUCCESS);
    }
    let followed = follow_run(&client, &mut events, &run_id, &child, !args.json).await;
    client.close().await;
    let outcome = match followed {
        // The gateway went away (restart, crash): runs survive that, so wait for the result.
        Err(ClientError::Closed(close)) => {
            eprintln!(
                "gateway connection lost{}; waiting for run {run_id} once the gateway is back",
                close.map(|c| format!(" ({c})")).unwrap_or_default()
            );
            let r = wait_after_reconnect(&client_args, &run_id).await;
            if let (Ok(v), false) = (&r, args.json) {
                if let Some(t) = v.text.as_deref().filter(|t| !t.is_empty()) {
                    eprintln!("--- output of the run's last attempt:");
                    print!("{t}");
                    if !t.ends_with('\n') {
                        println!();
                    }
                }
            }
            r
        }
        other => other,
    };
    let outcome = outcome.map_err(|e| {
        CliError::new(
            1,
            format!("{e}\nthe run may still be in progress: `openclaw sessions tail {child}`"),
        )
    })?;
    // `status` is OpenClaw's wait vocabulary (ok/error/timeout); `runStatus` is the run's state.
    let status = outcome.run_status.as_str();
    if args.json {
        print_json(&SpawnOutput {
            run: &outcome,
            child_session_key: &child,
        });
    }
    if status == "completed" {
        return Ok(ExitCode::SUCCESS);
    }
    let class = outcome.error_class.unwrap_or(FailureClass::Runtime);
    let code = exit_for_class(class, status);
    if !args.json {
        let msg = outcome.error.as_deref().unwrap_or("the run failed");
        eprintln!("error: run {run_id} {status} ({class}): {msg}");
    }
    Ok(ExitCode::from(code))
}

/// `sessions-spawn --json`: the run as `agent.wait` reports it, and the child's key.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpawnOutput<'a> {
    #[serde(flatten)]
    run: &'a RunResult,
    child_session_key: &'a str,
}

/// A flag value that must not be empty (OpenClaw's `NonEmptyString`).
fn non_empty(flag: &str, value: String) -> anyhow::Result<NonEmpty> {
    NonEmpty::new(value).ok_or_else(|| CliError::usage(format!("{flag} must not be empty")).into())
}

fn opt_non_empty(flag: &str, value: &Option<String>) -> anyhow::Result<Option<NonEmpty>> {
    value.clone().map(|v| non_empty(flag, v)).transpose()
}

fn wait_params(run_id: &NonEmpty, timeout_ms: u64) -> AgentWaitParams {
    AgentWaitParams {
        run_id: run_id.clone(),
        timeout_ms: Some(timeout_ms),
    }
}

/// Reconnect (for up to two minutes) and `agent.wait` until the run ends.
async fn wait_after_reconnect(
    args: &ClientArgs,
    run_id: &NonEmpty,
) -> Result<RunResult, ClientError> {
    let give_up = Instant::now() + Duration::from_secs(120);
    let mut last = ClientError::Closed(None);
    while Instant::now() < give_up {
        match connect_classified(args, &[scopes::READ, scopes::WRITE]).await {
            Ok((client, _)) => loop {
                let r = client
                    .call_with_timeout(wait_params(run_id, 30_000), Duration::from_secs(40))
                    .await;
                match r {
                    Ok(v) if v.wait_timed_out => continue,
                    Ok(v) => {
                        client.close().await;
                        return Ok(v);
                    }
                    Err(e @ ClientError::Server(_)) => return Err(e),
                    Err(e) => {
                        last = e;
                        break;
                    }
                }
            },
            Err(e) => {
                if let Some(c) = e.downcast_ref::<CliError>() {
                    if c.exit == EXIT_AUTH {
                        return Err(ClientError::Protocol(c.message.clone()));
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(last)
}

/// Stream a run's output until it ends. Returns the `agent.wait`-shaped result.
async fn follow_run(
    client: &Client,
    events: &mut Subscription<ChatEvent>,
    run_id: &NonEmpty,
    child: &str,
    print: bool,
) -> Result<RunResult, ClientError> {
    let mut progress = Progress::new(short_key(child));
    let mut streamed = false;
    let mut ends_with_newline = true;
    let mut poll = tokio::time::interval(Duration::from_secs(2));
    poll.tick().await;
    let mut redraw = tokio::time::interval(Duration::from_millis(200));
    let mut stdout = std::io::stdout();
    let result = loop {
        tokio::select! {
            ev = events.recv() => {
                let ev = match ev {
                    Ok(ev) => ev,
                    // Lost or unreadable events: the `agent.wait` poll covers them.
                    Err(ClientError::Lagged(_) | ClientError::EventDecode { .. }) => continue,
                    Err(e) => return Err(e),
                };
                if ev.run_id != run_id.as_str() {
                    continue;
                }
                match ev.body {
                    ChatBody::Status { phase } => {
                        progress.phase = phase;
                        progress.draw();
                    }
                    ChatBody::Delta { delta_text } => {
                        if print {
                            progress.clear();
                            let _ = stdout.write_all(delta_text.as_bytes());
                            let _ = stdout.flush();
                            streamed = true;
                            ends_with_newline = delta_text.ends_with('\n');
                        }
                    }
                    ChatBody::Final { .. } | ChatBody::Error { .. } | ChatBody::Aborted { .. } => {
                        // The authoritative result (text, class) comes from agent.wait.
                        break client.call(wait_params(run_id, 10_000)).await?;
                    }
                }
            }
            _ = poll.tick() => {
                // Covers events lost to a lagging receiver.
                let r = client.call(wait_params(run_id, 0)).await?;
                if !r.wait_timed_out {
                    break r;
                }
            }
            _ = redraw.tick(), if progress.enabled => progress.draw(),
        }
    };
    progress.clear();
    if print {
        if !streamed {
            if let Some(t) = result.text.as_deref() {
                let _ = stdout.write_all(t.as_bytes());
                ends_with_newline = t.is_empty() || t.ends_with('\n');
            }
        }
        if !ends_with_newline {
            let _ = stdout.write_all(b"\n");
        }
        let _ = stdout.flush();
    }
    Ok(result)
}

fn short_key(key: &str) -> String {
    // agent:main:subagent:6f1c0a4e-… → agent:main:subagent:6f1c0a4e
    match key.rsplit_once(':') {
        Some((head, id)) if id.len() > 8 => format!("{head}:{}", &id[..8]),
        _ => key.to_owned(),
    }
}

/// `openclaw sessions [list]`.
pub async fn list(args: ClientArgs) -> anyhow::Result<ExitCode> {
    let (client, target) = connect(&args, &[scopes::READ]).await?;
    let params = SessionsListParams {
        limit: Some(1000),
        ..SessionsListParams::default()
    };
    let r = client
        .call(params)
        .await
        .map_err(|e| request_error(&e, &target))?;
    client.close().await;
    if args.json {
        print_json(&r);
        return Ok(ExitCode::SUCCESS);
    }
    if r.sessions.is_empty() {
        println!("no sessions yet (start one with `openclaw sessions-spawn --task \"echo test\"`)");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<56} {:<8} {:<12} {:>6}  LABEL",
        "KEY", "STATUS", "LAST RUN", "QUEUED"
    );
    for s in &r.sessions {
        println!(
            "{:<56} {:<8} {:<12} {:>6}  {}",
            s.key,
            s.status.as_deref().unwrap_or("?"),
            s.last_run_status.as_deref().unwrap_or("-"),
            s.queued,
            s.label.as_deref().unwrap_or(""),
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// One line of `sessions tail --json`: an event as it came.
#[derive(Serialize)]
struct TailLine<'a> {
    event: &'a str,
    payload: &'a Value,
}

/// `openclaw sessions tail KEY`.
pub async fn tail(args: TailArgs) -> anyhow::Result<ExitCode> {
    let key = non_empty("the session key", args.key.clone())?;
    let (client, target) = connect(&args.client, &[scopes::READ]).await?;
    let mut events = client.events();
    if !args.no_follow {
        let params = SessionsSubscribeParams {
            session_key: Some(key.clone()),
        };
        client
            .call(params)
            .await
            .map_err(|e| request_error(&e, &target))?;
    }
    let params = ChatHistoryParams {
        session_key: key,
        limit: Some(args.lines.max(1)),
        ..ChatHistoryParams::default()
    };
    let h = client
        .call(params)
        .await
        .map_err(|e| request_error(&e, &target))?;
    if args.client.json {
        print_json(&h);
    } else {
        for m in &h.messages {
            print_entry(m);
        }
    }
    if args.no_follow {
        client.close().await;
        return Ok(ExitCode::SUCCESS);
    }
    let mut stdout = std::io::stdout();
    loop {
        let ev = match events.recv().await {
            Ok(ev) => ev,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                eprintln!("[{n} events skipped]");
                continue;
            }
            Err(_) => break,
        };
        let Some(payload) = &ev.payload else { continue };
        if args.client.json {
            // Every event, as it came: passed through, not read.
            if let Ok(line) = serde_json::to_string(&TailLine {
                event: &ev.event,
                payload,
            }) {
                println!("{line}");
            }
            continue;
        }
        if let Some(chat) = decode_event::<ChatEvent>(&ev) {
            match chat {
                Ok(c) => print_chat(&mut stdout, &c),
                Err(e) => eprintln!("warning: {e}"),
            }
        } else if let Some(agent) = decode_event::<AgentEvent>(&ev) {
            match agent {
                Ok(a) if a.stream == "announce" => print_announce(a.data),
                Ok(_) => {}
                Err(e) => eprintln!("warning: {e}"),
            }
        }
    }
    eprintln!("connection to the gateway closed");
    Ok(ExitCode::from(1))
}

fn print_chat(stdout: &mut std::io::Stdout, c: &ChatEvent) {
    let (state, error) = match &c.body {
        ChatBody::Delta { delta_text } => {
            let _ = stdout.write_all(delta_text.as_bytes());
            let _ = stdout.flush();
            return;
        }
        ChatBody::Status { phase } => {
            if phase == "started" {
                println!("--- run {} started", c.run_id);
            }
            return;
        }
        ChatBody::Final { .. } => ("final", None),
        ChatBody::Error { error_message, .. } => ("error", error_message.as_deref()),
        ChatBody::Aborted { error_message, .. } => ("aborted", error_message.as_deref()),
    };
    let extra = error.unwrap_or("");
    println!(
        "--- run {} {}{}{}",
        c.run_id,
        state,
        if extra.is_empty() { "" } else { ": " },
        extra
    );
}

fn print_announce(data: Value) {
    let d: AnnounceData = match serde_json::from_value(data) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("warning: unexpected announce data: {e}");
            return;
        }
    };
    println!(
        "--- announce from {}: {} {}",
        d.child_session_key.as_deref().unwrap_or("?"),
        d.status.as_deref().unwrap_or("?"),
        d.text
            .as_deref()
            .or(d.error.as_deref())
            .unwrap_or("")
            .trim_end()
    );
}

fn print_entry(m: &HistoryMessage) {
    let text = m
        .content
        .first()
        .map(|c| c.text.as_str())
        .unwrap_or("")
        .trim_end();
    match m.role.as_str() {
        "user" => println!("> {text}"),
        "system" => println!(
            "[announce from {}: {}] {text}",
            m.child_session_key.as_deref().unwrap_or("?"),
            m.status.as_deref().unwrap_or("?")
        ),
        _ => {
            let status = m.status.as_deref().unwrap_or("?");
            if status == "completed" {
                println!("{text}");
            } else {
                println!("[{status}] {text}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_class() {
        assert_eq!(exit_for_class(FailureClass::Auth, "failed"), EXIT_AUTH);
        assert_eq!(
            exit_for_class(FailureClass::Timeout, "timeout"),
            EXIT_TIMEOUT
        );
        assert_eq!(
            exit_for_class(FailureClass::Runtime, "aborted"),
            EXIT_ABORTED
        );
        assert_eq!(
            exit_for_class(FailureClass::Runtime, "failed"),
            EXIT_RUNTIME
        );
        assert_eq!(
            exit_for_class(FailureClass::RateLimit, "failed"),
            EXIT_RUNTIME
        );
        assert_eq!(
            short_key("agent:main:subagent:6f1c0a4e-3b56-4a43-9d57-0e0c1c7f6e2a"),
            "agent:main:subagent:6f1c0a4e"
        );
    }
}
