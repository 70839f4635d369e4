//! The gateway under test for the real-client tests (Control UI in a browser, TUI in tmux, CLI
//! table): ours (the `gateway` binary from `target/debug`, embedded runtime, serving the Control UI
//! build of the npm package) or the real Node gateway, selected by `OPENCLAW_E2E_TARGET=node`.
//!
//! The committed tests target ours; running them with `OPENCLAW_E2E_TARGET=node` proves the harness
//! itself on the reference gateway (steps Node cannot do here, such as a chat turn without a model,
//! are skipped there with a printed reason).

use std::path::{Path, PathBuf};
use std::time::Duration;

use openclaw_rs_client::{Client, ClientOptions};
use openclaw_rs_test_support::gateway::free_port;
use openclaw_rs_test_support::node::{self, NodeGateway};
use serde_json::{json, Value};

use crate::util::{connect_retry, gateway_command, gateway_log, kill_and_wait, Secret, RUN_GUARD};

/// Longest wait for a gateway to start and answer `health` (Node takes 5–40 s on 2 busy cores).
pub const START_GUARD: Duration = Duration::from_secs(150);

/// Which gateway a real-client test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Ours,
    Node,
}

impl Target {
    /// `OPENCLAW_E2E_TARGET=node` selects the Node gateway; anything else (or unset) ours.
    pub fn from_env() -> Target {
        match std::env::var("OPENCLAW_E2E_TARGET").as_deref() {
            Ok("node") => Target::Node,
            _ => Target::Ours,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Target::Ours => "ours",
            Target::Node => "node",
        }
    }
}

/// A running gateway under test; stopped on drop.
pub struct UnderTest {
    pub target: Target,
    pub token: String,
    /// `ws://127.0.0.1:<port>`
    pub ws_url: String,
    /// `http://127.0.0.1:<port>`
    pub http_url: String,
    /// Ours: its state dir (config, logs). Node: its private HOME.
    pub dir: PathBuf,
    running: Running,
}

enum Running {
    Ours {
        child: tokio::process::Child,
        _state: tempfile::TempDir,
    },
    Node(NodeGateway),
}

impl UnderTest {
    /// Starts `target` on a free port and waits until `health` answers. `Err` is a skip reason
    /// (node/openclaw not installed) or a startup failure, worded for a loud message.
    pub async fn start(target: Target, token: &str) -> Result<UnderTest, String> {
        match target {
            Target::Ours => Self::start_ours(token).await,
            Target::Node => Self::start_node(token).await,
        }
    }

    async fn start_ours(token: &str) -> Result<UnderTest, String> {
        let state = tempfile::Builder::new()
            .prefix("ui-gateway-")
            .tempdir()
            .map_err(|e| format!("tempdir: {e}"))?;
        let port = free_port();
        let config = json!({
            "gateway": {
                "port": port,
                "auth": {"mode": "token", "token": token},
                "controlUi": {"root": control_ui_root()},
            },
        });
        std::fs::write(state.path().join("openclaw.json"), config.to_string())
            .map_err(|e| format!("writing the config: {e}"))?;
        let child = gateway_command(state.path())
            .env("OPENCLAW_LOG", "info")
            .spawn()
            .map_err(|e| {
                format!("spawning target/debug/gateway (run `cargo build --bins`): {e}")
            })?;
        let ws_url = format!("ws://127.0.0.1:{port}");
        let c = connect_retry(&ws_url, Secret::Token(token), state.path()).await;
        c.request("health", json!({}))
            .await
            .map_err(|e| format!("our gateway did not answer health: {e}"))?;
        Ok(UnderTest {
            target: Target::Ours,
            token: token.to_owned(),
            ws_url,
            http_url: format!("http://127.0.0.1:{port}"),
            dir: state.path().to_path_buf(),
            running: Running::Ours {
                child,
                _state: state,
            },
        })
    }

    async fn start_node(token: &str) -> Result<UnderTest, String> {
        let t = token.to_owned();
        let gw = tokio::task::spawn_blocking(move || NodeGateway::start(&t, START_GUARD))
            .await
            .map_err(|e| format!("the Node starter panicked: {e}"))??;
        let ut = UnderTest {
            target: Target::Node,
            token: token.to_owned(),
            ws_url: gw.url.clone(),
            http_url: format!("http://127.0.0.1:{}", gw.port),
            dir: gw.home.path().to_path_buf(),
            running: Running::Node(gw),
        };
        // Node answers UNAVAILABLE ("gateway starting") for a while after /readyz.
        let deadline = tokio::time::Instant::now() + START_GUARD;
        let mut last = String::new();
        while tokio::time::Instant::now() < deadline {
            match ut.client().await {
                Ok(c) => match c.request("health", json!({})).await {
                    Ok(_) => return Ok(ut),
                    Err(e) => last = e.to_string(),
                },
                Err(e) => last = e,
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Err(format!(
            "the Node gateway did not answer health within {START_GUARD:?}: {last}\nlog: {}",
            ut.log_tail()
        ))
    }

    /// An operator client with the token (read, write, admin, pairing, approvals).
    pub async fn client(&self) -> Result<Client, String> {
        let mut o = ClientOptions::new(self.ws_url.clone());
        o.token = Some(self.token.clone());
        o.request_timeout = RUN_GUARD;
        o.scopes.extend([
            "operator.pairing".to_owned(),
            "operator.approvals".to_owned(),
        ]);
        Client::connect(o).await.map_err(|e| e.to_string())
    }

    /// The last lines of the gateway's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = match &self.running {
            Running::Ours { .. } => {
                std::fs::read_to_string(gateway_log(&self.dir)).unwrap_or_default()
            }
            Running::Node(gw) => return gw.log_tail(),
        };
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Stops the gateway and waits for it.
    pub async fn stop(mut self) {
        if let Running::Ours { child, .. } = &mut self.running {
            kill_and_wait(child).await;
        }
    }
}

/// The Control UI build of the installed npm package (`dist/control-ui`).
pub fn control_ui_root() -> PathBuf {
    node::npm_dir().join("openclaw/node_modules/openclaw/dist/control-ui")
}

/// `playwright-core` as `cargo xtask install-deps` installs it, or `None` with a loud reason.
pub fn playwright_core() -> Option<PathBuf> {
    let dir = node::npm_dir().join("playwright/node_modules/playwright-core");
    if dir.join("index.mjs").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "!!! SKIP-REASON: playwright-core not found at {} — run `cargo xtask install-deps`",
            dir.display()
        );
        None
    }
}

/// The workspace root (the `openclaw-e2e` package is `tests/`).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest.to_path_buf())
}

/// `target/test-artifacts/<name>` (under `CARGO_TARGET_DIR` when set), created.
pub fn artifact_dir(name: &str) -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root().join("target"),
    };
    let dir = target.join("test-artifacts").join(name);
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// `logging.level` as `config.get` reports it (its `config` object, else its `raw` text parsed).
pub fn logging_level(config_get: &Value) -> Option<String> {
    for key in ["config", "parsed", "resolved"] {
        if let Some(level) = config_get[key]["logging"]["level"].as_str() {
            return Some(level.to_owned());
        }
    }
    let raw: Value = serde_json::from_str(config_get["raw"].as_str()?).ok()?;
    raw["logging"]["level"].as_str().map(str::to_owned)
}

/// A loud skip line for `test` with `reason` and the fix.
pub fn skipped(test: &str, reason: &str, fix: &str) {
    eprintln!("\n!!! SKIPPED {test}: {reason}\n!!! fix: {fix}\n");
}
