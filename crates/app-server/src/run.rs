//! One agent run on a leased shared process: `thread/start` (or `thread/resume`), `turn/start`
//! with the task as text, streamed events, and a typed outcome.
//!
//! Failure policy (the point of this crate): a run-level failure (turn failed with 401/429/quota/
//! 5xx/stream idle, a `-32600` rejection, a `thread/start` error) fails only this run and releases
//! its lease; the process stays. A transport failure retires the process (the next acquire spawns
//! a fresh one) and fails the run as retryable. A request that times out, or a `turn/interrupt`
//! that gets no answer, marks the process wedged: it is retired hard and every run on it fails.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::classify::{classify_client_error, classify_turn_error};
use crate::client::{Client, Notification, Subscription, TOOL_CALL_METHOD};
use crate::error::{ClientError, FailureClass, PoolError, RunError, CODE_OVERLOADED};
use crate::key::ProcessKey;
use crate::pool::{Lease, Pool, PoolConfig};
use crate::tools::{RunTools, ToolCalls};

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunSpec {
    /// Task text, sent as one text input.
    pub task: String,
    /// Model id (`None`: the runtime's default).
    pub model: Option<String>,
    /// Working directory of the thread.
    pub cwd: PathBuf,
    /// Whole-run deadline; on expiry the turn is interrupted.
    pub timeout: Duration,
    /// Resume this thread instead of starting a new one.
    pub thread_id: Option<String>,
    /// `sandbox` for this thread (`None`: the pool's [`crate::pool::ThreadDefaults`]).
    pub sandbox: Option<String>,
}

/// Progress of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum RunEvent {
    /// The thread exists (started or resumed).
    #[serde(rename_all = "camelCase")]
    ThreadStarted {
        /// Thread id.
        thread_id: String,
    },
    /// The turn was accepted.
    #[serde(rename_all = "camelCase")]
    TurnStarted {
        /// Turn id.
        turn_id: String,
    },
    /// A chunk of the agent's message.
    Delta {
        /// Text chunk.
        text: String,
    },
    /// Any other `item/*` notification (kind = method, data = params).
    Item {
        /// Notification method, e.g. `item/completed`.
        kind: String,
        /// Its params.
        data: Value,
    },
    /// The app-server reported a transient error and retries by itself.
    Retrying {
        /// Its message.
        message: String,
    },
}

/// A completed run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunOutcome {
    /// The agent's final message (last completed agent message, else the streamed deltas).
    pub final_text: String,
    /// Thread id (resumable unless the thread is ephemeral).
    pub thread_id: String,
    /// Turn id.
    pub turn_id: String,
    /// Pid of the app-server process that ran it.
    pub pid: u32,
}

/// Cancels a run: the turn is interrupted and the run fails with [`FailureClass::Interrupted`].
#[derive(Debug, Clone)]
pub struct CancelToken {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for CancelToken {
    fn default() -> Self {
        Self::new()
    }
}

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self {
            tx: Arc::new(watch::channel(false).0),
        }
    }

    /// Cancels (idempotent).
    pub fn cancel(&self) {
        self.tx.send_replace(true);
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once cancelled.
    pub async fn cancelled(&self) {
        let mut rx = self.tx.subscribe();
        let _ = rx.wait_for(|c| *c).await;
    }
}

/// Runs `spec` on the shared process for `key`, streaming progress to `events` (a closed receiver
/// is fine). The lease is released when this returns, whatever the outcome. The run declares no
/// tools; see [`execute_with_tools`].
pub async fn execute(
    pool: &Pool,
    key: &ProcessKey,
    spec: RunSpec,
    events: mpsc::Sender<RunEvent>,
    cancel: CancelToken,
) -> Result<RunOutcome, RunError> {
    execute_with_tools(pool, key, spec, RunTools::none(), events, cancel).await
}

