//! The gateway's own rolling log file, `$STATE/logs/gateway.jsonl`, in OpenClaw's JSONL line
//! format, which `logs.tail`, OpenClaw's `openclaw logs` and the Control UI's Logs view parse
//! (time, level, subsystem, message):
//!
//! ```text
//! {"0":"{\"subsystem\":\"gateway\"}","1":"gateway ready","_meta":{"runtime":"openclaw-rs",
//!  "runtimeVersion":"0.1.0","hostname":"vm","date":"2026-12-03T13:34:28.112Z","logLevelId":3,
//!  "logLevelName":"INFO","name":"{\"subsystem\":\"gateway\"}","parentNames":["openclaw"]},
//!  "time":"2026-12-03T13:34:28.112+00:00","hostname":"vm","message":"gateway ready"}
//! ```
//!
//! **Never stalls the gateway:** [`JsonlLayer`] (a tracing layer, installed by the CLI next to
//! its stderr output) formats a line and hands it to a bounded channel with `try_send`; when the
//! channel is full (a slow or full disk) the line is dropped and counted. One writer thread,
//! started by [`LogWriter::start`] (the other half of [`layer`]) once the state dir is known,
//! appends the lines, rotates the file at [`MAX_FILE_BYTES`] (keeping [`ARCHIVES`] old files,
//! `gateway.1.jsonl` newest) and, after a write error, drops lines and retries opening the file
//! at most once a second. Nothing is parked in a global: the layer and its writer are a pair.

use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::Layer;

/// The log file, relative to the state dir.
pub const LOG_FILE: &str = "logs/gateway.jsonl";
/// The active file is rotated before it would grow past this.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;
/// Rotated files kept beside the active one.
pub const ARCHIVES: usize = 3;
/// Lines waiting for the writer; beyond this they are dropped.
const QUEUE: usize = 4096;
/// Longest line written (a longer message is cut).
const MAX_LINE_BYTES: usize = 16 * 1024;

/// A tracing layer that formats each event as an OpenClaw JSONL line for the log file.
#[derive(Debug)]
pub struct JsonlLayer {
    tx: SyncSender<String>,
    host: String,
    dropped: Arc<AtomicU64>,
}

/// The receiving end of a [`layer`]'s lines: [`LogWriter::start`] it once the file is known.
#[derive(Debug)]
pub struct LogWriter {
    rx: Receiver<String>,
}

/// The layer and its writer; the layer's lines queue until [`LogWriter::start`] (at most
/// `QUEUE` of them).
pub fn layer() -> (JsonlLayer, LogWriter) {
    let (tx, rx) = sync_channel(QUEUE);
    let layer = JsonlLayer {
        tx,
        host: crate::base::hostname(),
        dropped: Arc::new(AtomicU64::new(0)),
    };
    (layer, LogWriter { rx })
}

impl LogWriter {
    /// Start the writer thread appending to `path` (normally `$STATE/` + [`LOG_FILE`]). The
    /// thread belongs to the process's logging: it ends when the layer is dropped (with the
    /// subscriber). Returns false when the thread could not be started.
    pub fn start(self, path: PathBuf) -> bool {
        start_writer(self.rx, path)
    }
}

fn start_writer(rx: Receiver<String>, path: PathBuf) -> bool {
    std::thread::Builder::new()
        .name("gateway-log-writer".into())
        .spawn(move || {
            let mut w = RollingFile::new(path, MAX_FILE_BYTES, ARCHIVES);
            while let Ok(line) = rx.recv() {
                w.write_line(&line);
                while let Ok(more) = rx.try_recv() {
                    w.write_line(&more);
                }
                w.flush();
            }
        })
        .is_ok()
}

/// tslog's level ids and names, as OpenClaw writes them.
fn level(l: &Level) -> (u8, &'static str) {
    match *l {
        Level::TRACE => (1, "TRACE"),
        Level::DEBUG => (2, "DEBUG"),
        Level::INFO => (3, "INFO"),
        Level::WARN => (4, "WARN"),
        _ => (5, "ERROR"),
    }
}

/// `openclaw_rs_gateway::server` → `gateway`; other targets as they are.
fn subsystem(target: &str) -> &str {
    let first = target.split("::").next().unwrap_or(target);
    first
        .strip_prefix("openclaw_rs_")
        .or_else(|| first.strip_prefix("openclaw_"))
        .unwrap_or(first)
}

