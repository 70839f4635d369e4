//! Metrics are per gateway: two gateways in one process (real sockets on `127.0.0.1:0`, the
//! typed client, real runs and journals) count separately, and an embedder's registry serves a
//! gateway's metrics with fresh levels.

use openclaw_rs_client::{Client, ClientOptions};
use openclaw_rs_gateway::prometheus::{Encoder, IntCounter, Registry, TextEncoder};
use openclaw_rs_gateway::{Gateway, GatewayBuilder, GatewayError, SharedAuth};
use openclaw_rs_protocol::methods::gateway::HealthParams;
use openclaw_rs_protocol::methods::sessions::{AgentWaitParams, SessionsSpawnParams};
use openclaw_rs_protocol::methods::NonEmpty;
use openclaw_rs_sessions::{
    BoxFuture, Cancel, ExecError, ExecEvent, ExecOutcome, ExecRequest, RunExecutor,
};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

const TOKEN: &str = "metrics-test-token";

/// Answers every task with its text.
struct Echo;

impl RunExecutor for Echo {
    fn execute(
        &self,
        req: ExecRequest,
        _events: mpsc::Sender<ExecEvent>,
        _cancel: Cancel,
    ) -> BoxFuture<'static, Result<ExecOutcome, ExecError>> {
        Box::pin(async move {
            Ok(ExecOutcome {
                final_text: req.task,
                thread_id: None,
            })
        })
    }
}

/// A gateway serving in this process.
struct Served {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<Result<(), GatewayError>>,
}

fn builder(dir: &std::path::Path) -> GatewayBuilder {
    Gateway::builder(dir)
        .fixed_config(openclaw_rs_config::Config::default())
        .auth(SharedAuth::token(TOKEN))
        .configure(|o| o.control_ui_env = openclaw_rs_gateway::control_ui::DiscoveryEnv::default())
        .run_executor(Arc::new(Echo))
}

impl Served {
    fn start(builder: GatewayBuilder) -> Served {
        let gateway = builder
            .bind("127.0.0.1:0")
            .expect("bind")
            .build()
            .expect("build");
        let addr = gateway.local_addrs()[0];
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(gateway.run_until(async move {
            let _ = stopped.await;
        }));
        Served {
            addr,
            stop,
            serving,
        }
    }

    async fn client(&self) -> Client {
        let mut opts = ClientOptions::new(format!("ws://{}", self.addr));
        opts.token = Some(TOKEN.into());
        Client::connect(opts).await.expect("connect")
    }

    /// `GET /metrics` with the gateway token: the body of a 200.
    async fn metrics(&self) -> String {
        let mut s = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connect for /metrics");
        let req = format!(
            "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
        );
        s.write_all(req.as_bytes()).await.expect("send request");
        let mut buf = String::new();
        tokio::time::timeout(Duration::from_secs(30), s.read_to_string(&mut buf))
            .await
            .expect("/metrics answered within 30 s")
            .expect("read /metrics");
        let (head, body) = buf.split_once("\r\n\r\n").expect("an HTTP answer");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        body.to_owned()
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.serving
            .await
            .expect("serving task")
            .expect("serve result");
    }
}

/// The value of the sample line whose series (name and labels) is exactly `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.rsplit_once(' ').is_some_and(|(s, _)| s == series))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

/// The event series a client's connection, a `health` call and a run move.
const MOVED_BY_TRAFFIC: &[&str] = &[
    r#"openclaw_gateway_connections_total{outcome="websocket"}"#,
    r#"openclaw_gateway_handshakes_total{outcome="ok"}"#,
    r#"openclaw_gateway_rpc_requests_total{method="health",outcome="ok"}"#,
    r#"openclaw_gateway_rpc_requests_total{method="sessions.spawn",outcome="ok"}"#,
    r#"openclaw_run_completed_total{failure_class="none",outcome="completed"}"#,
    "openclaw_journal_fsync_seconds_count",
];

fn values(text: &str) -> Vec<f64> {
    MOVED_BY_TRAFFIC
        .iter()
        .map(|s| sample(text, s).unwrap_or(0.0))
        .collect()
}