/// [`execute`], with dynamic tools: `tools.specs` are declared at `thread/start` /
/// `thread/resume` (`dynamicTools`), and the app-server's `item/tool/call` requests for this
/// run's turn are answered by `tools.handler` (see [`crate::tools`]). Tool calls are bounded by
/// the run's deadline and cancelled with the run.
pub async fn execute_with_tools(
    pool: &Pool,
    key: &ProcessKey,
    spec: RunSpec,
    tools: RunTools,
    events: mpsc::Sender<RunEvent>,
    cancel: CancelToken,
) -> Result<RunOutcome, RunError> {
    // A huge timeout means "no deadline" in practice; never overflow.
    let now = Instant::now();
    let deadline = now
        .checked_add(spec.timeout)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600));
    let cfg = pool.config().clone();
    // A process that dies before the thread exists costs the run nothing: retry once, fresh.
    let mut attempts = 0;
    let (lease, thread_id) = loop {
        attempts += 1;
        let lease = tokio::select! {
            r = pool.acquire(key, deadline) => match r {
                Ok(lease) => lease,
                Err(e @ PoolError::AcquireTimeout { .. }) => {
                    return Err(RunError::new(FailureClass::Timeout, format!("run deadline passed before the app-server was ready: {e}"), true));
                }
                Err(e) => return Err(e.into()),
            },
            _ = cancel.cancelled() => return Err(RunError::new(FailureClass::Interrupted, "run cancelled while waiting for the app-server", false)),
        };
        let opened = tokio::select! {
            r = open_thread(&cfg, &lease, &spec, &tools) => r,
            _ = tokio::time::sleep_until(deadline) => {
                return Err(RunError::new(FailureClass::Timeout, "run deadline passed while the app-server was opening the thread", true));
            }
            _ = cancel.cancelled() => {
                return Err(RunError::new(FailureClass::Interrupted, "run cancelled while the thread was opening", false));
            }
        };
        match opened {
            Ok(id) => break (lease, id),
            Err(e) => {
                let err = on_request_error(&lease, &e, "thread/start");
                if matches!(e, ClientError::Transport(_))
                    && attempts < 2
                    && Instant::now() < deadline
                {
                    tracing::info!(error = %e, "app-server transport failed before the thread started; retrying on a fresh process");
                    continue;
                }
                return Err(err);
            }
        }
    };
    let _ = events
        .send(RunEvent::ThreadStarted {
            thread_id: thread_id.clone(),
        })
        .await;
    let client = lease.client().clone();
    // Subscribe before turn/start: notifications that precede its reply are kept in order.
    let mut sub = client.subscribe(&thread_id);
    let mut input = json!({
        "threadId": thread_id,
        "input": [{"type": "text", "text": spec.task, "text_elements": []}],
    });
    if let Some(model) = &spec.model {
        input["model"] = json!(model);
    }
    let started = tokio::select! {
        r = request_with_retry(&cfg, &client, "turn/start", input, cfg.request_timeout) => r,
        _ = tokio::time::sleep_until(deadline) => {
            return Err(RunError::new(FailureClass::Timeout, "run deadline passed before the app-server accepted the turn", true));
        }
    };
    let turn = match started {
        Ok(v) => v,
        Err(e) => return Err(on_request_error(&lease, &e, "turn/start")),
    };
    let Some(turn_id) = turn
        .get("turn")
        .and_then(|t| t.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return Err(RunError::new(
            FailureClass::Protocol,
            format!("`turn/start` reply has no turn.id: {}", excerpt(&turn)),
            false,
        ));
    };
    let _ = events
        .send(RunEvent::TurnStarted {
            turn_id: turn_id.clone(),
        })
        .await;
    let calls = ToolCalls::new(tools, client.clone(), deadline);
    let mut stream = TurnStream {
        thread_id,
        turn_id,
        deltas: String::new(),
        last_message: None,
        last_error: None,
        pid: lease.pid(),
        calls,
    };
    stream
        .drive(&cfg, &lease, &mut sub, &events, deadline, &cancel)
        .await
}

/// Starts or resumes the thread; returns its id.
async fn open_thread(
    cfg: &PoolConfig,
    lease: &Lease,
    spec: &RunSpec,
    tools: &RunTools,
) -> Result<String, ClientError> {
    let client = lease.client();
    let mut params = json!({
        "cwd": spec.cwd,
        "approvalPolicy": cfg.thread.approval_policy,
        "sandbox": spec.sandbox.as_deref().unwrap_or(&cfg.thread.sandbox),
    });
    if let Some(model) = &spec.model {
        params["model"] = json!(model);
    }
    if let Some(specs) = tools.wire_specs() {
        params["dynamicTools"] = specs;
    }
    let method = match &spec.thread_id {
        Some(id) => {
            params["threadId"] = json!(id);
            "thread/resume"
        }
        None => {
            params["ephemeral"] = json!(cfg.thread.ephemeral);
            "thread/start"
        }
    };
    let reply = request_with_retry(cfg, client, method, params, cfg.request_timeout).await?;
    reply
        .get("thread")
        .and_then(|t| t.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| ClientError::Rpc {
            method: method.to_string(),
            code: 0,
            message: format!("reply has no thread.id: {}", excerpt(&reply)),
            data: None,
        })
}

