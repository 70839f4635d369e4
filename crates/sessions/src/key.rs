//! Session keys: `agent:<agentId>:main`, `agent:<agentId>:subagent:<uuid>` and named sessions
//! `agent:<agentId>:<rest>` (OpenClaw's `agent:<agentId>:<rest>` shape: `my-work`, `incident-42`,
//! `discord:channel:42`).
//!
//! Keys are validated on the way in, so the rest of the crate (and the journal file names
//! derived from them) can rely on their shape.

use crate::error::SessionError;

/// The longest agent id accepted.
pub const MAX_AGENT_ID_LEN: usize = 64;

/// What kind of session a key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `agent:<id>:main`: the agent's main session (depth 0).
    Main,
    /// `agent:<id>:subagent:<uuid>`: a spawned child.
    Subagent,
    /// `agent:<id>:<rest>`: a named top-level session (depth 0), created on first use like
    /// the main session.
    Named,
}

/// The longest session key accepted (its journal file name derives from it).
pub const MAX_KEY_LEN: usize = 200;

/// A parsed, valid session key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedKey {
    /// The agent id from the key (`agent:<agentId>:…`), already valid.
    pub agent_id: String,
    /// Which kind of session the key names.
    pub kind: KeyKind,
}

/// Is `id` a valid agent id (`[A-Za-z0-9_-]`, 1–64 chars)?
pub fn valid_agent_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_AGENT_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Check an agent id, naming the problem.
pub fn check_agent_id(id: &str) -> Result<(), SessionError> {
    if valid_agent_id(id) {
        Ok(())
    } else {
        Err(SessionError::InvalidRequest(format!(
            "invalid agentId {id:?}: use 1-{MAX_AGENT_ID_LEN} characters of A-Z, a-z, 0-9, '_' or '-'"
        )))
    }
}

/// The main session key of an agent.
pub fn main_key(agent_id: &str) -> String {
    format!("agent:{agent_id}:main")
}

/// A fresh child key for an agent.
pub fn new_subagent_key(agent_id: &str) -> String {
    format!("agent:{agent_id}:subagent:{}", uuid::Uuid::new_v4())
}

/// Parse a canonical session key; the error names the expected shapes.
pub fn parse_key(key: &str) -> Result<ParsedKey, SessionError> {
    let bad = |why: &str| {
        SessionError::InvalidRequest(format!(
            "malformed session key {key:?}: {why}; expected \"agent:<agentId>:main\", \"agent:<agentId>:<name>\" or \"agent:<agentId>:subagent:<uuid>\""
        ))
    };
    let rest = key
        .strip_prefix("agent:")
        .ok_or_else(|| bad("it does not start with \"agent:\""))?;
    let (agent_id, rest) = rest
        .split_once(':')
        .ok_or_else(|| bad("it has no session name after the agent id"))?;
    if !valid_agent_id(agent_id) {
        return Err(bad(
            "the agent id is not 1-64 characters of A-Z, a-z, 0-9, '_' or '-'",
        ));
    }
    if rest.is_empty() || rest.starts_with(':') {
        return Err(bad("the session name after the agent id is empty"));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(bad(&format!("it is longer than {MAX_KEY_LEN} bytes")));
    }
    if let Some(c) = rest
        .chars()
        .find(|c| matches!(c, '/' | '\\' | '~') || c.is_control() || c.is_whitespace())
    {
        return Err(bad(&format!(
            "the character {c:?} cannot be stored in a session key here"
        )));
    }
    if rest != rest.to_lowercase() {
        return Err(bad("it is not lowercase (OpenClaw session keys are)"));
    }
    let kind = match rest.split_once(':') {
        None if rest == "main" => KeyKind::Main,
        Some(("subagent", id)) => {
            if uuid::Uuid::parse_str(id).is_err() || id.contains(':') {
                return Err(bad(
                    "a subagent key ends in the uuid sessions.spawn gave it",
                ));
            }
            KeyKind::Subagent
        }
        _ if rest == "subagent" => return Err(bad("a subagent key needs its uuid")),
        _ => KeyKind::Named,
    };
    Ok(ParsedKey {
        agent_id: agent_id.to_string(),
        kind,
    })
}

