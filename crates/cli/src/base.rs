//! What every command module shares: the error that carries an exit code, the exit codes, and
//! the small runtime client commands run on. A leaf module: it uses no other module of the crate.

use std::process::ExitCode;

/// Exit code: the gateway is not running (`gateway status`, client commands that cannot connect).
pub const EXIT_NOT_RUNNING: u8 = 3;
/// Exit code: bad usage or a config problem (sysexits `EX_USAGE`).
pub const EXIT_USAGE: u8 = 64;

/// An error that carries its exit code and a message meant for the user.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CliError {
    /// The process exit code to return: 1 failure, [`EXIT_NOT_RUNNING`], [`EXIT_USAGE`].
    pub exit: u8,
    /// What went wrong and how to fix it; printed as `error: <message>`.
    pub message: String,
}

impl CliError {
    /// An error with exit code `exit` and `message`.
    pub fn new(exit: u8, message: impl Into<String>) -> Self {
        CliError {
            exit,
            message: message.into(),
        }
    }

    /// A usage/config error (exit 64).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError::new(EXIT_USAGE, message)
    }
}

/// Run a future on a small single-threaded runtime (client commands).
pub fn block_on<F: std::future::Future>(fut: F) -> anyhow::Result<F::Output> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    Ok(rt.block_on(fut))
}

/// Flatten `block_on(async { … -> anyhow::Result<ExitCode> })`.
pub fn block_on_result(
    fut: impl std::future::Future<Output = anyhow::Result<ExitCode>>,
) -> anyhow::Result<ExitCode> {
    block_on(fut)?
}
