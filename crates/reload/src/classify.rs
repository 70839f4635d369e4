//! The reload rule table and the pure classifier.
//!
//! Each changed dotted path is matched against [`RULES`] by longest prefix (most segments
//! first, then fewest `*` wildcards). **There is no catch-all**: every supported config path has
//! its own rule (a test walks the schema), and a path no rule knows — which can only come from an
//! unknown key — is classified `none` and reported in the plan's diagnostics, never silently
//! turned into a restart.

use openclaw_rs_config::schema;
use openclaw_rs_config::Config;
use serde::Serialize;
use std::collections::BTreeSet;

use crate::diff::diff_paths;

/// What a change needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Nothing: the value is read where it is used, or never changes behaviour.
    None,
    /// Applied in place, with the named action.
    Hot,
    /// Needs a new process (listeners, auth mode).
    Restart,
}

/// An in-place action a hot change asks the gateway to perform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum HotAction {
    /// Swap the tracing filter (`logging.level`).
    SetLogLevel,
    /// New runtime definitions apply to new leases; processes of changed runtimes retire when idle.
    ReloadRuntimes,
    /// Shared token/password rotated with the auth mode unchanged: close old-credential connections
    /// with 4001 "gateway auth changed"; the new one works at once.
    RotateSharedSecret,
    /// Agent defaults and entries apply to the next run.
    UpdateAgentDefaults,
    /// Session/spawn limits, auth rate limits and the handshake timeout.
    UpdateLimits,
    /// Which peers' forwarding headers are believed.
    UpdateTrustedProxies,
    /// Auth profiles and their order (failover list).
    UpdateAuthProfiles,
    /// Cooldown backoff settings (never cooldown state).
    UpdateCooldownSettings,
    /// `gateway.controlUi.enabled`: the next HTTP request is served (or not) accordingly.
    ToggleControlUi,
}

impl HotAction {
    /// The camelCase name (`setLogLevel`, `rotateSharedSecret`, …) shown in `config.changed`.
    pub fn as_str(self) -> &'static str {
        match self {
            HotAction::SetLogLevel => "setLogLevel",
            HotAction::ReloadRuntimes => "reloadRuntimes",
            HotAction::RotateSharedSecret => "rotateSharedSecret",
            HotAction::UpdateAgentDefaults => "updateAgentDefaults",
            HotAction::UpdateLimits => "updateLimits",
            HotAction::UpdateTrustedProxies => "updateTrustedProxies",
            HotAction::UpdateAuthProfiles => "updateAuthProfiles",
            HotAction::UpdateCooldownSettings => "updateCooldownSettings",
            HotAction::ToggleControlUi => "toggleControlUi",
        }
    }
}

/// How a rule decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Always `none`.
    None,
    /// Always `hot` with this action.
    Hot(HotAction),
    /// Always `restart`.
    Restart,
    /// `hot` ([`HotAction::RotateSharedSecret`]) when the effective auth mode is the same before
    /// and after, else `restart`.
    SharedSecret,
}

/// One rule of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Dotted prefix; `*` matches one segment.
    pub prefix: &'static str,
    /// What a change under the prefix needs.
    pub decision: Decision,
}

const fn rule(prefix: &'static str, decision: Decision) -> Rule {
    Rule { prefix, decision }
}

use Decision::{Hot, Restart, SharedSecret};
use HotAction::*;

/// The rule table. Order does not matter: matching is by specificity.
pub const RULES: &[Rule] = &[
    rule("meta", Decision::None),
    rule("gateway.reload.mode", Decision::None),
    rule("gateway.reload.drainTimeoutMs", Decision::None),
    rule("gateway.port", Restart),
    rule("gateway.bind", Restart),
    rule("gateway.auth.mode", Restart),
    rule("gateway.auth.token", SharedSecret),
    rule("gateway.auth.password", SharedSecret),
    rule("gateway.auth.rateLimit", Hot(UpdateLimits)),
    rule("gateway.handshakeTimeoutMs", Hot(UpdateLimits)),
    rule("gateway.trustedProxies", Hot(UpdateTrustedProxies)),
    rule("gateway.controlUi.enabled", Hot(ToggleControlUi)),
    rule("gateway.controlUi.basePath", Restart),
    rule("gateway.controlUi.root", Restart),
    rule("agents.defaults", Hot(UpdateAgentDefaults)),
    rule("agents.entries", Hot(UpdateAgentDefaults)),
    rule("runtimes", Hot(ReloadRuntimes)),
    rule("session", Hot(UpdateLimits)),
    rule("logging.level", Hot(SetLogLevel)),
    rule("auth.profiles", Hot(UpdateAuthProfiles)),
    rule("auth.order", Hot(UpdateAuthProfiles)),
    rule("auth.cooldowns", Hot(UpdateCooldownSettings)),
];

