//! Wire conversion: the gateway's internal types (auth events, session snapshots, run
//! results, reload state) into the typed protocol payloads of `openclaw_rs_protocol`.
//!
//! **Architecture Invariant:** the other crates' types never reach the socket as they are;
//! every payload is a protocol type built here or in a handler.

use openclaw_rs_auth::AuthEvent;
use openclaw_rs_protocol::methods::devices::{
    DeviceTokenInfo, PairRequested, PairResolved, PairedDevice, PendingPairing,
};
use openclaw_rs_protocol::methods::events::ConfigChanged;
use openclaw_rs_protocol::methods::sessions::{
    AgentEvent, ChatBody, ChatEvent, ChatMessage, ErrorDetail, HistoryMessage, RunResult,
    SessionRow, SessionsChanged, TextContent, TranscriptMeta,
};
use openclaw_rs_protocol::{ErrorCode, ErrorShape};
use openclaw_rs_sessions::SessionError;
use openclaw_rs_sessions::{
    ChatState, FailureClass, RunSnapshot, RunState, SessionEvent, SessionInfo, TranscriptEntry,
};
use serde_json::json;

/// An auth event as one of the protocol's event payloads.
#[derive(Debug)]
pub enum AuthWireEvent {
    /// `device.pair.requested`.
    Requested(PairRequested),
    /// `device.pair.resolved`.
    Resolved(PairResolved),
}

/// `device.pair.requested` / `device.pair.resolved`.
pub fn auth_event(ev: &AuthEvent) -> AuthWireEvent {
    match ev {
        AuthEvent::PairRequested(e) => AuthWireEvent::Requested(PairRequested {
            request_id: e.request_id.clone(),
            device_id: e.device_id.clone(),
            public_key: e.public_key.clone(),
            platform: e.platform.clone(),
            device_family: e.device_family.clone(),
            client_id: e.client_id.clone(),
            client_mode: e.client_mode.clone(),
            role: e.role.clone(),
            roles: e.roles.clone(),
            scopes: e.scopes.clone(),
            remote_ip: e.remote_ip.clone(),
            silent: e.silent,
            is_repair: e.is_repair,
            ts: e.ts,
        }),
        AuthEvent::PairResolved(e) => AuthWireEvent::Resolved(PairResolved {
            request_id: e.request_id.clone(),
            device_id: e.device_id.clone(),
            decision: e.decision.clone(),
            ts: e.ts,
        }),
    }
}

/// `status.reload`.
pub fn reload_status(
    st: &openclaw_rs_reload::ReloadStatus,
    restart: Option<&crate::reload::intent::RestartIntent>,
) -> openclaw_rs_protocol::methods::gateway::ReloadStatus {
    openclaw_rs_protocol::methods::gateway::ReloadStatus {
        config_path: st.path.display().to_string(),
        hash: st.hash.clone(),
        last_applied_at_ms: st.last_applied_at_ms,
        last_changed_paths: st.last_changed_paths.clone(),
        last_error: st.last_error.as_ref().map(|e| {
            openclaw_rs_protocol::methods::gateway::ConfigError {
                message: e.message.clone(),
                at_ms: e.at_ms,
                path: e.path.display().to_string(),
                hash: e.hash.clone(),
            }
        }),
        warnings: st.warnings.clone(),
        pending_restart_paths: st.pending_restart.clone(),
        apply_disabled: st.apply_disabled,
        restart: restart.map(restart_intent),
    }
}

/// A restart intent as `status`, `gateway.restart.*` and `doctor` show it.
pub fn restart_intent(
    r: &crate::reload::intent::RestartIntent,
) -> openclaw_rs_protocol::methods::gateway::RestartIntent {
    openclaw_rs_protocol::methods::gateway::RestartIntent {
        who: r.who.clone(),
        reason: r.reason.clone(),
        paths: r.paths.clone(),
        requested_at_ms: r.requested_at_ms,
        deadline_ms: r.deadline_ms,
        force: r.force,
        explicit: r.explicit,
        phase: r.phase.to_owned(),
    }
}

/// `config.changed` for an applied edit.
pub fn config_applied(a: &openclaw_rs_reload::Applied) -> ConfigChanged {
    ConfigChanged {
        path: a.path.display().to_string(),
        hash: a.hash.clone(),
        ts: a.ts,
        changed_paths: a.changed_paths.clone(),
        applied: !a.apply_disabled,
        error: None,
        actions: hot_actions(&a.plan.actions),
        pending_restart: a.pending_restart.clone(),
        warnings: a.warnings.clone(),
        restart_cancelled: a.restart_cancelled,
    }
}

