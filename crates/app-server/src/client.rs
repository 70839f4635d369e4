//! JSON-RPC client for one app-server child over stdio.
//!
//! One JSON object per line, no `"jsonrpc"` field. One writer task owns stdin, one reader task owns
//! stdout, one task forwards stderr lines into `tracing`, and a supervisor task owns the [`Child`]
//! and reaps it. Responses are correlated by id (they may arrive out of order). Server-to-client
//! requests (`{method,id}`, their own id space) are always answered: approvals by the approval
//! policy; a dynamic-tool call (`item/tool/call`) goes to the run subscribed to its thread, which
//! must answer it with [`Client::reply`] (no run on that thread: an error reply at once); anything
//! else gets an error reply. Notifications are routed by `threadId`; those for a thread nobody listens to yet are buffered
//! (bounded) until [`Client::subscribe`]. Any transport failure poisons the client once, and every
//! pending request and subscriber sees that same [`TransportError`].

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::error::{ClientError, TransportError, TransportFailureKind};
use crate::spawn::{signal_group, spawn_child, SpawnError, SpawnSpec};

/// How server-to-client approval requests are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ApprovalPolicy {
    /// Accept command and file-change approvals.
    Accept,
    /// Decline them (default: nothing runs without an explicit policy).
    #[default]
    Decline,
}

/// Tunables for one client.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Capacity of the outgoing line queue.
    pub queue_capacity: usize,
    /// Capacity of each thread subscription.
    pub subscriber_capacity: usize,
    /// Notifications kept per thread nobody subscribed to yet.
    pub orphan_per_thread: usize,
    /// Threads with buffered notifications kept at most (oldest evicted).
    pub orphan_threads: usize,
    /// Longest accepted stdout line in bytes; longer is a malformed stream.
    pub max_line_bytes: usize,
    /// How approvals are answered.
    pub approval_policy: ApprovalPolicy,
    /// Time a child gets to exit after stdin closes before its group is killed.
    pub close_grace: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 1024,
            subscriber_capacity: 8192,
            orphan_per_thread: 512,
            orphan_threads: 64,
            max_line_bytes: 8 * 1024 * 1024,
            approval_policy: ApprovalPolicy::Decline,
            close_grace: Duration::from_secs(2),
        }
    }
}

/// The server request that asks the client to run one of its dynamic tools.
pub const TOOL_CALL_METHOD: &str = "item/tool/call";

/// JSON-RPC code of the error reply to a server request nobody here handles.
pub const CODE_NOT_HANDLED: i64 = -32601;

/// A notification (or a server request) routed to a thread.
#[derive(Debug, Clone)]
pub struct Notification {
    /// Method name, e.g. `item/agentMessage/delta`.
    pub method: String,
    /// Params object (`Value::Null` when absent).
    pub params: Value,
    /// For a server request the subscriber must answer (`item/tool/call`): its id, to pass to
    /// [`Client::reply`]. `None` for notifications and for requests already answered here.
    pub request_id: Option<Value>,
}

/// Result of `initialize`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitInfo {
    /// Raw `userAgent`.
    pub user_agent: String,
    /// Server version parsed from `userAgent` (`name/0.169.0 (...)` → `0.169.0`).
    pub version: Option<String>,
}

