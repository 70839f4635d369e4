//! Budgets before auth: a read budget per socket (a peer cannot make the gateway read, and so
//! buffer, more than a fixed number of bytes, whatever frame lengths it announces) and the
//! admission pool of sockets that have not authenticated ([`Admission`]).

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Shared budget: bytes the peer may still send; `usize::MAX` = unlimited.
#[derive(Debug)]
pub(crate) struct Budget {
    remaining: AtomicUsize,
    exceeded: AtomicBool,
}

impl Budget {
    pub(crate) fn new(limit: usize) -> Arc<Budget> {
        Arc::new(Budget {
            remaining: AtomicUsize::new(limit),
            exceeded: AtomicBool::new(false),
        })
    }

    /// Lift the limit (after a successful `connect`).
    pub(crate) fn lift(&self) {
        self.remaining.store(usize::MAX, Ordering::Release);
    }

    /// Whether a read failed because the budget ran out.
    pub(crate) fn exceeded(&self) -> bool {
        self.exceeded.load(Ordering::Acquire)
    }
}

/// A stream that fails reads once the budget is spent.
#[derive(Debug)]
pub(crate) struct BudgetStream<S> {
    inner: S,
    budget: Arc<Budget>,
}

impl<S> BudgetStream<S> {
    pub(crate) fn new(inner: S, budget: Arc<Budget>) -> Self {
        BudgetStream { inner, budget }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for BudgetStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = res {
            let n = buf.filled().len() - before;
            let remaining = self.budget.remaining.load(Ordering::Acquire);
            if remaining != usize::MAX {
                if n > remaining {
                    self.budget.exceeded.store(true, Ordering::Release);
                    self.budget.remaining.store(0, Ordering::Release);
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "preauth payload too large",
                    )));
                }
                self.budget
                    .remaining
                    .store(remaining - n, Ordering::Release);
            }
        }
        res
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for BudgetStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

// ---------------------------------------------------------------------------------------------
// Admission: the pool of sockets that have not completed `connect`.
// ---------------------------------------------------------------------------------------------

/// Where a pre-auth socket is in its handshake. Only the first three can be evicted: they are
/// waiting on the peer, not on the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Accepted; the peer has sent no byte yet.
    Silent,
    /// Some bytes of the request head arrived, not all of it.
    Head,
    /// Upgraded to WebSocket, `connect.challenge` sent, waiting for the `connect` frame.
    Upgraded,
    /// The gateway is working on it (answering HTTP, writing the upgrade, deciding `connect`).
    Busy,
}

/// Eviction order: a silent socket first, then a slow head, then an upgraded socket that has not
/// sent `connect`; the oldest of the first non-empty class goes.
const EVICTION_ORDER: [Stage; 3] = [Stage::Silent, Stage::Head, Stage::Upgraded];

/// Limits of the pre-auth pool (from [`crate::GatewayOptions`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AdmissionLimits {
    /// Sockets before `connect`, all peers together.
    pub capacity: usize,
    /// Sockets before `connect` from one non-loopback peer (an IPv4 address or an IPv6 /64).
    pub per_peer: usize,
}

/// The pre-auth pool. A socket is admitted when there is room; when its peer is at the per-peer
/// limit it replaces that peer's oldest evictable socket; when the pool is full it replaces the
/// oldest evictable socket of anyone. Only when nothing can be evicted is it refused (answered
/// `503` with `Retry-After` by the caller). Authenticated connections are not in this pool.
///
/// Loopback peers all share 127.0.0.1 (or ::1), so the per-peer limit cannot tell a local
/// attacker from the local user; there eviction is what lets a fresh client in: a socket that
/// holds a slot without talking loses it to the next arrival.
#[derive(Debug)]
pub(crate) struct Admission {
    limits: AdmissionLimits,
    pool: std::sync::Mutex<Pool>,
}

