//! Retention of finished subagent sessions (`session.retention.*`): after
//! `archiveAfterMinutes` a finished child's journal moves to `sessions/archive/` and the child
//! leaves memory (its session record and its runs' index entries; finished runs live on only
//! in the bounded cache of recent runs); archived journals are
//! then deleted by age and count. Together this bounds both memory and disk per finished run.
//!
//! Crash safety: archiving is one `rename` (the journal is either live or archived, never both
//! and never lost), pruning one `unlink` per file; a crash between steps leaves a state that
//! the next start or sweep completes. Memory is released before the rename, under the
//! journal's lock, so no message can be appended to a journal on its way out.

use super::*;
use crate::limits::Retention;

/// How often the sweeper applies the policy.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// A subagent session with nothing left to do: no run queued or running, no result
/// of its own or of a child still to be recorded, no children left in memory.
fn finished_child(inner: &Inner, key: &str, s: &SessionState) -> bool {
    s.depth > 0
        && !s.is_active()
        && s.pending_announces.is_empty()
        && s.children.is_empty()
        && !s
            .spawned_by
            .as_ref()
            .and_then(|p| inner.sessions.get(p))
            .is_some_and(|p| p.pending_announces.iter().any(|a| a.child_key == key))
}

impl Shared {
    /// The manager-owned sweeper: one pass every [`SWEEP_EVERY`] until shutdown.
    pub(super) async fn sweeper(self: Arc<Self>) {
        let mut shutdown = self.shutdown_tx.subscribe();
        loop {
            tokio::select! {
                _ = until_set(&mut shutdown) => return,
                _ = tokio::time::sleep(SWEEP_EVERY) => {}
            }
            let report = self.apply_retention(now_ms()).await;
            if report != RetentionReport::default() {
                tracing::info!(
                    archived = report.archived,
                    pruned = report.pruned,
                    compacted = report.compacted,
                    "session retention"
                );
            }
        }
    }

    /// One retention pass as of `now` (ms since the epoch).
    pub(super) async fn apply_retention(self: &Arc<Self>, now: u64) -> RetentionReport {
        let retention = Retention::from_config(&lock(&self.config));
        let mut report = RetentionReport::default();
        if let Some(after) = retention.archive_after {
            let cutoff = now.saturating_sub(after.as_millis() as u64);
            // Children before parents: a parent becomes finished once its children are gone,
            // so a chain is archived within one pass.
            loop {
                let due: Vec<String> = {
                    let inner = lock(&self.inner);
                    if inner.closed {
                        break;
                    }
                    inner
                        .sessions
                        .iter()
                        .filter(|(k, s)| s.updated_at <= cutoff && finished_child(&inner, k, s))
                        .map(|(k, _)| k.clone())
                        .collect()
                };
                if due.is_empty() {
                    break;
                }
                let archived = self.archive(&due, now).await;
                report.archived += archived;
                if archived < due.len() {
                    break;
                }
            }
        }
        report.compacted = self.compact_due(retention, now).await;
        let dir = self.dir.join("archive");
        report.pruned = blocking(move || Ok(prune_archive(&dir, retention, now)))
            .await
            .unwrap_or(0);
        report
    }

    /// Archive finished children: for each, under its journal lock, check it is still finished
    /// and drop it from memory, then move its journal to `archive/`. Returns how many moved.
    pub(super) async fn archive(&self, keys: &[String], now: u64) -> usize {
        let mut gone: HashSet<String> = HashSet::new();
        for child in keys {
            let Some(jl) = lock(&self.inner)
                .sessions
                .get(child)
                .map(|s| s.journal.clone())
            else {
                continue;
            };
            let _g = jl.lock().await;
            let removed = {
                let mut inner = lock(&self.inner);
                let finished = inner
                    .sessions
                    .get(child)
                    .is_some_and(|s| finished_child(&inner, child, s));
                if !finished {
                    continue;
                }
                let removed = inner.sessions.remove(child);
                if let Some(p) = removed
                    .as_ref()
                    .and_then(|c| c.spawned_by.clone())
                    .and_then(|p| inner.sessions.get_mut(&p))
                {
                    p.children.retain(|c| c != child);
                }
                removed
            };
            let Some(state) = removed else { continue };
            let from = self.journal_path(child);
            let (dir, stem) = (self.dir.clone(), key::file_stem(child));
            let moved = blocking(move || {
                // A free name: a compacted session already has segments of its stem there.
                let to = dir
                    .join("archive")
                    .join(journal::segment_name(&dir, &stem, now));
                openclaw_rs_state::ensure_dir(to.parent().unwrap_or(Path::new(".")))?;
                match std::fs::rename(&from, &to) {
                    Ok(()) => Ok(()),
                    // Never written (a session record still only in memory): nothing to move.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(SessionError::Storage(format!(
                        "archive {}: {e}",
                        from.display()
                    ))),
                }
            })
            .await;
            if let Err(e) = moved {
                // Still live on disk: put it back in memory, as the next start would.
                tracing::warn!(session = %child, error = %e, "cannot archive a finished subagent session; it stays live");
                let mut inner = lock(&self.inner);
                if let Some(p) = state
                    .spawned_by
                    .clone()
                    .and_then(|p| inner.sessions.get_mut(&p))
                {
                    p.children.push(child.clone());
                }
                inner.sessions.insert(child.clone(), state);
                continue;
            }
            self.emit(SessionEvent::Changed(ChangedEvent {
                session_key: child.clone(),
                reason: "deleted",
                run_id: None,
                ts: now_ms(),
                session: state.info(child),
            }));
            gone.insert(child.clone());
        }
        if !gone.is_empty() {
            // One pass over the run index for the whole batch. Finished runs still in the
            // bounded cache of recent runs stay readable until they age out of it; after that
            // their ids are unknown (and an idempotency key may be used again).
            lock(&self.inner).run_index.retain(|_, k| !gone.contains(k));
        }
        gone.len()
    }
}

/// When an archived journal was archived: the `<ms>` of `<stem>.<ms>.jsonl`, else its mtime.
fn archived_at(path: &Path) -> u64 {
    let from_name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.rsplit_once('.'))
        .and_then(|(_, ms)| ms.parse::<u64>().ok());
    from_name.unwrap_or_else(|| {
        std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as u64)
    })
}

/// Delete archived journals older than the policy's age, then the oldest beyond its count.
/// Blocking; returns how many were deleted.
fn prune_archive(dir: &Path, retention: Retention, now: u64) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut files: Vec<(u64, PathBuf)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("jsonl"))
        .map(|p| (archived_at(&p), p))
        .collect();
    files.sort();
    let max_age = retention.archived_max_age.map(|d| d.as_millis() as u64);
    let too_many = files.len().saturating_sub(retention.max_archived as usize);
    let mut pruned = 0;
    for (i, (at, path)) in files.iter().enumerate() {
        let old = max_age.is_some_and(|age| now.saturating_sub(*at) > age);
        if i < too_many || old {
            match std::fs::remove_file(path) {
                Ok(()) => pruned += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot delete an archived journal")
                }
            }
        }
    }
    pruned
}
