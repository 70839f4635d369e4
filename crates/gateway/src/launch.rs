//! From flags, environment and config to [`GatewayOptions`] and bound listeners.
//!
//! Used by `gateway` / `openclaw gateway run` and by tests. Precedence everywhere:
//! flag > environment > config file > default.

use crate::error::GatewayError;
use crate::options::{GatewayOptions, SharedAuth};
use openclaw_rs_config::{AuthMode, BindMode, Config};
use openclaw_rs_state::{StateDir, SECRET_MODE};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

/// File (in the state dir) holding the generated gateway token for the CLI.
pub const TOKEN_FILE: &str = "gateway.token";

/// Flags given on the command line (all optional).
#[derive(Debug, Clone, Default)]
pub struct LaunchFlags {
    /// `--port`.
    pub port: Option<u16>,
    /// `--bind loopback|lan`.
    pub bind: Option<BindMode>,
    /// `--auth none|token|password`.
    pub auth: Option<AuthMode>,
    /// `--token`.
    pub token: Option<String>,
    /// `--password`.
    pub password: Option<String>,
    /// `--state-dir` (else `OPENCLAW_STATE_DIR`, else `~/.openclaw`).
    pub state_dir: Option<PathBuf>,
}

/// A resolved launch: options plus where to listen.
#[derive(Debug)]
pub struct Launch {
    /// What the gateway runs with.
    pub options: GatewayOptions,
    /// Loopback or LAN.
    pub bind: BindMode,
    /// The port to listen on (0: any free port).
    pub port: u16,
    /// Warnings found while loading the config (unknown keys, …).
    pub warnings: Vec<String>,
    /// The token was generated and persisted in this run.
    pub token_generated: bool,
}

/// Resolve flags + env (`get`) + config into a [`Launch`].
pub fn resolve(
    flags: &LaunchFlags,
    get: impl Fn(&str) -> Option<String>,
) -> Result<Launch, GatewayError> {
    let state_dir = match &flags.state_dir {
        Some(dir) => StateDir::new(dir),
        None => StateDir::from_env(&get),
    };
    state_dir.ensure()?;
    let config_path = openclaw_rs_config::config_path(&state_dir, &get);
    let loaded = openclaw_rs_config::load(&config_path).map_err(|e| {
        GatewayError::Config(format!(
            "{e}\nfix the file or point OPENCLAW_CONFIG_PATH elsewhere"
        ))
    })?;
    let config: Config = loaded.config;
    let port = openclaw_rs_config::resolve_port(flags.port, &config, &get);
    let bind = flags
        .bind
        .or(config.gateway.bind)
        .unwrap_or(BindMode::Loopback);

    let env_token = get("OPENCLAW_GATEWAY_TOKEN").filter(|t| !t.is_empty());
    let token = flags
        .token
        .clone()
        .or(env_token)
        .or_else(|| config.gateway.auth.token.clone().filter(|t| !t.is_empty()));
    let password = flags
        .password
        .clone()
        .or_else(|| get("OPENCLAW_GATEWAY_PASSWORD").filter(|p| !p.is_empty()))
        .or_else(|| {
            config
                .gateway
                .auth
                .password
                .clone()
                .filter(|p| !p.is_empty())
        });
    let mode = flags.auth.or(config.gateway.auth.mode).unwrap_or(
        if password.is_some() && token.is_none() {
            AuthMode::Password
        } else {
            AuthMode::Token
        },
    );

    let mut token_generated = false;
    let token = match (mode, token) {
        (AuthMode::Token, None) => {
            let (t, generated) = load_or_generate_token(&state_dir)?;
            token_generated = generated;
            Some(t)
        }
        (_, t) => t,
    };
    if bind == BindMode::Lan && mode == AuthMode::None {
        return Err(GatewayError::Config(
            "refusing to bind to the LAN (0.0.0.0) with gateway auth mode `none`: anyone on the network could drive this gateway.\nuse --auth token (a token is generated in the state dir) or --bind loopback".into(),
        ));
    }
    if mode == AuthMode::Password && password.is_none() {
        return Err(GatewayError::Config(
            "gateway auth mode `password` needs a password: pass --password, set OPENCLAW_GATEWAY_PASSWORD or gateway.auth.password".into(),
        ));
    }

    let mut options = GatewayOptions::new(state_dir);
    options.config_path = config_path;
    if let Some(ms) = get("OPENCLAW_HANDSHAKE_TIMEOUT_MS")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .or(config.gateway.handshake_timeout_ms)
    {
        options.handshake_timeout = Duration::from_millis(ms.max(1));
    }
    options.auth = SharedAuth {
        mode,
        token,
        password,
    };
    options.config = config;
    options.restarts = get(crate::metrics::RESTARTS_ENV)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    Ok(Launch {
        options,
        bind,
        port,
        warnings: loaded.warnings,
        token_generated,
    })
}

