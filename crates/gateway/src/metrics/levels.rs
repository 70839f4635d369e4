//! The levels of one gateway, read from its state whenever its metrics are gathered.
//!
//! Layer 3 (beside `state`): uses `state` and the metrics types of its parent.

use super::{set_counter, LevelGauges, LevelSource};
use crate::state::GatewayState;

impl LevelSource for GatewayState {
    fn read_levels(&self, m: &LevelGauges) {
        let state = self;
        m.connections_open.set(state.connection_count() as i64);
        m.preauth_open.set(state.preauth_count() as i64);
        if let Some(s) = state.sessions() {
            let d = s.manager().lane_depths();
            for (lane, c) in [("main", d.main), ("subagent", d.subagent)] {
                m.lane_queued
                    .with_label_values(&[lane])
                    .set(c.queued as i64);
                m.lane_running
                    .with_label_values(&[lane])
                    .set(c.running as i64);
            }
            let p = s.pool().stats();
            let retired = p.ledger.detached as i64;
            let starting = p.ledger.starting as i64;
            let ready = (p.ledger.processes as i64 - retired - starting).max(0);
            m.pool_processes.with_label_values(&["ready"]).set(ready);
            m.pool_processes
                .with_label_values(&["starting"])
                .set(starting);
            m.pool_processes
                .with_label_values(&["retired"])
                .set(retired);
            m.pool_leases.set(p.ledger.leases as i64);
            m.pool_waiters.set(p.ledger.pending as i64);
            set_counter(&m.pool_spawned, p.spawned_total);
            set_counter(
                &m.pool_retirements.with_label_values(&["graceful"]),
                p.retired_graceful_total,
            );
            set_counter(
                &m.pool_retirements.with_label_values(&["wedged"]),
                p.retired_wedged_total,
            );
        }
        let now = openclaw_rs_cooldowns::now_ms();
        m.cooldowns_active.reset();
        for e in state.reload().cooldowns().snapshot().entries() {
            if e.until() > now {
                m.cooldowns_active
                    .with_label_values(&[e.reason.as_str()])
                    .inc();
            }
        }
    }
}
