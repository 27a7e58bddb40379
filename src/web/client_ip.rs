//! Who the client is, for the throttle: the TCP peer, or, only when the peer is one of the
//! operator's trusted proxies (`APP_TRUSTED_PROXIES`), the address that proxy names in the one
//! header it sets (`APP_TRUSTED_PROXY_HEADER`: `X-Forwarded-For` or `Forwarded`). Anyone
//! else's headers are ignored, and so is the other header: a proxy passes on what the client
//! wrote there, and a client could write any address and get a fresh budget per request.

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

/// The header in which the trusted proxies name the client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ForwardingHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2`, as most proxies append it.
    #[default]
    XForwardedFor,
    /// RFC 7239's `Forwarded: for=client, for=proxy1`.
    Forwarded,
}

impl ForwardingHeader {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Some(Self::XForwardedFor),
            "forwarded" => Some(Self::Forwarded),
            _ => None,
        }
    }
}

/// The proxies whose forwarding header is believed; none by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    ranges: Vec<Range>,
    header: ForwardingHeader,
}

impl TrustedProxies {
    /// A comma-separated list of addresses and CIDR ranges, naming clients in `header`; an error
    /// names the first bad entry.
    pub fn parse(list: &str, header: ForwardingHeader) -> Result<Self, String> {
        let entries = list.split(',').map(str::trim).filter(|e| !e.is_empty());
        let ranges =
            entries.map(|entry| Range::parse(entry).ok_or_else(|| entry.to_owned())).collect::<Result<_, _>>()?;
        Ok(Self { ranges, header })
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.ranges.iter().any(|range| range.contains(ip))
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
        for hop in forwarded_hops(headers, self.header).into_iter().rev() {
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

/// The addresses the proxy chain recorded in `header`, farthest first. `None` for a hop that is
/// no address (`unknown`, `_hidden`).
fn forwarded_hops(headers: &HeaderMap, header: ForwardingHeader) -> Vec<Option<IpAddr>> {
    let name = match header {
        ForwardingHeader::XForwardedFor => "x-forwarded-for",
        ForwardingHeader::Forwarded => "forwarded",
    };
    let hops = headers.get_all(name).filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(','));
    match header {
        ForwardingHeader::XForwardedFor => hops.map(|hop| node_address(hop.trim())).collect(),
        ForwardingHeader::Forwarded => hops
            .map(|element| {
                let node = element.split(';').find_map(|pair| {
                    let (key, value) = pair.split_once('=')?;
                    key.trim().eq_ignore_ascii_case("for").then(|| value.trim().trim_matches('"'))
                });
                node.and_then(node_address)
            })
            .collect(),
    }
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

    fn proxies(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list, ForwardingHeader::XForwardedFor).unwrap()
    }

    #[test]
    fn ranges_parse_and_match() {
        let proxies = proxies("10.0.0.0/8, 192.0.2.1 ,2001:db8::/32");
        assert!(proxies.trusts("10.200.3.4".parse().unwrap()));
        assert!(proxies.trusts("192.0.2.1".parse().unwrap()));
        assert!(!proxies.trusts("192.0.2.2".parse().unwrap()));
        assert!(proxies.trusts("2001:db8:1::5".parse().unwrap()));
        assert!(proxies.trusts("::ffff:10.0.0.1".parse().unwrap()), "v4-mapped is the v4 address");
        assert!(self::proxies("0.0.0.0/0").trusts("8.8.8.8".parse().unwrap()));
        let header = ForwardingHeader::XForwardedFor;
        assert_eq!(TrustedProxies::parse("10.0.0.0/33", header), Err("10.0.0.0/33".to_owned()));
        assert_eq!(TrustedProxies::parse("proxy.internal", header), Err("proxy.internal".to_owned()));
        assert_eq!(TrustedProxies::parse("", header), Ok(TrustedProxies::default()));
    }

    #[test]
    fn the_rightmost_untrusted_hop_of_the_proxys_header_is_the_client() {
        let xff = proxies("10.0.0.0/8");
        let via = |pairs: &[(&str, &str)]| xff.client(peer("10.0.0.1"), &headers(pairs)).to_string();
        assert_eq!(via(&[("x-forwarded-for", "198.51.100.1, 203.0.113.7, 10.0.0.2")]), "203.0.113.7");
        assert_eq!(via(&[("forwarded", "for=198.51.100.9"), ("x-forwarded-for", "203.0.113.7")]), "203.0.113.7");
        assert_eq!(via(&[("forwarded", "for=198.51.100.9")]), "10.0.0.1", "the other header is the client's");
        assert_eq!(via(&[]), "10.0.0.1", "no header: the proxy itself");
        assert_eq!(via(&[("x-forwarded-for", "198.51.100.1, unknown")]), "10.0.0.1", "an unreadable hop");

        let forwarded = TrustedProxies::parse("10.0.0.0/8", ForwardingHeader::Forwarded).unwrap();
        let via = |pairs: &[(&str, &str)]| forwarded.client(peer("10.0.0.1"), &headers(pairs)).to_string();
        assert_eq!(via(&[("forwarded", "for=198.51.100.1, for=\"[2001:db8::9]:4711\";proto=https")]), "2001:db8::9");
        assert_eq!(via(&[("x-forwarded-for", "198.51.100.1")]), "10.0.0.1", "the other header is the client's");
    }

    #[test]
    fn headers_of_an_untrusted_peer_are_ignored() {
        let proxies = proxies("10.0.0.0/8");
        let client = proxies.client(peer("203.0.113.7"), &headers(&[("x-forwarded-for", "198.51.100.1")]));
        assert_eq!(client.to_string(), "203.0.113.7");
        assert_eq!(TrustedProxies::default().client(None, &HeaderMap::new()).to_string(), "0.0.0.0");
    }
}
