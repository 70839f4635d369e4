//! Async client for the OpenClaw gateway protocol: handshake, request correlation, events, reconnect.
