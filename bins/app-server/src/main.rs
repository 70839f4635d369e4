//! `openclaw-app-server`: the embedded app-server (JSON-RPC over stdio, model `exec`). Exits 0 when stdin closes.
//! `openclaw-app-server tool <name> [<json-args>]` calls a dynamic tool from inside a turn.

use std::process::ExitCode;

fn main() -> anyhow::Result<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("tool") {
        let code = openclaw_rs_embedded_app_server::tool_cli::run(&args[1..]);
        return Ok(ExitCode::from(code));
    }
    let config = openclaw_rs_embedded_app_server::EmbeddedConfig::from_env()?;
    tokio::runtime::Runtime::new()?
        .block_on(openclaw_rs_embedded_app_server::serve_stdio(config))?;
    Ok(ExitCode::SUCCESS)
}
