//! Options the gateway runs with (resolved from flags, env and config by [`crate::launch`]).
//!
//! Layer 0: uses `control_ui` (its discovery environment) only.

use openclaw_rs_config::{AuthMode, Config};
use openclaw_rs_protocol::limits;
use openclaw_rs_state::StateDir;
use std::path::PathBuf;
use std::time::Duration;

/// The shared secret clients prove on `connect` (`gateway.auth.*`).
#[derive(Clone, PartialEq, Eq)]
pub struct SharedAuth {
    /// Which secret `connect` must prove (`none`, `token`, `password`, `trusted-proxy`).
    pub mode: AuthMode,
    /// The shared token (`gateway.auth.token`, `--token`, `OPENCLAW_GATEWAY_TOKEN`).
    pub token: Option<String>,
    /// The shared password (`gateway.auth.password`, `--password`, `OPENCLAW_GATEWAY_PASSWORD`).
    pub password: Option<String>,
}

impl SharedAuth {
    /// The auth crate's view of these secrets (empty strings count as unset).
    pub fn secrets(&self) -> openclaw_rs_auth::SharedSecrets {
        openclaw_rs_auth::SharedSecrets {
            mode: self.mode,
            token: self.token.clone().filter(|t| !t.is_empty()),
            password: self.password.clone().filter(|p| !p.is_empty()),
        }
    }

    /// No auth at all (loopback development only).
    pub fn none() -> Self {
        SharedAuth {
            mode: AuthMode::None,
            token: None,
            password: None,
        }
    }

    /// Token auth with `token`.
    pub fn token(token: impl Into<String>) -> Self {
        SharedAuth {
            mode: AuthMode::Token,
            token: Some(token.into()),
            password: None,
        }
    }
}

// Secrets never appear in logs or debug output.
impl std::fmt::Debug for SharedAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedAuth")
            .field("mode", &self.mode)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Everything [`crate::run`] needs besides the listeners.
#[derive(Debug, Clone)]
pub struct GatewayOptions {
    /// The loaded config (becomes `GatewayState::config`, swappable at runtime).
    pub config: Config,
    /// Where the config lives (reported by `status` and `hello-ok`).
    pub config_path: PathBuf,
    /// The state dir (pairing store, sessions, cooldowns, logs, the generated token).
    pub state_dir: StateDir,
    /// The shared secret clients prove on `connect`.
    pub auth: SharedAuth,
    /// Close sockets that have not completed `connect` after this long.
    pub handshake_timeout: Duration,
    /// `tick` event period (`policy.tickIntervalMs`).
    pub tick_interval: Duration,
    /// WS ping period; a peer silent for two periods is dropped.
    pub ping_interval: Duration,
    /// Post-auth frame cap (`policy.maxPayload`).
    pub max_payload: usize,
    /// Per-connection outbound buffer cap (`policy.maxBufferedBytes`).
    pub max_buffered_bytes: usize,
    /// How long connections get to finish after the shutdown event.
    pub shutdown_grace: Duration,
    /// Listen addresses as text, for `status`.
    pub listen_urls: Vec<String>,
    /// Sockets allowed at once before `connect` succeeds (HTTP probes included). When full, a
    /// new socket evicts the oldest one that is waiting on its peer (silent first); when none
    /// can be evicted it is answered `503` with `Retry-After`. A flood of idle sockets can
    /// neither exhaust memory nor lock fresh clients out (see docs/reliability.md).
    pub max_preauth_connections: usize,
    /// Of those, sockets from one non-loopback peer (an IPv4 address or an IPv6 /64); at the
    /// limit a peer's new socket replaces its own oldest waiting one. Loopback peers are not
    /// limited this way: every local process is 127.0.0.1.
    pub max_preauth_per_peer: usize,
    /// Where to look for an installed Control UI build when `gateway.controlUi.root` is unset
    /// (default: this process's `PATH` and npm prefix).
    pub control_ui_env: crate::control_ui::DiscoveryEnv,
    /// In-place restarts this process went through before this gateway (the start value of
    /// `openclaw_gateway_restarts_total`; [`crate::launch::resolve`] reads it from
    /// [`crate::metrics::RESTARTS_ENV`], set by the previous image). Default 0.
    pub restarts: u64,
}

/// Default size of the pre-auth pool.
pub const DEFAULT_MAX_PREAUTH_CONNECTIONS: usize = 1024;
/// Default pre-auth sockets per non-loopback peer.
pub const DEFAULT_MAX_PREAUTH_PER_PEER: usize = 64;

/// Default handshake timeout.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

impl GatewayOptions {
    /// Defaults for a state dir: token-less `none` auth, 10 s handshake, 30 s tick.
    pub fn new(state_dir: StateDir) -> Self {
        GatewayOptions {
            config: Config::default(),
            config_path: state_dir.config_path(),
            state_dir,
            auth: SharedAuth::none(),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            tick_interval: Duration::from_millis(limits::DEFAULT_TICK_INTERVAL_MS),
            ping_interval: Duration::from_secs(25),
            max_payload: limits::DEFAULT_MAX_PAYLOAD_BYTES,
            max_buffered_bytes: limits::DEFAULT_MAX_BUFFERED_BYTES,
            shutdown_grace: Duration::from_secs(5),
            listen_urls: Vec::new(),
            max_preauth_connections: DEFAULT_MAX_PREAUTH_CONNECTIONS,
            max_preauth_per_peer: DEFAULT_MAX_PREAUTH_PER_PEER,
            control_ui_env: crate::control_ui::DiscoveryEnv::from_process(),
            restarts: 0,
        }
    }
}
