//! The client IP behind trusted proxies, and the key a client is limited by.

use poem::{Request, http::HeaderName};
use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    str::FromStr,
};

/// An IP network: `10.0.0.0/8`, `2001:db8::/32`, or one address (`127.0.0.1`).
///
/// ```
/// use secure_api::ratelimit::IpNet;
/// let net: IpNet = "10.0.0.0/8".parse().unwrap();
/// assert!(net.contains("10.1.2.3".parse().unwrap()));
/// assert!(!net.contains("11.0.0.1".parse().unwrap()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Whether `ip` is in this network (an IPv4-mapped IPv6 address counts as IPv4).
    ///
    /// ```
    /// use secure_api::ratelimit::IpNet;
    /// let net: IpNet = "2001:db8::/32".parse().unwrap();
    /// assert!(net.contains("2001:db8:1::1".parse().unwrap()));
    /// ```
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                mask_v4(ip, self.prefix) == mask_v4(net, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                mask_v6(ip, self.prefix) == mask_v6(net, self.prefix)
            }
            _ => false,
        }
    }
}

impl FromStr for IpNet {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{text}` is not an IP address or a CIDR network"))?;
        let addr = canonical(addr);
        let max = match addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        let prefix = match prefix {
            None => max,
            Some(prefix) => match prefix.parse::<u8>() {
                Ok(prefix) if prefix <= max => prefix,
                _ => return Err(format!("`{text}`: the prefix length is 0 to {max}")),
            },
        };
        Ok(IpNet { addr, prefix })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Which header trusted proxies write the client's address in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For` when the request has one, else `Forwarded` (RFC 7239). Right
    /// for proxies that append to `X-Forwarded-For` (nginx, HAProxy, Envoy, cloud load
    /// balancers); a proxy that writes only `Forwarded` must then drop an incoming
    /// `X-Forwarded-For`, or choose [`ForwardedHeader::Forwarded`].
    #[default]
    XForwardedForThenForwarded,
    /// Only `X-Forwarded-For`.
    XForwardedFor,
    /// Only `Forwarded` (RFC 7239 `for=`).
    Forwarded,
}

/// The proxies whose forwarding headers are believed, and how the client IP is found
/// behind them.
///
/// The client IP is the peer address, unless the peer is a trusted proxy: then it is
/// the right-most address of the forwarding header that is not a trusted proxy (each
/// proxy appends the address it received from, so everything right of the first
/// untrusted hop was written by trusted proxies, and everything left of it may be
/// forged). A client that sends its own `X-Forwarded-For` straight to the service
/// changes nothing.
///
/// ```
/// use secure_api::ratelimit::TrustedProxies;
/// use secure_api::poem::{Request, web::RemoteAddr, Addr};
///
/// let proxies = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1").unwrap();
/// let request = Request::builder()
///     .header("x-forwarded-for", "203.0.113.9, 198.51.100.1, 10.0.0.2")
///     .finish();
/// let peer: std::net::SocketAddr = "10.0.0.1:40000".parse().unwrap();
/// // 10.0.0.2 is a proxy; 198.51.100.1 is the first hop no proxy of ours vouches for.
/// assert_eq!(proxies.client_ip_of(&request, Some(peer.ip())), Some("198.51.100.1".parse().unwrap()));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
    header: ForwardedHeader,
}

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const FORWARDED: HeaderName = HeaderName::from_static("forwarded");

impl TrustedProxies {
    /// No trusted proxy: the peer address is the client IP.
    ///
    /// ```
    /// assert!(secure_api::ratelimit::TrustedProxies::none().is_empty());
    /// ```
    pub fn none() -> Self {
        Self::default()
    }

    /// Trusts `nets`.
    ///
    /// ```
    /// use secure_api::ratelimit::TrustedProxies;
    /// let proxies = TrustedProxies::new(["10.0.0.0/8".parse().unwrap()]);
    /// ```
    pub fn new(nets: impl IntoIterator<Item = IpNet>) -> Self {
        TrustedProxies {
            nets: nets.into_iter().collect(),
            header: ForwardedHeader::default(),
        }
    }