/// Connect, call `health`, run a task to its end.
async fn traffic(served: &Served) {
    let client = served.client().await;
    let health = client.call(HealthParams::default()).await.expect("health");
    assert!(health.ok);
    let accepted = client
        .call(SessionsSpawnParams {
            task: NonEmpty::new("counted").expect("task"),
            ..SessionsSpawnParams::default()
        })
        .await
        .expect("sessions.spawn");
    let run = client
        .call(AgentWaitParams {
            run_id: NonEmpty::new(accepted.run_id).expect("run id"),
            timeout_ms: Some(30_000),
        })
        .await
        .expect("agent.wait");
    assert_eq!(run.text.as_deref(), Some("counted"), "{run:?}");
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_in_one_process_count_separately() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Served::start(builder(dir_a.path()));
    let b = Served::start(builder(dir_b.path()));

    let b_before = b.metrics().await;
    let a_before = a.metrics().await;
    traffic(&a).await;
    let a_after = a.metrics().await;
    let b_after = b.metrics().await;

    // A counted its traffic (so this test can tell the two apart) ...
    for (series, (before, after)) in MOVED_BY_TRAFFIC
        .iter()
        .zip(values(&a_before).into_iter().zip(values(&a_after)))
    {
        assert!(
            after > before,
            "gateway A did not count {series}: {before} -> {after}\n{a_after}"
        );
    }
    // ... and B, which served nothing but its own /metrics, did not move.
    assert_eq!(
        values(&b_before),
        values(&b_after),
        "gateway B's counters moved with A's traffic ({MOVED_BY_TRAFFIC:?}):\n{b_after}"
    );
    assert!(
        b_after.contains("# TYPE openclaw_gateway_connections_total counter"),
        "{b_after}"
    );
    // Each own registry has the process figures.
    assert!(sample(&b_after, "process_resident_memory_bytes").is_some_and(|v| v > 0.0));

    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedder_registry_serves_the_gateway_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new();
    let mine = IntCounter::new("my_tool_jobs_total", "Jobs my tool ran.").unwrap();
    registry.register(Box::new(mine.clone())).unwrap();
    mine.inc();

    let served = Served::start(builder(dir.path()).metrics_registry(registry.clone()));
    // A second gateway cannot register the same names in the same registry.
    let other = tempfile::tempdir().unwrap();
    let err = builder(other.path())
        .metrics_registry(registry.clone())
        .build()
        .expect_err("one gateway per registry");
    assert!(matches!(err, GatewayError::Metrics(_)), "{err:?}");
    assert!(err.to_string().contains("own registry"), "{err}");

    let gather = |r: &Registry| {
        let mut out = Vec::new();
        TextEncoder::new().encode(&r.gather(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let client = served.client().await;
    client.call(HealthParams::default()).await.expect("health");
    // Levels are read when the embedder gathers: the open connection shows without any scrape
    // of the gateway's own route. (Bounded wait: the server registers the connection as it
    // answers `connect`.)
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let text = loop {
        let text = gather(&registry);
        if sample(&text, "openclaw_gateway_connections") == Some(1.0) {
            break text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the open connection never showed in the embedder's registry:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(sample(&text, "my_tool_jobs_total"), Some(1.0), "{text}");
    assert_eq!(
        sample(
            &text,
            r#"openclaw_gateway_rpc_requests_total{method="health",outcome="ok"}"#
        ),
        Some(1.0),
        "{text}"
    );
    // Process figures belong to the embedder's process, not to the gateway.
    assert!(!text.contains("process_resident_memory_bytes"), "{text}");
    // The gateway's own route serves the same registry.
    let route = served.metrics().await;
    assert_eq!(sample(&route, "my_tool_jobs_total"), Some(1.0), "{route}");
    client.close().await;
    served.stop().await;

    // Dropping the gateway unregisters its metrics; the registry can take the next one.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while gather(&registry).contains("openclaw_gateway_connections_total") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stopped gateway's metrics stayed registered:\n{}",
            gather(&registry)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let next = builder(other.path())
        .metrics_registry(registry.clone())
        .build()
        .expect("the registry is free again");
    assert!(gather(&registry).contains("openclaw_gateway_connections_total"));
    drop(next);
    assert_eq!(sample(&gather(&registry), "my_tool_jobs_total"), Some(1.0));
}
