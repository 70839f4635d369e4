//! On-disk format: one append-only JSONL journal per session plus an announce outbox.
//!
//! Layout under `$STATE/sessions/`:
//! - `<key with ':' as '~'>.jsonl`: the session's journal; it is also its transcript.
//! - `outbox/<hex(runId)>.json`: a child's result waiting to be recorded in its parent's
//!   journal (written with `write_atomic` before the child's `ended` record).
//! - `archive/`: journals of sessions removed by `cleanup: "delete"`.
//!
//! **Architecture Invariant:** a record is acknowledged to anyone only after `fsync` returned.
//! A torn last line (kill -9 during a write) is cut off on replay; nothing before it is lost.

use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::SessionError;

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "camelCase")]
pub(crate) enum Record {
    /// First line: the session's identity.
    #[serde(rename_all = "camelCase")]
    Session {
        key: String,
        agent_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        spawned_by: Option<String>,
        depth: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cleanup: Option<String>,
        ts: u64,
    },
    /// An inbound message: a queued run.
    #[serde(rename_all = "camelCase")]
    Message {
        run_id: String,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        runtime: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
        ts: u64,
    },
    /// A run started (attempt N).
    #[serde(rename_all = "camelCase")]
    Started {
        run_id: String,
        attempt: u32,
        ts: u64,
    },
    /// A run reached a terminal state.
    #[serde(rename_all = "camelCase")]
    Ended {
        run_id: String,
        status: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error_class: Option<String>,
        /// The failure may go away if the same run is tried again (e.g. the process crashed).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        retryable: bool,
        /// The runtime thread the run used (the session's next run resumes it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thread_id: Option<String>,
        ts: u64,
    },
    /// A child's result, recorded in the parent's journal (exactly once per `announce_id`).
    Announce(Announce),
}

/// A child's result on its way to the parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Announce {
    pub announce_id: String,
    pub parent_key: String,
    pub child_key: String,
    pub run_id: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub ts: u64,
}

fn io_err(action: &str, path: &Path, e: io::Error) -> SessionError {
    SessionError::Storage(format!("{action} {}: {e}", path.display()))
}

/// Append records to a journal and fsync. Creates the file (and fsyncs its directory) if new.
/// Returns how long the `fsync` took (the manager reports it to its observer).
pub(crate) fn append(path: &Path, records: &[Record]) -> Result<std::time::Duration, SessionError> {
    let mut buf = Vec::with_capacity(256);
    for r in records {
        serde_json::to_writer(&mut buf, r)
            .map_err(|e| SessionError::Storage(format!("encode journal record: {e}")))?;
        buf.push(b'\n');
    }
    let existed = path.exists();
    // Transcripts can hold anything a user or an agent wrote: owner-only.
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(openclaw_rs_state::SECRET_MODE)
        .open(path)
        .map_err(|e| io_err("open", path, e))?;
    f.write_all(&buf)
        .map_err(|e| io_err("append to", path, e))?;
    let fsync_began = std::time::Instant::now();
    f.sync_data().map_err(|e| io_err("fsync", path, e))?;
    let took = fsync_began.elapsed();
    if !existed {
        sync_dir(path);
    }
    Ok(took)
}

fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent() {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// Read all records of a journal. A torn or garbled tail is truncated away (and reported),
/// a garbled line in the middle is skipped with a warning.
pub(crate) fn replay(path: &Path) -> Result<Vec<Record>, SessionError> {
    let mut text = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut text))
        .map_err(|e| io_err("read", path, e))?;
    let mut out = Vec::new();
    let mut good_end = 0usize;
    let mut pos = 0usize;
    let mut bad_tail = false;
    while pos < text.len() {
        let end = text[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| pos + i);
        let Some(end) = end else {
            // No newline: the last write was torn.
            bad_tail = true;
            break;
        };
        let line = &text[pos..end];
        match serde_json::from_slice::<Record>(line) {
            Ok(r) => {
                out.push(r);
                good_end = end + 1;
            }
            Err(e) if end + 1 >= text.len() => {
                tracing::warn!(path = %path.display(), error = %e, "torn journal tail");
                bad_tail = true;
                break;
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "skipping unreadable journal line");
                good_end = end + 1;
            }
        }
        pos = end + 1;
    }
    if bad_tail {
        let f = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| io_err("open", path, e))?;
        f.set_len(good_end as u64)
            .and_then(|_| f.sync_all())
            .map_err(|e| io_err("truncate torn tail of", path, e))?;
    }
    Ok(out)
}

