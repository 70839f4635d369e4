//! `GET /metrics`: auth, the families, `promtool check metrics`, and a real Prometheus scraping
//! a running gateway on loopback.

use crate::util::{call, client, spawn_and_wait};
use openclaw_rs_test_support::gateway::{bin_path, free_port, TestGateway};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A blocking `GET` with optional bearer token; (status, body).
fn get(port: u16, path: &str, bearer: Option<&str>) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = bearer
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    let status = buf
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = buf.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    (status, body.to_owned())
}

/// The value of the first sample line starting with `series` (exact series text, labels included).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.split_once(' ').is_some_and(|(s, _)| s == series))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_the_token_and_pass_promtool() {
    bin_path("openclaw-app-server");
    let gw = TestGateway::start_default().await;
    let token = gw.token.clone().unwrap();
    let c = client(&gw).await;
    call(&c, "health", json!({})).await;
    let ok = spawn_and_wait(&c, json!({"task": "echo metrics"})).await;
    assert_eq!(ok["runStatus"], "completed", "{ok}");
    let port = gw.port;

    let (status, body) = tokio::task::spawn_blocking(move || get(port, "/metrics", None))
        .await
        .unwrap();
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("Authorization: Bearer"), "{body}");
    let wrong = tokio::task::spawn_blocking(move || get(port, "/metrics", Some("wrong")))
        .await
        .unwrap();
    assert_eq!(wrong.0, 401);

    let t = token.clone();
    let (status, text) = tokio::task::spawn_blocking(move || get(port, "/metrics", Some(&t)))
        .await
        .unwrap();
    assert_eq!(status, 200, "{text}");
    // OpenClaw's path serves the same.
    let t = token.clone();
    let alias =
        tokio::task::spawn_blocking(move || get(port, "/api/diagnostics/prometheus", Some(&t)))
            .await
            .unwrap();
    assert_eq!(alias.0, 200);

    for family in [
        "openclaw_gateway_connections_total",
        "openclaw_gateway_connections",
        "openclaw_gateway_handshakes_total",
        "openclaw_gateway_handshake_seconds",
        "openclaw_gateway_rpc_requests_total",
        "openclaw_gateway_rpc_handler_seconds",
        "openclaw_run_completed_total",
        "openclaw_run_duration_seconds",
        "openclaw_queue_lane_size",
        "openclaw_app_server_processes",
        "openclaw_app_server_leases",
        "openclaw_app_server_retirements_total",
        "openclaw_gateway_config_reloads_total",
        "openclaw_gateway_restarts_total",
        "openclaw_journal_fsync_seconds",
        "process_resident_memory_bytes",
        "process_open_fds",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{family} missing:\n{text}"
        );
    }
    assert!(
        sample(
            &text,
            r#"openclaw_gateway_rpc_requests_total{method="health",outcome="ok"}"#
        )
        .is_some_and(|v| v >= 1.0),
        "{text}"
    );
    assert!(
        sample(
            &text,
            r#"openclaw_run_completed_total{failure_class="none",outcome="completed"}"#
        )
        .is_some_and(|v| v >= 1.0),
        "{text}"
    );
    assert!(
        sample(&text, "openclaw_journal_fsync_seconds_count").is_some_and(|v| v >= 1.0),
        "{text}"
    );
    assert!(sample(&text, "process_resident_memory_bytes").is_some_and(|v| v > 1e6));
    assert!(sample(&text, "process_open_fds").is_some_and(|v| v > 3.0));
    // Bounded labels: no run or session ids anywhere.
    assert!(!text.contains("agent:main"), "session key leaked:\n{text}");

    if !have("promtool") {
        println!("SKIPPED: promtool not installed (Debian package `prometheus`); the exposition was not linted");
        return;
    }
    let mut lint = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    lint.stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = lint.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Kills the Prometheus child on drop.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_the_gateway() {
    if !have("prometheus") {
        println!("SKIPPED: the prometheus binary is not installed (Debian package `prometheus`); no real scrape was tested");
        return;
    }
    let gw = TestGateway::start_default().await;
    let token = gw.token.clone().unwrap();
    let c = client(&gw).await;
    call(&c, "health", json!({})).await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, &token).unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: openclaw\n    metrics_path: /metrics\n    authorization:\n      credentials_file: {}\n    static_configs:\n      - targets: [\"127.0.0.1:{}\"]\n",
            token_file.display(),
            gw.port
        ),
    )
    .unwrap();
    let web = free_port();
    let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{web}"))
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let _prom = KillOnDrop(child);
    let query =
        "/api/v1/query?query=openclaw_gateway_rpc_requests_total%7Bmethod%3D%22health%22%7D";
    let deadline = Instant::now() + Duration::from_secs(90);
    let found = tokio::task::spawn_blocking(move || loop {
        let answer = std::net::TcpStream::connect(("127.0.0.1", web))
            .ok()
            .map(|_| get(web, query, None));
        if let Some((200, body)) = &answer {
            let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
            if let Some(first) = v["data"]["result"].as_array().and_then(|r| r.first()) {
                return Some(first.clone());
            }
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(250));
    })
    .await
    .unwrap();
    let Some(series) = found else {
        panic!(
            "Prometheus never answered a query for our series within 90 s; its log:\n{}",
            std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default()
        );
    };
    assert_eq!(series["metric"]["job"], "openclaw", "{series}");
    assert_eq!(series["metric"]["outcome"], "ok", "{series}");
    let value: f64 = series["value"][1].as_str().unwrap().parse().unwrap();
    assert!(value >= 1.0, "{series}");
}
