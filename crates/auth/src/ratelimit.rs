//! Failed-auth rate limiting per client address.
//!
//! After `max_attempts` failures inside `window_ms`, the address is locked out for `lockout_ms`:
//! `unauthorized: too many failed authentication attempts (retry later)`, `retryable`, `retryAfterMs`.
//! Loopback clients are exempt by default, so a misconfigured local script cannot lock the owner
//! out of their own gateway (they can read the token from disk anyway).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use openclaw_rs_config::RateLimitConfig;

/// Defaults: 10 failures per minute, then a five-minute lockout (as `docs/config.md` states).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;
/// Default failure-counting window: one minute, in milliseconds.
pub const DEFAULT_WINDOW_MS: u64 = 60_000;
/// Default lockout after the limit is reached: five minutes, in milliseconds.
pub const DEFAULT_LOCKOUT_MS: u64 = 300_000;
/// Entries kept at most; beyond this, expired entries are pruned and then the oldest dropped.
const MAX_ENTRIES: usize = 16_384;

/// Effective rate-limit settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// Failures inside one window that lock the address out: the failure that reaches this count
    /// starts the lockout (`rateLimit.maxAttempts`; 0 in the config means the default).
    pub max_attempts: u32,
    /// Length of the counting window, in milliseconds (`rateLimit.windowMs`; 0 means the default).
    pub window_ms: u64,
    /// How long a locked-out address is refused, in milliseconds (`rateLimit.lockoutMs`).
    pub lockout_ms: u64,
    /// When true, loopback client addresses are never counted or locked out
    /// (`rateLimit.exemptLoopback`, default true).
    pub exempt_loopback: bool,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            window_ms: DEFAULT_WINDOW_MS,
            lockout_ms: DEFAULT_LOCKOUT_MS,
            exempt_loopback: true,
        }
    }
}

impl From<&RateLimitConfig> for RateLimitSettings {
    fn from(c: &RateLimitConfig) -> Self {
        let d = RateLimitSettings::default();
        RateLimitSettings {
            max_attempts: c.max_attempts.filter(|&n| n > 0).unwrap_or(d.max_attempts),
            window_ms: c.window_ms.filter(|&n| n > 0).unwrap_or(d.window_ms),
            lockout_ms: c.lockout_ms.unwrap_or(d.lockout_ms),
            exempt_loopback: c.exempt_loopback.unwrap_or(d.exempt_loopback),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    window_start: u64,
    failures: u32,
    locked_until: u64,
}

/// Per-address failure counters.
#[derive(Debug, Default)]
pub struct RateLimiter {
    settings: Mutex<RateLimitSettings>,
    entries: Mutex<HashMap<IpAddr, Entry>>,
}

impl RateLimiter {
    /// A limiter with `settings`.
    pub fn new(settings: RateLimitSettings) -> Self {
        RateLimiter {
            settings: Mutex::new(settings),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Replace the settings (config reload); counters are kept.
    pub fn set_settings(&self, settings: RateLimitSettings) {
        *lock(&self.settings) = settings;
    }

    fn exempt(&self, ip: IpAddr) -> bool {
        lock(&self.settings).exempt_loopback && ip.is_loopback()
    }

    /// `Some(retry_after_ms)` while `ip` is locked out.
    pub fn check(&self, ip: IpAddr, now_ms: u64) -> Option<u64> {
        if self.exempt(ip) {
            return None;
        }
        let entries = lock(&self.entries);
        let e = entries.get(&ip)?;
        (e.locked_until > now_ms).then(|| e.locked_until - now_ms)
    }

    /// Count one failed attempt; returns `Some(retry_after_ms)` if this failure started a lockout.
    pub fn record_failure(&self, ip: IpAddr, now_ms: u64) -> Option<u64> {
        if self.exempt(ip) {
            return None;
        }
        let s = *lock(&self.settings);
        let mut entries = lock(&self.entries);
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&ip) {
            entries.retain(|_, e| e.locked_until > now_ms || now_ms - e.window_start < s.window_ms);
            if entries.len() >= MAX_ENTRIES {
                if let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, e)| e.window_start)
                    .map(|(k, _)| *k)
                {
                    entries.remove(&oldest);
                }
            }
        }
        let e = entries.entry(ip).or_insert(Entry {
            window_start: now_ms,
            failures: 0,
            locked_until: 0,
        });
        if now_ms.saturating_sub(e.window_start) >= s.window_ms {
            e.window_start = now_ms;
            e.failures = 0;
        }
        e.failures += 1;
        if e.failures >= s.max_attempts {
            e.locked_until = now_ms + s.lockout_ms;
            e.failures = 0;
            e.window_start = now_ms;
            return Some(s.lockout_ms);
        }
        None
    }

    /// A successful auth clears the address's failures.
    pub fn record_success(&self, ip: IpAddr) {
        lock(&self.entries).remove(&ip);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_out_after_max_failures_then_expires() {
        let rl = RateLimiter::new(RateLimitSettings {
            max_attempts: 3,
            window_ms: 1000,
            lockout_ms: 5000,
            exempt_loopback: true,
        });
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        assert_eq!(rl.record_failure(ip, 0), None);
        assert_eq!(rl.record_failure(ip, 10), None);
        assert_eq!(rl.check(ip, 10), None);
        assert_eq!(rl.record_failure(ip, 20), Some(5000));
        assert_eq!(rl.check(ip, 1020), Some(4000));
        assert_eq!(rl.check(ip, 5020), None);
        // Another address is unaffected.
        assert_eq!(rl.check("192.0.2.10".parse().unwrap(), 30), None);
    }

    #[test]
    fn window_resets_and_success_clears() {
        let rl = RateLimiter::new(RateLimitSettings {
            max_attempts: 2,
            window_ms: 100,
            lockout_ms: 50,
            exempt_loopback: true,
        });
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        rl.record_failure(ip, 0);
        assert_eq!(
            rl.record_failure(ip, 200),
            None,
            "old failure fell out of the window"
        );
        rl.record_success(ip);
        assert_eq!(rl.record_failure(ip, 201), None);
    }

    #[test]
    fn config_can_count_loopback_too() {
        let rl = RateLimiter::new(RateLimitSettings::from(&RateLimitConfig {
            max_attempts: Some(1),
            exempt_loopback: Some(false),
            ..Default::default()
        }));
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(rl.record_failure(lo, 0), Some(DEFAULT_LOCKOUT_MS));
        assert!(rl.check(lo, 1).is_some());
    }

    #[test]
    fn loopback_exempt_by_default() {
        let rl = RateLimiter::new(RateLimitSettings {
            max_attempts: 1,
            ..Default::default()
        });
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(rl.record_failure(lo, 0), None);
        assert_eq!(rl.check(lo, 0), None);
    }
}