/// Read `$STATE/gateway.token`, or create it (32 random bytes, hex, 0600).
/// Returns the token and whether it was generated now. The token is never logged.
pub fn load_or_generate_token(state_dir: &StateDir) -> Result<(String, bool), GatewayError> {
    let path = state_dir.join(TOKEN_FILE);
    if let Some(bytes) = openclaw_rs_state::read_optional(&path)? {
        let t = String::from_utf8_lossy(&bytes).trim().to_owned();
        if !t.is_empty() {
            return Ok((t, false));
        }
    }
    let token = random_token()?;
    openclaw_rs_state::write_atomic(&path, format!("{token}\n").as_bytes(), SECRET_MODE)?;
    Ok((token, true))
}

/// 32 random bytes as lowercase hex (64 chars). Hex, not base64url: a base64url token starts
/// with `-` one time in 64, and a command line then reads `--token -4x…` as a flag.
pub fn random_token() -> Result<String, GatewayError> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| {
        GatewayError::Config(format!(
            "cannot read random bytes for the gateway token: {e}"
        ))
    })?;
    Ok(openclaw_rs_auth::encoding::hex(&bytes))
}

/// Bind the listeners for `bind`/`port`: loopback = 127.0.0.1 + ::1 (::1 best effort),
/// LAN = 0.0.0.0. Port 0 picks a free port (the IPv6 listener then reuses it).
pub fn bind_listeners(bind: BindMode, port: u16) -> Result<Vec<TcpListener>, GatewayError> {
    let bind_err = |addr: SocketAddr, source: std::io::Error| GatewayError::Listener {
        addr: addr.to_string(),
        source,
    };
    match bind {
        BindMode::Lan => {
            let addr = SocketAddr::from((Ipv4Addr::UNSPECIFIED, port));
            Ok(vec![TcpListener::bind(addr).map_err(|e| bind_err(addr, e))?])
        }
        BindMode::Loopback => {
            let v4 = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            let first = TcpListener::bind(v4).map_err(|e| bind_err(v4, e))?;
            let actual = first.local_addr().map(|a| a.port()).unwrap_or(port);
            let mut out = vec![first];
            let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, actual));
            match TcpListener::bind(v6) {
                Ok(l) => out.push(l),
                Err(e) => {
                    tracing::info!(addr = %v6, error = %e, "IPv6 loopback unavailable; serving on 127.0.0.1 only")
                }
            }
            Ok(out)
        }
    }
}

/// `ws://host:port` URLs for the listeners (for logs and `status`).
pub fn listen_urls(listeners: &[TcpListener]) -> Vec<String> {
    listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .map(|a| format!("ws://{a}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_and_reuses_token() {
        let dir = tempfile::tempdir().unwrap();
        let flags = LaunchFlags {
            state_dir: Some(dir.path().to_path_buf()),
            ..LaunchFlags::default()
        };
        let a = resolve(&flags, |_| None).unwrap();
        assert!(a.token_generated);
        let t = a.options.auth.token.clone().unwrap();
        assert_eq!(t.len(), 64);
        assert!(t.bytes().all(|b| b.is_ascii_hexdigit()), "{t}");
        let b = resolve(&flags, |_| None).unwrap();
        assert!(!b.token_generated);
        assert_eq!(b.options.auth.token.unwrap(), t);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(TOKEN_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn lan_without_auth_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let flags = LaunchFlags {
            state_dir: Some(dir.path().to_path_buf()),
            bind: Some(BindMode::Lan),
            auth: Some(AuthMode::None),
            ..LaunchFlags::default()
        };
        let e = resolve(&flags, |_| None).unwrap_err().to_string();
        assert!(e.contains("refusing to bind"), "{e}");
    }

    #[test]
    fn env_token_wins_over_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("openclaw.json"),
            "{gateway:{auth:{token:'cfg'}}}",
        )
        .unwrap();
        let flags = LaunchFlags {
            state_dir: Some(dir.path().to_path_buf()),
            ..LaunchFlags::default()
        };
        let l = resolve(&flags, |k| {
            (k == "OPENCLAW_GATEWAY_TOKEN").then(|| "env".into())
        })
        .unwrap();
        assert_eq!(l.options.auth.token.as_deref(), Some("env"));
        let l = resolve(&flags, |_| None).unwrap();
        assert_eq!(l.options.auth.token.as_deref(), Some("cfg"));
    }
}
