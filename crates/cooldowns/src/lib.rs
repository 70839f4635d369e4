//! Auth-profile cooldowns as runtime state: an immutable snapshot behind `ArcSwap`, persisted in
//! the state dir, never in config.
//!
//! A failure is recorded for (auth profile, model, lane). Rate limits and transient failures
//! cool down only the failing model; billing and permanent auth failures disable the whole
//! profile. Lanes keep helper failures away from the user: under the default `local` policy a
//! helper lane's failure is recorded in that lane only, so a slug helper's 401 never cools down
//! the profile the user's main lane is using (seed 003, #71709). A helper lane still respects
//! cooldowns of the main lane.
//!
//! **Architecture Invariant:** readers never block. [`Cooldowns::check`] loads the current
//! snapshot (`ArcSwap`) and scans it; writers take a mutex, build a new table, persist it with
//! `write_atomic` and swap it in whole. This file is `$STATE/state/cooldowns.json`; a cooldown
//! never touches `openclaw.json`, so it can never trigger a reload or a restart.
//!
//! Entry points: [`Cooldowns`] ([`Cooldowns::open`] on a state dir, or [`Cooldowns::in_memory`]),
//! [`Cooldowns::record_failure`] with a [`FailureReason`] (from a run's [`FailureClass`] via
//! [`FailureReason::from_class`]), [`Cooldowns::check`] and [`Cooldowns::select`].
//!
//! ```
//! use openclaw_rs_cooldowns::{Cooldowns, FailureClass, FailureReason, Policy, MAIN_LANE};
//!
//! let table = Cooldowns::in_memory(Policy::default());
//! let now = 1_700_000_000_000;
//! let reason = FailureReason::from_class(FailureClass::RateLimit).expect("429 cools down");
//! table.record_failure("work", "gpt-5", MAIN_LANE, reason, now).expect("recorded");
//! let block = table.check("work", "gpt-5", MAIN_LANE, now + 1).expect("cooling down");
//! assert_eq!(block.reason, FailureReason::RateLimit);
//! assert!(!block.profile_wide, "a rate limit cools down only that model");
//! assert!(table.check("work", "other-model", MAIN_LANE, now + 1).is_none());
//! // A cancelled run says nothing about the profile.
//! assert_eq!(FailureReason::from_class(FailureClass::Interrupted), None);
//! ```
#![warn(missing_docs)]

use arc_swap::ArcSwap;
use openclaw_rs_config::{CooldownSettings, LanePolicy};
pub use openclaw_rs_protocol::FailureClass;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The user's own lane.
pub const MAIN_LANE: &str = "main";

/// The cooldown file, relative to the state dir.
pub const COOLDOWNS_FILE: &str = "state/cooldowns.json";

/// Why a profile failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// Timeouts, overload, upstream 5xx, idle streams: 30 s / 60 s / 5 min, model-scoped.
    Transient,
    /// 429: exponential from 30 s, capped at 24 h, model-scoped.
    RateLimit,
    /// Quota or billing: disables the profile, 10 min doubling, capped at 24 h.
    Billing,
    /// 401/403: disables the profile, 10 min doubling, capped at 1 h.
    AuthPermanent,
}

impl FailureReason {
    /// The reason a run failure of `class` records against its auth profile; `None` for
    /// failures that say nothing about the profile (cancelled, protocol, transport, startup,
    /// config and other runtime errors).
    pub fn from_class(class: FailureClass) -> Option<FailureReason> {
        match class {
            FailureClass::Auth => Some(FailureReason::AuthPermanent),
            FailureClass::RateLimit => Some(FailureReason::RateLimit),
            FailureClass::Quota => Some(FailureReason::Billing),
            FailureClass::Upstream
            | FailureClass::StreamIdle
            | FailureClass::Timeout
            | FailureClass::Overload => Some(FailureReason::Transient),
            FailureClass::Interrupted
            | FailureClass::Protocol
            | FailureClass::Transport
            | FailureClass::Startup
            | FailureClass::Config
            | FailureClass::Runtime => None,
        }
    }

