//! Conformance: OpenClaw's own validators (the npm package's compiled gateway-protocol schemas,
//! through `openclaw_rs_test_support::oracle::Oracle`) judge every payload our gateway sends, and the
//! real Node gateway is the reference where OpenClaw has no result schema.
//!
//! One test drives a real gateway of ours (embedded runtime: the model runs the message as a shell
//! command) through every method `hello-ok.features.methods` lists, with real state: finished runs,
//! a spawned subagent, a locally paired device, two pending remote pairings (one approved, one
//! rejected), a config edit. It checks `hello-ok`, every params object it sends (so its own
//! requests are valid), every result (OpenClaw schema, else the Node gateway's shape), and every
//! event any of its clients received. Then it sends invalid-params rows generated from OpenClaw's
//! schemas to ours and to Node and compares the errors. It prints one coverage line and fails
//! listing every problem, not just the first.
//!
//! A served method without a row in [`result_ref`] fails the test, so new methods cannot escape.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openclaw_rs_auth::{DeviceIdentity, SignedFields};
use openclaw_rs_client::{Client, ClientError, ClientOptions};
use openclaw_rs_config::Config;
use openclaw_rs_test_support::gateway::{TestGateway, TestGatewayOptions};
use openclaw_rs_test_support::node::NodeGateway;
use openclaw_rs_test_support::oracle::Oracle;
use serde_json::{json, Value};

use crate::util::{RawClient, RUN_GUARD};

/// Longest wait for the Node gateway to start and then to stop answering "gateway starting".
const NODE_GUARD: Duration = Duration::from_secs(120);
/// Hang guard for raw-socket reads.
const WS_GUARD: Duration = Duration::from_secs(30);
const NODE_TOKEN: &str = "conformance-node-token-51c2";

/// How a method's result is judged.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ResultRef {
    /// OpenClaw's schema of that name.
    Schema(&'static str),
    /// The real Node gateway's payload for the same call (shape comparison).
    Node,
    /// Neither: OpenClaw has no result schema and the call cannot be repeated on Node
    /// (a method Node does not serve, or one whose state or side effects Node cannot share).
    Nothing,
}

/// How one recorded result is judged (a table row, or OpenClaw's `<Method>Result` schema).
enum Judge {
    Schema(String),
    Node,
    Nothing,
}

/// The row of every method ours may serve. `None` means "no row": the test fails for a served
/// method without one.
fn result_ref(method: &str) -> Option<ResultRef> {
    use ResultRef::*;
    Some(match method {
        "logs.tail" => Schema("LogsTailResult"),
        "channels.status" => Schema("ChannelsStatusResult"),
        "config.schema" => Schema("ConfigSchemaResponse"),
        "health"
        | "status"
        | "gateway.identity.get"
        | "system-presence"
        | "config.get"
        | "sessions.list"
        | "chat.history"
        | "device.pair.list"
        | "gateway.restart.preflight"
        | "agent.wait" => Node,
        // Node does not serve these (not in its hello-ok.features.methods).
        "sessions.spawn"
        | "sessions.get"
        | "sessions.unsubscribe"
        | "auth.cooldowns.list"
        | "auth.cooldowns.clear" => Nothing,
        // Runs, subscriptions, config writes, pairing decisions and restarts: the Node gateway
        // would need our state (runs, pending requests, devices) or would restart itself.
        "chat.send"
        | "chat.abort"
        | "agent"
        | "sessions.subscribe"
        | "config.set"
        | "config.patch"
        | "config.apply"
        | "device.pair.approve"
        | "device.pair.reject"
        | "device.pair.remove"
        | "device.token.rotate"
        | "device.token.revoke"
        | "gateway.restart.request" => Nothing,
        // ---- methods-a: diagnostics, preferences, nodes, approvals, missing subsystems.
        "system.info" => Schema("SystemInfoResult"),
        "update.status" => Schema("UpdateStatusResult"),
        "approval.history" => Schema("ApprovalHistoryResult"),
        "question.list" => Schema("QuestionListResult"),
        "channels.pairing.list" => Schema("ChannelsPairingListResult"),
        "skills.search" => Schema("SkillsSearchResult"),
        "plugins.list" => Schema("PluginsListResult"),
        "tasks.list" => Schema("TasksListResult"),
        "users.list" => Schema("UsersListResult"),
        "environments.list" => Schema("EnvironmentsListResult"),
        "talk.catalog" => Schema("TalkCatalogResult"),
        "mentions.list" => Schema("MentionsListResult"),
        "users.prefs.get" => Schema("UsersPrefsGetResult"),
        "users.prefs.set" => Schema("UsersPrefsSetResult"),
        "plugins.controlUi.list" => Schema("PluginsControlUiCatalog"),
        "config.schema.lookup" => Schema("ConfigSchemaLookupResult"),
        "openclaw.setup.detect" => Schema("SystemAgentSetupDetectResult"),
        // No OpenClaw result schema: the Node gateway's answer to the same call.
        "last-heartbeat"
        | "diagnostics.stability"
        | "diagnostics.lanes"
        | "doctor.memory.status"
        | "node.list"
        | "node.pair.list"
        | "exec.approvals.get"
        | "exec.approval.list"
        | "exec.approval.grants.list"
        | "plugin.approval.list"
        | "openclaw.approval.list"
        | "cron.list"
        | "cron.status"
        | "cron.runs"
        | "skills.status"
        | "skills.library.list"
        | "artifacts.list"
        | "controlUi.sessionPullRequests.subscribe"
        | "usage.status"
        | "usage.cost"
        | "sessions.usage"
        | "secrets.reload" => Node,
        // Answered UNAVAILABLE (a subsystem this gateway does not have): no result to judge.
        "plugin.surface.refresh"
        | "cron.add"
        | "cron.update"
        | "cron.remove"
        | "cron.run"
        | "skills.install"
        | "skills.update"
        | "plugins.install"
        | "plugins.setEnabled"
        | "plugins.uninstall"
        | "channels.logout"
        | "channels.start"
        | "channels.stop"
        | "channels.pairing.dismiss"
        | "node.pair.approve"
        | "node.pair.reject"
        | "node.pair.remove"
        | "node.rename"
        | "exec.approval.resolve"
        | "exec.approval.grants.revoke"
        | "plugin.approval.resolve"
        | "talk.speak"
        | "talk.mode"
        | "users.setDisplayName"
        | "users.setAvatar"
        | "users.setRole"
        | "tasks.cancel"
        | "update.run" => Nothing,
        // ---- end methods-a
        // The Control UI's and TUI's chat view, session views, agents and models.
        "commands.list" => Schema("CommandsListResult"),
        "agents.list" => Schema("AgentsListResult"),
        "agent.identity.get" => Schema("AgentIdentityResult"),
        "progressCard.get" => Schema("ProgressCardGetResult"),
        "sessions.observer.visibility" => Schema("SessionsObserverVisibilityResult"),
        "sessions.catalog.list" => Schema("SessionsCatalogListResult"),
        "sessions.groups.list" => Schema("SessionsGroupsListResult"),
        "sessions.groups.defaults" => Schema("SessionsGroupsDefaultsResult"),
        "sessions.branches.list" => Schema("SessionsBranchesListResult"),
        "sessions.companion.state" => Schema("SessionsCompanionStateResult"),
        "chat.metadata" | "chat.startup" | "models.list" | "models.authStatus" => Node,
        // Node has no session of ours to describe or to deliver messages of.
        "sessions.describe" | "sessions.messages.subscribe" | "sessions.messages.unsubscribe" => {
            Nothing
        }
        // Refused with UNAVAILABLE (no safe reset/removal of a durable journal yet): no result.
        "sessions.reset" | "sessions.delete" => Nothing,
        // Refused with UNAVAILABLE naming what this gateway lacks: no result to judge.
        "sessions.patch" | "sessions.create" | "exec.approvals.set" => Nothing,
        _ => return None,
    })
}

