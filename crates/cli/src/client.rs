//! Shared client flags (`--url --token --password --timeout --json`), default resolution from the
//! state dir / config / env, and failure messages that say what to do.

use crate::base::{CliError, EXIT_NOT_RUNNING};
use clap::Args;
use openclaw_rs_client::{Client, ClientError, ClientOptions};
use openclaw_rs_protocol::methods::gateway::HealthParams;
use openclaw_rs_state::StateDir;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Where the gateway is and how to authenticate: the flags of every command that connects.
#[derive(Debug, Clone, Args, Default)]
pub struct ConnArgs {
    /// Gateway URL (default: the running gateway of the state dir, else `ws://127.0.0.1:<port>`).
    #[arg(long)]
    pub url: Option<String>,
    /// Gateway token (default: OPENCLAW_GATEWAY_TOKEN, gateway.auth.token, $STATE/gateway.token).
    #[arg(long, allow_hyphen_values = true)]
    pub token: Option<String>,
    /// Gateway password (password auth mode).
    #[arg(long, allow_hyphen_values = true)]
    pub password: Option<String>,
    /// State directory (default: OPENCLAW_STATE_DIR or ~/.openclaw).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
}

/// Flags every client command takes.
#[derive(Debug, Clone, Args, Default)]
pub struct ClientArgs {
    /// Where the gateway is and how to authenticate (`--url`, `--token`, `--password`, `--state-dir`).
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Request timeout in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub timeout: u64,
    /// Print machine-readable JSON.
    #[arg(long)]
    pub json: bool,
}

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// The state dir for `--state-dir` or the environment.
pub fn state_dir(flag: Option<&PathBuf>) -> StateDir {
    match flag {
        Some(d) => StateDir::new(d),
        None => StateDir::from_env(env),
    }
}

/// Where the target gateway is and how to authenticate, with where each value came from.
#[derive(Debug, Clone)]
pub struct Target {
    /// The gateway's WebSocket URL: `--url`, `OPENCLAW_GATEWAY_URL`, the running gateway's runtime
    /// file, else `ws://127.0.0.1:<port>` from the config.
    pub url: String,
    /// The gateway token: `--token`, `OPENCLAW_GATEWAY_TOKEN`, `gateway.auth.token`, else
    /// `$STATE/gateway.token`.
    pub token: Option<String>,
    /// Where `token` came from (`--token`, `OPENCLAW_GATEWAY_TOKEN`, `gateway.auth.token`,
    /// `$STATE/gateway.token`, or `none`), for messages that say which token was refused.
    pub token_source: &'static str,
    /// The gateway password: `--password`, `OPENCLAW_GATEWAY_PASSWORD`, else `gateway.auth.password`.
    pub password: Option<String>,
    /// The state directory: `--state-dir`, else `OPENCLAW_STATE_DIR` or `~/.openclaw`.
    pub state_dir: StateDir,
    /// The config file that was read (or could not be).
    pub config_path: PathBuf,
    /// Why the config file could not be read, when it could not. The target then comes from
    /// flags, the environment, the running gateway's runtime file and `$STATE/gateway.token`:
    /// a running gateway keeps its last good config, and the CLI must still reach it to say so.
    pub config_error: Option<String>,
}

/// Resolve `--url`/`--token` defaults: flag > env > running gateway / config > state dir.
/// Warns on stderr when the config file could not be read (see [`Target::config_error`]).
pub fn resolve_target(args: &ClientArgs) -> anyhow::Result<Target> {
    let target = resolve_target_with(args, env)?;
    warn_config_error(&target);
    Ok(target)
}

