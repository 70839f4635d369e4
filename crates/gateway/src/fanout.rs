//! Event fan-out: which connection receives which session event.
//!
//! - `chat` and `agent` events of a run go to the connection that started it (`chat.send`,
//!   `sessions.spawn`), to connections subscribed to its session (`sessions.subscribe
//!   {sessionKey}`), and to connections subscribed to everything (`sessions.subscribe {}`).
//!   The announce of a child's result (`agent` with `stream:"announce"` on the *parent's*
//!   session key) also goes to the connection that spawned the child.
//! - `sessions.changed` goes to connections subscribed to everything or to that session.
//! - `session.message` goes to connections subscribed to that session's messages
//!   (`sessions.messages.subscribe`).
//!
//! [`run`] is one background task of the server's shutdown tree; it also applies config changes
//! (limits, runtimes) to the manager as the reload area publishes them.
//!
//! Layer 2: uses `state` and `wire`.

use crate::state::GatewayState;
use crate::wire::SessionWireEvent;
use openclaw_rs_protocol::methods::session_views::SessionMessageEvent;
use openclaw_rs_sessions::{SessionEvent, SessionManager};
use std::sync::{Arc, Weak};

/// Topic of connections subscribed to every session.
pub(crate) const TOPIC_ALL: &str = "sessions";
/// How many transcript entries are read back to find the one a change event names.
const MESSAGE_LOOKBACK: usize = 8;

pub(crate) fn topic_for(key: &str) -> String {
    format!("session:{key}")
}

/// Topic of connections subscribed to a session's messages.
pub(crate) fn messages_topic(key: &str) -> String {
    format!("messages:{key}")
}

/// Forward session events to connections; apply config changes (limits, runtimes) to the
/// manager as the reload area publishes them.
pub(crate) async fn run(
    state: Weak<GatewayState>,
    manager: SessionManager,
    mut events: tokio::sync::broadcast::Receiver<SessionEvent>,
    mut config: tokio::sync::watch::Receiver<Arc<openclaw_rs_config::Config>>,
) {
    use tokio::sync::broadcast::error::RecvError;
    let mut config_open = true;
    // `session.message` deliveries read the journal on tasks of their own, owned here: they
    // end with this task (nothing detached).
    let mut deliveries = tokio::task::JoinSet::new();
    loop {
        let received = tokio::select! {
            r = events.recv() => r,
            Some(_) = deliveries.join_next(), if !deliveries.is_empty() => continue,
            c = config.changed(), if config_open => {
                match c {
                    Ok(()) => {
                        let cfg = config.borrow_and_update().clone();
                        manager.sync_config(cfg);
                    }
                    Err(_) => config_open = false,
                }
                continue;
            }
        };
        let ev = match received {
            Ok(ev) => ev,
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(
                    skipped = n,
                    "session events overflowed the fan-out buffer; some were not delivered"
                );
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        let Some(state) = state.upgrade() else { return };
        let topic = topic_for(ev.session_key());
        let origin = ev.origin().cloned();
        let to = |c: &crate::state::Connection| {
            origin.as_deref() == Some(c.id())
                || c.is_subscribed(TOPIC_ALL)
                || c.is_subscribed(&topic)
        };
        if let SessionEvent::Changed(c) = &ev {
            if matches!(c.reason, "message" | "run.ended" | "announce") {
                deliver_new_message(&state, c, &mut deliveries);
            }
        }
        match crate::wire::session_event(&ev) {
            SessionWireEvent::Chat(e) => state.broadcast_where(&e, to),
            SessionWireEvent::Agent(e) => state.broadcast_where(&e, to),
            SessionWireEvent::Changed(e) => state.broadcast_where(&*e, to),
        };
    }
}

/// Send a `chat` event the way the fan-out sends a run's: to the connection `origin`, to the
/// session's subscribers and to connections subscribed to every session.
pub(crate) fn deliver_chat(
    state: &GatewayState,
    origin: &str,
    ev: &openclaw_rs_protocol::methods::sessions::ChatEvent,
) {
    let topic = topic_for(&ev.session_key);
    state.broadcast_where(ev, |c| {
        c.id() == origin || c.is_subscribed(TOPIC_ALL) || c.is_subscribed(&topic)
    });
}

/// A session's transcript grew (`change` says by which run): send the new entry as
/// `session.message` to the connections subscribed to its messages. The journal is read on a
/// task of its own (in `tasks`), only when someone is subscribed.
pub(crate) fn deliver_new_message(
    state: &Arc<GatewayState>,
    change: &openclaw_rs_sessions::ChangedEvent,
    tasks: &mut tokio::task::JoinSet<()>,
) {
    let topic = messages_topic(&change.session_key);
    if !state.connections().iter().any(|c| c.is_subscribed(&topic)) {
        return;
    }
    let Some(run_id) = change.run_id.clone() else {
        return;
    };
    // `message`: the user's message; `run.ended`: the reply; `announce`: a child's result.
    let role = match change.reason {
        "message" => "user",
        "announce" => "system",
        _ => "assistant",
    };
    let key = change.session_key.clone();
    let agent = change.session.agent_id.clone();
    let state = Arc::clone(state);
    tasks.spawn(async move {
        let Ok(mgr) = state.session_manager() else {
            return;
        };
        let entries = match mgr.history(&key, MESSAGE_LOOKBACK).await {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(session = %key, error = %crate::wire::error_shape(e), "session.message not sent");
                return;
            }
        };
        let Some(entry) = entries
            .iter()
            .rev()
            .find(|e| e.role == role && (e.run_id == run_id || role == "system"))
        else {
            return;
        };
        let event = SessionMessageEvent {
            session_key: key,
            agent_id: agent,
            message: crate::wire::history_message(entry),
            message_id: format!("{}#{}", entry.run_id, entry.seq),
            message_seq: entry.seq,
            run_id: entry.run_id.clone(),
            ts: crate::base::now_ms(),
        };
        state.broadcast_where(&event, |c| c.is_subscribed(&topic));
    });
}