/// Parses the version out of a Codex `userAgent` string.
pub fn parse_user_agent_version(user_agent: &str) -> Option<String> {
    let first = user_agent.split_whitespace().next()?;
    let (_, version) = first.rsplit_once('/')?;
    (!version.is_empty()).then(|| version.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CloseMode {
    Open,
    Graceful,
    Kill,
}

type Pending = HashMap<u64, (String, oneshot::Sender<Result<Value, ClientError>>)>;

#[derive(Debug, Default)]
struct Routes {
    /// Subscriber per thread, with the subscription's serial (so a stale drop removes nothing).
    subs: HashMap<String, (u64, mpsc::Sender<Notification>)>,
    next_sub: u64,
    orphans: HashMap<String, VecDeque<Notification>>,
    orphan_order: VecDeque<String>,
}

#[derive(Debug)]
struct Inner {
    pid: u32,
    program: String,
    config: ClientConfig,
    next_id: AtomicU64,
    pending: Mutex<Pending>,
    routes: Mutex<Routes>,
    out_tx: mpsc::Sender<String>,
    poison: OnceLock<TransportError>,
    close_tx: watch::Sender<CloseMode>,
    exit_rx: watch::Receiver<Option<String>>,
    stderr_tail: Mutex<String>,
}

/// A running app-server child and its JSON-RPC connection. Closing is requested on drop; the
/// supervisor task reaps the child.
#[derive(Debug)]
pub struct Client {
    inner: Arc<Inner>,
    tasks: Vec<JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Client {
    /// Spawns the child described by `spec` and starts the I/O tasks. Does not send `initialize`.
    pub fn spawn(spec: &SpawnSpec, config: ClientConfig) -> Result<Self, SpawnError> {
        let mut child = spawn_child(spec)?;
        let program = spec.command.first().cloned().unwrap_or_default();
        let pid = child.id().unwrap_or(0);
        // Piped in spawn_child, so these are present.
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(SpawnError::Io {
                program,
                source: std::io::Error::other("child stdio was not piped"),
            });
        };
        let (out_tx, out_rx) = mpsc::channel(config.queue_capacity.max(1));
        let (close_tx, close_rx) = watch::channel(CloseMode::Open);
        let (exit_tx, exit_rx) = watch::channel(None);
        let inner = Arc::new(Inner {
            pid,
            program,
            config,
            next_id: AtomicU64::new(1),
            pending: Mutex::new(HashMap::new()),
            routes: Mutex::new(Routes::default()),
            out_tx,
            poison: OnceLock::new(),
            close_tx,
            exit_rx,
            stderr_tail: Mutex::new(String::new()),
        });
        tracing::debug!(pid, program = %inner.program, "app-server child spawned");
        let tasks = vec![
            tokio::spawn(writer_task(inner.clone(), stdin, out_rx, close_rx.clone())),
            tokio::spawn(reader_task(inner.clone(), BufReader::new(stdout))),
            tokio::spawn(stderr_task(inner.clone(), BufReader::new(stderr))),
            tokio::spawn(supervisor_task(inner.clone(), child, close_rx, exit_tx)),
        ];
        Ok(Self { inner, tasks })
    }

    /// OS process id of the child (also its process group id).
    pub fn pid(&self) -> u32 {
        self.inner.pid
    }

    /// The transport failure, if the client is poisoned.
    pub fn poisoned(&self) -> Option<TransportError> {
        self.inner.poison.get().cloned()
    }

    /// Whether the transport is unusable.
    pub fn is_poisoned(&self) -> bool {
        self.inner.poison.get().is_some()
    }

    /// The last lines the child wrote to stderr (at most about 2000 characters).
    pub fn stderr_tail(&self) -> String {
        let tail = lock(&self.inner.stderr_tail);
        let start = tail.len().saturating_sub(STDERR_TAIL);
        let start = (start..tail.len())
            .find(|i| tail.is_char_boundary(*i))
            .unwrap_or(0);
        tail[start..].trim_end().to_string()
    }

    /// Number of requests waiting for a reply.
    pub fn pending_requests(&self) -> usize {
        lock(&self.inner.pending).len()
    }

    /// Sends `initialize` then the `initialized` notification, within `timeout`.
    pub async fn initialize(&self, timeout: Duration) -> Result<InitInfo, ClientError> {
        self.initialize_with(timeout, false).await
    }

    /// [`Client::initialize`], asking for Codex's `experimentalApi` capability when
    /// `experimental_api` is set (required for `thread/start.dynamicTools`).
    pub async fn initialize_with(
        &self,
        timeout: Duration,
        experimental_api: bool,
    ) -> Result<InitInfo, ClientError> {
        let params = json!({
            "clientInfo": {"name": "openclaw", "title": "OpenClaw", "version": env!("CARGO_PKG_VERSION")},
            "capabilities": {
                "experimentalApi": experimental_api,
                "optOutNotificationMethods": ["remoteControl/status/changed"],
            },
        });
        let result = self.request("initialize", params, timeout).await?;
        let user_agent = result
            .get("userAgent")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        self.notify("initialized", None).await?;
        let version = parse_user_agent_version(&user_agent);
        tracing::debug!(pid = self.pid(), %user_agent, ?version, "app-server initialized");
        Ok(InitInfo {
            user_agent,
            version,
        })
    }

    /// Sends one request and waits for its reply (or a transport failure, or `timeout`).
    pub async fn request(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, ClientError> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        {
            let mut pending = lock(&self.inner.pending);
            if let Some(err) = self.poisoned() {
                return Err(err.into());
            }
            pending.insert(id, (method.to_string(), tx));
        }
        // If this future is dropped (or times out), the id stops waiting.
        let _forget = ForgetPending {
            inner: &self.inner,
            id,
        };
        let line = json!({"id": id, "method": method, "params": params}).to_string();
        let outcome = tokio::time::timeout(timeout, async {
            if self.inner.out_tx.send(line).await.is_err() {
                return Err(self.transport_error());
            }
            match rx.await {
                Ok(r) => r,
                Err(_) => Err(self.transport_error()),
            }
        })
        .await;
        match outcome {
            Ok(r) => r,
            Err(_) => Err(ClientError::Timeout {
                method: method.to_string(),
                timeout,
            }),
        }
    }

    /// Sends a notification (no reply).
    pub async fn notify(&self, method: &str, params: Option<Value>) -> Result<(), ClientError> {
        if let Some(err) = self.poisoned() {
            return Err(err.into());
        }
        let line = match params {
            Some(p) => json!({"method": method, "params": p}),
            None => json!({"method": method}),
        }
        .to_string();
        self.inner
            .out_tx
            .send(line)
            .await
            .map_err(|_| self.transport_error())
    }

    /// Answers a server request that was routed to a subscriber ([`Notification::request_id`]):
    /// `Ok(result)` or `Err((code, message))`. Never blocks; a reply that cannot be queued (the
    /// transport is gone, or the queue is full) is logged and dropped.
    pub fn reply(&self, id: Value, outcome: Result<Value, (i64, String)>) {
        send_reply(&self.inner, id, outcome);
    }

    fn transport_error(&self) -> ClientError {
        ClientError::Transport(self.poisoned().unwrap_or_else(|| {
            TransportError::new(TransportFailureKind::Closed, "connection closed")
        }))
    }

    /// Subscribes to the notifications of one thread. Buffered notifications that arrived before
    /// the subscription are delivered first. Dropping the subscription unregisters it.
    pub fn subscribe(&self, thread_id: &str) -> Subscription {
        let (tx, rx) = mpsc::channel(self.inner.config.subscriber_capacity.max(1));
        let mut routes = lock(&self.inner.routes);
        if let Some(buffered) = routes.orphans.remove(thread_id) {
            routes.orphan_order.retain(|t| t != thread_id);
            for n in buffered {
                // Capacity exceeds the orphan bound, so this cannot be full.
                let _ = tx.try_send(n);
            }
        }
        routes.next_sub += 1;
        let serial = routes.next_sub;
        if self.inner.poison.get().is_none() {
            routes.subs.insert(thread_id.to_string(), (serial, tx));
        }
        Subscription {
            inner: self.inner.clone(),
            thread_id: thread_id.to_string(),
            serial,
            rx,
        }
    }

    /// Marks the transport poisoned with `err` and kills the child now (hard retire).
    pub fn kill(&self, err: TransportError) {
        poison(&self.inner, err);
        let _ = self.inner.close_tx.send(CloseMode::Kill);
    }

    /// Asks the child to exit: stdin is closed, and after the close grace its group is killed.
    pub fn close(&self) {
        // Poisoning closes stdin; the supervisor escalates to killing the group after the grace.
        poison(
            &self.inner,
            TransportError::new(TransportFailureKind::Closed, "closed by the pool"),
        );
    }

    /// Handle that resolves when the child has exited and been reaped.
    pub fn exit_watch(&self) -> ExitWatch {
        ExitWatch {
            rx: self.inner.exit_rx.clone(),
            pid: self.inner.pid,
        }
    }

    /// Closes the child and waits until it is reaped.
    pub async fn close_and_wait(&self) -> String {
        self.close();
        self.exit_watch().wait().await
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.close();
        // The supervisor task keeps running until the child is reaped; the I/O tasks end with it.
        // Nothing else needs the handles.
        self.tasks.clear();
    }
}

/// Removes a request's pending entry when its waiter goes away.
struct ForgetPending<'a> {
    inner: &'a Inner,
    id: u64,
}

impl Drop for ForgetPending<'_> {
    fn drop(&mut self) {
        lock(&self.inner.pending).remove(&self.id);
    }
}

