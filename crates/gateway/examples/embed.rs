//! Embed the gateway in your own Tokio program: serve it in-process on `127.0.0.1:0` with a
//! fixed in-memory config, call it with the typed client, read its metrics from your own
//! Prometheus registry, and shut it down cleanly.
//!
//! `cargo run -p openclaw-rs-gateway --example embed`

use openclaw_rs_client::{Client, ClientOptions};
use openclaw_rs_config::Config;
use openclaw_rs_gateway::prometheus::{Encoder, Registry, TextEncoder};
use openclaw_rs_gateway::{Gateway, SharedAuth};
use openclaw_rs_protocol::methods::gateway::{HealthParams, StatusParams};
use openclaw_rs_protocol::methods::sessions::SessionsListParams;
use std::error::Error;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // Everything the gateway persists (pairing store, sessions, logs) goes to this directory.
    let state_dir = tempfile::tempdir()?;
    let token = openclaw_rs_gateway::launch::random_token()?;

    // A fixed config: no file is read or watched.
    let mut config = Config::default();
    config.session.max_spawn_depth = Some(2);

    // Your program's registry: the gateway registers its metrics here, so your own `/metrics`
    // serves them (the gateway's `GET /metrics` serves this registry too).
    let registry = Registry::new();

    let gateway = Gateway::builder(state_dir.path())
        .fixed_config(config)
        .metrics_registry(registry.clone())
        .auth(SharedAuth::token(token.clone()))
        // No Control UI discovered from this process's PATH.
        .configure(|o| o.control_ui_env = openclaw_rs_gateway::control_ui::DiscoveryEnv::default())
        .bind("127.0.0.1:0")?
        .build()?;
    let addr = gateway.local_addrs()[0];
    let state = gateway.state().clone();

    // Serve until `stop` fires; the serving future owns every task the gateway starts.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(gateway.run_until(async move {
        let _ = stopped.await;
    }));

    let mut opts = ClientOptions::new(format!("ws://{addr}"));
    opts.token = Some(token);
    let client = Client::connect(opts).await?;
    println!(
        "connected to gateway {} on ws://{addr}",
        client.hello().server.version
    );

    let health = client.call(HealthParams::default()).await?;
    println!("health: ok={}", health.ok);
    if !health.ok {
        return Err("the gateway reported itself unhealthy".into());
    }

    let status = client.call(StatusParams::default()).await?;
    println!(
        "status: {} connection(s), listening on {:?}, state dir {}",
        status.connections, status.listen, status.state_dir
    );
    if status.connections != state.connection_count() {
        return Err("status and the state disagree on the connection count".into());
    }

    let sessions = client.call(SessionsListParams::default()).await?;
    println!("sessions: {}", sessions.count);
    // The live config is the fixed one.
    println!(
        "session.maxSpawnDepth = {:?}",
        state.config().load().session.max_spawn_depth
    );

    // What your `/metrics` handler would answer: the gateway's series, levels read now.
    let mut text = Vec::new();
    TextEncoder::new().encode(&registry.gather(), &mut text)?;
    let text = String::from_utf8(text)?;
    let health_calls = text
        .lines()
        .find(|l| {
            l.starts_with(r#"openclaw_gateway_rpc_requests_total{method="health",outcome="ok"} "#)
        })
        .ok_or("the health call is not in the registry")?;
    println!("metrics: {health_calls}");
    let open = text
        .lines()
        .find(|l| l.starts_with("openclaw_gateway_connections "))
        .ok_or("no connection gauge in the registry")?;
    println!("metrics: {open}");

    client.close().await;
    let _ = stop.send(());
    serving.await??;
    println!("gateway stopped");
    Ok(())
}
