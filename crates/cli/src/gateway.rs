//! `openclaw gateway …`: run, start, stop, restart, status, call, health.

use crate::base::{block_on_result, CliError};
use crate::client::{self, ClientArgs};
use crate::run::RunArgs;
use crate::service;
use clap::{Args, Subcommand};
use openclaw_rs_protocol::{scopes, ErrorShape};
use serde::Serialize;
use serde_json::Value;
use std::process::ExitCode;

/// Flags of `openclaw gateway`: one of its subcommands.
#[derive(Debug, Args)]
pub struct GatewayArgs {
    /// The gateway subcommand to run.
    #[command(subcommand)]
    pub command: GatewayCommand,
}

/// `openclaw gateway <run|start|stop|restart|status|call|health|install|uninstall>`.
#[derive(Debug, Subcommand)]
pub enum GatewayCommand {
    /// Run the gateway in the foreground (Ctrl-C or SIGTERM stops it gracefully).
    Run(RunArgs),
    /// Start the gateway in the background and wait until it is ready.
    Start(service::StartArgs),
    /// Stop the background gateway gracefully and wait for it to exit.
    Stop(service::StopArgs),
    /// Restart a running gateway in place (drain, re-exec, no refused connection); else start it.
    Restart(service::RestartArgs),
    /// Report whether the gateway runs, and its pid, version, uptime, url, auth mode, connections.
    Status(ClientArgs),
    /// Call one RPC method and print its JSON result.
    Call(CallArgs),
    /// Ask the running gateway for its health.
    Health(ClientArgs),
    /// Install the gateway as a systemd user service (Type=notify, restart on failure) and start it.
    Install(crate::systemd::InstallArgs),
    /// Stop, disable and remove the systemd user service.
    Uninstall(crate::systemd::UninstallArgs),
}

/// Flags of `openclaw gateway call METHOD`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// Method name, e.g. `health`, `status`.
    pub method: String,
    /// Params as a JSON object.
    #[arg(long, default_value = "{}")]
    pub params: String,
    /// Connection flags. The result is always printed as JSON; with `--json` a refused call
    /// prints `{"ok": false, "error": …}` too.
    #[command(flatten)]
    pub client: ClientArgs,
}

pub(crate) fn dispatch(args: GatewayArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        GatewayCommand::Run(a) => crate::run::run_foreground(a),
        GatewayCommand::Start(a) => service::start(a),
        GatewayCommand::Stop(a) => service::stop(a),
        GatewayCommand::Restart(a) => service::restart(a),
        GatewayCommand::Status(a) => block_on_result(service::status(a)),
        GatewayCommand::Call(a) => block_on_result(call(a)),
        GatewayCommand::Health(a) => block_on_result(client::health(a)),
        GatewayCommand::Install(a) => crate::systemd::install(a, |state_dir| {
            service::stop(service::StopArgs {
                state_dir: Some(state_dir),
                wait: 30,
            })
        }),
        GatewayCommand::Uninstall(a) => crate::systemd::uninstall(a),
    }
}

/// `--json` output of a refused `gateway call`.
#[derive(Serialize)]
struct CallFailed<'a> {
    ok: bool,
    error: &'a ErrorShape,
}

/// `gateway call`: untyped by nature (any method, params as given, the result as it comes).
async fn call(args: CallArgs) -> anyhow::Result<ExitCode> {
    let params: Value = serde_json::from_str(&args.params).map_err(|e| {
        CliError::usage(format!(
            "--params is not valid JSON ({e}); pass an object, e.g. --params '{{\"limit\":10}}'"
        ))
    })?;
    let (client, target) = client::connect(
        &args.client,
        &[scopes::READ, scopes::WRITE, scopes::ADMIN, scopes::PAIRING],
    )
    .await?;
    let result = client.request(&args.method, params).await;
    client.close().await;
    match result {
        Ok(v) => {
            client::print_json(&v);
            Ok(ExitCode::SUCCESS)
        }
        Err(openclaw_rs_client::ClientError::Server(shape)) => {
            if args.client.json {
                client::print_json(&CallFailed {
                    ok: false,
                    error: &shape,
                });
            }
            Err(CliError::new(1, format!("{} failed: {shape}", args.method)).into())
        }
        Err(e) => Err(client::explain(&e, &target).into()),
    }
}