/// Waits for a child's exit.
#[derive(Debug, Clone)]
pub struct ExitWatch {
    rx: watch::Receiver<Option<String>>,
    pid: u32,
}

impl ExitWatch {
    /// The pid being watched.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether the child has been reaped.
    pub fn has_exited(&self) -> bool {
        self.rx.borrow().is_some()
    }

    /// Resolves with the exit status text once the child is reaped.
    pub async fn wait(mut self) -> String {
        match self.rx.wait_for(Option::is_some).await {
            Ok(v) => v.clone().unwrap_or_default(),
            Err(_) => "supervisor ended".to_string(),
        }
    }
}

/// Notifications of one thread, in arrival order.
#[derive(Debug)]
pub struct Subscription {
    inner: Arc<Inner>,
    thread_id: String,
    serial: u64,
    rx: mpsc::Receiver<Notification>,
}

impl Subscription {
    /// Next notification; `None` when the transport is poisoned or the subscription overflowed.
    pub async fn recv(&mut self) -> Option<Notification> {
        self.rx.recv().await
    }

    /// The transport failure, if any (use after `recv` returned `None`).
    pub fn poisoned(&self) -> Option<TransportError> {
        self.inner.poison.get().cloned()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut routes = lock(&self.inner.routes);
        if routes
            .subs
            .get(&self.thread_id)
            .is_some_and(|(s, _)| *s == self.serial)
        {
            routes.subs.remove(&self.thread_id);
        }
    }
}

