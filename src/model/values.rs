//! Typed values of the language: quantities, durations, IP ranges, registry
//! addresses, and the closed word sets (enums) the schema allows.
//!
//! Parsing from text lives here too, as plain functions returning a reason on
//! failure, so that the lowering phase can attach the span.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

/// A closed set of words, e.g. `server | agent`.
pub trait Word: Sized + Copy + 'static {
    /// What the word names, for messages (`node role`).
    const WHAT: &'static str;
    /// Every variant.
    fn all() -> &'static [Self];
    /// The word as written.
    fn as_str(self) -> &'static str;
    /// The variant written as `s`, in any case: `protocol="udp"` is `UDP`,
    /// as Kubernetes' own spellings (`ClusterIP`, `NoSchedule`,
    /// `ReadWriteMany`) are easy to write in another case. The model keeps
    /// the canonical spelling, which is what the output writes.
    fn parse(s: &str) -> Option<Self> {
        let all = Self::all().iter().copied();
        all.clone().find(|w| w.as_str() == s).or_else(|| all.into_iter().find(|w| w.as_str().eq_ignore_ascii_case(s)))
    }
    /// Every word, as written.
    fn words() -> Vec<&'static str> {
        Self::all().iter().map(|w| w.as_str()).collect()
    }
}

macro_rules! words {
    ($(#[$doc:meta])* $name:ident $what:literal { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl Word for $name {
            const WHAT: &'static str = $what;
            fn all() -> &'static [Self] { &[$($name::$variant),+] }
            fn as_str(self) -> &'static str { match self { $($name::$variant => $text),+ } }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

words! {
    /// The Kubernetes distribution of a cluster.
    Distribution "distribution" { K3s = "k3s", Kind = "kind", Talos = "talos" }
}

impl Distribution {
    /// The distribution's name in prose: `k3s`, `kind`, `Talos`.
    pub fn title(self) -> &'static str {
        match self {
            Distribution::K3s => "k3s",
            Distribution::Kind => "kind",
            Distribution::Talos => "Talos",
        }
    }

    /// The node roles the distribution names (k3s and kind: `server` and
    /// `agent`; Talos: `controlplane` and `worker`).
    pub fn roles(self) -> [NodeRole; 2] {
        match self {
            Distribution::K3s | Distribution::Kind => [NodeRole::Server, NodeRole::Agent],
            Distribution::Talos => [NodeRole::Controlplane, NodeRole::Worker],
        }
    }

    /// The ingress controller a cluster runs when it does not say: k3s'
    /// packaged traefik, ingress-nginx as kind's guide installs it, none on
    /// Talos (which ships no ingress controller).
    pub fn default_ingress(self) -> IngressController {
        match self {
            Distribution::K3s => IngressController::Traefik,
            Distribution::Kind => IngressController::Nginx,
            Distribution::Talos => IngressController::None,
        }
    }

    /// The load balancer a cluster runs when it does not say: k3s' packaged
    /// ServiceLB, none on kind and Talos.
    pub fn default_load_balancer(self) -> LoadBalancer {
        match self {
            Distribution::K3s => LoadBalancer::Servicelb,
            Distribution::Kind | Distribution::Talos => LoadBalancer::None,
        }
    }

    /// The storage class the distribution ships as its default (k3s'
    /// local-path, kind's `standard`); Talos ships none, so claims without a
    /// class stay pending unless the description declares a default one.
    pub fn storage_class(self) -> Option<&'static str> {
        match self {
            Distribution::K3s => Some("local-path"),
            Distribution::Kind => Some("standard"),
            Distribution::Talos => None,
        }
    }

    /// Whether a cluster of the distribution can run the ingress controller.
    /// traefik is k3s' packaged controller: kind and Talos have nothing to
    /// enable, and no component of the stdlib installs it.
    pub fn runs_ingress(self, ingress: IngressController) -> bool {
        match (self, ingress) {
            (Distribution::Kind | Distribution::Talos, IngressController::Traefik) => false,
            (Distribution::K3s | Distribution::Kind | Distribution::Talos, _) => true,
        }
    }

    /// Whether a cluster of the distribution can run the load balancer:
    /// ServiceLB is part of k3s only.
    pub fn runs_load_balancer(self, load_balancer: LoadBalancer) -> bool {
        match (self, load_balancer) {
            (Distribution::Kind | Distribution::Talos, LoadBalancer::Servicelb) => false,
            (Distribution::K3s | Distribution::Kind | Distribution::Talos, _) => true,
        }
    }
}
words! {
    /// The ingress controller of a cluster.
    IngressController "ingress controller" {
        Traefik = "traefik", Nginx = "nginx", EnvoyGateway = "envoy-gateway", None = "none"
    }
}
words! {
    /// The load-balancer implementation of a cluster.
    LoadBalancer "load balancer" { Metallb = "metallb", Servicelb = "servicelb", None = "none" }
}
words! {
    /// The GitOps agent applying the tree.
    GitopsEngine "gitops engine" { Flux = "flux", Argocd = "argocd" }
}

impl GitopsEngine {
    /// The namespace the agent runs in, where its repository credentials live.
    pub fn namespace(self) -> &'static str {
        match self {
            GitopsEngine::Flux => "flux-system",
            GitopsEngine::Argocd => "argocd",
        }
    }
}

