//! Quick latency probe with this client: `cargo run --release -p openclaw-rs-client --example hammer -- URL TOKEN [N]`.
//!
//! Prints handshake and sequential `health` latency percentiles (client included). For the
//! side-by-side benchmark against the Node gateway use `cargo xtask bench`.

use openclaw_rs_client::{Client, ClientOptions};
use std::time::{Duration, Instant};

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(url), Some(token)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: hammer URL TOKEN [N]");
        std::process::exit(64);
    };
    let n: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(200);
    let mut opts = ClientOptions::new(url.clone());
    opts.token = Some(token.clone());
    opts.scopes = vec!["operator.read".into()];
    let mut hs = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let c = Client::connect(opts.clone()).await?;
        hs.push(t.elapsed());
        drop(c);
    }
    let c = Client::connect(opts).await?;
    let mut rtt = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        c.request("health", serde_json::json!({})).await?;
        rtt.push(t.elapsed());
    }
    // Pipelined: 20 000 requests with a window of 256 in flight.
    let started = Instant::now();
    let mut done = 0u64;
    let mut sent = 0u64;
    let mut inflight = futures_util::stream::FuturesUnordered::new();
    use futures_util::StreamExt;
    while done < 20_000 {
        while inflight.len() < 256 && sent < 20_000 {
            sent += 1;
            let c = c.clone();
            inflight.push(async move { c.request("health", serde_json::json!({})).await });
        }
        if let Some(r) = inflight.next().await {
            r?;
            done += 1;
        }
    }
    println!(
        "pipelined health: {:.0}/s",
        done as f64 / started.elapsed().as_secs_f64()
    );
    println!(
        "handshake p50 {:?} p99 {:?}; health p50 {:?} p99 {:?} (n={n})",
        pct(&mut hs, 0.5),
        pct(&mut hs, 0.99),
        pct(&mut rtt, 0.5),
        pct(&mut rtt, 0.99)
    );
    Ok(())
}
