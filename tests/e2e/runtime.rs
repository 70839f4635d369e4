//! Runtime interop with the real Codex app-server (`@openai/codex@0.169.0`, native binary) driven
//! by the lease pool, against a loopback mock of the Responses API. Skips loudly when the binary
//! is not installed (`cargo xtask install-deps`).
//!
//! Seed scenario with real Codex: a parent run is in flight on the shared process; a helper run
//! whose upstream answers 401 fails with `FailureClass::Auth`; the parent completes; the process
//! keeps its PID; a sibling right after succeeds. Converse: kill -9 mid-turn fails only the runs
//! on that process (retryable) and the next run gets a fresh process. Both also run through the
//! gateway (sessions → runtime), with the fake and with real Codex, and the socket stays up.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use openclaw_rs_app_server::{
    CancelToken, FailureClass, Pool, PoolConfig, ProcessKey, RunError, RunEvent, RunOutcome,
    RunSpec,
};
use openclaw_rs_test_support::fake_app_server::responses_mock::{Behavior, ResponsesMock};
use tokio::sync::mpsc;

fn codex_binary() -> Option<PathBuf> {
    if let Some(p) = openclaw_rs_test_support::node::codex_bin() {
        return Some(p);
    }
    // Also accept a standalone install: `cd .cache/npm/codex && npm i @openai/codex@0.169.0`.
    let alt = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../.cache/npm/codex/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex");
    alt.is_file().then_some(alt)
}

/// [`codex_binary`], or `None` after saying loudly that `test` is skipped.
fn codex_or_skip(test: &str) -> Option<PathBuf> {
    let codex = codex_binary();
    if codex.is_none() {
        eprintln!("!!! SKIPPED {test}: native codex 0.169.0 not installed (run `cargo xtask install-deps`)");
    }
    codex
}

fn codex_key(codex: &Path, mock: &ResponsesMock, home: &Path) -> ProcessKey {
    let mut command = vec![
        codex.to_string_lossy().into_owned(),
        "app-server".to_string(),
    ];
    for kv in [
        "model_provider=\"mock\"".to_string(),
        "model_providers.mock.name=\"mock\"".to_string(),
        format!("model_providers.mock.base_url=\"{}\"", mock.base_url()),
        "model_providers.mock.wire_api=\"responses\"".to_string(),
        "model_providers.mock.env_key=\"MOCK_KEY\"".to_string(),
        "model_providers.mock.supports_websockets=false".to_string(),
        "model_providers.mock.request_max_retries=0".to_string(),
        "model_providers.mock.stream_max_retries=0".to_string(),
    ] {
        command.push("-c".to_string());
        command.push(kv);
    }
    let mut key = ProcessKey::new(command);
    key.env.insert("MOCK_KEY".into(), "sk-mock-key".into());
    key.home = Some(home.to_path_buf());
    key
}

fn spec(model: &str, cwd: &Path) -> RunSpec {
    RunSpec {
        task: "Say hello in one word.".into(),
        model: Some(model.into()),
        cwd: cwd.to_path_buf(),
        timeout: Duration::from_secs(60),
        thread_id: None,
        ..Default::default()
    }
}

struct Running {
    events: mpsc::Receiver<RunEvent>,
    handle: tokio::task::JoinHandle<Result<RunOutcome, RunError>>,
}

fn start(pool: &Pool, key: &ProcessKey, spec: RunSpec) -> Running {
    let (tx, events) = mpsc::channel(1024);
    let (pool, key) = (pool.clone(), key.clone());
    let handle = tokio::spawn(async move {
        openclaw_rs_app_server::execute(&pool, &key, spec, tx, CancelToken::new()).await
    });
    Running { events, handle }
}

impl Running {
    async fn wait_delta(&mut self, text: &str) {
        while let Some(e) = self.events.recv().await {
            if e == (RunEvent::Delta { text: text.into() }) {
                return;
            }
        }
        panic!("run ended before the delta {text:?}");
    }