words! {
    /// The role of a node, in its distribution's words: k3s (and kind)
    /// `server` and `agent`, Talos `controlplane` and `worker`.
    NodeRole "node role" {
        /// A k3s or kind node running the control plane.
        Server = "server",
        /// A k3s or kind node running workloads only.
        Agent = "agent",
        /// A Talos node running the control plane (and etcd).
        Controlplane = "controlplane",
        /// A Talos node running workloads only.
        Worker = "worker",
    }
}

impl NodeRole {
    /// Whether the node runs the control plane (the API server, and the
    /// datastore): k3s servers, Talos control planes.
    pub fn runs_control_plane(self) -> bool {
        match self {
            NodeRole::Server | NodeRole::Controlplane => true,
            NodeRole::Agent | NodeRole::Worker => false,
        }
    }

    /// The same role in a distribution's words (`server` on Talos is
    /// `controlplane`, `worker` on k3s is `agent`).
    pub fn in_words_of(self, distribution: Distribution) -> NodeRole {
        let [control_plane, worker] = distribution.roles();
        if self.runs_control_plane() { control_plane } else { worker }
    }

    /// Whether the distribution names its nodes' roles so.
    pub fn fits(self, distribution: Distribution) -> bool {
        distribution.roles().contains(&self)
    }
}
words! {
    /// A CPU architecture.
    Arch "architecture" { Amd64 = "amd64", Arm64 = "arm64" }
}
words! {
    /// A taint effect.
    TaintEffect "taint effect" {
        NoSchedule = "NoSchedule", PreferNoSchedule = "PreferNoSchedule", NoExecute = "NoExecute"
    }
}
words! {
    /// How MetalLB announces a pool.
    Advertise "advertisement" { L2 = "l2", Bgp = "bgp" }
}
words! {
    /// A Pod Security Standards level.
    PodSecurity "pod security level" { Restricted = "restricted", Baseline = "baseline", Privileged = "privileged" }
}
words! {
    /// A Kubernetes Service type.
    ServiceType "service type" { ClusterIp = "ClusterIP", NodePort = "NodePort", LoadBalancer = "LoadBalancer" }
}
words! {
    /// A port protocol.
    Protocol "protocol" { Tcp = "TCP", Udp = "UDP" }
}
words! {
    /// The kind of a probe.
    ProbeKind "probe kind" { Liveness = "liveness", Readiness = "readiness", Startup = "startup" }
}
words! {
    /// What `spread` spreads replicas across.
    SpreadKey "spread key" { Node = "node", Zone = "zone" }
}
words! {
    /// Where a secret comes from.
    SecretFrom "secret source" { Sops = "sops", Sealed = "sealed", External = "external", Existing = "existing" }
}
words! {
    /// A CI engine.
    Engine "pipeline engine" {
        Tekton = "tekton", Drone = "drone", GithubActions = "github-actions", Woodpecker = "woodpecker"
    }
}
words! {
    /// What starts a pipeline.
    Trigger "trigger" { Push = "push", Tag = "tag", PullRequest = "pull-request", Manual = "manual" }
}
words! {
    /// How a pipeline deploys.
    DeployVia "deploy method" { Gitops = "gitops", Kubectl = "kubectl" }
}
words! {
    /// A Grafana panel type.
    PanelKind "panel kind" {
        Timeseries = "timeseries", Stat = "stat", Gauge = "gauge", Bargauge = "bargauge", Table = "table"
    }
}
words! {
    /// Where a panel's legend goes.
    LegendPlacement "legend placement" { Bottom = "bottom", Right = "right", Hidden = "hidden" }
}
words! {
    /// The severity label of an alert.
    AlertSeverity "alert severity" { Critical = "critical", Warning = "warning", Info = "info" }
}

/// A Kubernetes quantity (`100m`, `64Mi`, `8Gi`, `4`), kept as written and as
/// thousandths of a unit so that CPU and memory sums are exact.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity {
    /// As written.
    pub text: String,
    /// The amount in thousandths (millicores for CPU, millibytes for memory).
    pub millis: u128,
}

