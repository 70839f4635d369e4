//! `openclaw-app-server`: the embedded app-server (JSON-RPC over stdio, model `exec`). Exits 0 when stdin closes.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = openclaw_embedded_app_server::EmbeddedConfig::from_env()?;
    openclaw_embedded_app_server::serve_stdio(config).await?;
    Ok(())
}
