//! Tool calls from inside a turn: a private Unix socket per turn that a task's
//! `openclaw-app-server tool <name> <json-args>` connects to. Each call is forwarded to the
//! client (the gateway) as the server request `item/tool/call`, and its answer goes back to the
//! caller.
//!
//! The socket lives in a fresh temp directory (0700) owned by the turn, is itself 0600, and
//! both disappear when the turn ends. Its path is exported to the task as
//! [`TOOL_SOCKET_ENV`]. Only turns on threads that declared `dynamicTools` get one.
//!
//! Line protocol on the socket, one JSON object each way:
//! - request `{"tool": "<name>", "arguments": <any JSON>}`;
//! - answer `{"ok": true, "result": {"contentItems": [...], "success": bool}}`, or
//!   `{"ok": false, "error": "<message>"}` when the call could not be made or was refused.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use crate::Out;

/// Environment variable holding the turn's tool socket path.
pub const TOOL_SOCKET_ENV: &str = "OPENCLAW_TOOL_SOCKET";
/// Environment variable holding the path of the `openclaw-app-server` binary.
pub const APP_SERVER_BIN_ENV: &str = "OPENCLAW_APP_SERVER_BIN";
/// Longest request line a tool client may send.
pub const MAX_TOOL_REQUEST_BYTES: u64 = 1024 * 1024;
/// Tool calls (connections) one turn serves at once; more are refused.
pub const MAX_TOOL_CONNECTIONS: usize = 16;

/// Server requests sent to the client and waiting for an answer.
#[derive(Debug, Default)]
pub(crate) struct PendingRequests {
    next_id: u64,
    waiting: HashMap<u64, oneshot::Sender<Result<Value, String>>>,
}

pub(crate) type SharedPending = Arc<Mutex<PendingRequests>>;

fn lock(p: &SharedPending) -> std::sync::MutexGuard<'_, PendingRequests> {
    p.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Hands a client reply (`{id, result|error}` without `method`) to the request waiting for it.
pub(crate) fn resolve(pending: &SharedPending, msg: &Value) {
    let Some(id) = msg.get("id").and_then(Value::as_u64) else {
        return;
    };
    let Some(tx) = lock(pending).waiting.remove(&id) else {
        return; // late (the caller gave up) or never ours
    };
    let reply = match msg.get("error") {
        Some(e) => Err(e
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("the client refused the tool call")
            .to_string()),
        None => Ok(msg.get("result").cloned().unwrap_or(Value::Null)),
    };
    let _ = tx.send(reply);
}

/// Removes a request's waiter when its caller goes away first.
struct Forget<'a> {
    pending: &'a SharedPending,
    id: u64,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        lock(self.pending).waiting.remove(&self.id);
    }
}