impl Quantity {
    /// Parses a Kubernetes quantity.
    pub fn parse(text: &str) -> Result<Quantity, String> {
        let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
        let (number, suffix) = text.split_at(split);
        if number.is_empty() || number.starts_with('.') || number.ends_with('.') || number.matches('.').count() > 1 {
            return Err(format!("`{text}` is not a quantity like `100m`, `64Mi` or `2`"));
        }
        // (multiplier numerator, denominator) relative to one unit, times 1000.
        let (num, den): (u128, u128) = match suffix {
            "" => (1000, 1),
            "m" => (1, 1),
            "u" => (1, 1000),
            "n" => (1, 1_000_000),
            "k" => (1000u128.pow(2), 1),
            "M" => (1000u128.pow(3), 1),
            "G" => (1000u128.pow(4), 1),
            "T" => (1000u128.pow(5), 1),
            "P" => (1000u128.pow(6), 1),
            "E" => (1000u128.pow(7), 1),
            "Ki" => (1000 << 10, 1),
            "Mi" => (1000 << 20, 1),
            "Gi" => (1000 << 30, 1),
            "Ti" => (1000 << 40, 1),
            "Pi" => (1000 << 50, 1),
            "Ei" => (1000 << 60, 1),
            other => {
                return Err(format!("unknown quantity suffix `{other}` (use m, k, M, G, T or Ki, Mi, Gi, Ti)"));
            }
        };
        let (int, frac) = number.split_once('.').unwrap_or((number, ""));
        let scale = 10u128.pow(u32::try_from(frac.len()).map_err(|_| "too many digits".to_string())?);
        let digits: u128 = format!("{int}{frac}").parse().map_err(|_| format!("`{text}` is too large"))?;
        let total = digits.checked_mul(num).ok_or_else(|| format!("`{text}` is too large"))?;
        let millis = total.div_ceil(den * scale);
        Ok(Quantity { text: text.to_string(), millis })
    }

    /// A quantity from a whole number of units.
    pub fn units(n: u64) -> Quantity {
        Quantity { text: n.to_string(), millis: u128::from(n) * 1000 }
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A duration written as `30s`, `5m`, `1h30m`, `7d`, kept as written and in
/// milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    /// As written.
    pub text: String,
    /// The length in milliseconds.
    pub millis: u64,
}

impl Duration {
    /// Parses a Prometheus-style duration (`ms`, `s`, `m`, `h`, `d`, `w`, `y`).
    pub fn parse(text: &str) -> Result<Duration, String> {
        let bad = || format!("`{text}` is not a duration like `30s`, `5m`, `1h30m` or `7d`");
        if text.is_empty() {
            return Err(bad());
        }
        let mut millis: u64 = 0;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
            if digits == 0 {
                return Err(bad());
            }
            let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
            rest = &rest[digits..];
            let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
            let unit: u64 = match &rest[..unit_len] {
                "ms" => 1,
                "s" => 1000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                "w" => 604_800_000,
                "y" => 31_536_000_000,
                _ => return Err(bad()),
            };
            rest = &rest[unit_len..];
            millis = n.checked_mul(unit).and_then(|v| millis.checked_add(v)).ok_or_else(bad)?;
        }
        Ok(Duration { text: text.to_string(), millis })
    }

    /// A duration spelled out in words (`5 minutes`, `1 hour`, `30 sec`) as
    /// it is written in Prometheus' notation (`5m`), when it is one.
    pub fn spelled_out(text: &str) -> Option<String> {
        const WORDS: &[(&str, &str)] = &[
            ("milliseconds", "ms"),
            ("millisecond", "ms"),
            ("msec", "ms"),
            ("seconds", "s"),
            ("second", "s"),
            ("secs", "s"),
            ("sec", "s"),
            ("minutes", "m"),
            ("minute", "m"),
            ("mins", "m"),
            ("min", "m"),
            ("hours", "h"),
            ("hour", "h"),
            ("hrs", "h"),
            ("hr", "h"),
            ("days", "d"),
            ("day", "d"),
            ("weeks", "w"),
            ("week", "w"),
            ("years", "y"),
            ("year", "y"),
        ];
        let mut out = String::new();
        let mut words = text.split_whitespace();
        while let Some(word) = words.next() {
            let digits = word.find(|c: char| !c.is_ascii_digit()).unwrap_or(word.len());
            let (number, unit) = if digits == word.len() { (word, words.next()?) } else { word.split_at(digits) };
            if number.is_empty() {
                return None;
            }
            let unit = unit.trim_end_matches([',', '.']).to_lowercase();
            let short = WORDS.iter().find(|(long, _)| *long == unit).map(|(_, short)| *short)?;
            out.push_str(number);
            out.push_str(short);
        }
        Duration::parse(&out).ok().map(|d| d.text)
    }