/// Poisons once: fails every pending request with the same error and ends every subscription.
fn poison(inner: &Inner, err: TransportError) {
    if inner.poison.set(err.clone()).is_err() {
        return;
    }
    if err.kind() != &TransportFailureKind::Closed {
        tracing::warn!(pid = inner.pid, program = %inner.program, error = %err, "app-server transport poisoned");
    }
    let drained: Vec<_> = lock(&inner.pending).drain().collect();
    for (_, (_, tx)) in drained {
        let _ = tx.send(Err(ClientError::Transport(err.clone())));
    }
    {
        let mut routes = lock(&inner.routes);
        routes.subs.clear();
        routes.orphans.clear();
        routes.orphan_order.clear();
    }
    // A poisoned transport is never written again: close stdin so the child exits (its group is
    // killed after the close grace if it does not).
    inner.close_tx.send_if_modified(|m| {
        if *m == CloseMode::Open {
            *m = CloseMode::Graceful;
            true
        } else {
            false
        }
    });
}

async fn writer_task(
    inner: Arc<Inner>,
    mut stdin: ChildStdin,
    mut out_rx: mpsc::Receiver<String>,
    mut close_rx: watch::Receiver<CloseMode>,
) {
    loop {
        tokio::select! {
            line = out_rx.recv() => {
                let Some(mut line) = line else { break };
                line.push('\n');
                let res = async {
                    stdin.write_all(line.as_bytes()).await?;
                    stdin.flush().await
                }
                .await;
                if let Err(e) = res {
                    poison(&inner, TransportError::new(TransportFailureKind::BrokenPipe, e.to_string()));
                    break;
                }
            }
            changed = close_rx.changed() => {
                if changed.is_err() || *close_rx.borrow() != CloseMode::Open {
                    break;
                }
            }
        }
    }
    // Dropping stdin closes the pipe: the app-server treats EOF as "last connection closed".
    drop(stdin);
}

/// Reads one `\n`-terminated line of at most `max` bytes. `Ok(None)` on EOF.
async fn read_bounded_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<()>> {
    buf.clear();
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(if buf.is_empty() { None } else { Some(()) });
        }
        let (take, done) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if buf.len() + take > max {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("line longer than {max} bytes"),
            ));
        }
        buf.extend_from_slice(&available[..take]);
        reader.consume(take);
        if done {
            return Ok(Some(()));
        }
    }
}

/// One line of the app-server's stdout: `Ok(None)` for a blank line, else the JSON-RPC object,
/// or the error that poisons the transport.
fn decode_line(buf: &[u8]) -> Result<Option<Value>, TransportError> {
    let text = String::from_utf8_lossy(buf);
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(Some(Value::Object(map))),
        _ => {
            let excerpt: String = text.chars().take(200).collect();
            Err(TransportError::new(
                TransportFailureKind::Malformed,
                format!("not a JSON-RPC object: {excerpt}"),
            ))
        }
    }
}

