//! The state directory: where it is, what lives in it, and how files in it are written.
//!
//! **Architecture Invariant:** every durable file under the state dir is written through
//! [`write_atomic`] (temp file in the same directory, fsync, rename, fsync of the directory),
//! so a reader or a `kill -9` never sees a torn file. Secrets are written with mode 0600.
//!
//! Entry points: [`StateDir`] (the root, from `OPENCLAW_STATE_DIR` or `~/.openclaw`),
//! [`write_atomic`] / [`write_json`] / [`read_optional`] for files, [`FileLock`] for the
//! one-gateway-per-state-dir lock.
//!
//! ```
//! use openclaw_rs_state::{read_optional, write_json, StateDir, PUBLIC_MODE};
//!
//! let root = std::env::temp_dir().join(format!("state-doc-{}", std::process::id()));
//! let state = StateDir::new(&root);
//! state.ensure().expect("create the state dir");
//! let path = state.join("state/example.json");
//! write_json(&path, &serde_json::json!({"ok": true}), PUBLIC_MODE).expect("write");
//! let bytes = read_optional(&path).expect("read").expect("the file exists");
//! assert!(String::from_utf8_lossy(&bytes).contains("\"ok\": true"));
//! assert!(read_optional(&state.join("missing.json")).expect("read").is_none());
//! std::fs::remove_dir_all(&root).expect("clean up");
//! ```
#![warn(missing_docs)]

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// File mode for secrets (tokens, keys, pairing records).
pub const SECRET_MODE: u32 = 0o600;
/// File mode for ordinary state.
pub const PUBLIC_MODE: u32 = 0o644;

/// An I/O failure on a named path.
#[derive(Debug, thiserror::Error)]
#[error("{action} {path}: {source}")]
pub struct StateError {
    /// What was being done (`read`, `write`, `rename`, …).
    pub action: &'static str,
    /// The file or directory it was done to.
    pub path: PathBuf,
    /// The OS error.
    #[source]
    pub source: io::Error,
}

impl StateError {
    fn new(action: &'static str, path: &Path, source: io::Error) -> Self {
        StateError {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The resolved state directory and the well-known paths inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// Use `root` as the state dir (not created until [`StateDir::ensure`]).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        StateDir { root: root.into() }
    }

    /// `OPENCLAW_STATE_DIR`, else `$HOME/.openclaw`, from the given environment lookup.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Self {
        if let Some(dir) = get("OPENCLAW_STATE_DIR").filter(|s| !s.is_empty()) {
            return StateDir::new(dir);
        }
        let home = get("HOME")
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| ".".into());
        StateDir::new(Path::new(&home).join(".openclaw"))
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Create the root (0700) if missing.
    pub fn ensure(&self) -> Result<(), StateError> {
        ensure_dir(&self.root)
    }

    /// Default config path: `$STATE/openclaw.json`.
    pub fn config_path(&self) -> PathBuf {
        self.root.join("openclaw.json")
    }

    /// A path under the root.
    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.root.join(rel)
    }
}

/// Create a directory and its parents, private to the user.
pub fn ensure_dir(dir: &Path) -> Result<(), StateError> {
    fs::create_dir_all(dir).map_err(|e| StateError::new("create directory", dir, e))?;
    Ok(())
}

/// `value` as pretty JSON plus a newline, written with [`write_atomic`] and `mode`. A value that
/// cannot be encoded is an error (action `encode`), never an empty file.
pub fn write_json(path: &Path, value: &impl serde::Serialize, mode: u32) -> Result<(), StateError> {
    let mut text = serde_json::to_vec_pretty(value)
        .map_err(|e| StateError::new("encode", path, io::Error::from(e)))?;
    text.push(b'\n');
    write_atomic(path, &text, mode)
}

