//! Pure lease accounting for the pool: which process serves a key, how many leases and pending
//! acquirers each has, detachment (graceful retirement) and idle expiry. No I/O happens here; every
//! method returns what the caller must do (close a process, cancel a startup), so the rules are
//! tested without processes.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::error::PoolError;
use crate::key::ProcessKey;

/// Identifies one physical process slot (one startup).
pub type EntryId = u64;

/// Whether a process handle is still usable.
pub trait Health {
    /// True once the transport failed.
    fn is_poisoned(&self) -> bool;
}

/// Progress of a shared startup, observed by every waiter.
#[derive(Debug, Clone)]
pub enum StartState<P> {
    /// Still starting.
    Pending,
    /// Ready; waiters convert their pending claim into a lease.
    Ready(P),
    /// Failed; waiters get this error.
    Failed(PoolError),
}

#[derive(Debug)]
enum Phase<P> {
    Starting(watch::Receiver<StartState<P>>),
    Ready(P),
}

#[derive(Debug)]
struct Rec<P> {
    key: ProcessKey,
    phase: Phase<P>,
    leases: usize,
    pending: usize,
    detached: bool,
    idle_since: Option<Instant>,
}

impl<P> Rec<P> {
    fn unclaimed(&self) -> bool {
        self.leases == 0 && self.pending == 0
    }
}

/// Process caps.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// Live processes per key, including retired ones still draining.
    pub per_key: usize,
    /// Live processes in total.
    pub total: usize,
}

/// Outcome of [`Ledger::begin_acquire`].
#[derive(Debug)]
pub enum Begin<P> {
    /// A ready process: the lease is already counted.
    Leased(EntryId, P),
    /// A startup is in flight: wait on the receiver (the pending claim is counted).
    Wait(EntryId, watch::Receiver<StartState<P>>),
    /// The caller must run the startup and publish through the sender (its claim is counted).
    Start(
        EntryId,
        watch::Sender<StartState<P>>,
        watch::Receiver<StartState<P>>,
    ),
}

/// Outcome of [`Ledger::abandon_wait`].
#[derive(Debug)]
pub struct Abandon<P> {
    /// The last claimant left a startup: cancel it.
    pub cancel_startup: bool,
    /// A process that must be closed.
    pub close: Option<P>,
}

/// Counts for tests, status and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Process slots (starting + ready, including detached ones still draining).
    pub processes: usize,
    /// Slots still starting.
    pub starting: usize,
    /// Active leases.
    pub leases: usize,
    /// Acquirers waiting on a startup.
    pub pending: usize,
    /// Slots detached from their key (retired, draining).
    pub detached: usize,
}

/// The accounting state.
#[derive(Debug)]
pub struct Ledger<P> {
    current: HashMap<ProcessKey, EntryId>,
    recs: HashMap<EntryId, Rec<P>>,
    next: EntryId,
}

impl<P> Default for Ledger<P> {
    fn default() -> Self {
        Self {
            current: HashMap::new(),
            recs: HashMap::new(),
            next: 1,
        }
    }
}

impl<P: Clone + Health> Ledger<P> {
    /// Starts an acquisition for `key`. Processes that must be closed are pushed to `close`.
    pub fn begin_acquire(
        &mut self,
        key: &ProcessKey,
        caps: Caps,
        close: &mut Vec<P>,
    ) -> Result<Begin<P>, PoolError> {
        if let Some(&id) = self.current.get(key) {
            if let Some(rec) = self.recs.get_mut(&id) {
                match &rec.phase {
                    Phase::Ready(p) if !p.is_poisoned() => {
                        rec.leases += 1;
                        rec.idle_since = None;
                        return Ok(Begin::Leased(id, p.clone()));
                    }
                    Phase::Starting(rx) => {
                        rec.pending += 1;
                        return Ok(Begin::Wait(id, rx.clone()));
                    }
                    Phase::Ready(_) => {
                        // Poisoned: detach so this acquirer gets a fresh process.
                        if let Some(p) = self.retire(id) {
                            close.push(p);
                        }
                    }
                }
            } else {
                self.current.remove(key);
            }
        }
        let same_key = self.recs.values().filter(|r| &r.key == key).count();
        if same_key >= caps.per_key {
            return Err(PoolError::Capacity {
                what: format!("{same_key} live processes for `{}`", key.program()),
                setting: "maxProcessesPerKey",
            });
        }
        if self.recs.len() >= caps.total {
            return Err(PoolError::Capacity {
                what: format!("{} live app-server processes in total", self.recs.len()),
                setting: "maxProcessesTotal",
            });
        }
        let id = self.next;
        self.next += 1;
        let (tx, rx) = watch::channel(StartState::Pending);
        self.recs.insert(
            id,
            Rec {
                key: key.clone(),
                phase: Phase::Starting(rx.clone()),
                leases: 0,
                pending: 1,
                detached: false,
                idle_since: None,
            },
        );
        self.current.insert(key.clone(), id);
        Ok(Begin::Start(id, tx, rx))
    }