/// `config.changed` for a refused edit.
pub fn config_rejected(r: &openclaw_rs_reload::Rejected) -> ConfigChanged {
    ConfigChanged {
        path: r.path.display().to_string(),
        hash: r.hash.clone(),
        ts: r.ts,
        changed_paths: Vec::new(),
        applied: false,
        error: Some(r.error.clone()),
        actions: Vec::new(),
        pending_restart: Vec::new(),
        warnings: Vec::new(),
        restart_cancelled: false,
    }
}

/// Hot action names.
pub fn hot_actions<'a>(
    actions: impl IntoIterator<Item = &'a openclaw_rs_reload::HotAction>,
) -> Vec<String> {
    actions.into_iter().map(|a| a.as_str().to_owned()).collect()
}

/// A session event as one of the protocol's event payloads.
#[derive(Debug)]
pub enum SessionWireEvent {
    /// A `chat` event.
    Chat(ChatEvent),
    /// An `agent` event.
    Agent(AgentEvent),
    /// A `sessions.changed` event.
    Changed(Box<SessionsChanged>),
}

/// OpenClaw's `chat` status phases; other phases of ours travel as `agent` `run_status` events.
const CHAT_PHASES: &[&str] = &[
    "preparing_workspace",
    "naming_worktree",
    "creating_worktree",
    "running_setup",
    "provisioning_environment",
    "preparing_context",
    "memory_flushing",
    "starting_model",
];

/// `phase` of an `agent` `run_status` event.
#[derive(Debug, serde::Serialize)]
struct RunStatusData<'a> {
    phase: &'a str,
}

/// A session event on the wire: `chat`, `agent` or `sessions.changed`.
pub fn session_event(ev: &SessionEvent) -> SessionWireEvent {
    match ev {
        SessionEvent::Chat(c) => chat_event(c),
        SessionEvent::Agent(a) => SessionWireEvent::Agent(AgentEvent {
            run_id: a.run_id.clone(),
            seq: a.seq,
            stream: a.stream.clone(),
            ts: a.ts,
            spawned_by: None,
            data: a.data.clone(),
            session_key: a.session_key.clone(),
            agent_id: a.agent_id.clone(),
        }),
        SessionEvent::Changed(c) => SessionWireEvent::Changed(Box::new(SessionsChanged {
            session_key: c.session_key.clone(),
            agent_id: c.session.agent_id.clone(),
            reason: c.reason.to_owned(),
            run_id: c.run_id.clone(),
            ts: c.ts,
            session: session_row(&c.session),
        })),
    }
}

fn chat_event(c: &openclaw_rs_sessions::ChatEvent) -> SessionWireEvent {
    let body = match c.state {
        ChatState::Status => {
            // Our run starting is OpenClaw's `starting_model`; our other phases (`queued`, …)
            // have no `chat` phase and go out as `agent` `run_status`.
            let phase = match c.phase.as_deref() {
                Some("started") => "starting_model",
                Some(p) if CHAT_PHASES.contains(&p) => p,
                other => {
                    let phase = other.unwrap_or("unknown");
                    return SessionWireEvent::Agent(AgentEvent {
                        run_id: c.run_id.clone(),
                        seq: c.seq,
                        stream: "run_status".into(),
                        ts: crate::base::now_ms(),
                        spawned_by: c.spawned_by.clone(),
                        data: serde_json::to_value(RunStatusData { phase }).unwrap_or_default(),
                        session_key: c.session_key.clone(),
                        agent_id: c.agent_id.clone(),
                    });
                }
            };
            ChatBody::Status {
                phase: phase.to_owned(),
            }
        }
        ChatState::Delta => ChatBody::Delta {
            delta_text: c.delta_text.clone().unwrap_or_default(),
        },
        ChatState::Final => ChatBody::Final {
            message: ChatMessage {
                role: "assistant".into(),
                content: vec![TextContent::new(c.message.clone().unwrap_or_default())],
                command: false,
                idempotency_key: Some(c.run_id.clone()),
            },
            stop_reason: None,
        },
        ChatState::Aborted => ChatBody::Aborted {
            error_message: c.error_message.clone(),
            stop_reason: c.run_state.and_then(stop_reason).map(str::to_owned),
        },
        ChatState::Error => ChatBody::Error {
            error_message: c.error_message.clone(),
            error_kind: Some(
                match c.error_class {
                    Some(FailureClass::RateLimit) => "rate_limit",
                    Some(FailureClass::Timeout) => "timeout",
                    _ => "unknown",
                }
                .into(),
            ),
            error_detail: c.error_class.map(|k| ErrorDetail {
                provider_runtime_failure_kind: k.as_str().to_owned(),
            }),
            stop_reason: c.run_state.and_then(stop_reason).map(str::to_owned),
        },
    };
    SessionWireEvent::Chat(ChatEvent {
        run_id: c.run_id.clone(),
        session_key: c.session_key.clone(),
        agent_id: c.agent_id.clone(),
        spawned_by: c.spawned_by.clone(),
        seq: c.seq,
        body,
    })
}

