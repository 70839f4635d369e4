//! Locating the npm-installed node 24, the real OpenClaw CLI and Codex, and running a real Node gateway.
//!
//! `cargo xtask install-deps` installs them under `<workspace>/.cache/npm` (or `$OPENCLAW_NPM_DIR`):
//! - `node24/node_modules/node/bin/node` (node 24.21.0; the system node is too old for openclaw)
//! - `openclaw/node_modules/openclaw/openclaw.mjs` (openclaw 2026.9.6)
//! - `openclaw/node_modules/@openai/codex-linux-x64/vendor/<triple>/bin/codex` (codex 0.169.0, native)
//!
//! Every locator returns `None` and prints a loud reason (with the command that fixes it) when missing,
//! so interop tests can skip with a message instead of failing on a machine without the npm packages.
//!
//! [`NodeGateway`] runs the real `openclaw gateway run` on loopback with a private HOME and state dir.
//! It is stopped (SIGTERM, then SIGKILL of its process group) on drop, and also when the test process
//! dies without dropping it: the gateway runs under a small `sh` watchdog that kills it as soon as our
//! end of its stdin pipe closes.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The exact versions `cargo xtask install-deps` installs.
pub const NODE_VERSION: &str = "24.21.0";
/// The OpenClaw release the reference describes.
pub const OPENCLAW_VERSION: &str = "2026.9.6";
/// The Codex CLI used for app-server interop.
pub const CODEX_VERSION: &str = "0.169.0";

const FIX: &str = "run `cargo xtask install-deps` (installs into .cache/npm)";

/// The folder `cargo xtask install-deps` installs into.
pub fn npm_dir() -> PathBuf {
    match std::env::var_os("OPENCLAW_NPM_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root().join(".cache/npm"),
    }
}

fn workspace_root() -> PathBuf {
    // crates/test-support -> workspace root
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest.to_path_buf())
}

fn missing(what: &str, path: &Path) -> Option<PathBuf> {
    eprintln!(
        "!!! SKIP-REASON: {what} not found at {} — {FIX}",
        path.display()
    );
    None
}

/// The node 24 binary, or `None` (with a loud reason on stderr).
pub fn node_bin() -> Option<PathBuf> {
    let node = npm_dir().join("node24/node_modules/node/bin/node");
    if node.is_file() {
        Some(node)
    } else {
        missing("node 24", &node)
    }
}

/// The real OpenClaw CLI entry point (`openclaw.mjs`), or `None` (with a loud reason on stderr).
pub fn openclaw_mjs() -> Option<PathBuf> {
    let mjs = npm_dir().join("openclaw/node_modules/openclaw/openclaw.mjs");
    if mjs.is_file() {
        Some(mjs)
    } else {
        missing("openclaw (npm)", &mjs)
    }
}

/// The native Codex binary from `@openai/codex` (runs without node), or `None` (with a loud reason).
pub fn codex_bin() -> Option<PathBuf> {
    let triple = match std::env::consts::ARCH {
        "x86_64" => ("codex-linux-x64", "x86_64-unknown-linux-musl"),
        "aarch64" => ("codex-linux-arm64", "aarch64-unknown-linux-musl"),
        other => {
            eprintln!("!!! SKIP-REASON: no @openai/codex native package for arch {other}");
            return None;
        }
    };
    let bin = npm_dir()
        .join("openclaw/node_modules/@openai")
        .join(triple.0)
        .join("vendor")
        .join(triple.1)
        .join("bin/codex");
    if bin.is_file() {
        Some(bin)
    } else {
        missing("codex (npm @openai/codex)", &bin)
    }
}

