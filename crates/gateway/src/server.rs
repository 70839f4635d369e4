//! The accept loop, the tick task and the shutdown tree.

use crate::conn;
use crate::options::GatewayOptions;
use crate::state::{now_ms, GatewayState};
use crate::GatewayError;
use openclaw_protocol::close;
use serde_json::json;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// A gateway ready to serve: build it, reach into [`Gateway::state`], then [`Gateway::serve`].
#[derive(Debug)]
pub struct Gateway {
    state: Arc<GatewayState>,
}

impl Gateway {
    /// Validate options and build the state (method registry, config, auth).
    pub fn new(opts: GatewayOptions) -> Result<Gateway, GatewayError> {
        Ok(Gateway {
            state: GatewayState::new(opts),
        })
    }

    /// The shared state (connection registry, broadcast, config, shutdown requests).
    pub fn state(&self) -> &Arc<GatewayState> {
        &self.state
    }

    /// Serve until `shutdown` resolves or [`GatewayState::request_shutdown`] is called.
    pub async fn serve(
        self,
        listeners: Vec<std::net::TcpListener>,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), GatewayError> {
        if listeners.is_empty() {
            return Err(GatewayError::NoListener);
        }
        let state = self.state;
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
        let sessions_fanout = crate::methods::sessions::start(&state)?;
        let (accepted_tx, mut accepted_rx) = mpsc::channel::<(TcpStream, SocketAddr)>(128);
        let mut acceptors = JoinSet::new();
        for l in tokio_listeners {
            acceptors.spawn(accept_loop(l, accepted_tx.clone()));
        }
        drop(accepted_tx);
        let mut background = JoinSet::new();
        background.spawn(tick_loop(state.clone()));
        background.spawn(crate::reload::run_loop(state.clone()));
        background.spawn(sessions_fanout);
        let mut conns = JoinSet::new();
        state.mark_started();
        tracing::info!(urls = ?state.opts.listen_urls, "gateway ready");

        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                _ = state.shutdown_requested() => break,
                Some((stream, peer)) = accepted_rx.recv() => {
                    conns.spawn(conn::handle(state.clone(), stream, peer));
                }
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
            }
        }

        // Shutdown tree: stop accepting, tell clients, close them, bounded grace, then drop.
        state.begin_drain();
        acceptors.abort_all();
        while acceptors.join_next().await.is_some() {}
        drop(accepted_rx);
        background.abort_all();
        while background.join_next().await.is_some() {}
        let plan = state.shutdown_plan();
        let mut payload = json!({ "reason": plan.reason });
        if let Some(ms) = plan.restart_expected_ms {
            payload["restartExpectedMs"] = json!(ms);
        }
        let reason = if plan.restart_expected_ms.is_some() {
            close::REASON_SERVICE_RESTART
        } else {
            close::REASON_SHUTTING_DOWN
        };
        let n = state.broadcast("shutdown", &payload);
        state.close_where(|_| true, close::SERVICE_RESTART, reason);
        tracing::info!(connections = n, reason = %plan.reason, "gateway shutting down");
        let grace = state.opts.shutdown_grace;
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
        crate::methods::sessions::stop(&state).await;
        tracing::info!("gateway stopped");
        Ok(())
    }
}

async fn accept_loop(listener: TcpListener, tx: mpsc::Sender<(TcpStream, SocketAddr)>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                if tx.send((stream, peer)).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

async fn tick_loop(state: Arc<GatewayState>) {
    let every = state.opts.tick_interval;
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if state.connection_count() == 0 {
            continue;
        }
        state.broadcast("tick", &json!({ "ts": now_ms() }));
        state.bump_health_version();
        let health = crate::methods::health_payload(&state);
        state.broadcast_versioned("health", &health);
    }
}
