//! The gateway as a systemd **user** service: `gateway install [--dry-run]`, `gateway uninstall`,
//! the unit text, and readiness notification (`sd_notify`) for `Type=notify`.
//!
//! The unit runs `openclaw gateway run --state-dir <dir>` with `Type=notify`: the gateway sends
//! `READY=1` over `$NOTIFY_SOCKET` once `/readyz` answers 200, so `systemctl --user start`
//! returns when the port serves. An in-place restart (SIGUSR2, `gateway restart`) re-execs the
//! same pid: it sends `RELOADING=1` before the exec and the new image sends `READY=1` again.

use crate::base::CliError;
use crate::client;
pub use crate::sd_notify::{monotonic_usec, notify, notify_to, notify_wanted};
use clap::Args;
use openclaw_rs_state::StateDir;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};

/// The unit's name (OpenClaw's default-profile name).
pub const UNIT: &str = "openclaw-gateway.service";

/// Flags of `gateway install`.
#[derive(Debug, Clone, Args)]
pub struct InstallArgs {
    /// State directory the service runs on (default: OPENCLAW_STATE_DIR or ~/.openclaw).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Port (default: the config's gateway.port, else 18789).
    #[arg(long)]
    pub port: Option<u16>,
    /// Print the unit and the commands; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Flags of `gateway uninstall`.
#[derive(Debug, Clone, Args)]
pub struct UninstallArgs {
    /// Print what would be removed and run; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `$XDG_CONFIG_HOME/systemd/user` (default `~/.config/systemd/user`).
pub fn unit_dir() -> Option<PathBuf> {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    let config = env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(config.join("systemd/user"))
}

/// Where the unit file lives.
pub fn unit_path() -> Option<PathBuf> {
    unit_dir().map(|d| d.join(UNIT))
}

/// Quote one argument for `ExecStart=` (systemd's C-style quoting; `%` and `$` escaped).
fn quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c));
    if plain {
        return arg.to_owned();
    }
    let mut out = String::from("\"");
    for c in arg.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '%' => out.push_str("%%"),
            '$' => out.push_str("$$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Quote an `Environment=` assignment (no `$` expansion there; `%` specifiers are).
fn quote_env(assignment: &str) -> String {
    let mut out = String::from("\"");
    for c in assignment.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '%' => out.push_str("%%"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The unit file text for `exe gateway run --state-dir <state> [--port <port>]`.
pub fn unit_text(exe: &Path, state: &Path, port: Option<u16>) -> String {
    let mut exec = format!(
        "{} gateway run --state-dir {}",
        quote(&exe.to_string_lossy()),
        quote(&state.to_string_lossy())
    );
    if let Some(p) = port {
        exec.push_str(&format!(" --port {p}"));
    }
    format!(
        "# Written by `openclaw gateway install`; remove with `openclaw gateway uninstall`.\n\
[Unit]\n\
Description=OpenClaw gateway (openclaw-rs)\n\
Documentation=man:systemd.service(5)\n\
After=network-online.target\n\
Wants=network-online.target\n\
StartLimitBurst=10\n\
StartLimitIntervalSec=300\n\
\n\
[Service]\n\
Type=notify\n\
NotifyAccess=main\n\
Environment={}\n\
ExecStart={exec}\n\
# In-place restart: drain, re-exec (same pid, listening socket kept), READY=1 again.\n\
ExecReload=/bin/kill -USR2 $MAINPID\n\
Restart=on-failure\n\
RestartSec=2\n\
# 64: the config or the flags are invalid; restarting cannot help.\n\
RestartPreventExitStatus=64\n\
TimeoutStartSec=60\n\
TimeoutStopSec=330\n\
KillMode=mixed\n\
\n\
[Install]\n\
WantedBy=default.target\n",
        quote_env(&format!("OPENCLAW_STATE_DIR={}", state.display())),
    )
}

/// The state dir an installed unit runs on (its `OPENCLAW_STATE_DIR`).
fn unit_state_dir(text: &str) -> Option<PathBuf> {
    text.lines().find_map(|l| {
        let v = l.strip_prefix("Environment=")?;
        let v = v.trim_matches('"').replace("%%", "%");
        v.strip_prefix("OPENCLAW_STATE_DIR=").map(PathBuf::from)
    })
}

/// Whether a user systemd answers (`systemctl --user show-environment`); Err says why not.
pub fn user_manager() -> Result<(), String> {
    match openclaw_rs_app_server::spawn::waited_command("systemctl")
        .args(["--user", "show-environment"])
        .stdin(Stdio::null())
        .output()
    {
        Err(e) => Err(format!("systemctl cannot be run ({e})")),
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!(
            "no user systemd is reachable (`systemctl --user show-environment`: {})",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
    }
}

fn systemctl(args: &[&str]) -> Result<String, CliError> {
    let out = openclaw_rs_app_server::spawn::waited_command("systemctl")
        .arg("--user")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| CliError::new(1, format!("cannot run systemctl: {e}")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(CliError::new(
            1,
            format!(
                "`systemctl --user {}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ))
    }
}

/// How the gateway of a state dir is managed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manager {
    /// The unit is installed for this state dir and a user systemd answers.
    Systemd {
        /// The unit file.
        unit: PathBuf,
        /// `systemctl --user is-enabled` answers `enabled` (the unit starts with the user session).
        enabled: bool,
    },
    /// The unit is installed for this state dir but no user systemd answers (reason).
    Unreachable {
        /// The unit file.
        unit: PathBuf,
        /// Why `systemctl --user` did not answer.
        reason: String,
    },
    /// No unit for this state dir: `gateway start` runs the pidfile daemon.
    Pidfile,
}

/// Which manager runs the gateway of `state`.
pub fn manager(state: &StateDir) -> Manager {
    let Some(unit) = unit_path().filter(|p| p.is_file()) else {
        return Manager::Pidfile;
    };
    let ours = std::fs::read_to_string(&unit)
        .ok()
        .and_then(|t| unit_state_dir(&t))
        .is_some_and(|d| same_dir(&d, state.root()));
    if !ours {
        return Manager::Pidfile;
    }
    match user_manager() {
        Ok(()) => {
            let enabled = systemctl(&["is-enabled", UNIT]).is_ok_and(|s| s == "enabled");
            Manager::Systemd { unit, enabled }
        }
        Err(reason) => Manager::Unreachable { unit, reason },
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// One line for `gateway status` and `doctor`.
pub fn describe(m: &Manager) -> String {
    match m {
        Manager::Systemd { unit, enabled } => format!(
            "systemd user unit {UNIT} ({}; {})",
            if *enabled { "enabled" } else { "not enabled" },
            unit.display()
        ),
        Manager::Unreachable { unit, reason } => format!(
            "systemd user unit installed at {} but {reason}; using the pidfile daemon",
            unit.display()
        ),
        Manager::Pidfile => {
            "pidfile daemon (`openclaw gateway install` makes it a systemd user service)".into()
        }
    }
}

/// `systemctl --user <verb> openclaw-gateway.service`, for start/stop/restart.
pub fn run_verb(verb: &str) -> anyhow::Result<ExitCode> {
    systemctl(&[verb, UNIT])?;
    println!("systemctl --user {verb} {UNIT}: done");
    Ok(ExitCode::SUCCESS)
}

/// `gateway install`.
///
/// `stop_pidfile_daemon` stops a pidfile daemon running on the same state dir before systemd
/// takes over (the caller passes `service::stop`; this module sits below `service`).
pub fn install(
    args: InstallArgs,
    stop_pidfile_daemon: impl FnOnce(PathBuf) -> anyhow::Result<ExitCode>,
) -> anyhow::Result<ExitCode> {
    let state = client::state_dir(args.state_dir.as_ref());
    let root = std::path::absolute(state.root())
        .map_err(|e| CliError::new(1, format!("cannot resolve the state dir: {e}")))?;
    let exe = std::env::current_exe()
        .map_err(|e| CliError::new(1, format!("cannot locate this executable: {e}")))?;
    let unit = unit_path().ok_or_else(|| {
        CliError::new(
            1,
            "neither XDG_CONFIG_HOME nor HOME is set: cannot place the user unit",
        )
    })?;
    let text = unit_text(&exe, &root, args.port);
    let reach = user_manager();
    let commands = [
        "systemctl --user daemon-reload".to_owned(),
        format!("systemctl --user enable --now {UNIT}"),
    ];
    if args.dry_run {
        println!("would write {}:\n", unit.display());
        print!("{text}");
        println!();
        match &reach {
            Ok(()) => println!("then run:"),
            Err(why) => println!("{why}; you would run (once a user systemd is reachable):"),
        }
        for c in &commands {
            println!("  {c}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(dir) = unit.parent() {
        openclaw_rs_state::ensure_dir(dir).map_err(|e| CliError::new(1, e.to_string()))?;
    }
    openclaw_rs_state::write_atomic(&unit, text.as_bytes(), 0o644)
        .map_err(|e| CliError::new(1, e.to_string()))?;
    println!("wrote {}", unit.display());
    match reach {
        Ok(()) => {
            // A pidfile daemon on the same state dir holds its lock: hand over to systemd.
            if crate::runtime_file::RuntimeInfo::read(&state).is_some() {
                println!("stopping the pidfile daemon first (systemd takes over)");
                stop_pidfile_daemon(root.clone())?;
            }
            systemctl(&["daemon-reload"])?;
            systemctl(&["enable", "--now", UNIT])?;
            println!("enabled and started {UNIT} (systemd waited for READY=1: the gateway serves)");
            println!("check it with `openclaw gateway status` or `systemctl --user status {UNIT}`");
        }
        Err(why) => {
            println!("{why}, so it was not enabled or started. Run:");
            for c in &commands {
                println!("  {c}");
            }
            println!("(on a server without a login session: `export XDG_RUNTIME_DIR=/run/user/$(id -u)`, and `sudo loginctl enable-linger $(whoami)` to keep it running after logout)");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `gateway uninstall`.
pub fn uninstall(args: UninstallArgs) -> anyhow::Result<ExitCode> {
    let Some(unit) = unit_path().filter(|p| p.is_file()) else {
        println!("{UNIT} is not installed (nothing to remove)");
        return Ok(ExitCode::SUCCESS);
    };
    let reach = user_manager();
    if args.dry_run {
        if reach.is_ok() {
            println!("would run: systemctl --user disable --now {UNIT}");
        }
        println!("would remove {}", unit.display());
        if reach.is_ok() {
            println!("would run: systemctl --user daemon-reload");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if reach.is_ok() {
        systemctl(&["disable", "--now", UNIT])?;
        println!("stopped and disabled {UNIT}");
    }
    std::fs::remove_file(&unit)
        .map_err(|e| CliError::new(1, format!("cannot remove {}: {e}", unit.display())))?;
    println!("removed {}", unit.display());
    match reach {
        Ok(()) => {
            systemctl(&["daemon-reload"])?;
        }
        Err(why) => println!("{why}; when it is reachable, run `systemctl --user daemon-reload`"),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;
    use std::time::Duration;

    #[test]
    fn notify_reaches_a_path_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let server = UnixDatagram::bind(&path).unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        notify_to(path.to_str().unwrap(), "READY=1\nMAINPID=42").unwrap();
        let mut buf = [0u8; 256];
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1\nMAINPID=42");
    }

    #[test]
    fn notify_reaches_an_abstract_socket() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("openclaw-test-notify-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let server = UnixDatagram::bind_addr(&addr).unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        notify_to(&format!("@{name}"), "RELOADING=1").unwrap();
        let mut buf = [0u8; 64];
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"RELOADING=1");
    }

    #[test]
    fn notify_to_a_missing_socket_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(notify_to(dir.path().join("none").to_str().unwrap(), "READY=1").is_err());
    }

    #[test]
    fn unit_names_the_binary_state_dir_and_readiness() {
        let t = unit_text(
            Path::new("/opt/open claw/openclaw"),
            Path::new("/home/u/.openclaw"),
            Some(18789),
        );
        assert!(t.contains("Type=notify\n"), "{t}");
        assert!(t.contains("Restart=on-failure\n"), "{t}");
        assert!(
            t.contains("ExecStart=\"/opt/open claw/openclaw\" gateway run --state-dir /home/u/.openclaw --port 18789\n"),
            "{t}"
        );
        assert_eq!(unit_state_dir(&t), Some(PathBuf::from("/home/u/.openclaw")));
        assert_eq!(quote("a%b$c"), "\"a%%b$$c\"");
    }

    #[test]
    fn monotonic_clock_moves_forward() {
        let a = monotonic_usec();
        std::thread::sleep(Duration::from_millis(2));
        assert!(monotonic_usec() > a && a > 0);
    }
}
