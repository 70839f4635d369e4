//! `openclaw-app-server tool <name> [<json-args>]`: calls a dynamic tool of the turn this
//! process runs in (through the socket in `$OPENCLAW_TOOL_SOCKET`) and prints its text result.
//!
//! Exit codes: 0 the tool succeeded (its text on stdout); 1 the tool ran and failed (its text on
//! stderr); 2 bad usage; 3 no tool socket here (not inside an embedded turn, or the turn is
//! over); 4 the call was refused or got no answer (unknown tool, the run ended, …).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;

use serde_json::{json, Value};

use crate::tools::TOOL_SOCKET_ENV;

/// Exit code: the tool succeeded.
pub const EXIT_OK: u8 = 0;
/// Exit code: the tool ran and reported a failure.
pub const EXIT_TOOL_FAILED: u8 = 1;
/// Exit code: bad arguments.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: no tool socket to talk to.
pub const EXIT_UNAVAILABLE: u8 = 3;
/// Exit code: the call was refused or not answered.
pub const EXIT_REFUSED: u8 = 4;

const USAGE: &str = "usage: openclaw-app-server tool <name> [<json-args>]
Calls a tool of the running turn, e.g.
  openclaw-app-server tool sessions_spawn '{\"task\":\"echo hi\",\"wait\":true}'
Only works inside a task run by the embedded runtime (it sets $OPENCLAW_TOOL_SOCKET).";

/// Runs the subcommand with the arguments after `tool`; returns the exit code.
pub fn run(args: &[String]) -> u8 {
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    run_with(args, std::env::var_os(TOOL_SOCKET_ENV), &mut out, &mut err)
}

fn run_with(
    args: &[String],
    socket: Option<std::ffi::OsString>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let (name, raw) = match args {
        [flag] if flag == "--help" || flag == "-h" => {
            let _ = writeln!(out, "{USAGE}");
            return EXIT_OK;
        }
        [name] => (name.as_str(), "{}"),
        [name, raw] => (name.as_str(), raw.as_str()),
        _ => {
            let _ = writeln!(err, "{USAGE}");
            return EXIT_USAGE;
        }
    };
    if name.is_empty() || name.starts_with('-') {
        let _ = writeln!(
            err,
            "openclaw-app-server tool: {name:?} is not a tool name\n{USAGE}"
        );
        return EXIT_USAGE;
    }
    let arguments: Value = match serde_json::from_str(raw) {
        Ok(v) => v,
        Err(e) => {
            let _ = writeln!(
                err,
                "openclaw-app-server tool {name}: the arguments are not valid JSON ({e}); pass one JSON value, e.g. '{{\"task\":\"echo hi\"}}'"
            );
            return EXIT_USAGE;
        }
    };
    let Some(socket) = socket.filter(|s| !s.is_empty()) else {
        let _ = writeln!(
            err,
            "openclaw-app-server tool {name}: ${TOOL_SOCKET_ENV} is not set; tools can only be called from a task the embedded runtime is running"
        );
        return EXIT_UNAVAILABLE;
    };
    let reply = match call(&socket, name, arguments) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(
                err,
                "openclaw-app-server tool {name}: cannot reach the turn's tool socket {}: {e} (has the turn ended?)",
                std::path::Path::new(&socket).display()
            );
            return EXIT_UNAVAILABLE;
        }
    };
    if reply.get("ok").and_then(Value::as_bool) != Some(true) {
        let msg = reply
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("no answer");
        let _ = writeln!(err, "openclaw-app-server tool {name}: refused: {msg}");
        return EXIT_REFUSED;
    }
    let result = reply.get("result").cloned().unwrap_or(Value::Null);
    let mut text: String = result
        .get("contentItems")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if result.get("success").and_then(Value::as_bool) == Some(true) {
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
        EXIT_OK
    } else {
        let _ = write!(err, "openclaw-app-server tool {name}: failed: {text}");
        if text.is_empty() {
            let _ = writeln!(err, "(no details)");
        }
        EXIT_TOOL_FAILED
    }
}

fn call(socket: &std::ffi::OsStr, name: &str, arguments: Value) -> std::io::Result<Value> {
    let mut stream = UnixStream::connect(socket)?;
    let mut line = json!({"tool": name, "arguments": arguments}).to_string();
    line.push('\n');
    stream.write_all(line.as_bytes())?;
    stream.flush()?;
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply)?;
    if reply.trim().is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the connection closed without an answer",
        ));
    }
    serde_json::from_str(reply.trim())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_args(args: &[&str], socket: Option<&str>) -> (u8, String, String) {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = run_with(&args, socket.map(Into::into), &mut out, &mut err);
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn usage_and_environment_errors_are_clear() {
        let (code, _, err) = run_args(&[], None);
        assert_eq!(code, EXIT_USAGE);
        assert!(err.contains("usage: openclaw-app-server tool"), "{err}");
        let (code, _, err) = run_args(&["sessions_spawn", "{not json"], Some("/x"));
        assert_eq!(code, EXIT_USAGE);
        assert!(err.contains("not valid JSON"), "{err}");
        let (code, _, err) = run_args(&["sessions_spawn", "{}"], None);
        assert_eq!(code, EXIT_UNAVAILABLE);
        assert!(err.contains("OPENCLAW_TOOL_SOCKET is not set"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("gone.sock");
        let (code, _, err) = run_args(&["x", "{}"], Some(missing.to_str().unwrap()));
        assert_eq!(code, EXIT_UNAVAILABLE);
        assert!(err.contains("has the turn ended?"), "{err}");
    }
}