/// `PATH` with node 24 (and the npm `.bin` folder) first, so scripts with `#!/usr/bin/env node` get it.
pub fn path_with_node() -> OsString {
    let dir = npm_dir();
    let mut dirs = vec![
        dir.join("node24/node_modules/node/bin"),
        dir.join("openclaw/node_modules/.bin"),
    ];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// A `Command` that runs the real `openclaw` CLI with node 24, `PATH` set, and a private
/// `HOME=<home>` / `OPENCLAW_STATE_DIR=<home>/.openclaw` (created). Environment that would point it at
/// another gateway or state is removed. Add the subcommand with `.args([...])`.
pub fn openclaw_js_cli(home: &Path) -> Option<Command> {
    let node = node_bin()?;
    let mjs = openclaw_mjs()?;
    let state = home.join(".openclaw");
    if let Err(err) = std::fs::create_dir_all(&state) {
        eprintln!("!!! SKIP-REASON: cannot create {}: {err}", state.display());
        return None;
    }
    let mut cmd = Command::new(node);
    cmd.arg(mjs);
    private_env(&mut cmd, home);
    Some(cmd)
}

fn private_env(cmd: &mut Command, home: &Path) {
    for var in [
        "OPENCLAW_GATEWAY_TOKEN",
        "OPENCLAW_GATEWAY_PASSWORD",
        "OPENCLAW_GATEWAY_PORT",
        "OPENCLAW_CONFIG_PATH",
        "OPENCLAW_PROFILE",
        "XDG_CONFIG_HOME",
        "XDG_STATE_HOME",
        "XDG_CACHE_HOME",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", home)
        .env("OPENCLAW_STATE_DIR", home.join(".openclaw"))
        .env("PATH", path_with_node())
        .env("NO_COLOR", "1")
        .env("npm_config_update_notifier", "false")
        .current_dir(home);
}

/// A real Node OpenClaw gateway on `127.0.0.1:<port>`, with a private HOME in a tempdir.
#[derive(Debug)]
pub struct NodeGateway {
    /// `ws://127.0.0.1:<port>`
    pub url: String,
    /// The listening port.
    pub port: u16,
    /// The shared token it was started with.
    pub token: String,
    /// The private HOME (its state dir is `<home>/.openclaw`); removed on drop.
    pub home: tempfile::TempDir,
    /// Its combined stdout/stderr log.
    pub log_path: PathBuf,
    /// The watchdog shell; the gateway's pid is in `gateway.pid` under `home`.
    watchdog: Child,
    /// Spawn → TCP port accepting.
    pub port_open_after: Duration,
    /// Spawn → `/readyz` answering 200.
    pub ready_after: Duration,
}

impl NodeGateway {
    /// Starts `openclaw gateway run --allow-unconfigured --token <token> --bind loopback --port <free>`
    /// and waits (up to `deadline`) for `/readyz` to answer 200. It takes 5–12 s on a 2-core machine.
    /// Returns a reason when node/openclaw are missing or the gateway does not become ready.
    pub fn start(token: &str, deadline: Duration) -> Result<NodeGateway, String> {
        let node = node_bin().ok_or("node 24 is not installed")?;
        let mjs = openclaw_mjs().ok_or("openclaw is not installed")?;
        let home = tempfile::Builder::new()
            .prefix("node-gateway-")
            .tempdir()
            .map_err(|e| format!("tempdir: {e}"))?;
        std::fs::create_dir_all(home.path().join(".openclaw")).map_err(|e| e.to_string())?;
        let port = free_port()?;
        let log_path = home.path().join("gateway.log");
        let pid_path = home.path().join("gateway.pid");
        // The watchdog: start the gateway in its own session (so its whole tree can be signalled as a
        // group), record its pid, then block on stdin; EOF (our end closed: drop or test process death)
        // stops the group: SIGTERM, a grace, then SIGKILL.
        let script = r#"
            setsid "$@" >"$OC_LOG" 2>&1 </dev/null &
            pid=$!
            echo "$pid" >"$OC_PID"
            cat >/dev/null
            kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
            i=0
            while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
            kill -KILL -- "-$pid" 2>/dev/null
            exit 0
        "#;
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(script)
            .arg("node-gateway-watchdog")
            .arg(&node)
            .arg(&mjs)
            .args([
                "gateway",
                "run",
                "--allow-unconfigured",
                "--token",
                token,
                "--bind",
                "loopback",
                "--port",
                &port.to_string(),
            ])
            .env("OC_LOG", &log_path)
            .env("OC_PID", &pid_path)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        private_env(&mut cmd, home.path());
        let started = Instant::now();
        let watchdog = cmd
            .spawn()
            .map_err(|e| format!("spawning the Node gateway: {e}"))?;
        let mut gw = NodeGateway {
            url: format!("ws://127.0.0.1:{port}"),
            port,
            token: token.to_string(),
            home,
            log_path,
            watchdog,
            port_open_after: Duration::ZERO,
            ready_after: Duration::ZERO,
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        loop {
            if started.elapsed() > deadline {
                return Err(format!(
                    "the Node gateway did not open port {port} within {deadline:?}; log: {}",
                    gw.log_tail()
                ));
            }
            if let Ok(Some(status)) = gw.watchdog.try_wait() {
                return Err(format!(
                    "the Node gateway exited ({status}); log: {}",
                    gw.log_tail()
                ));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                gw.port_open_after = started.elapsed();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        loop {
            if started.elapsed() > deadline {
                return Err(format!(
                    "the Node gateway opened its port but /readyz was not 200 within {deadline:?}; log: {}",
                    gw.log_tail()
                ));
            }
            if http_status(addr, "/readyz") == Some(200) {
                gw.ready_after = started.elapsed();
                return Ok(gw);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The gateway's own pid (not the watchdog's).
    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.home.path().join("gateway.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// The last 2 KB of its log (for failure messages).
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let start = text.len().saturating_sub(2048);
        let start = (start..text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len());
        text[start..].to_string()
    }
}

impl Drop for NodeGateway {
    fn drop(&mut self) {
        // Closing stdin makes the watchdog stop the gateway's process group.
        drop(self.watchdog.stdin.take());
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.watchdog.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
    }
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// A tiny blocking HTTP/1.0 GET; returns the status code.
pub fn http_status(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut head = [0u8; 64];
    let n = stream.read(&mut head).ok()?;
    let line = std::str::from_utf8(&head[..n]).ok()?;
    line.split_whitespace().nth(1)?.parse().ok()
}
