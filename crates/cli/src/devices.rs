//! `openclaw devices list|approve|reject|remove|rotate|revoke` and the auth checks of
//! `openclaw doctor`.
//!
//! These commands connect with this machine's device identity (`$STATE/identity/device.json`,
//! created on first use) so that a token the gateway issues or rotates for this machine is
//! stored (`$STATE/identity/device-auth.json`) — `devices rotate` on the own device persists the
//! new token, unlike OpenClaw #20679.

use crate::base::CliError;
use crate::client::{self, ClientArgs, Target};
use clap::{Args, Subcommand};
use openclaw_rs_auth::{CachedToken, DeviceTokenCache};
use openclaw_rs_client::{Client, ClientError, ClientOptions, DeviceSigner};
use openclaw_rs_protocol::methods::devices::{
    DevicePairApproveParams, DevicePairListParams, DevicePairRejectParams, DevicePairRemoveParams,
    DeviceTokenRevokeParams, DeviceTokenRotateParams, DeviceTokenRotated,
};
use openclaw_rs_protocol::{scopes, NonEmpty, Request};
use openclaw_rs_state::StateDir;
use serde::Serialize;
use serde_json::{json, Value};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// `openclaw devices …`
#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// The device command to run.
    #[command(subcommand)]
    pub command: DevicesCommand,
}

