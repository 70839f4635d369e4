//! The config file watcher: `notify` on the file's directory, filtered to the file, debounced.
//!
//! Editors often save by writing a temp file and renaming it over the original, which replaces
//! the inode; watching the directory and filtering by name sees those saves too. Events are
//! coalesced: the file is read once `debounce` after the last event, so a burst of edits yields
//! one [`ReloadOutcome`]. Outcomes other than `Unchanged` (our own in-process writes) are sent
//! to the caller's channel.
//!
//! [`ConfigWatcher`] owns the notify watcher and the debounce task; dropping it (or
//! [`ConfigWatcher::shutdown`]) stops both. There is no detached task.

use notify::{RecursiveMode, Watcher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::store::{ConfigStore, ReloadOutcome};

/// The reference gateway's fixed debounce.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(300);

/// Starting the watcher failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot watch config directory {dir}: {source}")]
pub struct WatchError {
    /// The directory that could not be watched.
    pub dir: PathBuf,
    /// The watcher error.
    #[source]
    pub source: notify::Error,
}

/// Owns the file watch and its debounce task.
#[derive(Debug)]
pub struct ConfigWatcher {
    _watcher: notify::RecommendedWatcher,
    task: Option<JoinHandle<()>>,
}

impl ConfigWatcher {
    /// Watch `store`'s file. Must be called inside a tokio runtime. Each debounced change is
    /// applied to the store and its outcome sent on `out` (`Unchanged` is not sent).
    pub fn spawn(
        store: Arc<ConfigStore>,
        debounce: Duration,
        out: mpsc::Sender<ReloadOutcome>,
    ) -> Result<ConfigWatcher, WatchError> {
        let path = store.path().to_path_buf();
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        // A symlinked config (e.g. into a dotfiles repo) is edited at its target: watch both.
        let target = std::fs::canonicalize(&path).ok().filter(|t| *t != path);
        let target_dir = target.as_ref().and_then(|t| t.parent().map(PathBuf::from));
        let names: Vec<std::ffi::OsString> = [Some(&path), target.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|p| p.file_name().map(|n| n.to_os_string()))
            .collect();
        // One pending signal is enough: the task re-reads the whole file.
        let (tx, mut rx) = mpsc::channel::<()>(1);
        let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let Ok(ev) = res else {
                // Watch errors (e.g. queue overflow): re-read to be safe.
                let _ = tx.try_send(());
                return;
            };
            if ev.kind.is_access() {
                return;
            }
            if ev
                .paths
                .iter()
                .any(|p| p.file_name().is_some_and(|n| names.iter().any(|x| x == n)))
            {
                let _ = tx.try_send(());
            }
        })
        .map_err(|source| WatchError {
            dir: dir.clone(),
            source,
        })?;
        if let Err(e) = openclaw_rs_state::ensure_dir(&dir) {
            tracing::warn!("{e}");
        }
        watcher
            .watch(&dir, RecursiveMode::NonRecursive)
            .map_err(|source| WatchError {
                dir: dir.clone(),
                source,
            })?;
        if let Some(td) = target_dir.filter(|td| *td != dir) {
            watcher
                .watch(&td, RecursiveMode::NonRecursive)
                .map_err(|source| WatchError {
                    dir: td.clone(),
                    source,
                })?;
        }
        let task = tokio::spawn(async move {
            while rx.recv().await.is_some() {
                // Debounce: wait until `debounce` passes with no new event.
                loop {
                    match tokio::time::timeout(debounce, rx.recv()).await {
                        Ok(Some(())) => continue,
                        Ok(None) => return,
                        Err(_) => break,
                    }
                }
                let outcome = store.reload_from_disk();
                if matches!(outcome, ReloadOutcome::Unchanged) {
                    continue;
                }
                if out.send(outcome).await.is_err() {
                    return;
                }
            }
        });
        Ok(ConfigWatcher {
            _watcher: watcher,
            task: Some(task),
        })
    }

    /// Stop watching and wait for the debounce task to end.
    pub async fn shutdown(mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }
}

