//! Compaction of long-lived sessions' journals (`session.retention.journalMaxBytes`,
//! `journalKeepRuns`): a journal past the limit keeps a `snapshot` record, every unfinished
//! run, the newest `journalKeepRuns` finished runs and the announces after the oldest kept run;
//! the rest of the transcript moves to `sessions/archive/` (see `journal::compact` for the
//! crash-safe steps). Memory shrinks with it: the dropped runs leave the run-id index (unless
//! they are still in the cache of recent runs, until they age out of it) and only the announce
//! ids that could still be offered again stay in `delivered`.
//!
//! A journal is compacted only while no run of its session executes, under its journal lock,
//! so nothing is appended meanwhile. Queued runs and pending announces do not hold it back:
//! neither has records that compaction could drop (a queued run's records are kept, a pending
//! announce is not in the journal yet), and a parent whose children keep finishing would
//! otherwise never be compacted. The sweeper checks every live session once a minute, and a
//! session's worker checks its own journal after each announce it records and whenever it
//! runs out of work.

use super::*;
use crate::limits::Retention;

/// What a compaction computed from a journal.
struct Plan {
    /// The new journal: the snapshot, then the kept records.
    records: Vec<Record>,
    /// Run ids whose records moved to the archive.
    dropped_runs: Vec<String>,
    /// Announce ids still de-duplicated after compaction (the snapshot's and the kept ones).
    delivered: HashSet<String>,
}

/// Whether a journal of `size` bytes is due: past `max`, and, when the last compaction could
/// not get it below `max` (its kept tail alone is larger), grown by half of `max` since.
fn due(size: u64, max: u64, floor: u64) -> bool {
    size > max.max(floor.saturating_add(max / 2))
}

