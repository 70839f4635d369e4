//! Where a connection comes from, decided from the socket and trusted-proxy config only.
//!
//! A connection is local when its peer is a loopback address and it carries no forwarding
//! headers. Forwarding headers are believed only when the peer is a configured trusted proxy; then
//! the client address is the right-most forwarded address that is not itself a trusted proxy.
//! (Believing a loopback *claimed* address from an untrusted hop reintroduces OpenClaw #35775.)

use std::net::IpAddr;

/// The forwarding headers of the upgrade request, as received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForwardHeaders {
    /// `X-Forwarded-For`, all values joined with `,`.
    pub x_forwarded_for: Option<String>,
    /// `X-Real-IP`.
    pub x_real_ip: Option<String>,
    /// `Forwarded` (RFC 7239).
    pub forwarded: Option<String>,
    /// Any other `X-Forwarded-*` header was present (host, proto, …).
    pub other_forwarding: bool,
}

impl ForwardHeaders {
    /// Build from header (name, value) pairs; names are matched case-insensitively.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut h = ForwardHeaders::default();
        for (name, value) in pairs {
            let n = name.to_ascii_lowercase();
            let append = |slot: &mut Option<String>| match slot {
                Some(s) => {
                    s.push(',');
                    s.push_str(value);
                }
                None => *slot = Some(value.to_string()),
            };
            match n.as_str() {
                "x-forwarded-for" => append(&mut h.x_forwarded_for),
                "x-real-ip" => append(&mut h.x_real_ip),
                "forwarded" => append(&mut h.forwarded),
                _ if n.starts_with("x-forwarded-") => h.other_forwarding = true,
                _ => {}
            }
        }
        h
    }

    /// Whether any forwarding header is present.
    pub fn any(&self) -> bool {
        self.x_forwarded_for.is_some()
            || self.x_real_ip.is_some()
            || self.forwarded.is_some()
            || self.other_forwarding
    }

    /// Forwarded client addresses, nearest hop last.
    fn chain(&self) -> Vec<IpAddr> {
        if let Some(xff) = &self.x_forwarded_for {
            return xff.split(',').filter_map(parse_addr).collect();
        }
        if let Some(fwd) = &self.forwarded {
            return fwd
                .split([',', ';'])
                .filter_map(|part| {
                    let (k, v) = part.trim().split_once('=')?;
                    k.trim()
                        .eq_ignore_ascii_case("for")
                        .then(|| parse_addr(v))?
                })
                .collect();
        }
        self.x_real_ip
            .as_deref()
            .and_then(parse_addr)
            .into_iter()
            .collect()
    }
}

/// Parse `1.2.3.4`, `1.2.3.4:56`, `[::1]:5`, `"[::1]"`, `::1`.
fn parse_addr(text: &str) -> Option<IpAddr> {
    let t = text.trim().trim_matches('"');
    if let Ok(ip) = t.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = t.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    if let Ok(sa) = t.parse::<std::net::SocketAddr>() {
        return Some(sa.ip());
    }
    None
}

/// The configured trusted proxies (`gateway.trustedProxies`): addresses or CIDR ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    nets: Vec<(IpAddr, u8)>,
}

impl TrustedProxies {
    /// Parse entries like `127.0.0.1`, `10.0.0.0/8`, `::1`. Returns the bad entries as errors.
    pub fn parse(entries: &[String]) -> (Self, Vec<String>) {
        let mut nets = Vec::new();
        let mut errors = Vec::new();
        for e in entries {
            let (addr, bits) = match e.split_once('/') {
                Some((a, b)) => (a.trim(), Some(b.trim().parse::<u8>().ok())),
                None => (e.trim(), None),
            };
            match addr.parse::<IpAddr>() {
                Ok(ip) => {
                    let max = if ip.is_ipv4() { 32 } else { 128 };
                    match bits {
                        None => nets.push((ip, max)),
                        Some(Some(b)) if b <= max => nets.push((ip, b)),
                        Some(_) => errors.push(format!(
                            "gateway.trustedProxies: `{e}` has an invalid prefix length (0..={max})"
                        )),
                    }
                }
                Err(_) => errors.push(format!(
                    "gateway.trustedProxies: `{e}` is not an IP address or CIDR range (e.g. 127.0.0.1 or 10.0.0.0/8)"
                )),
            }
        }
        (TrustedProxies { nets }, errors)
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets
            .iter()
            .any(|&(net, bits)| in_net(ip, canonical(net), bits))
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits))
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits))
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// The locality of a connection and the client address used for pairing records and rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locality {
    /// Loopback peer with no (untrusted) forwarding, or a trusted proxy forwarding a loopback client.
    pub local: bool,
    /// The client's address: the peer, or the forwarded address when the peer is a trusted proxy.
    pub client_ip: IpAddr,
    /// A trusted proxy forwarded this connection.
    pub via_trusted_proxy: bool,
}

