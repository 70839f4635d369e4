//! Dynamic tools of a run: declared at `thread/start` (Codex's `dynamicTools`, each
//! `{name, description, inputSchema}`), called by the app-server with the server request
//! `item/tool/call {threadId, turnId, callId, namespace?, tool, arguments}`, and answered by the
//! run's [`ToolHandler`] with `{contentItems:[{type:"inputText", text}], success}`.
//!
//! Every call gets exactly one answer. A tool the run did not declare, a run without a handler, a
//! call for another turn, or more than [`MAX_CONCURRENT_TOOL_CALLS`] at once get a JSON-RPC error
//! reply. A handler error is a failed result (`success:false`, its message as the text). Calls
//! are bounded by the run's deadline and end with the run: whatever is still in flight then is
//! aborted and answered with an error.
//!
//! Real Codex accepts `thread/start.dynamicTools` only from clients that negotiated
//! `experimentalApi` at `initialize` ([`crate::ProcessKey::experimental_api`]); declare tools
//! only on processes started that way, or on runtimes that take them without it (the embedded
//! runtime does).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::client::{Client, CODE_NOT_HANDLED};

/// Tool calls one run may have in flight at once; more are refused with an error reply.
pub const MAX_CONCURRENT_TOOL_CALLS: usize = 8;

/// A tool declared to the app-server at `thread/start` (one `dynamicTools` entry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DynamicTool {
    /// Spec kind; Codex 0.169 requires `"type": "function"` on each plain tool.
    #[serde(rename = "type", default)]
    pub kind: DynamicToolKind,
    /// Name the model (or a task) calls it by.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// JSON Schema of its `arguments`.
    pub input_schema: Value,
}

impl DynamicTool {
    /// A plain function tool.
    pub fn function(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
    ) -> Self {
        Self {
            kind: DynamicToolKind::Function,
            name: name.into(),
            description: description.into(),
            input_schema,
        }
    }
}

/// The `type` of a [`DynamicTool`] (Codex also has `namespace` groups, which this crate does not
/// declare).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DynamicToolKind {
    /// A function the model calls with JSON arguments.
    #[default]
    Function,
}

/// One `item/tool/call` request, as handed to a [`ToolHandler`].
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// Thread of the calling run.
    pub thread_id: String,
    /// Turn of the calling run.
    pub turn_id: String,
    /// The app-server's id for this call.
    pub call_id: String,
    /// Tool namespace, when the app-server sends one.
    pub namespace: Option<String>,
    /// Tool name (one the run declared).
    pub tool: String,
    /// Arguments as sent (any JSON).
    pub arguments: Value,
}

/// What a tool produced: one text item and whether it succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput {
    /// The text handed back to the caller.
    pub text: String,
    /// `false`: the tool ran but failed (the text says why).
    pub success: bool,
}

impl ToolOutput {
    /// A successful result.
    pub fn ok(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            success: true,
        }
    }

    /// A failed result.
    pub fn failed(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            success: false,
        }
    }

    /// The `item/tool/call` result on the wire.
    pub fn to_wire(&self) -> Value {
        json!({
            "contentItems": [{"type": "inputText", "text": self.text}],
            "success": self.success,
        })
    }
}

/// A handler failure; answered as a failed result whose text is the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ToolError(pub String);

/// The future a [`ToolHandler`] returns.
pub type ToolFuture = Pin<Box<dyn Future<Output = Result<ToolOutput, ToolError>> + Send + 'static>>;

/// Runs the dynamic tools of one run. Called once per `item/tool/call`; calls may overlap.
/// The returned future is dropped (cancelled) when the run ends.
pub trait ToolHandler: Send + Sync + 'static {
    /// Runs `call.tool` with `call.arguments`.
    fn call(&self, call: ToolCall) -> ToolFuture;
}

/// The tools a run declares and the handler that answers their calls.
#[derive(Clone, Default)]
pub struct RunTools {
    /// Declared at `thread/start` (and `thread/resume`) as `dynamicTools`; empty: none sent.
    pub specs: Vec<DynamicTool>,
    /// Answers calls; `None`: every call gets an error reply.
    pub handler: Option<Arc<dyn ToolHandler>>,
}

impl std::fmt::Debug for RunTools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunTools")
            .field(
                "specs",
                &self
                    .specs
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("handler", &self.handler.is_some())
            .finish()
    }
}

impl RunTools {
    /// No tools.
    pub fn none() -> Self {
        Self::default()
    }

    /// `specs` answered by `handler`.
    pub fn new(specs: Vec<DynamicTool>, handler: Arc<dyn ToolHandler>) -> Self {
        Self {
            specs,
            handler: Some(handler),
        }
    }

    /// The `dynamicTools` param, when there is anything to declare.
    pub(crate) fn wire_specs(&self) -> Option<Value> {
        (!self.specs.is_empty()).then(|| json!(self.specs))
    }
}

type Reply = Result<Value, (i64, String)>;

/// The tool calls in flight for one run. Owned by the run; dropping it aborts the calls and
/// answers each with an error.
pub(crate) struct ToolCalls {
    tools: RunTools,
    client: Arc<Client>,
    deadline: Instant,
    set: JoinSet<Reply>,
    /// Task id → the server request id it answers.
    in_flight: HashMap<tokio::task::Id, Value>,
    /// Set once the run stops taking calls (the reason goes into the error replies).
    closed: Option<String>,
}