/// Fuzzing entry point: `data` as an app-server's stdout, through the reader task's decoding
/// (bounded lines of at most `max_line` bytes, JSON-RPC objects) and the pure parts of dispatch
/// (method and id, the thread a notification belongs to, the failure class of a turn error).
#[doc(hidden)]
pub fn fuzz_decode_stdout(data: &[u8], max_line: usize) {
    let mut reader = data;
    let mut buf = Vec::new();
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    for _ in 0..10_000 {
        // A byte slice is always ready: one poll completes the read.
        let read = {
            let fut = std::pin::pin!(read_bounded_line(&mut reader, &mut buf, max_line));
            match std::future::Future::poll(fut, &mut cx) {
                std::task::Poll::Ready(r) => r,
                std::task::Poll::Pending => return,
            }
        };
        if !matches!(read, Ok(Some(()))) {
            return;
        }
        let msg = match decode_line(&buf) {
            Ok(Some(msg)) => msg,
            Ok(None) => continue,
            Err(_) => return,
        };
        let _ = msg.get("method").and_then(Value::as_str);
        let params = msg.get("params").cloned().unwrap_or(Value::Null);
        let _ = thread_id_of(&params);
        let _ = crate::classify::classify_turn_error(params.get("error"));
        if let Some(turn) = params.get("turn") {
            let _ = crate::classify::classify_turn_error(turn.get("error"));
        }
    }
}

async fn reader_task(inner: Arc<Inner>, mut stdout: BufReader<ChildStdout>) {
    let mut buf = Vec::new();
    loop {
        match read_bounded_line(&mut stdout, &mut buf, inner.config.max_line_bytes).await {
            Ok(Some(())) => {}
            Ok(None) => break,
            Err(e) => {
                poison(
                    &inner,
                    TransportError::new(TransportFailureKind::Malformed, e.to_string()),
                );
                return;
            }
        }
        match decode_line(&buf) {
            Ok(None) => continue,
            Ok(Some(msg)) => dispatch(&inner, msg),
            Err(e) => {
                poison(&inner, e);
                return;
            }
        }
    }
    // EOF: give the supervisor a moment to report the exit status, which is the better message.
    let mut exit_rx = inner.exit_rx.clone();
    let status = tokio::time::timeout(
        Duration::from_millis(500),
        exit_rx.wait_for(Option::is_some),
    )
    .await
    .ok()
    .and_then(|r| r.ok().map(|v| v.clone()))
    .flatten();
    let err = match status {
        Some(s) => TransportError::new(TransportFailureKind::Exited, s),
        None => TransportError::new(
            TransportFailureKind::Eof,
            "stdout closed while the process kept running",
        ),
    };
    poison(&inner, err);
}

fn thread_id_of(params: &Value) -> Option<&str> {
    params
        .get("threadId")
        .and_then(Value::as_str)
        .or_else(|| {
            params
                .get("thread")
                .and_then(|t| t.get("id"))
                .and_then(Value::as_str)
        })
        .or_else(|| params.get("conversationId").and_then(Value::as_str))
}

fn dispatch(inner: &Arc<Inner>, msg: Value) {
    let method = msg
        .get("method")
        .and_then(Value::as_str)
        .map(str::to_string);
    let id = msg.get("id").cloned();
    match (method, id) {
        (Some(method), Some(id)) if method == TOOL_CALL_METHOD => {
            let params = msg.get("params").cloned().unwrap_or(Value::Null);
            route_request(inner, method, id, params);
        }
        (Some(method), id) => {
            let params = msg.get("params").cloned().unwrap_or(Value::Null);
            if let Some(id) = id {
                answer_server_request(inner, &method, id, &params);
            }
            route(
                inner,
                Notification {
                    method,
                    params,
                    request_id: None,
                },
            );
        }
        (None, Some(id)) => {
            let Some(id) = id.as_u64() else {
                tracing::debug!(pid = inner.pid, %id, "reply with an id we never used; ignored");
                return;
            };
            let Some((method, tx)) = lock(&inner.pending).remove(&id) else {
                tracing::debug!(pid = inner.pid, id, "late or unknown reply; ignored");
                return;
            };
            let reply = if let Some(err) = msg.get("error") {
                Err(ClientError::Rpc {
                    method,
                    code: err.get("code").and_then(Value::as_i64).unwrap_or(0),
                    message: err
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("(no message)")
                        .to_string(),
                    data: err.get("data").cloned(),
                })
            } else {
                Ok(msg.get("result").cloned().unwrap_or(Value::Null))
            };
            let _ = tx.send(reply);
        }
        (None, None) => tracing::debug!(
            pid = inner.pid,
            "JSON object that is neither request, reply nor notification; ignored"
        ),
    }
}

