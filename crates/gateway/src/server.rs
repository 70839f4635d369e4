//! The accept loop, the tick task and the shutdown tree.
//!
//! Layer 4: uses `conn`, `rpc`, `runs::lifecycle`, `reload::drain`, `event_loop`, `state` and
//! `methods::core` (the `health` event of the tick).

use crate::base::now_ms;
use crate::conn;
use crate::error::GatewayError;
use crate::http;
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
    match raise_fd_limit() {
        Ok((before, after)) if after > before => {
            tracing::info!(
                before,
                after,
                "raised the open-file soft limit to the hard limit"
            )
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot raise the open-file limit"),
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
    // Sockets being answered 503 (bounded; beyond it the answer is one non-blocking write).
    let mut refusals = JoinSet::new();
    // One descriptor held in reserve: when accept fails for lack of descriptors, it is
    // released to accept one socket and answer it 503 instead of leaving it unanswered.
    let mut spare_fd = std::fs::File::open("/dev/null").ok();
    let mut pressure_log = tokio::time::interval(PRESSURE_LOG_FLUSH);
    pressure_log.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
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
                        match state.admission.admit(peer.ip()) {
                            Ok(ticket) => {
                                conns.spawn(conn::handle(state.clone(), methods.clone(), stream, peer, ticket));
                            }
                            Err(why) => {
                                tracing::debug!(%peer, ?why, "not admitted; answering 503");
                                state.metrics().connection("refused");
                                if refusals.len() < MAX_REFUSING {
                                    refusals.spawn(http::refuse_busy(stream, REFUSE_LINGER));
                                } else {
                                    http::refuse_busy_now(stream);
                                }
                            }
                        }
                    }
                    Err(e) => {
                        if is_out_of_fds(&e) && spare_fd.take().is_some() {
                            // The freed descriptor takes one waiting socket, to say 503.
                            let one = std::future::poll_fn(|cx| poll_accept_any(&tokio_listeners, &mut next_listener, cx));
                            if let Some(Ok((stream, _))) = futures_util::FutureExt::now_or_never(one) {
                                state.admission.count_refused();
                                state.metrics().connection("refused");
                                http::refuse_busy_now(stream);
                            }
                            spare_fd = std::fs::File::open("/dev/null").ok();
                        }
                        // EMFILE and friends: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        backoff.as_mut().reset(tokio::time::Instant::now() + ACCEPT_BACKOFF);
                        backing_off = true;
                    }
                }
            }
            _ = &mut backoff, if backing_off => backing_off = false,
            _ = pressure_log.tick() => state.admission.flush_log(),
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            Some(_) = refusals.join_next(), if !refusals.is_empty() => {}
        }
    }

    // Shutdown tree: stop accepting, tell clients, close them, bounded grace, then drop.
    state.begin_drain();
    drop(tokio_listeners);
    refusals.abort_all();
    while refusals.join_next().await.is_some() {}
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
/// Refusals (503 + linger) running at once.
const MAX_REFUSING: usize = 512;
/// How long a refused socket may take to receive its 503.
const REFUSE_LINGER: Duration = Duration::from_secs(1);
/// How often pending admission counts are logged (the line itself is rate-limited).
const PRESSURE_LOG_FLUSH: Duration = Duration::from_secs(10);

fn is_out_of_fds(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// Raise this process's open-file soft limit (`RLIMIT_NOFILE`) to its hard limit, so that the
/// pre-auth pool and the authenticated connections, not a distribution's default of 1,024
/// descriptors, bound what the gateway holds. Returns the soft limit before and after.
/// Called when the gateway starts serving; tests that open thousands of sockets call it for
/// themselves.
#[allow(unsafe_code)]
#[allow(clippy::unnecessary_cast)] // `rlim_t` is not `u64` on every target
pub fn raise_fd_limit() -> std::io::Result<(u64, u64)> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit(2) writes one `rlimit` through a valid, exclusive pointer to a local.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let before = lim.rlim_cur;
    if lim.rlim_cur >= lim.rlim_max {
        return Ok((before as u64, before as u64));
    }
    let raised = libc::rlimit {
        rlim_cur: lim.rlim_max,
        rlim_max: lim.rlim_max,
    };
    // SAFETY: setrlimit(2) reads one `rlimit` through a valid pointer to a local.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((before as u64, lim.rlim_max as u64))
}

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
