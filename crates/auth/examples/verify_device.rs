//! Verify a device signature: a device signs the `connect` payload for the server's challenge
//! nonce, the server verifies it; a changed field, another nonce or a stale clock fail with the
//! wire error OpenClaw clients expect.
//!
//! ```text
//! cargo run -p openclaw-rs-auth --example verify_device
//! ```

use std::process::ExitCode;

use openclaw_rs_auth::{verify_device_proof, DeviceAuthError, DeviceIdentity, SignedFields};

fn main() -> ExitCode {
    let now_ms = 1_750_000_000_000;
    let device = match DeviceIdentity::generate(now_ms) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot generate a device key: {e}");
            return ExitCode::FAILURE;
        }
    };
    let scopes = vec!["operator.read".to_string(), "operator.write".to_string()];
    let fields = SignedFields {
        client_id: "cli",
        client_mode: "cli",
        role: "operator",
        scopes: &scopes,
        signed_at_ms: now_ms,
        token: "",
        nonce: "nonce-from-connect.challenge",
        platform: "linux",
        device_family: "",
    };
    // Client side: the `device` block of the connect request.
    let proof = device.prove(&fields);
    // Server side: the same fields rebuilt from the request, this connection's nonce, its clock.
    let nonce = "nonce-from-connect.challenge";
    let verified = match verify_device_proof(&proof, &fields, nonce, now_ms + 2_000) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: a valid proof was refused: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "verified device {} ({:?} payload)",
        verified.device_id, verified.version
    );

    let wider = vec!["operator.admin".to_string()];
    let tampered = SignedFields {
        scopes: &wider,
        ..fields
    };
    let checks: [(&str, Result<_, DeviceAuthError>); 3] = [
        (
            "scopes changed after signing",
            verify_device_proof(&proof, &tampered, nonce, now_ms),
        ),
        (
            "another connection's nonce",
            verify_device_proof(&proof, &fields, "other-nonce", now_ms),
        ),
        (
            "signed 10 minutes ago",
            verify_device_proof(&proof, &fields, nonce, now_ms + 600_000),
        ),
    ];
    let mut ok = verified.device_id == device.device_id();
    for (what, result) in checks {
        match result {
            Err(e) => println!("refused ({what}): {e}"),
            Ok(_) => {
                eprintln!("error: accepted a bad proof ({what})");
                ok = false;
            }
        }
    }
    if ok {
        println!("ok");
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
