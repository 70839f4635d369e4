//! `openclaw doctor --dry-run / --fix / --json` against a real gateway and real files.

use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use crate::util::openclaw_xdg;

fn openclaw(args: &[&str], xdg: &Path) -> Output {
    openclaw_xdg(xdg, args)
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor --json is not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn findings<'a>(r: &'a Value, id: &str) -> Vec<&'a Value> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == id)
        .collect()
}

struct StopOnDrop<'a>(&'a str, &'a Path);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        let _ = openclaw(&["gateway", "stop", "--state-dir", self.0], self.1);
    }
}

#[test]
fn dry_run_names_a_leaky_secret_and_fix_repairs_it_with_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let xdg = tempfile::tempdir().unwrap();
    let state = dir.path().to_str().unwrap();
    let out = openclaw(
        &["gateway", "start", "--port", "0", "--state-dir", state],
        xdg.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let _stop = StopOnDrop(state, xdg.path());
    let token = dir.path().join("gateway.token");
    let before = std::fs::read(&token).unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();

    // --dry-run: names it, says what it would do, changes nothing.
    let out = openclaw(
        &["doctor", "--dry-run", "--json", "--state-dir", state],
        xdg.path(),
    );
    let r = report(&out);
    assert_eq!(out.status.code(), Some(1), "{r}");
    for f in r["findings"].as_array().unwrap() {
        assert!(f["id"].is_string() && f["severity"].is_string() && f["message"].is_string());
        if f["severity"] == "error" {
            assert!(f["fix"].is_string(), "an error without its fix: {f}");
        }
    }
    let leak = findings(&r, "state.secret_mode");
    let leak = leak
        .iter()
        .find(|f| f["message"].as_str().unwrap().contains("gateway.token"))
        .unwrap_or_else(|| panic!("gateway.token at 0644 not named: {r}"));
    assert_eq!(leak["severity"], "error");
    assert_eq!(leak["fix"], format!("chmod 600 {}", token.display()));
    assert_eq!(leak["change"]["applied"], false, "{leak}");
    let backup = leak["change"]["backup"].as_str().unwrap().to_owned();
    assert_eq!(mode(&token), 0o644, "--dry-run changed the mode");
    assert!(!Path::new(&backup).exists(), "--dry-run wrote a backup");
    assert!(!dir.path().join("backups").exists());
    // The other checks ran too.
    assert_eq!(findings(&r, "gateway.reachable").len(), 1, "{r}");
    assert_eq!(findings(&r, "service.not_installed").len(), 1, "{r}");
    assert_eq!(findings(&r, "state.disk_free").len(), 1, "{r}");
    assert_eq!(findings(&r, "state.journal_size").len(), 1, "{r}");

    // The text form says the same.
    let out = openclaw(&["doctor", "--dry-run", "--state-dir", state], xdg.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("[error] state.secret_mode")
            && text.contains(&format!("would run: chmod 600 {}", token.display()))
            && text.contains("nothing was changed"),
        "{text}"
    );
    assert_eq!(mode(&token), 0o644);

    // --fix: backs up first, then fixes, and names the backup.
    let out = openclaw(
        &["doctor", "--fix", "--json", "--state-dir", state],
        xdg.path(),
    );
    let r = report(&out);
    let leak = findings(&r, "state.secret_mode")
        .into_iter()
        .find(|f| f["message"].as_str().unwrap().contains("gateway.token"))
        .unwrap()
        .clone();
    assert_eq!(leak["change"]["applied"], true, "{leak}");
    let backup = leak["change"]["backup"].as_str().unwrap().to_owned();
    assert_eq!(mode(&token), 0o600);
    assert_eq!(std::fs::read(&backup).unwrap(), before, "backup content");
    assert_eq!(
        mode(Path::new(&backup)),
        0o600,
        "a secret's backup is private"
    );
    assert_eq!(std::fs::read(&token).unwrap(), before, "content kept");
    assert_eq!(out.status.code(), Some(0), "{r}");

    // Nothing left to fix; the gateway still accepts the CLI.
    let out = openclaw(&["doctor", "--json", "--state-dir", state], xdg.path());
    let r = report(&out);
    assert!(findings(&r, "state.secret_mode").is_empty(), "{r}");
    assert!(findings(&r, "state.dir_mode").is_empty(), "{r}");
    assert_eq!(out.status.code(), Some(0), "{r}");
}