/// The OpenClaw schema of each event, when it has one.
/// Fields the Node gateway sends on an event beyond OpenClaw's schema for it
/// (`shared/reference/openclaw-clients.md` §1: Node's `agent` events carry `sessionKey` and
/// `agentId`; the TUI and Control UI route on them).
fn node_extras(event: &str) -> &'static [&'static str] {
    match event {
        "agent" => &["sessionKey", "agentId"],
        _ => &[],
    }
}

fn event_schema(event: &str) -> Option<&'static str> {
    Some(match event {
        "tick" => "TickEvent",
        "shutdown" => "ShutdownEvent",
        "chat" => "ChatEvent",
        "agent" => "AgentEvent",
        "users.prefs.changed" => "UsersPrefsChangedEvent",
        _ => return None,
    })
}

/// `sessions.list` → `SessionsList`, `system-presence` → `SystemPresence`.
fn pascal(method: &str) -> String {
    method
        .split(['.', '-'])
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// One request the scenario made to ours.
#[derive(Debug, Clone)]
struct Call {
    method: String,
    params: Value,
    result: Result<Value, String>,
}

/// Everything the test learns; problems are collected, never thrown one by one.
struct Run {
    oracle: Oracle,
    calls: Vec<Call>,
    /// Problems by group, each text with how often it occurred.
    problems: BTreeMap<&'static str, BTreeMap<String, usize>>,
    notes: BTreeSet<String>,
    /// `hello-ok.features.methods`: the scenario calls only these.
    served: Vec<String>,
}

impl Run {
    fn problem(&mut self, group: &'static str, text: String) {
        *self
            .problems
            .entry(group)
            .or_default()
            .entry(text)
            .or_default() += 1;
    }

    /// Judges `payload` against `schema`; a miss is a problem in `group` named by `what`.
    fn judge(&mut self, group: &'static str, what: &str, schema: &str, payload: &Value) -> bool {
        let v = self.oracle.validate(schema, payload);
        if !v.known {
            self.problem(group, format!("{what}: OpenClaw has no schema {schema}"));
            return false;
        }
        if !v.valid {
            self.problem(group, format!("{what} vs {schema}: {}", v.describe()));
        }
        true
    }

    /// Calls `method`, which ours must refuse with `code` (an action it cannot perform), and
    /// records the call (its params are checked like [`Run::call`]'s).
    async fn call_refused(&mut self, c: &Client, method: &str, params: Value, code: &str) {
        let schema = format!("{}Params", pascal(method));
        if self.oracle.has(&schema) {
            let v = self.oracle.validate(&schema, &params);
            if !v.valid {
                self.problem(
                    "params the test sent",
                    format!("{method} {params} vs {schema}: {}", v.describe()),
                );
            }
        }
        let result = match c.request(method, params.clone()).await {
            Err(ClientError::Server(e)) if code_of(&e) == code && !e.message.is_empty() => {
                Err(format!("{code} {}", e.message))
            }
            other => {
                self.problem(
                    "calls that failed on ours",
                    format!("{method} {params}: expected {code}, got {other:?}"),
                );
                Err(format!("{other:?}"))
            }
        };
        self.calls.push(Call {
            method: method.to_owned(),
            params,
            result,
        });
    }

    /// Calls `method` on ours with `params` (checked against OpenClaw's params schema first) and
    /// records the answer.
    async fn call(&mut self, c: &Client, method: &str, params: Value) -> Result<Value, String> {
        if !self.served.iter().any(|m| m == method) {
            return Err(format!("{method} is not served"));
        }
        let schema = format!("{}Params", pascal(method));
        if self.oracle.has(&schema) {
            let v = self.oracle.validate(&schema, &params);
            if !v.valid {
                self.problem(
                    "params the test sent",
                    format!("{method} {params} vs {schema}: {}", v.describe()),
                );
            }
        }
        let result = c
            .request(method, params.clone())
            .await
            .map_err(|e| match e {
                ClientError::Server(shape) => format!("{} {}", code_of(&shape), shape.message),
                other => other.to_string(),
            });
        if let Err(e) = &result {
            self.problem(
                "calls that failed on ours",
                format!("{method} {params}: {e}"),
            );
        }
        self.calls.push(Call {
            method: method.to_owned(),
            params,
            result: result.clone(),
        });
        result
    }
}

/// Collects every event a client receives, for the whole test.
fn collect_events(c: &Client, into: &Arc<Mutex<Vec<Value>>>) {
    let mut rx = c.events();
    let into = into.clone();
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(ev) => {
                    let v = serde_json::to_value(&ev).unwrap_or_default();
                    into.lock().unwrap().push(v);
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    into.lock()
                        .unwrap()
                        .push(json!({"event": "(lagged)", "payload": n}));
                }
                Err(_) => return,
            }
        }
    });
}