fn segments(p: &str) -> usize {
    p.split('.').count()
}

fn wildcards(p: &str) -> usize {
    p.split('.').filter(|s| *s == "*").count()
}

/// Whether `prefix` covers `path` (`path == prefix` or `path` starts with `prefix.`), segment
/// by segment, `*` matching any one segment. Allocation-free: it runs per changed path per rule.
fn covers(prefix: &str, path: &str) -> bool {
    let mut q = path.split('.');
    prefix
        .split('.')
        .all(|a| q.next().is_some_and(|b| a == "*" || a == b))
}

/// The most specific rule covering `path`, if any.
pub fn rule_for(path: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .filter(|r| covers(r.prefix, path))
        .max_by_key(|r| (segments(r.prefix), std::cmp::Reverse(wildcards(r.prefix))))
}

/// Rules strictly beneath `path` (for a changed subtree such as a whole new map entry).
fn rules_under(path: &str) -> Vec<&'static Rule> {
    RULES
        .iter()
        .filter(|r| segments(r.prefix) > segments(path) && covers(path, r.prefix))
        .collect()
}

/// The decision for one changed path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PathDecision {
    /// The changed dotted path.
    pub path: String,
    /// Hot, restart or none.
    pub kind: Kind,
    /// For hot paths: the action that applies it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<HotAction>,
    /// The rule prefix that decided, or `None` for an unknown path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
}

/// What a config change needs, path by path.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReloadPlan {
    /// Every changed path, sorted.
    pub changed_paths: Vec<String>,
    /// One decision per changed path.
    pub decisions: Vec<PathDecision>,
    /// Actions to perform in place (deduplicated, ordered).
    pub actions: BTreeSet<HotAction>,
    /// Paths that need a restart.
    pub restart_paths: Vec<String>,
    /// Paths that need nothing.
    pub noop_paths: Vec<String>,
    /// Warnings about the change (unknown paths, …).
    pub diagnostics: Vec<String>,
}

impl ReloadPlan {
    /// No changed path at all.
    pub fn is_empty(&self) -> bool {
        self.changed_paths.is_empty()
    }

    /// Whether a restart is needed.
    pub fn requires_restart(&self) -> bool {
        !self.restart_paths.is_empty()
    }

    /// The strongest kind in the plan (`None` for an empty plan).
    pub fn kind(&self) -> Kind {
        self.decisions
            .iter()
            .map(|d| d.kind)
            .max()
            .unwrap_or(Kind::None)
    }

    fn push(&mut self, d: PathDecision) {
        match d.kind {
            Kind::Restart => self.restart_paths.push(d.path.clone()),
            Kind::None => self.noop_paths.push(d.path.clone()),
            Kind::Hot => {}
        }
        if let Some(a) = d.action {
            self.actions.insert(a);
        }
        self.changed_paths.push(d.path.clone());
        self.decisions.push(d);
    }
}

fn decide(rule: &Rule, old: &Config, new: &Config) -> (Kind, Option<HotAction>) {
    match rule.decision {
        Decision::None => (Kind::None, None),
        Decision::Hot(a) => (Kind::Hot, Some(a)),
        Decision::Restart => (Kind::Restart, None),
        Decision::SharedSecret => {
            if old.gateway.auth.effective_mode() == new.gateway.auth.effective_mode() {
                (Kind::Hot, Some(RotateSharedSecret))
            } else {
                (Kind::Restart, None)
            }
        }
    }
}

