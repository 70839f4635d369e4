//! Nodes, approvals, and the subsystems this gateway does not have.
//!
//! Reads answer the truth in OpenClaw's shapes: no node peers, no approvals or questions (the
//! runtimes run commands without asking; `exec.approvals.get` says so), no cron, skills,
//! plugins, tasks, users, artifacts, talk, mentions or pull requests, and no token usage
//! reported by the runtimes. Writes of those subsystems answer `UNAVAILABLE` naming it.

use crate::base::now_ms;
use crate::rpc::MethodSpec;
use crate::state::GatewayState;
use openclaw_rs_protocol::methods::approvals::{
    ApprovalHistoryParams, ApprovalHistoryResult, ExecApprovalDefaults,
    ExecApprovalGrantsListParams, ExecApprovalGrantsListResult, ExecApprovalListParams,
    ExecApprovalsFile, ExecApprovalsGetParams, ExecApprovalsGetResult, NodeListParams,
    NodeListResult, NodePairListParams, NodePairListResult, OpenclawApprovalListParams,
    PluginApprovalListParams, QuestionListParams, QuestionListResult,
};
use openclaw_rs_protocol::methods::subsystems::{
    ArtifactsListParams, ArtifactsListResult, ChannelsPairingListParams, ChannelsPairingListResult,
    CronListParams, CronListResult, CronRunsParams, CronRunsResult, CronStatusParams,
    CronStatusResult, EnvironmentSummary, EnvironmentsListParams, EnvironmentsListResult,
    MentionsListParams, MentionsListResult, PluginSurfaceRefreshParams, PluginsControlUiCatalog,
    PluginsControlUiListParams, PluginsListParams, PluginsListResult, SecretsReloadParams,
    SecretsReloadResult, SessionPullRequestsSubscribeParams, SessionPullRequestsSubscribeResult,
    SessionsUsageParams, SessionsUsageResult, SetupDetectParams, SetupDetectResult,
    SkillsLibraryListParams, SkillsLibraryListResult, SkillsSearchParams, SkillsSearchResult,
    SkillsStatusParams, SkillsStatusResult, TalkCatalogParams, TalkCatalogResult, TasksListParams,
    TasksListResult, UsageCostParams, UsageCostResult, UsageStatusParams, UsageStatusResult,
    UsersListParams, UsersListResult,
};
use openclaw_rs_protocol::{scopes, ErrorCode, ErrorShape};
use serde_json::Value;

const NO_CRON: &str =
    "cron automations are not available on this gateway (openclaw-rs has no cron subsystem)";
const NO_SKILLS: &str =
    "skills are not available on this gateway (openclaw-rs has no skills library)";
const NO_PLUGINS: &str = "plugins are not available on this gateway (openclaw-rs has no plugins)";
const NO_CHANNELS: &str =
    "chat channels are not available on this gateway (openclaw-rs has no channels)";
const NO_NODES: &str =
    "nodes are not available on this gateway (openclaw-rs has no node pairing or node peers)";
const NO_APPROVALS: &str = "approvals are not available on this gateway (openclaw-rs raises no approvals: its runtimes run commands without asking)";
const NO_APPROVALS_POLICY: &str = "exec approval policy is not configurable on this gateway (openclaw-rs has no exec approvals subsystem: the embedded runtime runs commands directly, app-server runtimes are bounded by `runtimes.<name>.sandbox`)";
const NO_TALK: &str = "talk is not available on this gateway (openclaw-rs has no talk subsystem)";
const NO_USERS: &str =
    "user profiles are not available on this gateway (openclaw-rs has no user profiles)";
const NO_TASKS: &str =
    "tasks are not available on this gateway (openclaw-rs has no task ledger; abort runs with chat.abort)";
const NO_UPDATES: &str =
    "updates are not available on this gateway (openclaw-rs has no update channel)";

/// The writes of missing subsystems, each with its message.
const UNAVAILABLE: &[(&str, &str)] = &[
    ("exec.approvals.set", NO_APPROVALS_POLICY),
    ("cron.add", NO_CRON),
    ("cron.update", NO_CRON),
    ("cron.remove", NO_CRON),
    ("cron.run", NO_CRON),
    ("skills.install", NO_SKILLS),
    ("skills.update", NO_SKILLS),
    ("plugins.install", NO_PLUGINS),
    ("plugins.setEnabled", NO_PLUGINS),
    ("plugins.uninstall", NO_PLUGINS),
    ("channels.logout", NO_CHANNELS),
    ("channels.start", NO_CHANNELS),
    ("channels.stop", NO_CHANNELS),
    ("channels.pairing.dismiss", NO_CHANNELS),
    ("node.pair.approve", NO_NODES),
    ("node.pair.reject", NO_NODES),
    ("node.pair.remove", NO_NODES),
    ("node.rename", NO_NODES),
    ("exec.approval.resolve", NO_APPROVALS),
    ("exec.approval.grants.revoke", NO_APPROVALS),
    ("plugin.approval.resolve", NO_APPROVALS),
    ("talk.speak", NO_TALK),
    ("talk.mode", NO_TALK),
    ("users.setDisplayName", NO_USERS),
    ("users.setAvatar", NO_USERS),
    ("users.setRole", NO_USERS),
    ("tasks.cancel", NO_TASKS),
    ("update.run", NO_UPDATES),
];