    /// The startup of `id` succeeded. Returns the process back if the slot is gone (every waiter
    /// abandoned it): the caller must close it.
    pub fn startup_ready(&mut self, id: EntryId, p: P, now: Instant) -> Result<(), P> {
        match self.recs.get_mut(&id) {
            Some(rec) if matches!(rec.phase, Phase::Starting(_)) => {
                rec.phase = Phase::Ready(p);
                if rec.unclaimed() {
                    rec.idle_since = Some(now);
                }
                Ok(())
            }
            _ => Err(p),
        }
    }

    /// The startup of `id` failed: forget the slot.
    pub fn startup_failed(&mut self, id: EntryId) {
        self.remove(id);
    }

    /// A waiter saw the startup become ready: convert its pending claim into a lease.
    pub fn finish_wait(&mut self, id: EntryId) -> Option<P> {
        let rec = self.recs.get_mut(&id)?;
        let Phase::Ready(p) = &rec.phase else {
            return None;
        };
        rec.pending = rec.pending.saturating_sub(1);
        rec.leases += 1;
        rec.idle_since = None;
        Some(p.clone())
    }

    /// A waiter gives up (deadline, failure). Only the last claimant cancels a startup.
    pub fn abandon_wait(&mut self, id: EntryId, now: Instant) -> Abandon<P> {
        let mut out = Abandon {
            cancel_startup: false,
            close: None,
        };
        let Some(rec) = self.recs.get_mut(&id) else {
            return out;
        };
        rec.pending = rec.pending.saturating_sub(1);
        if !rec.unclaimed() {
            return out;
        }
        match &rec.phase {
            Phase::Starting(_) => {
                self.remove(id);
                out.cancel_startup = true;
            }
            Phase::Ready(p) => {
                if rec.detached || p.is_poisoned() {
                    out.close = self.remove(id);
                } else {
                    rec.idle_since = Some(now);
                }
            }
        }
        out
    }

    /// Releases one lease. Returns a process to close when it was retired (or poisoned) and this
    /// was its last claim.
    pub fn release(&mut self, id: EntryId, now: Instant) -> Option<P> {
        let rec = self.recs.get_mut(&id)?;
        rec.leases = rec.leases.saturating_sub(1);
        if !rec.unclaimed() {
            return None;
        }
        let Phase::Ready(p) = &rec.phase else {
            return None;
        };
        if rec.detached || p.is_poisoned() {
            self.remove(id)
        } else {
            rec.idle_since = Some(now);
            None
        }
    }

    /// Graceful retirement: detach `id` from its key (new acquirers get a fresh process). Returns
    /// the process when nobody holds it any more, for the caller to close.
    pub fn retire(&mut self, id: EntryId) -> Option<P> {
        let rec = self.recs.get_mut(&id)?;
        rec.detached = true;
        let key = rec.key.clone();
        let close_now = rec.unclaimed() && matches!(rec.phase, Phase::Ready(_));
        if self.current.get(&key) == Some(&id) {
            self.current.remove(&key);
        }
        if close_now {
            self.remove(id)
        } else {
            None
        }
    }

    /// Removes idle slots whose grace expired (and idle poisoned ones); returns them for closing.
    pub fn reap_idle(&mut self, now: Instant, grace: Duration) -> Vec<P> {
        let expired: Vec<EntryId> = self
            .recs
            .iter()
            .filter(|(_, r)| {
                r.unclaimed()
                    && match &r.phase {
                        Phase::Ready(p) => {
                            p.is_poisoned()
                                || r.detached
                                || r.idle_since
                                    .is_some_and(|t| now.saturating_duration_since(t) >= grace)
                        }
                        Phase::Starting(_) => false,
                    }
            })
            .map(|(id, _)| *id)
            .collect();
        expired
            .into_iter()
            .filter_map(|id| self.remove(id))
            .collect()
    }

