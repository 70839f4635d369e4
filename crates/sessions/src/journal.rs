//! On-disk format: one append-only JSONL journal per session plus an announce outbox.
//!
//! Layout under `$STATE/sessions/`:
//! - `<key with ':' as '~'>.jsonl`: the session's journal; it is also its transcript.
//! - `outbox/<hex(runId)>.json`: a child's result waiting to be recorded in its parent's
//!   journal (written with `write_atomic` before the child's `ended` record).
//! - `archive/`: journals of sessions removed by `cleanup: "delete"` or retention, and the
//!   segments compaction moved out of live journals (`<stem>.<ms>.jsonl` all).
//! - `<stem>.jsonl.compact`: a compaction in progress (see below); never read as a journal.
//!
//! **Compaction** (`session.retention.journalMaxBytes`): a live journal's oldest finished runs
//! are moved out. The new journal starts with a `snapshot` record (the identity, like
//! `session`, plus what replay needs from the dropped records: the resumed thread, the
//! transcript position to continue from and the announce ids still to de-duplicate), then the
//! kept records in order. The steps, each fsynced: (1) write `<stem>.jsonl.compact`;
//! (2) rename `<stem>.jsonl` to `archive/<stem>.<ms>.jsonl`; (3) rename the `.compact` file to
//! `<stem>.jsonl`. At open, a `.compact` file beside a live journal did not reach step 2 and is
//! deleted; one without a live journal reached step 2 and step 3 is finished
//! ([`finish_compactions`]). Every record is therefore live or archived, never lost or double.
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
    /// First line of a compacted journal, in place of `session`: the identity plus what replay
    /// needs from the records moved to the archive.
    Snapshot(Snapshot),
}

/// The `snapshot` record: a `session` record plus the state the dropped prefix carried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Snapshot {
    pub key: String,
    pub agent_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spawned_by: Option<String>,
    pub depth: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<String>,
    /// When the session was created (the `session` record's `ts`).
    pub ts: u64,
    /// Latest activity in the dropped records (`updatedAt` of the session).
    pub updated_at: u64,
    /// Runtime thread of the last completed run (the next run resumes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    /// 1 for the first compaction, then 2, …
    pub generation: u64,
    pub compacted_at: u64,
    /// File name under `archive/` of the segment holding the dropped records.
    pub segment: String,
    /// Transcript entries (`message`, `ended`, `announce`) dropped by every compaction so far:
    /// `chat.history` positions continue from here.
    pub seq_base: u64,
    /// Announce ids dropped from the journal whose outbox file may still exist: they must
    /// still be de-duplicated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delivered: Vec<String>,
}

impl Record {
    /// A journal's first record as a snapshot: a `snapshot` as it is, a `session` as the
    /// snapshot of a journal never compacted (generation 0, nothing dropped; `now` is its
    /// `compactedAt`). `None` for any other record.
    pub(crate) fn into_snapshot(self, now: u64) -> Option<Snapshot> {
        match self {
            Record::Session {
                key,
                agent_id,
                spawned_by,
                depth,
                label,
                cleanup,
                ts,
            } => Some(Snapshot {
                key,
                agent_id,
                spawned_by,
                depth,
                label,
                cleanup,
                ts,
                updated_at: ts,
                thread_id: None,
                generation: 0,
                compacted_at: now,
                segment: String::new(),
                seq_base: 0,
                delivered: Vec::new(),
            }),
            Record::Snapshot(s) => Some(s),
            _ => None,
        }
    }

    /// The session's identity when this is a `session` or `snapshot` record:
    /// `(key, spawned_by)`.
    pub(crate) fn identity(&self) -> Option<(&str, Option<&str>)> {
        match self {
            Record::Session {
                key, spawned_by, ..
            } => Some((key, spawned_by.as_deref())),
            Record::Snapshot(s) => Some((&s.key, s.spawned_by.as_deref())),
            _ => None,
        }
    }