#[derive(Debug, Default)]
struct Pool {
    next_id: u64,
    /// Admitted sockets by admission order (oldest first).
    entries: std::collections::BTreeMap<u64, Entry>,
    per_peer: std::collections::HashMap<std::net::IpAddr, usize>,
    /// Counts since the last pressure log line.
    evicted: u64,
    refused: u64,
    evicted_total: u64,
    refused_total: u64,
    last_log: Option<std::time::Instant>,
}

#[derive(Debug)]
struct Entry {
    peer: std::net::IpAddr,
    stage: Stage,
    evict: Arc<tokio::sync::Notify>,
}

/// Why a socket was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The pool is full of sockets the gateway is working on.
    PoolFull,
    /// This (non-loopback) peer holds its limit of busy sockets.
    PeerLimit,
}

/// Counters for `status`-like reporting and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AdmissionStats {
    /// Sockets in the pool now.
    pub preauth: usize,
    /// Sockets evicted to make room, since start.
    pub evicted: u64,
    /// Sockets answered `503`, since start.
    pub refused: u64,
}

/// How often at most the pressure line is logged.
const PRESSURE_LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

impl Admission {
    pub(crate) fn new(limits: AdmissionLimits) -> Arc<Admission> {
        Arc::new(Admission {
            limits: AdmissionLimits {
                capacity: limits.capacity.max(1),
                per_peer: limits.per_peer.max(1),
            },
            pool: std::sync::Mutex::new(Pool::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pool> {
        // A panic while holding this lock leaves consistent counters (no multi-step updates
        // that can unwind midway), so a poisoned lock is still usable.
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Admit a socket from `peer`, evicting another when needed.
    pub(crate) fn admit(self: &Arc<Self>, peer: std::net::IpAddr) -> Result<Ticket, Refusal> {
        let key = peer_key(peer);
        let mut pool = self.lock();
        if !key.is_loopback()
            && pool.per_peer.get(&key).copied().unwrap_or(0) >= self.limits.per_peer
        {
            if !pool.evict_oldest(Some(key)) {
                pool.refused += 1;
                pool.refused_total += 1;
                self.maybe_log(&mut pool);
                return Err(Refusal::PeerLimit);
            }
            self.maybe_log(&mut pool);
        } else if pool.entries.len() >= self.limits.capacity {
            if !pool.evict_oldest(None) {
                pool.refused += 1;
                pool.refused_total += 1;
                self.maybe_log(&mut pool);
                return Err(Refusal::PoolFull);
            }
            self.maybe_log(&mut pool);
        }
        let id = pool.next_id;
        pool.next_id += 1;
        let evict = Arc::new(tokio::sync::Notify::new());
        pool.entries.insert(
            id,
            Entry {
                peer: key,
                stage: Stage::Silent,
                evict: evict.clone(),
            },
        );
        *pool.per_peer.entry(key).or_insert(0) += 1;
        let fill = pool.entries.len();
        drop(pool);
        Ok(Ticket {
            admission: self.clone(),
            id,
            evict,
            fill,
        })
    }

    /// The pre-auth deadline for a socket admitted when `fill` sockets were in the pool:
    /// `base` up to half full, then shrinking linearly to a fifth of `base` (at least 1 s, never
    /// more than `base`) when full. Under pressure a slot is held for less time.
    pub(crate) fn deadline(&self, base: std::time::Duration, fill: usize) -> std::time::Duration {
        let cap = self.limits.capacity;
        let half = cap / 2;
        if fill <= half {
            return base;
        }
        let floor = (base / 5).max(std::time::Duration::from_secs(1)).min(base);
        let over = (fill - half).min(cap - half) as f64 / (cap - half).max(1) as f64;
        let span = base.saturating_sub(floor);
        floor + span.mul_f64(1.0 - over)
    }

    /// Log the pressure line now if counts are pending and the last one is old enough.
    pub(crate) fn flush_log(&self) {
        let mut pool = self.lock();
        self.maybe_log(&mut pool);
    }

    fn maybe_log(&self, pool: &mut Pool) {
        if pool.evicted == 0 && pool.refused == 0 {
            return;
        }
        let now = std::time::Instant::now();
        if pool
            .last_log
            .is_some_and(|t| now.duration_since(t) < PRESSURE_LOG_EVERY)
        {
            return;
        }
        tracing::warn!(
            evicted = pool.evicted,
            refused_503 = pool.refused,
            preauth = pool.entries.len(),
            capacity = self.limits.capacity,
            per_peer = self.limits.per_peer,
            evicted_total = pool.evicted_total,
            refused_total = pool.refused_total,
            "connection pressure: sockets that had not authenticated were evicted (oldest idle first) or answered 503; see docs/reliability.md"
        );
        pool.evicted = 0;
        pool.refused = 0;
        pool.last_log = Some(now);
    }

    /// Count a socket answered 503 outside [`Admission::admit`] (accept out of descriptors).
    pub(crate) fn count_refused(&self) {
        let mut pool = self.lock();
        pool.refused += 1;
        pool.refused_total += 1;
        self.maybe_log(&mut pool);
    }

    /// Current counters.
    pub(crate) fn stats(&self) -> AdmissionStats {
        let pool = self.lock();
        AdmissionStats {
            preauth: pool.entries.len(),
            evicted: pool.evicted_total,
            refused: pool.refused_total,
        }
    }
}

impl Pool {
    /// Evict the oldest evictable socket (of `peer` when given); false when there is none.
    fn evict_oldest(&mut self, peer: Option<std::net::IpAddr>) -> bool {
        let victim = EVICTION_ORDER.iter().find_map(|stage| {
            self.entries
                .iter()
                .find(|(_, e)| e.stage == *stage && peer.is_none_or(|p| p == e.peer))
                .map(|(id, _)| *id)
        });
        let Some(id) = victim else {
            return false;
        };
        if let Some(e) = self.remove(id) {
            // A stored permit: the victim sees it even if it is not polling right now.
            e.evict.notify_one();
        }
        self.evicted += 1;
        self.evicted_total += 1;
        true
    }

    fn remove(&mut self, id: u64) -> Option<Entry> {
        let e = self.entries.remove(&id)?;
        if let std::collections::hash_map::Entry::Occupied(mut o) = self.per_peer.entry(e.peer) {
            *o.get_mut() -= 1;
            if *o.get() == 0 {
                o.remove();
            }
        }
        Some(e)
    }
}

/// The peer as the per-peer limit counts it: IPv4 (also when mapped into IPv6) by address,
/// IPv6 by its /64 (one host usually owns a whole /64).
fn peer_key(ip: std::net::IpAddr) -> std::net::IpAddr {
    use std::net::{IpAddr, Ipv6Addr};
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None if v6.is_loopback() => ip,
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// A held pre-auth slot; released on drop (or when evicted).
#[derive(Debug)]
pub(crate) struct Ticket {
    admission: Arc<Admission>,
    id: u64,
    evict: Arc<tokio::sync::Notify>,
    /// Pool size right after this socket was admitted (for [`Admission::deadline`]).
    pub(crate) fill: usize,
}

impl Ticket {
    /// Record progress (decides whether and in which order this socket can be evicted).
    pub(crate) fn set_stage(&self, stage: Stage) {
        let mut pool = self.admission.lock();
        if let Some(e) = pool.entries.get_mut(&self.id) {
            e.stage = stage;
        }
    }

    /// Resolves when this socket has been evicted to make room for another.
    pub(crate) async fn evicted(&self) {
        self.evict.notified().await;
    }

    /// The admission this ticket belongs to.
    pub(crate) fn admission(&self) -> &Admission {
        &self.admission
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.admission.lock().remove(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    use std::time::Duration;

    const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    const LAN_A: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 10));
    const LAN_B: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 11));

    fn admission(capacity: usize, per_peer: usize) -> Arc<Admission> {
        Admission::new(AdmissionLimits { capacity, per_peer })
    }

    #[test]
    fn a_full_pool_evicts_the_oldest_silent_socket_first() {
        let a = admission(3, 10);
        let t0 = a.admit(LOCAL).unwrap();
        let t1 = a.admit(LOCAL).unwrap();
        let t2 = a.admit(LOCAL).unwrap();
        t0.set_stage(Stage::Upgraded);
        // t1 is the oldest silent one: it goes, even though t0 is older.
        let t3 = a.admit(LOCAL).unwrap();
        assert_eq!(a.stats().evicted, 1);
        assert!(a.lock().entries.contains_key(&t0.id));
        assert!(!a.lock().entries.contains_key(&t1.id));
        // The victim was notified (a stored permit).
        {
            let notified = t1.evict.notified();
            futures_util::pin_mut!(notified);
            assert!(futures_util::FutureExt::now_or_never(notified).is_some());
        }
        // Dropping the evicted ticket does not free someone else's slot.
        drop(t1);
        assert_eq!(a.stats().preauth, 3);
        drop((t2, t3));
        assert_eq!(a.stats().preauth, 1);
    }

    #[test]
    fn busy_sockets_are_never_evicted_and_a_full_busy_pool_refuses() {
        let a = admission(2, 10);
        let t0 = a.admit(LOCAL).unwrap();
        let t1 = a.admit(LOCAL).unwrap();
        t0.set_stage(Stage::Busy);
        t1.set_stage(Stage::Busy);
        assert_eq!(a.admit(LOCAL).unwrap_err(), Refusal::PoolFull);
        assert_eq!(a.stats().refused, 1);
        drop(t0);
        assert!(a.admit(LOCAL).is_ok());
    }

    #[test]
    fn the_per_peer_limit_applies_to_lan_peers_only() {
        let a = admission(100, 2);
        let _a0 = a.admit(LAN_A).unwrap();
        let a1 = a.admit(LAN_A).unwrap();
        a1.set_stage(Stage::Busy);
        // At its limit, peer A replaces its own oldest idle socket, not B's.
        let b0 = a.admit(LAN_B).unwrap();
        let _a2 = a.admit(LAN_A).unwrap();
        assert!(a.lock().entries.contains_key(&b0.id));
        assert_eq!(a.stats().evicted, 1);
        // With both of A's sockets busy, A is refused while B still gets in.
        _a2.set_stage(Stage::Busy);
        assert_eq!(a.admit(LAN_A).unwrap_err(), Refusal::PeerLimit);
        assert!(a.admit(LAN_B).is_ok());
        // Loopback has no per-peer limit (every local process is 127.0.0.1).
        let local: Vec<_> = (0..10).map(|_| a.admit(LOCAL).unwrap()).collect();
        assert_eq!(local.len(), 10);
    }

    #[test]
    fn ipv6_peers_count_by_slash_64_and_mapped_ipv4_as_ipv4() {
        let x = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, 1));
        let y = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 9, 9, 9, 9));
        assert_eq!(peer_key(x), peer_key(y));
        let mapped = IpAddr::V6(Ipv4Addr::new(192, 168, 1, 10).to_ipv6_mapped());
        assert_eq!(peer_key(mapped), LAN_A);
        assert_eq!(
            peer_key(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        );
    }

    #[test]
    fn deadlines_tighten_past_half_full() {
        let a = admission(100, 10);
        let base = Duration::from_secs(10);
        assert_eq!(a.deadline(base, 1), base);
        assert_eq!(a.deadline(base, 50), base);
        let d75 = a.deadline(base, 75);
        assert!(d75 < base && d75 > Duration::from_secs(2), "{d75:?}");
        assert_eq!(a.deadline(base, 100), Duration::from_secs(2));
        assert_eq!(a.deadline(base, 500), Duration::from_secs(2));
        // A short configured timeout is never lengthened.
        let short = Duration::from_millis(300);
        assert_eq!(a.deadline(short, 100), short);
    }
}