    /// Whole seconds, rounded up.
    pub fn seconds(&self) -> u64 {
        self.millis.div_ceil(1000)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// An inclusive range of addresses, written `A-B` or as a CIDR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpRange {
    /// The first address.
    pub start: IpAddr,
    /// The last address.
    pub end: IpAddr,
}

impl IpRange {
    /// Parses `A-B` (same family, A ≤ B) or a CIDR.
    pub fn parse(text: &str) -> Result<IpRange, String> {
        if let Some((a, b)) = text.split_once('-') {
            let start: IpAddr = a.trim().parse().map_err(|_| format!("`{a}` is not an IP address"))?;
            let end: IpAddr = b.trim().parse().map_err(|_| format!("`{b}` is not an IP address"))?;
            if start.is_ipv4() != end.is_ipv4() {
                return Err("the two ends of the range are of different IP families".into());
            }
            if start > end {
                return Err(format!("the range starts at {start}, after its end {end}"));
            }
            return Ok(IpRange { start, end });
        }
        let net: IpNet = parse_cidr(text)?;
        Ok(IpRange::from(net))
    }

    /// Whether the address lies in the range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.start <= ip && ip <= self.end && self.start.is_ipv4() == ip.is_ipv4()
    }

    /// Whether the two ranges share an address.
    pub fn overlaps(&self, other: &IpRange) -> bool {
        self.start.is_ipv4() == other.start.is_ipv4() && self.start <= other.end && other.start <= self.end
    }

    /// Whether every address of `other` lies in `self`.
    pub fn covers(&self, other: &IpRange) -> bool {
        self.contains(other.start) && self.contains(other.end)
    }
}

impl From<IpNet> for IpRange {
    fn from(net: IpNet) -> IpRange {
        IpRange { start: net.network(), end: net.broadcast() }
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// Parses a CIDR, with a precise reason on failure (prefix too long, ...).
/// Host bits are accepted here; [`is_canonical`] tells whether they are set.
pub fn parse_cidr(text: &str) -> Result<IpNet, String> {
    let Some((addr, prefix)) = text.split_once('/') else {
        return Err(format!("`{text}` is not a CIDR: it lacks a `/prefix` (e.g. `{text}/24`)"));
    };
    let ip: IpAddr = addr.parse().map_err(|_| format!("`{addr}` is not an IP address"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len: u8 = prefix.parse().map_err(|_| format!("`{prefix}` is not a prefix length"))?;
    if len > max {
        return Err(format!("prefix length {len} exceeds {max}"));
    }
    IpNet::new(ip, len).map_err(|e| e.to_string())
}

/// Whether a CIDR has no host bits set (`10.0.0.0/24`, not `10.0.0.5/24`).
pub fn is_canonical(net: &IpNet) -> bool {
    net.addr() == net.network()
}

/// Whether two networks share an address.
pub fn nets_overlap(a: &IpNet, b: &IpNet) -> bool {
    IpRange::from(*a).overlaps(&IpRange::from(*b))
}

/// A `host:port` pair (`192.168.1.171:5000`, `registry.local`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostPort {
    /// Host name or address.
    pub host: String,
    /// The port, when given.
    pub port: Option<u16>,
}

impl HostPort {
    /// Parses `host[:port]`.
    pub fn parse(text: &str) -> Result<HostPort, String> {
        let (host, port) = match text.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.starts_with('[') => {
                let port: u16 =
                    p.parse().ok().filter(|p| *p > 0).ok_or_else(|| format!("`{p}` is not a port number (1-65535)"))?;
                (h, Some(port))
            }
            _ => (text, None),
        };
        let valid = !host.is_empty()
            && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
        if !valid {
            return Err(format!("`{text}` is not a `host:port` address"));
        }
        Ok(HostPort { host: host.to_string(), port })
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(p) => write!(f, "{}:{p}", self.host),
            None => f.write_str(&self.host),
        }
    }
}

/// A host: an IP address or a DNS name (a cluster's API `endpoint=`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HostAddress {
    /// An address.
    Ip(IpAddr),
    /// A DNS name.
    Name(String),
}

