//! Tools the gateway offers to the runs it executes (app-server dynamic tools), answered in
//! process. `sessions_spawn` spawns a subagent through the run's [`SpawnHandle`]: the parent is
//! the running session, the session limits apply, and nothing logs in over WebSocket — so a
//! subagent can never meet "pairing required" or "device token mismatch" (seed 004).
//!
//! `sessions_spawn {task, model?, runtime?, label?, agentId?, runTimeoutSeconds?, cleanup?,
//! wait?}` answers with one JSON text: `{status:"accepted", runId, childSessionKey}`, or with
//! `wait:true` the child's end `{status:"completed", runId, childSessionKey, text}` (waiting at
//! most until shortly before the parent's own deadline). A refused spawn (a limit, bad
//! arguments) or a child that did not complete is a failed result whose JSON says why, e.g.
//! `{status:"forbidden", code:"LIMIT_EXCEEDED", setting:"session.maxSpawnDepth", error}`.

use openclaw_rs_app_server::{
    DynamicTool, ToolCall, ToolError, ToolFuture, ToolHandler, ToolOutput,
};
use openclaw_rs_sessions::{Cleanup, RunState, SessionError, SpawnHandle, SpawnRequest};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::time::Instant;

/// The in-process spawn tool.
pub(crate) const SESSIONS_SPAWN: &str = "sessions_spawn";

/// How long before the parent's deadline a `wait:true` gives up, so the answer still reaches
/// the parent's task before its turn is interrupted.
const WAIT_MARGIN: Duration = Duration::from_secs(2);

/// The tools declared to every run on a runtime that takes dynamic tools.
pub(crate) fn specs() -> Vec<DynamicTool> {
    vec![DynamicTool::function(
        SESSIONS_SPAWN,
        "Spawn a subagent session that runs `task` as a child of this session. \
            Returns {status, runId, childSessionKey}; with wait:true, waits for the child and \
            returns its final text.",
        json!({
            "type": "object",
            "properties": {
                "task": {"type": "string", "description": "What the subagent should do."},
                "model": {"type": "string"},
                "runtime": {"type": "string"},
                "label": {"type": "string"},
                "agentId": {"type": "string"},
                "runTimeoutSeconds": {"type": "integer", "minimum": 1},
                "cleanup": {"type": "string", "enum": ["keep", "delete"]},
                "wait": {"type": "boolean", "description": "Wait for the child's result."}
            },
            "required": ["task"],
            "additionalProperties": false
        }),
    )]
}

/// Answers one run's tool calls.
#[derive(Debug)]
pub(crate) struct RunToolHandler {
    spawner: SpawnHandle,
    /// The parent run's deadline (bounds `wait:true`).
    deadline: Instant,
}

impl RunToolHandler {
    pub(crate) fn new(spawner: SpawnHandle, deadline: Instant) -> Self {
        Self { spawner, deadline }
    }
}

impl ToolHandler for RunToolHandler {
    fn call(&self, call: ToolCall) -> ToolFuture {
        let spawner = self.spawner.clone();
        let deadline = self.deadline;
        Box::pin(async move {
            match call.tool.as_str() {
                SESSIONS_SPAWN => Ok(sessions_spawn(&spawner, deadline, &call.arguments).await),
                other => Err(ToolError(format!(
                    "the gateway has no tool {other:?} (it offers {SESSIONS_SPAWN})"
                ))),
            }
        })
    }
}

struct SpawnArgs {
    req: SpawnRequest,
    wait: bool,
}

fn invalid(msg: impl Into<String>) -> String {
    format!("invalid {SESSIONS_SPAWN} arguments: {}", msg.into())
}

fn parse(args: &Value) -> Result<SpawnArgs, String> {
    let obj = args
        .as_object()
        .ok_or_else(|| invalid("pass a JSON object such as {\"task\":\"echo hi\"}"))?;
    const KNOWN: [&str; 8] = [
        "task",
        "model",
        "runtime",
        "label",
        "agentId",
        "runTimeoutSeconds",
        "cleanup",
        "wait",
    ];
    if let Some(k) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(invalid(format!(
            "unknown field `{k}` (known: {})",
            KNOWN.join(", ")
        )));
    }
    let opt_str = |name: &str| -> Result<Option<String>, String> {
        match obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(invalid(format!("`{name}` must be a string"))),
        }
    };
    let task = opt_str("task")?.ok_or_else(|| invalid("`task` (string) is required"))?;
    let wait = match obj.get("wait") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("`wait` must be true or false")),
    };
    let run_timeout = match obj.get("runTimeoutSeconds") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(0) | None => {
                return Err(invalid(
                    "`runTimeoutSeconds` must be a whole number of seconds ≥ 1",
                ))
            }
            Some(s) => Some(Duration::from_secs(s)),
        },
    };
    let cleanup = match opt_str("cleanup")?.as_deref() {
        None | Some("keep") => Cleanup::Keep,
        Some("delete") => Cleanup::Delete,
        Some(other) => {
            return Err(invalid(format!(
                "`cleanup` must be \"keep\" or \"delete\", not {other:?}"
            )))
        }
    };
    Ok(SpawnArgs {
        req: SpawnRequest {
            task,
            agent_id: opt_str("agentId")?,
            model: opt_str("model")?,
            runtime: opt_str("runtime")?,
            label: opt_str("label")?,
            run_timeout,
            cleanup,
            // Forced to the running session by the handle.
            parent_session_key: None,
            origin: None,
            // Derived by the handle from the calling run, so a re-run finds its children.
            idempotency_key: None,
        },
        wait,
    })
}

