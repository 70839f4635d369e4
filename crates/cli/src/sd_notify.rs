//! Readiness notification to a service manager (`sd_notify`): one datagram of `KEY=VALUE` lines
//! to `$NOTIFY_SOCKET`. Used by `gateway run` under a `Type=notify` unit; a leaf module.

/// Send `message` (newline-separated `KEY=VALUE` lines) to the notify socket `socket`: a path,
/// or `@name` for the abstract namespace.
pub fn notify_to(socket: &str, message: &str) -> std::io::Result<()> {
    use std::os::unix::net::UnixDatagram;
    let sock = UnixDatagram::unbound()?;
    if let Some(name) = socket.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
        sock.send_to_addr(message.as_bytes(), &addr)?;
    } else {
        sock.send_to(message.as_bytes(), socket)?;
    }
    Ok(())
}

/// [`notify_to`] the service manager named by `$NOTIFY_SOCKET`; nothing when it is unset.
pub fn notify(message: &str) {
    let Some(socket) = std::env::var("NOTIFY_SOCKET")
        .ok()
        .filter(|s| !s.is_empty())
    else {
        return;
    };
    if let Err(e) = notify_to(&socket, message) {
        tracing::warn!(socket = %socket, error = %e, "cannot notify the service manager");
    }
}

/// Whether a service manager asked for notifications.
pub fn notify_wanted() -> bool {
    std::env::var_os("NOTIFY_SOCKET").is_some_and(|s| !s.is_empty())
}

/// `CLOCK_MONOTONIC` in microseconds (systemd's `MONOTONIC_USEC=` for `RELOADING=1`).
pub fn monotonic_usec() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own and pass by valid pointer.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    if rc != 0 {
        return 0;
    }
    (ts.tv_sec as u64) * 1_000_000 + (ts.tv_nsec as u64) / 1_000
}