impl HostAddress {
    /// Parses an IP address or a DNS name; a URL or a `host:port` is refused
    /// with the host to write instead.
    pub fn parse(text: &str) -> Result<HostAddress, String> {
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(HostAddress::Ip(ip));
        }
        let bare = text.split_once("://").map_or(text, |(_, rest)| rest);
        let bare = bare.split('/').next().unwrap_or(bare);
        let bare = match bare.rsplit_once(':') {
            Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
            _ => bare,
        };
        if bare != text {
            return Err(format!("`{text}` is not a host: write the address or name alone, `{bare}`"));
        }
        check_dns_subdomain(text).map(|()| HostAddress::Name(text.to_string()))
    }

    /// The address, when the host is one.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            HostAddress::Ip(ip) => Some(*ip),
            HostAddress::Name(_) => None,
        }
    }

    /// The host with a port: `192.168.1.10:6443`, `[fd00::1]:6443`, `k8s.lan:6443`.
    pub fn with_port(&self, port: u16) -> String {
        match self {
            HostAddress::Ip(IpAddr::V6(v6)) => format!("[{v6}]:{port}"),
            HostAddress::Ip(IpAddr::V4(v4)) => format!("{v4}:{port}"),
            HostAddress::Name(name) => format!("{name}:{port}"),
        }
    }
}

impl fmt::Display for HostAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostAddress::Ip(ip) => write!(f, "{ip}"),
            HostAddress::Name(name) => f.write_str(name),
        }
    }
}

/// Whether a version is one SemVer 2 version (`16.2.1`, `1.0.0-rc.1+build.5`),
/// with an optional leading `v` (`v1.16.2`, as cert-manager tags its charts).
pub fn is_semver(version: &str) -> bool {
    let v = version.strip_prefix('v').unwrap_or(version);
    let (v, build) = match v.split_once('+') {
        Some((v, build)) => (v, Some(build)),
        None => (v, None),
    };
    let (core, pre) = match v.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (v, None),
    };
    let numeric = |part: &str| {
        !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) && (part == "0" || !part.starts_with('0'))
    };
    let identifiers = |text: &str| {
        text.split('.').all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    };
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| numeric(p)) && pre.is_none_or(identifiers) && build.is_none_or(identifiers)
}

/// Checks an RFC 1123 label: lowercase alphanumerics and `-`, starting and
/// ending alphanumeric, at most 63 characters.
pub fn check_rfc1123_label(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a name may not be empty".into());
    }
    if name.len() > 63 {
        return Err(format!("`{name}` is {} characters long; at most 63 are allowed", name.len()));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Err(format!("`{name}` contains `{c}`; only lowercase letters, digits and `-` are allowed"));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err(format!("`{name}` must start and end with a letter or digit"));
    }
    Ok(())
}

/// Checks a DNS-1035 label (a Service name): an RFC 1123 label that starts with a letter.
pub fn check_dns1035_label(name: &str) -> Result<(), String> {
    check_rfc1123_label(name)?;
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(format!("`{name}` must start with a letter, as it names a Service"));
    }
    Ok(())
}

/// Checks a DNS subdomain (RFC 1123): dot-separated labels, at most 253 characters.
pub fn check_dns_subdomain(name: &str) -> Result<(), String> {
    if name.len() > 253 {
        return Err(format!("`{name}` is longer than 253 characters"));
    }
    for label in name.split('.') {
        check_rfc1123_label(label)?;
    }
    Ok(())
}

/// Why an image reference cannot be used as a pinned image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageRefProblem {
    /// It is not `[host[:port]/]path[:tag][@sha256:digest]`.
    Invalid(String),
    /// It is well formed but moves: the tag `latest`, or neither tag nor digest.
    Unpinned(&'static str),
}

/// Checks an image reference that must be pinned:
/// `[host[:port]/]path[:tag][@sha256:<64 hex digits>]`, whose path components
/// are lowercase, with a tag other than `latest` or a digest.
pub fn check_pinned_image(reference: &str) -> Result<(), ImageRefProblem> {
    let invalid = |why: String| Err(ImageRefProblem::Invalid(why));
    let (name, digest) = match reference.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (reference, None),
    };
    if let Some(digest) = digest
        && !(digest.len() == 71 && digest.starts_with("sha256:") && digest[7..].chars().all(|c| c.is_ascii_hexdigit()))
    {
        return invalid(format!("the digest `{digest}` is not `sha256:` and 64 hex digits"));
    }
    let slash = name.rfind('/').map_or(0, |i| i + 1);
    let (path, tag) = match name[slash..].split_once(':') {
        Some((last, tag)) => (&name[..slash + last.len()], Some(tag)),
        None => (name, None),
    };
    let mut components: Vec<&str> = path.split('/').collect();
    // A first component with a dot or a port, or `localhost`, is a registry host.
    if components.len() > 1 && (components[0].contains(['.', ':']) || components[0] == "localhost") {
        let host = components.remove(0);
        if !host_like(host) {
            return invalid(format!("`{host}` is not a registry host (`host` or `host:port`)"));
        }
    }
    if let Some(bad) = components.iter().find(|c| !path_component(c)) {
        return invalid(format!(
            "`{bad}` is not a repository path component (lowercase letters, digits, `.`, `_`, `-`)"
        ));
    }
    match (tag, digest) {
        (Some(tag), _) if !tag_like(tag) => invalid(format!("`{tag}` is not a tag (letters, digits, `_`, `.`, `-`)")),
        (Some("latest"), None) => Err(ImageRefProblem::Unpinned("has the mutable tag `latest`")),
        (None, None) => Err(ImageRefProblem::Unpinned("has no tag or digest")),
        _ => Ok(()),
    }
}

