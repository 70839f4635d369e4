//! Passing listening sockets to the next process image.
//!
//! **Why unsafe:** adopting an inherited descriptor (`FromRawFd`) and clearing `FD_CLOEXEC`
//! (`fcntl`) have no safe std API. Each use is local, checked, and explained below.
//!
//! Layer 0: uses nothing else in the crate.
#![allow(unsafe_code)]

use std::ffi::OsString;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;

/// Comma-separated descriptor numbers of listeners handed over by the previous process.
pub const LISTEN_FDS_ENV: &str = "OPENCLAW_LISTEN_FDS";

fn set_cloexec(fd: RawFd, on: bool) -> std::io::Result<()> {
    // SAFETY: fcntl on a descriptor number has no memory-safety preconditions; an invalid
    // descriptor yields EBADF, which we report.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let flags = if on {
        flags | libc::FD_CLOEXEC
    } else {
        flags & !libc::FD_CLOEXEC
    };
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, flags) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Listeners named by `OPENCLAW_LISTEN_FDS` (via `get`), or `None` when it is unset.
/// Each descriptor must be an open, listening TCP socket; it gets `FD_CLOEXEC` back so the
/// gateway's children never inherit it.
pub fn inherited_listeners(
    get: impl Fn(&str) -> Option<String>,
) -> Result<Option<Vec<TcpListener>>, String> {
    let Some(spec) = get(LISTEN_FDS_ENV).filter(|s| !s.trim().is_empty()) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for part in spec.split(',') {
        let fd: RawFd = part
            .trim()
            .parse()
            .map_err(|_| format!("{LISTEN_FDS_ENV}={spec}: `{part}` is not a descriptor number"))?;
        if fd < 3 {
            return Err(format!(
                "{LISTEN_FDS_ENV}={spec}: descriptor {fd} is stdio, not a listener"
            ));
        }
        // Checks the descriptor is open (EBADF otherwise) before anything takes ownership.
        set_cloexec(fd, true)
            .map_err(|e| format!("{LISTEN_FDS_ENV}={spec}: descriptor {fd} is not usable: {e}"))?;
        let mut kind: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `kind` and `len` are valid, correctly sized out-pointers for SO_ACCEPTCONN.
        let rc = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_ACCEPTCONN,
                (&mut kind as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        if rc != 0 || kind == 0 {
            return Err(format!(
                "{LISTEN_FDS_ENV}={spec}: descriptor {fd} is not a listening socket"
            ));
        }
        // SAFETY: the descriptor is open, is a listening socket (checked above), and was
        // handed to this process image solely for this purpose: nothing else owns it.
        out.push(unsafe { TcpListener::from_raw_fd(fd) });
    }
    Ok(Some(out))
}

/// Duplicates of the listening sockets, kept by the binary so the sockets stay open while
/// the gateway shuts down and the next image starts.
#[derive(Debug)]
pub struct ListenerHandoff {
    fds: Vec<OwnedFd>,
}

impl ListenerHandoff {
    /// Duplicate `listeners` (the duplicates are close-on-exec until [`Self::exec`]).
    pub fn new(listeners: &[TcpListener]) -> std::io::Result<ListenerHandoff> {
        let fds = listeners
            .iter()
            .map(|l| l.try_clone().map(OwnedFd::from))
            .collect::<Result<_, _>>()?;
        Ok(ListenerHandoff { fds })
    }

    /// The descriptor list as passed in `OPENCLAW_LISTEN_FDS`.
    pub fn env_value(&self) -> String {
        self.fds
            .iter()
            .map(|f| f.as_raw_fd().to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Replace this process with the same binary and arguments, passing the listeners and
    /// `restarts` (the in-place restarts so far, this one included, in
    /// [`crate::metrics::RESTARTS_ENV`]). Returns only on failure.
    pub fn exec(self, args: &[OsString], restarts: u64) -> std::io::Error {
        for f in &self.fds {
            if let Err(e) = set_cloexec(f.as_raw_fd(), false) {
                return e;
            }
        }
        let exe =
            std::env::current_exe().unwrap_or_else(|_| std::path::PathBuf::from("/proc/self/exe"));
        let mut cmd = openclaw_rs_app_server::spawn::exec_command(&exe);
        if let Some(a0) = args.first() {
            cmd.arg0(a0);
        }
        cmd.args(args.iter().skip(1))
            .env(LISTEN_FDS_ENV, self.env_value())
            .env(crate::metrics::RESTARTS_ENV, restarts.to_string());
        tracing::info!(exe = %exe.display(), fds = %self.env_value(), "re-executing gateway with inherited listeners");
        // The descriptors must survive into the new image: leak them on purpose.
        let _keep: Vec<RawFd> = self
            .fds
            .into_iter()
            .map(std::os::fd::IntoRawFd::into_raw_fd)
            .collect();
        cmd.exec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inherited_listener_round_trip() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let h = ListenerHandoff::new(std::slice::from_ref(&l)).unwrap();
        let spec = h.env_value();
        // Adopting takes ownership of the duplicate, so forget the handoff's copy.
        std::mem::forget(h);
        let got = inherited_listeners(|k| (k == LISTEN_FDS_ENV).then(|| spec.clone()))
            .unwrap()
            .unwrap();
        assert_eq!(got[0].local_addr().unwrap(), addr);
        assert!(inherited_listeners(|_| None).unwrap().is_none());
        let e = inherited_listeners(|_| Some("1".into())).unwrap_err();
        assert!(e.contains("stdio"), "{e}");
        let e = inherited_listeners(|_| Some("x".into())).unwrap_err();
        assert!(e.contains("not a descriptor"), "{e}");
        let f = std::fs::File::open("/proc/self/status").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&f);
        let e = inherited_listeners(|_| Some(fd.to_string())).unwrap_err();
        assert!(e.contains("not a listening socket"), "{e}");
    }
}
