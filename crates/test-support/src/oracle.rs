//! The conformance oracle: OpenClaw's own compiled protocol validators (from the npm package) as a
//! child process, so tests can judge the payloads our gateway sends by OpenClaw's rules.
//!
//! [`Oracle::start`] runs `oracle/oracle.mjs` (next to this crate's manifest) on node 24 against
//! the installed `openclaw` package. The script indexes the package's gateway-protocol exports once
//! (about 486 `validate*` functions and 1047 `*Schema` objects) and then answers one JSON line per
//! request. A schema is named by its base name: `SessionsListParams` means the compiled
//! `validateSessionsListParams`, or `lazyCompile(SessionsListParamsSchema)` when there is no
//! ready validator.
//!
//! One child per [`Oracle`]; it is killed on drop. Every wait on it is bounded: a reply that does
//! not come within [`REPLY_GUARD`] panics with the reason (the test fails, it never hangs).

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Mutex;
use std::time::Duration;

use crate::node;

/// Longest wait for the script to index the package and say it is ready (2–3 s unloaded).
pub const START_GUARD: Duration = Duration::from_secs(60);
/// Longest wait for one answer (the first use of a validator imports its bundle file).
pub const REPLY_GUARD: Duration = Duration::from_secs(30);

/// OpenClaw's judgement of one payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// OpenClaw has a validator or schema of that name.
    pub known: bool,
    /// The payload passed (false when `known` is false).
    pub valid: bool,
    /// The validator's errors (`{keyword, instancePath, message, params, schemaPath}`), empty
    /// when valid.
    pub errors: Vec<Value>,
}