    /// A transcript entry (what `chat.history` numbers).
    pub(crate) fn is_transcript(&self) -> bool {
        matches!(
            self,
            Record::Message { .. } | Record::Ended { .. } | Record::Announce(_)
        )
    }
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
/// In a compacted journal positions continue from the snapshot's `seqBase` (the transcript
/// entries moved to the archive). Lines that do not parse (a torn last line) are skipped, as
/// in [`read_tail`].
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
        if let Record::Snapshot(snap) = &r {
            n = snap.seq_base;
        }
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
    let _ = read_numbered(path, 4, Record::is_transcript);
    if let Ok(Some(first)) = read_first(path) {
        let _ = first.identity();
    }
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

/// The first record of a journal (its `session` or `snapshot` record), read-only.
pub(crate) fn read_first(path: &Path) -> Result<Option<Record>, SessionError> {
    use std::io::BufRead;
    let f = File::open(path).map_err(|e| io_err("open", path, e))?;
    let mut line = String::new();
    std::io::BufReader::new(f)
        .read_line(&mut line)
        .map_err(|e| io_err("read", path, e))?;
    Ok(serde_json::from_str(line.trim_end()).ok())
}

/// Where a session's journal is: live, else the newest archived copy (`cleanup: "delete"` or
/// retention). A live session may also have older segments in `archive/` (moved there by
/// compaction); the live journal always wins, and once the session itself is archived its
/// final journal is the newest file of its stem.
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

/// A free name under `archive/` for a segment of `stem` moved out at `now` (ms).
pub(crate) fn segment_name(dir: &Path, stem: &str, now: u64) -> String {
    let mut ms = now;
    loop {
        let name = format!("{stem}.{ms}.jsonl");
        if !dir.join("archive").join(&name).exists() {
            return name;
        }
        ms += 1;
    }
}

fn sync_dir_strict(dir: &Path) -> Result<(), SessionError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err("fsync directory", dir, e))
}

/// Replace the live journal `<dir>/<stem>.jsonl` by `records` (a `snapshot` first), moving the
/// old one to `archive/<segment>`: the three crash-safe steps of the module doc. Blocking; the
/// caller holds the session's journal lock. `crash_after` (tests) stops after that many steps,
/// as a crash would.
pub(crate) fn compact(
    dir: &Path,
    stem: &str,
    segment: &str,
    records: &[Record],
    crash_after: Option<u8>,
) -> Result<(), SessionError> {
    let live = dir.join(format!("{stem}.jsonl"));
    let tmp = dir.join(format!("{stem}.jsonl.compact"));
    let archive = dir.join("archive");
    // 1. The new journal, complete and fsynced, under a name no reader takes for a journal.
    let mut buf = Vec::with_capacity(4096);
    for r in records {
        serde_json::to_writer(&mut buf, r)
            .map_err(|e| SessionError::Storage(format!("encode journal record: {e}")))?;
        buf.push(b'\n');
    }
    {
        let mut f = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(openclaw_rs_state::SECRET_MODE)
            .open(&tmp)
            .map_err(|e| io_err("create", &tmp, e))?;
        f.write_all(&buf).map_err(|e| io_err("write", &tmp, e))?;
        f.sync_all().map_err(|e| io_err("fsync", &tmp, e))?;
    }
    if crash_after == Some(1) {
        return Ok(());
    }
    // 2. The old journal into the archive (it holds the dropped prefix and everything kept).
    openclaw_rs_state::ensure_dir(&archive)?;
    let seg = archive.join(segment);
    if let Err(e) = fs::rename(&live, &seg) {
        let _ = fs::remove_file(&tmp);
        return Err(io_err("archive", &live, e));
    }
    sync_dir_strict(&archive)?;
    if crash_after == Some(2) {
        return Ok(());
    }
    // 3. The new journal goes live.
    fs::rename(&tmp, &live).map_err(|e| io_err("install compacted journal", &live, e))?;
    sync_dir_strict(dir)?;
    Ok(())
}