async fn our_client(url: &str, token: Option<String>) -> Client {
    let mut o = ClientOptions::new(url);
    o.token = token;
    o.request_timeout = RUN_GUARD;
    o.scopes.push("operator.pairing".into());
    Client::connect(o).await.expect("connect to our gateway")
}

/// A signed `connect` for `id` on `raw`'s challenge with the shared `token`.
fn device_connect_params(raw: &RawClient, id: &DeviceIdentity, token: &str) -> Value {
    let scopes = vec!["operator.read".to_owned()];
    let ch = &raw.challenge["payload"];
    let nonce = ch["nonce"].as_str().expect("nonce").to_owned();
    let fields = SignedFields {
        client_id: "cli",
        client_mode: "cli",
        role: "operator",
        scopes: &scopes,
        signed_at_ms: ch["ts"].as_u64().expect("ts"),
        token,
        nonce: &nonce,
        platform: "Linux",
        device_family: "Linux",
    };
    json!({
        "minProtocol": 4, "maxProtocol": 4,
        "client": {"id": "cli", "version": "test", "platform": "Linux", "deviceFamily": "Linux", "mode": "cli"},
        "role": "operator", "scopes": scopes, "caps": [], "auth": {"token": token},
        "device": serde_json::to_value(id.prove(&fields)).expect("device proof json"),
    })
}