    /// Forgets everything; returns every ready process (to close) and every starting slot id.
    pub fn drain(&mut self) -> (Vec<P>, Vec<EntryId>) {
        self.current.clear();
        let mut procs = Vec::new();
        let mut starting = Vec::new();
        for (id, rec) in self.recs.drain() {
            match rec.phase {
                Phase::Ready(p) => procs.push(p),
                Phase::Starting(_) => starting.push(id),
            }
        }
        (procs, starting)
    }

    /// One row per process slot: (key, ready process if any, leases, pending, detached).
    pub fn slots(&self) -> Vec<(ProcessKey, Option<P>, usize, usize, bool)> {
        self.recs
            .values()
            .map(|r| {
                let p = match &r.phase {
                    Phase::Ready(p) => Some(p.clone()),
                    Phase::Starting(_) => None,
                };
                (r.key.clone(), p, r.leases, r.pending, r.detached)
            })
            .collect()
    }

    /// Current counts.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for r in self.recs.values() {
            c.processes += 1;
            c.leases += r.leases;
            c.pending += r.pending;
            if matches!(r.phase, Phase::Starting(_)) {
                c.starting += 1;
            }
            if r.detached {
                c.detached += 1;
            }
        }
        c
    }

    fn remove(&mut self, id: EntryId) -> Option<P> {
        let rec = self.recs.remove(&id)?;
        if self.current.get(&rec.key) == Some(&id) {
            self.current.remove(&rec.key);
        }
        match rec.phase {
            Phase::Ready(p) => Some(p),
            Phase::Starting(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[derive(Debug, Clone, Default)]
    struct Fake(Arc<AtomicBool>);
    impl Health for Fake {
        fn is_poisoned(&self) -> bool {
            self.0.load(Ordering::SeqCst)
        }
    }

    const CAPS: Caps = Caps {
        per_key: 3,
        total: 4,
    };

    fn key(name: &str) -> ProcessKey {
        ProcessKey::new(vec![name.to_string()])
    }

    fn start(l: &mut Ledger<Fake>, k: &ProcessKey) -> (EntryId, Fake) {
        let mut close = Vec::new();
        let Begin::Start(id, _tx, _rx) = l.begin_acquire(k, CAPS, &mut close).unwrap() else {
            panic!("expected a startup");
        };
        let p = Fake::default();
        l.startup_ready(id, p.clone(), Instant::now()).unwrap();
        assert!(l.finish_wait(id).is_some());
        (id, p)
    }

    #[test]
    fn shared_startup_and_single_process() {
        let mut l = Ledger::<Fake>::default();
        let k = key("a");
        let mut close = Vec::new();
        let Begin::Start(id, _tx, _) = l.begin_acquire(&k, CAPS, &mut close).unwrap() else {
            panic!()
        };
        let Begin::Wait(id2, _) = l.begin_acquire(&k, CAPS, &mut close).unwrap() else {
            panic!()
        };
        assert_eq!(id, id2);
        assert_eq!(
            l.counts(),
            Counts {
                processes: 1,
                starting: 1,
                leases: 0,
                pending: 2,
                detached: 0
            }
        );
        l.startup_ready(id, Fake::default(), Instant::now())
            .unwrap();
        l.finish_wait(id).unwrap();
        l.finish_wait(id).unwrap();
        let Begin::Leased(id3, _) = l.begin_acquire(&k, CAPS, &mut close).unwrap() else {
            panic!()
        };
        assert_eq!(id, id3);
        assert_eq!(l.counts().leases, 3);
        for _ in 0..3 {
            assert!(l.release(id, Instant::now()).is_none());
        }
        assert_eq!(
            l.counts(),
            Counts {
                processes: 1,
                ..Counts::default()
            }
        );
        assert!(close.is_empty());
    }

    #[test]
    fn only_last_waiter_cancels_a_stalled_startup() {
        let mut l = Ledger::<Fake>::default();
        let k = key("a");
        let mut close = Vec::new();
        let Begin::Start(id, _tx, _) = l.begin_acquire(&k, CAPS, &mut close).unwrap() else {
            panic!()
        };
        let _ = l.begin_acquire(&k, CAPS, &mut close).unwrap();
        assert!(
            !l.abandon_wait(id, Instant::now()).cancel_startup,
            "first waiter must not tear down"
        );
        assert!(
            l.abandon_wait(id, Instant::now()).cancel_startup,
            "last waiter tears down"
        );
        assert_eq!(l.counts(), Counts::default());
        // A late success for a cancelled slot hands the process back to be closed.
        assert!(l
            .startup_ready(id, Fake::default(), Instant::now())
            .is_err());
    }

    #[test]
    fn graceful_retire_detaches_and_closes_on_last_release() {
        let mut l = Ledger::<Fake>::default();
        let k = key("a");
        let (id, _) = start(&mut l, &k);
        let mut close = Vec::new();
        let Begin::Leased(_, _) = l.begin_acquire(&k, CAPS, &mut close).unwrap() else {
            panic!()
        };
        assert!(l.retire(id).is_none(), "held leases keep it alive");
        // New acquirers get a fresh process.
        let Begin::Start(id2, _tx, _) = l.begin_acquire(&k, CAPS, &mut close).unwrap() else {
            panic!()
        };
        assert_ne!(id, id2);
        assert!(l.release(id, Instant::now()).is_none());
        assert!(
            l.release(id, Instant::now()).is_some(),
            "last release closes the retired process"
        );
        assert_eq!(l.counts().detached, 0);
    }

    #[test]
    fn poisoned_process_is_replaced_and_closed() {
        let mut l = Ledger::<Fake>::default();
        let k = key("a");
        let (id, p) = start(&mut l, &k);
        l.release(id, Instant::now());
        p.0.store(true, Ordering::SeqCst);
        let mut close = Vec::new();
        let Begin::Start(..) = l.begin_acquire(&k, CAPS, &mut close).unwrap() else {
            panic!()
        };
        assert_eq!(close.len(), 1);
    }

    #[test]
    fn idle_reaping_and_caps() {
        let mut l = Ledger::<Fake>::default();
        let (a, _) = start(&mut l, &key("a"));
        let (_b, _) = start(&mut l, &key("b"));
        let (_c, _) = start(&mut l, &key("c"));
        let (_d, _) = start(&mut l, &key("d"));
        let mut close = Vec::new();
        assert!(matches!(
            l.begin_acquire(&key("e"), CAPS, &mut close),
            Err(PoolError::Capacity {
                setting: "maxProcessesTotal",
                ..
            })
        ));
        let t0 = Instant::now();
        l.release(a, t0);
        assert!(l.reap_idle(t0, Duration::from_secs(30)).is_empty());
        assert_eq!(
            l.reap_idle(t0 + Duration::from_secs(31), Duration::from_secs(30))
                .len(),
            1
        );
        assert_eq!(l.counts().processes, 3);
    }

    #[test]
    fn per_key_cap_counts_draining_processes() {
        let mut l = Ledger::<Fake>::default();
        let k = key("a");
        let caps = Caps {
            per_key: 2,
            total: 10,
        };
        let mut close = Vec::new();
        for _ in 0..2 {
            let Begin::Start(id, _tx, _) = l.begin_acquire(&k, caps, &mut close).unwrap() else {
                panic!()
            };
            l.startup_ready(id, Fake::default(), Instant::now())
                .unwrap();
            l.finish_wait(id).unwrap();
            l.retire(id);
        }
        assert!(matches!(
            l.begin_acquire(&k, caps, &mut close),
            Err(PoolError::Capacity {
                setting: "maxProcessesPerKey",
                ..
            })
        ));
    }

    mod model {
        //! Random operation sequences against the ledger, checked against a simple model:
        //! every claim is counted once, nothing leased is ever handed out for closing, and
        //! every process handed out for closing is never leased again.
        use super::*;
        use proptest::prelude::*;
        use std::collections::HashSet;

        #[derive(Debug, Clone)]
        enum Op {
            Acquire(u8),
            StartOk(usize),
            StartFail(usize),
            Abandon(usize),
            Release(usize),
            Retire(usize),
            Poison(usize),
            Reap,
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                (0u8..3).prop_map(Op::Acquire),
                any::<usize>().prop_map(Op::StartOk),
                any::<usize>().prop_map(Op::StartFail),
                any::<usize>().prop_map(Op::Abandon),
                any::<usize>().prop_map(Op::Release),
                any::<usize>().prop_map(Op::Retire),
                any::<usize>().prop_map(Op::Poison),
                Just(Op::Reap),
            ]
        }

        #[derive(Debug, Clone)]
        struct P(u64, Arc<AtomicBool>);
        impl Health for P {
            fn is_poisoned(&self) -> bool {
                self.1.load(Ordering::SeqCst)
            }
        }

        proptest! {
            #[test]
            fn ledger_matches_the_model(ops in proptest::collection::vec(op(), 1..200)) {
                let caps = Caps { per_key: 3, total: 5 };
                let mut l = Ledger::<P>::default();
                let mut next_proc = 0u64;
                // Outstanding claims: (entry, process serial when leased).
                let mut waiting: Vec<EntryId> = Vec::new();
                let mut starting: Vec<EntryId> = Vec::new();
                let mut leases: Vec<(EntryId, u64)> = Vec::new();
                let mut procs: Vec<P> = Vec::new();
                let mut closed: HashSet<u64> = HashSet::new();
                let t0 = Instant::now();
                let mut tick = 0u64;
                for op in ops {
                    tick += 1;
                    let now = t0 + Duration::from_millis(tick * 10);
                    let mut close = Vec::new();
                    match op {
                        Op::Acquire(k) => match l.begin_acquire(&key(&format!("k{k}")), caps, &mut close) {
                            Ok(Begin::Leased(id, p)) => leases.push((id, p.0)),
                            Ok(Begin::Wait(id, _)) => waiting.push(id),
                            Ok(Begin::Start(id, _, _)) => { waiting.push(id); starting.push(id); }
                            Err(_) => {}
                        },
                        Op::StartOk(i) if !starting.is_empty() => {
                            let id = starting.remove(i % starting.len());
                            next_proc += 1;
                            let p = P(next_proc, Arc::default());
                            procs.push(p.clone());
                            match l.startup_ready(id, p, now) {
                                Ok(()) => {
                                    // Every waiter of this entry converts to a lease.
                                    let n = waiting.iter().filter(|w| **w == id).count();
                                    waiting.retain(|w| *w != id);
                                    for _ in 0..n {
                                        let p = l.finish_wait(id).expect("ready entry");
                                        leases.push((id, p.0));
                                    }
                                }
                                Err(p) => close.push(p),
                            }
                        }
                        Op::StartFail(i) if !starting.is_empty() => {
                            let id = starting.remove(i % starting.len());
                            l.startup_failed(id);
                            let n = waiting.iter().filter(|w| **w == id).count();
                            waiting.retain(|w| *w != id);
                            for _ in 0..n {
                                let ab = l.abandon_wait(id, now);
                                prop_assert!(!ab.cancel_startup && ab.close.is_none());
                            }
                        }
                        Op::Abandon(i) if !waiting.is_empty() => {
                            let id = waiting.remove(i % waiting.len());
                            let ab = l.abandon_wait(id, now);
                            let still_waiting = waiting.contains(&id);
                            prop_assert_eq!(ab.cancel_startup, !still_waiting && starting.contains(&id),
                                "only the last claimant cancels a startup");
                            if ab.cancel_startup {
                                starting.retain(|s| *s != id);
                            }
                            close.extend(ab.close);
                        }
                        Op::Release(i) if !leases.is_empty() => {
                            let (id, _) = leases.remove(i % leases.len());
                            close.extend(l.release(id, now));
                        }
                        Op::Retire(i) if !leases.is_empty() => {
                            let (id, _) = leases[i % leases.len()];
                            close.extend(l.retire(id));
                        }
                        Op::Poison(i) if !procs.is_empty() => {
                            procs[i % procs.len()].1.store(true, Ordering::SeqCst);
                        }
                        Op::Reap => close.extend(l.reap_idle(now, Duration::from_millis(50))),
                        _ => {}
                    }
                    for p in close {
                        prop_assert!(closed.insert(p.0), "process {} closed twice", p.0);
                        prop_assert!(!leases.iter().any(|(_, s)| *s == p.0), "closed a leased process {}", p.0);
                    }
                    for (_, s) in &leases {
                        prop_assert!(!closed.contains(s), "a closed process is leased");
                    }
                    let c = l.counts();
                    prop_assert_eq!(c.leases, leases.len());
                    prop_assert_eq!(c.pending, waiting.len());
                    prop_assert_eq!(c.starting, starting.len());
                    prop_assert!(c.processes <= caps.total);
                }
                // Drain: everything releases, and every process is closed exactly once.
                let now = t0 + Duration::from_secs(3600);
                let mut close = Vec::new();
                for (id, _) in leases.drain(..) {
                    close.extend(l.release(id, now));
                }
                for id in waiting.drain(..) {
                    close.extend(l.abandon_wait(id, now).close);
                }
                close.extend(l.reap_idle(now, Duration::from_millis(50)));
                let (rest, _) = l.drain();
                close.extend(rest);
                for p in close {
                    prop_assert!(closed.insert(p.0), "process {} closed twice", p.0);
                }
                prop_assert_eq!(closed.len() as u64, next_proc, "every started process is closed once");
            }
        }
    }
}
