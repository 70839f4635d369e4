//! Errors of the sessions layer. The gateway maps them to wire error codes:
//! [`SessionError::Limit`] → `FORBIDDEN`, [`SessionError::Unavailable`] and
//! [`SessionError::Storage`] → `UNAVAILABLE` (retryable), everything else → `INVALID_REQUEST`.

use std::fmt;

/// A session limit from the `session.*` config section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitKind {
    /// `session.maxSpawnDepth`.
    SpawnDepth,
    /// `session.maxChildrenPerSession`.
    ChildrenPerSession,
}

impl LimitKind {
    /// The config setting that controls this limit.
    pub fn setting(self) -> &'static str {
        match self {
            LimitKind::SpawnDepth => "session.maxSpawnDepth",
            LimitKind::ChildrenPerSession => "session.maxChildrenPerSession",
        }
    }

    /// A stable machine-readable name (`details.limit` on the wire).
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::SpawnDepth => "maxSpawnDepth",
            LimitKind::ChildrenPerSession => "maxChildrenPerSession",
        }
    }
}

/// A spawn refused by a limit: what was asked (`value`) against the setting (`max`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitViolation {
    /// Which limit refused the spawn.
    pub kind: LimitKind,
    /// The value the spawn would have reached.
    pub value: u32,
    /// The configured maximum.
    pub max: u32,
}

impl fmt::Display for LimitViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            LimitKind::SpawnDepth => "spawn depth",
            LimitKind::ChildrenPerSession => "active children of the parent session",
        };
        write!(
            f,
            "{what} {} exceeds {} = {} (raise it in openclaw.json to allow more)",
            self.value,
            self.kind.setting(),
            self.max
        )
    }
}

/// Why a sessions operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// Bad parameters: the message names the parameter and the fix.
    #[error("{0}")]
    InvalidRequest(String),
    /// An unknown session key or run id.
    #[error("{0}")]
    NotFound(String),
    /// A configured limit refused the request.
    #[error("{0}")]
    Limit(LimitViolation),
    /// The manager is shutting down.
    #[error("{0}")]
    Unavailable(String),
    /// A state file could not be read or written; nothing was acknowledged.
    #[error("session storage: {0}")]
    Storage(String),
}

impl From<openclaw_rs_state::StateError> for SessionError {
    fn from(e: openclaw_rs_state::StateError) -> Self {
        SessionError::Storage(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_message_names_the_setting_and_value() {
        let v = LimitViolation {
            kind: LimitKind::SpawnDepth,
            value: 2,
            max: 1,
        };
        let s = SessionError::Limit(v).to_string();
        assert!(
            s.starts_with("spawn depth 2 exceeds session.maxSpawnDepth = 1"),
            "{s}"
        );
    }
}
