//! Session keys: `agent:<agentId>:main` and `agent:<agentId>:subagent:<uuid>`.
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
}

/// A parsed, valid session key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedKey {
    pub agent_id: String,
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

/// Parse a session key; the error names the expected shapes.
pub fn parse_key(key: &str) -> Result<ParsedKey, SessionError> {
    let bad = || {
        SessionError::InvalidRequest(format!(
            "malformed session key {key:?}: expected \"agent:<agentId>:main\" or \"agent:<agentId>:subagent:<uuid>\""
        ))
    };
    let mut parts = key.split(':');
    if parts.next() != Some("agent") {
        return Err(bad());
    }
    let agent_id = parts.next().ok_or_else(bad)?;
    if !valid_agent_id(agent_id) {
        return Err(bad());
    }
    let kind = match (parts.next(), parts.next(), parts.next()) {
        (Some("main"), None, None) => KeyKind::Main,
        (Some("subagent"), Some(id), None) if uuid::Uuid::parse_str(id).is_ok() => {
            KeyKind::Subagent
        }
        _ => return Err(bad()),
    };
    Ok(ParsedKey {
        agent_id: agent_id.to_string(),
        kind,
    })
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
            "agent:main:other",
            "agent:main:subagent:not-a-uuid",
            "agent:a b:main",
            "agent:main:main:extra",
        ] {
            let e = parse_key(k).unwrap_err().to_string();
            assert!(e.contains("agent:<agentId>:main"), "{k}: {e}");
        }
    }

    #[test]
    fn run_ids_are_checked() {
        assert!(check_run_id("idem-1").is_ok());
        assert!(check_run_id("a/b").is_err());
        assert!(check_run_id(&"x".repeat(129)).is_err());
    }
}