/// Start-up repair of interrupted compactions in `dir` (before any journal is replayed): a
/// `<stem>.jsonl.compact` beside a live `<stem>.jsonl` never reached step 2 and is deleted;
/// one without a live journal reached step 2 and becomes the live journal. Returns how many
/// were finished (renamed) and how many discarded.
pub(crate) fn finish_compactions(dir: &Path) -> Result<(usize, usize), SessionError> {
    let entries = fs::read_dir(dir).map_err(|e| io_err("list", dir, e))?;
    let (mut finished, mut discarded) = (0, 0);
    for entry in entries.flatten() {
        let tmp = entry.path();
        let Some(name) = tmp.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(live_name) = name.strip_suffix(".compact") else {
            continue;
        };
        if !live_name.ends_with(".jsonl") {
            continue;
        }
        let live = dir.join(live_name);
        if live.exists() {
            fs::remove_file(&tmp).map_err(|e| io_err("remove unfinished compaction", &tmp, e))?;
            discarded += 1;
        } else {
            fs::rename(&tmp, &live).map_err(|e| io_err("finish compaction of", &live, e))?;
            finished += 1;
        }
    }
    if finished + discarded > 0 {
        sync_dir_strict(dir)?;
        tracing::info!(
            finished,
            discarded,
            "interrupted journal compactions repaired"
        );
    }
    Ok((finished, discarded))
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
    fn a_snapshot_is_an_identity_and_positions_continue_from_its_base() {
        let d = tempfile::tempdir().unwrap();
        // The fuzz seed of a compacted journal parses as the manager writes it.
        let seed = include_str!("../../../fuzz/corpus/journal/snapshot.jsonl");
        let p = d.path().join("j.jsonl");
        fs::write(&p, seed).unwrap();
        let first = read_first(&p).unwrap().unwrap();
        assert_eq!(first.identity(), Some(("agent:main:main", None)));
        let Record::Snapshot(snap) = &first else {
            panic!("{first:?}");
        };
        assert_eq!(snap.seq_base, 412);
        assert_eq!(snap.delivered, vec!["announce:r7".to_string()]);
        assert_eq!(replay(&p).unwrap().len(), 6);
        let numbered = read_numbered(&p, 100, Record::is_transcript).unwrap();
        let seqs: Vec<u64> = numbered.iter().map(|(n, _)| *n).collect();
        assert_eq!(seqs, vec![413, 414, 415, 416]);
        fuzz_replay(seed.as_bytes(), &d.path().join("f.jsonl"));
    }

    #[test]
    fn compaction_steps_and_their_repair() {
        let d = tempfile::tempdir().unwrap();
        let live = d.path().join("s.jsonl");
        append(&live, &[msg("a"), msg("b")]).unwrap();
        // Step 1 only: the `.compact` file is discarded, the journal stays.
        compact(d.path(), "s", "s.1.jsonl", &[msg("b")], Some(1)).unwrap();
        assert_eq!(finish_compactions(d.path()).unwrap(), (0, 1));
        assert_eq!(replay(&live).unwrap(), vec![msg("a"), msg("b")]);
        // Steps 1 and 2: the `.compact` file becomes the journal.
        compact(d.path(), "s", "s.2.jsonl", &[msg("b")], Some(2)).unwrap();
        assert!(!live.exists());
        assert_eq!(finish_compactions(d.path()).unwrap(), (1, 0));
        assert_eq!(replay(&live).unwrap(), vec![msg("b")]);
        let seg = d.path().join("archive/s.2.jsonl");
        assert_eq!(replay(&seg).unwrap(), vec![msg("a"), msg("b")]);
        // All three: nothing to repair; a taken segment name moves on.
        assert_eq!(segment_name(d.path(), "s", 2), "s.3.jsonl");
        compact(d.path(), "s", "s.3.jsonl", &[msg("c")], None).unwrap();
        assert_eq!(finish_compactions(d.path()).unwrap(), (0, 0));
        assert_eq!(replay(&live).unwrap(), vec![msg("c")]);
        assert_eq!(locate(d.path(), "s"), Some(live.clone()));
        // Once the live journal is gone (archived), the newest file of the stem is found.
        fs::remove_file(&live).unwrap();
        assert_eq!(
            locate(d.path(), "s"),
            Some(d.path().join("archive/s.3.jsonl"))
        );
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
