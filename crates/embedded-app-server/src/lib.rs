//! The embedded app-server: speaks the Codex app-server protocol subset over stdio; its built-in model `exec` runs the task as a shell command.
//!
//! Methods: `initialize`, `initialized` (notification), `account/read`, `model/list`, `thread/start`,
//! `thread/resume` (threads live in memory), `turn/start`, `turn/interrupt`. Notifications:
//! `thread/started`, `turn/started`, `item/started`, `item/agentMessage/delta`, `item/completed`,
//! `turn/completed`. Errors use `-32600`, like the real server (including "Not initialized").
//!
//! The `exec` model (the default) runs the task text with `sh -c` in the thread's cwd, in its own
//! process group, with a timeout and an output cap, and streams stdout/stderr chunks as
//! agent-message deltas. Exit status 0 completes the turn; anything else fails it with the exit
//! code. The server exits when stdin closes, killing running commands.
//!
//! Dynamic tools: a thread that declares `dynamicTools` at `thread/start` (or `thread/resume`)
//! gets, for each turn, a private Unix socket whose path is exported to the task as
//! `OPENCLAW_TOOL_SOCKET` (plus `OPENCLAW_APP_SERVER_BIN`, this binary). The task calls
//! `openclaw-app-server tool <name> <json-args>` ([`tool_cli`]); the call is forwarded to the
//! client as the server request `item/tool/call` and its answer printed ([`tools`]).
//!
//! Entry points: [`serve_stdio`] (what the `openclaw-app-server` binary runs), [`serve`] over any
//! async reader and writer, [`EmbeddedConfig`].
//!
//! ```
//! use openclaw_rs_embedded_app_server::{serve, EmbeddedConfig};
//! use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let (client, server) = tokio::io::duplex(64 * 1024);
//! let (server_in, server_out) = tokio::io::split(server);
//! let task = tokio::spawn(serve(server_in, server_out, EmbeddedConfig::default()));
//! let (client_in, mut client_out) = tokio::io::split(client);
//! client_out
//!     .write_all(b"{\"id\":0,\"method\":\"initialize\",\"params\":{\"clientInfo\":{\"name\":\"doc\",\"version\":\"1\"}}}\n")
//!     .await
//!     .unwrap();
//! let mut lines = BufReader::new(client_in).lines();
//! let reply: serde_json::Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
//! assert_eq!(reply["id"], 0);
//! assert!(reply["result"]["userAgent"].as_str().unwrap().starts_with("doc/"));
//! drop(client_out); // stdin closed: the server ends
//! drop(lines);
//! task.await.unwrap().unwrap();
//! # });
//! ```
#![warn(missing_docs)]

pub mod tool_cli;
pub mod tools;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

/// The only model this server provides.
pub const EXEC_MODEL: &str = "exec";

/// Settings of the embedded server.
#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    /// Longest a command may run (default 600 s).
    pub exec_timeout: Duration,
    /// Bytes of command output streamed at most (default 1 MiB); the rest is dropped and the
    /// command is stopped.
    pub output_cap: usize,
    /// Shell used for `-c` (default `sh`).
    pub shell: String,
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        Self {
            exec_timeout: Duration::from_secs(600),
            output_cap: 1024 * 1024,
            shell: "sh".to_string(),
        }
    }
}

/// Errors that end the server.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// Reading stdin or writing stdout failed.
    #[error("embedded app-server I/O failed: {0}")]
    Io(#[from] std::io::Error),
    /// A setting from the environment is invalid.
    #[error("invalid setting {name}={value}: {reason}")]
    Setting {
        /// Variable name.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        reason: String,
    },
}

impl EmbeddedConfig {
    /// Defaults overridden by `OPENCLAW_EXEC_TIMEOUT_SECS` and `OPENCLAW_EXEC_OUTPUT_CAP` (bytes).
    pub fn from_env() -> Result<Self, EmbeddedError> {
        let mut c = Self::default();
        if let Ok(v) = std::env::var("OPENCLAW_EXEC_TIMEOUT_SECS") {
            let secs: u64 =
                v.trim()
                    .parse()
                    .map_err(|e: std::num::ParseIntError| EmbeddedError::Setting {
                        name: "OPENCLAW_EXEC_TIMEOUT_SECS",
                        value: v.clone(),
                        reason: format!("{e}; use a whole number of seconds"),
                    })?;
            // At least 1 s, at most 30 days.
            c.exec_timeout = Duration::from_secs(secs.clamp(1, 30 * 24 * 3600));
        }
        if let Ok(v) = std::env::var("OPENCLAW_EXEC_OUTPUT_CAP") {
            c.output_cap =
                v.trim()
                    .parse()
                    .map_err(|e: std::num::ParseIntError| EmbeddedError::Setting {
                        name: "OPENCLAW_EXEC_OUTPUT_CAP",
                        value: v.clone(),
                        reason: format!("{e}; use a number of bytes"),
                    })?;
        }
        Ok(c)
    }
}