/// [`resolve_target`] with an explicit environment lookup.
pub fn resolve_target_with(
    args: &ClientArgs,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Target> {
    let state = match &args.conn.state_dir {
        Some(d) => StateDir::new(d),
        None => StateDir::from_env(&env),
    };
    let config_path = openclaw_rs_config::config_path(&state, &env);
    let (config, config_error) = match openclaw_rs_config::load(&config_path) {
        Ok(l) => (l.config, None),
        Err(e) => (openclaw_rs_config::Config::default(), Some(format!("{e}"))),
    };
    let url = args
        .conn
        .url
        .clone()
        .or_else(|| env("OPENCLAW_GATEWAY_URL"))
        .or_else(|| crate::runtime_file::RuntimeInfo::read(&state).map(|r| r.url))
        .unwrap_or_else(|| {
            let port = openclaw_rs_config::resolve_port(None, &config, &env);
            format!("ws://127.0.0.1:{port}")
        });
    let (token, token_source) = if let Some(t) = args.conn.token.clone() {
        (Some(t), "--token")
    } else if let Some(t) = env("OPENCLAW_GATEWAY_TOKEN") {
        (Some(t), "OPENCLAW_GATEWAY_TOKEN")
    } else if let Some(t) = config.gateway.auth.token.clone().filter(|t| !t.is_empty()) {
        (Some(t), "gateway.auth.token")
    } else {
        let path = state.join(openclaw_rs_gateway::launch::TOKEN_FILE);
        match std::fs::read_to_string(&path) {
            Ok(t) if !t.trim().is_empty() => (Some(t.trim().to_owned()), "$STATE/gateway.token"),
            _ => (None, "none"),
        }
    };
    let password = args
        .conn
        .password
        .clone()
        .or_else(|| env("OPENCLAW_GATEWAY_PASSWORD"))
        .or_else(|| config.gateway.auth.password.clone());
    Ok(Target {
        url,
        token,
        token_source,
        password,
        state_dir: state,
        config_path,
        config_error,
    })
}

/// Warn on stderr that the config file is unreadable and what the CLI uses instead.
fn warn_config_error(target: &Target) {
    if let Some(e) = &target.config_error {
        eprintln!(
            "warning: {e}\nwarning: a running gateway keeps serving its last good config; this command uses {} and the token from {}. fix the file, then check with `openclaw doctor`",
            target.url, target.token_source
        );
    }
}

/// Client options for `target`: its URL and secrets, `scopes`, and `--timeout` for the connect
/// and for each request.
pub fn client_options(target: &Target, args: &ClientArgs, scopes: &[&str]) -> ClientOptions {
    let mut opts = ClientOptions::new(target.url.clone());
    opts.token = target.token.clone();
    opts.password = target.password.clone();
    opts.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
    opts.connect_timeout = Duration::from_millis(args.timeout.max(1));
    opts.request_timeout = Duration::from_millis(args.timeout.max(1));
    opts
}

/// Connect to the target gateway with `scopes`, or fail with an actionable message.
pub async fn connect(args: &ClientArgs, scopes: &[&str]) -> anyhow::Result<(Client, Target)> {
    let target = resolve_target(args)?;
    match Client::connect(client_options(&target, args, scopes)).await {
        Ok(c) => Ok((c, target)),
        Err(e) => Err(explain(&e, &target).into()),
    }
}

/// Turn a client failure into a message that says what to do next.
pub fn explain(e: &ClientError, target: &Target) -> CliError {
    let state = target.state_dir.root().display();
    match e {
        ClientError::Connect { .. } => CliError::new(
            EXIT_NOT_RUNNING,
            format!(
                "no gateway is answering at {}: {e}\nstart one with `openclaw gateway start` (background) or `openclaw gateway run` (foreground)",
                target.url
            ),
        ),
        ClientError::Handshake { .. } => {
            let code = e.detail_code().unwrap_or("");
            let hint = match code {
                "AUTH_TOKEN_MISMATCH" => format!(
                    "the token sent (from {}) is not this gateway's token.\nthe gateway's token comes from, in order: `--token` on `gateway run`, OPENCLAW_GATEWAY_TOKEN, gateway.auth.token in {}, or the generated {state}/gateway.token.\npass the right one with --token or OPENCLAW_GATEWAY_TOKEN",
                    target.token_source,
                    target.config_path.display()
                ),
                "DEVICE_IDENTITY_REQUIRED" | "AUTH_TOKEN_MISSING" => format!(
                    "no token was sent. pass --token, set OPENCLAW_GATEWAY_TOKEN, or use the state dir of the gateway (its generated token is in {state}/gateway.token)"
                ),
                "AUTH_PASSWORD_MISMATCH" | "AUTH_PASSWORD_MISSING" => "pass the gateway password with --password or OPENCLAW_GATEWAY_PASSWORD (gateway.auth.password in the config)".to_owned(),
                "PROTOCOL_MISMATCH" => "this client and the gateway speak different protocol versions; upgrade the older one".to_owned(),
                _ => String::new(),
            };
            let mut msg = if hint.is_empty() {
                format!("{e}")
            } else {
                format!("{e}\n{hint}")
            };
            if let Some(config_error) = &target.config_error {
                msg.push_str(&format!(
                    "\nthe config file could not be read, so its gateway.auth settings were not used: {config_error}"
                ));
            }
            CliError::new(1, msg)
        }
        ClientError::Timeout(..) => CliError::new(
            1,
            format!("{e} from {}; the gateway may be overloaded or not an OpenClaw gateway (raise --timeout to wait longer)", target.url),
        ),
        _ => CliError::new(1, format!("{e}")),
    }
}

/// Print a value as pretty JSON (a typed result for `--json`). It goes through
/// `serde_json::Value`, so keys print in the same order as a payload printed untyped.
pub fn print_json<T: Serialize + ?Sized>(v: &T) {
    match serde_json::to_value(v) {
        Ok(v) => println!(
            "{}",
            serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string())
        ),
        Err(e) => eprintln!("error: cannot print the result as JSON: {e}"),
    }
}

