//! The live config: one `ArcSwap<Config>` the whole gateway reads, plus the file it came from.
//!
//! Every change goes through [`ConfigStore::reload_from_disk`] (file watcher) or
//! [`ConfigStore::set`] / [`ConfigStore::patch`] (in-process writes, which then take the same
//! path). An invalid edit never replaces the live config: it is recorded in [`ReloadStatus`].
//!
//! **Restart-required values are held back.** The live config is the *effective* config: the
//! newest file with every restart-required path (port, bind, auth mode, …) kept at the value
//! the process booted with, because that is what the listeners and the auth mode really are
//! until the restart. So `classify(live, effective)` never contains a restart, and reverting an
//! edit before the restart cancels it ([`ConfigStore::pending_restart`] becomes empty).

use arc_swap::ArcSwap;
use openclaw_rs_config::{Config, ConfigError, Loaded};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::classify::{classify, classify_raw, ReloadPlan};

/// The value `config.get` shows instead of a secret.
pub const REDACTED: &str = "__OPENCLAW_REDACTED__";

/// `sha256:<hex>` of the file bytes (of nothing, for a missing file).
pub fn hash_bytes(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The last rejected edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrorStatus {
    /// Why the edit was refused.
    pub message: String,
    /// Unix ms.
    pub at_ms: u64,
    /// The config file.
    pub path: PathBuf,
    /// Hash of the rejected file bytes.
    pub hash: String,
}

/// What `status` and `doctor` show about config reloads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReloadStatus {
    /// The config file.
    pub path: PathBuf,
    /// Hash of the config file the live config came from.
    pub hash: String,
    /// When the last change was applied (unix ms), if any since start.
    pub last_applied_at_ms: Option<u64>,
    /// Paths changed by the last applied edit.
    pub last_changed_paths: Vec<String>,
    /// The last rejected edit; cleared by the next good one.
    pub last_error: Option<ConfigErrorStatus>,
    /// Warnings of the live file (unknown keys, …).
    pub warnings: Vec<String>,
    /// Restart-required paths changed since boot and not yet applied.
    pub pending_restart: Vec<String>,
    /// `gateway.reload.mode=off`: edits were validated but not applied.
    pub apply_disabled: bool,
}

/// The file the live config came from.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The file text (empty for a missing file).
    pub text: Arc<str>,
    /// The parsed document, as written.
    pub raw: Arc<Value>,
    /// The typed config as written (before holding back restart paths).
    pub config: Arc<Config>,
    /// sha256 of the file bytes (the `baseHash` of `config.patch`).
    pub hash: String,
    /// Whether the file exists (a missing file is the empty config).
    pub exists: bool,
    /// Non-fatal findings (unknown keys, …).
    pub warnings: Vec<String>,
}

/// A change that was applied (fully or, for restart paths, pending a restart).
#[derive(Debug, Clone)]
pub struct Applied {
    /// The config file.
    pub path: PathBuf,
    /// sha256 of the file bytes (the `baseHash` of `config.patch`).
    pub hash: String,
    /// Unix ms when it was seen.
    pub ts: u64,
    /// Every path changed in the file since the previous good version.
    pub changed_paths: Vec<String>,
    /// What changed in the live (effective) config: hot actions and no-ops only.
    pub plan: ReloadPlan,
    /// Restart-required paths pending after this change (empty: no restart needed).
    pub pending_restart: Vec<String>,
    /// A restart was pending and this change reverted it.
    pub restart_cancelled: bool,
    /// `gateway.reload.mode=off`: validated, written (for in-process writes), not applied.
    pub apply_disabled: bool,
    /// Non-fatal findings (unknown keys, …).
    pub warnings: Vec<String>,
    /// The live config before this change (for actions that compare before and after).
    pub previous: Arc<Config>,
}

/// An edit that was rejected; the last good config stays live.
#[derive(Debug, Clone)]
pub struct Rejected {
    /// The config file.
    pub path: PathBuf,
    /// sha256 of the file bytes (the `baseHash` of `config.patch`).
    pub hash: String,
    /// Unix ms when it was seen.
    pub ts: u64,
    /// Why it was refused.
    pub error: String,
}

/// The result of looking at the file again.
#[derive(Debug, Clone)]
// One value per config edit: its size does not matter, boxing would only add noise to matches.
#[allow(clippy::large_enum_variant)]
pub enum ReloadOutcome {
    /// Same bytes as the live config (e.g. our own write seen by the watcher).
    Unchanged,
    /// A new config was applied (hot parts live, restart parts held back).
    Applied(Applied),
    /// The file is invalid; the last good config stays live.
    Rejected(Rejected),
}