/// `host` or `host:port`: letters, digits, `.` and `-`, and a numeric port.
fn host_like(host: &str) -> bool {
    let (name, port) = host.split_once(':').map_or((host, None), |(n, p)| (n, Some(p)));
    let name_ok = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    name_ok && port.is_none_or(|p| p.parse::<u16>().is_ok())
}

/// A repository path component: lowercase alphanumerics separated by `.`, `_` or `-`.
fn path_component(component: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    component.starts_with(alnum)
        && component.ends_with(alnum)
        && component.chars().all(|c| alnum(c) || matches!(c, '.' | '_' | '-'))
}

/// A tag: at most 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`.
fn tag_like(tag: &str) -> bool {
    tag.len() <= 128
        && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && tag.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_images() {
        assert_eq!(check_pinned_image("ghcr.io/homelabc/homelabc:0.1.0"), Ok(()));
        assert_eq!(check_pinned_image("registry.lan:5000/tools/homelabc:v0.2.0-rc.1"), Ok(()));
        let digest = format!("homelabc@sha256:{}", "ab".repeat(32));
        assert_eq!(check_pinned_image(&digest), Ok(()));
        assert_eq!(
            check_pinned_image("homelabc:latest"),
            Err(ImageRefProblem::Unpinned("has the mutable tag `latest`"))
        );
        assert_eq!(
            check_pinned_image("ghcr.io/homelabc/homelabc"),
            Err(ImageRefProblem::Unpinned("has no tag or digest"))
        );
        for bad in ["", "Ghcr/Homelabc:1", "ghcr.io//x:1", "x:1@sha256:00", "x:-1", "bad host:80/x:1", "h:port/x:1"] {
            assert!(matches!(check_pinned_image(bad), Err(ImageRefProblem::Invalid(_))), "{bad}");
        }
    }

    #[test]
    fn quantities() {
        assert_eq!(Quantity::parse("100m").unwrap().millis, 100);
        assert_eq!(Quantity::parse("2").unwrap().millis, 2000);
        assert_eq!(Quantity::parse("0.5").unwrap().millis, 500);
        assert_eq!(Quantity::parse("64Mi").unwrap().millis, 64 * 1024 * 1024 * 1000);
        assert_eq!(Quantity::parse("1G").unwrap().millis, 1_000_000_000_000);
        assert!(Quantity::parse("64MB").is_err());
        assert!(Quantity::parse("-1").is_err());
        assert!(Quantity::parse("").is_err());
        assert!(Quantity::parse("1.").is_err());
    }

    #[test]
    fn durations_spelled_out_in_words_are_rewritten() {
        assert_eq!(Duration::spelled_out("5 minutes").as_deref(), Some("5m"));
        assert_eq!(Duration::spelled_out("1 hour 30 min").as_deref(), Some("1h30m"));
        assert_eq!(Duration::spelled_out("10sec").as_deref(), Some("10s"));
        assert_eq!(Duration::spelled_out("soon"), None);
        assert_eq!(Duration::spelled_out("5 fortnights"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(Duration::parse("30s").unwrap().millis, 30_000);
        assert_eq!(Duration::parse("1h30m").unwrap().millis, 5_400_000);
        assert_eq!(Duration::parse("7d").unwrap().seconds(), 604_800);
        assert!(Duration::parse("5").is_err());
        assert!(Duration::parse("m5").is_err());
        assert!(Duration::parse("5x").is_err());
    }

    #[test]
    fn cidrs() {
        assert_eq!(parse_cidr("10.0.0.0/33").unwrap_err(), "prefix length 33 exceeds 32");
        assert!(!is_canonical(&parse_cidr("10.0.0.5/24").unwrap()));
        assert!(is_canonical(&parse_cidr("10.0.0.0/24").unwrap()));
        assert!(parse_cidr("10.0.0.0").is_err());
        assert!(parse_cidr("fd00::/64").is_ok());
    }

    #[test]
    fn ranges() {
        let r = IpRange::parse("192.168.1.200-192.168.1.210").unwrap();
        assert!(r.contains("192.168.1.205".parse().unwrap()));
        assert!(!r.contains("192.168.1.211".parse().unwrap()));
        assert!(IpRange::parse("192.168.1.210-192.168.1.200").is_err());
        let c = IpRange::parse("192.168.1.0/24").unwrap();
        assert!(c.covers(&r));
    }

    #[test]
    fn names() {
        assert!(check_rfc1123_label("demo-app").is_ok());
        assert!(check_rfc1123_label("1app").is_ok());
        assert!(check_dns1035_label("1app").is_err());
        assert!(check_rfc1123_label("Demo").is_err());
        assert!(check_rfc1123_label("-a").is_err());
        assert!(check_rfc1123_label(&"a".repeat(64)).is_err());
    }

    #[test]
    fn words_are_read_in_any_case_and_kept_canonical() {
        assert_eq!(Protocol::parse("udp"), Some(Protocol::Udp));
        assert_eq!(ServiceType::parse("loadbalancer"), Some(ServiceType::LoadBalancer));
        assert_eq!(TaintEffect::parse("noschedule").map(Word::as_str), Some("NoSchedule"));
        assert_eq!(Protocol::parse("sctp"), None);
    }

    #[test]
    fn host_ports() {
        assert_eq!(HostPort::parse("192.168.1.171:5000").unwrap().port, Some(5000));
        assert_eq!(HostPort::parse("registry.local").unwrap().port, None);
        assert!(HostPort::parse("a:99999").is_err());
        assert!(HostPort::parse("a b").is_err());
    }
}

words! {
    /// The type of a Secret (`type=`): which keys it holds and who reads it.
    SecretType "secret type" {
        /// Any keys (`Opaque`).
        Opaque = "opaque",
        /// A Docker `config.json` (`kubernetes.io/dockerconfigjson`), for pulling images.
        DockerConfig = "docker-config",
        /// A certificate and its key (`kubernetes.io/tls`).
        Tls = "tls",
        /// A user name and password (`kubernetes.io/basic-auth`).
        BasicAuth = "basic-auth",
    }
}

impl SecretType {
    /// The Kubernetes Secret `type` this is.
    pub fn kubernetes_type(self) -> &'static str {
        match self {
            SecretType::Opaque => "Opaque",
            SecretType::DockerConfig => "kubernetes.io/dockerconfigjson",
            SecretType::Tls => "kubernetes.io/tls",
            SecretType::BasicAuth => "kubernetes.io/basic-auth",
        }
    }

    /// The type whose Kubernetes `type` is `kubernetes_type`, if the language has one.
    pub fn from_kubernetes_type(kubernetes_type: &str) -> Option<SecretType> {
        SecretType::all().iter().copied().find(|t| t.kubernetes_type() == kubernetes_type)
    }
}

words! {
    /// What issues a certificate issuer's certificates.
    IssuerKind "issuer kind" {
        /// An ACME server (Let's Encrypt).
        Acme = "acme",
        /// A certificate authority whose certificate and key are a Secret.
        Ca = "ca",
        /// Each certificate signs itself.
        SelfSigned = "self-signed",
    }
}

words! {
    /// How an ACME issuer proves it controls a name.
    AcmeSolver "ACME solver" {
        /// A token served over HTTP by the ingress controller.
        Http01 = "http01",
        /// A TXT record set through the DNS provider's API.
        Dns01 = "dns01",
    }
}

words! {
    /// A DNS provider whose API sets records with a token.
    DnsProvider "DNS provider" { Cloudflare = "cloudflare", Digitalocean = "digitalocean" }
}

impl DnsProvider {
    /// The key of the provider's API token in the secret that holds it
    /// (cert-manager's solver and external-dns read the same key).
    pub fn token_key(self) -> &'static str {
        match self {
            DnsProvider::Cloudflare => "api-token",
            DnsProvider::Digitalocean => "access-token",
        }
    }
}

