//! The per-session worker: delivers pending announces, then runs queued messages one at a time
//! (subagent runs through the lane), and records each terminal state durably.

use super::*;

/// What the worker should do next.
enum Step {
    Announce(Announce),
    Run(String),
    Idle,
}

impl Shared {
    /// Make sure a worker runs for `key` if it has anything to do.
    pub(super) fn kick(self: &Arc<Self>, key: &str) {
        {
            let mut inner = lock(&self.inner);
            if inner.closed {
                return;
            }
            let Some(s) = inner.sessions.get_mut(key) else {
                return;
            };
            if s.worker {
                return;
            }
            s.worker = true;
        }
        let me = self.clone();
        let key = key.to_string();
        let mut tasks = lock(&self.tasks);
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move { me.worker(key).await });
    }

    async fn worker(self: Arc<Self>, key: String) {
        let mut shutdown = self.shutdown_tx.subscribe();
        let mut backoff = Duration::from_millis(100);
        loop {
            let step = {
                let mut inner = lock(&self.inner);
                let draining = inner.draining && !parent_busy(&inner, &key);
                let closed = inner.closed;
                match inner.sessions.get_mut(&key) {
                    None => return,
                    Some(_) if closed => {
                        if let Some(s) = inner.sessions.get_mut(&key) {
                            s.worker = false;
                        }
                        return;
                    }
                    Some(s) => {
                        if let Some(a) = s.pending_announces.first() {
                            Step::Announce(a.clone())
                        } else if draining || s.queue.is_empty() {
                            s.worker = false;
                            Step::Idle
                        } else {
                            let id = s.queue.pop_front();
                            s.running = id.clone();
                            id.map(Step::Run).unwrap_or(Step::Idle)
                        }
                    }
                }
            };
            match step {
                Step::Idle => {
                    // Out of work: the moment to bound the journal (nothing runs or waits).
                    self.compact_if_due(&key).await;
                    return;
                }
                Step::Announce(a) => match self.deliver(&key, a).await {
                    Ok(()) => {
                        backoff = Duration::from_millis(100);
                        // A parent whose children keep finishing may never run out of work.
                        self.compact_if_due(&key).await;
                    }
                    Err(e) => {
                        tracing::warn!(session = %key, error = %e, "announce delivery failed; retrying");
                        tokio::select! {
                            _ = tokio::time::sleep(backoff) => {}
                            _ = until_set(&mut shutdown) => return,
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                    }
                },
                Step::Run(run_id) => {
                    if !self.run_one(&key, &run_id, &mut shutdown).await {
                        return;
                    }
                }
            }
        }
    }

    /// Record an announce in `key`'s journal (once), then drop it from the outbox.
    async fn deliver(self: &Arc<Self>, key: &str, a: Announce) -> Result<(), SessionError> {
        let jl = lock(&self.inner)
            .sessions
            .get(key)
            .map(|s| s.journal.clone())
            .ok_or_else(|| SessionError::NotFound(format!("unknown session {key:?}")))?;
        // Decide what to write while holding the journal lock, so a concurrent `send` cannot
        // also write the `session` record.
        let guard = jl.lock().await;
        let (already, records) = {
            let inner = lock(&self.inner);
            let s = inner
                .sessions
                .get(key)
                .ok_or_else(|| SessionError::NotFound(format!("unknown session {key:?}")))?;
            let mut records = Vec::with_capacity(2);
            if !s.persisted {
                records.push(s.session_record(key));
            }
            records.push(Record::Announce(a.clone()));
            (s.delivered.contains(&a.announce_id), records)
        };
        if !already {
            let path = self.journal_path(key);
            let took = blocking(move || journal::append(&path, &records)).await?;
            self.fsynced(took);
        }
        let child_to_archive = {
            let mut inner = lock(&self.inner);
            if let Some(s) = inner.sessions.get_mut(key) {
                s.persisted = true;
                s.delivered.insert(a.announce_id.clone());
                s.pending_announces
                    .retain(|p| p.announce_id != a.announce_id);
                s.updated_at = now_ms();
            }
            drop(guard);
            inner
                .sessions
                .get(&a.child_key)
                .filter(|c| c.cleanup == Cleanup::Delete && !c.is_active())
                .map(|_| a.child_key.clone())
        };
        let dir = self.dir.clone();
        let run_id = a.run_id.clone();
        let removed = blocking(move || Ok(journal::remove_outbox(&dir, &run_id)))
            .await
            .unwrap_or(false);
        if removed {
            // The announce can never come back: its id need not be remembered any more.
            if let Some(s) = lock(&self.inner).sessions.get_mut(key) {
                s.delivered.remove(&a.announce_id);
            }
        }
        if !already {
            self.emit_announce(key, &a);
        }
        if let Some(child) = child_to_archive {
            // `cleanup: "delete"`: archived as soon as its result is recorded.
            self.archive(&[child], now_ms()).await;
        }
        Ok(())
    }

    fn emit_announce(&self, parent: &str, a: &Announce) {
        let (agent_id, seq_origin) = {
            let inner = lock(&self.inner);
            (
                inner
                    .sessions
                    .get(parent)
                    .map(|s| s.agent_id.clone())
                    .unwrap_or_default(),
                inner.runs.get(&a.run_id).and_then(|r| r.origin.clone()),
            )
        };
        self.emit(SessionEvent::Agent(AgentEvent {
            run_id: a.run_id.clone(),
            session_key: parent.to_string(),
            agent_id,
            stream: "announce".into(),
            data: json!({
                "announceId": a.announce_id,
                "childSessionKey": a.child_key,
                "status": a.status,
                "text": a.text,
                "error": a.error,
                "errorClass": a.error_class,
                "label": a.label,
            }),
            seq: 0,
            ts: a.ts,
            origin: seq_origin,
        }));
        self.emit_changed(parent, "announce", Some(&a.run_id));
    }

    /// Execute one run to its end. Returns false when the worker must stop (shutdown).
    async fn run_one(
        self: &Arc<Self>,
        key: &str,
        run_id: &str,
        shutdown: &mut watch::Receiver<bool>,
    ) -> bool {
        let (cancel_tx, cancel_rx) = watch::channel(false);
        let setup = {
            let mut inner = lock(&self.inner);
            let inner = &mut *inner;
            let is_sub = inner.sessions.get(key).is_some_and(|s| s.depth > 0);
            inner.runs.get_mut(run_id).map(|run| {
                run.cancel = Some(cancel_tx.clone());
                (is_sub, run.abort_requested)
            })
        };
        let Some((is_sub, already_aborted)) = setup else {
            if let Some(s) = lock(&self.inner).sessions.get_mut(key) {
                s.running = None;
                s.started = false;
            }
            return true;
        };
        let mut cancel_watch = cancel_rx.clone();
        if already_aborted {
            self.finish(run_id, aborted_before_start()).await;
            return true;
        }
        let _lane = if is_sub {
            tokio::select! {
                g = self.acquire_lane() => match g {
                    Some(g) => Some(g),
                    None => return false,
                },
                _ = until_set(&mut cancel_watch) => {
                    self.finish(run_id, aborted_before_start()).await;
                    return true;
                }
                _ = until_set(shutdown) => return false,
            }
        } else {
            None
        };
        let prepared = {
            let mut inner = lock(&self.inner);
            let inner = &mut *inner;
            let (agent_id, spawned_by, thread_id) = match inner.sessions.get(key) {
                Some(s) => (
                    s.agent_id.clone(),
                    s.spawned_by.clone(),
                    s.thread_id.clone(),
                ),
                None => return true,
            };
            let draining = inner.closed || (inner.draining && !parent_busy(inner, key));
            match inner.runs.get_mut(run_id) {
                Some(run) if run.state.is_terminal() => None,
                Some(_) if draining => {
                    // A restart drain began while this run waited for a lane slot: it goes
                    // back to the head of the queue and starts after the restart.
                    if let Some(s) = inner.sessions.get_mut(key) {
                        s.running = None;
                        s.started = false;
                        s.queue.push_front(run_id.to_string());
                    }
                    return true;
                }
                Some(run) => {
                    run.attempts += 1;
                    run.state = RunState::Running;
                    run.started_at = Some(now_ms());
                    Some((
                        run.attempts,
                        run.text.clone(),
                        run.model.clone(),
                        run.runtime.clone(),
                        run.timeout_ms,
                        agent_id,
                        spawned_by,
                        thread_id,
                    ))
                }
                None => None,
            }
        };
        let Some((attempt, task, model, runtime, timeout_ms, agent_id, spawned_by, thread_id)) =
            prepared
        else {
            if let Some(s) = lock(&self.inner).sessions.get_mut(key) {
                s.running = None;
                s.started = false;
            }
            return true;
        };
        let started = Record::Started {
            run_id: run_id.to_string(),
            attempt,
            ts: now_ms(),
        };
        let jl = lock(&self.inner)
            .sessions
            .get(key)
            .map(|s| s.journal.clone());
        if let Some(jl) = jl {
            let _g = jl.lock().await;
            let path = self.journal_path(key);
            match blocking(move || journal::append(&path, &[started])).await {
                Ok(took) => self.fsynced(took),
                Err(e) => tracing::error!(run = %run_id, error = %e, "cannot record run start"),
            }
        }
        if let Some(s) = lock(&self.inner).sessions.get_mut(key) {
            s.started = true;
        }
        self.emit_changed(key, "run.started", Some(run_id));
        self.emit_run_status(run_id, "started");
        self.emit_agent(
            run_id,
            "lifecycle",
            json!({"phase": "start", "attempt": attempt}),
        );

        let (runtime_name, model, cwd) = self.resolve_runtime(&agent_id, runtime.as_deref(), model);
        let timeout = timeout_ms
            .map(Duration::from_millis)
            .unwrap_or(self.opts.default_run_timeout);
        let req = ExecRequest {
            run_id: run_id.to_string(),
            session_key: key.to_string(),
            agent_id,
            task,
            model,
            runtime: runtime_name,
            cwd,
            timeout,
            spawned_by,
            attempt,
            resume_thread_id: thread_id,
            spawner: SpawnHandle::new(
                Arc::downgrade(self) as Weak<dyn SpawnTarget>,
                key.to_string(),
                lock(&self.inner)
                    .runs
                    .get(run_id)
                    .and_then(|r| r.origin.clone()),
                Some((run_id.to_string(), Arc::new(AtomicU32::new(0)))),
            ),
        };
        let (ev_tx, mut ev_rx) = mpsc::channel::<ExecEvent>(256);
        let mut fut = self.executor.execute(req, ev_tx, Cancel(cancel_rx));
        let deadline = Instant::now() + timeout;
        let mut grace_until: Option<Instant> = None;
        let mut timed_out = false;
        let mut events_open = true;
        let mut streamed = String::new();
        let result: Option<Result<crate::executor::ExecOutcome, ExecError>> = loop {
            tokio::select! {
                r = &mut fut => break Some(r),
                ev = ev_rx.recv(), if events_open => match ev {
                    Some(ev) => self.forward_exec_event(run_id, ev, &mut streamed),
                    None => events_open = false,
                },
                _ = tokio::time::sleep_until(deadline), if grace_until.is_none() => {
                    timed_out = true;
                    let _ = cancel_tx.send(true);
                    grace_until = Some(Instant::now() + CANCEL_GRACE);
                }
                _ = until_set(&mut cancel_watch), if grace_until.is_none() => {
                    grace_until = Some(Instant::now() + CANCEL_GRACE);
                }
                _ = tokio::time::sleep_until(grace_until.unwrap_or(deadline)), if grace_until.is_some() => {
                    break None;
                }
                _ = until_set(shutdown) => {
                    // Dropped without an `ended` record: the next start re-runs it.
                    let _ = cancel_tx.send(true);
                    drop(fut);
                    return false;
                }
            }
        };
        drop(fut);
        while let Ok(ev) = ev_rx.try_recv() {
            self.forward_exec_event(run_id, ev, &mut streamed);
        }
        let aborted = lock(&self.inner)
            .runs
            .get(run_id)
            .is_some_and(|r| r.abort_requested);
        let secs = timeout.as_secs_f64();
        let ending = match result {
            _ if aborted => Ending {
                state: RunState::Aborted,
                text: (!streamed.is_empty()).then_some(streamed),
                error: Some("aborted".into()),
                class: None,
                retryable: false,
                thread_id: None,
            },
            Some(Ok(out)) if !timed_out => Ending {
                state: RunState::Completed,
                text: Some(if out.final_text.is_empty() {
                    streamed
                } else {
                    out.final_text
                }),
                error: None,
                class: None,
                retryable: false,
                thread_id: out.thread_id,
            },
            Some(Err(e)) if !timed_out && e.class.reported() != FailureClass::Timeout => Ending {
                state: if e.class.reported() == FailureClass::Interrupted {
                    RunState::Interrupted
                } else {
                    RunState::Failed
                },
                text: (!streamed.is_empty()).then_some(streamed),
                error: Some(e.message),
                // Clients see the eight reported classes (finer ones fold).
                class: Some(e.class.reported()),
                retryable: e.retryable,
                thread_id: None,
            },
            _ => Ending {
                state: RunState::Timeout,
                text: (!streamed.is_empty()).then_some(streamed),
                error: Some(format!("run timed out after {secs:.0} s")),
                class: Some(FailureClass::Timeout),
                retryable: false,
                thread_id: None,
            },
        };
        self.finish(run_id, ending).await;
        true
    }

    fn forward_exec_event(&self, run_id: &str, ev: ExecEvent, streamed: &mut String) {
        match ev {
            ExecEvent::Delta { text } => {
                if streamed.len() < MAX_TEXT_BYTES {
                    streamed.push_str(&text);
                }
                self.emit_agent(run_id, "assistant", json!({"delta": text}));
                if let Some(mut ev) = self.chat_event(run_id, ChatState::Delta) {
                    ev.delta_text = Some(text);
                    self.emit(SessionEvent::Chat(ev));
                }
            }
            ExecEvent::Item { kind, data } => {
                self.emit_agent(run_id, "item", json!({"kind": kind, "data": data}));
            }
            ExecEvent::Status { phase, message } => {
                self.emit_agent(
                    run_id,
                    "lifecycle",
                    json!({"phase": phase, "message": message}),
                );
                self.emit_run_status(run_id, &phase);
            }
        }
    }

    /// Runtime name, model and working directory for a run: each from the run, else the
    /// agent's entry, else `agents.defaults` (runtime finally `embedded`).
    fn resolve_runtime(
        &self,
        agent_id: &str,
        requested: Option<&str>,
        model: Option<String>,
    ) -> (String, Option<String>, PathBuf) {
        let cfg = lock(&self.config).clone();
        let entry = cfg.agents.entries.get(agent_id);
        let model = model
            .or_else(|| entry.and_then(|e| e.model.clone()))
            .or_else(|| cfg.agents.defaults.model.clone());
        let runtime = requested
            .map(str::to_string)
            .or_else(|| entry.and_then(|e| e.runtime.clone()))
            .or_else(|| cfg.agents.defaults.runtime.clone())
            .unwrap_or_else(|| DEFAULT_RUNTIME.to_string());
        let cwd = entry
            .and_then(|e| e.workspace.clone())
            .or_else(|| cfg.agents.defaults.workspace.clone())
            .unwrap_or_else(|| self.opts.workspace.clone());
        (runtime, model, cwd)
    }

    async fn acquire_lane(self: &Arc<Self>) -> Option<LaneGuard> {
        loop {
            let notified = self.lane_notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut inner = lock(&self.inner);
                if inner.closed {
                    return None;
                }
                if inner.lane_in_use < inner.limits.max_concurrent_subagent_runs {
                    inner.lane_in_use += 1;
                    return Some(LaneGuard {
                        shared: self.clone(),
                    });
                }
            }
            notified.await;
        }
    }

    /// Record a terminal state: outbox first (children), then `ended`, then memory and events.
    pub(super) async fn finish(self: &Arc<Self>, run_id: &str, ending: Ending) {
        let jl = {
            let inner = lock(&self.inner);
            inner
                .runs
                .get(run_id)
                .and_then(|r| inner.sessions.get(&r.session_key))
                .map(|s| s.journal.clone())
        };
        let guard = match jl {
            Some(jl) => Some(jl.lock_owned().await),
            None => None,
        };
        let me = self.clone();
        let id = run_id.to_string();
        let e = ending.clone();
        let persisted = tokio::task::spawn_blocking(move || me.persist_ending(&id, &e)).await;
        drop(guard);
        let parent = match persisted {
            Ok(Ok(parent)) => parent,
            Ok(Err(e)) => {
                tracing::error!(run = %run_id, error = %e, "cannot record run end");
                None
            }
            Err(e) => {
                tracing::error!(run = %run_id, error = %e, "run end writer failed");
                None
            }
        };
        self.apply_ending(run_id, ending);
        if let Some(parent) = parent {
            self.kick(&parent);
        }
    }

    /// `finish` without a runtime (start-up recovery).
    pub(super) fn finish_sync(self: &Arc<Self>, run_id: &str, ending: Ending) {
        match self.persist_ending(run_id, &ending) {
            Ok(_) => {}
            Err(e) => tracing::error!(run = %run_id, error = %e, "cannot record run end"),
        }
        self.apply_ending(run_id, ending);
    }

    /// Blocking: write the outbox entry (children) and the `ended` record. Returns the parent
    /// that now has a pending announce.
    fn persist_ending(&self, run_id: &str, e: &Ending) -> Result<Option<String>, SessionError> {
        let ts = now_ms();
        let (key, parent, label) = {
            let inner = lock(&self.inner);
            let run = inner
                .runs
                .get(run_id)
                .ok_or_else(|| SessionError::NotFound(format!("unknown run {run_id:?}")))?;
            let s = inner.sessions.get(&run.session_key);
            (
                run.session_key.clone(),
                s.and_then(|s| s.spawned_by.clone()),
                s.and_then(|s| s.label.clone()),
            )
        };
        let text = e.text.clone().map(cap_text);
        let class = e.class.map(|c| c.as_str().to_string());
        let mut pending_parent = None;
        if let Some(parent) = parent {
            let a = Announce {
                announce_id: format!("announce:{run_id}"),
                parent_key: parent.clone(),
                child_key: key.clone(),
                run_id: run_id.to_string(),
                status: e.state.as_str().to_string(),
                text: text.clone(),
                error: e.error.clone(),
                error_class: class.clone(),
                label,
                ts,
            };
            let mut attempt = 0;
            loop {
                match journal::write_outbox(&self.dir, &a) {
                    Ok(()) => break,
                    Err(err) if attempt < 3 => {
                        tracing::warn!(run = %run_id, error = %err, "outbox write failed; retrying");
                        attempt += 1;
                        std::thread::sleep(Duration::from_millis(50 << attempt));
                    }
                    Err(err) => return Err(err),
                }
            }
            let mut inner = lock(&self.inner);
            if let Some(p) = inner.sessions.get_mut(&parent) {
                if !p.delivered.contains(&a.announce_id)
                    && !p
                        .pending_announces
                        .iter()
                        .any(|x| x.announce_id == a.announce_id)
                {
                    p.pending_announces.push(a);
                }
                pending_parent = Some(parent);
            }
        }
        let took = journal::append(
            &self.journal_path(&key),
            &[Record::Ended {
                run_id: run_id.to_string(),
                status: e.state.as_str().to_string(),
                text,
                error: e.error.clone(),
                error_class: class,
                retryable: e.retryable,
                thread_id: e.thread_id.clone(),
                ts,
            }],
        )?;
        self.fsynced(took);
        Ok(pending_parent)
    }

    fn apply_ending(self: &Arc<Self>, run_id: &str, e: Ending) {
        let key = {
            let mut inner = lock(&self.inner);
            let inner = &mut *inner;
            let Some(run) = inner.runs.get_mut(run_id) else {
                return;
            };
            run.state = e.state;
            run.ended_at = Some(now_ms());
            crate::observe::run_finished(self.observer(), e.state, e.class, run.started_at);
            run.final_text = e.text.clone();
            run.error = e.error.clone();
            run.error_class = e.class;
            run.retryable = e.retryable;
            run.cancel = None;
            let _ = run.done.send(true);
            let key = run.session_key.clone();
            if let Some(s) = inner.sessions.get_mut(&key) {
                if s.running.as_deref() == Some(run_id) {
                    s.running = None;
                    s.started = false;
                }
                s.queue.retain(|q| q != run_id);
                s.last_run = Some((run_id.to_string(), e.state));
                s.updated_at = now_ms();
                if e.thread_id.is_some() {
                    s.thread_id = e.thread_id.clone();
                }
            }
            // Large results are read back from the journal instead of being cached.
            let small = e
                .text
                .as_ref()
                .is_none_or(|t| t.len() <= MAX_CACHED_TEXT_BYTES);
            if small {
                inner.recent_terminal.push_back(run_id.to_string());
            }
            while inner.recent_terminal.len() > self.opts.recent_runs {
                if let Some(old) = inner.recent_terminal.pop_front() {
                    inner.runs.remove(&old);
                    if inner.index_until_uncached.remove(&old) {
                        inner.run_index.remove(&old);
                    }
                }
            }
            (key, small)
        };
        let (key, cached) = key;
        let state = match e.state {
            RunState::Completed => ChatState::Final,
            RunState::Aborted => ChatState::Aborted,
            _ => ChatState::Error,
        };
        if let Some(mut ev) = self.chat_event(run_id, state) {
            ev.run_state = Some(e.state);
            if state == ChatState::Final {
                ev.message = e.text.clone();
            } else {
                ev.error_message = e.error.clone();
                ev.error_class = e.class;
            }
            self.emit_agent(
                run_id,
                "lifecycle",
                json!({"phase": "end", "status": e.state.as_str()}),
            );
            self.emit(SessionEvent::Chat(ev));
        }
        self.emit_changed(&key, "run.ended", Some(run_id));
        if !cached {
            lock(&self.inner).runs.remove(run_id);
        }
    }
}

/// One slot of the subagent lane; released on drop.
/// Whether `key` is a child whose parent has a run executing right now. A restart drain still
/// starts such children: the parent may be waiting for them (an in-run `sessions_spawn` with
/// `wait`), and the drain waits for the parent, so holding them back would only stall the drain
/// until its timeout.
fn parent_busy(inner: &Inner, key: &str) -> bool {
    inner
        .sessions
        .get(key)
        .and_then(|s| s.spawned_by.as_deref())
        .and_then(|p| inner.sessions.get(p))
        .is_some_and(|p| p.running.is_some() && p.started)
}

struct LaneGuard {
    shared: Arc<Shared>,
}

impl Drop for LaneGuard {
    fn drop(&mut self) {
        {
            let mut inner = lock(&self.shared.inner);
            inner.lane_in_use = inner.lane_in_use.saturating_sub(1);
        }
        self.shared.lane_notify.notify_waiters();
    }
}