    /// Whether this reason cools down only the failing model (else the whole profile).
    pub fn model_scoped(self) -> bool {
        matches!(self, FailureReason::Transient | FailureReason::RateLimit)
    }

    /// The serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::Transient => "transient",
            FailureReason::RateLimit => "rate_limit",
            FailureReason::Billing => "billing",
            FailureReason::AuthPermanent => "auth_permanent",
        }
    }
}

/// Backoff settings with defaults resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Cooldown steps for consecutive transient failures (the last one repeats).
    pub transient_ms: Vec<u64>,
    /// First rate-limit cooldown; doubles per consecutive failure.
    pub rate_limit_base_ms: u64,
    /// Rate-limit cooldown cap.
    pub rate_limit_max_ms: u64,
    /// First billing disable; doubles per consecutive failure.
    pub billing_base_ms: u64,
    /// Billing disable cap.
    pub billing_max_ms: u64,
    /// First disable after an auth failure; doubles per consecutive failure.
    pub auth_permanent_base_ms: u64,
    /// Auth-failure disable cap.
    pub auth_permanent_max_ms: u64,
    /// Consecutive-failure counts reset after this long without a failure.
    pub failure_window_ms: u64,
    /// Whether a helper lane's failures also count in the main lane.
    pub helper_lane_policy: LanePolicy,
}

const MIN: u64 = 60_000;
const HOUR: u64 = 60 * MIN;

impl Default for Policy {
    fn default() -> Self {
        Policy::from_settings(&CooldownSettings::default())
    }
}

impl Policy {
    /// Resolve `auth.cooldowns` settings.
    pub fn from_settings(s: &CooldownSettings) -> Policy {
        Policy {
            transient_ms: s
                .transient_ms
                .clone()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| vec![30_000, 60_000, 5 * MIN]),
            rate_limit_base_ms: s.rate_limit_base_ms.unwrap_or(30_000),
            rate_limit_max_ms: s.rate_limit_max_ms.unwrap_or(24 * HOUR),
            billing_base_ms: s.billing_base_ms.unwrap_or(10 * MIN),
            billing_max_ms: s.billing_max_ms.unwrap_or(24 * HOUR),
            auth_permanent_base_ms: s.auth_permanent_base_ms.unwrap_or(10 * MIN),
            auth_permanent_max_ms: s.auth_permanent_max_ms.unwrap_or(HOUR),
            failure_window_ms: s.failure_window_ms.unwrap_or(24 * HOUR),
            helper_lane_policy: s.helper_lane_policy.unwrap_or(LanePolicy::Local),
        }
    }

    /// Cooldown length for the `n`th consecutive failure (n ≥ 1) of `reason`.
    pub fn backoff_ms(&self, reason: FailureReason, n: u32) -> u64 {
        let n = n.max(1);
        let exp = |base: u64, max: u64| -> u64 {
            let shift = (n - 1).min(40);
            base.saturating_mul(1u64 << shift).min(max)
        };
        match reason {
            FailureReason::Transient => {
                let i = (n as usize - 1).min(self.transient_ms.len().saturating_sub(1));
                self.transient_ms.get(i).copied().unwrap_or(30_000)
            }
            FailureReason::RateLimit => exp(self.rate_limit_base_ms, self.rate_limit_max_ms),
            FailureReason::Billing => exp(self.billing_base_ms, self.billing_max_ms),
            FailureReason::AuthPermanent => {
                exp(self.auth_permanent_base_ms, self.auth_permanent_max_ms)
            }
        }
    }
}