words! {
    /// The protocol of a gateway's listener.
    ListenerProtocol "listener protocol" {
        /// Plain HTTP.
        Http = "http",
        /// HTTP over TLS, terminated by the gateway with a certificate of the cluster's issuer.
        Https = "https",
    }
}

words! {
    /// Who runs a tunnel's edge.
    TunnelProvider "tunnel provider" {
        /// Cloudflare Tunnel, run by `cloudflared`.
        Cloudflare = "cloudflare",
    }
}

words! {
    /// The secret manager behind a secret store.
    StoreProvider "secret store provider" {
        /// HashiCorp Vault (or OpenBao), KV engine.
        Vault = "vault",
        /// 1Password through a Connect server.
        Onepassword = "onepassword",
        /// Bitwarden Secrets Manager.
        Bitwarden = "bitwarden",
        /// Secrets of another namespace of a Kubernetes cluster.
        Kubernetes = "kubernetes",
    }
}

impl PodSecurity {
    /// How much the level allows: restricted 0, baseline 1, privileged 2.
    pub fn rank(self) -> u8 {
        match self {
            PodSecurity::Restricted => 0,
            PodSecurity::Baseline => 1,
            PodSecurity::Privileged => 2,
        }
    }
}

words! {
    /// The shape of an app's workload (`kind=`).
    WorkloadKind "workload kind" {
        /// Replicas of interchangeable pods (the default).
        Deployment = "deployment",
        /// Pods with stable names, each with its own claims (the default with an own volume).
        Statefulset = "statefulset",
        /// One pod on every node that matches its selection.
        Daemonset = "daemonset",
        /// A Job started on a schedule.
        Cronjob = "cronjob",
        /// A Job that runs once to completion.
        Job = "job",
    }
}