    /// A comma-separated list of IPs and CIDR networks (`10.0.0.0/8, ::1`); empty
    /// means none.
    ///
    /// ```
    /// use secure_api::ratelimit::TrustedProxies;
    /// assert!(TrustedProxies::parse("10.0.0.0/8, ::1").is_ok());
    /// assert_eq!(
    ///     TrustedProxies::parse("10.0.0.0/33").unwrap_err(),
    ///     "`10.0.0.0/33`: the prefix length is 0 to 32"
    /// );
    /// ```
    pub fn parse(list: &str) -> Result<Self, String> {
        let nets = list
            .split(',')
            .filter(|item| !item.trim().is_empty())
            .map(str::parse)
            .collect::<Result<Vec<IpNet>, _>>()?;
        Ok(Self::new(nets))
    }

    /// Which forwarding header to read (by default `X-Forwarded-For`, else
    /// `Forwarded`).
    ///
    /// ```
    /// use secure_api::ratelimit::{ForwardedHeader, TrustedProxies};
    /// let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap().header(ForwardedHeader::Forwarded);
    /// ```
    pub fn header(mut self, header: ForwardedHeader) -> Self {
        self.header = header;
        self
    }

    /// Whether no proxy is trusted.
    ///
    /// ```
    /// assert!(!secure_api::ratelimit::TrustedProxies::parse("::1").unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// Whether `ip` is a trusted proxy.
    ///
    /// ```
    /// let proxies = secure_api::ratelimit::TrustedProxies::parse("10.0.0.0/8").unwrap();
    /// assert!(proxies.is_trusted("10.9.9.9".parse().unwrap()));
    /// ```
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|net| net.contains(ip))
    }

    /// The client IP of `request`, which came from `peer` (`None` for a peer without
    /// an IP, such as a Unix socket).
    ///
    /// ```
    /// use secure_api::ratelimit::TrustedProxies;
    /// use secure_api::poem::Request;
    ///
    /// // No trusted proxy: a forged header is ignored.
    /// let request = Request::builder().header("x-forwarded-for", "1.2.3.4").finish();
    /// let peer = "198.51.100.7".parse().unwrap();
    /// assert_eq!(TrustedProxies::none().client_ip_of(&request, Some(peer)), Some(peer));
    /// ```
    pub fn client_ip_of(&self, request: &Request, peer: Option<IpAddr>) -> Option<IpAddr> {
        let peer = canonical(peer?);
        if !self.is_trusted(peer) {
            return Some(peer);
        }
        let hops = self.hops(request);
        // Right to left: the nearest hop no trusted proxy vouches for is the client.
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop {
                Some(ip) if self.is_trusted(*ip) => client = *ip,
                Some(ip) => return Some(*ip),
                // Garbage where a trusted proxy should have written an address: the
                // last address a trusted proxy vouched for is the best known.
                None => return Some(client),
            }
        }
        Some(client)
    }

    /// The client IP of a request as poem serves it (its remote address).
    ///
    /// ```
    /// use secure_api::ratelimit::TrustedProxies;
    /// use secure_api::poem::Request;
    /// assert_eq!(TrustedProxies::none().client_ip(&Request::default()), None);
    /// ```
    pub fn client_ip(&self, request: &Request) -> Option<IpAddr> {
        let peer = request.remote_addr().as_socket_addr().map(SocketAddr::ip);
        self.client_ip_of(request, peer)
    }

    /// Every hop of the forwarding header, left to right; `None` for one that is not
    /// an address (`unknown`, an obfuscated name, garbage).
    fn hops(&self, request: &Request) -> Vec<Option<IpAddr>> {
        let has_xff = request.headers().contains_key(X_FORWARDED_FOR);
        let use_xff = match self.header {
            ForwardedHeader::XForwardedFor => true,
            ForwardedHeader::Forwarded => false,
            ForwardedHeader::XForwardedForThenForwarded => has_xff,
        };
        let name = match use_xff {
            true => X_FORWARDED_FOR,
            false => FORWARDED,
        };
        let mut hops = Vec::new();
        for value in request.headers().get_all(name) {
            let Ok(value) = value.to_str() else {
                hops.push(None);
                continue;
            };
            for element in value.split(',') {
                hops.push(match use_xff {
                    true => parse_hop(element.trim()),
                    false => forwarded_for(element),
                });
            }
        }
        hops
    }
}

