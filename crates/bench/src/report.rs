//! The results table: one row per measure, ours next to the Node gateway, with the ratio.

use std::fmt::Write as _;
use std::time::Duration;

/// A measured value, or why there is none.
#[derive(Debug, Clone)]
pub enum Cell {
    Time(Duration),
    Bytes(u64),
    Rate(f64),
    /// A rate with a remark (e.g. how many requests the server refused).
    RateNote(f64, String),
    /// A plain count.
    Int(u64),
    /// Two counts: refused, failed.
    Count(u64, u64),
    /// Not applicable to this side (e.g. a Rust-only micro-benchmark).
    Na,
    /// Not measured, with the reason.
    Missing(String),
}

/// Which direction is better.
#[derive(Debug, Clone, Copy)]
pub enum Better {
    Lower,
    Higher,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub metric: String,
    pub ours: Cell,
    pub node: Cell,
    pub better: Better,
    pub target: &'static str,
}

impl Row {
    pub fn new(metric: impl Into<String>, ours: Cell, node: Cell, better: Better) -> Row {
        Row {
            metric: metric.into(),
            ours,
            node,
            better,
            target: "",
        }
    }

    pub fn target(mut self, target: &'static str) -> Row {
        self.target = target;
        self
    }

    /// How many times better ours is (> 1 means ours wins).
    fn advantage(&self) -> Option<f64> {
        let (a, b) = (value(&self.ours)?, value(&self.node)?);
        if a <= 0.0 || b <= 0.0 {
            return None;
        }
        Some(match self.better {
            Better::Lower => b / a,
            Better::Higher => a / b,
        })
    }
}

fn value(cell: &Cell) -> Option<f64> {
    match cell {
        Cell::Time(d) => Some(d.as_secs_f64()),
        Cell::Bytes(b) => Some(*b as f64),
        Cell::Rate(r) | Cell::RateNote(r, _) => Some(*r),
        Cell::Count(a, b) => Some((a + b) as f64),
        Cell::Int(n) => Some(*n as f64),
        Cell::Na | Cell::Missing(_) => None,
    }
}

pub fn show(cell: &Cell) -> String {
    match cell {
        Cell::Time(d) => show_time(*d),
        Cell::Bytes(b) if *b < 1024 * 1024 => format!("{:.1} KiB", *b as f64 / 1024.0),
        Cell::Bytes(b) => format!("{:.1} MiB", *b as f64 / (1024.0 * 1024.0)),
        Cell::Int(n) => n.to_string(),
        Cell::Rate(r) if *r >= 10_000.0 => format!("{:.0} k/s", r / 1000.0),
        Cell::Rate(r) => format!("{r:.0} /s"),
        Cell::RateNote(r, note) => format!("{} ({note})", show(&Cell::Rate(*r))),
        Cell::Count(refused, failed) => format!("{refused} refused, {failed} failed"),
        Cell::Na => "—".to_string(),
        Cell::Missing(why) => format!("not measured: {why}"),
    }
}

pub fn show_time(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns < 1_000 {
        format!("{ns} ns")
    } else if ns < 1_000_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.2} ms", ns as f64 / 1e6)
    } else {
        format!("{:.2} s", ns as f64 / 1e9)
    }
}

fn show_ratio(row: &Row) -> String {
    match row.advantage() {
        Some(x) if x >= 10.0 => format!("{x:.0}×"),
        Some(x) => format!("{x:.2}×"),
        None => "—".to_string(),
    }
}

/// A GitHub-flavoured markdown table.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str("| measure | ours (Rust) | Node OpenClaw | ours better by | target (ours) |\n");
    out.push_str("|---|---:|---:|---:|---|\n");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            r.metric,
            show(&r.ours),
            show(&r.node),
            show_ratio(r),
            r.target
        );
    }
    out
}

/// Percentile (nearest rank) of an unsorted sample.
pub fn percentile(samples: &[Duration], p: f64) -> Option<Duration> {
    if samples.is_empty() {
        return None;
    }
    let mut v = samples.to_vec();
    v.sort_unstable();
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    Some(v[rank.clamp(1, v.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile(&v, 50.0), Some(Duration::from_micros(50)));
        assert_eq!(percentile(&v, 99.0), Some(Duration::from_micros(99)));
        assert_eq!(percentile(&v[..1], 99.0), Some(Duration::from_micros(1)));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn advantage_is_oriented_by_direction() {
        let lower = Row::new(
            "x",
            Cell::Time(Duration::from_millis(1)),
            Cell::Time(Duration::from_millis(10)),
            Better::Lower,
        );
        assert_eq!(show_ratio(&lower), "10×");
        let higher = Row::new("y", Cell::Rate(200.0), Cell::Rate(100.0), Better::Higher);
        assert_eq!(show_ratio(&higher), "2.00×");
        let missing = Row::new(
            "z",
            Cell::Missing("n/a".into()),
            Cell::Rate(1.0),
            Better::Higher,
        );
        assert_eq!(show_ratio(&missing), "—");
    }
}