/// Maps a failed request to a run error and applies the process policy: transport failure →
/// graceful retire (it is dead anyway); timeout → wedged, hard retire; RPC error → process stays.
fn on_request_error(lease: &Lease, e: &ClientError, method: &str) -> RunError {
    match e {
        ClientError::Transport(_) | ClientError::QueueFull { .. } => lease.retire(),
        ClientError::Timeout { .. } => lease.retire_wedged(&format!("`{method}` got no reply")),
        ClientError::Rpc { .. } => {}
    }
    classify_client_error(e)
}

fn jitter(max: Duration) -> Duration {
    let r = RandomState::new().build_hasher().finish();
    let ms = u64::try_from(max.as_millis()).unwrap_or(u64::MAX).max(1);
    Duration::from_millis(r % ms)
}

/// Sends a request, retrying `-32001` overload with exponential backoff plus jitter.
async fn request_with_retry(
    cfg: &PoolConfig,
    client: &Client,
    method: &str,
    params: Value,
    timeout: Duration,
) -> Result<Value, ClientError> {
    let mut attempt = 0;
    loop {
        match client.request(method, params.clone(), timeout).await {
            Err(ClientError::Rpc { code, .. })
                if code == CODE_OVERLOADED && attempt < cfg.overload_retries =>
            {
                let base = cfg.overload_backoff * 2u32.saturating_pow(attempt);
                attempt += 1;
                let wait = base + jitter(base);
                tracing::info!(method, attempt, ?wait, "app-server overloaded; retrying");
                tokio::time::sleep(wait).await;
            }
            other => return other,
        }
    }
}

fn excerpt(v: &Value) -> String {
    v.to_string().chars().take(200).collect()
}

struct TurnStream {
    thread_id: String,
    turn_id: String,
    deltas: String,
    last_message: Option<String>,
    last_error: Option<Value>,
    pid: u32,
    /// Tool calls in flight (answered, or cancelled with an error reply, when the run ends).
    calls: ToolCalls,
}

enum Step {
    Continue,
    Done(Result<RunOutcome, RunError>),
}

impl TurnStream {
    async fn drive(
        &mut self,
        cfg: &PoolConfig,
        lease: &Lease,
        sub: &mut Subscription,
        events: &mpsc::Sender<RunEvent>,
        deadline: Instant,
        cancel: &CancelToken,
    ) -> Result<RunOutcome, RunError> {
        loop {
            let n = tokio::select! {
                n = sub.recv() => n,
                () = self.calls.answer_next() => continue,
                _ = tokio::time::sleep_until(deadline) => {
                    let msg = "run deadline passed; the turn was interrupted";
                    return self.interrupt(cfg, lease, sub, events, FailureClass::Timeout, msg, true).await;
                }
                _ = cancel.cancelled() => {
                    return self.interrupt(cfg, lease, sub, events, FailureClass::Interrupted, "run cancelled; the turn was interrupted", false).await;
                }
            };
            let Some(n) = n else {
                return Err(self.stream_ended(lease, sub));
            };
            if let Step::Done(r) = self.handle(n, events).await {
                return r;
            }
        }
    }

    fn stream_ended(&self, lease: &Lease, sub: &Subscription) -> RunError {
        match sub.poisoned() {
            Some(t) => {
                lease.retire();
                let mut e = RunError::new(FailureClass::Transport, t.to_string(), true);
                if t.kind() == &crate::error::TransportFailureKind::Wedged {
                    e.message = format!("{t} (another run on the same process timed out)");
                }
                e
            }
            None => RunError::new(
                FailureClass::Protocol,
                "the run's event stream overflowed (the consumer did not keep up)",
                true,
            ),
        }
    }