/// The names a thread declared in `thread/start`'s (or `thread/resume`'s) `dynamicTools`.
pub(crate) fn declared_tools(params: &Value) -> Result<Option<Vec<String>>, String> {
    let Some(list) = params.get("dynamicTools") else {
        return Ok(None);
    };
    if list.is_null() {
        return Ok(None);
    }
    let Some(list) = list.as_array() else {
        return Err("Invalid request: `dynamicTools` must be an array".into());
    };
    list.iter()
        .enumerate()
        .map(|(i, t)| {
            t.get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .ok_or_else(|| {
                    format!("Invalid request: `dynamicTools[{i}].name` must be a non-empty string")
                })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// A turn's private socket: the directory is removed when this is dropped.
#[derive(Debug)]
pub(crate) struct ToolEndpoint {
    /// Removed (with the socket) on drop.
    _dir: tempfile::TempDir,
    path: PathBuf,
    listener: UnixListener,
}

impl ToolEndpoint {
    /// Creates the directory (0700) and the socket (0600) in it.
    pub(crate) fn bind() -> std::io::Result<Self> {
        use std::os::unix::fs::PermissionsExt;
        static SWEPT: std::sync::Once = std::sync::Once::new();
        let prefix = format!("{DIR_PREFIX}{}-", std::process::id());
        let mut dir = tempfile::Builder::new().prefix(&prefix).tempdir()?;
        // Socket paths are limited to ~107 bytes; fall back to /tmp when TMPDIR is deep.
        if dir.path().as_os_str().len() > 80 {
            dir = tempfile::Builder::new()
                .prefix(&prefix)
                .tempdir_in("/tmp")?;
        }
        if let Some(parent) = dir.path().parent() {
            SWEPT.call_once(|| sweep_stale(parent));
        }
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
        let path = dir.path().join("tool.sock");
        let listener = UnixListener::bind(&path)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        Ok(Self {
            _dir: dir,
            path,
            listener,
        })
    }

    /// The socket path exported to the task.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// Tool socket directories are named `openclaw-tools-<pid>-<random>`.
const DIR_PREFIX: &str = "openclaw-tools-";

/// Removes tool directories left by embedded servers that died without cleaning up (kill -9).
/// A directory whose owner pid is still running is left alone.
fn sweep_stale(tmp: &Path) {
    // Liveness is read from /proc; without it, leave everything alone.
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(DIR_PREFIX)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let owned = std::fs::metadata(entry.path()).is_ok_and(|m| {
            use std::os::unix::fs::MetadataExt;
            m.is_dir() && m.uid() == current_uid()
        });
        if owned && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn current_uid() -> u32 {
    #[allow(unsafe_code)]
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe {
        libc::getuid()
    }
}

/// What a turn's tool server needs to forward calls.
#[derive(Debug, Clone)]
pub(crate) struct ToolContext {
    pub(crate) out: Out,
    pub(crate) pending: SharedPending,
    pub(crate) thread_id: String,
    pub(crate) turn_id: String,
    /// How long one call may wait for the client's answer.
    pub(crate) timeout: Duration,
}

/// Serves the turn's socket until dropped (the turn's end); connections end with it.
pub(crate) async fn serve(endpoint: &ToolEndpoint, ctx: ToolContext) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = endpoint.listener.accept() => match accepted {
                Ok((stream, _)) => {
                    if conns.len() >= MAX_TOOL_CONNECTIONS {
                        let msg = format!("too many tool calls in flight (at most {MAX_TOOL_CONNECTIONS} per turn)");
                        conns.spawn(refuse(stream, msg));
                        continue;
                    }
                    conns.spawn(call(stream, ctx.clone()));
                }
                Err(e) => {
                    tracing::warn!("tool socket accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn answer(stream: &mut UnixStream, v: Value) {
    let mut line = v.to_string();
    line.push('\n');
    let _ = stream.write_all(line.as_bytes()).await;
    let _ = stream.shutdown().await;
}

async fn refuse(mut stream: UnixStream, message: String) {
    answer(&mut stream, json!({"ok": false, "error": message})).await;
}

/// One connection = one tool call.
async fn call(stream: UnixStream, ctx: ToolContext) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut reader = BufReader::new(read.take(MAX_TOOL_REQUEST_BYTES + 1));
    let request = match reader.read_line(&mut line).await {
        Ok(_) if line.len() as u64 > MAX_TOOL_REQUEST_BYTES => Err(format!(
            "tool request longer than {MAX_TOOL_REQUEST_BYTES} bytes"
        )),
        Ok(_) => serde_json::from_str::<Value>(line.trim())
            .map_err(|e| format!("tool request is not JSON: {e}")),
        Err(e) => Err(format!("reading the tool request failed: {e}")),
    };
    let reply = match request {
        Ok(req) => forward(&ctx, &req).await,
        Err(e) => json!({"ok": false, "error": e}),
    };
    let mut text = reply.to_string();
    text.push('\n');
    let _ = write.write_all(text.as_bytes()).await;
    let _ = write.shutdown().await;
}

/// Sends `item/tool/call` to the client and waits for its answer.
async fn forward(ctx: &ToolContext, req: &Value) -> Value {
    let Some(tool) = req
        .get("tool")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    else {
        return json!({"ok": false, "error": "tool request has no `tool` name"});
    };
    let arguments = req.get("arguments").cloned().unwrap_or_else(|| json!({}));
    let call_id = crate::new_id("call");
    let (tx, rx) = oneshot::channel();
    let id = {
        let mut p = lock(&ctx.pending);
        let id = p.next_id;
        p.next_id += 1;
        p.waiting.insert(id, tx);
        id
    };
    let _forget = Forget {
        pending: &ctx.pending,
        id,
    };
    let item = |status: &str, extra: Value| {
        let mut item = json!({"type": "dynamicToolCall", "id": call_id, "tool": tool,
            "arguments": arguments, "status": status});
        if let (Some(item), Some(extra)) = (item.as_object_mut(), extra.as_object()) {
            item.extend(extra.clone());
        }
        json!({"threadId": ctx.thread_id, "turnId": ctx.turn_id, "item": item})
    };
    ctx.out
        .notify("item/started", item("inProgress", json!({})))
        .await;
    ctx.out
        .send(json!({"id": id, "method": "item/tool/call", "params": {
            "threadId": ctx.thread_id, "turnId": ctx.turn_id, "callId": call_id,
            "namespace": null, "tool": tool, "arguments": arguments}}))
        .await;
    let outcome = match tokio::time::timeout(ctx.timeout, rx).await {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => Err("the app-server stopped before the client answered".to_string()),
        Err(_) => Err(format!(
            "the client did not answer the tool call within {}s",
            ctx.timeout.as_secs()
        )),
    };
    match outcome {
        Ok(result) => {
            let success = result
                .get("success")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let status = if success { "completed" } else { "failed" };
            let extra = json!({"success": success, "contentItems": result.get("contentItems")});
            ctx.out.notify("item/completed", item(status, extra)).await;
            json!({"ok": true, "result": result})
        }
        Err(e) => {
            let extra = json!({"success": false, "error": e});
            ctx.out
                .notify("item/completed", item("failed", extra))
                .await;
            json!({"ok": false, "error": e})
        }
    }
}