/// Device pairing and device-token commands (scope `operator.pairing`).
#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    /// List pending pairing requests and paired devices.
    List(ClientArgs),
    /// Approve a pending pairing request.
    Approve {
        /// The pending request's id, as `devices list` shows it.
        request_id: String,
        /// Connection flags.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Reject a pending pairing request.
    Reject {
        /// The pending request's id, as `devices list` shows it.
        request_id: String,
        /// Connection flags.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Remove a paired device (its live connections are closed).
    Remove {
        /// The paired device's id, as `devices list` shows it.
        device_id: String,
        /// Connection flags.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Rotate a device token; the old one stops working at once.
    Rotate {
        /// Device id (default: this machine's device).
        #[arg(long)]
        device: Option<String>,
        /// Role of the token.
        #[arg(long, default_value = "operator")]
        role: String,
        /// Scopes for the new token (default: the device's approved scopes).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Connection flags.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Revoke a device token.
    Revoke {
        /// Device id (default: this machine's device).
        #[arg(long)]
        device: Option<String>,
        /// Role of the token.
        #[arg(long, default_value = "operator")]
        role: String,
        /// Connection flags.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// A connection made with this machine's device identity.
struct DeviceConn {
    client: Client,
    target: Target,
    signer: Arc<DeviceSigner>,
}

fn signer_for(state: &StateDir) -> anyhow::Result<Arc<DeviceSigner>> {
    DeviceSigner::from_state_dir(state)
        .map(Arc::new)
        .map_err(|e| CliError::new(1, format!("device identity: {e}")).into())
}

fn options(
    target: &Target,
    args: &ClientArgs,
    signer: &Arc<DeviceSigner>,
    scopes: &[&str],
) -> ClientOptions {
    let mut o = client::client_options(target, args, scopes);
    o.signer = Some(signer.clone());
    o
}

async fn connect(args: &ClientArgs, scopes: &[&str]) -> anyhow::Result<DeviceConn> {
    let target = client::resolve_target(args)?;
    let signer = signer_for(&target.state_dir)?;
    match Client::connect(options(&target, args, &signer, scopes)).await {
        Ok(client) => Ok(DeviceConn {
            client,
            target,
            signer,
        }),
        Err(e) => Err(explain(&e, &target, &signer).into()),
    }
}

/// Actionable messages for the device-specific refusals; the rest as `client::explain`.
fn explain(e: &ClientError, target: &Target, signer: &DeviceSigner) -> CliError {
    let device = signer.identity().device_id();
    match e.detail_code() {
        Some("PAIRING_REQUIRED") => {
            let rid = e
                .error_shape()
                .and_then(|s| s.pairing_request_id())
                .unwrap_or("?");
            CliError::new(
                1,
                format!(
                    "{e}\nthis machine's device {device} waits for approval.\non the gateway host run: openclaw devices approve {rid}\nthen run this command again"
                ),
            )
        }
        Some("AUTH_DEVICE_TOKEN_MISMATCH") | Some("AUTH_DEVICE_TOKEN_SCOPE_MISMATCH") => {
            let fix = fix_command(target);
            CliError::new(
                1,
                format!("{e}\nthe device token stored in {} is no longer valid for this gateway.\nfix: {fix}", signer.token_path().display()),
            )
        }
        _ => client::explain(e, target),
    }
}

/// The command that heals a stale device token: connect once with the gateway token.
fn fix_command(target: &Target) -> String {
    if target.url == format!("ws://127.0.0.1:{}", openclaw_rs_config::DEFAULT_PORT) {
        "openclaw doctor --token <gateway-token>".into()
    } else {
        format!(
            "openclaw doctor --url {} --token <gateway-token>",
            target.url
        )
    }
}

/// `openclaw devices …`
pub async fn run(args: DevicesArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        DevicesCommand::List(c) => list(c).await,
        DevicesCommand::Approve { request_id, client } => {
            let params = DevicePairApproveParams {
                request_id: non_empty::<DevicePairApproveParams>("requestId", request_id)?,
            };
            let r = call(&client, &[scopes::PAIRING], params).await?;
            output(&client, &r, || {
                format!("Approved {} ({})", r.device.device_id, r.request_id)
            })
        }
        DevicesCommand::Reject { request_id, client } => {
            let params = DevicePairRejectParams {
                request_id: non_empty::<DevicePairRejectParams>("requestId", request_id)?,
            };
            let r = call(&client, &[scopes::PAIRING], params).await?;
            output(&client, &r, || format!("Rejected {}", r.device_id))
        }
        DevicesCommand::Remove { device_id, client } => {
            let params = DevicePairRemoveParams {
                device_id: non_empty::<DevicePairRemoveParams>("deviceId", device_id)?,
            };
            let r = call(&client, &[scopes::PAIRING], params).await?;
            output(&client, &r, || format!("Removed {}", r.device_id))
        }
        DevicesCommand::Rotate {
            device,
            role,
            scopes: wanted,
            client,
        } => rotate(client, device, role, wanted).await,
        DevicesCommand::Revoke {
            device,
            role,
            client,
        } => {
            // Another device's token: the gateway requires operator.admin as well.
            let wanted: &[&str] = if device.is_some() {
                &[scopes::PAIRING, scopes::ADMIN]
            } else {
                &[scopes::PAIRING]
            };
            let conn = connect(&client, wanted).await?;
            let device = device.unwrap_or_else(|| conn.signer.identity().device_id().to_owned());
            let params = DeviceTokenRevokeParams {
                device_id: non_empty::<DeviceTokenRevokeParams>("deviceId", device.clone())?,
                role: non_empty::<DeviceTokenRevokeParams>("role", role.clone())?,
            };
            let r = request(&conn, params).await?;
            output(&client, &r, || format!("Revoked {role} token of {device}"))
        }
    }
}

async fn request<P: Request>(conn: &DeviceConn, params: P) -> anyhow::Result<P::Result> {
    conn.client
        .call(params)
        .await
        .map_err(|e| CliError::new(1, format!("{}: {e}", P::METHOD)).into())
}

async fn call<P: Request>(
    args: &ClientArgs,
    scopes: &[&str],
    params: P,
) -> anyhow::Result<P::Result> {
    let conn = connect(args, scopes).await?;
    let r = request(&conn, params).await;
    conn.client.close().await;
    r
}

/// A params string that must not be empty (OpenClaw's `NonEmptyString`).
fn non_empty<P: Request>(field: &str, value: String) -> anyhow::Result<NonEmpty> {
    NonEmpty::new(value)
        .ok_or_else(|| CliError::new(1, format!("{}: {field} must not be empty", P::METHOD)).into())
}

fn output<T: Serialize>(
    args: &ClientArgs,
    v: &T,
    text: impl FnOnce() -> String,
) -> anyhow::Result<ExitCode> {
    if args.json {
        client::print_json(v);
    } else {
        println!("{}", text());
    }
    Ok(ExitCode::SUCCESS)
}

async fn list(args: ClientArgs) -> anyhow::Result<ExitCode> {
    let conn = connect(&args, &[scopes::PAIRING]).await?;
    let v = request(&conn, DevicePairListParams {}).await?;
    conn.client.close().await;
    if args.json {
        client::print_json(&v);
        return Ok(ExitCode::SUCCESS);
    }
    let me = conn.signer.identity().device_id().to_owned();
    println!("Pending ({}):", v.pending.len());
    for p in &v.pending {
        println!(
            "  {}  device {}  role {}  scopes [{}]  from {}  → openclaw devices approve {}",
            p.request_id,
            short(&p.device_id),
            p.role,
            p.scopes.join(","),
            p.remote_ip.as_deref().unwrap_or("?"),
            p.request_id,
        );
    }
    println!("Paired ({}):", v.paired.len());
    for d in &v.paired {
        let id = d.device_id.as_str();
        println!(
            "  {}  roles [{}]  scopes [{}]  via {}  {} {}{}",
            id,
            d.roles.join(","),
            d.scopes.join(","),
            d.approved_via,
            d.client_id,
            d.platform,
            if id == me { "  (this machine)" } else { "" },
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn short(id: &str) -> &str {
    id.get(..16).unwrap_or(id)
}

/// `devices rotate --json`: the result without its token, and whether it was stored here.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RotateOutput<'a> {
    #[serde(flatten)]
    rotated: &'a DeviceTokenRotated,
    stored_locally: bool,
}

async fn rotate(
    args: ClientArgs,
    device: Option<String>,
    role: String,
    wanted: Vec<String>,
) -> anyhow::Result<ExitCode> {
    let mut needed: Vec<&str> = vec![scopes::PAIRING];
    // Another device's token: the gateway requires operator.admin as well.
    if device.is_some() {
        needed.push(scopes::ADMIN);
    }
    needed.extend(wanted.iter().map(String::as_str));
    let conn = connect(&args, &needed).await?;
    let me = conn.signer.identity().device_id().to_owned();
    let device = device.unwrap_or_else(|| me.clone());
    let params = DeviceTokenRotateParams {
        device_id: non_empty::<DeviceTokenRotateParams>("deviceId", device.clone())?,
        role: non_empty::<DeviceTokenRotateParams>("role", role.clone())?,
        scopes: match wanted.is_empty() {
            true => None,
            false => Some(
                wanted
                    .iter()
                    .map(|s| non_empty::<DeviceTokenRotateParams>("scopes", s.clone()))
                    .collect::<anyhow::Result<_>>()?,
            ),
        },
    };
    let mut r = request(&conn, params).await?;
    conn.client.close().await;
    // The new token of this machine is stored at once (OpenClaw #20679 lost it). It is never
    // printed: stored, or withheld.
    let stored = match r.token.take() {
        Some(token) if device == me => {
            let entry = CachedToken {
                token,
                scopes: r.scopes.clone(),
                updated_at_ms: r.rotated_at_ms,
            };
            DeviceTokenCache::store_token(conn.signer.token_path(), &me, &role, entry).map_err(
                |e| CliError::new(1, format!("rotated, but storing the new token failed: {e}")),
            )?;
            true
        }
        _ => false,
    };
    let shown = RotateOutput {
        rotated: &r,
        stored_locally: stored,
    };
    output(&args, &shown, || {
        if stored {
            format!("Rotated {role} token of {device} (this machine; new token stored)")
        } else {
            format!(
                "Rotated {role} token of {device}; the old token stopped working. The device gets its new token on its next connect with the gateway token ({})",
                fix_command(&conn.target)
            )
        }
    })
}

/// The auth part of `openclaw doctor`: token sources against the running gateway, this
/// machine's device identity and token (healed when a working gateway token is at hand), and
/// pending pairing requests. Each problem carries the one command that fixes it.
pub async fn doctor_section(
    args: &ClientArgs,
    state: &StateDir,
    problems: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Value {
    let url = args
        .conn
        .url
        .clone()
        .or_else(|| {
            std::env::var("OPENCLAW_GATEWAY_URL")
                .ok()
                .filter(|u| !u.is_empty())
        })
        .or_else(|| crate::service::RuntimeInfo::read(state).map(|r| r.url));
    let Some(url) = url else {
        notes.push(
            "auth: no running gateway found for this state dir (pass --url to check a remote one)"
                .into(),
        );
        return json!({"checked": false});
    };
    let timeout = Duration::from_millis(args.timeout.max(1));

    // Token sources, each tried against the gateway.
    let config_path =
        openclaw_rs_config::config_path(state, |k| std::env::var(k).ok().filter(|v| !v.is_empty()));
    let config_token = openclaw_rs_config::load(&config_path)
        .ok()
        .and_then(|l| l.config.gateway.auth.token)
        .filter(|t| !t.is_empty());
    let file_path = state.join(openclaw_rs_gateway::launch::TOKEN_FILE);
    let file_token = std::fs::read_to_string(&file_path)
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    let sources: Vec<(&str, Option<String>, String)> = vec![
        ("--token", args.conn.token.clone(), "pass the gateway's token with --token".into()),
        (
            "OPENCLAW_GATEWAY_TOKEN",
            std::env::var("OPENCLAW_GATEWAY_TOKEN").ok().filter(|t| !t.is_empty()),
            "unset OPENCLAW_GATEWAY_TOKEN (or set it to the gateway's token)".into(),
        ),
        (
            "gateway.auth.token",
            config_token,
            format!("set gateway.auth.token in {} to the running gateway's token (it is reloaded without a restart)", config_path.display()),
        ),
        (
            "$STATE/gateway.token",
            file_token,
            format!("remove {} and restart the gateway: openclaw gateway restart", file_path.display()),
        ),
    ];
    let mut checked = Vec::new();
    let mut good: Option<String> = None;
    let mut reachable = true;
    for (source, token, fix) in sources {
        let Some(token) = token else { continue };
        let mut o = ClientOptions::new(url.clone());
        o.token = Some(token.clone());
        o.password = args.conn.password.clone();
        o.scopes = vec![scopes::READ.into()];
        o.connect_timeout = timeout;
        match Client::connect(o).await {
            Ok(c) => {
                c.close().await;
                good.get_or_insert(token);
                checked.push(json!({"source": source, "matches": true}));
            }
            Err(ClientError::Connect { .. }) => {
                reachable = false;
                break;
            }
            Err(e) => {
                problems.push(format!("token from {source} is not accepted by the gateway at {url}: {e}\n  fix: {fix}"));
                checked.push(json!({"source": source, "matches": false, "error": e.to_string()}));
            }
        }
    }
    if !reachable {
        problems.push(format!(
            "gateway not reachable at {url}\n  fix: openclaw gateway start"
        ));
        return json!({"checked": true, "url": url, "reachable": false});
    }
    if checked.is_empty() {
        notes.push("auth: no gateway token found (flag, env, config, state file)".into());
    }

    // This machine's device identity and token.
    let signer = match signer_for(state) {
        Ok(s) => s,
        Err(e) => {
            problems.push(format!("{e}"));
            return json!({"checked": true, "url": url, "tokenSources": checked});
        }
    };
    let device_id = signer.identity().device_id().to_owned();
    let target = Target {
        url: url.clone(),
        token: None,
        token_source: "none",
        password: args.conn.password.clone(),
        state_dir: state.clone(),
        config_path: config_path.clone(),
        config_error: None,
    };
    let stored = signer.stored_token(scopes::ROLE_OPERATOR);
    let had_token = stored.is_some();
    // Ask for exactly what the stored token carries, so that only a stale token fails.
    let stored_scopes: Vec<String> = stored
        .map(|t| t.scopes)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| vec![scopes::READ.to_owned()]);
    let stored_scopes: Vec<&str> = stored_scopes.iter().map(String::as_str).collect();
    let mut device = json!({"deviceId": device_id, "storedToken": had_token});
    let with = |token: Option<String>, wanted: &[&str]| {
        let mut t = target.clone();
        t.token = token;
        options(&t, args, &signer, wanted)
    };
    let mut conn: Option<Client> = None;
    if had_token {
        match Client::connect(with(None, &stored_scopes)).await {
            Ok(c) => {
                device["tokenValid"] = json!(true);
                conn = Some(c);
            }
            Err(e)
                if matches!(
                    e.detail_code(),
                    Some("AUTH_DEVICE_TOKEN_MISMATCH" | "AUTH_DEVICE_TOKEN_SCOPE_MISMATCH")
                ) =>
            {
                device["tokenValid"] = json!(false);
                if good.is_none() {
                    problems.push(format!(
                        "this machine's device token is no longer valid ({e})\n  fix: {}",
                        fix_command(&target)
                    ));
                }
            }
            Err(e) => problems.push(format!(
                "connecting with this machine's device failed: {}",
                explain(&e, &target, &signer)
            )),
        }
    }
    if conn.is_none() {
        if let Some(tok) = good.clone() {
            // Proving the gateway token pairs this machine (loopback) or heals its stale token.
            match Client::connect(with(Some(tok), &[scopes::READ])).await {
                Ok(c) => {
                    if c.hello().auth.device_token.is_some() {
                        notes.push(if had_token {
                            "fixed: this machine's stale device token was replaced by a fresh one"
                                .into()
                        } else {
                            "this machine's device is paired and its device token stored".into()
                        });
                        device["tokenValid"] = json!(true);
                    }
                    conn = Some(c);
                }
                Err(e) if e.detail_code() == Some("PAIRING_REQUIRED") => {
                    let rid = e
                        .error_shape()
                        .and_then(|s| s.pairing_request_id())
                        .unwrap_or("?")
                        .to_owned();
                    device["pairingRequest"] = json!(rid);
                    problems.push(format!(
                        "this machine's device {device_id} waits for approval\n  fix (on the gateway host): openclaw devices approve {rid}"
                    ));
                }
                Err(e) => problems.push(format!(
                    "connecting with this machine's device failed: {}",
                    explain(&e, &target, &signer)
                )),
            }
        }
    }
    device["paired"] = json!(conn.is_some());
    if let Some(c) = conn {
        c.close().await;
    }

    // Pending pairing requests (needs operator.pairing: a loopback token connection has it).
    let mut pending = Vec::new();
    if let Some(tok) = good.clone() {
        let mut o = ClientOptions::new(url.clone());
        o.token = Some(tok);
        o.scopes = vec![scopes::PAIRING.into()];
        o.connect_timeout = timeout;
        if let Ok(c) = Client::connect(o).await {
            if let Ok(v) = c.call(DevicePairListParams {}).await {
                for p in v.pending {
                    let rid = &p.request_id;
                    notes.push(format!(
                        "pairing request {rid} waits: device {} ({} {}) from {}\n  fix: openclaw devices approve {rid}   (or: openclaw devices reject {rid})",
                        p.device_id,
                        p.client_id,
                        p.platform,
                        p.remote_ip.as_deref().unwrap_or("?"),
                    ));
                    pending.push(p);
                }
            }
            c.close().await;
        }
    }
    json!({
        "checked": true,
        "url": url,
        "reachable": true,
        "tokenSources": checked,
        "device": device,
        "pendingRequests": pending,
    })
}