/// The last records of a journal, read backwards in blocks until `limit` records matching
/// `counts` were found (records in between are returned too, in file order). Read-only: a torn
/// or unreadable line is skipped, never repaired here.
pub(crate) fn read_tail(
    path: &Path,
    limit: usize,
    counts: impl Fn(&Record) -> bool,
) -> Result<Vec<Record>, SessionError> {
    use std::io::{Seek, SeekFrom};
    const BLOCK: u64 = 64 * 1024;
    let mut f = File::open(path).map_err(|e| io_err("open", path, e))?;
    let len = f.metadata().map_err(|e| io_err("stat", path, e))?.len();
    let mut pos = len;
    // Bytes of a line that started before the block read last.
    let mut carry: Vec<u8> = Vec::new();
    let mut rev = Vec::new();
    let mut found = 0usize;
    while pos > 0 && found < limit {
        let start = pos.saturating_sub(BLOCK);
        let mut buf = vec![0u8; (pos - start) as usize];
        f.seek(SeekFrom::Start(start))
            .and_then(|_| f.read_exact(&mut buf))
            .map_err(|e| io_err("read", path, e))?;
        buf.extend_from_slice(&carry);
        let mut lines: Vec<&[u8]> = buf.split(|b| *b == b'\n').collect();
        let partial = if start > 0 && !lines.is_empty() {
            lines.remove(0).to_vec()
        } else {
            Vec::new()
        };
        for line in lines.iter().rev() {
            if line.is_empty() {
                continue;
            }
            if let Ok(r) = serde_json::from_slice::<Record>(line) {
                if counts(&r) {
                    found += 1;
                }
                rev.push(r);
                if found >= limit {
                    break;
                }
            }
        }
        carry = partial;
        pos = start;
    }
    rev.reverse();
    Ok(rev)
}

/// The last `limit` records `counts` selects, each with its 1-based position among all the
/// records `counts` selects in the journal (read from the start, so positions are absolute).
/// Lines that do not parse (a torn last line) are skipped, as in [`read_tail`].
pub(crate) fn read_numbered(
    path: &Path,
    limit: usize,
    counts: impl Fn(&Record) -> bool,
) -> Result<Vec<(u64, Record)>, SessionError> {
    use std::io::BufRead;
    let f = File::open(path).map_err(|e| io_err("open", path, e))?;
    let mut out = std::collections::VecDeque::new();
    let mut n = 0u64;
    for line in std::io::BufReader::new(f).split(b'\n') {
        let line = line.map_err(|e| io_err("read", path, e))?;
        if line.is_empty() {
            continue;
        }
        let Ok(r) = serde_json::from_slice::<Record>(&line) else {
            continue;
        };
        if !counts(&r) {
            continue;
        }
        n += 1;
        out.push_back((n, r));
        if out.len() > limit {
            out.pop_front();
        }
    }
    Ok(out.into())
}

/// Fuzzing entry point: `data` as a journal's content (written to `path`), read every way the
/// manager reads one. After the repairing replay the journal must replay to the same records.
#[doc(hidden)]
pub fn fuzz_replay(data: &[u8], path: &Path) {
    if fs::write(path, data).is_err() {
        return;
    }
    let _ = read_first(path);
    let _ = read_tail(path, 4, |_| true);
    let _ = read_numbered(path, 4, |r| matches!(r, Record::Ended { .. }));
    if let Ok(first) = replay(path) {
        match replay(path) {
            Ok(again) => assert_eq!(
                again.len(),
                first.len(),
                "a repaired journal replays the same"
            ),
            Err(e) => panic!("a repaired journal does not replay: {e}"),
        }
    }
}

/// The first record of a journal (its `session` record), read-only.
pub(crate) fn read_first(path: &Path) -> Result<Option<Record>, SessionError> {
    use std::io::BufRead;
    let f = File::open(path).map_err(|e| io_err("open", path, e))?;
    let mut line = String::new();
    std::io::BufReader::new(f)
        .read_line(&mut line)
        .map_err(|e| io_err("read", path, e))?;
    Ok(serde_json::from_str(line.trim_end()).ok())
}

/// Where a session's journal is: live, else the newest archived copy (`cleanup: "delete"`).
pub(crate) fn locate(dir: &Path, stem: &str) -> Option<PathBuf> {
    let live = dir.join(format!("{stem}.jsonl"));
    if live.is_file() {
        return Some(live);
    }
    let prefix = format!("{stem}.");
    fs::read_dir(dir.join("archive"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".jsonl"))
        })
        .max()
}

/// The outbox file of an announce.
pub(crate) fn outbox_path(dir: &Path, run_id: &str) -> PathBuf {
    dir.join("outbox")
        .join(format!("{}.json", crate::key::hex(run_id)))
}

