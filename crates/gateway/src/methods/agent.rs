//! Agent turns: `agent` (OpenClaw's CLI `openclaw agent`, answered twice) and `agent.wait`.

use crate::rpc::{CallCtx, MethodSpec};
use crate::state::GatewayState;
use crate::wire;
use openclaw_rs_protocol::methods::sessions::{
    AgentAccepted, AgentDone, AgentMeta, AgentOutput, AgentParams, AgentPayload, AgentReply,
    AgentWaitParams, RunResult,
};
use openclaw_rs_protocol::{scopes, ErrorCode, ErrorShape};
use openclaw_rs_sessions::{RunState, SendRequest};
use std::sync::Arc;
use std::time::Duration;

/// Default and maximum `agent.wait` timeout.
const DEFAULT_WAIT_MS: u64 = 30_000;
const MAX_WAIT_MS: u64 = 600_000;

pub(crate) fn specs() -> Vec<MethodSpec> {
    vec![MethodSpec::typed(agent_wait), MethodSpec::typed(agent_turn)]
}

async fn agent_wait(
    state: Arc<GatewayState>,
    _ctx: CallCtx,
    p: AgentWaitParams,
) -> Result<RunResult, ErrorShape> {
    let ms = p.timeout_ms.unwrap_or(DEFAULT_WAIT_MS).min(MAX_WAIT_MS);
    let snap = state
        .session_manager()?
        .wait(&p.run_id, Duration::from_millis(ms))
        .await
        .map_err(wire::error_shape)?;
    Ok(wire::run_result(&snap))
}

/// `agent {message, idempotencyKey, agentId?, sessionKey?, sessionId?, model?, timeout?}`:
/// OpenClaw's agent turn, as its CLI's `openclaw agent` sends it. The message goes to the session
/// like `chat.send`; the call is answered twice with the same id: `{status:"accepted", runId,
/// sessionKey, agentId}` at once, then, when the run ends, `{runId, status: ok|error|timeout,
/// summary, result:{payloads:[{text}]}}`. A retried key whose run is still going is answered
/// `status:"in_flight"`. Channel delivery (`deliver:true`) is refused: this gateway has no
/// channels. `/new` and `/reset` need `operator.admin` (OpenClaw's rule); everything else
/// `operator.write`.
async fn agent_turn(
    state: Arc<GatewayState>,
    ctx: CallCtx,
    p: AgentParams,
) -> Result<AgentReply, ErrorShape> {
    let reset = {
        let m = p.message.trim_start().to_ascii_lowercase();
        m == "/new" || m == "/reset" || m.starts_with("/new ") || m.starts_with("/reset ")
    };
    ctx.require_scope(if reset { scopes::ADMIN } else { scopes::WRITE })?;
    if p.deliver == Some(true) {
        return Err(ErrorShape::invalid_params(
            "agent",
            "`deliver:true` needs a delivery channel and this gateway has none; drop --deliver",
        ));
    }
    let agent_id = p.agent_id.map(String::from);
    let agent = agent_id.as_deref().unwrap_or("main");
    let session_key = match (p.session_key, p.session_id) {
        (Some(k), _) => wire::canonical_key(&k, agent_id.as_deref())?,
        // OpenClaw keys `--session-id X` as `agent:<agent>:explicit:X`.
        (None, Some(id)) if !id.is_empty() => {
            wire::canonical_key(&format!("agent:{agent}:explicit:{id}"), agent_id.as_deref())?
        }
        (None, _) => openclaw_rs_sessions::main_key(agent),
    };
    let timeout = p.timeout.filter(|s| *s > 0).map(Duration::from_secs);
    let req = SendRequest {
        session_key: session_key.clone(),
        message: p.message.into(),
        idempotency_key: Some(p.idempotency_key.into()),
        model: p.model,
        runtime: None,
        timeout,
        origin: Some(Arc::from(ctx.conn_id())),
    };
    let mgr = state.session_manager()?;
    let acc = mgr.send(req).await.map_err(wire::error_shape)?;
    // Every branch above yields a valid key.
    let agent = openclaw_rs_sessions::parse_key(&session_key)
        .map(|k| k.agent_id)
        .unwrap_or_else(|_| "main".into());
    if acc.duplicate && !acc.state.is_terminal() {
        let snap = mgr
            .wait(&acc.run_id, Duration::ZERO)
            .await
            .map_err(wire::error_shape)?;
        let mut run = wire::run_result(&snap);
        run.status = "in_flight".into();
        return Ok(AgentReply::Done(Box::new(AgentDone {
            run,
            summary: "already running".into(),
            agent_id: agent,
            result: None,
        })));
    }
    ctx.respond_interim(&AgentAccepted {
        run_id: acc.run_id.clone(),
        status: "accepted".into(),
        session_key: session_key.clone(),
        agent_id: agent.clone(),
        accepted_at: crate::base::now_ms(),
    });
    // Wait for the run's end in bounded slices; give up only if the caller went away.
    let snap = loop {
        let snap = mgr
            .wait(&acc.run_id, Duration::from_millis(DEFAULT_WAIT_MS))
            .await
            .map_err(wire::error_shape)?;
        if snap.state.is_terminal() {
            break snap;
        }
        if ctx.connection().is_closed() {
            return Err(ErrorShape::new(
                ErrorCode::Unavailable,
                "the caller disconnected; the run continues (agent.wait picks it up)",
            ));
        }
    };
    let summary = match snap.state {
        RunState::Completed => "completed",
        RunState::Aborted | RunState::Timeout => "aborted",
        _ => "failed",
    };
    let text = match (&snap.text, &snap.error) {
        (Some(t), _) if !t.is_empty() => Some(t.clone()),
        (_, Some(e)) => Some(e.clone()),
        _ => None,
    };
    let payloads = text
        .map(|text| AgentPayload {
            text,
            is_error: snap.state != RunState::Completed,
        })
        .into_iter()
        .collect();
    Ok(AgentReply::Done(Box::new(AgentDone {
        run: wire::run_result(&snap),
        summary: summary.into(),
        agent_id: agent,
        result: Some(AgentOutput {
            payloads,
            meta: AgentMeta {
                duration_ms: snap
                    .ended_at
                    .zip(snap.started_at)
                    .map(|(e, s)| e.saturating_sub(s)),
                run_status: snap.state.as_str().into(),
                error_class: snap.error_class,
            },
        }),
    })))
}