/// Split `records` (a whole journal) into what stays and what goes. `None`: nothing to drop
/// (at most `keep` finished runs), or not a journal this code understands (no identity first).
/// `outbox_has(run_id)` tells whether an announce's outbox file still exists.
fn plan(
    records: Vec<Record>,
    keep: usize,
    now: u64,
    segment: &str,
    remembered: &HashSet<String>,
    outbox_has: impl Fn(&str) -> bool,
) -> Option<Plan> {
    let mut it = records.into_iter();
    let mut snap = it.next()?.into_snapshot(now)?;
    let rest: Vec<Record> = it.collect();
    let mut ended: HashSet<&str> = HashSet::new();
    for r in &rest {
        if let Record::Ended { run_id, .. } = r {
            ended.insert(run_id);
        }
    }
    // Runs in the order of their messages (a session runs them FIFO), with that position.
    let mut finished: Vec<(usize, &str)> = Vec::new();
    let mut unfinished: Vec<(usize, &str)> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for (i, r) in rest.iter().enumerate() {
        if let Record::Message { run_id, .. } = r {
            if seen.insert(run_id) {
                if ended.contains(run_id.as_str()) {
                    finished.push((i, run_id));
                } else {
                    unfinished.push((i, run_id));
                }
            }
        }
    }
    // Announces count on their own: a parent of shell spawns has no runs of its own, only
    // its children's results, and those must be bounded too.
    let announces: Vec<usize> = rest
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r, Record::Announce(_)))
        .map(|(i, _)| i)
        .collect();
    if finished.len() <= keep && announces.len() <= keep {
        return None;
    }
    let split = finished.len().saturating_sub(keep);
    let kept: HashSet<&str> = finished[split..]
        .iter()
        .chain(unfinished.iter())
        .map(|(_, id)| *id)
        .collect();
    // Announces after the oldest kept run, and never more than the newest `keep` of them.
    let run_cut = finished[split..]
        .iter()
        .chain(unfinished.iter())
        .map(|(i, _)| *i)
        .min();
    let announce_cut = announces.len().checked_sub(keep + 1).map(|i| announces[i]);
    let announce_kept =
        |i: usize| run_cut.is_none_or(|c| i > c) && announce_cut.is_none_or(|c| i > c);
    let dropped_runs: Vec<String> = finished[..split]
        .iter()
        .map(|(_, id)| id.to_string())
        .collect();
    let mut dropped_announces: Vec<String> = std::mem::take(&mut snap.delivered);
    let mut out = Vec::with_capacity(rest.len() - split);
    let mut delivered: HashSet<String> = HashSet::new();
    for (i, r) in rest.iter().enumerate() {
        let keep_it = match r {
            Record::Message { run_id, .. }
            | Record::Started { run_id, .. }
            | Record::Ended { run_id, .. } => kept.contains(run_id.as_str()),
            Record::Announce(_) => announce_kept(i),
            // A second identity record is not expected; the snapshot replaces it.
            Record::Session { .. } | Record::Snapshot(_) => false,
        };
        if keep_it {
            if let Record::Announce(a) = r {
                delivered.insert(a.announce_id.clone());
            }
            out.push(i);
            continue;
        }
        if r.is_transcript() {
            snap.seq_base += 1;
        }
        match r {
            Record::Message { ts, .. } | Record::Started { ts, .. } => {
                snap.updated_at = snap.updated_at.max(*ts);
            }
            Record::Ended { thread_id, ts, .. } => {
                if thread_id.is_some() {
                    snap.thread_id = thread_id.clone();
                }
                snap.updated_at = snap.updated_at.max(*ts);
            }
            Record::Announce(a) => {
                snap.updated_at = snap.updated_at.max(a.ts);
                dropped_announces.push(a.announce_id.clone());
            }
            Record::Session { .. } | Record::Snapshot(_) => {}
        }
    }
    // An announce can be offered again only while its outbox file exists (the parent deletes
    // it after recording the announce); those ids stay, the others are done for good.
    snap.delivered = dropped_announces
        .into_iter()
        .filter(|id| {
            remembered.contains(id)
                || outbox_has(id.strip_prefix("announce:").unwrap_or(id.as_str()))
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    delivered.extend(snap.delivered.iter().cloned());
    snap.generation += 1;
    snap.compacted_at = now;
    snap.segment = segment.to_string();
    let mut records = Vec::with_capacity(out.len() + 1);
    records.push(Record::Snapshot(snap));
    let mut rest = rest.into_iter().map(Some).collect::<Vec<_>>();
    for i in out {
        if let Some(r) = rest[i].take() {
            records.push(r);
        }
    }
    Some(Plan {
        records,
        dropped_runs,
        delivered,
    })
}

impl Shared {
    /// Compact every live session whose journal is due. Returns how many were compacted.
    pub(super) async fn compact_due(self: &Arc<Self>, retention: Retention, now: u64) -> usize {
        let Some(max) = retention.journal_max_bytes else {
            return 0;
        };
        let candidates: Vec<(String, u64)> = {
            let inner = lock(&self.inner);
            if inner.closed {
                return 0;
            }
            inner
                .sessions
                .iter()
                .filter(|(_, s)| s.persisted && s.running.is_none())
                .map(|(k, s)| (k.clone(), s.compact_floor))
                .collect()
        };
        let mut n = 0;
        for (key, floor) in candidates {
            let path = self.journal_path(&key);
            let size = blocking(move || Ok(std::fs::metadata(&path).map_or(0, |m| m.len())))
                .await
                .unwrap_or(0);
            if !due(size, max, floor) {
                continue;
            }
            match self
                .compact(&key, retention.journal_keep_runs, now, None)
                .await
            {
                Ok(true) => n += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(session = %key, error = %e, "cannot compact a session journal; it stays as it is")
                }
            }
        }
        n
    }

    /// What a worker does when it runs out of work: compact its session's journal if due.
    pub(super) async fn compact_if_due(self: &Arc<Self>, key: &str) {
        let retention = Retention::from_config(&lock(&self.config));
        let Some(max) = retention.journal_max_bytes else {
            return;
        };
        let floor = match lock(&self.inner).sessions.get(key) {
            Some(s) if s.persisted => s.compact_floor,
            _ => return,
        };
        let path = self.journal_path(key);
        let size = blocking(move || Ok(std::fs::metadata(&path).map_or(0, |m| m.len())))
            .await
            .unwrap_or(0);
        if !due(size, max, floor) {
            return;
        }
        if let Err(e) = self
            .compact(key, retention.journal_keep_runs, now_ms(), None)
            .await
        {
            tracing::warn!(session = %key, error = %e, "cannot compact a session journal; it stays as it is");
        }
    }

    /// Compact `key`'s journal now, keeping `keep` finished runs. Returns whether it was
    /// compacted (false: not idle, or nothing to drop). `crash_after` (tests) stops the
    /// on-disk steps after that many, as a crash would, and leaves memory untouched.
    pub(super) async fn compact(
        self: &Arc<Self>,
        key: &str,
        keep: usize,
        now: u64,
        crash_after: Option<u8>,
    ) -> Result<bool, SessionError> {
        let Some(jl) = lock(&self.inner)
            .sessions
            .get(key)
            .map(|s| s.journal.clone())
        else {
            return Ok(false);
        };
        let _g = jl.lock().await;
        let remembered = {
            let inner = lock(&self.inner);
            match inner.sessions.get(key) {
                Some(s) if !inner.closed && s.persisted && s.running.is_none() => {
                    s.delivered.clone()
                }
                _ => return Ok(false),
            }
        };
        let dir = self.dir.clone();
        let stem = key::file_stem(key);
        let path = self.journal_path(key);
        let done = blocking(move || {
            let records = journal::replay(&path)?;
            let segment = journal::segment_name(&dir, &stem, now);
            let plan = plan(records, keep, now, &segment, &remembered, |run_id| {
                journal::outbox_path(&dir, run_id).exists()
            });
            let Some(plan) = plan else {
                let size = std::fs::metadata(&path).map_or(0, |m| m.len());
                return Ok((None, size));
            };
            journal::compact(&dir, &stem, &segment, &plan.records, crash_after)?;
            let size = std::fs::metadata(&path).map_or(0, |m| m.len());
            Ok((Some(plan), size))
        })
        .await?;
        if crash_after.is_some() {
            return Ok(done.0.is_some());
        }
        let (plan, size) = done;
        let mut inner = lock(&self.inner);
        let inner = &mut *inner;
        let Some(s) = inner.sessions.get_mut(key) else {
            return Ok(plan.is_some());
        };
        s.compact_floor = size;
        let Some(plan) = plan else {
            return Ok(false);
        };
        s.delivered.retain(|id| plan.delivered.contains(id));
        for run in plan.dropped_runs {
            if inner.run_index.get(&run).map(String::as_str) != Some(key) {
                continue;
            }
            if inner.runs.contains_key(&run) {
                // Still readable from the cache of recent runs: it leaves the index when it
                // ages out of the cache (`apply_ending`).
                inner.index_until_uncached.insert(run);
            } else {
                inner.run_index.remove(&run);
            }
        }
        tracing::info!(session = %key, bytes = size, "session journal compacted");
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_needs_growth_past_an_oversized_tail() {
        assert!(!due(100, 100, 0));
        assert!(due(101, 100, 0));
        // The last compaction left 300 bytes (more than the limit): wait for 50 more.
        assert!(!due(340, 100, 300));
        assert!(due(351, 100, 300));
    }
}