/// Classify one changed path.
pub fn classify_path(path: &str, old: &Config, new: &Config) -> PathDecision {
    if let Some(r) = rule_for(path) {
        let (kind, action) = decide(r, old, new);
        return PathDecision {
            path: path.to_string(),
            kind,
            action,
            rule: Some(r.prefix),
        };
    }
    // A changed subtree above the rules (e.g. `<root>`): the strongest rule beneath it applies.
    let under = if path == crate::diff::ROOT {
        RULES.iter().collect()
    } else {
        rules_under(path)
    };
    let strongest = under
        .iter()
        .map(|r| (decide(r, old, new), r.prefix))
        .max_by_key(|((k, _), _)| *k);
    match strongest {
        Some(((kind, action), prefix)) => PathDecision {
            path: path.to_string(),
            kind,
            action,
            rule: Some(prefix),
        },
        None => PathDecision {
            path: path.to_string(),
            kind: Kind::None,
            action: None,
            rule: None,
        },
    }
}

/// Classify the change from `old` to `new` (pure). Both are typed configs, so every changed
/// path is a supported one.
pub fn classify(old: &Config, new: &Config) -> ReloadPlan {
    let a = serde_json::to_value(old).unwrap_or_default();
    let b = serde_json::to_value(new).unwrap_or_default();
    let mut plan = ReloadPlan::default();
    for path in diff_paths(&a, &b) {
        let d = classify_path(&path, old, new);
        if d.rule.is_none() {
            plan.diagnostics.push(format!(
                "config path `{path}` has no reload rule; ignored (classified none)"
            ));
        }
        plan.push(d);
    }
    plan
}

/// Like [`classify`], and also reports changes to keys the model does not know (from the raw
/// documents) as `none` with a warning.
pub fn classify_raw(
    old_raw: &serde_json::Value,
    new_raw: &serde_json::Value,
    old: &Config,
    new: &Config,
) -> ReloadPlan {
    let mut plan = classify(old, new);
    let (a, b) = (unknown_values(old_raw), unknown_values(new_raw));
    let paths: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for path in paths {
        if a.get(path) != b.get(path) {
            plan.diagnostics.push(format!(
                "unknown config key `{path}` changed; ignored (no reload, no restart)"
            ));
            plan.push(PathDecision {
                path: path.clone(),
                kind: Kind::None,
                action: None,
                rule: None,
            });
        }
    }
    plan.changed_paths.sort();
    plan
}

