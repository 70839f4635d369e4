//! The one place in the workspace that creates a process command (`clippy.toml` forbids
//! `Command::new` everywhere else). Every child gets its own process group, so a signal to the
//! group reaches its whole tree and a Ctrl-C in the terminal does not:
//! - [`spawn_child`]: app-server children: explicit cwd, scrubbed environment plus explicit
//!   variables, killed on drop, stdio piped.
//! - [`owned_command`]: a child this process owns and reaps (killed on drop), configured further by
//!   the caller (the embedded app-server's task shell).
//! - [`detached_command`]: a process meant to outlive this one (`openclaw gateway start`).
//! - [`exec_command`]: the command that replaces this process image (the gateway's re-exec
//!   restart); it keeps this process's pid and group, so none is set.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::Stdio;

use tokio::process::{Child, Command};

/// Variables passed through from the parent environment; everything else (API keys included) is
/// scrubbed and must be given explicitly in the runtime's `env`.
pub const INHERITED_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "TERM",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_CACHE_HOME",
    // The user's own Codex home, unless the key sets one.
    "CODEX_HOME",
    // Network setup the upstream needs.
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "RUST_LOG",
    "RUST_BACKTRACE",
];

/// Everything needed to spawn one child.
#[derive(Debug, Clone, Default)]
pub struct SpawnSpec {
    /// Program followed by its arguments.
    pub command: Vec<String>,
    /// Working directory (default: the parent's).
    pub cwd: Option<PathBuf>,
    /// Explicit environment, applied after the scrubbed inherited set.
    pub env: BTreeMap<String, String>,
}

/// Errors from [`spawn_child`].
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// The command list is empty.
    #[error("the app-server command is empty; configure `runtimes.<name>.command` as [program, args...]")]
    EmptyCommand,
    /// The OS refused to start the program.
    #[error("could not start `{program}`: {source} (check that it is installed and on PATH, or use an absolute path)")]
    Io {
        /// Program that failed.
        program: String,
        /// OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Spawns a child with piped stdio, scrubbed environment, its own process group and
/// `kill_on_drop`. The caller owns the returned [`Child`] and must reap it.
pub fn spawn_child(spec: &SpawnSpec) -> Result<Child, SpawnError> {
    let (program, args) = spec.command.split_first().ok_or(SpawnError::EmptyCommand)?;
    let mut cmd = owned_command(program);
    cmd.args(args)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for name in INHERITED_ENV {
        if let Some(value) = std::env::var_os(name) {
            cmd.env(name, value);
        }
    }
    cmd.envs(&spec.env);
    if let Some(cwd) = &spec.cwd {
        cmd.current_dir(cwd);
    }
    cmd.spawn().map_err(|source| SpawnError::Io {
        program: program.clone(),
        source,
    })
}

/// A command for a child this process owns: its own process group, killed when the [`Child`]
/// handle drops. The caller sets arguments, environment, cwd and stdio, spawns it and reaps it.
pub fn owned_command(program: impl AsRef<OsStr>) -> Command {
    #[allow(clippy::disallowed_methods)] // the one allowed place
    let mut cmd = Command::new(program);
    cmd.process_group(0).kill_on_drop(true);
    cmd
}

/// A command for a process meant to outlive this one (a daemon): its own process group, so a
/// Ctrl-C in this terminal does not reach it, and not killed with this process. The caller
/// sets stdio (typically a log file) and environment.
pub fn detached_command(program: impl AsRef<OsStr>) -> std::process::Command {
    #[allow(clippy::disallowed_methods)] // the one allowed place
    let mut cmd = std::process::Command::new(program);
    cmd.process_group(0);
    cmd
}

/// A blocking command for a short-lived tool this process runs and waits for at once
/// (`output()` / `status()`, e.g. `systemctl`): the caller reaps it before going on, so it
/// needs no process group or kill-on-drop.
pub fn waited_command(program: impl AsRef<OsStr>) -> std::process::Command {
    #[allow(clippy::disallowed_methods)] // the one allowed place
    std::process::Command::new(program)
}

/// A command that replaces this process image (`CommandExt::exec`): no new process, so no
/// process group or kill-on-drop applies; pid, group and open non-close-on-exec descriptors
/// carry over.
pub fn exec_command(program: impl AsRef<OsStr>) -> std::process::Command {
    #[allow(clippy::disallowed_methods)] // the one allowed place
    std::process::Command::new(program)
}

/// Sends `signal` to the whole process group `pgid` (the child's pid, since it leads its group).
/// Errors such as "no such process" are ignored: the group is already gone.
pub fn signal_group(pgid: u32, signal: i32) {
    let Ok(pgid) = i32::try_from(pgid) else {
        return;
    };
    if pgid <= 1 {
        return;
    }
    #[allow(unsafe_code)]
    // SAFETY: killpg has no memory-safety preconditions; a stale pgid only yields ESRCH.
    unsafe {
        libc::killpg(pgid, signal);
    }
}