/// OpenClaw's `stopReason` for runs that did not complete normally.
fn stop_reason(s: RunState) -> Option<&'static str> {
    match s {
        RunState::Aborted => Some("aborted"),
        RunState::Timeout => Some("timeout"),
        RunState::Interrupted => Some("interrupted"),
        _ => None,
    }
}

/// The row of a top-level session that has no message yet (it is created on first use).
pub fn unstarted_row(key: &str, parsed: &openclaw_rs_sessions::ParsedKey) -> SessionRow {
    let main = parsed.kind == openclaw_rs_sessions::KeyKind::Main;
    SessionRow {
        key: key.to_owned(),
        kind: "direct".into(),
        classification: if main { "main" } else { "named" }.into(),
        agent_id: parsed.agent_id.clone(),
        is_main: main,
        created_via: "operator".into(),
        ..SessionRow::default()
    }
}

/// One session row (OpenClaw's `SessionRowSchema` plus our run-queue fields).
pub fn session_row(s: &SessionInfo) -> SessionRow {
    let status = if s.running_run_id.is_some() {
        Some("running")
    } else if s.queued > 0 {
        Some("queued")
    } else {
        s.last_run_state.map(|r| match r {
            RunState::Queued => "queued",
            RunState::Running => "running",
            RunState::Completed => "done",
            RunState::Failed | RunState::Interrupted => "failed",
            RunState::Aborted => "killed",
            RunState::Timeout => "timeout",
        })
    };
    let main = s.depth == 0;
    let classification = match s.kind {
        openclaw_rs_sessions::KeyKind::Main => "main",
        openclaw_rs_sessions::KeyKind::Named => "named",
        openclaw_rs_sessions::KeyKind::Subagent => "subagent",
    };
    SessionRow {
        key: s.key.clone(),
        kind: "direct".into(),
        classification: classification.into(),
        agent_id: s.agent_id.clone(),
        is_main: s.kind == openclaw_rs_sessions::KeyKind::Main,
        is_background: !main,
        label: s.label.clone(),
        created_at: Some(s.created_at),
        updated_at: Some(s.updated_at),
        created_via: if main { "operator" } else { "spawn" }.into(),
        status: status.map(str::to_owned),
        last_run_id: s.last_run_id.clone(),
        spawned_by: s.spawned_by.clone(),
        parent_session_key: s.spawned_by.clone(),
        spawn_depth: s.depth,
        running_run_id: s.running_run_id.clone(),
        queued: s.queued,
        children: s.children,
        pending_announces: s.pending_announces,
        last_run_status: s.last_run_state.map(|r| r.as_str().to_owned()),
        // Filled from the agent's settings by the methods that have the config.
        model: None,
        model_provider: None,
    }
}

/// A run as `agent.wait` reports it: OpenClaw's wait vocabulary in `status` (`ok`, `error`,
/// `timeout`, `pending` for a run still queued, plus `stopReason`) and our run state in
/// `runStatus`; `waitTimedOut` when the wait ended before the run did.
pub fn run_result(snap: &RunSnapshot) -> RunResult {
    let status = match snap.state {
        RunState::Queued => "pending",
        RunState::Running | RunState::Timeout => "timeout",
        RunState::Completed => "ok",
        RunState::Failed | RunState::Aborted | RunState::Interrupted => "error",
    };
    let ended = snap.state.is_terminal();
    RunResult {
        run_id: snap.run_id.clone(),
        session_key: snap.session_key.clone(),
        status: status.into(),
        stop_reason: stop_reason(snap.state).map(str::to_owned),
        run_status: snap.state.as_str().into(),
        attempts: snap.attempts,
        created_at: snap.created_at,
        started_at: snap.started_at,
        ended_at: snap.ended_at,
        text: snap.text.clone(),
        error: snap.error.clone(),
        error_class: snap.error_class,
        retryable: snap.retryable,
        spawned_by: snap.spawned_by.clone(),
        wait_timed_out: !ended,
        timeout_phase: (snap.state == RunState::Queued).then(|| "queue".to_owned()),
    }
}