    async fn finish(mut self) -> (Result<RunOutcome, RunError>, String) {
        let mut deltas = String::new();
        while let Some(e) = self.events.recv().await {
            if let RunEvent::Delta { text } = e {
                deltas.push_str(&text);
            }
        }
        (self.handle.await.expect("run task"), deltas)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_codex_auth_failure_fails_only_that_run() {
    let Some(codex) = codex_or_skip("real_codex_auth_failure_fails_only_that_run") else {
        return;
    };
    tokio::time::timeout(Duration::from_secs(180), async {
        let home = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        let mock = ResponsesMock::start(
            Behavior::Hello,
            HashMap::from([
                ("bad-model".to_string(), Behavior::Unauthorized),
                ("gated-model".to_string(), Behavior::Gated),
            ]),
        )
        .await
        .unwrap();
        let key = codex_key(&codex, &mock, home.path());
        let pool = Pool::new(PoolConfig::default());

        // A plain turn streams "Hello".
        let (res, deltas) = start(&pool, &key, spec("mock-model", work.path()))
            .finish()
            .await;
        let first = res.expect("a turn against the mock completes");
        assert_eq!(deltas, "Hello");
        assert_eq!(first.final_text, "Hello");
        let pid = first.pid;

        // Parent in flight (the mock holds its stream open after "Hel").
        let mut parent = start(&pool, &key, spec("gated-model", work.path()));
        parent.wait_delta("Hel").await;

        // Helper with a rejected credential: fails with Auth only.
        let (res, _) = start(&pool, &key, spec("bad-model", work.path()))
            .finish()
            .await;
        let err = res.expect_err("the helper's upstream answers 401");
        assert_eq!(err.class, FailureClass::Auth, "{err}");
        assert_eq!(err.http_status, Some(401), "{err}");
        assert!(
            !parent.handle.is_finished(),
            "the parent is still in flight"
        );

        // Sibling right after, same process.
        let (res, deltas) = start(&pool, &key, spec("mock-model", work.path()))
            .finish()
            .await;
        let sibling = res.expect("sibling succeeds");
        assert_eq!(deltas, "Hello");
        assert_eq!(sibling.pid, pid, "the shared process kept its PID");

        mock.open_gate();
        let (res, _) = parent.finish().await;
        let parent_out = res.expect("the parent completes");
        assert_eq!(parent_out.final_text, "Hello");
        assert_eq!(parent_out.pid, pid);
        assert_eq!(pool.stats().spawned_total, 1);
        assert_eq!(pool.stats().ledger.leases, 0);
        pool.shutdown().await;
        assert!(pool.live_pids().is_empty());
    })
    .await
    .expect("hang guard (180 s)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_codex_kill_9_mid_turn_respawns() {
    let Some(codex) = codex_or_skip("real_codex_kill_9_mid_turn_respawns") else {
        return;
    };
    tokio::time::timeout(Duration::from_secs(180), async {
        let home = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        let mock = ResponsesMock::start(
            Behavior::Hello,
            HashMap::from([("gated-model".to_string(), Behavior::Gated)]),
        )
        .await
        .unwrap();
        let key = codex_key(&codex, &mock, home.path());
        let pool = Pool::new(PoolConfig::default());
        let mut victim = start(&pool, &key, spec("gated-model", work.path()));
        victim.wait_delta("Hel").await;
        let pids = pool.live_pids();
        assert_eq!(pids.len(), 1);
        crate::util::kill_9(pids[0]);
        let (res, _) = victim.finish().await;
        let err = res.expect_err("the run on the killed process fails");
        assert_eq!(err.class, FailureClass::Transport, "{err}");
        assert!(err.retryable);
        let (res, deltas) = start(&pool, &key, spec("mock-model", work.path()))
            .finish()
            .await;
        let next = res.expect("the next run gets a fresh process");
        assert_eq!(deltas, "Hello");
        assert_ne!(next.pid, pids[0]);
        pool.shutdown().await;
    })
    .await
    .expect("hang guard (180 s)");
}

// ---- Through the gateway: runs reach the runtime via sessions; the user's socket never closes.

mod via_gateway {
    use std::collections::BTreeMap;
    use std::collections::HashMap;
    use std::time::Duration;

    use crate::util::{
        call, client, connected, fake_runtime, kill_9, send_main, start_with_config, wait_run,
        with_runtime,
    };
    use openclaw_rs_client::Client;
    use openclaw_rs_config::{Config, RuntimeConfig};
    use openclaw_rs_test_support::fake_app_server::responses_mock::{Behavior, ResponsesMock};
    use openclaw_rs_test_support::gateway::TestGateway;
    use serde_json::json;

    const GUARD: Duration = Duration::from_secs(120);

    async fn gateway(runtime: RuntimeConfig) -> (TestGateway, Client) {
        let gw = start_with_config(with_runtime(Config::default(), "rt", runtime)).await;
        let c = client(&gw).await;
        (gw, c)
    }

    /// A gateway whose runtime is the real Codex app-server against a Responses mock answering
    /// `Hello` (or `models`' behaviour per model). Keep the returned home dir alive.
    async fn real_codex_gateway(
        codex: &std::path::Path,
        models: HashMap<String, Behavior>,
    ) -> (TestGateway, Client, ResponsesMock, tempfile::TempDir) {
        real_codex_gateway_with(codex, models, false).await
    }

    /// [`real_codex_gateway`] with the runtime's `dynamicTools` set as given.
    async fn real_codex_gateway_with(
        codex: &std::path::Path,
        models: HashMap<String, Behavior>,
        dynamic_tools: bool,
    ) -> (TestGateway, Client, ResponsesMock, tempfile::TempDir) {
        real_codex_gateway_custom(codex, models, |rt| rt.dynamic_tools = dynamic_tools).await
    }

    /// [`real_codex_gateway`] with `edit` applied to the runtime's config.
    async fn real_codex_gateway_custom(
        codex: &std::path::Path,
        models: HashMap<String, Behavior>,
        edit: impl FnOnce(&mut RuntimeConfig),
    ) -> (TestGateway, Client, ResponsesMock, tempfile::TempDir) {
        let home = tempfile::tempdir().unwrap();
        let mock = ResponsesMock::start(Behavior::Hello, models).await.unwrap();
        let key = super::codex_key(codex, &mock, home.path());
        let mut env: BTreeMap<String, String> = key.env.clone();
        env.insert(
            "CODEX_HOME".into(),
            home.path().to_string_lossy().into_owned(),
        );
        let mut rt = RuntimeConfig {
            kind: "app-server".into(),
            command: key.command.clone(),
            env,
            ..Default::default()
        };
        edit(&mut rt);
        let (gw, c) = gateway(rt).await;
        (gw, c, mock, home)
    }

    /// `runtimes.<name>.home` becomes the process's `CODEX_HOME`, and `runtimes.<name>.sandbox`
    /// the threads' sandbox: real Codex tells the model so in the request it sends.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn real_codex_runtime_home_and_sandbox_come_from_config() {
        let Some(codex) =
            super::codex_or_skip("real_codex_runtime_home_and_sandbox_come_from_config")
        else {
            return;
        };
        let own_home = tempfile::tempdir().unwrap();
        let home_path = own_home.path().to_path_buf();
        let (gw, c, mock, _unused) = real_codex_gateway_custom(&codex, HashMap::new(), |rt| {
            rt.env.remove("CODEX_HOME");
            rt.home = Some(home_path.clone());
            rt.sandbox = Some(openclaw_rs_config::SandboxMode::ReadOnly);
        })
        .await;
        send_main(&c, "sandboxed", "say hello", None).await;
        let w = wait_run(&c, "sandboxed").await;
        assert_eq!(w["runStatus"], "completed", "{w}");
        let body = mock.request_bodies()[0].to_string();
        assert!(body.contains("read-only"), "{body}");
        assert!(!body.contains("workspace-write"), "{body}");
        let written: Vec<_> = std::fs::read_dir(own_home.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        assert!(
            !written.is_empty(),
            "Codex wrote nothing to runtimes.rt.home"
        );
        c.close().await;
        gw.stop().await.unwrap();

        // The default sandbox, and a relative home refused with the setting named.
        let (gw, c, mock, _home) = real_codex_gateway_custom(&codex, HashMap::new(), |_| {}).await;
        send_main(&c, "default", "say hello", None).await;
        let w = wait_run(&c, "default").await;
        assert_eq!(w["runStatus"], "completed", "{w}");
        let body = mock.request_bodies()[0].to_string();
        assert!(body.contains("workspace-write"), "{body}");
        c.close().await;
        gw.stop().await.unwrap();
        let (gw, c, _mock, _home) = real_codex_gateway_custom(&codex, HashMap::new(), |rt| {
            rt.home = Some("relative/home".into());
        })
        .await;
        send_main(&c, "relative", "say hello", None).await;
        let w = wait_run(&c, "relative").await;
        assert_eq!(w["runStatus"], "failed", "{w}");
        assert_eq!(w["errorClass"], "config", "{w}");
        assert!(
            w["error"]
                .as_str()
                .unwrap_or_default()
                .contains("runtimes.rt.home"),
            "{w}"
        );
        c.close().await;
        gw.stop().await.unwrap();
    }

    /// Real Codex on a runtime with `dynamicTools: true`: the model calls `sessions_spawn`, Codex
    /// asks the gateway with `item/tool/call`, and the child runs in process on the embedded
    /// runtime. The parent's next model request carries the child's output, the child session
    /// records its parent, and nothing asked to be paired. Without `dynamicTools` the tool is
    /// not offered at all.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn real_codex_model_spawns_a_subagent_through_the_dynamic_tool() {
        let Some(codex) =
            super::codex_or_skip("real_codex_model_spawns_a_subagent_through_the_dynamic_tool")
        else {
            return;
        };
        let models = HashMap::from([("spawner".to_string(), Behavior::SpawnTool)]);
        let (gw, c, mock, _home) = real_codex_gateway_with(&codex, models.clone(), true).await;
        send_main(&c, "codex-parent", "spawn a helper", Some("spawner")).await;
        let p = wait_run(&c, "codex-parent").await;
        assert_eq!(p["runStatus"], "completed", "{p}");
        assert!(
            p["text"]
                .as_str()
                .unwrap_or_default()
                .contains("child said:"),
            "the parent's final answer comes after the tool result: {p}"
        );

        let bodies = mock.request_bodies();
        assert_eq!(bodies.len(), 2, "one call, one follow-up: {bodies:?}");
        let offered: Vec<&str> = bodies[0]["tools"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert!(
            offered.iter().any(|n| n.contains("sessions_spawn")),
            "Codex offered the model the gateway's tool: {offered:?}"
        );
        let output = bodies[1]["input"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|i| i["type"] == "function_call_output")
            .map(|i| i["output"].to_string())
            .unwrap_or_default();
        assert!(
            output.contains("from-codex-child"),
            "the tool result carried the child's output: {output}"
        );

        let list = call(&c, "sessions.list", json!({})).await;
        let rows = list["sessions"].as_array().cloned().unwrap_or_default();
        let child = rows
            .iter()
            .find(|r| r["spawnedBy"] == "agent:main:main")
            .unwrap_or_else(|| panic!("no child of the main session: {list}"));
        assert_eq!(child["classification"], "subagent", "{child}");
        assert_eq!(child["lastRunStatus"], "completed", "{child}");
        let status = call(&c, "status", json!({})).await;
        assert_eq!(
            status["pairing"]["pending"], 0,
            "nothing asked to be paired: {status}"
        );
        c.close().await;
        gw.stop().await.unwrap();

        // The same model on a runtime without dynamicTools is not offered the tool.
        let (gw, c, mock, _home) = real_codex_gateway_with(&codex, models, false).await;
        send_main(&c, "codex-plain", "spawn a helper", Some("spawner")).await;
        let p = wait_run(&c, "codex-plain").await;
        assert_eq!(p["runStatus"], "completed", "{p}");
        assert!(
            p["text"]
                .as_str()
                .unwrap_or_default()
                .contains("no sessions_spawn tool was offered"),
            "{p}"
        );
        assert_eq!(mock.requests(), 1);
        c.close().await;
        gw.stop().await.unwrap();
    }

    /// The app-server processes of the gateway's pool.
    fn live_pids(gw: &TestGateway) -> Vec<u32> {
        gw.state.sessions().unwrap().pool().live_pids()
    }

    /// Waits until the main session's run is running and the pool has exactly one process.
    async fn running_pid(gw: &TestGateway, c: &Client) -> u32 {
        let sessions = gw.state.sessions().expect("sessions started");
        let deadline = tokio::time::Instant::now() + GUARD;
        loop {
            let s = call(c, "sessions.get", json!({"sessionKey": "agent:main:main"})).await;
            let pids = sessions.pool().live_pids();
            if s["session"]["status"] == "running" && pids.len() == 1 {
                return pids[0];
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "parent never started: {s}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// kill -9 of the shared app-server mid-turn: only the run on it fails (retryable class),
    /// the next run gets a fresh process, and the user's connection stays up.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn kill_9_mid_turn_through_the_gateway() {
        let dir = tempfile::tempdir().unwrap();
        let gate = dir.path().join("never-opened");
        let (gw, c) = gateway(fake_runtime(&[
            "--gate-model",
            "gated",
            "--gate-file",
            gate.to_str().unwrap(),
        ]))
        .await;
        let mut events = c.events();
        send_main(&c, "victim-1", "long task", Some("gated")).await;
        let pid = running_pid(&gw, &c).await;
        // "running" is set before the turn reaches the process; kill it only once the turn is
        // on it (its first delta arrived), so the kill hits a turn in flight, not the start-up.
        tokio::time::timeout(GUARD, async {
            loop {
                let ev = events.recv().await.expect("event stream");
                let p = ev.payload.unwrap_or_default();
                if ev.event == "chat" && p["runId"] == "victim-1" && p["state"] == "delta" {
                    return;
                }
            }
        })
        .await
        .expect("the gated turn never streamed its first delta");
        kill_9(pid);
        let r = wait_run(&c, "victim-1").await;
        assert_eq!(r["runStatus"], "failed", "{r}");
        assert!(
            r["error"].as_str().unwrap_or_default().contains("exited"),
            "the error names the process exit: {r}"
        );
        let next = send_main(&c, "next-1", "again", Some("echo")).await;
        assert_eq!(next["runId"], "next-1");
        let r = wait_run(&c, "next-1").await;
        assert_eq!(r["runStatus"], "completed", "{r}");
        let pids = live_pids(&gw);
        assert_eq!(pids.len(), 1);
        assert_ne!(pids[0], pid, "a fresh process");
        assert!(connected(&c), "the user's connection stayed up");
        c.close().await;
        gw.stop().await.unwrap();
    }

    /// The seed scenario through the gateway with real Codex: a helper whose upstream answers 401
    /// fails with `auth` while the parent's turn (held open by the mock) continues on the same
    /// process; the parent completes; a sibling succeeds; the process keeps its pid.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn real_codex_seed_through_the_gateway() {
        let Some(codex) = super::codex_or_skip("real_codex_seed_through_the_gateway") else {
            return;
        };
        let (gw, c, mock, _home) = real_codex_gateway(
            &codex,
            HashMap::from([
                ("bad-model".to_string(), Behavior::Unauthorized),
                ("gated-model".to_string(), Behavior::Gated),
            ]),
        )
        .await;
        send_main(&c, "parent-1", "Say hello.", Some("gated-model")).await;
        let pid = running_pid(&gw, &c).await;
        let helper = call(
            &c,
            "sessions.spawn",
            json!({"task": "Say hello.", "model": "bad-model"}),
        )
        .await;
        let h = wait_run(&c, helper["runId"].as_str().unwrap()).await;
        assert_eq!(h["runStatus"], "failed", "{h}");
        assert_eq!(h["errorClass"], "auth", "{h}");
        assert!(h["error"].as_str().unwrap().contains("401"), "{h}");
        let s = call(&c, "sessions.get", json!({"sessionKey": "agent:main:main"})).await;
        assert_eq!(
            s["session"]["status"], "running",
            "the parent is still in flight: {s}"
        );

        let sibling = call(
            &c,
            "sessions.spawn",
            json!({"task": "Say hello.", "model": "mock-model"}),
        )
        .await;
        let s = wait_run(&c, sibling["runId"].as_str().unwrap()).await;
        assert_eq!(s["runStatus"], "completed", "{s}");
        assert_eq!(s["text"], "Hello", "{s}");

        mock.open_gate();
        let p = wait_run(&c, "parent-1").await;
        assert_eq!(p["runStatus"], "completed", "{p}");
        assert_eq!(p["text"], "Hello", "{p}");
        assert_eq!(live_pids(&gw), vec![pid], "same shared process");
        assert!(connected(&c), "the parent's connection never closed");
        c.close().await;
        gw.stop().await.unwrap();
    }

    /// kill -9 of the real Codex app-server mid-turn through the gateway: that run fails, the
    /// next run gets a fresh process, the connection stays up.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn real_codex_kill_9_through_the_gateway() {
        let Some(codex) = super::codex_or_skip("real_codex_kill_9_through_the_gateway") else {
            return;
        };
        let (gw, c, _mock, _home) = real_codex_gateway(
            &codex,
            HashMap::from([("gated-model".to_string(), Behavior::Gated)]),
        )
        .await;
        send_main(&c, "victim-1", "Say hello.", Some("gated-model")).await;
        let pid = running_pid(&gw, &c).await;
        kill_9(pid);
        let r = wait_run(&c, "victim-1").await;
        assert_eq!(r["runStatus"], "failed", "{r}");
        send_main(&c, "next-1", "Say hello.", Some("mock-model")).await;
        let r = wait_run(&c, "next-1").await;
        assert_eq!(r["runStatus"], "completed", "{r}");
        assert_eq!(r["text"], "Hello", "{r}");
        let pids = live_pids(&gw);
        assert_eq!(pids.len(), 1);
        assert_ne!(pids[0], pid, "a fresh process");
        assert!(connected(&c), "the user's connection stayed up");
        c.close().await;
        gw.stop().await.unwrap();
    }
}