fn answer_server_request(inner: &Inner, method: &str, id: Value, params: &Value) {
    let accept = inner.config.approval_policy == ApprovalPolicy::Accept;
    let reply = match method {
        "item/commandExecution/requestApproval" | "item/fileChange/requestApproval" => {
            json!({"id": id, "result": {"decision": if accept { "accept" } else { "decline" }}})
        }
        "execCommandApproval" | "applyPatchApproval" => {
            json!({"id": id, "result": {"decision": if accept { "approved" } else { "denied" }}})
        }
        _ => {
            json!({"id": id, "error": {"code": -32601, "message": format!("openclaw does not handle `{method}`")}})
        }
    };
    tracing::info!(
        pid = inner.pid,
        method,
        thread_id = thread_id_of(params).unwrap_or(""),
        policy = ?inner.config.approval_policy,
        "answered app-server request"
    );
    if inner.out_tx.try_send(reply.to_string()).is_err() {
        tracing::warn!(
            pid = inner.pid,
            method,
            "could not queue the answer to a server request"
        );
    }
}

fn send_reply(inner: &Inner, id: Value, outcome: Result<Value, (i64, String)>) {
    if inner.poison.get().is_some() {
        tracing::debug!(pid = inner.pid, %id, "transport is gone; server request left unanswered");
        return;
    }
    let line = match outcome {
        Ok(result) => json!({"id": id, "result": result}),
        Err((code, message)) => json!({"id": id, "error": {"code": code, "message": message}}),
    };
    if inner.out_tx.try_send(line.to_string()).is_err() {
        tracing::warn!(
            pid = inner.pid,
            "could not queue the answer to a server request"
        );
    }
}

/// Hands a server request the client cannot answer by itself to the run subscribed to its
/// thread. Without a live subscriber (no run, the run ended, it is not keeping up) the request
/// gets an error reply at once: it is never left unanswered.
fn route_request(inner: &Inner, method: String, id: Value, params: Value) {
    let thread_id = thread_id_of(&params).unwrap_or_default().to_string();
    let refusal = {
        let mut routes = lock(&inner.routes);
        match routes.subs.get(&thread_id) {
            None => Some(format!(
                "no active run on thread {thread_id:?} handles `{method}`"
            )),
            Some((_, tx)) => {
                let n = Notification {
                    method: method.clone(),
                    params,
                    request_id: Some(id.clone()),
                };
                match tx.try_send(n) {
                    Ok(()) => None,
                    Err(mpsc::error::TrySendError::Full(_)) => Some(format!(
                        "the run on thread {thread_id:?} is not keeping up; `{method}` refused"
                    )),
                    Err(mpsc::error::TrySendError::Closed(_)) => {
                        routes.subs.remove(&thread_id);
                        Some(format!(
                            "no active run on thread {thread_id:?} handles `{method}`"
                        ))
                    }
                }
            }
        }
    };
    if let Some(message) = refusal {
        tracing::info!(pid = inner.pid, %method, %thread_id, "refused a server request: {message}");
        send_reply(inner, id, Err((CODE_NOT_HANDLED, message)));
    }
}

fn route(inner: &Inner, n: Notification) {
    let Some(thread_id) = thread_id_of(&n.params).map(str::to_string) else {
        tracing::debug!(pid = inner.pid, method = %n.method, "app-server notification");
        return;
    };
    let mut routes = lock(&inner.routes);
    if let Some((_, tx)) = routes.subs.get(&thread_id) {
        match tx.try_send(n) {
            Ok(()) => return,
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::error!(pid = inner.pid, %thread_id, "thread subscriber is not keeping up; dropping its subscription");
                routes.subs.remove(&thread_id);
                return;
            }
            Err(mpsc::error::TrySendError::Closed(n)) => {
                routes.subs.remove(&thread_id);
                buffer_orphan(inner, &mut routes, thread_id, n);
                return;
            }
        }
    }
    buffer_orphan(inner, &mut routes, thread_id, n);
}

