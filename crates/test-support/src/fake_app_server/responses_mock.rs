//! A loopback mock of the OpenAI Responses API (`POST /v1/responses`, SSE), for driving the real
//! Codex app-server without network or credentials.
//!
//! The behaviour is chosen per request by the `model` in the JSON body (falling back to the
//! default): stream a message item with deltas "Hel" + "lo" and complete; answer 401 `invalid_api_key`; or stream "Hel" and
//! hold the rest until a gate opens (to keep a run in flight deterministically); or call the
//! `sessions_spawn` tool the request offers, then answer with the tool's output once the next
//! request carries it. Every request body is kept for the test to inspect.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the mock answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behavior {
    /// 200 SSE: created, output_item.added, content_part.added, output_text.delta "Hel", "lo",
    /// output_item.done "Hello", completed. (Without the `added` events Codex sends no deltas.)
    Hello,
    /// 401 with an OpenAI-style `invalid_api_key` body.
    Unauthorized,
    /// Like `Hello`, but waits for [`ResponsesMock::open_gate`] after the first delta.
    Gated,
    /// A model that uses the gateway's tool: the first request gets a `function_call` of the
    /// offered tool whose name contains `sessions_spawn`, with arguments
    /// [`SPAWN_TOOL_ARGUMENTS`]; a request that carries a `function_call_output` gets a message
    /// `"child said: <output>"`. With no such tool offered, the message says so.
    SpawnTool,
}

/// The arguments [`Behavior::SpawnTool`] calls `sessions_spawn` with: a child on the embedded
/// runtime whose output is `from-codex-child`, waited for.
pub const SPAWN_TOOL_ARGUMENTS: &str =
    r#"{"task":"echo from-codex-child","runtime":"embedded","wait":true}"#;

/// The running mock; stops when dropped.
#[derive(Debug)]
pub struct ResponsesMock {
    addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    bodies: Arc<Mutex<Vec<Value>>>,
    gate: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ResponsesMock {
    /// Starts on 127.0.0.1 with a default behaviour and per-model overrides.
    pub async fn start(
        default: Behavior,
        per_model: HashMap<String, Behavior>,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(AtomicUsize::new(0));
        let (gate, gate_rx) = watch::channel(false);
        let rules = Arc::new((default, per_model));
        let counter = requests.clone();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let seen = bodies.clone();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        conns.spawn(serve(stream, rules.clone(), counter.clone(), seen.clone(), gate_rx.clone()));
                    }
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
        });
        Ok(Self {
            addr,
            requests,
            bodies,
            gate,
            task,
        })
    }

    /// Base URL to configure as the provider's `base_url` (ends in `/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Number of `POST …/responses` requests served.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// The JSON bodies of the `POST …/responses` requests served so far, in arrival order.
    pub fn request_bodies(&self) -> Vec<Value> {
        self.bodies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Lets gated streams finish.
    pub fn open_gate(&self) {
        self.gate.send_replace(true);
    }
}

