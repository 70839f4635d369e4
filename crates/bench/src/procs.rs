//! Gateway processes under measurement: spawn in their own process group, time spawn→port-open,
//! sum the RSS of the whole process tree from `/proc`, and stop the whole group.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// How to start one kind of gateway.
#[derive(Debug, Clone)]
pub struct GatewaySpec {
    /// "ours" or "node".
    pub label: &'static str,
    /// Program and arguments; `{port}` and `{token}` are substituted.
    pub argv: Vec<String>,
    /// Extra environment (HOME and OPENCLAW_STATE_DIR are set per spawn).
    pub env: Vec<(String, String)>,
    /// Longest wait for the port and for readiness.
    pub deadline: Duration,
}

/// A running gateway; its process group is stopped on drop.
#[derive(Debug)]
pub struct Running {
    pub child: Child,
    pub port: u16,
    pub home: tempfile::TempDir,
    pub port_open: Duration,
    pub ready: Option<Duration>,
}

impl GatewaySpec {
    /// Our gateway binary at `gateway`, on `{port}` with `{token}` and its own state dir.
    pub fn ours(gateway: &Path) -> GatewaySpec {
        GatewaySpec {
            label: "ours",
            argv: vec![
                gateway.to_string_lossy().into_owned(),
                "--port".into(),
                "{port}".into(),
                "--token".into(),
                "{token}".into(),
                "--state-dir".into(),
                "{state}".into(),
            ],
            env: vec![],
            deadline: Duration::from_secs(30),
        }
    }

    /// Spawns with a fresh HOME, polls the port (every 100 µs), then `/readyz` until 200.
    pub fn spawn(&self, token: &str) -> Result<Running> {
        self.spawn_inner(token, None)
    }

    /// Like [`GatewaySpec::spawn`], with `config` written to `<state>/openclaw.json` first.
    pub fn spawn_with_config(&self, token: &str, config: &str) -> Result<Running> {
        self.spawn_inner(token, Some(config))
    }

    fn spawn_inner(&self, token: &str, config: Option<&str>) -> Result<Running> {
        let port = free_port()?;
        let home = tempfile::Builder::new()
            .prefix(&format!("bench-{}-", self.label))
            .tempdir()?;
        let state = home.path().join(".openclaw");
        std::fs::create_dir_all(&state)?;
        if let Some(config) = config {
            std::fs::write(state.join("openclaw.json"), config)?;
        }
        let argv: Vec<String> = self
            .argv
            .iter()
            .map(|a| {
                a.replace("{port}", &port.to_string())
                    .replace("{token}", token)
                    .replace("{state}", &state.to_string_lossy())
            })
            .collect();
        let Some((program, args)) = argv.split_first() else {
            bail!("empty command for {}", self.label);
        };
        let log = std::fs::File::create(home.path().join("gateway.log"))?;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env("HOME", home.path())
            .env("OPENCLAW_STATE_DIR", &state)
            .env_remove("OPENCLAW_GATEWAY_TOKEN")
            .env_remove("OPENCLAW_CONFIG_PATH")
            .env_remove("OPENCLAW_GATEWAY_PORT")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(home.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        let child = cmd
            .spawn()
            .with_context(|| format!("spawning {}", argv.join(" ")))?;
        let mut running = Running {
            child,
            port,
            home,
            port_open: Duration::ZERO,
            ready: None,
        };
        loop {
            if TcpStream::connect(addr).is_ok() {
                running.port_open = started.elapsed();
                break;
            }
            if let Some(status) = running.child.try_wait()? {
                bail!(
                    "{} exited before opening its port ({status}); log:\n{}",
                    self.label,
                    running.log_tail()
                );
            }
            if started.elapsed() > self.deadline {
                bail!(
                    "{} did not open port {port} within {:?}; log:\n{}",
                    self.label,
                    self.deadline,
                    running.log_tail()
                );
            }
            std::thread::sleep(Duration::from_micros(100));
        }
        loop {
            match http_status(addr, "/readyz") {
                Some(200) => {
                    running.ready = Some(started.elapsed());
                    break;
                }
                // No readiness endpoint: treat the open port as ready.
                Some(404) | None if started.elapsed() > Duration::from_secs(3) => break,
                _ => {}
            }
            if started.elapsed() > self.deadline {
                bail!(
                    "{} opened its port but /readyz never answered 200 within {:?}; log:\n{}",
                    self.label,
                    self.deadline,
                    running.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        Ok(running)
    }
}

impl Running {
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_tail(&self) -> String {
        let text =
            std::fs::read_to_string(self.home.path().join("gateway.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Sum of VmRSS over the process and all its descendants, in bytes, and the process count.
    pub fn tree_rss(&self) -> Result<(u64, usize)> {
        tree_rss(self.pid())
    }

    /// SIGTERM to the group, a grace of `grace`, then SIGKILL.
    pub fn stop(mut self, grace: Duration) {
        self.stop_inner(grace);
    }

    fn stop_inner(&mut self, grace: Duration) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let until = Instant::now() + grace;
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Children of the group may outlive the leader: always finish with SIGKILL to the group.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop_inner(Duration::from_secs(5));
        }
    }
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

fn http_status(addr: SocketAddr, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut head = [0u8; 64];
    let n = s.read(&mut head).ok()?;
    std::str::from_utf8(&head[..n])
        .ok()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// VmRSS summed over `root` and its descendants (found through `/proc/*/stat` parent links).
pub fn tree_rss(root: u32) -> Result<(u64, usize)> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for entry in std::fs::read_dir("/proc").context("reading /proc")? {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some(ppid) = parent_of(&entry.path()) {
            children.entry(ppid).or_default().push(pid);
        }
    }
    let mut total = 0;
    let mut count = 0;
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        if let Some(rss) = vm_rss(pid) {
            total += rss;
            count += 1;
        }
        if let Some(kids) = children.get(&pid) {
            stack.extend(kids);
        }
    }
    if count == 0 {
        bail!("process {root} is gone");
    }
    Ok((total, count))
}

fn parent_of(proc_dir: &Path) -> Option<u32> {
    let stat = std::fs::read_to_string(proc_dir.join("stat")).ok()?;
    // pid (comm) state ppid ...; comm may contain spaces and parentheses.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1)?.parse().ok()
}

fn vm_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(PathBuf::from(format!("/proc/{pid}/status"))).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