/// One row: a profile, cooled for one model (or all models) in one lane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CooldownEntry {
    /// The auth profile.
    pub profile: String,
    /// `None`: the whole profile (billing, auth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The lane (`main` or a helper lane).
    pub lane: String,
    /// Unix ms until which the profile is cooling down (transient, rate limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_until: Option<u64>,
    /// Unix ms until which the profile is disabled (billing, auth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_until: Option<u64>,
    /// Why it is blocked.
    pub reason: FailureReason,
    /// Consecutive failures counted in the window.
    pub error_count: u32,
    /// Consecutive failures per reason.
    #[serde(default)]
    pub failure_counts: BTreeMap<FailureReason, u32>,
    /// Unix ms of the last failure.
    pub last_failure_at: u64,
}

impl CooldownEntry {
    /// The time this entry stops blocking (the later of the two).
    pub fn until(&self) -> u64 {
        self.cooldown_until
            .unwrap_or(0)
            .max(self.disabled_until.unwrap_or(0))
    }

    fn applies(&self, model: &str, lane: &str) -> bool {
        self.lane == lane && self.model.as_deref().is_none_or(|m| m == model)
    }
}

/// Why a profile is not usable right now (no allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CooldownInfo {
    /// Unix ms when it becomes usable again.
    pub until: u64,
    /// Why it is blocked.
    pub reason: FailureReason,
    /// `disabledUntil` (billing/auth) rather than a cooldown.
    pub disabled: bool,
    /// The whole profile, not only this model.
    pub profile_wide: bool,
    /// Inherited from the main lane (checked from a helper lane).
    pub from_main_lane: bool,
}

/// The immutable table readers see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    by_profile: HashMap<String, Vec<CooldownEntry>>,
}

impl Table {
    /// Every entry, ordered by profile, lane, model.
    pub fn entries(&self) -> Vec<&CooldownEntry> {
        let mut v: Vec<&CooldownEntry> = self.by_profile.values().flatten().collect();
        v.sort_by(|a, b| (&a.profile, &a.lane, &a.model).cmp(&(&b.profile, &b.lane, &b.model)));
        v
    }

    /// The blocking entry for (profile, model, lane) at `now`, if any. The longest block wins.
    pub fn check(&self, profile: &str, model: &str, lane: &str, now: u64) -> Option<CooldownInfo> {
        let rows = self.by_profile.get(profile)?;
        let mut best: Option<CooldownInfo> = None;
        for e in rows {
            let own = e.applies(model, lane);
            let main = lane != MAIN_LANE && e.applies(model, MAIN_LANE);
            if !(own || main) {
                continue;
            }
            let until = e.until();
            if until <= now {
                continue;
            }
            if best.is_none_or(|b| until > b.until) {
                best = Some(CooldownInfo {
                    until,
                    reason: e.reason,
                    disabled: e.disabled_until.is_some_and(|d| d > now),
                    profile_wide: e.model.is_none(),
                    from_main_lane: !own,
                });
            }
        }
        best
    }
}

/// The on-disk form.
#[derive(Debug, Serialize, Deserialize)]
struct FileForm {
    version: u32,
    entries: Vec<CooldownEntry>,
}

/// A failure to load or persist the table.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CooldownError {
    /// Reading or writing the file failed.
    #[error(transparent)]
    State(#[from] openclaw_rs_state::StateError),
    #[error("cooldown file {path} is not valid ({message}); move it aside or delete it to start with no cooldowns")]
    /// The cooldown file is not valid JSON of the expected shape.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The parse error.
        message: String,
    },
}

/// A profile skipped during selection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    /// The auth profile.
    pub profile: String,
    /// Unix ms when it becomes usable again.
    pub until: u64,
    /// Why it is blocked.
    pub reason: FailureReason,
    /// The whole profile is disabled (billing/auth), not one model cooling down.
    pub disabled: bool,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}, {} until {})",
            self.profile,
            self.reason.as_str(),
            if self.disabled {
                "disabled"
            } else {
                "cooling down"
            },
            rfc3339(self.until)
        )
    }
}

