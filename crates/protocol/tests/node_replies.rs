//! Our CLI drives the Node gateway too: its `status` and `sessions.list` replies (captured from
//! openclaw@2026.9.6) decode into the typed results.

use openclaw_rs_protocol::methods::gateway::StatusResult;
use openclaw_rs_protocol::methods::sessions::SessionsListResult;

#[test]
fn node_status_and_sessions_list_decode() {
    let v: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/node-replies.json")).unwrap();
    let status: StatusResult = serde_json::from_value(v["status"].clone()).unwrap();
    assert_eq!(status.runtime_version, "2026.9.6");
    assert_eq!(status.sessions.by_agent[0].agent_id, "main");
    let list: SessionsListResult = serde_json::from_value(v["sessions.list"].clone()).unwrap();
    assert_eq!(list.defaults.model_selection_target, "session");
    assert_eq!(list.defaults.agent_runtime.id, "codex");
}
