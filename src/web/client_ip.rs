//! Who the client is, for the throttle: the TCP peer, or, only when the peer is one of the
//! operator's trusted proxies (`APP_TRUSTED_PROXIES`), the address that proxy names in
//! `Forwarded` or `X-Forwarded-For`. Anyone else's headers are ignored: a client could write
//! any address there and get a fresh budget per request.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use actix_web::http::header::HeaderMap;

/// An address range such as `10.0.0.0/8` or `2001:db8::/32`; one address is a full-length range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    base: IpAddr,
    prefix: u8,
}

impl Range {
    fn parse(raw: &str) -> Option<Self> {
        let (address, prefix) = match raw.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (raw, None),
        };
        let base: IpAddr = address.trim().parse().ok()?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse().ok().filter(|&p| p <= max)?,
            None => max,
        };
        Some(Self { base: base.to_canonical(), prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| match ip {
            IpAddr::V4(v4) => (u128::from(v4.to_bits()), 32),
            IpAddr::V6(v6) => (v6.to_bits(), 128),
        };
        let ((base, width), (ip, ip_width)) = (bits(self.base), bits(ip.to_canonical()));
        let shift = width - u32::from(self.prefix);
        width == ip_width && (shift == width || base >> shift == ip >> shift)
    }
}

/// The proxies whose forwarding headers are believed; none by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Range>);

impl TrustedProxies {
    /// A comma-separated list of addresses and CIDR ranges; an error names the first bad entry.
    pub fn parse(list: &str) -> Result<Self, String> {
        let entries = list.split(',').map(str::trim).filter(|e| !e.is_empty());
        entries.map(|entry| Range::parse(entry).ok_or_else(|| entry.to_owned())).collect::<Result<_, _>>().map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|range| range.contains(ip))
    }

    /// The client of a request from `peer` with these `headers`: walking the hops from the
    /// nearest, the first that is not a trusted proxy. Without a peer (a Unix socket), every
    /// such request shares one address, so it is still limited.
    pub fn client(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> IpAddr {
        let Some(peer) = peer.map(|p| p.ip().to_canonical()) else {
            return IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        };
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        for hop in forwarded_hops(headers).into_iter().rev() {
            // A hop we cannot read ends the walk: past it, nothing was vouched for.
            let Some(hop) = hop else { break };
            client = hop;
            if !self.trusts(hop) {
                break;
            }
        }
        client
    }
}

/// The addresses a proxy chain recorded, farthest first: `Forwarded`'s `for=` (RFC 7239) if
/// present, else `X-Forwarded-For`. `None` for a hop that is no address (`unknown`, `_hidden`).
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers.get_all(name).filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).map(str::to_owned).collect()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .map(|element| {
                let node = element.split(';').find_map(|pair| {
                    let (key, value) = pair.split_once('=')?;
                    key.trim().eq_ignore_ascii_case("for").then(|| value.trim().trim_matches('"'))
                });
                node.and_then(node_address)
            })
            .collect();
    }
    values("x-forwarded-for").iter().map(|hop| node_address(hop.trim())).collect()
}

/// `203.0.113.7`, `203.0.113.7:4711`, `[2001:db8::9]:4711` or `2001:db8::9`.
fn node_address(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split(']').next()?.parse::<IpAddr>().ok().map(|ip| ip.to_canonical());
    }
    node.parse::<SocketAddr>().ok().map(|addr| addr.ip().to_canonical())
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn peer(ip: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip.parse().unwrap(), 443))
    }

    #[test]
    fn ranges_parse_and_match() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 192.0.2.1 ,2001:db8::/32").unwrap();
        assert!(proxies.trusts("10.200.3.4".parse().unwrap()));
        assert!(proxies.trusts("192.0.2.1".parse().unwrap()));
        assert!(!proxies.trusts("192.0.2.2".parse().unwrap()));
        assert!(proxies.trusts("2001:db8:1::5".parse().unwrap()));
        assert!(proxies.trusts("::ffff:10.0.0.1".parse().unwrap()), "v4-mapped is the v4 address");
        assert!(TrustedProxies::parse("0.0.0.0/0").unwrap().trusts("8.8.8.8".parse().unwrap()));
        assert_eq!(TrustedProxies::parse("10.0.0.0/33"), Err("10.0.0.0/33".to_owned()));
        assert_eq!(TrustedProxies::parse("proxy.internal"), Err("proxy.internal".to_owned()));
        assert_eq!(TrustedProxies::parse(""), Ok(TrustedProxies::default()));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let via = |pairs: &[(&str, &str)]| proxies.client(peer("10.0.0.1"), &headers(pairs)).to_string();
        assert_eq!(via(&[("x-forwarded-for", "198.51.100.1, 203.0.113.7, 10.0.0.2")]), "203.0.113.7");
        assert_eq!(via(&[("forwarded", "for=198.51.100.1, for=\"[2001:db8::9]:4711\";proto=https")]), "2001:db8::9");
        assert_eq!(via(&[("forwarded", "for=203.0.113.7:80"), ("x-forwarded-for", "198.51.100.1")]), "203.0.113.7");
        assert_eq!(via(&[]), "10.0.0.1", "no header: the proxy itself");
        assert_eq!(via(&[("x-forwarded-for", "198.51.100.1, unknown")]), "10.0.0.1", "an unreadable hop");
    }

    #[test]
    fn headers_of_an_untrusted_peer_are_ignored() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let client = proxies.client(peer("203.0.113.7"), &headers(&[("x-forwarded-for", "198.51.100.1")]));
        assert_eq!(client.to_string(), "203.0.113.7");
        assert_eq!(TrustedProxies::default().client(None, &HeaderMap::new()).to_string(), "0.0.0.0");
    }
}
