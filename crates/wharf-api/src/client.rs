//! Who the client is when Wharf sits behind proxies: the connection's peer, unless that peer is a
//! trusted proxy (`trusted_proxies`), in which case `X-Forwarded-For` names the client and
//! `X-Forwarded-Proto` whether it came over TLS. What policies see as `aws:SourceIp` and
//! `aws:SecureTransport`. Headers from peers that are not trusted are ignored, so a client cannot
//! claim another address. A request on a connection Wharf itself terminated TLS for carries
//! `TlsConnection`, and is secure transport whatever the headers say, unless a trusted proxy
//! reports with `X-Forwarded-Proto` that its own client came over plain HTTP.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use wharf_core::Client;

/// Marks a request that arrived on a TLS connection to Wharf's own listener (a request extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsConnection;

/// The networks whose connections may speak for a client. Empty: every peer is the client.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Arc<[IpNet]>);

impl TrustedProxies {
    pub fn new(nets: Vec<IpNet>) -> TrustedProxies {
        TrustedProxies(nets.into())
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client of a request that arrived from `peer` over a connection that is TLS (`tls`) or
    /// not, with `headers`.
    pub fn resolve_connection(
        &self,
        peer: Option<IpAddr>,
        tls: bool,
        headers: &HeaderMap,
    ) -> Client {
        let mut client = self.resolve(peer, headers);
        let proxy_says =
            peer.is_some_and(|p| self.trusts(p)) && headers.contains_key("x-forwarded-proto");
        if tls && !proxy_says {
            client.secure_transport = true;
        }
        client
    }

    /// The client of a request that arrived from `peer` with `headers` on a plain connection.
    pub fn resolve(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Client {
        let Some(peer) = peer.map(canonical) else {
            return Client::default();
        };
        if !self.trusts(peer) {
            return Client {
                ip: Some(peer),
                secure_transport: false,
            };
        }
        // Walk the hops from the nearest back: the first address not a trusted proxy is the
        // client. An entry that does not parse ends the walk at the last trusted hop.
        let mut client = peer;
        // Raw bytes: a client's non-ASCII claim must not hide the address the proxy appended
        // after it on the same line.
        let hops: Vec<&[u8]> = headers
            .get_all("x-forwarded-for")
            .iter()
            .flat_map(|v| v.as_bytes().split(|b| *b == b','))
            .collect();
        for hop in hops.iter().rev() {
            match std::str::from_utf8(hop)
                .ok()
                .and_then(|h| parse_hop(h.trim()))
            {
                Some(ip) => {
                    client = ip;
                    if !self.trusts(ip) {
                        break;
                    }
                }
                None => break,
            }
        }
        // The proxy next to Wharf sets the scheme it was reached with; its value comes last.
        let secure_transport = headers
            .get_all("x-forwarded-proto")
            .iter()
            .flat_map(|v| v.as_bytes().split(|b| *b == b','))
            .next_back()
            .is_some_and(|p| p.trim_ascii().eq_ignore_ascii_case(b"https"));
        Client {
            ip: Some(client),
            secure_transport,
        }
    }
}

/// An address in `X-Forwarded-For`: a bare IP, or one with a port (`1.2.3.4:80`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(canonical)
}

/// IPv4-mapped IPv6 addresses (a dual-stack listener's view of IPv4 peers) as plain IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(nets: &[&str]) -> TrustedProxies {
        TrustedProxies::new(nets.iter().map(|n| n.parse().unwrap()).collect())
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn untrusted_peers_are_the_client_whatever_they_claim() {
        let p = proxies(&["10.0.0.0/8"]);
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-proto", "https"),
        ]);
        let c = p.resolve(ip("198.51.100.4"), &h);
        assert_eq!(c.ip, ip("198.51.100.4"));
        assert!(!c.secure_transport);
        // No proxies configured: the same.
        let c = TrustedProxies::default().resolve(ip("10.0.0.1"), &h);
        assert_eq!(c.ip, ip("10.0.0.1"));
        assert!(!c.secure_transport);
        assert_eq!(p.resolve(None, &h), Client::default());
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let p = proxies(&["10.0.0.0/8", "127.0.0.1/32"]);
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-proto", "https"),
        ]);
        let c = p.resolve(ip("10.1.2.3"), &h);
        assert_eq!(c.ip, ip("203.0.113.9"));
        assert!(c.secure_transport);
        // Without the headers the proxy itself is all there is.
        let c = p.resolve(ip("127.0.0.1"), &HeaderMap::new());
        assert_eq!(c.ip, ip("127.0.0.1"));
        assert!(!c.secure_transport);
    }

    #[test]
    fn chains_stop_at_the_first_untrusted_hop_from_the_right() {
        let p = proxies(&["10.0.0.0/8"]);
        // The client forged a first entry; the edge proxy appended the real address.
        let h = headers(&[
            ("x-forwarded-for", "192.0.2.66, 203.0.113.9"),
            ("x-forwarded-for", "10.0.0.5"),
        ]);
        assert_eq!(p.resolve(ip("10.0.0.7"), &h).ip, ip("203.0.113.9"));
        // Every hop trusted: the farthest one.
        let h = headers(&[("x-forwarded-for", "10.9.9.9, 10.0.0.5")]);
        assert_eq!(p.resolve(ip("10.0.0.7"), &h).ip, ip("10.9.9.9"));
        // Garbage ends the walk at the last trusted hop.
        let h = headers(&[("x-forwarded-for", "203.0.113.9, not-an-ip, 10.0.0.5")]);
        assert_eq!(p.resolve(ip("10.0.0.7"), &h).ip, ip("10.0.0.5"));
    }

    #[test]
    fn non_ascii_claims_do_not_hide_the_appended_address() {
        let p = proxies(&["10.0.0.0/8"]);
        // What nginx forwards when the client sent `X-Forwarded-For: \xff`.
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            axum::http::HeaderValue::from_bytes(b"\xff, 203.0.113.9").unwrap(),
        );
        h.append(
            "x-forwarded-proto",
            axum::http::HeaderValue::from_bytes(b"\xff, https").unwrap(),
        );
        let c = p.resolve(ip("10.0.0.7"), &h);
        assert_eq!(c.ip, ip("203.0.113.9"));
        assert!(c.secure_transport);
    }

    #[test]
    fn a_tls_connection_is_secure_transport_unless_a_trusted_proxy_says_otherwise() {
        let p = proxies(&["10.0.0.0/8"]);
        let none = HeaderMap::new();
        let http = headers(&[("x-forwarded-proto", "http")]);
        let https = headers(&[("x-forwarded-proto", "https")]);
        let check = |peer: &str, tls: bool, h: &HeaderMap, secure: bool| {
            let c = p.resolve_connection(ip(peer), tls, h);
            assert_eq!(c.secure_transport, secure, "{peer} tls={tls} {h:?}");
            assert_eq!(c.ip, ip(peer));
        };
        // A direct client: only the connection counts; its own header claims are ignored.
        check("198.51.100.4", true, &none, true);
        check("198.51.100.4", true, &http, true);
        check("198.51.100.4", false, &https, false);
        check("198.51.100.4", false, &none, false);
        // A trusted proxy speaks for its client's hop when it says; otherwise the connection.
        check("10.0.0.7", true, &none, true);
        check("10.0.0.7", true, &http, false);
        check("10.0.0.7", false, &https, true);
        check("10.0.0.7", false, &none, false);
    }

    #[test]
    fn ports_ipv6_and_mapped_addresses() {
        let p = proxies(&["127.0.0.1/32", "fd00::/8"]);
        let h = headers(&[("x-forwarded-for", "[2001:db8::1]:4431")]);
        assert_eq!(p.resolve(ip("::ffff:127.0.0.1"), &h).ip, ip("2001:db8::1"));
        let h = headers(&[("x-forwarded-for", "198.51.100.7:5000")]);
        assert_eq!(p.resolve(ip("fd00::2"), &h).ip, ip("198.51.100.7"));
        let h = headers(&[("x-forwarded-proto", "https, http")]);
        assert!(!p.resolve(ip("127.0.0.1"), &h).secure_transport);
    }
}
