//! Runtime responsiveness for `health.eventLoop`: how late a periodic timer fires (scheduling
//! delay) and how much CPU the process uses, sampled every [`INTERVAL`].
//!
//! OpenClaw reports Node's event-loop delay and utilization under the same keys; here the
//! "event loop" is the tokio runtime.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Sampling period.
pub const INTERVAL: Duration = Duration::from_millis(500);
/// Samples kept (one minute).
const WINDOW: usize = 120;
/// p99 delay above this marks the runtime degraded.
const DEGRADED_DELAY_MS: f64 = 200.0;

/// The latest figures.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EventLoopStats {
    /// 99th percentile of the timer delay over the last window (ms).
    pub delay_p99_ms: f64,
    /// Largest timer delay over the last window (ms).
    pub delay_max_ms: f64,
    /// Process CPU time per wall time, per runtime worker (0..1 when workers are the only busy threads).
    pub utilization: f64,
    /// Process CPU time per wall time, per CPU core of the machine.
    pub cpu_core_ratio: f64,
}

impl EventLoopStats {
    /// The `health.eventLoop` object (OpenClaw's reason names).
    pub fn to_wire(&self) -> openclaw_rs_protocol::methods::gateway::EventLoopHealth {
        let degraded = self.delay_p99_ms > DEGRADED_DELAY_MS;
        openclaw_rs_protocol::methods::gateway::EventLoopHealth {
            degraded,
            reasons: if degraded {
                vec!["event_loop_delay".into()]
            } else {
                Vec::new()
            },
            interval_ms: INTERVAL.as_millis() as f64,
            delay_p99_ms: round2(self.delay_p99_ms),
            delay_max_ms: round2(self.delay_max_ms),
            utilization: round2(self.utilization),
            cpu_core_ratio: round2(self.cpu_core_ratio),
        }
    }
}

fn round2(v: f64) -> f64 {
    if v.is_finite() {
        (v * 100.0).round() / 100.0
    } else {
        0.0
    }
}

/// Process CPU time (user + system) from `/proc/self/stat`, in seconds.
fn process_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // rest starts at field 3 (state); utime and stime are fields 14 and 15.
    let utime: f64 = fields.nth(11)?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    // USER_HZ is 100 on Linux.
    Some((utime + stime) / 100.0)
}

/// Sample forever, publishing into `out`. Owned by `serve`'s background set.
pub(crate) async fn monitor(out: Arc<Mutex<EventLoopStats>>) {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1) as f64;
    let workers = tokio::runtime::Handle::try_current()
        .map(|h| h.metrics().num_workers())
        .unwrap_or(1)
        .max(1) as f64;
    let mut delays: VecDeque<f64> = VecDeque::with_capacity(WINDOW);
    let mut last_wall = Instant::now();
    let mut last_cpu = process_cpu_seconds();
    loop {
        let due = tokio::time::Instant::now() + INTERVAL;
        tokio::time::sleep_until(due).await;
        let late = tokio::time::Instant::now().saturating_duration_since(due);
        if delays.len() == WINDOW {
            delays.pop_front();
        }
        delays.push_back(late.as_secs_f64() * 1000.0);
        let mut sorted: Vec<f64> = delays.iter().copied().collect();
        sorted.sort_by(|a, b| a.total_cmp(b));
        let p99 = sorted[((sorted.len() as f64 - 1.0) * 0.99).round() as usize];
        let max = sorted.last().copied().unwrap_or(0.0);
        let now = Instant::now();
        let cpu = process_cpu_seconds();
        let busy = match (cpu, last_cpu) {
            (Some(c), Some(l)) => (c - l).max(0.0) / now.duration_since(last_wall).as_secs_f64(),
            _ => 0.0,
        };
        last_wall = now;
        last_cpu = cpu;
        if let Ok(mut s) = out.lock() {
            *s = EventLoopStats {
                delay_p99_ms: p99,
                delay_max_ms: max,
                utilization: (busy / workers).min(1.0),
                cpu_core_ratio: busy / cores,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_process_cpu_time() {
        assert!(process_cpu_seconds().unwrap() >= 0.0);
    }

    #[test]
    fn json_has_numbers_only() {
        let v = EventLoopStats {
            delay_p99_ms: f64::NAN,
            ..EventLoopStats::default()
        }
        .to_wire();
        let v = serde_json::to_value(v).unwrap();
        for k in [
            "delayP99Ms",
            "delayMaxMs",
            "utilization",
            "cpuCoreRatio",
            "intervalMs",
        ] {
            assert!(v[k].is_number(), "{k}: {v}");
        }
        assert_eq!(v["degraded"], false);
    }
}
