//! The running gateway's files in the state dir: the `gateway.lock` flock it holds for its whole
//! life (the truth about "running"), and `gateway.pid` / `gateway.runtime.json` (pid, port, url,
//! bind, auth mode, version, start time). Read by the client side (`client.rs`, `doctor.rs`),
//! written by `run.rs`, used by `service.rs`; it depends on none of them.

use openclaw_rs_state::{FileLock, StateDir, PUBLIC_MODE};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::time::Duration;

/// The lock the running gateway holds.
pub fn lock_path(state: &StateDir) -> std::path::PathBuf {
    state.join("gateway.lock")
}

/// What a running gateway wrote about itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeInfo {
    /// The gateway's process id (also in `gateway.pid`).
    pub pid: u32,
    /// The port it listens on.
    pub port: u16,
    /// The WebSocket URL clients use: `ws://127.0.0.1:<port>`.
    pub url: String,
    /// `loopback` or `lan`.
    pub bind: String,
    /// The shared-secret mode: `none`, `token` or `password`.
    pub auth_mode: String,
    /// The gateway's version.
    pub version: String,
    /// When it started, Unix ms.
    pub started_at_ms: u64,
    /// Its state directory, as a path string.
    pub state_dir: String,
}

impl RuntimeInfo {
    /// Write `gateway.pid` and `gateway.runtime.json`.
    pub fn write(&self, state: &StateDir) -> Result<(), openclaw_rs_state::StateError> {
        openclaw_rs_state::write_json(&state.join("gateway.runtime.json"), self, PUBLIC_MODE)?;
        openclaw_rs_state::write_atomic(
            &state.join("gateway.pid"),
            format!("{}\n", self.pid).as_bytes(),
            PUBLIC_MODE,
        )
    }

    /// The runtime file of a gateway that is running now (its lock is held), else None.
    pub fn read(state: &StateDir) -> Option<RuntimeInfo> {
        if !is_locked(state) {
            return None;
        }
        let bytes =
            openclaw_rs_state::read_optional(&state.join("gateway.runtime.json")).ok()??;
        serde_json::from_slice(&bytes).ok()
    }

    /// Remove the files if they still describe `pid`.
    pub fn remove_if_ours(state: &StateDir, pid: u32) {
        let path = state.join("gateway.runtime.json");
        let ours = openclaw_rs_state::read_optional(&path)
            .ok()
            .flatten()
            .and_then(|b| serde_json::from_slice::<RuntimeInfo>(&b).ok())
            .is_some_and(|r| r.pid == pid);
        if ours {
            let _ = std::fs::remove_file(path);
            let _ = std::fs::remove_file(state.join("gateway.pid"));
        }
    }
}

/// Whether some process holds the gateway lock of `state`.
pub fn is_locked(state: &StateDir) -> bool {
    if !state.root().exists() {
        return false;
    }
    match FileLock::try_acquire(&lock_path(state)) {
        Ok(Some(_held_briefly)) => false,
        Ok(None) => true,
        Err(_) => false,
    }
}

/// The pid in `gateway.runtime.json`, whether or not that gateway still runs.
pub fn runtime_pid(state: &StateDir) -> Option<u32> {
    let bytes = openclaw_rs_state::read_optional(&state.join("gateway.runtime.json")).ok()??;
    serde_json::from_slice::<RuntimeInfo>(&bytes)
        .ok()
        .map(|r| r.pid)
}

/// `GET /readyz` on loopback answers 200.
pub(crate) fn http_ready(port: u16) -> bool {
    let Ok(mut s) = std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    ) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 16];
    let mut n = 0;
    while n < 12 {
        match s.read(&mut buf[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    buf[..n].starts_with(b"HTTP/1.1 200")
}
