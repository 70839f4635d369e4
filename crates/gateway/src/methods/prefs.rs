//! `users.prefs.get` / `users.prefs.set`: the Control UI's preferences, stored for real.
//!
//! OpenClaw keeps preferences per user profile. This gateway has one operator identity (whoever
//! holds its shared secret or a paired device), so every authenticated operator shares the
//! profile [`PROFILE_ID`]. Entries live in `$STATE/user-prefs.json` (atomic writes, mode 0600),
//! under OpenClaw's limits: 32 keys per call, keys of 1–256 characters, values up to 4096 bytes
//! of JSON, 128 keys per profile. `null` deletes a key; `expectedEntries` makes a write
//! conditional (`conflict` when the stored values differ). A write emits `users.prefs.changed`
//! to operator connections, as OpenClaw does to the profile's connections.

use crate::rpc::MethodSpec;
use crate::state::GatewayState;
use openclaw_rs_protocol::methods::system::{
    prefs_limit_exceeded, PrefEntries, UsersPrefsChanged, UsersPrefsGetParams, UsersPrefsGetResult,
    UsersPrefsSetParams, UsersPrefsSetResult, PREFS_PER_CALL, PREF_KEY_MAX_CHARS,
};
use openclaw_rs_protocol::{scopes, ErrorCode, ErrorShape};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The one profile of this gateway's operator.
pub const PROFILE_ID: &str = "operator";
/// Largest value, as JSON bytes (OpenClaw's limit).
const MAX_VALUE_BYTES: usize = 4096;
/// Keys one profile may hold (OpenClaw's limit).
const MAX_KEYS: usize = 128;

/// `$STATE/user-prefs.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct PrefsFile {
    version: u32,
    profiles: BTreeMap<String, PrefEntries>,
}

pub(crate) fn specs() -> Vec<MethodSpec> {
    vec![
        MethodSpec::typed(
            |state, _ctx, p: UsersPrefsGetParams| async move { get(&state, p).await },
        ),
        MethodSpec::typed(
            |state, _ctx, p: UsersPrefsSetParams| async move { set(&state, p).await },
        ),
    ]
}

fn path(state: &GatewayState) -> PathBuf {
    state.options().state_dir.join("user-prefs.json")
}

fn unavailable(e: impl std::fmt::Display) -> ErrorShape {
    ErrorShape::new(
        ErrorCode::Unavailable,
        format!("user preferences unavailable: {e}"),
    )
}

async fn load(path: PathBuf) -> Result<PrefsFile, ErrorShape> {
    tokio::task::spawn_blocking(move || read_file(&path))
        .await
        .map_err(unavailable)?
}

fn read_file(path: &Path) -> Result<PrefsFile, ErrorShape> {
    match openclaw_rs_state::read_optional(path).map_err(unavailable)? {
        None => Ok(PrefsFile {
            version: 1,
            ..PrefsFile::default()
        }),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| unavailable(format!("{} is not valid: {e}", path.display()))),
    }
}

/// Keys must be 1–256 characters, at most 32 per call (OpenClaw's params schema).
fn check_keys<'a>(keys: impl ExactSizeIterator<Item = &'a String>) -> Result<(), ErrorShape> {
    let method = "users.prefs";
    if keys.len() > PREFS_PER_CALL {
        return Err(ErrorShape::new(
            ErrorCode::InvalidRequest,
            format!("invalid {method} params: at most {PREFS_PER_CALL} keys per call"),
        ));
    }
    for k in keys {
        let n = k.chars().count();
        if n == 0 || n > PREF_KEY_MAX_CHARS || k.contains('\n') {
            return Err(ErrorShape::new(
                ErrorCode::InvalidRequest,
                format!("invalid {method} entry for {k}: invalid-key"),
            ));
        }
    }
    Ok(())
}

async fn get(
    state: &GatewayState,
    p: UsersPrefsGetParams,
) -> Result<UsersPrefsGetResult, ErrorShape> {
    if let Some(keys) = &p.keys {
        check_keys(keys.iter())?;
    }
    let file = load(path(state)).await?;
    let mut entries = file.profiles.get(PROFILE_ID).cloned().unwrap_or_default();
    if let Some(keys) = &p.keys {
        entries.retain(|k, _| keys.contains(k));
    }
    Ok(UsersPrefsGetResult::Ok { entries })
}

async fn set(
    state: &GatewayState,
    p: UsersPrefsSetParams,
) -> Result<UsersPrefsSetResult, ErrorShape> {
    check_keys(p.entries.keys())?;
    if let Some(expected) = &p.expected_entries {
        check_keys(expected.keys())?;
    }
    for (k, v) in &p.entries {
        let size = serde_json::to_vec(v).map_or(usize::MAX, |b| b.len());
        if size > MAX_VALUE_BYTES {
            return Err(ErrorShape::new(
                ErrorCode::InvalidRequest,
                format!("invalid users.prefs.set entry for {k}: value-too-large"),
            ));
        }
    }
    // One read-modify-write of this gateway's prefs file at a time.
    let _guard = state.prefs_lock().lock().await;
    let file_path = path(state);
    let mut file = load(file_path.clone()).await?;
    let current = file.profiles.entry(PROFILE_ID.to_owned()).or_default();
    if let Some(expected) = &p.expected_entries {
        let matches = expected.iter().all(|(k, want)| match want {
            serde_json::Value::Null => !current.contains_key(k),
            want => current.get(k) == Some(want),
        });
        if !matches {
            return Ok(UsersPrefsSetResult::Conflict);
        }
    }
    let mut next = current.clone();
    for (k, v) in &p.entries {
        match v {
            serde_json::Value::Null => {
                next.remove(k);
            }
            v => {
                next.insert(k.clone(), v.clone());
            }
        }
    }
    let adds = p.entries.values().any(|v| !v.is_null());
    if adds && next.len() > MAX_KEYS {
        return Err(prefs_limit_exceeded(MAX_KEYS, current.len()));
    }
    if p.entries.is_empty() {
        return Ok(UsersPrefsSetResult::Ok);
    }
    *current = next;
    file.version = 1;
    tokio::task::spawn_blocking(move || openclaw_rs_state::write_json(&file_path, &file, 0o600))
        .await
        .map_err(unavailable)?
        .map_err(unavailable)?;
    let keys: Vec<String> = p.entries.keys().cloned().collect();
    state.broadcast_where(
        &UsersPrefsChanged {
            profile_id: PROFILE_ID.to_owned(),
            keys,
        },
        |c| c.info().role == scopes::ROLE_OPERATOR,
    );
    Ok(UsersPrefsSetResult::Ok)
}