#[derive(Serialize)]
struct Meta<'a> {
    runtime: &'static str,
    #[serde(rename = "runtimeVersion")]
    runtime_version: &'static str,
    hostname: &'a str,
    date: String,
    #[serde(rename = "logLevelId")]
    log_level_id: u8,
    #[serde(rename = "logLevelName")]
    log_level_name: &'static str,
    name: &'a str,
    #[serde(rename = "parentNames")]
    parent_names: [&'static str; 1],
}

#[derive(Serialize)]
struct Line<'a> {
    #[serde(rename = "0")]
    name: &'a str,
    #[serde(rename = "1")]
    text: &'a str,
    #[serde(rename = "_meta")]
    meta: Meta<'a>,
    time: String,
    hostname: &'a str,
    message: &'a str,
}

/// The message and the `key=value` fields of an event.
#[derive(Default)]
struct Text {
    message: String,
    fields: String,
}

impl Visit for Text {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.fields.push_str(&format!(" {}={value}", field.name()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message.push_str(&format!("{value:?}"));
        } else {
            self.fields
                .push_str(&format!(" {}={value:?}", field.name()));
        }
    }
}

/// One JSONL line (without the newline) for an event at `ms`.
fn format_line(host: &str, lvl: &Level, target: &str, text: &str, ms: u64) -> String {
    let (id, name) = level(lvl);
    let logger = format!(
        "{{\"subsystem\":\"{}\"}}",
        subsystem(target).replace('"', "")
    );
    let iso = iso_ms(ms);
    let line = Line {
        name: &logger,
        text,
        meta: Meta {
            runtime: "openclaw-rs",
            runtime_version: crate::base::VERSION,
            hostname: host,
            date: iso.clone(),
            log_level_id: id,
            log_level_name: name,
            name: &logger,
            parent_names: ["openclaw"],
        },
        time: format!("{}+00:00", iso.trim_end_matches('Z')),
        hostname: host,
        message: text,
    };
    serde_json::to_string(&line).unwrap_or_default()
}

impl<S: Subscriber> Layer<S> for JsonlLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut t = Text::default();
        event.record(&mut t);
        let mut text = t.message;
        text.push_str(&t.fields);
        if text.len() > MAX_LINE_BYTES {
            let cut = (0..=MAX_LINE_BYTES)
                .rev()
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(0);
            text.truncate(cut);
            text.push('…');
        }
        let meta = event.metadata();
        let line = format_line(
            &self.host,
            meta.level(),
            meta.target(),
            &text,
            crate::base::now_ms(),
        );
        match self.tx.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// An append-only file rotated by size.
#[derive(Debug)]
pub struct RollingFile {
    path: PathBuf,
    max_bytes: u64,
    archives: usize,
    file: Option<BufWriter<File>>,
    size: u64,
    last_open_attempt: Option<Instant>,
    /// Lines lost to write errors.
    pub dropped: u64,
}

impl RollingFile {
    /// A file at `path` rotated before it passes `max_bytes`, keeping `archives` old ones.
    pub fn new(path: PathBuf, max_bytes: u64, archives: usize) -> RollingFile {
        RollingFile {
            path,
            max_bytes,
            archives,
            file: None,
            size: 0,
            last_open_attempt: None,
            dropped: 0,
        }
    }

    /// `gateway.jsonl` → `gateway.<n>.jsonl`.
    fn archive(&self, n: usize) -> PathBuf {
        let stem = self
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let ext = self
            .path
            .extension()
            .map(|s| format!(".{}", s.to_string_lossy()))
            .unwrap_or_default();
        self.path.with_file_name(format!("{stem}.{n}{ext}"))
    }

