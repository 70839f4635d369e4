//! A fault-injecting fake of the Codex app-server (stdio JSON-RPC), for pool and run tests where
//! the real Codex cannot run (no network, no credentials) or cannot be made to fail on demand.
//!
//! The `fake-app-server` binary runs [`run`]. Behaviour is chosen per model so one shared process
//! can serve a healthy parent run, a failing helper and a sibling at once. Flags:
//!
//! | flag | effect |
//! |---|---|
//! | `--slow-start-ms N` | sleep before answering `initialize` |
//! | `--exit-on-start CODE` | write a line to stderr and exit before answering `initialize` |
//! | `--auth-fail-thread-model M` | `thread/start` with model M fails with a 401-shaped `-32600` error |
//! | `--auth-fail-turn-model M` | the turn fails like Codex on a bad key (`httpConnectionFailed{401}`) |
//! | `--rate-limit-model M` | the turn fails with `responseTooManyFailedAttempts{429}` |
//! | `--crash-model M` | the process exits (code 3) in the middle of the turn |
//! | `--hang-model M` | the turn never ends by itself (interrupt still works) |
//! | `--hang-interrupt` | `turn/interrupt` is never answered |
//! | `--hang-method METHOD` | requests of METHOD are never answered |
//! | `--garbage-model M` | the process writes a non-JSON line during the turn |
//! | `--gate-model M --gate-file PATH` | the turn streams `wait`, then completes (`done`) once PATH exists |
//! | `--slow-model M --slow-ms N` | the turn streams `Hel`, waits N ms, then `lo` |
//! | `--approval-model M` | the turn asks a command approval; final text is the decision received |
//! | `--overload-thread-start N` | the first N `thread/start` calls fail with `-32001` |
//!
//! Any other model streams `Hel`, `lo` and completes with `Hello`. The model `echo` streams the
//! task text back.

pub mod responses_mock;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Parsed fault flags.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// `--slow-start-ms`.
    pub slow_start_ms: u64,
    /// `--exit-on-start`.
    pub exit_on_start: Option<i32>,
    /// `--auth-fail-thread-model`.
    pub auth_fail_thread_model: Option<String>,
    /// `--auth-fail-turn-model`.
    pub auth_fail_turn_model: Option<String>,
    /// `--rate-limit-model`.
    pub rate_limit_model: Option<String>,
    /// `--crash-model`.
    pub crash_model: Option<String>,
    /// `--hang-model`.
    pub hang_model: Option<String>,
    /// `--hang-interrupt`.
    pub hang_interrupt: bool,
    /// `--hang-method`.
    pub hang_method: Option<String>,
    /// `--garbage-model`.
    pub garbage_model: Option<String>,
    /// `--gate-model`.
    pub gate_model: Option<String>,
    /// `--gate-file`.
    pub gate_file: Option<PathBuf>,
    /// `--approval-model`.
    pub approval_model: Option<String>,
    /// `--slow-model`.
    pub slow_model: Option<String>,
    /// `--slow-ms`.
    pub slow_ms: u64,
    /// `--overload-thread-start`.
    pub overload_thread_start: u64,
}

impl Faults {
    /// Parses the flags listed in the module docs.
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut f = Faults::default();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let mut value = || {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("flag {flag} needs a value"))
            };
            match flag.as_str() {
                "--slow-start-ms" => {
                    f.slow_start_ms = value()?.parse().map_err(|e| format!("{flag}: {e}"))?
                }
                "--exit-on-start" => {
                    f.exit_on_start = Some(value()?.parse().map_err(|e| format!("{flag}: {e}"))?)
                }
                "--auth-fail-thread-model" => f.auth_fail_thread_model = Some(value()?),
                "--auth-fail-turn-model" => f.auth_fail_turn_model = Some(value()?),
                "--rate-limit-model" => f.rate_limit_model = Some(value()?),
                "--crash-model" => f.crash_model = Some(value()?),
                "--hang-model" => f.hang_model = Some(value()?),
                "--hang-interrupt" => f.hang_interrupt = true,
                "--hang-method" => f.hang_method = Some(value()?),
                "--garbage-model" => f.garbage_model = Some(value()?),
                "--gate-model" => f.gate_model = Some(value()?),
                "--gate-file" => f.gate_file = Some(PathBuf::from(value()?)),
                "--approval-model" => f.approval_model = Some(value()?),
                "--slow-model" => f.slow_model = Some(value()?),
                "--slow-ms" => f.slow_ms = value()?.parse().map_err(|e| format!("{flag}: {e}"))?,
                "--overload-thread-start" => {
                    f.overload_thread_start =
                        value()?.parse().map_err(|e| format!("{flag}: {e}"))?
                }
                other => return Err(format!("unknown flag {other}")),
            }
        }
        Ok(f)
    }
}