pub(crate) fn specs() -> Vec<MethodSpec> {
    let mut v = vec![
        // Nodes and approvals.
        MethodSpec::typed(|_s, _c, _p: NodeListParams| async move {
            Ok(NodeListResult {
                ts: now_ms(),
                nodes: Vec::new(),
            })
        }),
        MethodSpec::typed(|_s, _c, _p: NodePairListParams| async move {
            Ok(NodePairListResult::default())
        }),
        MethodSpec::typed(|state, _c, _p: ExecApprovalsGetParams| async move {
            Ok(exec_approvals(&state))
        }),
        MethodSpec::typed(
            |_s, _c, _p: ExecApprovalListParams| async move { Ok(Vec::<Value>::new()) },
        ),
        MethodSpec::typed(|_s, _c, _p: ExecApprovalGrantsListParams| async move {
            Ok(ExecApprovalGrantsListResult::default())
        }),
        MethodSpec::typed(|_s, _c, _p: ApprovalHistoryParams| async move {
            Ok(ApprovalHistoryResult::default())
        }),
        MethodSpec::typed(|_s, _c, _p: QuestionListParams| async move {
            Ok(QuestionListResult::default())
        }),
        MethodSpec::typed(
            |_s, _c, _p: PluginApprovalListParams| async move { Ok(Vec::<Value>::new()) },
        ),
        MethodSpec::typed(|_s, _c, _p: OpenclawApprovalListParams| async move {
            Ok(Vec::<Value>::new())
        }),
        // Subsystems this gateway does not have: their empty reads.
        MethodSpec::typed(|_s, _c, _p: ChannelsPairingListParams| async move {
            Ok(ChannelsPairingListResult::default())
        }),
        MethodSpec::typed(|_s, _c, p: CronListParams| async move {
            // OpenClaw's CLI checks the page metadata: limit 1..=200, a snapshot revision.
            Ok(CronListResult {
                snapshot_revision: "no-cron-jobs".into(),
                offset: u64::from(p.offset.unwrap_or(0)),
                limit: u64::from(p.limit.unwrap_or(200).clamp(1, 200)),
                ..CronListResult::default()
            })
        }),
        MethodSpec::typed(
            |_s, _c, _p: CronStatusParams| async move { Ok(CronStatusResult::default()) },
        ),
        MethodSpec::typed(|_s, _c, p: CronRunsParams| async move {
            Ok(CronRunsResult {
                offset: u64::from(p.offset.unwrap_or(0)),
                limit: u64::from(p.limit.unwrap_or(50)),
                ..CronRunsResult::default()
            })
        }),
        MethodSpec::typed(|state, _c, p: SkillsStatusParams| async move {
            let agent_id = p.agent_id.map_or_else(|| "main".to_owned(), String::from);
            Ok(SkillsStatusResult {
                workspace_dir: workspace(&state, &agent_id),
                agent_id,
                skills: Vec::new(),
            })
        }),
        MethodSpec::typed(|_s, _c, _p: SkillsLibraryListParams| async move {
            Ok(SkillsLibraryListResult {
                default_target: "unavailable".into(),
                ..SkillsLibraryListResult::default()
            })
        }),
        MethodSpec::typed(|_s, _c, _p: SkillsSearchParams| async move {
            Ok(SkillsSearchResult::default())
        }),
        MethodSpec::typed(|_s, _c, _p: PluginsListParams| async move {
            Ok(PluginsListResult::default())
        }),
        MethodSpec::typed(|_s, _c, _p: PluginsControlUiListParams| async move {
            Ok(PluginsControlUiCatalog {
                revision: "no-plugins".into(),
                ..PluginsControlUiCatalog::default()
            })
        }),
        MethodSpec::typed(|_s, _c, p: PluginSurfaceRefreshParams| async move {
            Err::<Value, _>(ErrorShape::new(
                ErrorCode::Unavailable,
                format!(
                    "{} plugin surface unavailable (openclaw-rs has no plugins)",
                    p.surface
                ),
            ))
        }),
        MethodSpec::typed(
            |_s, _c, _p: TasksListParams| async move { Ok(TasksListResult::default()) },
        ),
        MethodSpec::typed(
            |_s, _c, _p: UsersListParams| async move { Ok(UsersListResult::default()) },
        ),
        MethodSpec::typed(|_s, _c, p: ArtifactsListParams| async move {
            if p.session_key.is_none() && p.run_id.is_none() && p.task_id.is_none() {
                // Node's refusal, word for word.
                return Err(ErrorShape::new(
                    ErrorCode::InvalidRequest,
                    "artifacts require one of sessionKey, runId, or taskId",
                ));
            }
            Ok(ArtifactsListResult::default())
        }),
        MethodSpec::typed(|_s, ctx, _p: EnvironmentsListParams| async move {
            ctx.require_scope(scopes::READ)?;
            Ok(EnvironmentsListResult {
                environments: vec![EnvironmentSummary {
                    id: "gateway".into(),
                    kind: "local".into(),
                    label: Some("Gateway local".into()),
                    status: "available".into(),
                    platform: Some(std::env::consts::OS.into()),
                    session_host: Some(true),
                    capabilities: Some(vec!["agent.run".into(), "sessions".into()]),
                }],
            })
        }),
        MethodSpec::typed(|_s, _c, _p: TalkCatalogParams| async move {
            Ok(TalkCatalogResult::default())
        }),
        MethodSpec::typed(|state, _c, _p: MentionsListParams| async move {
            Ok(MentionsListResult {
                gateway_instance_id: state.boot_id().to_owned(),
                revision: 0,
                items: Vec::new(),
            })
        }),
        MethodSpec::typed(
            |_s, _c, _p: SessionPullRequestsSubscribeParams| async move {
                Ok(SessionPullRequestsSubscribeResult { subscribed: false })
            },
        ),
        MethodSpec::typed(|state, _c, p: SetupDetectParams| async move {
            let agent = p.agent_id.map_or_else(|| "main".to_owned(), String::from);
            Ok(SetupDetectResult {
                workspace: workspace(&state, &agent),
                setup_complete: true,
                ..SetupDetectResult::default()
            })
        }),
        MethodSpec::typed(|_s, _c, _p: UsageStatusParams| async move {
            Ok(UsageStatusResult {
                updated_at: now_ms(),
                providers: Vec::new(),
            })
        }),
        MethodSpec::typed(|_s, _c, p: UsageCostParams| async move {
            Ok(UsageCostResult {
                updated_at: now_ms(),
                days: p.days.unwrap_or(30),
                ..UsageCostResult::default()
            })
        }),
        MethodSpec::typed(|_s, _c, p: SessionsUsageParams| async move { Ok(sessions_usage(&p)) }),
        MethodSpec::typed(|_s, _c, _p: SecretsReloadParams| async move {
            Ok(SecretsReloadResult {
                ok: true,
                warning_count: 0,
            })
        }),
    ];
    v.extend(
        UNAVAILABLE
            .iter()
            .map(|(name, msg)| MethodSpec::unavailable(name, msg)),
    );
    v
}

