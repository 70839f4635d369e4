//! System methods OpenClaw's CLI calls: `logs.tail` (`openclaw logs`), `system-presence`
//! (`openclaw system presence`, the status probe) and `channels.status` (`openclaw channels
//! status`; this gateway has no chat channels, and says so in OpenClaw's shape).
//!
//! `logs.tail` reads the gateway's own rolling JSONL log, `$STATE/logs/gateway.jsonl`
//! (`crate::logfile`), written whether the gateway runs in the foreground or as a daemon.

use crate::base::now_ms;
use crate::rpc::MethodSpec;
use crate::state::GatewayState;
use openclaw_rs_protocol::methods::gateway::{
    ChannelsStatusParams, ChannelsStatusResult, LogsTailParams, LogsTailResult, PresenceEntry,
    SystemPresenceParams,
};
use openclaw_rs_protocol::{ErrorCode, ErrorShape};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Lines and bytes one `logs.tail` returns by default and at most (OpenClaw's bounds).
const DEFAULT_LIMIT: u64 = 500;
const MAX_LIMIT: u64 = 5_000;
const DEFAULT_MAX_BYTES: u64 = 250_000;
const MAX_BYTES: u64 = 1_000_000;

pub(crate) fn specs() -> Vec<MethodSpec> {
    vec![
        MethodSpec::typed(
            |state, _ctx, p: LogsTailParams| async move { logs_tail(&state, p).await },
        ),
        MethodSpec::typed(
            |state, _ctx, _p: SystemPresenceParams| async move { Ok(presence(&state)) },
        ),
        MethodSpec::typed(
            |_state, _ctx, p: ChannelsStatusParams| async move { channels_status(&p) },
        ),
    ]
}

async fn logs_tail(state: &GatewayState, p: LogsTailParams) -> Result<LogsTailResult, ErrorShape> {
    let cursor = p.cursor;
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT) as usize;
    let max_bytes = p.max_bytes.unwrap_or(DEFAULT_MAX_BYTES).clamp(1, MAX_BYTES);
    let file = state.options().state_dir.join(crate::logfile::LOG_FILE);
    let path = file.clone();
    let slice = tokio::task::spawn_blocking(move || match std::fs::metadata(&path) {
        // No log file yet (an embedded gateway without the CLI's log layer, or nothing logged):
        // an empty slice, as OpenClaw answers for a missing file.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(LogsTailResult {
            truncated: Some(false),
            reset: Some(cursor.is_some_and(|c| c > 0)),
            ..LogsTailResult::default()
        }),
        _ => read_slice(&path, cursor, limit, max_bytes),
    })
    .await
    .map_err(|e| ErrorShape::new(ErrorCode::Unavailable, format!("log read failed: {e}")))?
    .map_err(|e| {
        ErrorShape::new(
            ErrorCode::Unavailable,
            format!("log read failed: {}: {e}", file.display()),
        )
    })?;
    Ok(LogsTailResult {
        file: file.display().to_string(),
        ..slice
    })
}

/// OpenClaw's slice rules: from `cursor` (or the last `max_bytes`) to the end, whole lines only,
/// the last `limit` of them; `reset` when the cursor was past the end (the file was replaced)
/// or too far behind to catch up within `max_bytes`.
fn read_slice(
    path: &Path,
    cursor: Option<u64>,
    limit: usize,
    max_bytes: u64,
) -> std::io::Result<LogsTailResult> {
    let mut f = std::fs::File::open(path)?;
    let size = f.metadata()?.len();
    let mut reset = false;
    let start = match cursor {
        Some(c) if c > size => {
            reset = true;
            size.saturating_sub(max_bytes)
        }
        Some(c) if size - c > max_bytes => {
            reset = true;
            size - max_bytes
        }
        Some(c) => c,
        None => size.saturating_sub(max_bytes),
    };
    let mut truncated = start > 0 && (cursor.is_none() || reset);
    if start >= size {
        return Ok(LogsTailResult {
            cursor: size,
            size,
            truncated: Some(truncated),
            reset: Some(reset),
            ..LogsTailResult::default()
        });
    }
    // Whether `start` is at a line boundary (else the partial first line is dropped).
    let at_boundary = start == 0 || {
        let mut b = [0u8; 1];
        f.seek(SeekFrom::Start(start - 1))?;
        f.read_exact(&mut b)?;
        b[0] == b'\n'
    };
    f.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::with_capacity((size - start) as usize);
    f.take(size - start).read_to_end(&mut buf)?;
    // Only complete lines; a line still being written is left for the next call.
    let end = buf.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let text = String::from_utf8_lossy(&buf[..end]);
    let mut lines: Vec<&str> = text.lines().collect();
    if !at_boundary && !lines.is_empty() {
        lines.remove(0);
    }
    if lines.len() > limit {
        truncated = true;
        lines.drain(..lines.len() - limit);
    }
    Ok(LogsTailResult {
        file: String::new(),
        cursor: start + end as u64,
        size,
        lines: lines.into_iter().map(str::to_owned).collect(),
        truncated: Some(truncated),
        reset: Some(reset),
    })
}