/// Every outermost unknown key of a raw document, with its value.
fn unknown_values(
    raw: &serde_json::Value,
) -> std::collections::BTreeMap<String, &serde_json::Value> {
    fn walk<'a>(
        v: &'a serde_json::Value,
        prefix: &str,
        out: &mut std::collections::BTreeMap<String, &'a serde_json::Value>,
    ) {
        let Some(m) = v.as_object() else { return };
        for (k, child) in m {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if !schema::is_known(&path) {
                out.insert(path, child);
            } else if schema::lookup(&path).is_none() {
                walk(child, &path, out);
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(raw, "", &mut out);
    out
}

/// A one-line description of a rule for docs and logs.
pub fn describe(decision: Decision) -> String {
    match decision {
        Decision::None => "none".into(),
        Decision::Hot(a) => format!("hot ({})", action_name(a)),
        Decision::Restart => "restart".into(),
        Decision::SharedSecret => format!(
            "hot ({}) when the auth mode is unchanged, else restart",
            action_name(RotateSharedSecret)
        ),
    }
}

/// The camelCase name of an action, as serialized.
pub fn action_name(a: HotAction) -> String {
    serde_json::to_value(a)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_rs_config::{AuthMode, BindMode, CooldownSettings, LanePolicy, RuntimeConfig};

    fn plan(f: impl FnOnce(&mut Config)) -> ReloadPlan {
        plan_from(Config::default(), f)
    }

    fn plan_from(old: Config, f: impl FnOnce(&mut Config)) -> ReloadPlan {
        let mut new = old.clone();
        f(&mut new);
        classify(&old, &new)
    }

    fn one(p: &ReloadPlan) -> (&str, Kind, Option<HotAction>) {
        assert_eq!(p.decisions.len(), 1, "{p:#?}");
        let d = &p.decisions[0];
        (d.path.as_str(), d.kind, d.action)
    }

    #[test]
    fn every_schema_path_has_a_rule() {
        let missing: Vec<_> = schema::SCHEMA
            .iter()
            .filter(|f| rule_for(f.path).is_none())
            .map(|f| f.path)
            .collect();
        assert!(
            missing.is_empty(),
            "config paths without a reload rule (add one to RULES): {missing:?}"
        );
    }

    #[test]
    fn every_rule_names_a_schema_path() {
        let dead: Vec<_> = RULES
            .iter()
            .filter(|r| {
                !schema::SCHEMA
                    .iter()
                    .any(|f| covers(r.prefix, f.path) || covers(f.path, r.prefix))
            })
            .map(|r| r.prefix)
            .collect();
        assert!(
            dead.is_empty(),
            "rules for paths the schema lacks: {dead:?}"
        );
    }

    #[test]
    fn rule_meta_is_none() {
        let p = plan(|c| c.meta = Some(serde_json::json!({"lastTouchedVersion": "x"})));
        assert_eq!(one(&p), ("meta", Kind::None, None));
    }

    #[test]
    fn rule_gateway_reload_is_none() {
        let p = plan(|c| c.gateway.reload.mode = Some(openclaw_rs_config::ReloadMode::Off));
        assert_eq!(one(&p), ("gateway.reload.mode", Kind::None, None));
        let p = plan(|c| c.gateway.reload.drain_timeout_ms = Some(5));
        assert_eq!(one(&p), ("gateway.reload.drainTimeoutMs", Kind::None, None));
    }

    #[test]
    fn rule_port_bind_mode_restart() {
        let p = plan(|c| c.gateway.port = Some(1));
        assert_eq!(one(&p), ("gateway.port", Kind::Restart, None));
        assert!(p.requires_restart());
        let p = plan(|c| c.gateway.bind = Some(BindMode::Lan));
        assert_eq!(one(&p), ("gateway.bind", Kind::Restart, None));
        let p = plan(|c| c.gateway.auth.mode = Some(AuthMode::Password));
        assert_eq!(one(&p), ("gateway.auth.mode", Kind::Restart, None));
    }

    #[test]
    fn rule_token_rotation_hot_when_mode_unchanged() {
        let mut old = Config::default();
        old.gateway.auth.mode = Some(AuthMode::Token);
        old.gateway.auth.token = Some("a".into());
        let p = plan_from(old.clone(), |c| c.gateway.auth.token = Some("b".into()));
        assert_eq!(
            one(&p),
            ("gateway.auth.token", Kind::Hot, Some(RotateSharedSecret))
        );
        // Implicit mode: token -> password flips the effective mode: restart.
        let p = plan(|c| c.gateway.auth.password = Some("pw".into()));
        assert_eq!(one(&p), ("gateway.auth.password", Kind::Restart, None));
        // Explicit mode change with a new secret: both restart.
        let p = plan_from(old, |c| {
            c.gateway.auth.mode = Some(AuthMode::Password);
            c.gateway.auth.password = Some("pw".into());
        });
        assert_eq!(
            p.restart_paths,
            vec!["gateway.auth.mode", "gateway.auth.password"]
        );
    }

    #[test]
    fn rule_limits_proxies_logging() {
        let p = plan(|c| c.gateway.auth.rate_limit.max_attempts = Some(3));
        assert_eq!(
            one(&p),
            (
                "gateway.auth.rateLimit.maxAttempts",
                Kind::Hot,
                Some(UpdateLimits)
            )
        );
        let p = plan(|c| c.gateway.handshake_timeout_ms = Some(3));
        assert_eq!(
            one(&p),
            ("gateway.handshakeTimeoutMs", Kind::Hot, Some(UpdateLimits))
        );
        let p = plan(|c| c.gateway.trusted_proxies = vec!["10.0.0.1".into()]);
        assert_eq!(
            one(&p),
            (
                "gateway.trustedProxies",
                Kind::Hot,
                Some(UpdateTrustedProxies)
            )
        );
        let p = plan(|c| c.session.max_spawn_depth = Some(2));
        assert_eq!(
            one(&p),
            ("session.maxSpawnDepth", Kind::Hot, Some(UpdateLimits))
        );
        let p = plan(|c| c.logging.level = Some("debug".into()));
        assert_eq!(one(&p), ("logging.level", Kind::Hot, Some(SetLogLevel)));
    }

    #[test]
    fn rule_agents_and_runtimes() {
        let p = plan(|c| c.agents.defaults.model = Some("m".into()));
        assert_eq!(
            one(&p),
            (
                "agents.defaults.model",
                Kind::Hot,
                Some(UpdateAgentDefaults)
            )
        );
        // A whole new entry is one subtree path.
        let p = plan(|c| {
            c.agents.entries.insert("main".into(), Default::default());
        });
        assert_eq!(
            one(&p),
            ("agents.entries.main", Kind::Hot, Some(UpdateAgentDefaults))
        );
        let p = plan(|c| {
            c.runtimes.insert("codex".into(), RuntimeConfig::default());
        });
        assert_eq!(one(&p), ("runtimes.codex", Kind::Hot, Some(ReloadRuntimes)));
    }

    #[test]
    fn rule_auth_profiles_order_cooldowns_hot() {
        let p = plan(|c| {
            c.auth
                .profiles
                .insert("p".into(), serde_json::json!({"provider": "x"}));
        });
        assert_eq!(
            one(&p),
            ("auth.profiles.p", Kind::Hot, Some(UpdateAuthProfiles))
        );
        let p = plan(|c| {
            c.auth.order.insert("x".into(), vec!["p".into()]);
        });
        assert_eq!(
            one(&p),
            ("auth.order.x", Kind::Hot, Some(UpdateAuthProfiles))
        );
        // Seed 003: a cooldown settings edit never restarts.
        let p = plan(|c| {
            c.auth.cooldowns = CooldownSettings {
                billing_base_ms: Some(1),
                helper_lane_policy: Some(LanePolicy::Shared),
                ..Default::default()
            }
        });
        assert!(!p.requires_restart(), "{p:#?}");
        assert_eq!(p.kind(), Kind::Hot);
        assert_eq!(p.actions, [UpdateCooldownSettings].into());
    }

    #[test]
    fn unknown_raw_key_is_none_with_warning() {
        let c = Config::default();
        let old = serde_json::json!({});
        let new = serde_json::json!({"browser": {"headless": true}, "gateway": {"colour": 1}});
        let p = classify_raw(&old, &new, &c, &c);
        assert_eq!(p.changed_paths, vec!["browser", "gateway.colour"]);
        assert_eq!(p.kind(), Kind::None);
        assert!(!p.requires_restart());
        assert_eq!(p.diagnostics.len(), 2, "{:?}", p.diagnostics);
        assert!(p.diagnostics[0].contains("browser"));
    }

    #[test]
    fn root_change_takes_strongest_rule() {
        let d = classify_path(crate::diff::ROOT, &Config::default(), &Config::default());
        assert_eq!(d.kind, Kind::Restart);
    }

    #[test]
    fn longest_prefix_wins() {
        assert_eq!(
            rule_for("gateway.auth.token").unwrap().prefix,
            "gateway.auth.token"
        );
        assert_eq!(
            rule_for("gateway.auth.rateLimit.windowMs").unwrap().prefix,
            "gateway.auth.rateLimit"
        );
        assert!(rule_for("gateway").is_none());
        assert!(rule_for("gateway.authx").is_none());
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        fn arb_config() -> impl Strategy<Value = Config> {
            (
                proptest::option::of(1u16..),
                proptest::option::of("[a-z]{0,8}"),
                proptest::option::of(prop_oneof![
                    Just(AuthMode::Token),
                    Just(AuthMode::Password),
                    Just(AuthMode::None)
                ]),
                proptest::option::of("[a-z]{1,6}"),
                proptest::collection::btree_map("[a-z]{1,4}", "[a-z]{0,4}", 0..3),
                proptest::collection::vec(any::<u64>(), 0..3),
                proptest::option::of(any::<u32>()),
            )
                .prop_map(|(port, token, mode, level, models, transient, depth)| {
                    let mut c = Config::default();
                    c.gateway.port = port;
                    c.gateway.auth.token = token;
                    c.gateway.auth.mode = mode;
                    c.logging.level = level;
                    for (k, m) in models {
                        c.agents.entries.insert(
                            k,
                            openclaw_rs_config::AgentSettings {
                                model: Some(m),
                                ..Default::default()
                            },
                        );
                    }
                    c.auth.cooldowns.transient_ms = Some(transient);
                    c.session.max_spawn_depth = depth;
                    c
                })
        }

        proptest! {
            #[test]
            fn classify_same_is_empty(c in arb_config()) {
                let p = classify(&c, &c);
                prop_assert!(p.is_empty(), "{:?}", p);
                prop_assert_eq!(p.kind(), Kind::None);
            }

            #[test]
            fn classify_is_symmetric_in_paths(a in arb_config(), b in arb_config()) {
                prop_assert_eq!(classify(&a, &b).changed_paths, classify(&b, &a).changed_paths);
            }
        }
    }
}
