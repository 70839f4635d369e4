//! The accept loop, the tick task and the shutdown tree.
//!
//! Layer 4: uses `conn`, `rpc`, `runs::lifecycle`, `reload::drain`, `event_loop`, `state` and
//! `methods::core` (the `health` event of the tick).

use crate::base::now_ms;
use crate::conn;
use crate::error::GatewayError;
use crate::rpc::Methods;
use crate::runs::lifecycle::RunsSetup;
use crate::state::GatewayState;
use openclaw_rs_protocol::close;
use openclaw_rs_protocol::methods::events::{Shutdown, Tick};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// Serve on `listeners` until `shutdown` resolves or [`GatewayState::request_shutdown`] is
/// called, then run the shutdown tree. Called by [`crate::Gateway::serve`].
pub(crate) async fn serve(
    state: Arc<GatewayState>,
    methods: Arc<Methods>,
    runs: RunsSetup,
    listeners: Vec<std::net::TcpListener>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), GatewayError> {
    if listeners.is_empty() {
        return Err(GatewayError::NoListener);
    }
    let mut tokio_listeners = Vec::with_capacity(listeners.len());
    for l in listeners {
        let addr = l
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| "?".into());
        let l = l
            .set_nonblocking(true)
            .and_then(|_| TcpListener::from_std(l))
            .map_err(|source| GatewayError::Listener {
                addr: addr.clone(),
                source,
            })?;
        tokio_listeners.push(l);
    }

    // Sessions resume queued and interrupted runs before the first connection arrives.
    let sessions_fanout = crate::runs::lifecycle::start(&state, runs)?;
    let mut background = JoinSet::new();
    background.spawn(tick_loop(state.clone()));
    background.spawn(crate::event_loop::monitor(state.event_loop_cell()));
    background.spawn(crate::reload::drain::run_loop(state.clone()));
    background.spawn(sessions_fanout);
    let mut conns = JoinSet::new();
    state.mark_started();
    tracing::info!(urls = ?state.options().listen_urls, "gateway ready");

    tokio::pin!(shutdown);
    // Accepting happens here, in the task that owns the connections: no hop per connection.
    let mut next_listener = 0usize;
    let backoff = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(backoff);
    let mut backing_off = false;
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = state.shutdown_requested() => break,
            accepted = std::future::poll_fn(|cx| poll_accept_any(&tokio_listeners, &mut next_listener, cx)), if !backing_off => {
                match accepted {
                    Ok((stream, peer)) => {
                        let _ = stream.set_nodelay(true);
                        conns.spawn(conn::handle(state.clone(), methods.clone(), stream, peer));
                    }
                    Err(e) => {
                        // EMFILE and friends: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        backoff.as_mut().reset(tokio::time::Instant::now() + ACCEPT_BACKOFF);
                        backing_off = true;
                    }
                }
            }
            _ = &mut backoff, if backing_off => backing_off = false,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }

    // Shutdown tree: stop accepting, tell clients, close them, bounded grace, then drop.
    state.begin_drain();
    drop(tokio_listeners);
    background.abort_all();
    while background.join_next().await.is_some() {}
    let plan = state.shutdown_plan();
    let payload = Shutdown {
        reason: plan.reason.clone(),
        restart_expected_ms: plan.restart_expected_ms,
    };
    let reason = if plan.restart_expected_ms.is_some() {
        close::REASON_SERVICE_RESTART
    } else {
        close::REASON_SHUTTING_DOWN
    };
    let n = state.broadcast(&payload);
    state.close_where(|_| true, close::SERVICE_RESTART, reason);
    tracing::info!(connections = n, reason = %plan.reason, "gateway shutting down");
    let grace = state.options().shutdown_grace;
    let drained =
        tokio::time::timeout(grace, async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(
            remaining = conns.len(),
            "shutdown grace elapsed; dropping connections"
        );
        conns.abort_all();
        while conns.join_next().await.is_some() {}
    }
    crate::runs::lifecycle::stop(&state).await;
    tracing::info!("gateway stopped");
    Ok(())
}

/// Pause after a failed accept (e.g. out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Poll every listener once, starting after the one that accepted last (fairness).
fn poll_accept_any(
    listeners: &[TcpListener],
    next: &mut usize,
    cx: &mut Context<'_>,
) -> Poll<std::io::Result<(TcpStream, SocketAddr)>> {
    let n = listeners.len();
    for i in 0..n {
        let idx = (*next + i) % n;
        if let Poll::Ready(r) = listeners[idx].poll_accept(cx) {
            *next = (idx + 1) % n;
            return Poll::Ready(r);
        }
    }
    Poll::Pending
}

async fn tick_loop(state: Arc<GatewayState>) {
    let every = state.options().tick_interval;
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if state.connection_count() == 0 {
            continue;
        }
        state.broadcast(&Tick { ts: now_ms() });
        state.bump_health_version();
        let health = crate::methods::core::health_payload(&state);
        state.broadcast_versioned(&health);
    }
}