impl Drop for ResponsesMock {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn read_request(stream: &mut TcpStream) -> Option<(String, String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() > 1 << 20 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.lines();
    let mut first = lines.next()?.split_whitespace();
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let mut length = 0usize;
    let mut chunked = false;
    for line in lines {
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
    }
    let mut body = buf[head_end..].to_vec();
    if chunked {
        while find(&body, b"0\r\n\r\n").is_none() {
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        body = dechunk(&body);
    } else {
        while body.len() < length.min(64 << 20) {
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    Some((method, path, body))
}

fn dechunk(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = raw;
    while let Some(i) = find(rest, b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&rest[..i]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = i + 2;
        let end = (start + size).min(rest.len());
        out.extend_from_slice(&rest[start..end]);
        rest = rest.get(end + 2..).unwrap_or_default();
    }
    out
}

fn sse(event: &Value) -> String {
    let kind = event
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("message");
    format!("event: {kind}\ndata: {event}\n\n")
}

fn delta(text: &str) -> Value {
    json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": text})
}

async fn serve(
    mut stream: TcpStream,
    rules: Arc<(Behavior, HashMap<String, Behavior>)>,
    counter: Arc<AtomicUsize>,
    bodies: Arc<Mutex<Vec<Value>>>,
    mut gate: watch::Receiver<bool>,
) {
    let Some((method, path, body)) = read_request(&mut stream).await else {
        return;
    };
    if method != "POST" || !path.ends_with("/responses") {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await;
        return;
    }
    counter.fetch_add(1, Ordering::SeqCst);
    let parsed = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
    bodies
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(parsed.clone());
    let model = parsed
        .get("model")
        .and_then(Value::as_str)
        .map(str::to_string);
    let behavior = model
        .as_deref()
        .and_then(|m| rules.1.get(m).copied())
        .unwrap_or(rules.0);
    if behavior == Behavior::Unauthorized {
        let body = json!({"error": {"message": "Incorrect API key provided: sk-inval**lid.", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}).to_string();
        let resp = format!(
            "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(resp.as_bytes()).await;
        return;
    }
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n";
    let id = format!("resp_{}", counter.load(Ordering::SeqCst));
    if behavior == Behavior::SpawnTool {
        let out = format!("{head}{}", spawn_tool_events(&id, &parsed));
        let _ = stream.write_all(out.as_bytes()).await;
        let _ = stream.shutdown().await;
        return;
    }
    let mut out = String::from(head);
    out.push_str(&sse(
        &json!({"type": "response.created", "response": {"id": id}}),
    ));
    out.push_str(&sse(&json!({"type": "response.output_item.added", "output_index": 0, "item": {
        "type": "message", "role": "assistant", "id": "msg_1", "status": "in_progress", "content": []}})));
    out.push_str(&sse(
        &json!({"type": "response.content_part.added", "item_id": "msg_1", "output_index": 0,
        "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}}),
    ));
    out.push_str(&sse(&delta("Hel")));
    if stream.write_all(out.as_bytes()).await.is_err() {
        return;
    }
    let _ = stream.flush().await;
    if behavior == Behavior::Gated && gate.wait_for(|open| *open).await.is_err() {
        return;
    }
    let mut out = String::new();
    out.push_str(&sse(&delta("lo")));
    out.push_str(&sse(&json!({"type": "response.output_item.done", "item": {
        "type": "message", "role": "assistant", "id": "msg_1",
        "content": [{"type": "output_text", "text": "Hello"}]}})));
    out.push_str(&sse(
        &json!({"type": "response.completed", "response": {"id": id, "usage": {
        "input_tokens": 1, "input_tokens_details": null, "output_tokens": 1,
        "output_tokens_details": null, "total_tokens": 2}}}),
    ));
    let _ = stream.write_all(out.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// The SSE events of one [`Behavior::SpawnTool`] response to `request`.
fn spawn_tool_events(id: &str, request: &Value) -> String {
    let input = request.get("input").and_then(Value::as_array);
    let tool_output = input.and_then(|items| {
        items
            .iter()
            .rev()
            .find(|i| i.get("type").and_then(Value::as_str) == Some("function_call_output"))
    });
    let completed = json!({"type": "response.completed", "response": {"id": id, "usage": {
        "input_tokens": 1, "input_tokens_details": null, "output_tokens": 1,
        "output_tokens_details": null, "total_tokens": 2}}});
    let message = |text: &str| {
        let mut out = sse(&json!({"type": "response.created", "response": {"id": id}}));
        out.push_str(&sse(
            &json!({"type": "response.output_item.added", "output_index": 0,
            "item": {"type": "message", "role": "assistant", "id": "msg_1",
            "status": "in_progress", "content": []}}),
        ));
        out.push_str(&sse(
            &json!({"type": "response.content_part.added", "item_id": "msg_1",
            "output_index": 0, "content_index": 0,
            "part": {"type": "output_text", "text": "", "annotations": []}}),
        ));
        out.push_str(&sse(&delta(text)));
        out.push_str(&sse(
            &json!({"type": "response.output_item.done", "output_index": 0,
            "item": {"type": "message", "role": "assistant", "id": "msg_1",
            "content": [{"type": "output_text", "text": text}]}}),
        ));
        out.push_str(&sse(&completed));
        out
    };
    if let Some(done) = tool_output {
        let output = match done.get("output") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        return message(&format!("child said: {output}"));
    }
    let tool = request
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("name").and_then(Value::as_str))
        .find(|name| name.contains("sessions_spawn"));
    let Some(tool) = tool else {
        return message("no sessions_spawn tool was offered");
    };
    let item = json!({"type": "function_call", "id": "fc_1", "call_id": "call_spawn_1",
        "name": tool, "arguments": SPAWN_TOOL_ARGUMENTS, "status": "completed"});
    let mut out = sse(&json!({"type": "response.created", "response": {"id": id}}));
    out.push_str(&sse(
        &json!({"type": "response.output_item.added", "output_index": 0,
        "item": {"type": "function_call", "id": "fc_1", "call_id": "call_spawn_1",
        "name": tool, "arguments": "", "status": "in_progress"}}),
    ));
    out.push_str(&sse(
        &json!({"type": "response.output_item.done", "output_index": 0,
        "item": item}),
    ));
    out.push_str(&sse(&completed));
    out
}