/// `openclaw health`.
pub async fn health(args: ClientArgs) -> anyhow::Result<ExitCode> {
    let (client, target) = connect(&args, &[openclaw_rs_protocol::scopes::READ]).await?;
    let h = client
        .call(HealthParams::default())
        .await
        .map_err(|e| explain(&e, &target))?;
    client.close().await;
    if args.json {
        print_json(&h);
    } else {
        // `gateway` is this gateway's own figures; another gateway's health has none.
        let gw = h.gateway.as_ref();
        println!(
            "gateway {} at {} (version {}, uptime {}, {} connection(s))",
            if h.ok { "healthy" } else { "UNHEALTHY" },
            target.url,
            gw.map(|g| g.version.as_str()).unwrap_or("?"),
            human_ms(gw.map(|g| g.uptime_ms).unwrap_or(0)),
            gw.map(|g| g.connections).unwrap_or(0),
        );
        if !h.ok {
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `1h 2m 3s`-style duration.
pub fn human_ms(ms: u64) -> String {
    let s = ms / 1000;
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    if h > 0 {
        format!("{h}h {m}m {s}s")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}.{}s", (ms % 1000) / 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(dir: &std::path::Path) -> ClientArgs {
        ClientArgs {
            conn: ConnArgs {
                state_dir: Some(dir.to_path_buf()),
                ..ConnArgs::default()
            },
            ..ClientArgs::default()
        }
    }

    #[test]
    fn token_precedence_flag_env_config_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("gateway.token"), "from-file\n").unwrap();
        let none = |_: &str| None;
        let t = resolve_target_with(&args(dir.path()), none).unwrap();
        assert_eq!(t.token.as_deref(), Some("from-file"));
        assert_eq!(t.token_source, "$STATE/gateway.token");
        assert_eq!(t.url, "ws://127.0.0.1:18789");

        std::fs::write(
            dir.path().join("openclaw.json"),
            "{gateway:{port:1234,auth:{token:'from-config'}}}",
        )
        .unwrap();
        let t = resolve_target_with(&args(dir.path()), none).unwrap();
        assert_eq!(t.token.as_deref(), Some("from-config"));
        assert_eq!(t.url, "ws://127.0.0.1:1234");

        let env = |k: &str| match k {
            "OPENCLAW_GATEWAY_TOKEN" => Some("from-env".to_string()),
            "OPENCLAW_GATEWAY_PORT" => Some("4321".to_string()),
            _ => None,
        };
        let t = resolve_target_with(&args(dir.path()), env).unwrap();
        assert_eq!(t.token.as_deref(), Some("from-env"));
        assert_eq!(t.url, "ws://127.0.0.1:4321");

        let mut a = args(dir.path());
        a.conn.token = Some("from-flag".into());
        a.conn.url = Some("ws://127.0.0.1:1".into());
        let t = resolve_target_with(&a, env).unwrap();
        assert_eq!(t.token.as_deref(), Some("from-flag"));
        assert_eq!(t.token_source, "--token");
        assert_eq!(t.url, "ws://127.0.0.1:1");
    }

    #[test]
    fn broken_config_is_reported_and_the_state_token_still_used() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("openclaw.json"), "{ gateway: ").unwrap();
        std::fs::write(dir.path().join("gateway.token"), "from-file\n").unwrap();
        let t = resolve_target_with(&args(dir.path()), |_| None).unwrap();
        let err = t.config_error.as_deref().expect("config error kept");
        assert!(err.contains("line 1"), "{err}");
        assert_eq!(t.token.as_deref(), Some("from-file"));
        assert_eq!(t.token_source, "$STATE/gateway.token");
        assert_eq!(t.url, "ws://127.0.0.1:18789");
        // A refusal names the unreadable file.
        let refused = ClientError::Handshake {
            error: openclaw_rs_protocol::ErrorShape::new(
                openclaw_rs_protocol::ErrorCode::InvalidRequest,
                "unauthorized: gateway token mismatch",
            ),
            close: None,
        };
        let msg = explain(&refused, &t).message;
        assert!(msg.contains("config file could not be read"), "{msg}");
    }
}
