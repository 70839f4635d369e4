//! The method table and the typed request/result/event contract.
//!
//! [`METHODS`] is the one list of the methods this gateway serves, with the access each needs
//! (OpenClaw's operator-scope rules, `docs/gateway/operator-scopes.md` in its npm package). The
//! gateway's registry, `hello-ok.features.methods`, the scope checks and the CLI all read it.
//!
//! Each method has a params type implementing [`Request`], which names the method and its result
//! type; each event payload implements [`Event`]. [`decode_params`] is the one serde step on the
//! way in: it refuses wrong types, missing fields and (where OpenClaw's schema is closed) unknown
//! fields with `INVALID_REQUEST` in the wording of the Node gateway,
//! `invalid <method> params: at /field: must be integer`.

use crate::codes::ErrorCode;
use crate::frames::ErrorShape;
use crate::scopes;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// What a caller needs to call a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The operator role with this scope (`operator.admin` satisfies every scope, and
    /// `operator.write` satisfies `operator.read`).
    Scope(&'static str),
    /// Only the `node` role.
    NodeRole,
    /// The operator role; the handler works out the scope from the params (OpenClaw's
    /// "dynamic" methods such as `agent`, where `/new` and `/reset` need admin).
    Dynamic,
}

impl Access {
    /// True for methods that only read state (`operator.read`).
    pub fn is_read(self) -> bool {
        self == Access::Scope(scopes::READ)
    }
}

/// One served method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodDef {
    /// The wire name.
    pub name: &'static str,
    /// What the caller needs.
    pub access: Access,
    /// Answered to an authenticated operator that was granted no scopes at all (a `probe`
    /// client, which OpenClaw connects with `scopes: []`). OpenClaw answers `health` this way and refuses
    /// everything else with `missing scope: operator.read` (checked against the Node gateway).
    pub scopeless: bool,
    /// Part of OpenClaw's own method set (false for this gateway's extensions, which have no
    /// OpenClaw schema).
    pub openclaw: bool,
}

const fn m(name: &'static str, access: Access) -> MethodDef {
    MethodDef {
        name,
        access,
        scopeless: false,
        openclaw: true,
    }
}

const fn ours(name: &'static str, access: Access) -> MethodDef {
    MethodDef {
        name,
        access,
        scopeless: false,
        openclaw: false,
    }
}

const fn scopeless(def: MethodDef) -> MethodDef {
    MethodDef {
        scopeless: true,
        ..def
    }
}

const READ: Access = Access::Scope(scopes::READ);
const WRITE: Access = Access::Scope(scopes::WRITE);
const ADMIN: Access = Access::Scope(scopes::ADMIN);
const PAIRING: Access = Access::Scope(scopes::PAIRING);
const APPROVALS: Access = Access::Scope(scopes::APPROVALS);
const QUESTIONS: Access = Access::Scope(scopes::QUESTIONS);
const TALK: Access = Access::Scope(scopes::TALK);

