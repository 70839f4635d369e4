//! Start-up recovery: replay every journal and the announce outbox, re-queue or end the runs
//! a crash interrupted, and start workers for sessions with work.

use super::*;

impl SessionManager {
    pub(super) fn recover(&self) -> Result<(), SessionError> {
        let sh = &self.shared;
        let dir = sh.dir.clone();
        // Compactions a crash interrupted: finished or discarded before any journal is read.
        journal::finish_compactions(&dir)?;
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| SessionError::Storage(format!("list {}: {e}", dir.display())))?;
        let mut interrupted: Vec<String> = Vec::new();
        {
            let mut inner = lock(&sh.inner);
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().and_then(|e| e.to_str()) != Some("jsonl") {
                    continue;
                }
                let records = journal::replay(&path)?;
                load_session(&mut inner, &path, records, &mut interrupted);
            }
            let pairs: Vec<(String, String)> = inner
                .sessions
                .iter()
                .filter_map(|(k, s)| s.spawned_by.clone().map(|p| (p, k.clone())))
                .collect();
            for (parent, child) in pairs {
                // A main session that only ever spawned has no journal yet: recreate it.
                if !inner.sessions.contains_key(&parent) {
                    if let Ok(p) = key::parse_key(&parent) {
                        if p.kind != KeyKind::Subagent {
                            let s = SessionState::new(&parent, p.agent_id, None, 0, now_ms());
                            inner.sessions.insert(parent.clone(), s);
                        }
                    }
                }
                if let Some(p) = inner.sessions.get_mut(&parent) {
                    p.children.push(child);
                }
            }
        }
        // The outbox: drop what was delivered, complete children whose `ended` never made it,
        // hand the rest to the parents.
        // Announce ids worth remembering: those whose outbox file could not be removed.
        let mut still_in_outbox = HashSet::new();
        for a in journal::read_outbox(&dir)? {
            let mut inner = lock(&sh.inner);
            let delivered = inner
                .sessions
                .get(&a.parent_key)
                .map(|p| p.delivered.contains(&a.announce_id));
            match delivered {
                Some(true) => {
                    if !journal::remove_outbox(&dir, &a.run_id) {
                        still_in_outbox.insert(a.announce_id.clone());
                    }
                }
                None => tracing::warn!(
                    parent = %a.parent_key, run = %a.run_id,
                    "announce for a parent session that no longer exists is kept in the outbox"
                ),
                Some(false) => {
                    let unfinished = inner
                        .runs
                        .get(&a.run_id)
                        .is_some_and(|r| !r.state.is_terminal());
                    if unfinished {
                        let rec = Record::Ended {
                            run_id: a.run_id.clone(),
                            status: a.status.clone(),
                            text: a.text.clone(),
                            error: a.error.clone(),
                            error_class: a.error_class.clone(),
                            retryable: false,
                            thread_id: None,
                            ts: a.ts,
                        };
                        let took = journal::append(&sh.journal_path(&a.child_key), &[rec])?;
                        sh.fsynced(took);
                        interrupted.retain(|r| r != &a.run_id);
                        if let Some(c) = inner.sessions.get_mut(&a.child_key) {
                            c.queue.retain(|q| q != &a.run_id);
                            c.last_run = Some((
                                a.run_id.clone(),
                                RunState::parse(&a.status).unwrap_or(RunState::Interrupted),
                            ));
                        }
                        inner.runs.remove(&a.run_id);
                    }
                    if let Some(p) = inner.sessions.get_mut(&a.parent_key) {
                        p.pending_announces.push(a);
                    }
                }
            }
        }
        // Interrupted runs past their attempts end now, explicitly.
        let max_attempts = sh.opts.max_attempts;
        for run_id in interrupted {
            let attempts = lock(&sh.inner).runs.get(&run_id).map(|r| r.attempts);
            if attempts.is_some_and(|a| a >= max_attempts) {
                {
                    let mut inner = lock(&sh.inner);
                    let key = inner.runs.get(&run_id).map(|r| r.session_key.clone());
                    if let Some(s) = key.and_then(|k| inner.sessions.get_mut(&k)) {
                        s.queue.retain(|q| q != &run_id);
                    }
                }
                let ending = Ending {
                    state: RunState::Interrupted,
                    text: None,
                    error: Some(format!(
                        "the gateway stopped during this run {max_attempts} times; it was not run again"
                    )),
                    class: Some(FailureClass::Interrupted),
                    retryable: false,
                    thread_id: None,
                };
                sh.finish_sync(&run_id, ending);
            }
        }
        for s in lock(&sh.inner).sessions.values_mut() {
            s.delivered.retain(|id| still_in_outbox.contains(id));
        }
        let keys = lock(&sh.inner).keys_with_work();
        for k in keys {
            sh.kick(&k);
        }
        Ok(())
    }
}

