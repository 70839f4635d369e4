//! A real gateway in-process on `127.0.0.1:0`, and a locator for the built binaries.
//!
//! [`TestGateway::start`] runs the real `openclaw_rs_gateway` library (same code path as the
//! `gateway` binary) with a private temp state dir and a random token. It stops on
//! [`TestGateway::stop`] (graceful, returns the serve result) or on drop (abort).

use openclaw_rs_config::Config;
use openclaw_rs_gateway::{Gateway, GatewayError, GatewayOptions, GatewayState, SharedAuth};
use openclaw_rs_state::StateDir;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How to start a [`TestGateway`].
#[derive(Debug, Default)]
pub struct TestGatewayOptions {
    /// Shared auth; default: token mode with a random token.
    pub auth: Option<SharedAuth>,
    pub config: Option<Config>,
    pub handshake_timeout: Option<Duration>,
    pub tick_interval: Option<Duration>,
    pub ping_interval: Option<Duration>,
    pub max_payload: Option<usize>,
    pub max_buffered_bytes: Option<usize>,
    pub shutdown_grace: Option<Duration>,
    pub max_preauth_connections: Option<usize>,
    /// Listen on this loopback port instead of a fresh one (e.g. to restart "the same" gateway).
    pub port: Option<u16>,
    /// Extra methods (e.g. a slow method to observe out-of-order replies).
    pub extra_methods: Vec<openclaw_rs_gateway::MethodSpec>,
}

/// A running in-process gateway.
#[derive(Debug)]
pub struct TestGateway {
    /// `ws://127.0.0.1:PORT`
    pub url: String,
    pub port: u16,
    /// The shared token (None when auth mode is not `token`).
    pub token: Option<String>,
    /// The private state dir (deleted on drop).
    pub state_dir: tempfile::TempDir,
    /// The live gateway state (broadcast, registry, request_shutdown, …).
    pub state: Arc<GatewayState>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), GatewayError>>>,
}

impl TestGateway {
    /// Start a gateway with `opts` on a fresh loopback port.
    pub async fn start(opts: TestGatewayOptions) -> TestGateway {
        let state_dir = tempfile::tempdir().expect("create temp state dir");
        let mut o = GatewayOptions::new(StateDir::new(state_dir.path()));
        let token = random_token();
        o.auth = opts.auth.unwrap_or_else(|| SharedAuth::token(token));
        if let Some(c) = opts.config {
            o.config = c;
        }
        if let Some(v) = opts.handshake_timeout {
            o.handshake_timeout = v;
        }
        if let Some(v) = opts.tick_interval {
            o.tick_interval = v;
        }
        if let Some(v) = opts.ping_interval {
            o.ping_interval = v;
        }
        if let Some(v) = opts.max_payload {
            o.max_payload = v;
        }
        if let Some(v) = opts.max_buffered_bytes {
            o.max_buffered_bytes = v;
        }
        if let Some(v) = opts.shutdown_grace {
            o.shutdown_grace = v;
        }
        if let Some(v) = opts.max_preauth_connections {
            o.max_preauth_connections = v;
        }
        // Hermetic: no Control UI discovered from the test process's PATH (tests that want one
        // set `gateway.controlUi.root`).
        o.control_ui_env = openclaw_rs_gateway::control_ui::DiscoveryEnv::default();
        let listener = std::net::TcpListener::bind(("127.0.0.1", opts.port.unwrap_or(0)))
            .expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local addr").port();
        let url = format!("ws://127.0.0.1:{port}");
        o.listen_urls = vec![url.clone()];
        let token = match o.auth.mode {
            openclaw_rs_config::AuthMode::Token => o.auth.token.clone(),
            _ => None,
        };
        let gateway = Gateway::builder(state_dir.path())
            .configure(|opts| *opts = o)
            .methods(opts.extra_methods)
            .build()
            .expect("gateway options");
        let state = gateway.state().clone();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(gateway.serve(vec![listener], async move {
            let _ = rx.await;
        }));
        TestGateway {
            url,
            port,
            token,
            state_dir,
            state,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Start with defaults (token auth, random token).
    pub async fn start_default() -> TestGateway {
        Self::start(TestGatewayOptions::default()).await
    }

    /// `http://127.0.0.1:PORT`
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Graceful stop (the SIGTERM path): shutdown event, 1012 closes, bounded grace.
    pub async fn stop(mut self) -> Result<(), GatewayError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(t) => match tokio::time::timeout(Duration::from_secs(30), t).await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => panic!("gateway task panicked: {e}"),
                Err(_) => panic!("gateway did not stop within 30 s"),
            },
            None => Ok(()),
        }
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

fn random_token() -> String {
    openclaw_rs_gateway::launch::random_token().expect("random token")
}

/// The path of a built workspace binary (`openclaw`, `gateway`, `openclaw-app-server`).
///
/// Looks next to the running test executable (`target/<profile>/deps/..`), then in
/// `$CARGO_TARGET_DIR/<profile>`. Panics with the build command when missing.
pub fn bin_path(name: &str) -> PathBuf {
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            candidates.push(dir.join(name));
            if let Some(up) = dir.parent() {
                candidates.push(up.join(name));
            }
        }
    }
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        let t = PathBuf::from(t);
        candidates.push(t.join("debug").join(name));
        candidates.push(t.join("release").join(name));
    }
    for c in &candidates {
        if c.is_file() {
            return c.clone();
        }
    }
    panic!(
        "binary `{name}` not found (looked in {candidates:?}); run `cargo build --workspace --bins` first"
    );
}

/// A free loopback port: bind :0, read the port, release it.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}
