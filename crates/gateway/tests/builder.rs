//! `GatewayBuilder` seams, end to end: a real gateway on `127.0.0.1:0`, the typed client, real
//! runs through the executors the builder was given, real files.

use openclaw_rs_client::{Client, ClientOptions};
use openclaw_rs_gateway::{Gateway, GatewayBuilder, GatewayError, SharedAuth};
use openclaw_rs_protocol::methods::sessions::{AgentWaitParams, RunResult, SessionsSpawnParams};
use openclaw_rs_protocol::methods::NonEmpty;
use openclaw_rs_sessions::{
    BoxFuture, Cancel, ExecError, ExecEvent, ExecOutcome, ExecRequest, ManagerOptions, RunExecutor,
    SessionManager,
};
use openclaw_rs_state::StateDir;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Answers `<tag>:<runtime>:<task>`, so a test sees which executor ran a task on which runtime.
struct Tag(&'static str);

impl RunExecutor for Tag {
    fn execute(
        &self,
        req: ExecRequest,
        _events: mpsc::Sender<ExecEvent>,
        _cancel: Cancel,
    ) -> BoxFuture<'static, Result<ExecOutcome, ExecError>> {
        let text = format!("{}:{}:{}", self.0, req.runtime, req.task);
        Box::pin(async move {
            Ok(ExecOutcome {
                final_text: text,
                thread_id: None,
            })
        })
    }
}

/// A served gateway and a client connected to it.
struct Served {
    client: Client,
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<Result<(), GatewayError>>,
}

impl Served {
    async fn start(builder: GatewayBuilder) -> Served {
        let gateway = builder
            .auth(SharedAuth::token("builder-test-token"))
            .configure(|o| {
                o.control_ui_env = openclaw_rs_gateway::control_ui::DiscoveryEnv::default()
            })
            .bind("127.0.0.1:0")
            .expect("bind")
            .build()
            .expect("build");
        let url = format!("ws://{}", gateway.local_addrs()[0]);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(gateway.run_until(async move {
            let _ = stopped.await;
        }));
        let mut opts = ClientOptions::new(url);
        opts.token = Some("builder-test-token".into());
        let client = Client::connect(opts).await.expect("connect");
        Served {
            client,
            stop,
            serving,
        }
    }

    /// Spawn `task` (on `runtime`, when given) and wait for its end.
    async fn run(&self, task: &str, runtime: Option<&str>) -> RunResult {
        let acc = self
            .client
            .call(SessionsSpawnParams {
                task: NonEmpty::new(task).expect("task"),
                runtime: runtime.map(|r| NonEmpty::new(r).expect("runtime")),
                ..SessionsSpawnParams::default()
            })
            .await
            .expect("sessions.spawn");
        self.client
            .call(AgentWaitParams {
                run_id: NonEmpty::new(acc.run_id).expect("run id"),
                timeout_ms: Some(30_000),
            })
            .await
            .expect("agent.wait")
    }

    async fn stop(self) {
        self.client.close().await;
        let _ = self.stop.send(());
        self.serving
            .await
            .expect("serving task")
            .expect("serve result");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_go_to_the_executor_of_their_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("custom.json");
    // `other` must be a configured runtime for the sessions manager to accept it; its command is
    // never started because its runs go to the `other` executor.
    std::fs::write(
        &config,
        "{ runtimes: { other: { command: ['/nonexistent/runtime'] } } }",
    )
    .unwrap();
    let served = Served::start(
        Gateway::builder(dir.path())
            .config_file(&config)
            .run_executor(Arc::new(Tag("default")))
            .runtime_executor("other", Arc::new(Tag("other"))),
    )
    .await;
    let on_other = served.run("one", Some("other")).await;
    assert_eq!(
        on_other.text.as_deref(),
        Some("other:other:one"),
        "{on_other:?}"
    );
    let on_default = served.run("two", None).await;
    assert_eq!(
        on_default.text.as_deref(),
        Some("default:embedded:two"),
        "{on_default:?}"
    );
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ready_session_manager_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = ManagerOptions::new(StateDir::new(dir.path()));
    opts.workspace = dir.path().join("my-workspace");
    let manager = SessionManager::open(
        opts,
        Arc::new(openclaw_rs_config::Config::default()),
        Arc::new(Tag("mine")),
    )
    .expect("open manager");
    let served = Served::start(
        Gateway::builder(dir.path())
            .fixed_config(openclaw_rs_config::Config::default())
            .session_manager(manager.clone()),
    )
    .await;
    let run = served.run("three", None).await;
    assert_eq!(run.text.as_deref(), Some("mine:embedded:three"), "{run:?}");
    // The gateway serves the very manager it was given.
    assert!(
        manager.list().iter().any(|s| s.key == run.session_key),
        "{:?}",
        manager.list()
    );
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ready_manager_with_executors_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let manager = SessionManager::open(
        ManagerOptions::new(StateDir::new(dir.path())),
        Arc::new(openclaw_rs_config::Config::default()),
        Arc::new(Tag("mine")),
    )
    .expect("open manager");
    let err = Gateway::builder(dir.path())
        .session_manager(manager.clone())
        .run_executor(Arc::new(Tag("other")))
        .build()
        .expect_err("a ready manager and an executor cannot both apply");
    assert!(
        err.to_string().contains("already has its executor"),
        "{err}"
    );
    manager.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_sources() {
    let dir = tempfile::tempdir().unwrap();
    // A file that does not load fails the build and names the file.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{ session: ").unwrap();
    let err = Gateway::builder(dir.path())
        .config_file(&bad)
        .build()
        .expect_err("a broken config file");
    assert!(err.to_string().contains("bad.json"), "{err}");

    // A config file is loaded at build.
    let good = dir.path().join("good.json");
    std::fs::write(&good, "{ session: { maxSpawnDepth: 4 } }").unwrap();
    let gw = Gateway::builder(dir.path())
        .config_file(&good)
        .build()
        .unwrap();
    assert_eq!(gw.state().config().load().session.max_spawn_depth, Some(4));
    assert_eq!(gw.state().options().config_path, good);

    // A fixed config wins over the file in the state dir, which is not read.
    std::fs::write(
        dir.path().join("openclaw.json"),
        "{ session: { maxSpawnDepth: 5 } }",
    )
    .unwrap();
    let mut fixed = openclaw_rs_config::Config::default();
    fixed.session.max_spawn_depth = Some(2);
    let gw = Gateway::builder(dir.path())
        .fixed_config(fixed)
        .build()
        .unwrap();
    assert_eq!(gw.state().config().load().session.max_spawn_depth, Some(2));
}