/// Build one session's in-memory state from its journal.
fn load_session(
    inner: &mut Inner,
    path: &Path,
    records: Vec<Record>,
    interrupted: &mut Vec<String>,
) {
    let mut it = records.into_iter();
    // A compacted journal starts with a `snapshot`: the identity plus the dropped state.
    let Some(snap) = it.next().and_then(|r| r.into_snapshot(0)) else {
        tracing::warn!(path = %path.display(), "journal without a session record; ignored");
        return;
    };
    let key = snap.key;
    if key::parse_key(&key).is_err() || key::file_stem(&key) != file_stem_of(path) {
        tracing::warn!(path = %path.display(), "journal names another session; ignored");
        return;
    }
    let mut s = SessionState::new(&key, snap.agent_id, snap.spawned_by, snap.depth, snap.ts);
    s.label = snap.label;
    s.cleanup = if snap.cleanup.as_deref() == Some("delete") {
        Cleanup::Delete
    } else {
        Cleanup::Keep
    };
    s.persisted = true;
    // A never-compacted journal's snapshot carries nothing dropped: these are no-ops then.
    s.updated_at = s.updated_at.max(snap.updated_at);
    s.thread_id = snap.thread_id;
    s.delivered.extend(snap.delivered);
    for r in it {
        match r {
            Record::Message {
                run_id,
                text,
                model,
                runtime,
                timeout_ms,
                ts,
            } => {
                let mut run = RunEntry::new(&key, text, ts);
                run.model = model;
                run.runtime = runtime;
                run.timeout_ms = timeout_ms;
                s.queue.push_back(run_id.clone());
                s.updated_at = s.updated_at.max(ts);
                inner.run_index.insert(run_id.clone(), key.clone());
                inner.runs.insert(run_id, run);
            }
            Record::Started {
                run_id,
                attempt,
                ts,
            } => {
                if let Some(run) = inner.runs.get_mut(&run_id) {
                    run.attempts = attempt;
                    run.started_at = Some(ts);
                    run.state = RunState::Running;
                }
            }
            Record::Ended {
                run_id,
                status,
                ts,
                thread_id,
                ..
            } => {
                if thread_id.is_some() {
                    s.thread_id = thread_id;
                }
                s.queue.retain(|q| q != &run_id);
                let state = RunState::parse(&status).unwrap_or(RunState::Interrupted);
                s.last_run = Some((run_id.clone(), state));
                s.updated_at = s.updated_at.max(ts);
                // Finished runs stay on disk only; `run()` reads them back.
                inner.runs.remove(&run_id);
            }
            Record::Announce(a) => {
                s.updated_at = s.updated_at.max(a.ts);
                s.delivered.insert(a.announce_id);
            }
            Record::Session { .. } | Record::Snapshot(_) => {}
        }
    }
    for q in &s.queue {
        if let Some(run) = inner.runs.get_mut(q) {
            if run.state == RunState::Running {
                // Was in flight when the process stopped: queued again for another attempt.
                run.state = RunState::Queued;
                interrupted.push(q.clone());
            }
        }
    }
    inner.sessions.insert(key, s);
}

fn file_stem_of(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}