/// Write `bytes` to `path` atomically with `mode`: temp file, fsync, rename, fsync dir.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), StateError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    ensure_dir(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into());
    let tmp = dir.join(format!(
        ".{name}.tmp.{}.{}",
        std::process::id(),
        unique_suffix()
    ));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)
            .map_err(|e| StateError::new("create", &tmp, e))?;
        // The umask may have narrowed the mode; set it exactly.
        f.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| StateError::new("chmod", &tmp, e))?;
        f.write_all(bytes)
            .map_err(|e| StateError::new("write", &tmp, e))?;
        f.sync_all()
            .map_err(|e| StateError::new("fsync", &tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| StateError::new("rename into", path, e))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Read a file, `Ok(None)` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, StateError> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StateError::new("read", path, e)),
    }
}

fn unique_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    (N.fetch_add(1, Ordering::Relaxed) << 32) ^ nanos
}

/// An exclusive advisory lock on a file (`flock`), released on drop.
///
/// Used where the CLI and the gateway may both write the same state file.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

impl FileLock {
    /// Block until the exclusive lock on `path` (created if missing) is held.
    pub fn acquire(path: &Path) -> Result<FileLock, StateError> {
        Self::lock(path, libc::LOCK_EX)
    }

    /// Take the lock without waiting; `Ok(None)` if someone else holds it.
    pub fn try_acquire(path: &Path) -> Result<Option<FileLock>, StateError> {
        match Self::lock(path, libc::LOCK_EX | libc::LOCK_NB) {
            Ok(l) => Ok(Some(l)),
            Err(e) if e.source.raw_os_error() == Some(libc::EWOULDBLOCK) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn lock(path: &Path, op: libc::c_int) -> Result<FileLock, StateError> {
        use std::os::fd::AsRawFd;
        if let Some(dir) = path.parent() {
            ensure_dir(dir)?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(SECRET_MODE)
            .open(path)
            .map_err(|e| StateError::new("open lock", path, e))?;
        // SAFETY-free: flock is called through libc on a valid, owned descriptor.
        #[allow(unsafe_code)]
        let rc = unsafe { libc::flock(file.as_raw_fd(), op) };
        if rc != 0 {
            return Err(StateError::new("lock", path, io::Error::last_os_error()));
        }
        Ok(FileLock {
            file,
            path: path.to_path_buf(),
        })
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The locked file (e.g. to write a pid into it).
    pub fn file(&self) -> &File {
        &self.file
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_pretty_with_a_newline_and_encode_errors_write_nothing() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_json(
            &p,
            &std::collections::BTreeMap::from([("k", 1)]),
            SECRET_MODE,
        )
        .unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "{\n  \"k\": 1\n}\n");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // JSON objects need string keys: this value cannot be encoded.
        let bad = std::collections::BTreeMap::from([((1u8, 2u8), 3u8)]);
        let q = dir.path().join("b.json");
        let e = write_json(&q, &bad, SECRET_MODE).unwrap_err();
        assert_eq!(e.action, "encode");
        assert!(
            !q.exists(),
            "nothing written for a value that cannot be encoded"
        );
    }

    #[test]
    fn atomic_write_sets_mode_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/secret.json");
        write_atomic(&p, b"one", SECRET_MODE).unwrap();
        write_atomic(&p, b"two", SECRET_MODE).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // No temp files left behind.
        let n = fs::read_dir(p.parent().unwrap()).unwrap().count();
        assert_eq!(n, 1);
    }

    #[test]
    fn try_lock_is_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.lock");
        let a = FileLock::try_acquire(&p).unwrap();
        assert!(a.is_some());
        assert!(FileLock::try_acquire(&p).unwrap().is_none());
        drop(a);
        assert!(FileLock::try_acquire(&p).unwrap().is_some());
    }

    #[test]
    fn state_dir_from_env() {
        let s = StateDir::from_env(|k| (k == "HOME").then(|| "/h".to_string()));
        assert_eq!(s.root(), Path::new("/h/.openclaw"));
        let s = StateDir::from_env(|k| (k == "OPENCLAW_STATE_DIR").then(|| "/s".to_string()));
        assert_eq!(s.config_path(), Path::new("/s/openclaw.json"));
    }
}
