//! Serving with restarts, for binaries: the listeners to serve on (inherited after a re-exec),
//! and [`serve_restartable`], which returns a [`Restart`] to re-execute when the gateway stopped
//! in order to restart.
//!
//! Layer 4: uses `server`, `reload::handoff`, `reload::intent` and `reload::runtime`.

use crate::reload::handoff::{inherited_listeners, ListenerHandoff};
use crate::reload::intent::RestartIntent;
use crate::reload::runtime::LogLevelHook;

/// For binaries: the listeners to serve on. After a re-exec restart the inherited listeners are
/// used when they still match what is wanted (same port, or any port when `port` is 0, and the
/// same loopback/LAN choice); otherwise (e.g. `gateway.port` changed) they are closed and
/// `bind` is called.
pub fn take_listeners(
    bind_mode: openclaw_rs_config::BindMode,
    port: u16,
    get: impl Fn(&str) -> Option<String>,
    bind: impl FnOnce() -> Result<Vec<std::net::TcpListener>, crate::error::GatewayError>,
) -> Result<Vec<std::net::TcpListener>, crate::error::GatewayError> {
    let inherited = inherited_listeners(get).map_err(crate::error::GatewayError::Config)?;
    if let Some(ls) = inherited {
        let lan = bind_mode == openclaw_rs_config::BindMode::Lan;
        let fits = !ls.is_empty()
            && ls.iter().all(|l| {
                l.local_addr()
                    .map(|a| (port == 0 || a.port() == port) && a.ip().is_unspecified() == lan)
                    .unwrap_or(false)
            });
        if fits {
            tracing::info!(
                count = ls.len(),
                "serving on listeners inherited from the previous gateway image"
            );
            return Ok(ls);
        }
        tracing::info!("inherited listeners do not match the configured address; binding anew");
    }
    bind()
}

/// A gateway that stopped in order to restart: call [`Restart::exec`].
#[derive(Debug)]
pub struct Restart {
    /// Who asked for the restart and why.
    pub intent: RestartIntent,
    handoff: ListenerHandoff,
    /// In-place restarts including this one (handed to the next image).
    restarts: u64,
}

impl Restart {
    /// Re-execute this binary with the same arguments and the listening sockets inherited.
    /// Returns only on failure.
    pub fn exec(self) -> std::io::Error {
        let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        tracing::warn!(who = %self.intent.who, reason = %self.intent.reason, "re-executing for restart");
        self.handoff.exec(&args, self.restarts)
    }
}

/// For binaries: serve like [`crate::run`], with SIGUSR2 restarts and the log-level hook
/// enabled. Returns `Some(Restart)` when the gateway stopped to restart; the caller releases
/// its state-dir lock and calls [`Restart::exec`] (the sockets stay open meanwhile, so the
/// kernel keeps accepting connections into the backlog).
pub async fn serve_restartable(
    listeners: Vec<std::net::TcpListener>,
    opts: crate::options::GatewayOptions,
    shutdown: impl std::future::Future<Output = ()>,
    log_hook: Option<LogLevelHook>,
) -> Result<Option<Restart>, crate::error::GatewayError> {
    let handoff = ListenerHandoff::new(&listeners).map_err(|source| {
        crate::error::GatewayError::Listener {
            addr: "listener duplicate for restart".into(),
            source,
        }
    })?;
    let gateway = crate::builder::Gateway::new(opts)?;
    let state = gateway.state().clone();
    state.reload().enable_restart_signal();
    if let Some(h) = log_hook {
        state.reload().set_log_level_hook(h);
    }
    gateway.serve(listeners, shutdown).await?;
    Ok(state.reload().restart_to_exec().map(|intent| Restart {
        intent,
        handoff,
        restarts: state.metrics().restarts() + 1,
    }))
}