/// The canonical key of a session key as OpenClaw's clients send it (its
/// `toAgentStoreSessionKey`): trimmed and lowercased; empty, `main` and `global` name the
/// agent's main session; `agent:<id>:<rest>` is taken as it is; any other key `<rest>` is
/// `agent:<agent>:<rest>`, `agent` being `agent_id` or `main`. When both name an agent they must
/// agree. The result is checked with [`parse_key`].
pub fn canonical_key(raw: &str, agent_id: Option<&str>) -> Result<String, SessionError> {
    let lowered = raw.trim().to_lowercase();
    let agent = match agent_id {
        Some(a) => {
            check_agent_id(a)?;
            a.to_lowercase()
        }
        None => "main".to_owned(),
    };
    let key = if lowered.is_empty() || lowered == "main" || lowered == "global" {
        main_key(&agent)
    } else if lowered.starts_with("agent:") {
        lowered
    } else {
        format!("agent:{agent}:{lowered}")
    };
    let parsed = parse_key(&key)?;
    if agent_id.is_some() && parsed.agent_id != agent {
        return Err(SessionError::InvalidRequest(format!(
            "agentId {agent:?} does not match the agent of session key {key:?}"
        )));
    }
    Ok(key)
}

/// The journal file stem for a key (`:` becomes `~`; keys are validated so this is injective).
pub(crate) fn file_stem(key: &str) -> String {
    key.replace(':', "~")
}

/// Run ids: an idempotency key or a uuid. `[A-Za-z0-9._:-]`, 1–128 chars.
pub fn check_run_id(id: &str) -> Result<(), SessionError> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'));
    if ok {
        Ok(())
    } else {
        Err(SessionError::InvalidRequest(format!(
            "invalid idempotencyKey {id:?}: use 1-128 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-'"
        )))
    }
}

/// Hex encoding for file names derived from free-form ids.
pub(crate) fn hex(s: &str) -> String {
    use std::fmt::Write;
    s.bytes()
        .fold(String::with_capacity(s.len() * 2), |mut o, b| {
            let _ = write!(o, "{b:02x}");
            o
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_main_and_subagent_keys() {
        assert_eq!(parse_key("agent:main:main").unwrap().kind, KeyKind::Main);
        let child = new_subagent_key("ops-1");
        let p = parse_key(&child).unwrap();
        assert_eq!(p.kind, KeyKind::Subagent);
        assert_eq!(p.agent_id, "ops-1");
    }

    #[test]
    fn rejects_malformed_keys_with_the_expected_shape() {
        for k in [
            "",
            "session:agent:agent-quant",
            "agent::main",
            "agent:main",
            "agent:main:",
            "agent:main::x",
            "agent:main:subagent:not-a-uuid",
            "agent:main:subagent",
            "agent:a b:main",
            "agent:main:a/b",
            "agent:main:a~b",
            "agent:main:a b",
            "agent:main:Upper",
        ] {
            let e = parse_key(k).unwrap_err().to_string();
            assert!(e.contains("agent:<agentId>:main"), "{k}: {e}");
        }
        assert!(parse_key(&format!("agent:main:{}", "x".repeat(MAX_KEY_LEN))).is_err());
    }

    #[test]
    fn named_keys_are_top_level_sessions() {
        for k in [
            "agent:main:my-work",
            "agent:ops:discord:channel:42",
            "agent:main:main:extra",
        ] {
            assert_eq!(parse_key(k).unwrap().kind, KeyKind::Named, "{k}");
        }
    }

    #[test]
    fn canonical_keys_follow_openclaw() {
        let c = |raw: &str, agent: Option<&str>| canonical_key(raw, agent);
        assert_eq!(c("my-work", None).unwrap(), "agent:main:my-work");
        assert_eq!(c(" My-Work ", None).unwrap(), "agent:main:my-work");
        assert_eq!(
            c("incident-42", Some("ops")).unwrap(),
            "agent:ops:incident-42"
        );
        assert_eq!(c("main", Some("ops")).unwrap(), "agent:ops:main");
        assert_eq!(c("global", None).unwrap(), "agent:main:main");
        assert_eq!(c("agent:ops:x", None).unwrap(), "agent:ops:x");
        assert_eq!(c("AGENT:Ops:X", None).unwrap(), "agent:ops:x");
        assert!(c("agent:ops:x", Some("main")).is_err());
        assert!(c("agent:ops", None).is_err());
        assert!(c("a/b", None).is_err());
        assert!(c("x", Some("bad id")).is_err());
    }

    #[test]
    fn run_ids_are_checked() {
        assert!(check_run_id("idem-1").is_ok());
        assert!(check_run_id("a/b").is_err());
        assert!(check_run_id(&"x".repeat(129)).is_err());
    }
}
