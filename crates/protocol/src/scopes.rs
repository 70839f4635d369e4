//! Roles and operator scopes.

pub const ROLE_OPERATOR: &str = "operator";
pub const ROLE_NODE: &str = "node";

pub const READ: &str = "operator.read";
pub const WRITE: &str = "operator.write";
pub const ADMIN: &str = "operator.admin";
pub const APPROVALS: &str = "operator.approvals";
pub const QUESTIONS: &str = "operator.questions";
pub const PAIRING: &str = "operator.pairing";
pub const TALK: &str = "operator.talk";
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