    fn open(&mut self) -> io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut o = OpenOptions::new();
        o.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        let f = o.open(&self.path)?;
        self.size = f.metadata()?.len();
        self.file = Some(BufWriter::new(f));
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        if let Some(mut f) = self.file.take() {
            f.flush()?;
        }
        if self.archives == 0 {
            std::fs::remove_file(&self.path).or_else(ignore_missing)?;
        } else {
            std::fs::remove_file(self.archive(self.archives)).or_else(ignore_missing)?;
            for n in (1..self.archives).rev() {
                std::fs::rename(self.archive(n), self.archive(n + 1)).or_else(ignore_missing)?;
            }
            std::fs::rename(&self.path, self.archive(1)).or_else(ignore_missing)?;
        }
        self.open()
    }

    /// Append one line (a newline is added). On an error the line is dropped and counted.
    pub fn write_line(&mut self, line: &str) {
        if let Err(e) = self.try_write(line) {
            self.dropped += 1;
            self.file = None;
            if self.dropped == 1 {
                eprintln!("gateway log file {}: {e}", self.path.display());
            }
        }
    }

    fn try_write(&mut self, line: &str) -> io::Result<()> {
        if self.file.is_none() {
            let now = Instant::now();
            if self
                .last_open_attempt
                .is_some_and(|t| now.duration_since(t) < Duration::from_secs(1))
            {
                return Err(io::Error::other("log file unavailable; line dropped"));
            }
            self.last_open_attempt = Some(now);
            self.open()?;
        }
        let len = line.len() as u64 + 1;
        if self.size > 0 && self.size + len > self.max_bytes {
            self.rotate()?;
        }
        let Some(f) = self.file.as_mut() else {
            return Err(io::Error::other("log file not open"));
        };
        f.write_all(line.as_bytes())?;
        f.write_all(b"\n")?;
        self.size += len;
        Ok(())
    }

    /// Flush buffered lines to the file.
    pub fn flush(&mut self) {
        if let Some(f) = self.file.as_mut() {
            if f.flush().is_err() {
                self.file = None;
            }
        }
    }

    /// The active file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn ignore_missing(e: io::Error) -> io::Result<()> {
    if e.kind() == io::ErrorKind::NotFound {
        Ok(())
    } else {
        Err(e)
    }
}

/// Unix ms as ISO-8601 UTC with milliseconds (`2026-12-03T13:35:10.417Z`).
pub fn iso_ms(ms: u64) -> String {
    let secs = (ms / 1000) as i64;
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

/// Days since 1970-01-01 → (year, month, day) (Howard Hinnant's civil-from-days).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_are_utc_calendar_dates() {
        assert_eq!(iso_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_ms(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(iso_ms(1_796_304_910_417), "2026-12-03T13:35:10.417Z");
    }

    #[test]
    fn lines_are_openclaw_jsonl() {
        let l = format_line(
            "vm",
            &Level::WARN,
            "openclaw_rs_gateway::server",
            "gateway \"ready\"",
            1_796_304_910_417,
        );
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        assert_eq!(v["0"], "{\"subsystem\":\"gateway\"}");
        assert_eq!(v["1"], "gateway \"ready\"");
        assert_eq!(v["message"], "gateway \"ready\"");
        assert_eq!(v["time"], "2026-12-03T13:35:10.417+00:00");
        assert_eq!(v["_meta"]["date"], "2026-12-03T13:35:10.417Z");
        assert_eq!(v["_meta"]["logLevelName"], "WARN");
        assert_eq!(v["_meta"]["logLevelId"], 4);
        assert_eq!(v["_meta"]["name"], v["0"]);
        assert_eq!(v["hostname"], "vm");
    }

    #[test]
    fn the_file_rotates_at_its_cap_and_keeps_a_bounded_number_of_archives() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/gateway.jsonl");
        let mut f = RollingFile::new(path.clone(), 100, 2);
        for i in 0..40 {
            f.write_line(&format!("line {i:02} 0123456789"));
        }
        f.flush();
        assert_eq!(f.dropped, 0);
        let active = std::fs::read_to_string(&path).unwrap();
        assert!(active.len() <= 100, "{}", active.len());
        assert!(active.ends_with("line 39 0123456789\n"), "{active}");
        let first = std::fs::read_to_string(dir.path().join("logs/gateway.1.jsonl")).unwrap();
        assert!(first.len() <= 100 && !first.is_empty());
        assert!(dir.path().join("logs/gateway.2.jsonl").exists());
        assert!(!dir.path().join("logs/gateway.3.jsonl").exists());
        // Every kept line is whole.
        for l in active.lines().chain(first.lines()) {
            assert!(l.starts_with("line ") && l.ends_with("0123456789"), "{l}");
        }
    }

    #[test]
    fn a_write_error_drops_lines_instead_of_blocking() {
        let dir = tempfile::tempdir().unwrap();
        // The log path is a directory: every open fails.
        let path = dir.path().join("gateway.jsonl");
        std::fs::create_dir_all(&path).unwrap();
        let mut f = RollingFile::new(path, 1000, 1);
        let t = Instant::now();
        for _ in 0..1000 {
            f.write_line("x");
        }
        assert_eq!(f.dropped, 1000);
        assert!(t.elapsed() < Duration::from_secs(5));
    }
}