/// One transcript message of `chat.history`.
pub fn history_message(e: &TranscriptEntry) -> HistoryMessage {
    HistoryMessage {
        role: e.role.to_owned(),
        content: vec![TextContent::new(e.text.clone())],
        timestamp: e.ts,
        run_id: e.run_id.clone(),
        status: e.state.map(|s| s.as_str().to_owned()),
        error_class: e.error_class,
        child_session_key: e.child_session_key.clone(),
        announce_id: e.announce_id.clone(),
        openclaw: TranscriptMeta {
            id: format!("{}#{}", e.run_id, e.seq),
            seq: e.seq,
            idempotency_key: match e.role {
                "user" => Some(format!("{}:user", e.run_id)),
                "assistant" => Some(e.run_id.clone()),
                _ => None,
            },
        },
    }
}

/// A paired device as `device.pair.*` show it: its tokens by role, never their hashes.
pub fn paired_device(d: &openclaw_rs_auth::store::PairedDevice) -> PairedDevice {
    PairedDevice {
        device_id: d.device_id.clone(),
        public_key: d.public_key.clone(),
        display_name: d.display_name.clone(),
        platform: d.platform.clone(),
        device_family: d.device_family.clone(),
        client_id: d.client_id.clone(),
        client_mode: d.client_mode.clone(),
        role: d.role.clone(),
        roles: d.roles.clone(),
        scopes: d.scopes.clone(),
        remote_ip: d.remote_ip.clone(),
        approved_via: d.approved_via.clone(),
        created_at_ms: d.created_at_ms,
        approved_at_ms: d.approved_at_ms,
        tokens: d
            .tokens
            .iter()
            .map(|(role, t)| DeviceTokenInfo {
                role: role.clone(),
                scopes: t.scopes.clone(),
                created_at_ms: t.created_at_ms,
                rotated_at_ms: t.rotated_at_ms,
                revoked_at_ms: t.revoked_at_ms,
            })
            .collect(),
    }
}

/// A pending pairing request as `device.pair.list` shows it.
pub fn pending_pairing(p: &openclaw_rs_auth::store::PendingRequest) -> PendingPairing {
    PendingPairing {
        request_id: p.request_id.clone(),
        device_id: p.device_id.clone(),
        public_key: p.public_key.clone(),
        display_name: p.display_name.clone(),
        platform: p.platform.clone(),
        device_family: p.device_family.clone(),
        client_id: p.client_id.clone(),
        client_mode: p.client_mode.clone(),
        role: p.role.clone(),
        roles: p.roles.clone(),
        scopes: p.scopes.clone(),
        remote_ip: p.remote_ip.clone(),
        silent: p.silent,
        is_repair: p.is_repair,
        ts: p.ts,
        refreshed_at_ms: p.refreshed_at_ms,
    }
}

/// The canonical key of a session key as OpenClaw's clients type it (see `docs/sessions.md`):
/// `agent:<agentId>:<rest>` keys are taken as they are (and must be keys this engine knows);
/// `main` (and `global`) name the agent's main session; any other key `<rest>` is
/// `agent:<agentId>:<rest>` (agent `main` unless `agentId` is given), as the Node gateway maps
/// `openclaw agent --session <rest>`.
pub(crate) fn canonical_key(raw: &str, agent: Option<&str>) -> Result<String, ErrorShape> {
    openclaw_rs_sessions::canonical_key(raw, agent).map_err(error_shape)
}

/// A known session key, or the error that says how to find one.
pub(crate) fn known_key(key: &str) -> Result<(), ErrorShape> {
    openclaw_rs_sessions::parse_key(key)
        .map(|_| ())
        .map_err(error_shape)
}