/// `channels.status {channel?}`: no channels. Asking for one by name is `unknown channel`, as
/// OpenClaw answers for a channel it does not have.
fn channels_status(p: &ChannelsStatusParams) -> Result<ChannelsStatusResult, ErrorShape> {
    if let Some(c) = &p.channel {
        return Err(ErrorShape::new(
            ErrorCode::InvalidRequest,
            format!("unknown channel: {c} (this gateway has no chat channels)"),
        ));
    }
    Ok(ChannelsStatusResult {
        ts: now_ms(),
        ..ChannelsStatusResult::default()
    })
}

/// Presence entries: this gateway (`reason: "self"`) and each authenticated connection.
fn presence(state: &GatewayState) -> Vec<PresenceEntry> {
    let host = crate::base::hostname();
    let version = crate::base::VERSION;
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let mut out = vec![PresenceEntry {
        text: Some(format!(
            "Gateway: {host} · app {version} · mode gateway · reason self"
        )),
        host: Some(host),
        version: Some(version.into()),
        platform: Some(format!("{} {release}", std::env::consts::OS)),
        device_family: Some("Linux".into()),
        mode: Some("gateway".into()),
        reason: Some("self".into()),
        ts: now_ms(),
        instance_id: Some(state.boot_id().to_owned()),
        ..PresenceEntry::default()
    }];
    for c in state.connections() {
        let i = c.info();
        let name = i
            .client
            .display_name
            .clone()
            .unwrap_or_else(|| i.client.id.clone());
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        out.push(PresenceEntry {
            text: Some(format!(
                "{name} · {} · mode {} · reason connect",
                i.client.version, i.client.mode
            )),
            host: non_empty(&name),
            ip: Some(i.peer.ip().to_string()),
            version: non_empty(&i.client.version),
            platform: non_empty(&i.client.platform),
            device_family: i.client.device_family.clone().filter(|s| !s.is_empty()),
            mode: non_empty(&i.client.mode),
            reason: Some("connect".into()),
            ts: i.connected_at_ms,
            instance_id: Some(
                i.client
                    .instance_id
                    .clone()
                    .unwrap_or_else(|| c.id().to_owned()),
            ),
            device_id: i.device_id.clone(),
            roles: Some(vec![i.role.clone()]),
            scopes: Some(i.scopes.clone()),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(v: &LogsTailResult) -> Vec<&str> {
        v.lines.iter().map(String::as_str).collect()
    }

    #[test]
    fn slices_follow_the_cursor_and_drop_partial_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("g.log");
        std::fs::write(&p, "one\ntwo\nthree\npart").unwrap();
        let all = read_slice(&p, None, 500, 1_000).unwrap();
        assert_eq!(lines(&all), ["one", "two", "three"]);
        assert_eq!(all.cursor, 14, "up to the last newline: {all:?}");
        assert_eq!(all.truncated, Some(false));
        // The rest of the partial line arrives: the next call returns it from the cursor.
        std::fs::write(&p, "one\ntwo\nthree\npartial\n").unwrap();
        let next = read_slice(&p, Some(14), 500, 1_000).unwrap();
        assert_eq!(lines(&next), ["partial"]);
        assert_eq!(next.reset, Some(false));
        // Limits: the last `limit` lines, and a byte window that starts mid-line drops it.
        let last = read_slice(&p, None, 2, 1_000).unwrap();
        assert_eq!(lines(&last), ["three", "partial"]);
        assert_eq!(last.truncated, Some(true));
        let window = read_slice(&p, None, 500, 10).unwrap();
        assert_eq!(lines(&window), ["partial"]);
        // A cursor past the end (the file was replaced) resets.
        let reset = read_slice(&p, Some(10_000), 500, 1_000).unwrap();
        assert_eq!(reset.reset, Some(true));
        assert_eq!(lines(&reset).len(), 4);
    }
}
