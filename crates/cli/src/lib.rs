//! The `openclaw` command-line interface, as a library so that `bins/openclaw` stays thin.
//!
//! Adding a command for an area: create `crates/cli/src/<area>.rs` with a clap `Args`/`Subcommand`
//! type and an `async fn run(args) -> anyhow::Result<ExitCode>`, then add ONE variant to
//! [`Command`] and ONE arm to `dispatch`. Client commands reuse [`client::ClientArgs`]
//! (`--url`, `--token`, `--password`, `--timeout`, `--json`) and [`client::connect`], which
//! resolve defaults from the state dir and turn connection failures into actionable messages.
//!
//! Exit codes: 0 success, 1 failure, 3 gateway not running, 64 usage or config error.
//!
//! Entry points: [`main_with_args`] (the `openclaw` binary), [`gateway_main_with_args`] (the
//! `gateway` binary), [`Cli`] (the clap command tree, for embedding or completion).
//!
//! ```
//! use clap::Parser;
//! use openclaw_rs_cli::{Cli, Command};
//!
//! let cli = Cli::try_parse_from(["openclaw", "gateway", "status"]).expect("a valid command");
//! assert!(matches!(cli.command, Command::Gateway(_)));
//! assert!(Cli::try_parse_from(["openclaw", "no-such-command"]).is_err());
//! ```

#![warn(missing_docs)]

mod base;
pub mod client;
pub mod devices;
pub mod doctor;
pub mod gateway;
pub mod holder;
pub mod run;
pub mod runtime_file;
pub mod sd_notify;
pub mod service;
pub mod sessions;
pub mod systemd;

use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::process::ExitCode;

pub use base::{block_on, block_on_result, CliError, EXIT_NOT_RUNNING, EXIT_USAGE};

#[derive(Debug, Parser)]
#[command(
    name = "openclaw",
    version,
    about = "OpenClaw-compatible gateway and its command-line client",
    after_help = "Exit codes: 0 success, 1 failure, 3 gateway not running, 64 usage or config error."
)]
/// The `openclaw` command line: parse it with [`clap::Parser`], run it with [`main_with_args`].
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands. One variant per area.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run and manage the gateway (run, start, stop, restart, status, call, health).
    Gateway(gateway::GatewayArgs),
    /// Ask the running gateway for its health.
    Health(client::ClientArgs),
    /// The gateway's status, degraded state included (same as `gateway status`).
    Status(client::ClientArgs),
    /// Spawn a subagent run and stream its output (exit code names the error class).
    SessionsSpawn(sessions::SpawnArgs),
    /// List sessions (`sessions [list]`) or follow one (`sessions tail KEY`).
    Sessions(sessions::SessionsArgs),
    /// Check the config, state dir, service, cooldowns and the gateway; --fix repairs what is safe (with backups), --dry-run shows it.
    Doctor(doctor::DoctorArgs),
    /// Pairing requests, paired devices and device tokens (list, approve, reject, remove, rotate, revoke).
    Devices(devices::DevicesArgs),
}

/// Run the CLI with `args` (including the program name) and return the exit code.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return clap_exit(e),
    };
    finish(dispatch(cli.command))
}

/// The `gateway` binary: the flags of `openclaw gateway run`, nothing else.
pub fn gateway_main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    #[derive(Debug, Parser)]
    #[command(
        name = "gateway",
        version,
        about = "Run the OpenClaw-compatible gateway in the foreground"
    )]
    struct GatewayBin {
        #[command(flatten)]
        run: run::RunArgs,
    }
    let parsed = match GatewayBin::try_parse_from(args) {
        Ok(p) => p,
        Err(e) => return clap_exit(e),
    };
    finish(run::run_foreground(parsed.run))
}

fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Gateway(args) => gateway::dispatch(args),
        Command::Health(args) => block_on_result(client::health(args)),
        Command::Status(args) => block_on_result(service::status(args)),
        Command::SessionsSpawn(args) => block_on_result(sessions::spawn(args)),
        Command::Sessions(args) => block_on_result(sessions::sessions(args)),
        Command::Doctor(args) => block_on_result(doctor::run(args)),
        Command::Devices(args) => block_on_result(devices::run(args)),
    }
}

fn clap_exit(e: clap::Error) -> ExitCode {
    let _ = e.print();
    if e.use_stderr() {
        ExitCode::from(EXIT_USAGE)
    } else {
        ExitCode::SUCCESS
    }
}

fn finish(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            let exit = e.downcast_ref::<CliError>().map(|c| c.exit).unwrap_or(1);
            eprintln!("error: {e:#}");
            ExitCode::from(exit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Secrets are random; one that starts with `-` must still be read as the flag's value.
    #[test]
    fn secrets_and_tasks_may_start_with_a_hyphen() {
        let cli =
            Cli::try_parse_from(["openclaw", "health", "--token", "-4xY", "--password", "-p"])
                .unwrap_or_else(|e| panic!("{e}"));
        let Command::Health(a) = cli.command else {
            panic!("parsed as {:?}", cli.command)
        };
        assert_eq!(a.conn.token.as_deref(), Some("-4xY"));
        assert_eq!(a.conn.password.as_deref(), Some("-p"));

        let cli = Cli::try_parse_from([
            "openclaw",
            "sessions-spawn",
            "--task",
            "-n",
            "--token",
            "-t",
            "--model",
            "exec",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let Command::SessionsSpawn(a) = cli.command else {
            panic!("parsed as {:?}", cli.command)
        };
        assert_eq!(a.task, "-n");
        assert_eq!(a.conn.token.as_deref(), Some("-t"));
        assert_eq!(a.model.as_deref(), Some("exec"));

        let cli = Cli::try_parse_from(["openclaw", "gateway", "run", "--token", "-abc"])
            .unwrap_or_else(|e| panic!("{e}"));
        let Command::Gateway(gateway::GatewayArgs {
            command: gateway::GatewayCommand::Run(r),
        }) = cli.command
        else {
            panic!("parsed as {:?}", cli.command)
        };
        assert_eq!(r.token.as_deref(), Some("-abc"));
    }
}
