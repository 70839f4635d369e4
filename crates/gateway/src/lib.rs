//! The gateway server library: WebSocket + HTTP on one port, handshake, auth, method dispatch, shutdown.
