//! Roles and operator scopes.

/// The role of a client that calls methods (the Control UI, TUI, CLI); it holds operator scopes.
pub const ROLE_OPERATOR: &str = "operator";
/// The role of a node client (a device that offers capabilities to agents); node clients may
/// connect with protocol version 3.
pub const ROLE_NODE: &str = "node";

/// Read-only methods: status, lists, history, logs.
pub const READ: &str = "operator.read";
/// Methods that change sessions or start work (`chat.send`, `agent`, `sessions.spawn`, …); implies
/// `operator.read` and `operator.talk`.
pub const WRITE: &str = "operator.write";
/// Administration (config writes, restarts, device management); satisfies every other scope.
pub const ADMIN: &str = "operator.admin";
/// Resolving exec and plugin approval requests.
pub const APPROVALS: &str = "operator.approvals";
/// Answering questions an agent asks the operator.
pub const QUESTIONS: &str = "operator.questions";
/// Approving and managing device pairing requests.
pub const PAIRING: &str = "operator.pairing";
/// Talk mode (voice) methods; implied by `operator.write`.
pub const TALK: &str = "operator.talk";
/// Talk mode methods that reveal provider secrets (not implied by `operator.write`).
pub const TALK_SECRETS: &str = "operator.talk.secrets";

/// Every operator scope this gateway knows.
pub const ALL_OPERATOR_SCOPES: &[&str] = &[
    READ,
    WRITE,
    ADMIN,
    APPROVALS,
    QUESTIONS,
    PAIRING,
    TALK,
    TALK_SECRETS,
];

/// Does a grant of `granted` satisfy a method that requires `required`?
///
/// `operator.admin` satisfies everything; `operator.write` implies `operator.read`
/// (and talk), as in OpenClaw.
pub fn satisfies(granted: &[String], required: &str) -> bool {
    granted.iter().any(|g| {
        g == required || g == ADMIN || (g == WRITE && (required == READ || required == TALK))
    })
}
