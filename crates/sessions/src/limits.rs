//! Session limits resolved from the `session.*` config section.

use openclaw_rs_config::Config;

/// Default and bounds of `session.maxSpawnDepth`.
pub const DEFAULT_MAX_SPAWN_DEPTH: u32 = 1;
pub const MAX_MAX_SPAWN_DEPTH: u32 = 5;
/// Default of `session.maxChildrenPerSession`.
pub const DEFAULT_MAX_CHILDREN: u32 = 5;
/// Default of `session.maxConcurrentSubagentRuns`.
pub const DEFAULT_MAX_CONCURRENT_SUBAGENT_RUNS: u32 = 8;

/// The limits in force. Cheap to copy; replaced on config reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How deep spawns may nest: a child of a top-level session has depth 1
    /// (`session.maxSpawnDepth`, 1..=5).
    pub max_spawn_depth: u32,
    /// Children of one session that may be queued or running at once, for spawns that name their
    /// parent (`session.maxChildrenPerSession`).
    pub max_children_per_session: u32,
    /// Subagent runs executing at once across the manager; more wait in the subagent lane
    /// (`session.maxConcurrentSubagentRuns`).
    pub max_concurrent_subagent_runs: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_spawn_depth: DEFAULT_MAX_SPAWN_DEPTH,
            max_children_per_session: DEFAULT_MAX_CHILDREN,
            max_concurrent_subagent_runs: DEFAULT_MAX_CONCURRENT_SUBAGENT_RUNS,
        }
    }
}

impl Limits {
    /// Limits from a config, with defaults; out-of-range values are clamped
    /// (depth to 1..=5, the others to at least 1).
    pub fn from_config(config: &Config) -> Limits {
        let s = &config.session;
        Limits {
            max_spawn_depth: s
                .max_spawn_depth
                .unwrap_or(DEFAULT_MAX_SPAWN_DEPTH)
                .clamp(1, MAX_MAX_SPAWN_DEPTH),
            max_children_per_session: s
                .max_children_per_session
                .unwrap_or(DEFAULT_MAX_CHILDREN)
                .max(1),
            max_concurrent_subagent_runs: s
                .max_concurrent_subagent_runs
                .unwrap_or(DEFAULT_MAX_CONCURRENT_SUBAGENT_RUNS)
                .max(1),
        }
    }
}

/// Default of `session.retention.archiveAfterMinutes`.
pub const DEFAULT_ARCHIVE_AFTER_MINUTES: u64 = 60;
/// Default of `session.retention.maxArchived`.
pub const DEFAULT_MAX_ARCHIVED: u64 = 1000;
/// Default of `session.retention.archivedMaxAgeDays`.
pub const DEFAULT_ARCHIVED_MAX_AGE_DAYS: u64 = 30;

/// Default of `session.retention.journalMaxBytes` (8 MiB).
pub const DEFAULT_JOURNAL_MAX_BYTES: u64 = 8 * 1024 * 1024;
/// Default of `session.retention.journalKeepRuns`.
pub const DEFAULT_JOURNAL_KEEP_RUNS: u64 = 100;

/// What happens to finished subagent sessions and to long journals (`session.retention.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// A finished subagent session is archived this long after its last activity; `None` keeps
    /// it in place.
    pub archive_after: Option<std::time::Duration>,
    /// Archived journals kept (the oldest beyond are deleted).
    pub max_archived: u64,
    /// Archived journals older than this are deleted; `None`: only `max_archived` applies.
    pub archived_max_age: Option<std::time::Duration>,
    /// A live journal larger than this is compacted; `None` never compacts.
    pub journal_max_bytes: Option<u64>,
    /// Finished runs a compacted journal keeps (at least 1).
    pub journal_keep_runs: usize,
}

impl Default for Retention {
    fn default() -> Self {
        Retention::from_config(&Config::default())
    }
}

impl Retention {
    /// Retention from a config, with defaults.
    pub fn from_config(config: &Config) -> Retention {
        let r = &config.session.retention;
        let minutes = r
            .archive_after_minutes
            .unwrap_or(DEFAULT_ARCHIVE_AFTER_MINUTES);
        let days = r
            .archived_max_age_days
            .unwrap_or(DEFAULT_ARCHIVED_MAX_AGE_DAYS);
        Retention {
            archive_after: (minutes > 0)
                .then(|| std::time::Duration::from_secs(minutes.saturating_mul(60))),
            max_archived: r.max_archived.unwrap_or(DEFAULT_MAX_ARCHIVED),
            archived_max_age: (days > 0)
                .then(|| std::time::Duration::from_secs(days.saturating_mul(86_400))),
            journal_max_bytes: Some(r.journal_max_bytes.unwrap_or(DEFAULT_JOURNAL_MAX_BYTES))
                .filter(|b| *b > 0),
            journal_keep_runs: r
                .journal_keep_runs
                .unwrap_or(DEFAULT_JOURNAL_KEEP_RUNS)
                .clamp(1, openclaw_rs_config::MAX_JOURNAL_KEEP_RUNS)
                as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_clamping() {
        let mut c = Config::default();
        assert_eq!(Limits::from_config(&c), Limits::default());
        c.session.max_spawn_depth = Some(9);
        c.session.max_children_per_session = Some(0);
        let l = Limits::from_config(&c);
        assert_eq!(l.max_spawn_depth, 5);
        assert_eq!(l.max_children_per_session, 1);
    }
}