/// Decide locality from the socket peer, the forwarding headers and the trusted proxies.
pub fn resolve_locality(
    peer: IpAddr,
    headers: &ForwardHeaders,
    trusted: &TrustedProxies,
) -> Locality {
    let peer = canonical(peer);
    if trusted.contains(peer) && headers.any() {
        // Walk from the nearest hop outwards, skipping other trusted proxies.
        let chain = headers.chain();
        let client = chain
            .iter()
            .rev()
            .map(|&ip| canonical(ip))
            .find(|&ip| !trusted.contains(ip))
            .or_else(|| chain.first().map(|&ip| canonical(ip)));
        return match client {
            Some(ip) => Locality {
                local: ip.is_loopback(),
                client_ip: ip,
                via_trusted_proxy: true,
            },
            // Headers present but no parsable address: treat as remote.
            None => Locality {
                local: false,
                client_ip: peer,
                via_trusted_proxy: true,
            },
        };
    }
    Locality {
        local: peer.is_loopback() && !headers.any(),
        client_ip: peer,
        via_trusted_proxy: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn trusted(list: &[&str]) -> TrustedProxies {
        let (t, errs) =
            TrustedProxies::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert!(errs.is_empty(), "{errs:?}");
        t
    }

    #[test]
    fn table() {
        let none = ForwardHeaders::default();
        let xff = |v: &str| ForwardHeaders::from_pairs([("X-Forwarded-For", v)]);
        let cases: Vec<(&str, IpAddr, ForwardHeaders, TrustedProxies, bool, &str)> = vec![
            (
                "loopback, no headers",
                ip("127.0.0.1"),
                none.clone(),
                trusted(&[]),
                true,
                "127.0.0.1",
            ),
            (
                "ipv6 loopback",
                ip("::1"),
                none.clone(),
                trusted(&[]),
                true,
                "::1",
            ),
            (
                "v4-mapped loopback",
                ip("::ffff:127.0.0.1"),
                none.clone(),
                trusted(&[]),
                true,
                "127.0.0.1",
            ),
            (
                "loopback with untrusted XFF claiming loopback",
                ip("127.0.0.1"),
                xff("127.0.0.1"),
                trusted(&[]),
                false,
                "127.0.0.1",
            ),
            (
                "loopback with X-Forwarded-Host only",
                ip("127.0.0.1"),
                ForwardHeaders::from_pairs([("x-forwarded-host", "a")]),
                trusted(&[]),
                false,
                "127.0.0.1",
            ),
            (
                "LAN peer",
                ip("192.0.2.2"),
                none.clone(),
                trusted(&[]),
                false,
                "192.0.2.2",
            ),
            (
                "trusted proxy forwarding a remote client",
                ip("127.0.0.1"),
                xff("192.0.2.9"),
                trusted(&["127.0.0.1"]),
                false,
                "192.0.2.9",
            ),
            (
                "trusted proxy forwarding loopback",
                ip("127.0.0.1"),
                xff("127.0.0.1"),
                trusted(&["127.0.0.0/8"]),
                true,
                "127.0.0.1",
            ),
            (
                "chain: spoofed left entry ignored",
                ip("10.0.0.5"),
                xff("127.0.0.1, 192.0.2.9, 10.0.0.7"),
                trusted(&["10.0.0.0/8"]),
                false,
                "192.0.2.9",
            ),
            (
                "trusted proxy without headers is its own client",
                ip("127.0.0.1"),
                none.clone(),
                trusted(&["127.0.0.1"]),
                true,
                "127.0.0.1",
            ),
            (
                "X-Real-IP via trusted proxy",
                ip("127.0.0.1"),
                ForwardHeaders::from_pairs([("X-Real-IP", "192.0.2.3")]),
                trusted(&["127.0.0.1"]),
                false,
                "192.0.2.3",
            ),
            (
                "Forwarded: for= via trusted proxy",
                ip("127.0.0.1"),
                ForwardHeaders::from_pairs([(
                    "Forwarded",
                    "for=\"[2001:db8::1]:4711\";proto=https",
                )]),
                trusted(&["127.0.0.1"]),
                false,
                "2001:db8::1",
            ),
        ];
        for (name, peer, h, t, local, client) in cases {
            let l = resolve_locality(peer, &h, &t);
            assert_eq!(l.local, local, "{name}");
            assert_eq!(l.client_ip, ip(client), "{name}");
        }
    }

    #[test]
    fn bad_proxy_entries_are_reported() {
        let (t, errs) = TrustedProxies::parse(&["nope".into(), "10.0.0.0/99".into(), "::1".into()]);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(t.contains(ip("::1")));
    }
}