impl WorkloadKind {
    /// The Kubernetes kind of the workload object.
    pub fn kubernetes_kind(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::Statefulset => "StatefulSet",
            WorkloadKind::Daemonset => "DaemonSet",
            WorkloadKind::Cronjob => "CronJob",
            WorkloadKind::Job => "Job",
        }
    }

    /// The API group of the workload object.
    pub fn api_group(self) -> &'static str {
        match self {
            WorkloadKind::Deployment | WorkloadKind::Statefulset | WorkloadKind::Daemonset => "apps",
            WorkloadKind::Cronjob | WorkloadKind::Job => "batch",
        }
    }

    /// Whether its pods run to completion (a Job's) rather than serve.
    pub fn runs_to_completion(self) -> bool {
        match self {
            WorkloadKind::Cronjob | WorkloadKind::Job => true,
            WorkloadKind::Deployment | WorkloadKind::Statefulset | WorkloadKind::Daemonset => false,
        }
    }

    /// Whether `replicas`, `autoscale` and disruption budgets apply.
    pub fn scales(self) -> bool {
        match self {
            WorkloadKind::Deployment | WorkloadKind::Statefulset => true,
            WorkloadKind::Daemonset | WorkloadKind::Cronjob | WorkloadKind::Job => false,
        }
    }
}

words! {
    /// What a CronJob does when a run is due while the last one still runs.
    Concurrency "concurrency policy" { Allow = "allow", Forbid = "forbid", Replace = "replace" }
}

impl Concurrency {
    /// The CronJob `concurrencyPolicy` value.
    pub fn kubernetes_policy(self) -> &'static str {
        match self {
            Concurrency::Allow => "Allow",
            Concurrency::Forbid => "Forbid",
            Concurrency::Replace => "Replace",
        }
    }
}

words! {
    /// How a claim may be mounted.
    AccessMode "access mode" {
        /// By the pods of one node, read-write.
        ReadWriteOnce = "ReadWriteOnce",
        /// By one pod, read-write.
        ReadWriteOncePod = "ReadWriteOncePod",
        /// By pods of any node, read-only.
        ReadOnlyMany = "ReadOnlyMany",
        /// By pods of any node, read-write.
        ReadWriteMany = "ReadWriteMany",
    }
}

words! {
    /// What happens to a volume when its claim is deleted.
    ReclaimPolicy "reclaim policy" { Delete = "Delete", Retain = "Retain" }
}

words! {
    /// When a storage class binds and provisions a claim's volume.
    VolumeBinding "volume binding mode" { Immediate = "Immediate", WaitForFirstConsumer = "WaitForFirstConsumer" }
}

words! {
    /// How VolSync takes the point-in-time copy a backup reads.
    CopyMethod "copy method" {
        /// Reads the live volume (works on every storage class, e.g. k3s local-path).
        Direct = "Direct",
        /// A CSI clone of the volume.
        Clone = "Clone",
        /// A CSI VolumeSnapshot of the volume.
        Snapshot = "Snapshot",
    }
}

words! {
    /// A retention period of a backup (`keep-daily=7`).
    KeepPeriod "retention period" {
        Last = "last", Hourly = "hourly", Daily = "daily", Weekly = "weekly", Monthly = "monthly", Yearly = "yearly"
    }
}