/// JSON type name for shape comparison (all numbers are "number").
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Compares `ours` with Node's `node` at every key path both have (null on either side is
/// compatible with anything); type differences go to `mismatch`, paths only Node has to `missing`.
fn compare_shape(
    path: &str,
    ours: &Value,
    node: &Value,
    mismatch: &mut Vec<String>,
    missing: &mut Vec<String>,
) {
    if ours.is_null() || node.is_null() {
        return;
    }
    if kind(ours) != kind(node) {
        mismatch.push(format!(
            "{}: ours {} ({}), Node {}",
            if path.is_empty() { "/" } else { path },
            kind(ours),
            short(ours),
            kind(node)
        ));
        return;
    }
    match (ours, node) {
        (Value::Object(o), Value::Object(n)) => {
            for (k, nv) in n {
                let p = format!("{path}/{k}");
                match o.get(k) {
                    Some(ov) => compare_shape(&p, ov, nv, mismatch, missing),
                    None => missing.push(p),
                }
            }
        }
        (Value::Array(o), Value::Array(n)) => {
            if let Some(nv) = n.first() {
                for (i, ov) in o.iter().enumerate() {
                    compare_shape(&format!("{path}/{i}"), ov, nv, mismatch, missing);
                }
            }
        }
        _ => {}
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 80 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(77).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}

/// Connects to the Node gateway and waits (bounded) until `health` answers: it refuses with
/// "gateway starting" for 10–20 s after opening its port.
async fn node_client(node: &NodeGateway) -> Client {
    let deadline = tokio::time::Instant::now() + NODE_GUARD;
    let mut last = String::new();
    while tokio::time::Instant::now() < deadline {
        let mut o = ClientOptions::new(node.url.clone());
        o.token = Some(node.token.clone());
        o.request_timeout = RUN_GUARD;
        o.scopes.extend([
            "operator.pairing".to_owned(),
            "operator.approvals".to_owned(),
        ]);
        match Client::connect(o).await {
            Ok(c) => match c.request("health", json!({})).await {
                Ok(_) => return c,
                Err(e) => last = e.to_string(),
            },
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!(
        "the Node gateway did not answer health within {NODE_GUARD:?}: {last}\nlog: {}",
        node.log_tail()
    );
}

/// One invalid-params row.
#[derive(Debug)]
struct Row {
    method: String,
    what: String,
    /// The property the row breaks (the message must name it).
    field: String,
    params: Value,
}

/// A value of the wrong JSON type for a property schema.
fn wrong_value(prop: &Value) -> Value {
    match prop["type"].as_str() {
        Some("string") => json!(12345),
        Some(_) => json!("not-the-right-type"),
        None => json!({"not": "the right type"}),
    }
}

/// Invalid rows for `method` built from `base` (params the oracle accepted), from OpenClaw's
/// exported params schema, or — when it exports only the validator — from what the validator
/// says about an object with an unknown key (its required properties and
/// `additionalProperties`). Returns the rows and whether they came from a schema.
fn invalid_rows(oracle: &Oracle, method: &str, base: &Value) -> (Vec<Row>, bool) {
    let name = format!("{}Params", pascal(method));
    let mut rows = Vec::new();
    let base_obj = base.as_object().cloned().unwrap_or_default();
    let (props, required, closed, from_schema) = match oracle.schema(&name) {
        Some(s) => {
            let props: Vec<(String, Value)> = s["properties"]
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            let required: Vec<String> = s["required"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            (props, required, s["additionalProperties"] == false, true)
        }
        None => {
            let v = oracle.validate(&name, &json!({"bogus": true}));
            let mut required = Vec::new();
            let mut closed = false;
            for e in &v.errors {
                if e["keyword"] == "required" {
                    required.extend(
                        e["params"]["requiredProperties"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|x| x.as_str().map(str::to_owned)),
                    );
                }
                closed |= e["keyword"] == "additionalProperties";
            }
            // Without the schema, a required property's type is read from the value we sent.
            let props = required
                .iter()
                .filter_map(|k| {
                    base_obj
                        .get(k)
                        .map(|v| (k.clone(), json!({"type": kind(v)})))
                })
                .collect();
            (props, required, closed, false)
        }
    };
    // (a) a wrong-typed value: a property we sent, else the first declared one.
    let wrong = props
        .iter()
        .find(|(k, _)| base_obj.contains_key(k))
        .or_else(|| props.first());
    if let Some((k, prop)) = wrong {
        let mut p = base_obj.clone();
        p.insert(k.clone(), wrong_value(prop));
        rows.push(Row {
            method: method.to_owned(),
            what: "wrong type".into(),
            field: k.clone(),
            params: Value::Object(p),
        });
    }
    // (b) a missing required property.
    if let Some(k) = required.first() {
        let mut p = base_obj.clone();
        p.remove(k);
        rows.push(Row {
            method: method.to_owned(),
            what: "missing required".into(),
            field: k.clone(),
            params: Value::Object(p),
        });
    }
    // (c) an unknown property.
    if closed {
        let mut p = base_obj.clone();
        p.insert("bogus".into(), json!(true));
        rows.push(Row {
            method: method.to_owned(),
            what: "unknown property".into(),
            field: "bogus".into(),
            params: Value::Object(p),
        });
    }
    (rows, from_schema)
}

/// The wire spelling of an error's code (`INVALID_REQUEST`).
fn code_of(e: &openclaw_rs_protocol::ErrorShape) -> String {
    match serde_json::to_value(e) {
        Ok(v) => v["code"].as_str().unwrap_or("(no code)").to_owned(),
        Err(err) => format!("(unencodable error: {err})"),
    }
}

/// The error of a refused call: (code, message); `Err` when it was not refused.
async fn refusal(c: &Client, method: &str, params: &Value) -> Result<(String, String), String> {
    match c.request(method, params.clone()).await {
        Ok(v) => Err(format!("accepted: {}", short(&v))),
        Err(ClientError::Server(e)) => Ok((code_of(&e), e.message.clone())),
        Err(e) => Err(e.to_string()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_payload_conforms_to_openclaw() {
    let Some(oracle) = Oracle::start() else {
        return;
    };
    openclaw_rs_test_support::gateway::bin_path("openclaw-app-server");
    // The Node gateway boots while ours is exercised.
    let node = tokio::task::spawn_blocking(|| NodeGateway::start(NODE_TOKEN, NODE_GUARD));

    let mut config = Config::default();
    config.gateway.trusted_proxies = vec!["127.0.0.1".into()];
    let gw = TestGateway::start(TestGatewayOptions {
        config: Some(config),
        // Ticks (and the health event after each) within the test's lifetime.
        tick_interval: Some(Duration::from_secs(1)),
        ..TestGatewayOptions::default()
    })
    .await;
    let token = gw.token.clone().expect("token gateway");
    let events = Arc::new(Mutex::new(Vec::<Value>::new()));
    let c = our_client(&gw.url, Some(token.clone())).await;
    collect_events(&c, &events);
    let watcher = our_client(&gw.url, Some(token.clone())).await;
    collect_events(&watcher, &events);

    let mut run = Run {
        oracle,
        calls: Vec::new(),
        problems: BTreeMap::new(),
        notes: BTreeSet::new(),
        served: Vec::new(),
    };

    // hello-ok, of a plain client and (below) of a paired device.
    let hello = serde_json::to_value(&*c.hello()).expect("hello-ok encodes");
    run.judge("hello-ok", "hello-ok", "HelloOk", &hello);
    let served: Vec<String> = hello["features"]["methods"]
        .as_array()
        .expect("hello-ok.features.methods")
        .iter()
        .filter_map(|m| m.as_str().map(str::to_owned))
        .collect();
    run.served = served.clone();
    for m in &served {
        if result_ref(m).is_none() {
            run.problem(
                "served methods without a row in the conformance table",
                format!("{m}: add it to result_ref in tests/e2e/conformance.rs"),
            );
        }
    }

    // ---- state: runs, a subagent, a subscription --------------------------------------
    let main = "agent:main:main";
    run.call(&c, "sessions.subscribe", json!({})).await.ok();
    run.call(
        &c,
        "chat.send",
        json!({"sessionKey": main, "message": "echo hello", "idempotencyKey": "conf-1"}),
    )
    .await
    .ok();
    let wait = json!({"runId": "conf-1", "timeoutMs": 60_000});
    if let Ok(w) = run.call(&c, "agent.wait", wait).await {
        if !w.to_string().contains("hello") {
            run.notes.insert(format!(
                "agent.wait for `echo hello` did not show `hello`: {w}"
            ));
        }
    }
    run.call(
        &c,
        "agent",
        json!({"message": "echo again", "idempotencyKey": "conf-2", "sessionKey": main}),
    )
    .await
    .ok();
    run.call(
        &c,
        "agent.wait",
        json!({"runId": "conf-2", "timeoutMs": 60_000}),
    )
    .await
    .ok();
    let spawned = run
        .call(
            &c,
            "sessions.spawn",
            json!({"task": "echo child", "label": "conf-child"}),
        )
        .await
        .unwrap_or_default();
    if let Some(r) = spawned["runId"].as_str() {
        run.call(&c, "agent.wait", json!({"runId": r, "timeoutMs": 60_000}))
            .await
            .ok();
    }
    run.call(&c, "sessions.list", json!({})).await.ok();
    run.call(&c, "sessions.get", json!({"sessionKey": main}))
        .await
        .ok();
    run.call(&c, "chat.history", json!({"sessionKey": main}))
        .await
        .ok();
    run.call(&c, "chat.abort", json!({"sessionKey": main}))
        .await
        .ok();
    run.call(&c, "sessions.unsubscribe", json!({})).await.ok();

    // ---- the Control UI's and TUI's chat view, session views, agents and models -------
    let key = json!({"sessionKey": main});
    for (m, p) in [
        ("chat.startup", key.clone()),
        ("chat.metadata", json!({})),
        ("commands.list", json!({})),
        (
            "commands.list",
            json!({"scope": "text", "includeArgs": false}),
        ),
        ("progressCard.get", key.clone()),
        ("sessions.describe", json!({"key": main})),
        ("sessions.messages.subscribe", json!({"key": main})),
        ("sessions.messages.unsubscribe", json!({"key": main})),
        ("sessions.observer.visibility", json!({"visible": true})),
        ("sessions.catalog.list", json!({})),
        ("sessions.groups.list", json!({})),
        ("sessions.groups.defaults", json!({})),
        ("sessions.branches.list", key.clone()),
        ("sessions.companion.state", key.clone()),
        ("agents.list", json!({})),
        ("agent.identity.get", json!({})),
        ("models.list", json!({})),
        ("models.authStatus", json!({})),
    ] {
        run.call(&c, m, p).await.ok();
    }
    for m in ["sessions.reset", "sessions.delete"] {
        run.call_refused(&c, m, json!({"key": main}), "UNAVAILABLE")
            .await;
    }

    // ---- devices: one paired locally, two pending from "remote" ----------------------
    let local = DeviceIdentity::generate(0).expect("identity");
    let mut raw = RawClient::open(&gw.url, &[], WS_GUARD).await;
    let res = raw
        .connect(device_connect_params(&raw, &local, &token))
        .await;
    if res["ok"] == true {
        run.judge(
            "hello-ok",
            "hello-ok (paired device)",
            "HelloOk",
            &res["payload"],
        );
    } else {
        run.problem(
            "setup",
            format!("a local device did not pair silently: {res}"),
        );
    }
    drop(raw);
    let mut pending = Vec::new();
    for _ in 0..2 {
        let id = DeviceIdentity::generate(0).expect("identity");
        let headers = [("x-forwarded-for", "192.0.2.9")];
        let mut raw = RawClient::open(&gw.url, &headers, WS_GUARD).await;
        let res = raw.connect(device_connect_params(&raw, &id, &token)).await;
        match res["error"]["details"]["requestId"].as_str() {
            Some(rid) => pending.push((id, rid.to_owned())),
            None => run.problem(
                "setup",
                format!("a remote device got no pairing request: {res}"),
            ),
        }
    }
    run.call(&c, "device.pair.list", json!({})).await.ok();
    if let [(approved, a), (_, r)] = &pending[..] {
        run.call(&c, "device.pair.approve", json!({"requestId": a}))
            .await
            .ok();
        run.call(&c, "device.pair.reject", json!({"requestId": r}))
            .await
            .ok();
        run.call(
            &c,
            "device.pair.remove",
            json!({"deviceId": approved.device_id()}),
        )
        .await
        .ok();
    }
    let dev = json!({"deviceId": local.device_id(), "role": "operator"});
    run.call(&c, "device.token.rotate", dev.clone()).await.ok();
    run.call(&c, "device.token.revoke", dev).await.ok();

    // ---- system, logs, config ---------------------------------------------------------
    for m in [
        "health",
        "gateway.identity.get",
        "system-presence",
        "channels.status",
        "logs.tail",
        "auth.cooldowns.list",
        "gateway.restart.preflight",
        "config.get",
        "config.schema",
    ] {
        run.call(&c, m, json!({})).await.ok();
    }
    run.call(&c, "status", json!({"includeCliProjection": true}))
        .await
        .ok();
    run.call(
        &c,
        "auth.cooldowns.clear",
        json!({"profile": "conformance"}),
    )
    .await
    .ok();
    let cfg = run
        .call(&c, "config.get", json!({}))
        .await
        .unwrap_or_default();
    let with_hash = |raw: String, hash: &Value| {
        let mut p = json!({ "raw": raw });
        if let Some(h) = hash.as_str() {
            p["baseHash"] = json!(h);
        }
        p
    };
    let patch = r#"{"gateway":{"auth":{"rateLimit":{"maxAttempts":11}}}}"#.to_owned();
    run.call(&c, "config.patch", with_hash(patch, &cfg["hash"]))
        .await
        .ok();
    for m in ["config.set", "config.apply"] {
        let now = run
            .call(&c, "config.get", json!({}))
            .await
            .unwrap_or_default();
        let raw = now["raw"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| now["config"].to_string());
        run.call(&c, m, with_hash(raw, &now["hash"])).await.ok();
    }

    // ---- methods-a: diagnostics, preferences, nodes, approvals, missing subsystems ------
    for m in [
        "system.info",
        "update.status",
        "last-heartbeat",
        "diagnostics.stability",
        "diagnostics.lanes",
        "doctor.memory.status",
        "node.list",
        "node.pair.list",
        "exec.approvals.get",
        "exec.approval.list",
        "exec.approval.grants.list",
        "approval.history",
        "question.list",
        "plugin.approval.list",
        "openclaw.approval.list",
        "channels.pairing.list",
        "cron.list",
        "cron.status",
        "cron.runs",
        "skills.status",
        "skills.library.list",
        "skills.search",
        "plugins.list",
        "plugins.controlUi.list",
        "tasks.list",
        "users.list",
        "environments.list",
        "talk.catalog",
        "mentions.list",
        "openclaw.setup.detect",
        "usage.status",
        "usage.cost",
        "sessions.usage",
        "secrets.reload",
    ] {
        run.call(&c, m, json!({})).await.ok();
    }
    run.call(&c, "artifacts.list", json!({"sessionKey": main}))
        .await
        .ok();
    run.call(
        &c,
        "controlUi.sessionPullRequests.subscribe",
        json!({"sessionKeys": []}),
    )
    .await
    .ok();
    run.call(
        &c,
        "users.prefs.set",
        json!({"entries": {"conformance.theme": "dark"}}),
    )
    .await
    .ok();
    run.call(&c, "users.prefs.get", json!({})).await.ok();
    run.call(&c, "config.schema.lookup", json!({"path": "gateway"}))
        .await
        .ok();
    // Missing subsystems: each must be refused UNAVAILABLE, naming what is missing.
    for m in [
        "plugin.surface.refresh",
        "cron.add",
        "cron.update",
        "cron.remove",
        "cron.run",
        "skills.install",
        "skills.update",
        "plugins.install",
        "plugins.setEnabled",
        "plugins.uninstall",
        "channels.logout",
        "channels.start",
        "channels.stop",
        "channels.pairing.dismiss",
        "node.pair.approve",
        "node.pair.reject",
        "node.pair.remove",
        "node.rename",
        "exec.approval.resolve",
        "exec.approval.grants.revoke",
        "plugin.approval.resolve",
        "talk.speak",
        "talk.mode",
        "users.setDisplayName",
        "users.setAvatar",
        "users.setRole",
        "tasks.cancel",
        "update.run",
        "exec.approvals.set",
        "sessions.patch",
        "sessions.create",
    ] {
        let params = json!({"surface": "conformance"});
        let refused = c.request(m, params.clone()).await;
        let named = match &refused {
            Err(ClientError::Server(e)) => {
                code_of(e) == "UNAVAILABLE"
                    && (e.message.contains("openclaw-rs has no")
                        || e.message.contains("openclaw-rs raises no"))
            }
            _ => false,
        };
        if !named {
            run.problem(
                "missing subsystems",
                format!("{m}: expected UNAVAILABLE naming the missing subsystem, got {refused:?}"),
            );
        }
        run.calls.push(Call {
            method: m.to_owned(),
            params,
            result: Err("UNAVAILABLE".into()),
        });
    }

    // ---- results with an OpenClaw schema, and with Node as the reference --------------
    let node = match node.await.expect("node gateway start task") {
        Ok(n) => Some(n),
        Err(e) => {
            run.problem("setup", format!("the Node gateway did not start: {e}"));
            None
        }
    };
    let nc = match &node {
        Some(n) => Some(node_client(n).await),
        None => None,
    };
    let (mut by_schema, mut by_node, mut by_nothing) =
        (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let calls = run.calls.clone();
    let mut node_cache: BTreeMap<String, Value> = BTreeMap::new();
    for call in &calls {
        let Ok(result) = &call.result else { continue };
        let m = call.method.as_str();
        let result_schema = format!("{}Result", pascal(m));
        // OpenClaw's `<Method>Result` wins over the table, so a new result schema is used.
        let reference = if run.oracle.has(&result_schema) {
            Judge::Schema(result_schema)
        } else {
            match result_ref(m) {
                Some(ResultRef::Schema(s)) => Judge::Schema(s.to_owned()),
                Some(ResultRef::Node) => Judge::Node,
                Some(ResultRef::Nothing) => Judge::Nothing,
                None => continue,
            }
        };
        match reference {
            Judge::Schema(s) => {
                by_schema.insert(m.to_owned());
                run.judge("results vs OpenClaw schemas", m, &s, result);
            }
            Judge::Node => {
                by_node.insert(m.to_owned());
                let Some(nc) = &nc else { continue };
                let mut params = call.params.clone();
                if m == "agent.wait" {
                    // Node has none of our runs: it answers the same method with a timeout.
                    params["timeoutMs"] = json!(1);
                }
                let key = format!("{m} {params}");
                let theirs = match node_cache.get(&key) {
                    Some(v) => v.clone(),
                    None => match nc.request(m, params.clone()).await {
                        Ok(v) => {
                            node_cache.insert(key, v.clone());
                            v
                        }
                        Err(e) => {
                            run.notes
                                .insert(format!("Node refused {m} {params}: {e} (no comparison)"));
                            continue;
                        }
                    },
                };
                let (mut mismatch, mut missing) = (Vec::new(), Vec::new());
                compare_shape("", result, &theirs, &mut mismatch, &mut missing);
                for x in mismatch {
                    run.problem("results vs the Node gateway's shape", format!("{m}: {x}"));
                }
                if !missing.is_empty() {
                    run.notes
                        .insert(format!("{m}: Node has, ours lacks: {}", missing.join(", ")));
                }
                if m == "sessions.list" {
                    if result["defaults"]["modelSelectionTarget"].is_null() {
                        run.problem(
                            "results vs the Node gateway's shape",
                            "sessions.list: no defaults.modelSelectionTarget (the Control UI chat view reads it)".into(),
                        );
                    }
                    for (i, row) in result["sessions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .enumerate()
                    {
                        run.judge(
                            "results vs OpenClaw schemas",
                            &format!("sessions.list sessions[{i}]"),
                            "SessionRow",
                            row,
                        );
                    }
                }
                if m == "system-presence" {
                    for (i, row) in result.as_array().into_iter().flatten().enumerate() {
                        run.judge(
                            "results vs OpenClaw schemas",
                            &format!("system-presence [{i}]"),
                            "PresenceEntry",
                            row,
                        );
                    }
                }
            }
            Judge::Nothing => {
                by_nothing.insert(m.to_owned());
            }
        }
    }
    for m in &served {
        if !calls.iter().any(|c| &c.method == m) && m != "gateway.restart.request" {
            run.problem(
                "served methods the test did not call",
                format!("{m}: add a call to the scenario"),
            );
        }
    }

    // ---- invalid params rows, ours and Node ------------------------------------------
    let mut rows_sent = 0;
    let mut probed = BTreeSet::new();
    let mut rowed = BTreeSet::new();
    for m in &served {
        let name = format!("{}Params", pascal(m));
        if !run.oracle.has(&name) || m == "gateway.restart.request" {
            continue;
        }
        let Some(base) = calls
            .iter()
            .rfind(|c| &c.method == m && c.result.is_ok())
            .map(|c| c.params.clone())
        else {
            continue;
        };
        if !run.oracle.validate(&name, &base).valid {
            continue; // already reported as a params problem
        }
        let (rows, from_schema) = invalid_rows(&run.oracle, m, &base);
        if !from_schema {
            probed.insert(m.clone());
        }
        for row in rows {
            let v = run.oracle.validate(&name, &row.params);
            if v.valid {
                run.notes.insert(format!(
                    "row {} {} {} is valid for OpenClaw: not sent",
                    row.method, row.what, row.params
                ));
                continue;
            }
            rows_sent += 1;
            rowed.insert(m.clone());
            let label = format!("{} ({}: {})", row.method, row.what, row.params);
            let ours = refusal(&c, &row.method, &row.params).await;
            if let Err(e) = c.request("health", json!({})).await {
                run.problem(
                    "invalid params rows",
                    format!("{label}: ours dropped the connection: {e}"),
                );
            }
            let theirs = match &nc {
                Some(nc) => {
                    let t = refusal(nc, &row.method, &row.params).await;
                    if let Err(e) = nc.request("health", json!({})).await {
                        run.notes
                            .insert(format!("{label}: Node dropped the connection: {e}"));
                    }
                    Some(t)
                }
                None => None,
            };
            match (&ours, &theirs) {
                (Err(e), _) => {
                    run.problem(
                        "invalid params rows",
                        format!("{label}: ours was not refused: {e}"),
                    );
                }
                (Ok((code, msg)), node_answer) => {
                    // Where Node uses its `invalid <method> params: …` format, ours must say
                    // exactly the same (one problem below); elsewhere ours must at least name
                    // the method and the field.
                    let node_format = format!("invalid {} params", row.method);
                    let node_words =
                        matches!(node_answer, Some(Ok((_, n))) if n.starts_with(&node_format));
                    if !node_words
                        && (!msg.contains(row.method.as_str()) || !msg.contains(row.field.as_str()))
                    {
                        run.problem(
                            "invalid params rows",
                            format!(
                                "{label}: ours does not name the method and `{}`: {code} {msg:?}",
                                row.field
                            ),
                        );
                    }
                    match node_answer {
                        Some(Ok((ncode, nmsg))) => {
                            if ncode != code {
                                run.problem(
                                    "invalid params rows",
                                    format!("{label}: code {code}, Node {ncode} ({nmsg:?})"),
                                );
                            }
                            if node_words {
                                if nmsg != msg {
                                    run.problem(
                                        "invalid params rows",
                                        format!("{label}: message {msg:?}, Node {nmsg:?}"),
                                    );
                                }
                            } else {
                                run.notes.insert(format!(
                                    "{label}: Node words it differently: {ncode} {nmsg:?}"
                                ));
                            }
                        }
                        Some(Err(e)) => {
                            run.notes
                                .insert(format!("{label}: Node did not refuse it: {e}"));
                        }
                        None => {}
                    }
                }
            }
        }
    }

    // ---- keepalive events: wait (bounded) for a tick and its health event -----------------
    let deadline = tokio::time::Instant::now() + RUN_GUARD;
    while !["tick", "health"]
        .iter()
        .all(|n| events.lock().unwrap().iter().any(|e| e["event"] == *n))
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // ---- the last method: a restart request, which ends ours with a shutdown event ----
    if served.iter().any(|m| m == "gateway.restart.request") {
        run.call(
            &c,
            "gateway.restart.request",
            json!({"reason": "conformance", "force": true}),
        )
        .await
        .ok();
        let deadline = tokio::time::Instant::now() + RUN_GUARD;
        while !events
            .lock()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "shutdown")
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        by_nothing.insert("gateway.restart.request".to_owned());
    }

    // ---- events -------------------------------------------------------------------------
    let events = events.lock().unwrap().clone();
    let (mut ev_schema, mut ev_none) = (BTreeSet::new(), BTreeSet::new());
    for e in &events {
        let name = e["event"].as_str().unwrap_or("(unnamed)").to_owned();
        match event_schema(&name) {
            Some(s) => {
                ev_schema.insert(name.clone());
                let mut payload = e.get("payload").cloned().unwrap_or(Value::Null);
                // Fields the Node gateway itself adds beyond the schema (the schema is a floor,
                // Node's behaviour the reference): they must be strings; the rest is judged.
                for field in node_extras(&name) {
                    match payload.as_object_mut().and_then(|o| o.remove(*field)) {
                        Some(Value::String(_)) => {}
                        other => run.problem(
                            "events vs OpenClaw schemas",
                            format!("event {name}: `{field}` must be a string as on Node, got {other:?}"),
                        ),
                    }
                }
                run.judge(
                    "events vs OpenClaw schemas",
                    &format!("event {name}"),
                    s,
                    &payload,
                );
            }
            None => {
                ev_none.insert(name);
            }
        }
    }
    for want in [
        "tick",
        "health",
        "chat",
        "agent",
        "shutdown",
        "sessions.changed",
        "device.pair.requested",
        "device.pair.resolved",
        "config.changed",
    ] {
        if !events.iter().any(|e| e["event"] == want) {
            run.problem(
                "events the scenario should have produced",
                format!("no `{want}` event was received on any client"),
            );
        }
    }

    let list = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
    println!(
        "conformance: {} methods served, {} results validated against OpenClaw schemas ({}), {} compared with Node ({}), {} without any reference ({}); {} event kinds validated ({}), {} without schema ({}); {} invalid-params rows sent for {} methods ({} of them from the validator alone, no exported schema: {})",
        served.len(),
        by_schema.len(),
        list(&by_schema),
        by_node.len(),
        list(&by_node),
        by_nothing.len(),
        list(&by_nothing),
        ev_schema.len(),
        list(&ev_schema),
        ev_none.len(),
        list(&ev_none),
        rows_sent,
        rowed.len(),
        probed.len(),
        list(&probed),
    );
    for n in &run.notes {
        println!("  note: {n}");
    }
    let total: usize = run
        .problems
        .values()
        .map(|g| g.values().sum::<usize>())
        .sum();
    let mut report = String::new();
    for (group, items) in &run.problems {
        report.push_str(&format!(
            "\n== {group} ({})\n",
            items.values().sum::<usize>()
        ));
        for (text, n) in items {
            let times = if *n > 1 {
                format!(" (x{n})")
            } else {
                String::new()
            };
            report.push_str(&format!("  - {text}{times}\n"));
        }
    }
    drop(nc);
    drop(node);
    assert!(total == 0, "{total} conformance problems:{report}");
}

/// Our `chat` error and aborted events against OpenClaw's closed `ChatEventSchema` (the run
/// above only sees runs that succeed). `errorDetail` once carried an `errorClass` the schema
/// refuses.
#[test]
fn chat_error_and_aborted_events_conform() {
    use openclaw_rs_protocol::methods::sessions::{ChatBody, ChatEvent, ErrorDetail};
    let Some(oracle) = Oracle::start() else {
        return;
    };
    let bodies = [
        ChatBody::Error {
            error_message: Some("401 Unauthorized".into()),
            error_kind: Some("unknown".into()),
            error_detail: Some(ErrorDetail {
                provider_runtime_failure_kind: "auth".into(),
            }),
            stop_reason: Some("error".into()),
        },
        ChatBody::Aborted {
            error_message: None,
            stop_reason: Some("aborted".into()),
        },
    ];
    for body in bodies {
        let event = ChatEvent {
            run_id: "run-1".into(),
            session_key: "agent:main:main".into(),
            agent_id: "main".into(),
            spawned_by: None,
            seq: 3,
            body,
        };
        let v = serde_json::to_value(&event).expect("encode");
        let verdict = oracle.validate("ChatEvent", &v);
        assert!(verdict.valid, "{v} vs ChatEvent: {}", verdict.describe());
    }
}