impl ToolCalls {
    pub(crate) fn new(tools: RunTools, client: Arc<Client>, deadline: Instant) -> Self {
        Self {
            tools,
            client,
            deadline,
            set: JoinSet::new(),
            in_flight: HashMap::new(),
            closed: None,
        }
    }

    pub(crate) fn refuse(&self, id: Value, message: String) {
        tracing::info!(%id, "refused a tool call: {message}");
        self.client.reply(id, Err((CODE_NOT_HANDLED, message)));
    }

    /// Starts one `item/tool/call` for the turn `turn_id`, or refuses it with an error reply.
    pub(crate) fn start(&mut self, id: Value, params: &Value, thread_id: &str, turn_id: &str) {
        if let Some(reason) = &self.closed {
            let msg = format!("the run no longer takes tool calls: {reason}");
            return self.refuse(id, msg);
        }
        let s = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_string);
        let tool = s("tool").unwrap_or_default();
        if let Some(t) = s("turnId").filter(|t| t != turn_id) {
            return self.refuse(
                id,
                format!("tool call for turn {t:?}, but the active turn is {turn_id:?}"),
            );
        }
        if !self.tools.specs.iter().any(|t| t.name == tool) {
            let declared: Vec<&str> = self.tools.specs.iter().map(|t| t.name.as_str()).collect();
            let msg = if declared.is_empty() {
                format!("unknown tool {tool:?}: this run declared no dynamic tools")
            } else {
                format!(
                    "unknown tool {tool:?}: this run declared {}",
                    declared.join(", ")
                )
            };
            return self.refuse(id, msg);
        }
        let Some(handler) = self.tools.handler.clone() else {
            return self.refuse(id, format!("no handler for tool {tool:?} in this run"));
        };
        if self.in_flight.len() >= MAX_CONCURRENT_TOOL_CALLS {
            return self.refuse(
                id,
                format!(
                    "too many tool calls in flight (at most {MAX_CONCURRENT_TOOL_CALLS} per run); retry when one finishes"
                ),
            );
        }
        let call = ToolCall {
            thread_id: thread_id.to_string(),
            turn_id: turn_id.to_string(),
            call_id: s("callId").unwrap_or_default(),
            namespace: s("namespace"),
            tool: tool.clone(),
            arguments: params.get("arguments").cloned().unwrap_or(Value::Null),
        };
        let deadline = self.deadline;
        let fut = handler.call(call);
        let handle = self.set.spawn(async move {
            let out = match tokio::time::timeout_at(deadline, fut).await {
                Ok(Ok(out)) => out,
                Ok(Err(e)) => ToolOutput::failed(e.0),
                Err(_) => ToolOutput::failed(format!(
                    "tool {tool:?} did not finish before the run's deadline"
                )),
            };
            Ok(out.to_wire())
        });
        self.in_flight.insert(handle.id(), id);
    }

    /// Waits for the next call to finish and answers it. Pending forever while none is in flight.
    pub(crate) async fn answer_next(&mut self) {
        if self.set.is_empty() {
            return std::future::pending().await;
        }
        let (task, reply) = match self.set.join_next_with_id().await {
            Some(Ok((task, reply))) => (task, reply),
            Some(Err(e)) => {
                let reply = Err((CODE_NOT_HANDLED, format!("the tool handler failed: {e}")));
                (e.id(), reply)
            }
            None => return,
        };
        if let Some(id) = self.in_flight.remove(&task) {
            self.client.reply(id, reply);
        }
    }

    /// Stops taking calls: aborts those in flight and answers each with an error naming `reason`.
    pub(crate) fn close(&mut self, reason: &str) {
        if self.closed.is_none() {
            self.closed = Some(reason.to_string());
        }
        self.set.abort_all();
        for (_, id) in self.in_flight.drain() {
            self.client.reply(
                id,
                Err((
                    CODE_NOT_HANDLED,
                    format!("the tool call was cancelled: {reason}"),
                )),
            );
        }
    }
}

impl ToolCalls {
    /// [`ToolCalls::close`], then waits until every aborted handler future has been dropped.
    pub(crate) async fn close_and_wait(&mut self, reason: &str) {
        self.close(reason);
        self.set.shutdown().await;
    }
}

impl Drop for ToolCalls {
    fn drop(&mut self) {
        self.close("the run ended before the tool call finished");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shapes_match_codex() {
        // Codex 0.169's DynamicToolSpec requires `type` (from `generate-json-schema --experimental`).
        let t = DynamicTool::function("sessions_spawn", "spawn", json!({"type": "object"}));
        let tools = RunTools {
            specs: vec![t],
            handler: None,
        };
        assert_eq!(
            tools.wire_specs().unwrap(),
            json!([{"type": "function", "name": "sessions_spawn", "description": "spawn", "inputSchema": {"type": "object"}}])
        );
        assert_eq!(RunTools::none().wire_specs(), None);
        assert_eq!(
            ToolOutput::failed("nope").to_wire(),
            json!({"contentItems": [{"type": "inputText", "text": "nope"}], "success": false})
        );
    }
}