/// Map a sessions error to the wire.
pub fn error_shape(e: SessionError) -> ErrorShape {
    match e {
        SessionError::Limit(v) => ErrorShape::new(ErrorCode::Forbidden, v.to_string())
            .with_details(json!({
                "code": "LIMIT_EXCEEDED",
                "limit": v.kind.as_str(),
                "setting": v.kind.setting(),
                "value": v.value,
                "max": v.max,
            })),
        SessionError::Unavailable(m) => {
            ErrorShape::new(ErrorCode::Unavailable, m).retry_after(Some(1000))
        }
        SessionError::Storage(m) => {
            ErrorShape::new(ErrorCode::Unavailable, format!("session storage: {m}"))
                .retry_after(Some(1000))
        }
        other => ErrorShape::new(ErrorCode::InvalidRequest, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_rs_sessions::{LimitKind, LimitViolation};
    use std::sync::Arc;

    /// Every run state maps onto OpenClaw's `agent.wait` vocabulary; our state stays in `runStatus`.
    #[test]
    fn run_results_speak_openclaw_status_and_keep_ours() {
        let snap = |state| RunSnapshot {
            run_id: "r".into(),
            session_key: "agent:main:main".into(),
            state,
            attempts: 1,
            created_at: 1,
            started_at: None,
            ended_at: None,
            text: None,
            error: None,
            error_class: None,
            retryable: false,
            spawned_by: None,
        };
        let rows = [
            (RunState::Queued, "pending", None, true),
            (RunState::Running, "timeout", None, true),
            (RunState::Completed, "ok", None, false),
            (RunState::Failed, "error", None, false),
            (RunState::Aborted, "error", Some("aborted"), false),
            (RunState::Timeout, "timeout", Some("timeout"), false),
            (RunState::Interrupted, "error", Some("interrupted"), false),
        ];
        for (state, status, stop, timed_out) in rows {
            let v = run_result(&snap(state));
            assert_eq!(v.status, status, "{state:?}: {v:?}");
            assert_eq!(v.run_status, state.as_str(), "{state:?}: {v:?}");
            assert_eq!(v.stop_reason.as_deref(), stop, "{state:?}: {v:?}");
            assert_eq!(v.wait_timed_out, timed_out, "{state:?}: {v:?}");
        }
        assert_eq!(
            run_result(&snap(RunState::Queued)).timeout_phase.as_deref(),
            Some("queue")
        );
    }

    fn chat(state: ChatState, phase: Option<&str>) -> SessionEvent {
        SessionEvent::Chat(openclaw_rs_sessions::ChatEvent {
            run_id: "r1".into(),
            session_key: "agent:main:main".into(),
            agent_id: "main".into(),
            seq: 3,
            state,
            phase: phase.map(str::to_owned),
            delta_text: None,
            message: Some("hi\n".into()),
            error_message: None,
            error_class: None,
            run_state: Some(RunState::Completed),
            spawned_by: None,
            origin: Some(Arc::from("conn-1")),
        })
    }

    #[test]
    fn chat_events_have_the_openclaw_shape() {
        let SessionWireEvent::Chat(ev) = session_event(&chat(ChatState::Final, None)) else {
            panic!("a final chat event stays a chat event")
        };
        let p = serde_json::to_value(&ev).unwrap();
        assert_eq!(p["state"], "final");
        assert_eq!(p["seq"], 3);
        assert_eq!(p["message"]["role"], "assistant");
        assert_eq!(p["message"]["content"][0]["text"], "hi\n");
        // Internal routing data never reaches the wire, nor fields OpenClaw's schema forbids.
        for k in ["origin", "spawnedBy", "status", "errorClass"] {
            assert!(p.get(k).is_none(), "{k} in {p}");
        }
    }

    #[test]
    fn our_run_phases_map_onto_openclaw_chat_phases_or_agent_run_status() {
        let SessionWireEvent::Chat(ev) = session_event(&chat(ChatState::Status, Some("started")))
        else {
            panic!("started is a chat status")
        };
        assert_eq!(
            ev.body,
            ChatBody::Status {
                phase: "starting_model".into()
            }
        );
        let SessionWireEvent::Agent(ev) = session_event(&chat(ChatState::Status, Some("queued")))
        else {
            panic!("queued has no chat phase")
        };
        assert_eq!(ev.stream, "run_status");
        assert_eq!(ev.seq, 3);
        assert_eq!(ev.data["phase"], "queued");
    }

    #[test]
    fn limit_errors_are_forbidden_with_the_setting() {
        let e = error_shape(SessionError::Limit(LimitViolation {
            kind: LimitKind::ChildrenPerSession,
            value: 6,
            max: 5,
        }));
        assert_eq!(e.code, ErrorCode::Forbidden);
        assert!(
            e.message.contains("session.maxChildrenPerSession = 5"),
            "{e}"
        );
        let d = e.details.unwrap();
        assert_eq!(d["code"], "LIMIT_EXCEEDED");
        assert_eq!(d["limit"], "maxChildrenPerSession");
        assert_eq!(d["value"], 6);
        let e = error_shape(SessionError::Storage("disk full".into()));
        assert_eq!(e.code, ErrorCode::Unavailable);
        assert_eq!(e.retryable, Some(true));
        let e = error_shape(SessionError::NotFound("unknown runId".into()));
        assert_eq!(e.code, ErrorCode::InvalidRequest);
    }
}