fn buffer_orphan(inner: &Inner, routes: &mut Routes, thread_id: String, n: Notification) {
    if !routes.orphans.contains_key(&thread_id) {
        if routes.orphan_order.len() >= inner.config.orphan_threads.max(1) {
            if let Some(old) = routes.orphan_order.pop_front() {
                routes.orphans.remove(&old);
            }
        }
        routes.orphan_order.push_back(thread_id.clone());
    }
    let q = routes.orphans.entry(thread_id).or_default();
    if q.len() >= inner.config.orphan_per_thread.max(1) {
        q.pop_front();
    }
    q.push_back(n);
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Characters of stderr kept for error messages.
const STDERR_TAIL: usize = 2000;

async fn stderr_task(inner: Arc<Inner>, mut stderr: BufReader<ChildStderr>) {
    let pid = inner.pid;
    let mut buf = Vec::new();
    loop {
        match read_bounded_line(&mut stderr, &mut buf, 64 * 1024).await {
            Ok(Some(())) => {
                let line = strip_ansi(String::from_utf8_lossy(&buf).trim_end());
                if !line.is_empty() {
                    tracing::info!(target: "openclaw_rs_app_server::stderr", pid, "{line}");
                    let mut tail = lock(&inner.stderr_tail);
                    tail.push_str(&line);
                    tail.push('\n');
                    if tail.len() > STDERR_TAIL * 2 {
                        let cut = tail.len() - STDERR_TAIL;
                        let cut = (cut..tail.len())
                            .find(|i| tail.is_char_boundary(*i))
                            .unwrap_or(0);
                        tail.replace_range(..cut, "");
                    }
                }
            }
            Ok(None) => break,
            // An over-long stderr line: skip what was read and keep going.
            Err(_) => continue,
        }
    }
}

async fn supervisor_task(
    inner: Arc<Inner>,
    mut child: Child,
    mut close_rx: watch::Receiver<CloseMode>,
    exit_tx: watch::Sender<Option<String>>,
) {
    let pid = inner.pid;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            changed = close_rx.changed() => {
                let mode = if changed.is_err() { CloseMode::Kill } else { *close_rx.borrow() };
                match mode {
                    CloseMode::Open => continue,
                    CloseMode::Kill => {
                        signal_group(pid, libc::SIGKILL);
                        break child.wait().await;
                    }
                    CloseMode::Graceful => {
                        // The writer drops stdin; wait for a clean exit, else kill the group.
                        let grace = inner.config.close_grace;
                        tokio::select! {
                            status = child.wait() => break status,
                            _ = tokio::time::sleep(grace) => {
                                tracing::warn!(pid, "app-server did not exit after stdin closed; killing its process group");
                                signal_group(pid, libc::SIGKILL);
                                break child.wait().await;
                            }
                            changed = close_rx.changed() => {
                                if changed.is_err() || *close_rx.borrow() == CloseMode::Kill {
                                    signal_group(pid, libc::SIGKILL);
                                    break child.wait().await;
                                }
                                continue;
                            }
                        }
                    }
                }
            }
        }
    };
    let text = match status {
        Ok(s) => s.to_string(),
        Err(e) => format!("wait failed: {e}"),
    };
    // Leftover grandchildren in the group (the leader is gone) get killed too.
    signal_group(pid, libc::SIGKILL);
    tracing::debug!(pid, status = %text, "app-server child reaped");
    // The reader poisons after draining stdout (so replies written just before exit still land).
    let _ = exit_tx.send(Some(text));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_version() {
        assert_eq!(
            parse_user_agent_version(
                "probe_client/0.169.0 (Debian 12.0.0; x86_64) xterm (probe_client; 0.0.1)"
            ),
            Some("0.169.0".to_string())
        );
        assert_eq!(parse_user_agent_version("noversion"), None);
        assert_eq!(parse_user_agent_version(""), None);
    }

    #[test]
    fn ansi_is_stripped() {
        assert_eq!(
            strip_ansi("\u{1b}[2m2026\u{1b}[0m \u{1b}[31mERROR\u{1b}[0m x"),
            "2026 ERROR x"
        );
    }
}
