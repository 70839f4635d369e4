//! Register extra methods with their scopes and call them with the typed client.
//!
//! `example.echo` needs `operator.read`; `example.reset` needs `operator.admin`. A client
//! granted only `operator.read` gets the first and is refused the second.
//!
//! `cargo run -p openclaw-rs-gateway --example extra_method`

use openclaw_rs_client::{Client, ClientOptions};
use openclaw_rs_gateway::{Gateway, MethodSpec, SharedAuth};
use openclaw_rs_protocol::{scopes, Access, Request};
use serde::{Deserialize, Serialize};
use std::error::Error;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// `example.echo {text}`: the params type names the method and its result, so the gateway
/// decodes the params and the client decodes the result.
#[derive(Debug, Serialize, Deserialize)]
struct EchoParams {
    text: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EchoResult {
    text: String,
    /// Which connection called.
    conn_id: String,
    /// How many echoes this gateway served.
    served: u64,
}

impl Request for EchoParams {
    const METHOD: &'static str = "example.echo";
    type Result = EchoResult;
}

/// `example.reset {}`: admin only.
#[derive(Debug, Default, Serialize, Deserialize)]
struct ResetParams {}

impl Request for ResetParams {
    const METHOD: &'static str = "example.reset";
    type Result = serde_json::Value;
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let state_dir = tempfile::tempdir()?;
    let token = openclaw_rs_gateway::launch::random_token()?;
    let served = Arc::new(AtomicU64::new(0));

    let counter = served.clone();
    let echo = MethodSpec::with_access(
        Access::Scope(scopes::READ),
        move |_state, ctx, p: EchoParams| {
            let served = counter.fetch_add(1, Ordering::Relaxed) + 1;
            async move {
                Ok(EchoResult {
                    text: p.text,
                    conn_id: ctx.conn_id().to_owned(),
                    served,
                })
            }
        },
    );
    let counter = served.clone();
    let reset = MethodSpec::with_access(
        Access::Scope(scopes::ADMIN),
        move |_state, _ctx, _p: ResetParams| {
            counter.store(0, Ordering::Relaxed);
            async move { Ok(serde_json::json!({ "reset": true })) }
        },
    );

    let gateway = Gateway::builder(state_dir.path())
        .fixed_config(openclaw_rs_config::Config::default())
        .auth(SharedAuth::token(token.clone()))
        .configure(|o| o.control_ui_env = openclaw_rs_gateway::control_ui::DiscoveryEnv::default())
        .method(echo)
        .method(reset)
        .bind("127.0.0.1:0")?
        .build()?;
    let url = format!("ws://{}", gateway.local_addrs()[0]);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(gateway.run_until(async move {
        let _ = stopped.await;
    }));

    // A read-only client.
    let mut opts = ClientOptions::new(url);
    opts.token = Some(token);
    opts.scopes = vec![scopes::READ.into()];
    let client = Client::connect(opts).await?;
    let methods = &client.hello().features.methods;
    println!(
        "hello-ok lists example.echo: {}",
        methods.iter().any(|m| m == "example.echo")
    );

    let reply = client
        .call(EchoParams {
            text: "hello from an extra method".into(),
        })
        .await?;
    println!(
        "example.echo -> {:?} (connection {}, served {})",
        reply.text, reply.conn_id, reply.served
    );
    if reply.served != 1 {
        return Err("the echo handler did not run exactly once".into());
    }

    match client.call(ResetParams::default()).await {
        Ok(_) => return Err("example.reset must need operator.admin".into()),
        Err(e) => println!("example.reset refused as expected: {e}"),
    }
    if served.load(Ordering::Relaxed) != 1 {
        return Err("the refused reset ran anyway".into());
    }

    client.close().await;
    let _ = stop.send(());
    serving.await??;
    println!("gateway stopped");
    Ok(())
}