#[derive(Debug, Clone)]
struct Out(mpsc::UnboundedSender<String>);

impl Out {
    fn send(&self, v: Value) {
        let _ = self.0.send(v.to_string());
    }
    fn raw(&self, s: &str) {
        let _ = self.0.send(s.to_string());
    }
    fn notify(&self, method: &str, params: Value) {
        self.send(json!({"method": method, "params": params}));
    }
}

#[derive(Debug, Default)]
struct State {
    initialized: bool,
    threads: HashMap<String, Option<String>>,
    turns: HashMap<String, (String, JoinHandle<()>)>,
    thread_starts: u64,
    server_requests: HashMap<i64, oneshot::Sender<Value>>,
}

type Shared = Arc<Mutex<State>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, State> {
    s.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

static IDS: AtomicU64 = AtomicU64::new(1);

fn next_id(prefix: &str) -> String {
    format!("{prefix}-{}", IDS.fetch_add(1, Ordering::Relaxed))
}

/// Runs the fake on stdin/stdout until stdin closes. Returns the exit code.
pub async fn run(args: Vec<String>) -> i32 {
    let faults = match Faults::parse(&args) {
        Ok(f) => Arc::new(f),
        Err(e) => {
            eprintln!("fake-app-server: {e}");
            return 2;
        }
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(mut line) = rx.recv().await {
            line.push('\n');
            if stdout.write_all(line.as_bytes()).await.is_err() || stdout.flush().await.is_err() {
                break;
            }
        }
    });
    let out = Out(tx);
    let state: Shared = Arc::default();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    eprintln!("fake-app-server: started (pid {})", std::process::id());
    while let Ok(Some(line)) = lines.next_line().await {
        let Ok(msg) = serde_json::from_str::<Value>(&line) else {
            eprintln!("fake-app-server: ignoring non-JSON input");
            continue;
        };
        handle(&faults, &state, &out, msg).await;
    }
    for (_, (_, task)) in lock(&state).turns.drain() {
        task.abort();
    }
    drop(out);
    let _ = writer.await;
    0
}