/// A failed in-process write.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The caller edited an older version of the file.
    #[error("config changed since it was read (baseHash {expected}, current {actual}); call config.get and retry")]
    BaseHashMismatch {
        /// The `baseHash` the caller sent.
        expected: String,
        /// The hash of the file now.
        actual: String,
    },
    /// `config.patch` without `baseHash`.
    #[error("baseHash is required; call config.get and pass its hash")]
    BaseHashRequired,
    /// The new text is not a valid config.
    #[error(transparent)]
    Invalid(#[from] ConfigError),
    /// The patch is not an object.
    #[error("patch must be a JSON5 object, e.g. {{ logging: {{ level: \"debug\" }} }}")]
    PatchNotObject,
    /// Writing the file failed.
    #[error(transparent)]
    Io(#[from] openclaw_rs_state::StateError),
    /// Reading the current file failed.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug)]
struct Inner {
    boot: Arc<Config>,
    current: Snapshot,
    pending_restart: Vec<String>,
}

/// The live config and the file behind it.
#[derive(Debug)]
pub struct ConfigStore {
    path: PathBuf,
    live: Arc<ArcSwap<Config>>,
    inner: Mutex<Inner>,
    status: ArcSwap<ReloadStatus>,
}

fn read_file(path: &Path) -> Result<(Vec<u8>, bool), std::io::Error> {
    match std::fs::read(path) {
        Ok(b) => Ok((b, true)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((Vec::new(), false)),
        Err(e) => Err(e),
    }
}

fn parse_bytes(bytes: &[u8], path: &Path) -> Result<Loaded, ConfigError> {
    let text = std::str::from_utf8(bytes).map_err(|e| ConfigError::Invalid {
        path: path.to_path_buf(),
        message: format!("not UTF-8: {e}"),
    })?;
    openclaw_rs_config::parse(text, path)
}

fn snapshot(bytes: &[u8], exists: bool, loaded: Loaded) -> Snapshot {
    Snapshot {
        text: Arc::from(String::from_utf8_lossy(bytes).as_ref()),
        raw: Arc::new(loaded.raw),
        config: Arc::new(loaded.config),
        hash: hash_bytes(bytes),
        exists,
        warnings: loaded.warnings,
    }
}

impl ConfigStore {
    /// Load the file at `path` (missing = empty config). An invalid file is an error: the
    /// gateway does not start on a config it cannot read.
    pub fn open(path: impl Into<PathBuf>) -> Result<ConfigStore, ConfigError> {
        let path = path.into();
        let (bytes, exists) = read_file(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        let loaded = parse_bytes(&bytes, &path)?;
        Ok(Self::from_snapshot(path, snapshot(&bytes, exists, loaded)))
    }

    /// A store over an already loaded config (tests, embedders).
    pub fn from_loaded(path: impl Into<PathBuf>, loaded: Loaded) -> ConfigStore {
        let text = serde_json::to_vec_pretty(&loaded.raw).unwrap_or_default();
        Self::from_snapshot(path.into(), snapshot(&text, false, loaded))
    }

    /// A store whose live config is `config` (e.g. built from flags, or a test's config) while
    /// the file at `path` says something else or does not exist. The file's bytes still decide
    /// whether it changed (hash), and writes patch the live config.
    pub fn with_config(path: impl Into<PathBuf>, config: Config) -> ConfigStore {
        let path = path.into();
        let (bytes, exists) = read_file(&path).unwrap_or_default();
        let mut raw =
            serde_json::to_value(&config).unwrap_or_else(|_| Value::Object(Default::default()));
        strip_nulls(&mut raw);
        let snap = Snapshot {
            text: Arc::from(String::from_utf8_lossy(&bytes).as_ref()),
            raw: Arc::new(raw),
            config: Arc::new(config),
            hash: hash_bytes(&bytes),
            exists,
            warnings: Vec::new(),
        };
        Self::from_snapshot(path, snap)
    }

    fn from_snapshot(path: PathBuf, snap: Snapshot) -> ConfigStore {
        let status = ReloadStatus {
            path: path.clone(),
            hash: snap.hash.clone(),
            warnings: snap.warnings.clone(),
            ..Default::default()
        };
        ConfigStore {
            live: Arc::new(ArcSwap::new(snap.config.clone())),
            inner: Mutex::new(Inner {
                boot: snap.config.clone(),
                current: snap,
                pending_restart: Vec::new(),
            }),
            status: ArcSwap::from_pointee(status),
            path,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (all updates are whole-value).
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The config file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The live (effective) config. Cheap; never blocks.
    pub fn config(&self) -> Arc<Config> {
        self.live.load_full()
    }

    /// The shared handle to the live config, for a gateway state that holds it directly.
    pub fn live(&self) -> Arc<ArcSwap<Config>> {
        self.live.clone()
    }

    /// The config the process started with (what listeners and auth mode really are).
    pub fn boot_config(&self) -> Arc<Config> {
        self.lock().boot.clone()
    }

    /// The file behind the live config.
    pub fn snapshot(&self) -> Snapshot {
        self.lock().current.clone()
    }

    /// Status for `status` / `doctor`.
    pub fn status(&self) -> Arc<ReloadStatus> {
        self.status.load_full()
    }

    /// Restart-required paths changed since boot (empty: no restart needed).
    pub fn pending_restart(&self) -> Vec<String> {
        self.lock().pending_restart.clone()
    }

    /// Look at the file again and apply it if it changed and is valid.
    pub fn reload_from_disk(&self) -> ReloadOutcome {
        let mut inner = self.lock();
        let (bytes, exists) = match read_file(&self.path) {
            Ok(x) => x,
            Err(e) => {
                return self.reject(
                    &inner,
                    hash_bytes(b""),
                    format!("cannot read config {}: {e}", self.path.display()),
                )
            }
        };
        if !exists && inner.current.exists {
            // A deleted file is not "everything back to defaults" (that would rotate tokens
            // and restart): keep the last good config until a new file is written.
            return self.reject(
                &inner,
                hash_bytes(b""),
                format!(
                    "config file {} was removed; keeping the last good config (write a new file to change settings)",
                    self.path.display()
                ),
            );
        }
        self.apply_bytes(&mut inner, &bytes, exists)
    }

    fn reject(&self, inner: &Inner, hash: String, error: String) -> ReloadOutcome {
        let ts = now_ms();
        tracing::warn!(path = %self.path.display(), %error, "config reload skipped (invalid config); keeping the last good config");
        let mut st = (*self.status.load_full()).clone();
        st.last_error = Some(ConfigErrorStatus {
            message: error.clone(),
            at_ms: ts,
            path: self.path.clone(),
            hash: hash.clone(),
        });
        st.hash = inner.current.hash.clone();
        self.status.store(Arc::new(st));
        ReloadOutcome::Rejected(Rejected {
            path: self.path.clone(),
            hash,
            ts,
            error,
        })
    }

    fn apply_bytes(&self, inner: &mut Inner, bytes: &[u8], exists: bool) -> ReloadOutcome {
        let hash = hash_bytes(bytes);
        if hash == inner.current.hash && exists == inner.current.exists {
            return ReloadOutcome::Unchanged;
        }
        let loaded = match parse_bytes(bytes, &self.path) {
            Ok(l) => l,
            Err(e) => return self.reject(inner, hash, e.to_string()),
        };
        let ts = now_ms();
        let snap = snapshot(bytes, exists, loaded);
        let file_plan = classify_raw(
            &inner.current.raw,
            &snap.raw,
            &inner.current.config,
            &snap.config,
        );
        for d in &file_plan.diagnostics {
            tracing::warn!("{d}");
        }
        let apply_disabled =
            snap.config.gateway.reload.mode == Some(openclaw_rs_config::ReloadMode::Off);
        let mut st = (*self.status.load_full()).clone();
        st.last_error = None;
        if apply_disabled {
            tracing::info!(paths = ?file_plan.changed_paths, "config change validated; not applied (gateway.reload.mode=off)");
            st.apply_disabled = true;
            self.status.store(Arc::new(st));
            return ReloadOutcome::Applied(Applied {
                path: self.path.clone(),
                hash,
                ts,
                changed_paths: file_plan.changed_paths,
                plan: ReloadPlan::default(),
                pending_restart: inner.pending_restart.clone(),
                restart_cancelled: false,
                apply_disabled: true,
                warnings: snap.warnings,
                previous: self.live.load_full(),
            });
        }
        let (effective, pending) = effective_config(&inner.boot, &snap.config);
        let live = self.live.load_full();
        let plan = classify(&live, &effective);
        let restart_cancelled = !inner.pending_restart.is_empty() && pending.is_empty();
        tracing::info!(
            changed = ?file_plan.changed_paths,
            hot = ?plan.actions,
            pending_restart = ?pending,
            "config change applied"
        );
        let previous = self.live.swap(Arc::new(effective));
        st.hash = hash.clone();
        st.last_applied_at_ms = Some(ts);
        st.last_changed_paths = file_plan.changed_paths.clone();
        st.warnings = snap.warnings.clone();
        st.pending_restart = pending.clone();
        st.apply_disabled = false;
        self.status.store(Arc::new(st));
        inner.pending_restart = pending.clone();
        let warnings = snap.warnings.clone();
        inner.current = snap;
        ReloadOutcome::Applied(Applied {
            path: self.path.clone(),
            hash,
            ts,
            changed_paths: file_plan.changed_paths,
            plan,
            pending_restart: pending,
            restart_cancelled,
            apply_disabled: false,
            warnings,
            previous,
        })
    }

    fn check_base(&self, base: Option<&str>) -> Result<(), WriteError> {
        let (bytes, _) = read_file(&self.path).map_err(|source| WriteError::Read {
            path: self.path.clone(),
            source,
        })?;
        let actual = hash_bytes(&bytes);
        // Compare with the file itself, not only the live snapshot: the file may have changed
        // under us before the watcher ran.
        if let Some(expected) = base {
            if expected != actual {
                return Err(WriteError::BaseHashMismatch {
                    expected: expected.to_string(),
                    actual,
                });
            }
        }
        Ok(())
    }

    /// `config.set`: replace the whole file with `text` (validated first), then apply it.
    pub fn set(&self, text: &str, base_hash: Option<&str>) -> Result<ReloadOutcome, WriteError> {
        let mut inner = self.lock();
        self.check_base(base_hash)?;
        let loaded = openclaw_rs_config::parse(text, &self.path)?;
        let restored = restore_redacted(text, &loaded.raw, &inner.current.raw);
        let bytes = restored.unwrap_or_else(|| text.to_string());
        openclaw_rs_state::write_atomic(
            &self.path,
            bytes.as_bytes(),
            openclaw_rs_state::SECRET_MODE,
        )?;
        Ok(self.apply_bytes(&mut inner, bytes.as_bytes(), true))
    }

    /// `config.patch`: merge a JSON5 object into the file (RFC 7386: `null` deletes a key),
    /// write it back as 2-space JSON, then apply it. `baseHash` is required.
    pub fn patch(
        &self,
        fragment: &str,
        base_hash: Option<&str>,
    ) -> Result<ReloadOutcome, WriteError> {
        let base = base_hash.ok_or(WriteError::BaseHashRequired)?;
        let mut inner = self.lock();
        self.check_base(Some(base))?;
        let patch = openclaw_rs_config::parse_value(fragment, &self.path)?;
        if !patch.is_object() {
            return Err(WriteError::PatchNotObject);
        }
        let mut doc = (*inner.current.raw).clone();
        merge_patch(&mut doc, &patch);
        restore_redacted_value(&mut doc, &inner.current.raw);
        let mut text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
        text.push('\n');
        openclaw_rs_config::from_value(doc, &self.path)?;
        openclaw_rs_state::write_atomic(
            &self.path,
            text.as_bytes(),
            openclaw_rs_state::SECRET_MODE,
        )?;
        Ok(self.apply_bytes(&mut inner, text.as_bytes(), true))
    }
}

/// The config to run with: `new`, with every path that would need a restart relative to `boot`
/// kept at its boot value. Returns it and those paths (sorted).
pub fn effective_config(boot: &Config, new: &Config) -> (Config, Vec<String>) {
    let plan = classify(boot, new);
    if !plan.requires_restart() {
        return (new.clone(), Vec::new());
    }
    let boot_v = serde_json::to_value(boot).unwrap_or_default();
    let mut v = serde_json::to_value(new).unwrap_or_default();
    for path in &plan.restart_paths {
        let old = get_path(&boot_v, path).cloned();
        set_path(&mut v, path, old);
    }
    let effective = serde_json::from_value(v).unwrap_or_else(|_| boot.clone());
    (effective, plan.restart_paths)
}

fn get_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    if path == crate::diff::ROOT {
        return Some(v);
    }
    path.split('.').try_fold(v, |v, k| v.get(k))
}

fn set_path(v: &mut Value, path: &str, value: Option<Value>) {
    if path == crate::diff::ROOT {
        if let Some(x) = value {
            *v = x;
        }
        return;
    }
    let segs: Vec<&str> = path.split('.').collect();
    let mut cur = v;
    for k in &segs[..segs.len() - 1] {
        let Some(obj) = cur.as_object_mut() else {
            return;
        };
        cur = obj
            .entry(k.to_string())
            .or_insert_with(|| Value::Object(Default::default()));
    }
    let Some(obj) = cur.as_object_mut() else {
        return;
    };
    let last = segs[segs.len() - 1].to_string();
    match value {
        Some(x) => {
            obj.insert(last, x);
        }
        None => {
            obj.remove(&last);
        }
    }
}

/// Remove `null` members and then-empty objects (a typed config serializes unset options as
/// `null`; the file should not).
pub fn strip_nulls(v: &mut Value) {
    if let Some(m) = v.as_object_mut() {
        m.retain(|_, x| !x.is_null());
        for x in m.values_mut() {
            strip_nulls(x);
        }
        m.retain(|_, x| !x.as_object().is_some_and(|o| o.is_empty()));
    }
}

/// RFC 7386 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Some(p) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Some(t) = target.as_object_mut() {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// Secret paths that `config.get` redacts and writes restore.
const SECRET_PATHS: &[&str] = &["gateway.auth.token", "gateway.auth.password"];

/// Replace secrets in a parsed document with [`REDACTED`].
pub fn redact(v: &Value) -> Value {
    let mut out = v.clone();
    for p in SECRET_PATHS {
        if get_path(&out, p).is_some_and(|x| !x.is_null()) {
            set_path(&mut out, p, Some(Value::String(REDACTED.into())));
        }
    }
    out
}

fn restore_redacted_value(doc: &mut Value, current: &Value) {
    for p in SECRET_PATHS {
        if get_path(doc, p).and_then(Value::as_str) == Some(REDACTED) {
            set_path(doc, p, get_path(current, p).cloned());
        }
    }
}

/// For `config.set`: if the text carries redacted placeholders, rewrite it as JSON with the
/// current secrets restored (comments are lost only in that case).
fn restore_redacted(text: &str, parsed: &Value, current: &Value) -> Option<String> {
    if !text.contains(REDACTED) {
        return None;
    }
    let mut doc = parsed.clone();
    restore_redacted_value(&mut doc, current);
    serde_json::to_string_pretty(&doc).ok().map(|mut s| {
        s.push('\n');
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::HotAction;

    fn store(text: &str) -> (tempfile::TempDir, ConfigStore) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("openclaw.json");
        std::fs::write(&p, text).unwrap();
        let s = ConfigStore::open(&p).unwrap();
        (dir, s)
    }

    /// Write `text` to the store's file and reload it.
    fn edit(s: &ConfigStore, text: &str) -> ReloadOutcome {
        std::fs::write(s.path(), text).unwrap();
        s.reload_from_disk()
    }

    fn applied(o: ReloadOutcome) -> Applied {
        match o {
            ReloadOutcome::Applied(a) => a,
            other => panic!("expected Applied, got {other:?}"),
        }
    }

    #[test]
    fn invalid_edit_keeps_last_good_and_records_error() {
        let (_d, s) = store("{ logging: { level: 'info' } }");
        let ReloadOutcome::Rejected(r) = edit(&s, "{ logging: { level: ") else {
            panic!("expected rejection")
        };
        assert!(r.error.contains("line 1"), "{}", r.error);
        assert_eq!(s.config().logging.level.as_deref(), Some("info"));
        let st = s.status();
        let err = st.last_error.as_ref().unwrap();
        assert!(err.message.contains("syntax"), "{}", err.message);
        // The next good edit clears the error and applies.
        let a = applied(edit(&s, "{ logging: { level: 'debug' } }"));
        assert_eq!(a.plan.actions, [HotAction::SetLogLevel].into());
        assert!(s.status().last_error.is_none());
        assert_eq!(s.config().logging.level.as_deref(), Some("debug"));
    }

    #[test]
    fn removed_file_keeps_last_good_config() {
        let (_d, s) = store("{ gateway: { auth: { token: 'a' } } }");
        std::fs::remove_file(s.path()).unwrap();
        let ReloadOutcome::Rejected(r) = s.reload_from_disk() else {
            panic!("a removed file must not reset the config")
        };
        assert!(r.error.contains("removed"), "{}", r.error);
        assert_eq!(s.config().gateway.auth.token.as_deref(), Some("a"));
        assert!(matches!(
            edit(&s, "{ gateway: { auth: { token: 'b' } } }"),
            ReloadOutcome::Applied(_)
        ));
    }

    #[test]
    fn same_bytes_are_unchanged() {
        let (_d, s) = store("{}");
        assert!(matches!(s.reload_from_disk(), ReloadOutcome::Unchanged));
    }

    #[test]
    fn restart_paths_are_held_back_and_revert_cancels() {
        let (_d, s) = store("{ gateway: { port: 1000 }, logging: { level: 'info' } }");
        let a = applied(edit(
            &s,
            "{ gateway: { port: 2000 }, logging: { level: 'warn' } }",
        ));
        assert_eq!(a.pending_restart, vec!["gateway.port"]);
        assert!(!a.plan.requires_restart(), "{:?}", a.plan);
        assert_eq!(
            s.config().gateway.port,
            Some(1000),
            "port held at boot value"
        );
        assert_eq!(
            s.config().logging.level.as_deref(),
            Some("warn"),
            "hot part applied"
        );
        assert_eq!(s.pending_restart(), vec!["gateway.port"]);
        let a = applied(edit(
            &s,
            "{ gateway: { port: 1000 }, logging: { level: 'warn' } }",
        ));
        assert!(a.restart_cancelled);
        assert!(a.pending_restart.is_empty());
        assert!(a.plan.is_empty(), "{:?}", a.plan);
    }

    #[test]
    fn set_checks_base_hash_and_writes() {
        let (_d, s) = store("{}");
        let h = s.snapshot().hash;
        let err = s
            .set("{ logging: { level: 'x' } }", Some("sha256:00"))
            .unwrap_err();
        assert!(matches!(err, WriteError::BaseHashMismatch { .. }), "{err}");
        let a = applied(
            s.set("// c\n{ logging: { level: 'x' } }", Some(&h))
                .unwrap(),
        );
        assert_eq!(a.changed_paths, vec!["logging.level"]);
        assert!(std::fs::read_to_string(s.path())
            .unwrap()
            .starts_with("// c"));
        // The watcher then sees our own write as unchanged.
        assert!(matches!(s.reload_from_disk(), ReloadOutcome::Unchanged));
        // Invalid text is refused and nothing is written.
        let h = s.snapshot().hash;
        assert!(matches!(
            s.set("{ gateway: { port: 'x' } }", Some(&h)),
            Err(WriteError::Invalid(_))
        ));
        assert_eq!(hash_bytes(&std::fs::read(s.path()).unwrap()), h);
    }

    #[test]
    fn patch_merges_and_restores_redacted_secrets() {
        let (_d, s) = store("{ gateway: { auth: { mode: 'token', token: 'secret' } }, session: { maxSpawnDepth: 2 } }");
        let h = s.snapshot().hash;
        assert!(matches!(
            s.patch("{}", None),
            Err(WriteError::BaseHashRequired)
        ));
        let a = applied(
            s.patch(
                "{ gateway: { auth: { token: '__OPENCLAW_REDACTED__' } }, session: { maxSpawnDepth: null }, logging: { level: 'debug' } }",
                Some(&h),
            )
            .unwrap(),
        );
        assert_eq!(
            a.changed_paths,
            vec!["logging.level", "session.maxSpawnDepth"]
        );
        assert_eq!(s.config().gateway.auth.token.as_deref(), Some("secret"));
        let red = redact(&s.snapshot().raw);
        assert_eq!(red["gateway"]["auth"]["token"], REDACTED);
    }

    #[test]
    fn token_rotation_is_hot() {
        let (_d, s) = store("{ gateway: { auth: { mode: 'token', token: 'a' } } }");
        let a = applied(edit(
            &s,
            "{ gateway: { auth: { mode: 'token', token: 'b' } } }",
        ));
        assert_eq!(a.plan.actions, [HotAction::RotateSharedSecret].into());
        assert!(a.pending_restart.is_empty());
        assert_eq!(s.config().gateway.auth.token.as_deref(), Some("b"));
    }

    #[test]
    fn reload_mode_off_validates_only() {
        let (_d, s) = store("{ gateway: { reload: { mode: 'off' } } }");
        let a = applied(edit(
            &s,
            "{ gateway: { reload: { mode: 'off' } }, logging: { level: 'x' } }",
        ));
        assert!(a.apply_disabled);
        assert_eq!(s.config().logging.level, None);
    }
}