/// Every method this gateway serves, in the order `hello-ok.features.methods` lists them.
pub const METHODS: &[MethodDef] = &[
    // Gateway and diagnostics.
    scopeless(m("health", READ)),
    m("status", READ),
    m("gateway.identity.get", READ),
    m("logs.tail", READ),
    m("system-presence", READ),
    m("channels.status", READ),
    // Config and restarts.
    m("config.get", READ),
    m("config.set", ADMIN),
    m("config.patch", ADMIN),
    m("config.apply", ADMIN),
    m("gateway.restart.preflight", READ),
    m("gateway.restart.request", ADMIN),
    ours("auth.cooldowns.list", READ),
    ours("auth.cooldowns.clear", ADMIN),
    // Sessions, chat and agent runs.
    m("sessions.list", READ),
    m("sessions.get", READ),
    m("sessions.subscribe", READ),
    ours("sessions.unsubscribe", READ),
    ours("sessions.spawn", WRITE),
    m("chat.send", WRITE),
    m("chat.abort", WRITE),
    m("chat.history", READ),
    m("agent", Access::Dynamic),
    m("agent.wait", WRITE),
    // Chat view, session views, agents, models and commands (the Control UI and the TUI).
    m("chat.startup", READ),
    m("chat.metadata", READ),
    m("commands.list", READ),
    m("progressCard.get", READ),
    m("sessions.describe", READ),
    m("sessions.messages.subscribe", READ),
    m("sessions.messages.unsubscribe", READ),
    m("sessions.observer.visibility", READ),
    m("sessions.catalog.list", READ),
    m("sessions.groups.list", READ),
    m("sessions.groups.defaults", WRITE),
    m("sessions.branches.list", READ),
    m("sessions.companion.state", READ),
    m("sessions.reset", ADMIN),
    m("sessions.delete", ADMIN),
    // OpenClaw's dynamic session mutations default to write; refused UNAVAILABLE here.
    m("sessions.patch", WRITE),
    m("sessions.create", WRITE),
    m("agents.list", READ),
    m("agent.identity.get", READ),
    m("models.list", READ),
    m("models.authStatus", READ),
    // Devices.
    m("device.pair.list", PAIRING),
    m("device.pair.approve", PAIRING),
    m("device.pair.reject", PAIRING),
    m("device.pair.remove", PAIRING),
    m("device.token.rotate", PAIRING),
    m("device.token.revoke", PAIRING),
    // ---- methods-a: diagnostics, config schema, preferences, nodes, approvals, and the
    // subsystems this gateway does not have (reads answer empty, writes UNAVAILABLE).
    m("system.info", READ),
    m("update.status", ADMIN),
    m("last-heartbeat", READ),
    m("diagnostics.stability", READ),
    m("diagnostics.lanes", READ),
    m("doctor.memory.status", READ),
    m("config.schema", READ),
    m("config.schema.lookup", READ),
    m("users.prefs.get", READ),
    m("users.prefs.set", WRITE),
    m("node.list", READ),
    m("node.pair.list", PAIRING),
    m("exec.approvals.get", ADMIN),
    m("exec.approvals.set", ADMIN),
    m("exec.approval.list", APPROVALS),
    m("exec.approval.grants.list", APPROVALS),
    m("approval.history", APPROVALS),
    m("question.list", QUESTIONS),
    m("plugin.approval.list", APPROVALS),
    m("openclaw.approval.list", APPROVALS),
    m("channels.pairing.list", PAIRING),
    m("cron.list", READ),
    m("cron.status", READ),
    m("cron.runs", READ),
    m("skills.status", READ),
    m("skills.library.list", READ),
    m("skills.search", READ),
    m("plugins.list", READ),
    m("plugins.controlUi.list", READ),
    m("plugin.surface.refresh", READ),
    m("tasks.list", READ),
    m("users.list", READ),
    m("artifacts.list", READ),
    m("environments.list", Access::Dynamic),
    m("talk.catalog", READ),
    m("mentions.list", READ),
    m("controlUi.sessionPullRequests.subscribe", READ),
    m("openclaw.setup.detect", ADMIN),
    m("usage.status", READ),
    m("usage.cost", READ),
    m("sessions.usage", READ),
    m("secrets.reload", ADMIN),
    // Writes of subsystems this gateway does not have: UNAVAILABLE, naming the subsystem.
    m("cron.add", ADMIN),
    m("cron.update", ADMIN),
    m("cron.remove", ADMIN),
    m("cron.run", ADMIN),
    m("skills.install", ADMIN),
    m("skills.update", ADMIN),
    m("plugins.install", ADMIN),
    m("plugins.setEnabled", ADMIN),
    m("plugins.uninstall", ADMIN),
    m("channels.logout", ADMIN),
    m("channels.start", ADMIN),
    m("channels.stop", ADMIN),
    m("channels.pairing.dismiss", PAIRING),
    m("node.pair.approve", PAIRING),
    m("node.pair.reject", PAIRING),
    m("node.pair.remove", PAIRING),
    m("node.rename", PAIRING),
    m("exec.approval.resolve", APPROVALS),
    m("exec.approval.grants.revoke", APPROVALS),
    m("plugin.approval.resolve", APPROVALS),
    m("talk.speak", TALK),
    m("talk.mode", TALK),
    m("users.setDisplayName", WRITE),
    m("users.setAvatar", WRITE),
    m("users.setRole", ADMIN),
    m("tasks.cancel", WRITE),
    m("update.run", ADMIN),
    // ---- end methods-a
];

/// The table entry for `name`, if this gateway serves it.
pub fn method(name: &str) -> Option<&'static MethodDef> {
    METHODS.iter().find(|d| d.name == name)
}

/// A method's params: names the method and the type of its result.
///
/// Sent by clients (`Client::call`), decoded by the gateway with [`decode_params`].
pub trait Request: Serialize + DeserializeOwned + Send + 'static {
    /// The wire name (an entry of [`METHODS`], or an embedder's extra method).
    const METHOD: &'static str;
    /// The payload of a successful response.
    type Result: Serialize + DeserializeOwned + Send + 'static;
}

/// An event payload: names its event.
pub trait Event: Serialize {
    /// The wire name of the event (`chat`, `tick`, …).
    const NAME: &'static str;
}