/// A refused spawn as a failed result; limits name their setting.
fn refusal(e: SessionError) -> ToolOutput {
    let body = match &e {
        SessionError::Limit(v) => json!({
            "status": "forbidden",
            "code": "LIMIT_EXCEEDED",
            "limit": v.kind.as_str(),
            "setting": v.kind.setting(),
            "value": v.value,
            "max": v.max,
            "error": v.to_string(),
        }),
        SessionError::Unavailable(_) | SessionError::Storage(_) => {
            json!({"status": "unavailable", "retryable": true, "error": e.to_string()})
        }
        _ => json!({"status": "invalid", "error": e.to_string()}),
    };
    ToolOutput::failed(body.to_string())
}

async fn sessions_spawn(spawner: &SpawnHandle, deadline: Instant, args: &Value) -> ToolOutput {
    let SpawnArgs { req, wait } = match parse(args) {
        Ok(a) => a,
        Err(msg) => {
            return ToolOutput::failed(json!({"status": "invalid", "error": msg}).to_string())
        }
    };
    let acc = match spawner.spawn(req).await {
        Ok(a) => a,
        Err(e) => {
            tracing::info!(parent = spawner.parent(), error = %e, "in-run spawn refused");
            return refusal(e);
        }
    };
    tracing::info!(
        parent = spawner.parent(),
        child = %acc.child_session_key,
        run_id = %acc.run_id,
        wait,
        "subagent spawned from inside a run"
    );
    let mut body = json!({"runId": acc.run_id, "childSessionKey": acc.child_session_key});
    if acc.duplicate {
        // A re-run of this run asked again: the child made the first time answers.
        body["duplicate"] = json!(true);
    }
    if !wait {
        body["status"] = json!("accepted");
        return ToolOutput::ok(body.to_string());
    }
    let budget = deadline
        .checked_duration_since(Instant::now())
        .unwrap_or_default()
        .saturating_sub(WAIT_MARGIN);
    let snap = match spawner.wait(&acc.run_id, budget).await {
        Ok(s) => s,
        Err(e) => {
            body["status"] = json!("unknown");
            body["error"] = json!(format!("waiting for the child failed: {e}"));
            return ToolOutput::failed(body.to_string());
        }
    };
    body["status"] = json!(snap.state.as_str());
    if let Some(t) = &snap.text {
        body["text"] = json!(t);
    }
    match snap.state {
        RunState::Completed => ToolOutput::ok(body.to_string()),
        s if !s.is_terminal() => {
            body["waitTimedOut"] = json!(true);
            body["error"] = json!(
                "the child was still running when this run's deadline came near; its result will be announced to this session"
            );
            ToolOutput::failed(body.to_string())
        }
        _ => {
            if let Some(e) = &snap.error {
                body["error"] = json!(e);
            }
            if let Some(c) = snap.error_class {
                body["errorClass"] = json!(c);
            }
            ToolOutput::failed(body.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_checked_with_clear_errors() {
        let a = parse(&json!({"task": "echo hi", "wait": true, "label": "l"})).unwrap();
        assert_eq!(a.req.task, "echo hi");
        assert!(a.wait);
        assert_eq!(a.req.label.as_deref(), Some("l"));
        let e = parse(&json!({"wait": true})).err().unwrap();
        assert_eq!(
            e,
            "invalid sessions_spawn arguments: `task` (string) is required"
        );
        let e = parse(&json!({"task": "x", "parentSessionKey": "agent:main:main"}))
            .err()
            .unwrap();
        assert!(e.contains("unknown field `parentSessionKey`"), "{e}");
        let e = parse(&json!("echo hi")).err().unwrap();
        assert!(e.contains("JSON object"), "{e}");
        let e = parse(&json!({"task": "x", "wait": "yes"})).err().unwrap();
        assert!(e.contains("`wait` must be true or false"), "{e}");
        let e = parse(&json!({"task": "x", "runTimeoutSeconds": 0}))
            .err()
            .unwrap();
        assert!(e.contains("runTimeoutSeconds"), "{e}");
    }

    #[test]
    fn limits_are_failed_results_naming_the_setting() {
        let out = refusal(SessionError::Limit(openclaw_rs_sessions::LimitViolation {
            kind: openclaw_rs_sessions::LimitKind::SpawnDepth,
            value: 2,
            max: 1,
        }));
        assert!(!out.success);
        let v: Value = serde_json::from_str(&out.text).unwrap();
        assert_eq!(v["setting"], "session.maxSpawnDepth");
        assert_eq!(v["code"], "LIMIT_EXCEEDED");
        assert!(v["error"]
            .as_str()
            .unwrap()
            .contains("session.maxSpawnDepth = 1"));
    }
}
