//! Starting and stopping the sessions component of a serving gateway: open (or adopt) the
//! sessions manager with its executors, register it with the restart drain, and hand the event
//! fan-out task to the server's shutdown tree.
//!
//! Layer 2: uses `state`, `fanout`, `reload::runtime` and the lower `runs` modules.

use crate::error::GatewayError;
use crate::reload::runtime::DrainTarget;
use crate::runs::app_server::AppServerExecutor;
use crate::runs::executors::Executors;
use crate::runs::sessions::Sessions;
use crate::state::GatewayState;
use openclaw_rs_app_server::{Pool, PoolConfig};
use openclaw_rs_sessions::{ManagerOptions, SessionManager};
use std::future::Future;
use std::sync::Arc;

/// Where the sessions manager comes from.
#[derive(Debug, Default)]
pub(crate) enum ManagerSource {
    /// Open `$STATE/sessions` with default options.
    #[default]
    Default,
    /// Open with these options.
    Options(ManagerOptions),
    /// Serve this manager (opened by the embedder with its own executor).
    Ready(SessionManager),
}

/// What the builder chose for the sessions component.
#[derive(Debug, Default)]
pub(crate) struct RunsSetup {
    pub(crate) manager: ManagerSource,
    pub(crate) pool: Option<Pool>,
    pub(crate) pool_config: Option<PoolConfig>,
    pub(crate) executors: Executors,
}

/// Open the session store and return the event fan-out task (owned by the server's
/// background set). Called once by `serve` before accepting connections.
pub(crate) fn start(
    state: &Arc<GatewayState>,
    setup: RunsSetup,
) -> Result<impl Future<Output = ()> + Send + 'static, GatewayError> {
    let pool = match setup.pool {
        Some(p) => p,
        None => Pool::new(setup.pool_config.unwrap_or_default()),
    };
    let manager = match setup.manager {
        ManagerSource::Ready(m) => m,
        source => {
            let mut opts = match source {
                ManagerSource::Options(o) => o,
                _ => ManagerOptions::new(state.options().state_dir.clone()),
            };
            // Run endings and journal fsyncs count in this gateway's metrics.
            opts.observer = Some(state.metrics().sessions_observer());
            let fallback = Arc::new(AppServerExecutor::new(
                pool.clone(),
                state.live_config(),
                state.reload().cooldowns().clone(),
            ));
            let executor = setup.executors.into_router(fallback);
            SessionManager::open(opts, state.config().load_full(), executor)
                .map_err(|e| GatewayError::Config(format!("cannot open the session store: {e}")))?
        }
    };
    let events = manager.subscribe();
    // A restart drain pauses new runs (messages are still accepted and persisted) and waits
    // for the running ones.
    state
        .reload()
        .add_drain_target(Arc::new(SessionsDrain(manager.clone())));
    let config = state.reload().subscribe_config();
    if state
        .set_sessions(Sessions::new(manager.clone(), pool))
        .is_err()
    {
        tracing::warn!("session manager was already started");
    }
    Ok(crate::fanout::run(
        Arc::downgrade(state),
        manager,
        events,
        config,
    ))
}

/// The sessions manager as seen by a restart drain.
#[derive(Debug)]
struct SessionsDrain(SessionManager);

impl DrainTarget for SessionsDrain {
    fn set_paused(&self, paused: bool) {
        self.0.set_draining(paused);
    }

    fn in_flight(&self) -> usize {
        self.0.running_runs()
    }
}

/// Stop runs (they re-run after the next start) and the app-server processes.
pub(crate) async fn stop(state: &GatewayState) {
    if let Some(s) = state.sessions() {
        s.manager().shutdown().await;
        s.pool().shutdown().await;
    }
}