impl Verdict {
    /// The errors as `at <instancePath>: <message>` lines (`at root` for the empty path), with
    /// the keyword's params, e.g. `at /limit: must be integer {"type":"integer"}`.
    pub fn describe(&self) -> String {
        self.errors
            .iter()
            .map(|e| {
                let at = e["instancePath"].as_str().unwrap_or("");
                let at = if at.is_empty() { "root" } else { at };
                let msg = e["message"].as_str().unwrap_or("(no message)");
                format!("at {at}: {msg} {}", e["params"])
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

struct Io {
    stdin: ChildStdin,
    lines: Receiver<String>,
}

/// OpenClaw's validators in a node child process (see the module docs).
pub struct Oracle {
    child: Child,
    io: Mutex<Io>,
    next_id: AtomicU64,
    /// How many validators and schemas the package exports (from the ready line).
    pub validators: u64,
    pub schemas: u64,
}

impl std::fmt::Debug for Oracle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oracle")
            .field("pid", &self.child.id())
            .field("validators", &self.validators)
            .field("schemas", &self.schemas)
            .finish()
    }
}

/// `oracle/oracle.mjs` of this crate.
pub fn script_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("oracle/oracle.mjs")
}

impl Oracle {
    /// Starts the oracle, or returns `None` after printing a loud `SKIPPED` line when node 24 or
    /// the openclaw package is not installed. Panics when they are installed but the oracle does
    /// not start (that is a broken setup, not a reason to skip).
    pub fn start() -> Option<Oracle> {
        let (Some(node), Some(mjs)) = (node::node_bin(), node::openclaw_mjs()) else {
            eprintln!(
                "\n!!! SKIPPED conformance oracle: node 24 or openclaw@{} is not installed under {} — fix: cargo xtask install-deps\n",
                node::OPENCLAW_VERSION,
                node::npm_dir().display()
            );
            return None;
        };
        let pkg = mjs.parent().unwrap_or(Path::new(".")).to_path_buf();
        let script = script_path();
        let mut child = Command::new(&node)
            .arg(&script)
            .arg(&pkg)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start the oracle `{} {}`: {e}",
                    node.display(),
                    script.display()
                )
            });
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            panic!("the oracle child has no stdin/stdout pipes");
        };
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut oracle = Oracle {
            child,
            io: Mutex::new(Io { stdin, lines }),
            next_id: AtomicU64::new(1),
            validators: 0,
            schemas: 0,
        };
        let ready = oracle
            .next_line(START_GUARD)
            .unwrap_or_else(|e| panic!("the oracle did not start: {e}"));
        let ready: Value = serde_json::from_str(&ready)
            .unwrap_or_else(|e| panic!("the oracle's ready line is not JSON ({e}): {ready}"));
        assert_eq!(
            ready["ready"],
            true,
            "the oracle could not index {}: {ready}",
            pkg.display()
        );
        oracle.validators = ready["validators"].as_u64().unwrap_or(0);
        oracle.schemas = ready["schemas"].as_u64().unwrap_or(0);
        Some(oracle)
    }

    fn next_line(&self, guard: Duration) -> Result<String, String> {
        let io = self.io.lock().map_err(|_| "oracle lock poisoned")?;
        match io.lines.recv_timeout(guard) {
            Ok(line) => Ok(line),
            Err(RecvTimeoutError::Timeout) => Err(format!("no answer within {guard:?}")),
            Err(RecvTimeoutError::Disconnected) => Err("the oracle process exited".into()),
        }
    }

    /// Sends one request (an `id` is added) and returns the answer; panics when the oracle does
    /// not answer within [`REPLY_GUARD`] or answers an error.
    fn request(&self, mut req: Value) -> Value {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        req["id"] = json!(id);
        let mut io = self
            .io
            .lock()
            .unwrap_or_else(|_| panic!("oracle lock poisoned"));
        let line = format!("{req}\n");
        if let Err(e) = io
            .stdin
            .write_all(line.as_bytes())
            .and_then(|()| io.stdin.flush())
        {
            panic!("cannot write to the oracle ({e}); request {req}");
        }
        loop {
            let line = match io.lines.recv_timeout(REPLY_GUARD) {
                Ok(line) => line,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("the oracle did not answer within {REPLY_GUARD:?}: {req}")
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the oracle process exited while answering {req}")
                }
            };
            let answer: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("the oracle answered non-JSON ({e}): {line}"));
            if answer["id"] != json!(id) {
                // An answer to an earlier request that timed out on our side: skip it.
                continue;
            }
            if let Some(err) = answer.get("error") {
                panic!("the oracle failed on {req}: {err}");
            }
            return answer;
        }
    }

    /// Validates `payload` against OpenClaw's `schema` (base name: `SessionsListParams`).
    pub fn validate(&self, schema: &str, payload: &Value) -> Verdict {
        let a = self.request(json!({"op": "validate", "schema": schema, "payload": payload}));
        Verdict {
            known: a["known"] == true,
            valid: a["valid"] == true,
            errors: a["errors"].as_array().cloned().unwrap_or_default(),
        }
    }

    /// OpenClaw's exported `<name>Schema` as JSON Schema, if it exports one.
    pub fn schema(&self, name: &str) -> Option<Value> {
        let a = self.request(json!({"op": "schema", "schema": name}));
        (a["known"] == true).then(|| a["schema"].clone())
    }

    /// OpenClaw exports `validate<name>` or `<name>Schema`.
    pub fn has(&self, name: &str) -> bool {
        self.request(json!({"op": "has", "schema": name}))["known"] == true
    }

    /// Every real name the package's gateway-protocol bundle exports.
    pub fn names(&self) -> Vec<String> {
        self.request(json!({"op": "names"}))["names"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|n| n.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_known_good_and_bad_payloads() {
        let Some(o) = Oracle::start() else { return };
        assert!(o.validators > 400, "{o:?}");
        assert!(o.schemas > 1000, "{o:?}");

        let ok = o.validate("SessionsListParams", &json!({"limit": 5}));
        assert_eq!((ok.known, ok.valid), (true, true), "{ok:?}");
        assert!(ok.errors.is_empty());

        let bad = o.validate("SessionsListParams", &json!({"limit": "x"}));
        assert_eq!((bad.known, bad.valid), (true, false), "{bad:?}");
        assert_eq!(bad.errors[0]["instancePath"], "/limit", "{bad:?}");
        assert_eq!(bad.errors[0]["message"], "must be integer", "{bad:?}");
        assert!(bad.describe().contains("at /limit: must be integer"));

        // A validator without an exported params schema still judges.
        let wait = o.validate("AgentWaitParams", &json!({}));
        assert_eq!((wait.known, wait.valid), (true, false), "{wait:?}");
        assert_eq!(wait.errors[0]["keyword"], "required", "{wait:?}");

        // A schema without a ready validator goes through lazyCompile.
        assert!(o.has("SessionRow"));
        let row = o.validate("SessionRow", &json!({"key": "agent:main:main"}));
        assert_eq!((row.known, row.valid), (true, false), "{row:?}");

        let unknown = o.validate("NoSuchThing", &json!({}));
        assert_eq!((unknown.known, unknown.valid), (false, false));
        assert!(!o.has("NoSuchThing"));
    }

    #[test]
    fn returns_schemas_as_json() {
        let Some(o) = Oracle::start() else { return };
        let s = o.schema("SessionsListParams").expect("exported schema");
        assert_eq!(s["type"], "object");
        assert_eq!(s["properties"]["limit"]["type"], "integer");
        let hello = o.schema("HelloOk").expect("HelloOk");
        assert!(hello["required"]
            .as_array()
            .is_some_and(|r| r.contains(&json!("features"))));
        assert_eq!(o.schema("AgentWaitParams"), None, "not exported");
        assert!(o.names().iter().any(|n| n == "lazyCompile"));
    }
}