/// Decode `params` (absent params are `{}`) for `method`, or refuse them with
/// `INVALID_REQUEST` naming the method and the field, as the Node gateway words it.
pub fn decode_params<P: DeserializeOwned>(
    method: &str,
    params: Option<Value>,
) -> Result<P, ErrorShape> {
    let value = params.unwrap_or_else(|| Value::Object(Default::default()));
    // serde would read a struct from an array positionally; OpenClaw's params are objects.
    if !value.is_object() {
        return Err(ErrorShape::new(
            ErrorCode::InvalidRequest,
            format!("invalid {method} params: must be object"),
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let message = if BARE_PARAMS_REFUSALS.contains(&method) {
            format!("invalid {method} params")
        } else {
            format!("invalid {method} params: {}", describe(&e))
        };
        ErrorShape::new(ErrorCode::InvalidRequest, message)
    })
}

/// Methods whose invalid params the Node gateway refuses without saying where
/// (`invalid approval.history params`); ours words them the same.
const BARE_PARAMS_REFUSALS: &[&str] = &["approval.history"];

/// `at /a/b: must be integer`, `must have required property 'x'`, `at root: unexpected
/// property 'x'`: the phrases of OpenClaw's `formatValidationErrors`.
fn describe(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let mut pointer = String::new();
    for seg in e.path().iter() {
        use serde_path_to_error::Segment;
        match seg {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push('/');
                pointer.push_str(key);
            }
            Segment::Unknown => {}
        }
    }
    let inner = e.inner().to_string();
    // serde_json appends " at line L column C"; the path already says where.
    let inner = match inner.rfind(" at line ") {
        Some(i) => &inner[..i],
        None => inner.as_str(),
    };
    if let Some(field) = between(inner, "missing field `", "`") {
        return match pointer.is_empty() {
            true => format!("must have required property '{field}'"),
            false => format!("at {pointer}: must have required property '{field}'"),
        };
    }
    if let Some(field) = between(inner, "unknown field `", "`") {
        // The path of an unknown field ends at the field itself.
        let parent = pointer
            .rfind('/')
            .map(|i| &pointer[..i])
            .unwrap_or_default();
        let at = if parent.is_empty() { "root" } else { parent };
        return format!("at {at}: unexpected property '{field}'");
    }
    let what = type_phrase(inner)
        .unwrap_or_else(|| inner.to_owned())
        .replace("{at}", &pointer);
    match pointer.is_empty() {
        true => what,
        false => format!("at {pointer}: {what}"),
    }
}

/// serde's "invalid type: string \"x\", expected u64" as the validator's "must be integer".
fn type_phrase(inner: &str) -> Option<String> {
    let expected = inner.split(", expected ").nth(1)?;
    let ty = match expected {
        e if e.starts_with('u') || e.starts_with('i') && e[1..].starts_with(char::is_numeric) => {
            if inner.starts_with("invalid value") {
                return Some(format!("must be a non-negative integer ({inner})"));
            }
            "integer"
        }
        e if e.starts_with('f') => "number",
        "a string" | "a borrowed string" => "string",
        // `methods::Choice`: a string from an `anyOf` of constants.
        crate::methods::CHOICE_EXPECTING => {
            return Some(
                "must be string; at {at}: must be equal to constant; at {at}: must match a schema in anyOf"
                    .into(),
            )
        }
        "a boolean" => "boolean",
        e if e.starts_with("a sequence") => "array",
        e if e.starts_with("a map") || e.starts_with("struct ") => "object",
        _ => return None,
    };
    Some(format!("must be {ty}"))
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = s.find(start)? + start.len();
    let len = s[from..].find(end)?;
    Some(&s[from..from + len])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct P {
        session_key: String,
        limit: Option<u64>,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        flag: bool,
    }

    fn msg(v: Value) -> String {
        decode_params::<P>("x.y", Some(v)).unwrap_err().message
    }

    #[test]
    fn params_errors_use_the_node_wording() {
        use serde_json::json;
        assert_eq!(
            msg(json!({})),
            "invalid x.y params: must have required property 'sessionKey'"
        );
        assert_eq!(
            msg(json!({"sessionKey": "k", "limit": "abc"})),
            "invalid x.y params: at /limit: must be integer"
        );
        assert_eq!(
            msg(json!({"sessionKey": "k", "bogus": 1})),
            "invalid x.y params: at root: unexpected property 'bogus'"
        );
        assert_eq!(
            msg(json!({"sessionKey": "k", "inner": {"flag": 1}})),
            "invalid x.y params: at /inner/flag: must be boolean"
        );
        assert_eq!(
            msg(json!({"sessionKey": "k", "inner": {"flag": true, "x": 1}})),
            "invalid x.y params: at /inner: unexpected property 'x'"
        );
        assert_eq!(
            msg(json!({"sessionKey": 5})),
            "invalid x.y params: at /sessionKey: must be string"
        );
        assert_eq!(msg(json!([1])), "invalid x.y params: must be object");
        let e =
            decode_params::<P>("x.y", Some(json!({"limit": -1, "sessionKey": "k"}))).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        assert!(e.message.contains("at /limit"), "{}", e.message);
    }

    #[test]
    fn absent_params_are_an_empty_object() {
        #[derive(Deserialize)]
        struct Empty {}
        assert!(decode_params::<Empty>("health", None).is_ok());
    }

    #[test]
    fn table_names_are_unique() {
        let mut names: Vec<_> = METHODS.iter().map(|d| d.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