impl Drop for ConfigWatcher {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HANG_GUARD: Duration = Duration::from_secs(20);

    async fn next(rx: &mut mpsc::Receiver<ReloadOutcome>) -> ReloadOutcome {
        tokio::time::timeout(HANG_GUARD, rx.recv())
            .await
            .expect("no reload outcome within the hang guard")
            .expect("watcher channel closed")
    }

    #[tokio::test]
    async fn burst_of_edits_yields_one_plan_and_rename_saves_are_seen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openclaw.json");
        std::fs::write(&path, "{}").unwrap();
        let store = Arc::new(ConfigStore::open(&path).unwrap());
        let (tx, mut rx) = mpsc::channel(8);
        // A long debounce makes "one plan per burst" independent of scheduling hiccups.
        let w = ConfigWatcher::spawn(store.clone(), Duration::from_millis(800), tx).unwrap();
        for depth in 1..=5 {
            // Save the way editors do: write a temp file, rename it over the config.
            let tmp = dir.path().join(".openclaw.json.swp");
            std::fs::write(&tmp, format!("{{ session: {{ maxSpawnDepth: {depth} }} }}")).unwrap();
            std::fs::rename(&tmp, &path).unwrap();
        }
        let ReloadOutcome::Applied(a) = next(&mut rx).await else {
            panic!("expected an applied change")
        };
        assert_eq!(a.changed_paths, vec!["session.maxSpawnDepth"]);
        assert_eq!(store.config().session.max_spawn_depth, Some(5));
        // No second plan for the same burst: the next outcome is the next edit's.
        std::fs::write(
            &path,
            "{ session: { maxSpawnDepth: 5 }, logging: { level: 'debug' } }",
        )
        .unwrap();
        let ReloadOutcome::Applied(a) = next(&mut rx).await else {
            panic!("expected an applied change")
        };
        assert_eq!(a.changed_paths, vec!["logging.level"]);
        w.shutdown().await;
    }

    #[tokio::test]
    async fn symlinked_config_is_watched_at_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let real_dir = dir.path().join("dotfiles");
        std::fs::create_dir(&real_dir).unwrap();
        let real = real_dir.join("openclaw.json");
        std::fs::write(&real, "{}").unwrap();
        let link = dir.path().join("state").join("openclaw.json");
        std::fs::create_dir(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let store = Arc::new(ConfigStore::open(&link).unwrap());
        let (tx, mut rx) = mpsc::channel(8);
        let _w = ConfigWatcher::spawn(store.clone(), DEFAULT_DEBOUNCE, tx).unwrap();
        std::fs::write(&real, "{ logging: { level: 'debug' } }").unwrap();
        let ReloadOutcome::Applied(a) = next(&mut rx).await else {
            panic!("expected an applied change")
        };
        assert_eq!(a.changed_paths, vec!["logging.level"]);
    }

    #[tokio::test]
    async fn invalid_edit_is_reported_and_last_good_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openclaw.json");
        std::fs::write(&path, "{ logging: { level: 'info' } }").unwrap();
        let store = Arc::new(ConfigStore::open(&path).unwrap());
        let (tx, mut rx) = mpsc::channel(8);
        let _w = ConfigWatcher::spawn(store.clone(), DEFAULT_DEBOUNCE, tx).unwrap();
        // Unrelated files in the directory are ignored.
        std::fs::write(dir.path().join("other.json"), "junk").unwrap();
        std::fs::write(&path, "{ logging: { level: 'debug', } ").unwrap();
        let ReloadOutcome::Rejected(r) = next(&mut rx).await else {
            panic!("expected a rejection")
        };
        assert!(r.error.contains("syntax error"), "{}", r.error);
        assert_eq!(store.config().logging.level.as_deref(), Some("info"));
        assert!(store.status().last_error.is_some());
    }
}