async fn handle(faults: &Arc<Faults>, state: &Shared, out: &Out, msg: Value) {
    let id = msg.get("id").cloned();
    let method = msg
        .get("method")
        .and_then(Value::as_str)
        .map(str::to_string);
    let params = msg.get("params").cloned().unwrap_or(Value::Null);
    let Some(method) = method else {
        // A reply to one of our server requests.
        if let Some(n) = id.as_ref().and_then(Value::as_i64) {
            if let Some(tx) = lock(state).server_requests.remove(&n) {
                let _ = tx.send(msg.get("result").cloned().unwrap_or(Value::Null));
            }
        }
        return;
    };
    let Some(id) = id else {
        return; // client notification (`initialized`)
    };
    if faults.hang_method.as_deref() == Some(method.as_str()) {
        return;
    }
    let error =
        |code: i64, message: &str| json!({"id": id, "error": {"code": code, "message": message}});
    if method == "initialize" {
        if let Some(code) = faults.exit_on_start {
            eprintln!("Error: fake startup failure requested (exit {code})");
            std::process::exit(code);
        }
        if faults.slow_start_ms > 0 {
            tokio::time::sleep(Duration::from_millis(faults.slow_start_ms)).await;
        }
        let mut s = lock(state);
        if s.initialized {
            out.send(error(-32600, "Already initialized"));
            return;
        }
        s.initialized = true;
        out.send(json!({"id": id, "result": {
            "userAgent": "fake_app_server/0.169.0-fake (Linux; x86_64) test (openclaw; 0.0.0)",
            "codexHome": std::env::var("CODEX_HOME").unwrap_or_default(),
            "platformFamily": "unix", "platformOs": "linux"}}));
        return;
    }
    if !lock(state).initialized {
        out.send(error(-32600, "Not initialized"));
        return;
    }
    match method.as_str() {
        "account/read" => {
            out.send(json!({"id": id, "result": {"account": null, "requiresOpenaiAuth": false}}))
        }
        // Two models, in two pages (so callers must follow `nextCursor`).
        "model/list" => {
            let page = match params.get("cursor").and_then(Value::as_str) {
                None => json!({"data": [{"id": "fake-model-a", "model": "fake-model-a",
                    "displayName": "Fake A", "isDefault": true, "inputModalities": ["text", "image"]}],
                    "nextCursor": "page-2"}),
                Some(_) => json!({"data": [{"id": "fake-model-b", "model": "fake-model-b",
                    "displayName": "Fake B", "isDefault": false}], "nextCursor": null}),
            };
            out.send(json!({"id": id, "result": page}))
        }
        "thread/start" | "thread/resume" => {
            let model = params
                .get("model")
                .and_then(Value::as_str)
                .map(str::to_string);
            let thread_id = if method == "thread/resume" {
                let Some(t) = params.get("threadId").and_then(Value::as_str) else {
                    out.send(error(-32600, "Invalid request: missing field `threadId`"));
                    return;
                };
                if !lock(state).threads.contains_key(t) {
                    out.send(error(
                        -32600,
                        &format!("no rollout found for thread id {t}"),
                    ));
                    return;
                }
                t.to_string()
            } else {
                let n = {
                    let mut s = lock(state);
                    s.thread_starts += 1;
                    s.thread_starts
                };
                if n <= faults.overload_thread_start {
                    out.send(error(-32001, "Server overloaded; retry later."));
                    return;
                }
                if model.is_some() && model == faults.auth_fail_thread_model {
                    out.send(json!({"id": id, "error": {"code": -32600,
                        "message": "unexpected status 401 Unauthorized: Invalid bearer token",
                        "data": {"codexErrorInfo": {"httpConnectionFailed": {"httpStatusCode": 401}}}}}));
                    return;
                }
                next_id("thr")
            };
            lock(state).threads.insert(thread_id.clone(), model.clone());
            let thread =
                json!({"id": thread_id, "model": model, "status": {"type": "idle"}, "turns": []});
            out.send(json!({"id": id, "result": {"thread": thread, "model": model}}));
            out.notify("thread/started", json!({"thread": thread}));
        }
        "turn/start" => {
            let Some(thread_id) = params
                .get("threadId")
                .and_then(Value::as_str)
                .map(str::to_string)
            else {
                out.send(error(-32600, "Invalid request: missing field `threadId`"));
                return;
            };
            let Some(thread_model) = lock(state).threads.get(&thread_id).cloned() else {
                out.send(error(-32600, &format!("thread not found: {thread_id}")));
                return;
            };
            let model = params
                .get("model")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or(thread_model);
            let task = params
                .get("input")
                .and_then(|i| i.get(0))
                .and_then(|i| i.get("text"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let turn_id = next_id("turn");
            // Like Codex, turn/started may precede the reply.
            out.notify(
                "turn/started",
                json!({"threadId": thread_id, "turn": {"id": turn_id, "status": "inProgress"}}),
            );
            out.send(json!({"id": id, "result": {"turn": {"id": turn_id, "status": "inProgress", "error": null}}}));
            let task = tokio::spawn(turn(
                faults.clone(),
                state.clone(),
                out.clone(),
                thread_id.clone(),
                turn_id.clone(),
                model,
                task,
            ));
            lock(state).turns.insert(turn_id, (thread_id, task));
        }
        "turn/interrupt" => {
            if faults.hang_interrupt {
                return;
            }
            let turn_id = params
                .get("turnId")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let found = lock(state).turns.remove(turn_id);
            match found {
                Some((thread_id, task)) => {
                    task.abort();
                    out.send(json!({"id": id, "result": {}}));
                    out.notify("turn/completed", json!({"threadId": thread_id, "turn": {"id": turn_id, "status": "interrupted", "error": null}}));
                }
                None => out.send(error(-32600, "no active turn to interrupt")),
            }
        }
        other => out.send(error(
            -32600,
            &format!("Invalid request: unknown variant `{other}`"),
        )),
    }
}

async fn turn(
    faults: Arc<Faults>,
    state: Shared,
    out: Out,
    thread_id: String,
    turn_id: String,
    model: Option<String>,
    task: String,
) {
    let is = |m: &Option<String>| model.is_some() && &model == m;
    let item_id = next_id("item");
    let delta = |text: &str| {
        out.notify(
            "item/agentMessage/delta",
            json!({"threadId": thread_id, "turnId": turn_id, "itemId": item_id, "delta": text}),
        )
    };
    let complete = |status: &str, error: Value| {
        out.notify(
            "turn/completed",
            json!({"threadId": thread_id, "turn": {"id": turn_id, "status": status, "error": error}}),
        )
    };
    let turn_error = |message: &str, info: Value| json!({"message": message, "codexErrorInfo": info, "additionalDetails": null});
    tokio::task::yield_now().await;
    let text: String = if is(&faults.auth_fail_turn_model) {
        let retry = turn_error(
            "Reconnecting... 1/1",
            json!({"responseStreamDisconnected": {"httpStatusCode": 401}}),
        );
        out.notify(
            "error",
            json!({"threadId": thread_id, "turnId": turn_id, "error": retry, "willRetry": true}),
        );
        let err = turn_error(
            "unexpected status 401 Unauthorized: Invalid bearer token, url: http://127.0.0.1/v1/responses",
            json!({"httpConnectionFailed": {"httpStatusCode": 401}}),
        );
        out.notify(
            "error",
            json!({"threadId": thread_id, "turnId": turn_id, "error": err, "willRetry": false}),
        );
        finish(&state, &turn_id);
        complete("failed", err);
        return;
    } else if is(&faults.rate_limit_model) {
        let err = turn_error(
            "exceeded retry limit, last status: 429 Too Many Requests",
            json!({"responseTooManyFailedAttempts": {"httpStatusCode": 429}}),
        );
        finish(&state, &turn_id);
        complete("failed", err);
        return;
    } else if is(&faults.crash_model) {
        delta("about to crash");
        tokio::time::sleep(Duration::from_millis(20)).await;
        eprintln!("fake-app-server: crashing mid-turn as requested");
        std::process::exit(3);
    } else if is(&faults.hang_model) {
        std::future::pending::<()>().await;
        return;
    } else if is(&faults.garbage_model) {
        out.raw("this is {not json");
        std::future::pending::<()>().await;
        return;
    } else if is(&faults.gate_model) {
        delta("wait");
        let Some(gate) = faults.gate_file.clone() else {
            eprintln!("fake-app-server: --gate-model needs --gate-file");
            std::process::exit(2);
        };
        while !gate.exists() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        delta(" done");
        "wait done".to_string()
    } else if is(&faults.approval_model) {
        let (tx, rx) = oneshot::channel();
        let req_id = 0;
        lock(&state).server_requests.insert(req_id, tx);
        out.send(
            json!({"id": req_id, "method": "item/commandExecution/requestApproval", "params": {
            "kind": "command", "threadId": thread_id, "turnId": turn_id, "itemId": item_id,
            "command": "/bin/sh -c 'echo hi'", "availableDecisions": ["accept", "cancel"]}}),
        );
        let reply = rx.await.unwrap_or(Value::Null);
        let decision = reply
            .get("decision")
            .and_then(Value::as_str)
            .unwrap_or("none")
            .to_string();
        delta(&decision);
        decision
    } else if is(&faults.slow_model) {
        delta("Hel");
        tokio::time::sleep(Duration::from_millis(faults.slow_ms)).await;
        delta("lo");
        "Hello".to_string()
    } else if model.as_deref() == Some("echo") {
        delta(&task);
        task.clone()
    } else {
        delta("Hel");
        delta("lo");
        "Hello".to_string()
    };
    out.notify(
        "item/completed",
        json!({"threadId": thread_id, "turnId": turn_id, "item": {"type": "agentMessage", "id": item_id, "text": text}}),
    );
    finish(&state, &turn_id);
    complete("completed", Value::Null);
}

fn finish(state: &Shared, turn_id: &str) {
    lock(state).turns.remove(turn_id);
}

/// Path of the built `fake-app-server` binary next to the running test executable
/// (`target/<profile>/`), with a clear message when it is missing.
pub fn binary_path() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let mut dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let path = dir.join("fake-app-server");
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build -p openclaw-rs-test-support --bin fake-app-server` (or `cargo build --workspace --bins`) first",
        path.display()
    );
    path
}