/// `for=` of one RFC 7239 element (`for=192.0.2.60;proto=http`).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("for") {
            return None;
        }
        parse_hop(value.trim().trim_matches('"'))
    })
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]:4711`.
fn parse_hop(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(canonical(addr.ip()));
    }
    let bracketed = text.strip_prefix('[')?.strip_suffix(']')?;
    bracketed
        .parse::<Ipv6Addr>()
        .ok()
        .map(|ip| canonical(IpAddr::V6(ip)))
}

/// An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, as dual-stack sockets report
/// IPv4 peers) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

fn mask_v4(ip: Ipv4Addr, prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        p => u32::from(ip) & (u32::MAX << (32 - u32::from(p))),
    }
}

fn mask_v6(ip: Ipv6Addr, prefix: u8) -> u128 {
    match prefix {
        0 => 0,
        p => u128::from(ip) & (u128::MAX << (128 - u32::from(p))),
    }
}

/// The key of a client IP: `ip:` and the address itself for IPv4, its network of
/// `ipv6_prefix` bits for IPv6 (one customer usually holds a whole /64), or
/// `ip:unknown`. Built on the stack: a limited request allocates nothing for it.
#[derive(Clone, Copy)]
pub(crate) struct IpKey {
    len: u8,
    bytes: [u8; IpKey::CAPACITY],
}

impl IpKey {
    /// `ip:` + the longest IPv6 text (45, an IPv4-mapped form) + `/128`.
    const CAPACITY: usize = 3 + 45 + 4;

    pub(crate) fn new(ip: Option<IpAddr>, ipv6_prefix: u8) -> IpKey {
        let mut key = IpKey {
            len: 0,
            bytes: [0; IpKey::CAPACITY],
        };
        match ip {
            Some(IpAddr::V4(v4)) => {
                key.push(b"ip:");
                let [a, b, c, d] = v4.octets();
                key.octet(a);
                for octet in [b, c, d] {
                    key.byte(b'.');
                    key.octet(octet);
                }
            }
            Some(IpAddr::V6(v6)) => {
                let network = Ipv6Addr::from(mask_v6(v6, ipv6_prefix));
                // Never longer than the capacity, so this cannot fail.
                let _ = fmt::Write::write_fmt(&mut key, format_args!("ip:{network}/{ipv6_prefix}"));
            }
            None => key.push(b"ip:unknown"),
        }
        key
    }

    /// One byte; 15 bytes of an IPv4 key always fit.
    fn byte(&mut self, byte: u8) {
        if let Some(slot) = self.bytes.get_mut(usize::from(self.len)) {
            *slot = byte;
            self.len += 1;
        }
    }

    /// `0` to `255`, in decimal.
    fn octet(&mut self, n: u8) {
        if n >= 100 {
            self.byte(b'0' + n / 100);
        }
        if n >= 10 {
            self.byte(b'0' + n / 10 % 10);
        }
        self.byte(b'0' + n % 10);
    }

    fn push(&mut self, bytes: &[u8]) {
        let start = usize::from(self.len);
        let end = (start + bytes.len()).min(IpKey::CAPACITY);
        self.bytes[start..end].copy_from_slice(&bytes[..end - start]);
        self.len = end as u8;
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only whole ASCII pieces are ever pushed.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("ip:unknown")
    }
}

impl fmt::Write for IpKey {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        match usize::from(self.len) + text.len() <= IpKey::CAPACITY {
            true => {
                self.push(text.as_bytes());
                Ok(())
            }
            false => Err(fmt::Error),
        }
    }
}

impl fmt::Display for IpKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for IpKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn request(headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder();
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.finish()
    }

    #[test]
    fn networks_contain_what_they_should() {
        let net: IpNet = "192.168.0.0/16".parse().unwrap();
        assert!(net.contains(ip("192.168.255.1")));
        assert!(net.contains(ip("::ffff:192.168.1.1")), "IPv4-mapped");
        assert!(!net.contains(ip("192.169.0.1")));
        assert!(!net.contains(ip("::1")));
        let one: IpNet = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")));
        let v6: IpNet = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12:3456::1")) && !v6.contains(ip("fe80::1")));
        assert!("10.0.0.0/8/8".parse::<IpNet>().is_err());
        assert!("example.com".parse::<IpNet>().is_err());
        assert!("::/129".parse::<IpNet>().is_err());
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_sends() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let forged = request(&[("x-forwarded-for", "1.1.1.1"), ("forwarded", "for=2.2.2.2")]);
        assert_eq!(
            proxies.client_ip_of(&forged, Some(ip("203.0.113.9"))),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            TrustedProxies::none().client_ip_of(&forged, Some(ip("10.0.0.1"))),
            Some(ip("10.0.0.1"))
        );
    }

    #[test]
    fn behind_proxies_the_right_most_untrusted_hop_is_the_client() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 2001:db8:ffff::/48").unwrap();
        let peer = Some(ip("10.0.0.1"));
        let cases = [
            ("203.0.113.9", "203.0.113.9"),
            // The client forged a left part: ignored.
            ("6.6.6.6, 203.0.113.9", "203.0.113.9"),
            ("6.6.6.6, 203.0.113.9, 10.0.0.7", "203.0.113.9"),
            ("203.0.113.9:51234, 10.0.0.7", "203.0.113.9"),
            ("[2001:db8::1]:443, 2001:db8:ffff::2", "2001:db8::1"),
            // Only proxies: the farthest one.
            ("10.0.0.9, 10.0.0.8", "10.0.0.9"),
            // Garbage written where a proxy should have put an address.
            ("6.6.6.6, garbage, 10.0.0.8", "10.0.0.8"),
        ];
        for (xff, client) in cases {
            let request = request(&[("x-forwarded-for", xff)]);
            assert_eq!(
                proxies.client_ip_of(&request, peer),
                Some(ip(client)),
                "{xff}"
            );
        }
        // Several header lines are one list, in order.
        let mut builder = Request::builder();
        builder = builder.header("x-forwarded-for", "6.6.6.6");
        builder = builder.header("x-forwarded-for", "203.0.113.9");
        assert_eq!(
            proxies.client_ip_of(&builder.finish(), peer),
            Some(ip("203.0.113.9"))
        );
        // No header: the proxy itself (a health check).
        assert_eq!(proxies.client_ip_of(&request(&[]), peer), peer);
    }

    #[test]
    fn forwarded_is_read_when_there_is_no_x_forwarded_for() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let peer = Some(ip("10.0.0.1"));
        let forwarded = request(&[(
            "forwarded",
            r#"for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https, For=10.0.0.3;by=10.0.0.1"#,
        )]);
        assert_eq!(
            proxies.client_ip_of(&forwarded, peer),
            Some(ip("2001:db8:cafe::17"))
        );
        let unknown = request(&[("forwarded", "for=unknown, for=10.0.0.3")]);
        assert_eq!(proxies.client_ip_of(&unknown, peer), Some(ip("10.0.0.3")));
        // With both, X-Forwarded-For wins by default, and each can be chosen alone.
        let both = request(&[
            ("x-forwarded-for", "198.51.100.1"),
            ("forwarded", "for=203.0.113.9"),
        ]);
        assert_eq!(proxies.client_ip_of(&both, peer), Some(ip("198.51.100.1")));
        let only_forwarded = proxies.clone().header(ForwardedHeader::Forwarded);
        assert_eq!(
            only_forwarded.client_ip_of(&both, peer),
            Some(ip("203.0.113.9"))
        );
        let only_xff = proxies.header(ForwardedHeader::XForwardedFor);
        assert_eq!(only_xff.client_ip_of(&forwarded, peer), peer);
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_network() {
        let a = ip("2001:db8:1:2:aaaa::1");
        let b = ip("2001:db8:1:2:bbbb::2");
        let c = ip("2001:db8:1:3::1");
        let key = |ip: Option<IpAddr>, prefix: u8| IpKey::new(ip, prefix).as_str().to_owned();
        assert_eq!(key(Some(a), 64), "ip:2001:db8:1:2::/64");
        assert_eq!(key(Some(a), 64), key(Some(b), 64));
        assert_ne!(key(Some(a), 64), key(Some(c), 64));
        assert_eq!(key(Some(a), 128), "ip:2001:db8:1:2:aaaa::1/128");
        assert_eq!(key(None, 64), "ip:unknown");
    }

    #[test]
    fn ipv4_keys_are_the_dotted_address() {
        for text in [
            "192.0.2.1",
            "0.0.0.0",
            "255.255.255.255",
            "10.0.100.9",
            "127.0.0.1",
        ] {
            assert_eq!(
                IpKey::new(Some(ip(text)), 64).as_str(),
                format!("ip:{text}")
            );
        }
        // The longest IPv6 text fits whole.
        let longest = ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
        assert_eq!(
            IpKey::new(Some(longest), 128).as_str(),
            "ip:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"
        );
    }
}