/// Persist an announce in the outbox (atomic, fsynced).
pub(crate) fn write_outbox(dir: &Path, a: &Announce) -> Result<(), SessionError> {
    let bytes = serde_json::to_vec(a)
        .map_err(|e| SessionError::Storage(format!("encode announce: {e}")))?;
    openclaw_rs_state::write_atomic(
        &outbox_path(dir, &a.run_id),
        &bytes,
        openclaw_rs_state::SECRET_MODE,
    )?;
    Ok(())
}

/// Remove a delivered announce from the outbox. Returns whether the file is gone.
pub(crate) fn remove_outbox(dir: &Path, run_id: &str) -> bool {
    let p = outbox_path(dir, run_id);
    match fs::remove_file(&p) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::NotFound => true,
        Err(e) => {
            tracing::warn!(path = %p.display(), error = %e, "cannot remove delivered announce");
            false
        }
    }
}

/// Every announce in the outbox.
pub(crate) fn read_outbox(dir: &Path) -> Result<Vec<Announce>, SessionError> {
    let odir = dir.join("outbox");
    let entries = match fs::read_dir(&odir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err("list", &odir, e)),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let p = entry.path();
        if p.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        match fs::read(&p).map(|b| serde_json::from_slice::<Announce>(&b)) {
            Ok(Ok(a)) => out.push(a),
            Ok(Err(e)) => tracing::warn!(path = %p.display(), error = %e, "unreadable announce"),
            Err(e) => tracing::warn!(path = %p.display(), error = %e, "cannot read announce"),
        }
    }
    out.sort_by_key(|a| a.ts);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: &str) -> Record {
        Record::Message {
            run_id: id.into(),
            text: "echo hi".into(),
            model: None,
            runtime: None,
            timeout_ms: None,
            ts: 1,
        }
    }

    #[test]
    fn append_and_replay_roundtrip() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("j.jsonl");
        append(&p, &[msg("a"), msg("b")]).unwrap();
        let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        append(&p, &[msg("c")]).unwrap();
        let r = replay(&p).unwrap();
        assert_eq!(r, vec![msg("a"), msg("b"), msg("c")]);
    }

    #[test]
    fn torn_tail_is_truncated_and_appends_continue() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("j.jsonl");
        append(&p, &[msg("a")]).unwrap();
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(br#"{"t":"message","runId":"b","te"#).unwrap();
        drop(f);
        assert_eq!(replay(&p).unwrap(), vec![msg("a")]);
        append(&p, &[msg("c")]).unwrap();
        assert_eq!(replay(&p).unwrap(), vec![msg("a"), msg("c")]);
    }

    #[test]
    fn tail_reads_across_blocks_and_skips_a_torn_line() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("j.jsonl");
        let big = "y".repeat(30_000);
        let recs: Vec<Record> = (0..10)
            .map(|i| Record::Message {
                run_id: format!("r{i}"),
                text: big.clone(),
                model: None,
                runtime: None,
                timeout_ms: None,
                ts: i,
            })
            .collect();
        append(&p, &recs).unwrap();
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(br#"{"t":"mess"#).unwrap();
        drop(f);
        let tail = read_tail(&p, 3, |_| true).unwrap();
        assert_eq!(tail, recs[7..].to_vec());
        let all = read_tail(&p, 100, |_| true).unwrap();
        assert_eq!(all, recs);
    }

    #[test]
    fn numbered_reads_count_positions_from_the_start() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("j.jsonl");
        let started = Record::Started {
            run_id: "b".into(),
            attempt: 1,
            ts: 1,
        };
        append(&p, &[msg("a"), started, msg("b"), msg("c")]).unwrap();
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(br#"{"t":"mess"#).unwrap();
        drop(f);
        let is_msg = |r: &Record| matches!(r, Record::Message { .. });
        // Positions count only the selected records, and stay absolute when the tail is cut.
        let last = read_numbered(&p, 2, is_msg).unwrap();
        assert_eq!(last, vec![(2, msg("b")), (3, msg("c"))]);
        let all = read_numbered(&p, 100, is_msg).unwrap();
        assert_eq!(all, vec![(1, msg("a")), (2, msg("b")), (3, msg("c"))]);
    }

    #[test]
    fn outbox_roundtrip() {
        let d = tempfile::tempdir().unwrap();
        let a = Announce {
            announce_id: "announce:r1".into(),
            parent_key: "agent:main:main".into(),
            child_key: "agent:main:subagent:x".into(),
            run_id: "r1".into(),
            status: "completed".into(),
            text: Some("ok".into()),
            error: None,
            error_class: None,
            label: None,
            ts: 5,
        };
        write_outbox(d.path(), &a).unwrap();
        assert_eq!(read_outbox(d.path()).unwrap(), vec![a]);
        remove_outbox(d.path(), "r1");
        assert!(read_outbox(d.path()).unwrap().is_empty());
    }
}
