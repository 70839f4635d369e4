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
    pub max_spawn_depth: u32,
    pub max_children_per_session: u32,
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