/// The profile to use and the ones passed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    /// The auth profile.
    pub profile: String,
    /// Profiles passed over because they are blocked.
    pub skipped: Vec<Skipped>,
}

/// Every candidate profile is cooling down.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no auth profile available for model {model} in lane {lane}: {}; the earliest is usable again at {}", list(.skipped), rfc3339(*.earliest))]
pub struct AllCoolingDown {
    /// The model asked for.
    pub model: String,
    /// The lane (`main` or a helper lane).
    pub lane: String,
    /// Profiles passed over because they are blocked.
    pub skipped: Vec<Skipped>,
    /// Unix ms when the first of them becomes usable.
    pub earliest: u64,
}

/// Selection with no candidates at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    /// Every candidate profile is blocked.
    #[error(transparent)]
    AllCoolingDown(#[from] AllCoolingDown),
    /// No profile is configured for the model.
    #[error(
        "no auth profiles configured for model {model}; add one under auth.profiles and auth.order"
    )]
    NoCandidates {
        /// The model asked for.
        model: String,
    },
}

fn list(s: &[Skipped]) -> String {
    s.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Unix ms as an RFC 3339 UTC timestamp (second precision).
pub fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Current unix ms.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The cooldown table: lock-free reads, serialized persisted writes.
#[derive(Debug)]
pub struct Cooldowns {
    table: ArcSwap<Table>,
    policy: ArcSwap<Policy>,
    /// Serializes writers; `None` path = in memory only.
    writer: Mutex<Option<PathBuf>>,
}

impl Cooldowns {
    /// An in-memory table (tests, benches).
    pub fn in_memory(policy: Policy) -> Cooldowns {
        Cooldowns {
            table: ArcSwap::from_pointee(Table::default()),
            policy: ArcSwap::from_pointee(policy),
            writer: Mutex::new(None),
        }
    }

    /// Load `$STATE/state/cooldowns.json` (missing = empty). A corrupt file is an error that
    /// names the file and the fix.
    pub fn open(
        state: &openclaw_rs_state::StateDir,
        policy: Policy,
    ) -> Result<Cooldowns, CooldownError> {
        Self::open_path(&state.join(COOLDOWNS_FILE), policy)
    }

    /// Like [`Cooldowns::open`] with an explicit file path.
    pub fn open_path(path: &Path, policy: Policy) -> Result<Cooldowns, CooldownError> {
        let mut table = Table::default();
        if let Some(bytes) = openclaw_rs_state::read_optional(path)? {
            let form: FileForm =
                serde_json::from_slice(&bytes).map_err(|e| CooldownError::Corrupt {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })?;
            for e in form.entries {
                table
                    .by_profile
                    .entry(e.profile.clone())
                    .or_default()
                    .push(e);
            }
        }
        Ok(Cooldowns {
            table: ArcSwap::from_pointee(table),
            policy: ArcSwap::from_pointee(policy),
            writer: Mutex::new(Some(path.to_path_buf())),
        })
    }

    /// Replace the backoff policy (hot reload of `auth.cooldowns`). Existing cooldowns keep
    /// their end times; new failures use the new policy.
    pub fn set_policy(&self, policy: Policy) {
        self.policy.store(Arc::new(policy));
    }

    /// The policy in force.
    pub fn policy(&self) -> Arc<Policy> {
        self.policy.load_full()
    }

    /// The current snapshot (cheap; never blocks).
    pub fn snapshot(&self) -> Arc<Table> {
        self.table.load_full()
    }

    /// Whether (profile, model, lane) is blocked at `now`. Lock-free and allocation-free.
    pub fn check(&self, profile: &str, model: &str, lane: &str, now: u64) -> Option<CooldownInfo> {
        self.table.load().check(profile, model, lane, now)
    }

    /// Record a failure of `profile` on `model` in `lane` at `now`. Returns the resulting block.
    /// Under the `local` lane policy a helper lane's failure stays in that lane; under `shared`
    /// it is also recorded in the main lane.
    pub fn record_failure(
        &self,
        profile: &str,
        model: &str,
        lane: &str,
        reason: FailureReason,
        now: u64,
    ) -> Result<CooldownInfo, CooldownError> {
        let policy = self.policy.load_full();
        let mut lanes = vec![lane];
        if lane != MAIN_LANE && policy.helper_lane_policy == LanePolicy::Shared {
            lanes.push(MAIN_LANE);
        }
        self.update(now, |t| {
            for l in &lanes {
                bump(t, &policy, profile, model, l, reason, now);
            }
        })?;
        let until = self
            .check(profile, model, lane, now)
            .map(|i| i.until)
            .unwrap_or(now);
        tracing::info!(profile, model, lane, reason = reason.as_str(), until = %rfc3339(until), "auth profile cooling down");
        Ok(CooldownInfo {
            until,
            reason,
            disabled: !reason.model_scoped(),
            profile_wide: !reason.model_scoped(),
            from_main_lane: false,
        })
    }

    /// Forget a profile's cooldowns in every lane (`doctor`, manual reset).
    pub fn clear_profile(&self, profile: &str) -> Result<(), CooldownError> {
        self.update(now_ms(), |t| {
            t.by_profile.remove(profile);
        })
    }

    /// Pick the first of `candidates` (in order) not blocked for (model, lane) at `now`.
    pub fn select(
        &self,
        candidates: &[String],
        model: &str,
        lane: &str,
        now: u64,
    ) -> Result<Selected, SelectError> {
        if candidates.is_empty() {
            return Err(SelectError::NoCandidates {
                model: model.to_string(),
            });
        }
        let table = self.table.load();
        let mut skipped = Vec::new();
        for p in candidates {
            match table.check(p, model, lane, now) {
                None => {
                    return Ok(Selected {
                        profile: p.clone(),
                        skipped,
                    })
                }
                Some(info) => skipped.push(Skipped {
                    profile: p.clone(),
                    until: info.until,
                    reason: info.reason,
                    disabled: info.disabled,
                }),
            }
        }
        let earliest = skipped.iter().map(|s| s.until).min().unwrap_or(now);
        Err(AllCoolingDown {
            model: model.to_string(),
            lane: lane.to_string(),
            skipped,
            earliest,
        }
        .into())
    }

    /// Copy, change, persist, swap. Writers are serialized; readers keep the old snapshot until
    /// the swap. If persisting fails the in-memory table is still updated (a cooldown is better
    /// applied than lost) and the error is returned.
    fn update(&self, now: u64, f: impl FnOnce(&mut Table)) -> Result<(), CooldownError> {
        let guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = (**self.table.load()).clone();
        f(&mut next);
        let window = self.policy.load().failure_window_ms;
        prune(&mut next, now, window);
        let result = match guard.as_ref() {
            Some(path) => persist(path, &next),
            None => Ok(()),
        };
        self.table.store(Arc::new(next));
        result
    }
}

fn bump(
    t: &mut Table,
    policy: &Policy,
    profile: &str,
    model: &str,
    lane: &str,
    reason: FailureReason,
    now: u64,
) {
    let scope = reason.model_scoped().then(|| model.to_string());
    let rows = t.by_profile.entry(profile.to_string()).or_default();
    let idx = match rows.iter().position(|e| e.lane == lane && e.model == scope) {
        Some(i) => i,
        None => {
            rows.push(CooldownEntry {
                profile: profile.to_string(),
                model: scope,
                lane: lane.to_string(),
                cooldown_until: None,
                disabled_until: None,
                reason,
                error_count: 0,
                failure_counts: BTreeMap::new(),
                last_failure_at: now,
            });
            rows.len() - 1
        }
    };
    let e = &mut rows[idx];
    let window_expired = now.saturating_sub(e.last_failure_at) >= policy.failure_window_ms;
    let previous_expired = e.until() != 0 && e.until() <= now;
    if window_expired || previous_expired {
        e.error_count = 0;
        e.failure_counts.clear();
        e.cooldown_until = None;
        e.disabled_until = None;
    }
    e.error_count += 1;
    *e.failure_counts.entry(reason).or_default() += 1;
    e.last_failure_at = now;
    e.reason = reason;
    let n = e.failure_counts[&reason];
    let until = now.saturating_add(policy.backoff_ms(reason, n));
    if reason.model_scoped() {
        e.cooldown_until = Some(e.cooldown_until.unwrap_or(0).max(until));
    } else {
        e.disabled_until = Some(e.disabled_until.unwrap_or(0).max(until));
    }
}

/// Drop entries that no longer block and whose failure window has passed.
fn prune(t: &mut Table, now: u64, window: u64) {
    for rows in t.by_profile.values_mut() {
        rows.retain(|e| e.until() > now || now.saturating_sub(e.last_failure_at) < window);
    }
    t.by_profile.retain(|_, rows| !rows.is_empty());
}

fn persist(path: &Path, t: &Table) -> Result<(), CooldownError> {
    let form = FileForm {
        version: 1,
        entries: t.entries().into_iter().cloned().collect(),
    };
    openclaw_rs_state::write_json(path, &form, openclaw_rs_state::PUBLIC_MODE)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_800_000_000_000;
    const S: u64 = 1000;

    fn cd() -> Cooldowns {
        Cooldowns::in_memory(Policy::default())
    }

    #[test]
    fn transient_steps_30s_60s_5min_model_scoped() {
        let c = cd();
        let i = c
            .record_failure("p", "m", MAIN_LANE, FailureReason::Transient, T0)
            .unwrap();
        assert_eq!(i.until, T0 + 30 * S);
        // Another failure while cooling (e.g. a concurrent run) escalates.
        let i = c
            .record_failure("p", "m", MAIN_LANE, FailureReason::Transient, T0 + S)
            .unwrap();
        assert_eq!(i.until, T0 + S + 60 * S);
        let i = c
            .record_failure("p", "m", MAIN_LANE, FailureReason::Transient, T0 + 2 * S)
            .unwrap();
        assert_eq!(i.until, T0 + 2 * S + 300 * S);
        let i = c
            .record_failure("p", "m", MAIN_LANE, FailureReason::Transient, T0 + 3 * S)
            .unwrap();
        assert_eq!(i.until, T0 + 3 * S + 300 * S, "the last step repeats");
        // Only the failing model.
        assert!(c.check("p", "m", MAIN_LANE, T0 + 4 * S).is_some());
        assert!(c.check("p", "other", MAIN_LANE, T0 + 4 * S).is_none());
    }

    #[test]
    fn rate_limit_exponential_capped() {
        let p = Policy::default();
        assert_eq!(p.backoff_ms(FailureReason::RateLimit, 1), 30 * S);
        assert_eq!(p.backoff_ms(FailureReason::RateLimit, 2), 60 * S);
        assert_eq!(p.backoff_ms(FailureReason::RateLimit, 5), 480 * S);
        assert_eq!(p.backoff_ms(FailureReason::RateLimit, 40), 24 * HOUR);
        assert_eq!(p.backoff_ms(FailureReason::RateLimit, u32::MAX), 24 * HOUR);
        assert_eq!(p.backoff_ms(FailureReason::AuthPermanent, 1), 10 * MIN);
        assert_eq!(p.backoff_ms(FailureReason::AuthPermanent, 4), HOUR);
        assert_eq!(p.backoff_ms(FailureReason::Billing, 2), 20 * MIN);
        assert_eq!(p.backoff_ms(FailureReason::Billing, 30), 24 * HOUR);
    }

    #[test]
    fn billing_disables_whole_profile() {
        let c = cd();
        let i = c
            .record_failure("p", "m", MAIN_LANE, FailureReason::Billing, T0)
            .unwrap();
        assert!(i.disabled && i.profile_wide);
        let got = c.check("p", "any-model", MAIN_LANE, T0 + S).unwrap();
        assert!(got.disabled);
        assert_eq!(got.until, T0 + 10 * MIN);
        let e = c.snapshot().entries()[0].clone();
        assert_eq!(e.disabled_until, Some(T0 + 10 * MIN));
        assert_eq!(e.cooldown_until, None);
    }

    #[test]
    fn counters_reset_after_expiry_or_window() {
        let c = cd();
        c.record_failure("p", "m", MAIN_LANE, FailureReason::RateLimit, T0)
            .unwrap();
        // The first cooldown expired: the next failure starts over at 30 s.
        let t1 = T0 + 31 * S;
        let i = c
            .record_failure("p", "m", MAIN_LANE, FailureReason::RateLimit, t1)
            .unwrap();
        assert_eq!(i.until, t1 + 30 * S);
        assert_eq!(c.snapshot().entries()[0].error_count, 1);
        // Within the cooldown: escalates.
        let i = c
            .record_failure("p", "m", MAIN_LANE, FailureReason::RateLimit, t1 + S)
            .unwrap();
        assert_eq!(i.until, t1 + S + 60 * S);
        assert!(c.check("p", "m", MAIN_LANE, t1 + S + 61 * S).is_none());
    }

    #[test]
    fn helper_lane_failure_stays_local_by_default() {
        let c = cd();
        c.record_failure("p", "m", "helper", FailureReason::AuthPermanent, T0)
            .unwrap();
        assert!(c.check("p", "m", "helper", T0 + S).is_some());
        assert!(
            c.check("p", "m", MAIN_LANE, T0 + S).is_none(),
            "a helper's 401 must not cool down the user's lane"
        );
        // The helper respects the main lane's cooldowns.
        c.record_failure("q", "m", MAIN_LANE, FailureReason::RateLimit, T0)
            .unwrap();
        let i = c.check("q", "m", "helper", T0 + S).unwrap();
        assert!(i.from_main_lane);
    }

    #[test]
    fn shared_policy_also_records_main_lane() {
        let c = Cooldowns::in_memory(Policy::from_settings(&CooldownSettings {
            helper_lane_policy: Some(LanePolicy::Shared),
            ..Default::default()
        }));
        c.record_failure("p", "m", "helper", FailureReason::RateLimit, T0)
            .unwrap();
        assert!(c.check("p", "m", MAIN_LANE, T0 + S).is_some());
    }

    #[test]
    fn select_fails_over_and_reports_skips() {
        let c = cd();
        let cands: Vec<String> = vec!["a".into(), "b".into(), "c".into()];
        c.record_failure("a", "m", MAIN_LANE, FailureReason::RateLimit, T0)
            .unwrap();
        c.record_failure("b", "m", MAIN_LANE, FailureReason::Billing, T0)
            .unwrap();
        let s = c.select(&cands, "m", MAIN_LANE, T0 + S).unwrap();
        assert_eq!(s.profile, "c");
        assert_eq!(s.skipped.len(), 2);
        c.record_failure("c", "m", MAIN_LANE, FailureReason::Transient, T0)
            .unwrap();
        let err = c.select(&cands, "m", MAIN_LANE, T0 + S).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("a (rate_limit, cooling down until 2027-01-15T08:00:30Z)"),
            "{msg}"
        );
        assert!(msg.contains("b (billing, disabled until"), "{msg}");
        let SelectError::AllCoolingDown(all) = err else {
            panic!()
        };
        assert_eq!(all.earliest, T0 + 30 * S);
        // After the rate limit expires, `a` is picked again.
        assert_eq!(
            c.select(&cands, "m", MAIN_LANE, T0 + 31 * S)
                .unwrap()
                .profile,
            "a"
        );
        assert!(matches!(
            c.select(&[], "m", MAIN_LANE, T0),
            Err(SelectError::NoCandidates { .. })
        ));
    }

    #[test]
    fn persisted_and_reloaded_never_in_config() {
        let dir = tempfile::tempdir().unwrap();
        let state = openclaw_rs_state::StateDir::new(dir.path());
        let now = now_ms();
        {
            let c = Cooldowns::open(&state, Policy::default()).unwrap();
            c.record_failure("p", "m", MAIN_LANE, FailureReason::Billing, now)
                .unwrap();
        }
        assert!(dir.path().join("state/cooldowns.json").exists());
        assert!(!dir.path().join("openclaw.json").exists());
        let c = Cooldowns::open(&state, Policy::default()).unwrap();
        assert!(c.check("p", "m", MAIN_LANE, now + S).is_some());
        std::fs::write(dir.path().join(COOLDOWNS_FILE), "{").unwrap();
        let err = Cooldowns::open(&state, Policy::default()).unwrap_err();
        assert!(err.to_string().contains("delete it"), "{err}");
    }

    #[test]
    fn readers_see_whole_snapshots_under_concurrent_writes() {
        let c = Arc::new(cd());
        let now = now_ms();
        std::thread::scope(|s| {
            for w in 0..2 {
                let c = c.clone();
                s.spawn(move || {
                    for i in 0..200 {
                        c.record_failure(
                            &format!("p{w}-{i}"),
                            "m",
                            MAIN_LANE,
                            FailureReason::RateLimit,
                            now,
                        )
                        .unwrap();
                    }
                });
            }
            let c = c.clone();
            s.spawn(move || {
                let mut last = 0;
                for _ in 0..2000 {
                    let n = c.snapshot().entries().len();
                    assert!(n >= last, "snapshots only grow here");
                    last = n;
                }
            });
        });
        assert_eq!(c.snapshot().entries().len(), 400);
    }

    #[test]
    fn settings_override_defaults() {
        let p = Policy::from_settings(&CooldownSettings {
            transient_ms: Some(vec![]),
            rate_limit_base_ms: Some(1_000),
            rate_limit_max_ms: Some(3_000),
            failure_window_ms: Some(5),
            ..Default::default()
        });
        // An empty list falls back to the reference steps rather than "no cooldown".
        assert_eq!(p.backoff_ms(FailureReason::Transient, 1), 30 * S);
        assert_eq!(p.backoff_ms(FailureReason::RateLimit, 2), 2_000);
        assert_eq!(p.backoff_ms(FailureReason::RateLimit, 3), 3_000);
        assert_eq!(p.failure_window_ms, 5);
        // Hot reload: new failures use the new policy.
        let c = cd();
        c.set_policy(p);
        let i = c
            .record_failure("p", "m", MAIN_LANE, FailureReason::RateLimit, T0)
            .unwrap();
        assert_eq!(i.until, T0 + 1_000);
    }

    #[test]
    fn failure_classes_map_to_reasons() {
        use FailureClass as C;
        let expect = |c: C| match c {
            C::Auth => Some(FailureReason::AuthPermanent),
            C::RateLimit => Some(FailureReason::RateLimit),
            C::Quota => Some(FailureReason::Billing),
            C::Upstream | C::StreamIdle | C::Timeout | C::Overload => {
                Some(FailureReason::Transient)
            }
            _ => None,
        };
        for c in C::ALL {
            assert_eq!(FailureReason::from_class(c), expect(c), "{c}");
        }
        // Only model-level failures cool down a single model.
        assert!(FailureReason::from_class(C::RateLimit).is_some_and(FailureReason::model_scoped));
        assert!(!FailureReason::from_class(C::Auth).is_some_and(FailureReason::model_scoped));
    }

    #[test]
    fn rfc3339_formats() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
    }
}