#[derive(Debug)]
struct Thread {
    cwd: PathBuf,
    model: Option<String>,
    active_turn: Option<String>,
    /// Names from `dynamicTools`; non-empty: each turn gets a tool socket.
    tools: Vec<String>,
}

#[derive(Debug)]
struct ActiveTurn {
    stop: Option<oneshot::Sender<()>>,
}

#[derive(Debug, Default)]
struct State {
    initialized: bool,
    threads: HashMap<String, Thread>,
    /// Thread ids, oldest first (for eviction beyond [`MAX_THREADS`]).
    thread_order: std::collections::VecDeque<String>,
    turns: HashMap<String, ActiveTurn>,
}

/// Threads kept in memory; the oldest idle ones are forgotten beyond this.
pub const MAX_THREADS: usize = 4096;

impl State {
    fn add_thread(&mut self, id: String, thread: Thread) {
        while self.threads.len() >= MAX_THREADS {
            let idle = self
                .thread_order
                .iter()
                .position(|t| self.threads.get(t).is_none_or(|t| t.active_turn.is_none()));
            let Some(i) = idle else { break };
            if let Some(old) = self.thread_order.remove(i) {
                self.threads.remove(&old);
            }
        }
        self.thread_order.push_back(id.clone());
        self.threads.insert(id, thread);
    }
}

type Shared = Arc<Mutex<State>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, State> {
    s.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

static IDS: AtomicU64 = AtomicU64::new(1);

fn new_id(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        IDS.fetch_add(1, Ordering::Relaxed)
    )
}

/// Outgoing lines (bounded: a stalled reader slows command output down, memory stays bounded).
#[derive(Debug, Clone)]
pub(crate) struct Out(mpsc::Sender<String>);

impl Out {
    async fn send(&self, v: Value) {
        let _ = self.0.send(v.to_string()).await;
    }
    async fn notify(&self, method: &str, params: Value) {
        self.send(json!({"method": method, "params": params})).await;
    }
    async fn error(&self, id: &Value, message: &str) {
        self.send(json!({"id": id, "error": {"code": -32600, "message": message}}))
            .await;
    }
}

/// Serves the protocol on stdin/stdout until stdin closes.
pub async fn serve_stdio(config: EmbeddedConfig) -> Result<(), EmbeddedError> {
    serve(tokio::io::stdin(), tokio::io::stdout(), config).await
}

