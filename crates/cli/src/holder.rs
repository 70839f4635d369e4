//! Who holds the gateway lock, and whether that process is a live gateway or one that is dying.
//!
//! After `kill -9` the kernel tears the gateway down thread by thread: the group leader may
//! already be a zombie (`Z`), or still in `do_exit` (flag `PF_EXITING`, often in state `D`),
//! while the last thread still holds the lock's open file. A start issued at that moment must
//! wait for the release (bounded), not report the dead pid as "already running".

use openclaw_rs_state::FileLock;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a start waits for a dying holder to let go of the lock.
pub const DYING_WAIT: Duration = Duration::from_secs(15);

/// `PF_EXITING` in `/proc/<pid>/stat` field 9 (include/linux/sched.h): the task is in `do_exit`.
const PF_EXITING: u64 = 0x4;

/// The lock's state as seen from outside.
#[derive(Debug, PartialEq, Eq)]
pub enum Holder {
    /// Nobody holds it (it was free a moment ago).
    Free,
    /// A live process holds it (pid when known).
    Live(Option<u32>),
    /// A process that is exiting (zombie, `PF_EXITING`, SIGKILL pending, or already gone) holds it.
    Dying(u32, &'static str),
}

/// Look once: free, held by a live process, or held by a dying one.
pub fn probe(lock: &Path, runtime_pid: Option<u32>) -> Holder {
    match FileLock::try_acquire(lock) {
        Ok(Some(_released_on_drop)) => return Holder::Free,
        Ok(None) => {}
        // Cannot even open it: treat as free, the real acquire reports the error.
        Err(_) => return Holder::Free,
    }
    let Some(pid) = flock_holder(lock).or(runtime_pid) else {
        return Holder::Live(None);
    };
    match dying(pid) {
        Some(why) => Holder::Dying(pid, why),
        None => Holder::Live(Some(pid)),
    }
}

/// Wait (at most `max`) while the lock is held by a dying process; returns the last probe.
pub fn settle(lock: &Path, runtime_pid: impl Fn() -> Option<u32>, max: Duration) -> Holder {
    let deadline = Instant::now() + max;
    loop {
        let h = probe(lock, runtime_pid());
        match h {
            Holder::Dying(..) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10))
            }
            other => return other,
        }
    }
}

/// The pid holding an `flock` on `path`, from `/proc/locks` (matched on device and inode).
pub fn flock_holder(path: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    let dev = meta.dev();
    // Linux's dev_t encoding (glibc's gnu_dev_major/minor).
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    let want = format!("{major:02x}:{minor:02x}:{}", meta.ino());
    let text = std::fs::read_to_string("/proc/locks").ok()?;
    parse_locks(&text, &want)
}

/// The holder pid in `/proc/locks` text for the `maj:min:inode` key `want` (waiters, `->`, skipped).
fn parse_locks(text: &str, want: &str) -> Option<u32> {
    text.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // "1: FLOCK  ADVISORY  WRITE 1234 fe:00:5677147 0 EOF"
        if fields.get(1) != Some(&"FLOCK") || fields.get(5) != Some(&want) {
            return None;
        }
        fields.get(4)?.parse().ok()
    })
}

/// Why `pid` counts as dying, or None for a live process.
pub fn dying(pid: u32) -> Option<&'static str> {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Some("gone");
    };
    let (state, flags) = parse_stat(&stat)?;
    if state == 'Z' || state == 'X' || state == 'x' {
        return Some("zombie");
    }
    if flags & PF_EXITING != 0 {
        return Some("exiting");
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    if sigkill_pending(&status) {
        return Some("killed");
    }
    None
}

/// State letter and flags from `/proc/<pid>/stat` (the command name may hold spaces and parens).
fn parse_stat(stat: &str) -> Option<(char, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let flags = fields.get(6)?.parse().ok()?;
    Some((state, flags))
}

/// Whether SIGKILL is pending for the thread group (`ShdPnd`) or its leader (`SigPnd`).
fn sigkill_pending(status: &str) -> bool {
    const SIGKILL_BIT: u64 = 1 << (libc::SIGKILL - 1);
    status.lines().any(|l| {
        let Some((key, value)) = l.split_once(':') else {
            return false;
        };
        (key == "ShdPnd" || key == "SigPnd")
            && u64::from_str_radix(value.trim(), 16).is_ok_and(|m| m & SIGKILL_BIT != 0)
    })
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests start throwaway processes to observe them exit
mod tests {
    use super::*;

    #[test]
    fn parses_proc_locks_and_skips_waiters() {
        let text = "1: FLOCK  ADVISORY  WRITE 17431 fe:00:5677147 0 EOF\n\
                    2: -> FLOCK  ADVISORY  WRITE 99 fe:00:42 0 EOF\n\
                    3: POSIX  ADVISORY  WRITE 7 fe:00:42 0 EOF\n\
                    4: FLOCK  ADVISORY  WRITE 18748 fe:00:42 0 EOF\n";
        assert_eq!(parse_locks(text, "fe:00:42"), Some(18748));
        assert_eq!(parse_locks(text, "fe:00:5677147"), Some(17431));
        assert_eq!(parse_locks(text, "fe:00:1"), None);
    }

    #[test]
    fn parses_stat_with_odd_command_names() {
        let stat = "42 (a) b (c)) Z 1 42 42 0 -1 4194564 0 0";
        assert_eq!(parse_stat(stat), Some(('Z', 4194564)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn sigkill_bit_in_shdpnd() {
        assert!(sigkill_pending(
            "SigPnd:\t0000000000000000\nShdPnd:\t0000000000000100\n"
        ));
        assert!(!sigkill_pending(
            "SigPnd:\t0000000000000000\nShdPnd:\t0000000000004000\n"
        ));
    }

    #[test]
    fn this_process_is_live_and_its_lock_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gateway.lock");
        assert_eq!(probe(&path, None), Holder::Free);
        let _held = FileLock::acquire(&path).unwrap();
        assert_eq!(flock_holder(&path), Some(std::process::id()));
        assert_eq!(dying(std::process::id()), None);
        // A second open file description conflicts even within one process.
        assert_eq!(probe(&path, None), Holder::Live(Some(std::process::id())));
    }

    #[test]
    fn a_reaped_pid_counts_as_gone() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert_eq!(dying(pid), Some("gone"));
    }

    #[test]
    fn an_unreaped_child_is_a_zombie() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        // Bounded wait for the exit, without reaping (waitid WNOWAIT would need unsafe; poll /proc).
        let deadline = Instant::now() + Duration::from_secs(10);
        while dying(pid).is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(dying(pid), Some("zombie"));
        child.wait().unwrap();
    }
}