/// The working directory of `agent`'s runs (config, else `$STATE/workspace`).
fn workspace(state: &GatewayState, agent: &str) -> String {
    let cfg = state.config().load();
    cfg.agents
        .entries
        .get(agent)
        .and_then(|a| a.workspace.clone())
        .or_else(|| cfg.agents.defaults.workspace.clone())
        .unwrap_or_else(|| state.options().state_dir.join("workspace"))
        .display()
        .to_string()
}

/// The exec policy in force: no approvals file; commands run without an allowlist and nobody
/// is asked (the embedded runtime runs `exec` directly; app-server runtimes are bounded by
/// their sandbox, `runtimes.*.sandbox`, not by approvals).
fn exec_approvals(state: &GatewayState) -> ExecApprovalsGetResult {
    use sha2::Digest;
    let file = ExecApprovalsFile {
        version: 1,
        ..ExecApprovalsFile::default()
    };
    let hash = serde_json::to_vec(&file)
        .map(|b| {
            sha2::Sha256::digest(&b)
                .iter()
                .map(|x| format!("{x:02x}"))
                .collect::<String>()
        })
        .unwrap_or_default();
    ExecApprovalsGetResult {
        path: state
            .options()
            .state_dir
            .join("exec-approvals.json")
            .display()
            .to_string(),
        exists: false,
        file,
        hash,
        resolved_defaults: ExecApprovalDefaults {
            security: "full".into(),
            ask: "off".into(),
            ask_fallback: "deny".into(),
            auto_allow_skills: false,
        },
    }
}

/// `sessions.usage`: the runtimes report no token usage to this gateway, so the range is
/// answered with zero totals and no rows.
fn sessions_usage(p: &SessionsUsageParams) -> SessionsUsageResult {
    let today_days = (now_ms() / 86_400_000) as i64;
    let day = |d: i64| {
        let (y, m, dd) = crate::logfile::civil_from_days(d);
        format!("{y:04}-{m:02}-{dd:02}")
    };
    SessionsUsageResult {
        updated_at: now_ms(),
        start_date: p.start_date.clone().unwrap_or_else(|| day(today_days - 29)),
        end_date: p.end_date.clone().unwrap_or_else(|| day(today_days)),
        ..SessionsUsageResult::default()
    }
}