    async fn handle(&mut self, n: Notification, events: &mpsc::Sender<RunEvent>) -> Step {
        let Notification {
            method,
            params,
            request_id,
        } = n;
        let method = method.as_str();
        if let Some(id) = request_id {
            if method == TOOL_CALL_METHOD {
                self.calls
                    .start(id, &params, &self.thread_id, &self.turn_id);
                let _ = events
                    .send(RunEvent::Item {
                        kind: method.to_string(),
                        data: params,
                    })
                    .await;
            } else {
                self.calls
                    .refuse(id, format!("openclaw does not handle `{method}`"));
            }
            return Step::Continue;
        }
        // Another turn on this thread is not ours.
        if let Some(t) = params.get("turnId").and_then(Value::as_str) {
            if t != self.turn_id {
                return Step::Continue;
            }
        }
        match method {
            "item/agentMessage/delta" => {
                let text = params
                    .get("delta")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !text.is_empty() {
                    self.deltas.push_str(text);
                    let _ = events
                        .send(RunEvent::Delta {
                            text: text.to_string(),
                        })
                        .await;
                }
            }
            "turn/completed" => {
                let turn = params.get("turn").cloned().unwrap_or(Value::Null);
                if turn
                    .get("id")
                    .and_then(Value::as_str)
                    .is_some_and(|id| id != self.turn_id)
                {
                    return Step::Continue;
                }
                return Step::Done(self.finish(&turn, None));
            }
            "error" => {
                let err = params.get("error").cloned().unwrap_or(Value::Null);
                let message = err
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("app-server error")
                    .to_string();
                if params
                    .get("willRetry")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
                {
                    let _ = events.send(RunEvent::Retrying { message }).await;
                } else {
                    self.last_error = Some(err);
                }
            }
            m if m.starts_with("item/") => {
                if m == "item/completed" {
                    let item = params.get("item");
                    if item.and_then(|i| i.get("type")).and_then(Value::as_str)
                        == Some("agentMessage")
                    {
                        if let Some(text) = item.and_then(|i| i.get("text")).and_then(Value::as_str)
                        {
                            self.last_message = Some(text.to_string());
                        }
                    }
                }
                let _ = events
                    .send(RunEvent::Item {
                        kind: m.to_string(),
                        data: params,
                    })
                    .await;
            }
            _ => {}
        }
        Step::Continue
    }

    fn finish(
        &mut self,
        turn: &Value,
        interrupted_as: Option<(FailureClass, &str, bool)>,
    ) -> Result<RunOutcome, RunError> {
        let status = turn.get("status").and_then(Value::as_str).unwrap_or("");
        match status {
            "completed" => Ok(RunOutcome {
                final_text: self
                    .last_message
                    .clone()
                    .unwrap_or_else(|| self.deltas.clone()),
                thread_id: self.thread_id.clone(),
                turn_id: self.turn_id.clone(),
                pid: self.pid,
            }),
            "interrupted" => {
                let (class, msg, retryable) = interrupted_as.unwrap_or((
                    FailureClass::Interrupted,
                    "the turn was interrupted by the app-server",
                    false,
                ));
                Err(RunError::new(class, msg, retryable))
            }
            _ => {
                let err = turn
                    .get("error")
                    .filter(|e| !e.is_null())
                    .or(self.last_error.as_ref());
                let mut e = classify_turn_error(err);
                if status != "failed" {
                    e.message = format!(
                        "turn ended with unexpected status `{status}`: {}",
                        e.message
                    );
                }
                Err(e)
            }
        }
    }

    /// Interrupts the turn. An unanswered interrupt marks the process wedged.
    #[allow(clippy::too_many_arguments)]
    async fn interrupt(
        &mut self,
        cfg: &PoolConfig,
        lease: &Lease,
        sub: &mut Subscription,
        events: &mpsc::Sender<RunEvent>,
        class: FailureClass,
        message: &str,
        retryable: bool,
    ) -> Result<RunOutcome, RunError> {
        let params = json!({"threadId": self.thread_id, "turnId": self.turn_id});
        let interrupted = lease
            .client()
            .request("turn/interrupt", params, cfg.interrupt_timeout)
            .await;
        // Only now answer the tool calls in flight: answered earlier, the task could finish
        // before the interrupt lands and the turn would end as if nothing happened.
        self.calls.close_and_wait(message).await;
        match interrupted {
            Ok(_) | Err(ClientError::Rpc { .. }) => {}
            Err(e @ ClientError::Timeout { .. }) => {
                lease.retire_wedged("`turn/interrupt` got no reply");
                return Err(RunError::new(
                    class,
                    format!("{message}; {e}; the process was retired"),
                    retryable,
                ));
            }
            Err(e) => {
                lease.retire();
                return Err(RunError::new(class, format!("{message}; {e}"), retryable));
            }
        }
        // Wait briefly for the terminal notification so the thread is idle for the next run.
        let now = Instant::now();
        let wait_until = now
            .checked_add(cfg.interrupt_timeout)
            .unwrap_or(now + Duration::from_secs(3600));
        loop {
            let n = tokio::select! {
                n = sub.recv() => n,
                _ = tokio::time::sleep_until(wait_until) => {
                    lease.retire_wedged("the interrupted turn never completed");
                    return Err(RunError::new(class, format!("{message}; the turn did not end after the interrupt, the process was retired"), retryable));
                }
            };
            let Some(n) = n else {
                return Err(RunError::new(class, message, retryable));
            };
            if n.method == "turn/completed" {
                let turn = n.params.get("turn").cloned().unwrap_or(Value::Null);
                return self.finish(&turn, Some((class, message, retryable)));
            }
            let _ = self.handle(n, events).await;
        }
    }
}