/// Serves the protocol on any byte streams until `input` ends.
pub async fn serve<R, W>(input: R, output: W, config: EmbeddedConfig) -> Result<(), EmbeddedError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<String>(1024);
    let writer = tokio::spawn(async move {
        let mut output = output;
        while let Some(mut line) = rx.recv().await {
            line.push('\n');
            output.write_all(line.as_bytes()).await?;
            output.flush().await?;
        }
        Ok::<(), std::io::Error>(())
    });
    let out = Out(tx);
    let state: Shared = Arc::default();
    let pending: tools::SharedPending = Arc::default();
    let config = Arc::new(config);
    let mut turns = JoinSet::new();
    let mut lines = BufReader::new(input).lines();
    let read_result = loop {
        tokio::select! {
            line = lines.next_line() => match line {
                Ok(Some(line)) => {
                    if line.trim().is_empty() {
                        continue;
                    }
                    match serde_json::from_str::<Value>(&line) {
                        Ok(msg) => handle(&state, &pending, &config, &out, &mut turns, msg).await,
                        Err(e) => tracing::warn!("ignoring a line that is not JSON: {e}"),
                    }
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            },
            Some(_) = turns.join_next(), if !turns.is_empty() => {}
        }
    };
    // Last connection closed: stop every command and leave.
    let active: Vec<ActiveTurn> = lock(&state).turns.drain().map(|(_, t)| t).collect();
    for mut t in active {
        if let Some(stop) = t.stop.take() {
            let _ = stop.send(());
        }
    }
    while turns.join_next().await.is_some() {}
    drop(out);
    match writer.await {
        Ok(Err(e)) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    read_result.map_err(EmbeddedError::from)
}

async fn handle(
    state: &Shared,
    pending: &tools::SharedPending,
    config: &Arc<EmbeddedConfig>,
    out: &Out,
    turns: &mut JoinSet<()>,
    msg: Value,
) {
    let Some(method) = msg.get("method").and_then(Value::as_str) else {
        // A reply to one of our server requests (`item/tool/call`).
        return tools::resolve(pending, &msg);
    };
    let Some(id) = msg.get("id").cloned() else {
        return; // client notification (`initialized`)
    };
    let params = msg.get("params").cloned();
    if method == "initialize" {
        let already = std::mem::replace(&mut lock(state).initialized, true);
        if already {
            return out.error(&id, "Already initialized").await;
        }
        let client = params
            .as_ref()
            .and_then(|p| p.get("clientInfo"))
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("client");
        let ua = format!(
            "{client}/{} (openclaw-embedded; {}; {})",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH
        );
        return out
            .send(
                json!({"id": id, "result": {"userAgent": ua, "codexHome": null,
                "platformFamily": std::env::consts::FAMILY, "platformOs": std::env::consts::OS}}),
            )
            .await;
    }
    if !lock(state).initialized {
        return out.error(&id, "Not initialized").await;
    }
    let known = matches!(
        method,
        "account/read"
            | "model/list"
            | "thread/start"
            | "thread/resume"
            | "turn/start"
            | "turn/interrupt"
    );
    if !known {
        return out
            .error(&id, &format!("Invalid request: unknown variant `{method}`"))
            .await;
    }
    let Some(params) = params else {
        return out
            .error(&id, "Invalid request: missing field `params`")
            .await;
    };
    let str_param = |name: &str| params.get(name).and_then(Value::as_str).map(str::to_string);
    match method {
        "account/read" => {
            out.send(json!({"id": id, "result": {"account": null, "requiresOpenaiAuth": false}}))
                .await
        }
        // One model, `exec`: it needs no account.
        "model/list" => {
            out.send(json!({"id": id, "result": {"data": [{
                "id": "exec", "model": "exec",
                "displayName": "exec (runs the message as a shell command)",
                "isDefault": true, "inputModalities": ["text"]}], "nextCursor": null}}))
                .await
        }
        "thread/start" => {
            let cwd = match str_param("cwd") {
                Some(c) => PathBuf::from(c),
                None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
            };
            if !cwd.is_dir() {
                return out
                    .error(
                        &id,
                        &format!(
                            "Invalid request: cwd `{}` is not a directory",
                            cwd.display()
                        ),
                    )
                    .await;
            }
            let declared = match tools::declared_tools(&params) {
                Ok(t) => t.unwrap_or_default(),
                Err(msg) => return out.error(&id, &msg).await,
            };
            let model = str_param("model");
            let thread_id = new_id("thr");
            let thread = thread_json(&thread_id, &cwd, model.as_deref());
            lock(state).add_thread(
                thread_id,
                Thread {
                    cwd,
                    model: model.clone(),
                    active_turn: None,
                    tools: declared,
                },
            );
            out.send(json!({"id": id, "result": {"thread": thread, "model": model.unwrap_or_else(|| EXEC_MODEL.into())}}))
                .await;
            out.notify("thread/started", json!({"thread": thread}))
                .await;
        }
        "thread/resume" => {
            let Some(thread_id) = str_param("threadId") else {
                return out
                    .error(&id, "Invalid request: missing field `threadId`")
                    .await;
            };
            let declared = match tools::declared_tools(&params) {
                Ok(t) => t,
                Err(msg) => return out.error(&id, &msg).await,
            };
            let thread = {
                let mut s = lock(state);
                match s.threads.get_mut(&thread_id) {
                    Some(t) => {
                        if let Some(m) = str_param("model") {
                            t.model = Some(m);
                        }
                        if let Some(d) = declared {
                            t.tools = d;
                        }
                        Some(thread_json(&thread_id, &t.cwd, t.model.as_deref()))
                    }
                    None => None,
                }
            };
            match thread {
                Some(thread) => {
                    out.send(json!({"id": id, "result": {"thread": thread}}))
                        .await;
                    out.notify("thread/started", json!({"thread": thread}))
                        .await;
                }
                None => {
                    out.error(&id, &format!("no rollout found for thread id {thread_id}"))
                        .await
                }
            }
        }
        "turn/start" => turn_start(state, pending, config, out, turns, id, &params).await,
        "turn/interrupt" => {
            let turn_id = str_param("turnId").unwrap_or_default();
            let stop = lock(state)
                .turns
                .get_mut(&turn_id)
                .and_then(|t| t.stop.take());
            match stop {
                Some(stop) => {
                    let _ = stop.send(());
                    out.send(json!({"id": id, "result": {}})).await;
                }
                None => out.error(&id, "no active turn to interrupt").await,
            }
        }
        _ => {}
    }
}

fn thread_json(id: &str, cwd: &std::path::Path, model: Option<&str>) -> Value {
    json!({"id": id, "cwd": cwd, "model": model.unwrap_or(EXEC_MODEL), "modelProvider": "openclaw-embedded",
        "ephemeral": true, "path": null, "status": {"type": "idle"}, "turns": []})
}

async fn turn_start(
    state: &Shared,
    pending: &tools::SharedPending,
    config: &Arc<EmbeddedConfig>,
    out: &Out,
    turns: &mut JoinSet<()>,
    id: Value,
    params: &Value,
) {
    let Some(thread_id) = params
        .get("threadId")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return out
            .error(&id, "Invalid request: missing field `threadId`")
            .await;
    };
    let text: String = params
        .get("input")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter(|i| i.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|i| i.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    let turn_id = new_id("turn");
    let (stop_tx, stop_rx) = oneshot::channel();
    let claimed: Result<(PathBuf, Option<String>, bool), String> = {
        let mut s = lock(state);
        match s.threads.get_mut(&thread_id) {
            None => Err(format!("thread not found: {thread_id}")),
            Some(thread) => match &thread.active_turn {
                Some(active) => Err(format!(
                    "thread {thread_id} already has an active turn {active}"
                )),
                None => {
                    thread.active_turn = Some(turn_id.clone());
                    let model = params
                        .get("model")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .or_else(|| thread.model.clone());
                    let cwd = thread.cwd.clone();
                    let has_tools = !thread.tools.is_empty();
                    s.turns.insert(
                        turn_id.clone(),
                        ActiveTurn {
                            stop: Some(stop_tx),
                        },
                    );
                    Ok((cwd, model, has_tools))
                }
            },
        }
    };
    let (cwd, model, has_tools) = match claimed {
        Ok(v) => v,
        Err(msg) => return out.error(&id, &msg).await,
    };
    // The socket exists before the turn is acknowledged, so a failure here is the turn's error
    // reply; nothing is half started.
    let endpoint = if has_tools {
        match tools::ToolEndpoint::bind() {
            Ok(e) => Some(e),
            Err(e) => {
                {
                    let mut s = lock(state);
                    s.turns.remove(&turn_id);
                    if let Some(t) = s.threads.get_mut(&thread_id) {
                        t.active_turn = None;
                    }
                }
                let msg = format!(
                    "cannot create the turn's tool socket in the temp dir: {e} (check TMPDIR)"
                );
                return out.error(&id, &msg).await;
            }
        }
    } else {
        None
    };
    let turn = json!({"id": turn_id, "status": "inProgress", "items": [], "error": null});
    out.send(json!({"id": id, "result": {"turn": turn}})).await;
    out.notify("turn/started", json!({"threadId": thread_id, "turn": turn}))
        .await;
    let job = Turn {
        state: state.clone(),
        pending: pending.clone(),
        config: config.clone(),
        out: out.clone(),
        thread_id,
        turn_id,
        item_id: new_id("msg"),
        endpoint,
    };
    turns.spawn(job.run(text, cwd, model, stop_rx));
}

struct Turn {
    state: Shared,
    pending: tools::SharedPending,
    config: Arc<EmbeddedConfig>,
    out: Out,
    thread_id: String,
    turn_id: String,
    item_id: String,
    /// The turn's tool socket (threads with `dynamicTools` only); removed when the turn ends.
    endpoint: Option<tools::ToolEndpoint>,
}

enum Ending {
    Completed,
    Failed(String, Value),
    Interrupted,
}

impl Turn {
    async fn delta(&self, text: &str) {
        self.out
            .notify(
                "item/agentMessage/delta",
                json!({"threadId": self.thread_id, "turnId": self.turn_id, "itemId": self.item_id, "delta": text}),
            )
            .await;
    }

    async fn run(
        self,
        task: String,
        cwd: PathBuf,
        model: Option<String>,
        stop: oneshot::Receiver<()>,
    ) {
        let model = model.unwrap_or_else(|| EXEC_MODEL.to_string());
        let ending = if model != EXEC_MODEL {
            let msg = format!(
                "unknown model `{model}`: the embedded app-server provides only the model `{EXEC_MODEL}` (set the agent's model to `{EXEC_MODEL}` or configure another runtime)"
            );
            Ending::Failed(msg, json!("modelNotFound"))
        } else {
            self.out
                .notify(
                    "item/started",
                    json!({"threadId": self.thread_id, "turnId": self.turn_id,
                        "item": {"type": "agentMessage", "id": self.item_id, "text": ""}}),
                )
                .await;
            let (text, ending) = match &self.endpoint {
                Some(endpoint) => {
                    let ctx = tools::ToolContext {
                        out: self.out.clone(),
                        pending: self.pending.clone(),
                        thread_id: self.thread_id.clone(),
                        turn_id: self.turn_id.clone(),
                        timeout: self.config.exec_timeout,
                    };
                    // The tool server lives exactly as long as the command.
                    tokio::select! {
                        r = self.exec(&task, &cwd, stop) => r,
                        () = tools::serve(endpoint, ctx) => unreachable_serve(),
                    }
                }
                None => self.exec(&task, &cwd, stop).await,
            };
            self.out
                .notify(
                    "item/completed",
                    json!({"threadId": self.thread_id, "turnId": self.turn_id,
                        "item": {"type": "agentMessage", "id": self.item_id, "text": text}}),
                )
                .await;
            ending
        };
        {
            let mut s = lock(&self.state);
            s.turns.remove(&self.turn_id);
            if let Some(t) = s.threads.get_mut(&self.thread_id) {
                t.active_turn = None;
            }
        }
        let (status, error) = match ending {
            Ending::Completed => ("completed", Value::Null),
            Ending::Interrupted => ("interrupted", Value::Null),
            Ending::Failed(message, info) => {
                let err =
                    json!({"message": message, "codexErrorInfo": info, "additionalDetails": null});
                self.out
                    .notify(
                        "error",
                        json!({"threadId": self.thread_id, "turnId": self.turn_id, "error": err, "willRetry": false}),
                    )
                    .await;
                ("failed", err)
            }
        };
        self.out
            .notify(
                "turn/completed",
                json!({"threadId": self.thread_id, "turn": {"id": self.turn_id, "status": status, "error": error, "items": []}}),
            )
            .await;
    }

    /// Runs the command; returns the streamed text and how the turn ends.
    async fn exec(
        &self,
        task: &str,
        cwd: &std::path::Path,
        mut stop: oneshot::Receiver<()>,
    ) -> (String, Ending) {
        let mut cmd = openclaw_rs_app_server::spawn::owned_command(&self.config.shell);
        if let Some(me) = own_binary() {
            cmd.env(tools::APP_SERVER_BIN_ENV, me);
        }
        match &self.endpoint {
            Some(e) => {
                cmd.env(tools::TOOL_SOCKET_ENV, e.path())
                    .env("OPENCLAW_THREAD_ID", &self.thread_id)
                    .env("OPENCLAW_TURN_ID", &self.turn_id);
            }
            None => {
                cmd.env_remove(tools::TOOL_SOCKET_ENV);
            }
        }
        cmd.arg("-c")
            .arg(task)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                let msg = format!("could not run `{}`: {e}", self.config.shell);
                return (String::new(), Ending::Failed(msg, json!("other")));
            }
        };
        let pgid = child.id().unwrap_or(0);
        let (chunk_tx, mut chunk_rx) = mpsc::channel::<Vec<u8>>(64);
        let mut readers = JoinSet::new();
        if let Some(stdout) = child.stdout.take() {
            readers.spawn(pump(stdout, chunk_tx.clone()));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.spawn(pump(stderr, chunk_tx.clone()));
        }
        drop(chunk_tx);
        let mut text = String::new();
        let mut sent = 0usize;
        let mut pending_utf8: Vec<u8> = Vec::new();
        let mut truncated = false;
        let deadline = tokio::time::Instant::now() + self.config.exec_timeout;
        let mut stopped: Option<Ending> = None;
        let mut streams_open = true;
        let mut exited: Option<std::io::Result<std::process::ExitStatus>> = None;
        let mut drain_until: Option<tokio::time::Instant> = None;
        loop {
            if !streams_open {
                if let Some(status) = exited.take() {
                    let ending = match (stopped.take(), status) {
                        (Some(e), _) => e,
                        (None, Ok(s)) if s.success() => Ending::Completed,
                        (None, Ok(s)) => {
                            let code = s.code().map_or_else(
                                || "killed by a signal".to_string(),
                                |c| format!("exit code {c}"),
                            );
                            let msg = format!("command exited with {code}: {}", first_line(task));
                            Ending::Failed(msg, json!("other"))
                        }
                        (None, Err(e)) => Ending::Failed(
                            format!("waiting for the command failed: {e}"),
                            json!("other"),
                        ),
                    };
                    if !pending_utf8.is_empty() {
                        let piece = String::from_utf8_lossy(&pending_utf8).into_owned();
                        text.push_str(&piece);
                        self.delta(&piece).await;
                    }
                    kill_group(pgid);
                    while readers.join_next().await.is_some() {}
                    return (text, ending);
                }
            }
            tokio::select! {
                chunk = chunk_rx.recv(), if streams_open => match chunk {
                    Some(bytes) => {
                        if truncated {
                            continue;
                        }
                        let room = self.config.output_cap.saturating_sub(sent);
                        let take = bytes.len().min(room);
                        pending_utf8.extend_from_slice(&bytes[..take]);
                        sent += take;
                        let valid = match std::str::from_utf8(&pending_utf8) {
                            Ok(s) => s.len(),
                            Err(e) => e.valid_up_to(),
                        };
                        let piece = String::from_utf8_lossy(&pending_utf8[..valid]).into_owned();
                        pending_utf8.drain(..valid);
                        if !piece.is_empty() {
                            text.push_str(&piece);
                            self.delta(&piece).await;
                        }
                        if take < bytes.len() {
                            truncated = true;
                            let note = format!("\n[output truncated at {} bytes; command stopped]\n", self.config.output_cap);
                            text.push_str(&note);
                            self.delta(&note).await;
                            kill_group(pgid);
                        }
                    }
                    None => streams_open = false,
                },
                status = child.wait(), if exited.is_none() => {
                    exited = Some(status);
                    // Background processes may keep the pipes open: give them a moment, then
                    // stop the whole group so the turn can end.
                    drain_until = Some(tokio::time::Instant::now() + Duration::from_millis(300));
                }
                _ = sleep_until_opt(drain_until), if streams_open && drain_until.is_some() => {
                    drain_until = None;
                    kill_group(pgid);
                }
                _ = tokio::time::sleep_until(deadline), if stopped.is_none() => {
                    let msg = format!("command timed out after {}s and was stopped: {}", self.config.exec_timeout.as_secs(), first_line(task));
                    stopped = Some(Ending::Failed(msg, json!("other")));
                    kill_group(pgid);
                }
                _ = &mut stop, if stopped.is_none() => {
                    stopped = Some(Ending::Interrupted);
                    kill_group(pgid);
                }
            }
        }
    }
}

async fn sleep_until_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn first_line(task: &str) -> String {
    let line = task.lines().next().unwrap_or_default();
    let mut s: String = line.chars().take(120).collect();
    if s.len() < task.len() {
        s.push('…');
    }
    format!("`{s}`")
}

async fn pump<R: AsyncRead + Unpin>(mut r: R, tx: mpsc::Sender<Vec<u8>>) {
    let mut buf = vec![0u8; 8192];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if tx.send(buf[..n].to_vec()).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Kills the command's whole process group (the shell and anything it started).
fn kill_group(pgid: u32) {
    openclaw_rs_app_server::spawn::signal_group(pgid, libc::SIGKILL);
}

/// `tools::serve` loops until dropped; should it ever return, the turn still ends normally.
fn unreachable_serve() -> (String, Ending) {
    (
        String::new(),
        Ending::Failed(
            "the turn's tool socket stopped unexpectedly".into(),
            json!("other"),
        ),
    )
}

/// This binary's path (exported to tasks as `OPENCLAW_APP_SERVER_BIN`), looked up once.
fn own_binary() -> Option<&'static std::path::Path> {
    static ME: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    ME.get_or_init(|| std::env::current_exe().ok()).as_deref()
}
