//! Reading one KDL node against its schema: which arguments, properties and
//! children it may have, each parsed into a typed value with its span.
//!
//! [`Reader::open`] checks the node's shape once (unknown or repeated
//! properties, unknown children, too many arguments) and the typed getters
//! report a missing or malformed value where it is. Every problem becomes a
//! diagnostic in the [`Cx`]; getters return `None` and lowering goes on.

use std::collections::BTreeSet;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::diag::{Code, Diagnostic};
use crate::model::{self, Duration, HostPort, IpRange, Quantity, Word};
use crate::source::{FileId, Span, Spanned};
use crate::suggest;
use crate::syntax::tree;

/// The lowering context: the file being read, its text, and the diagnostics found.
pub struct Cx<'a> {
    /// The file being lowered.
    pub file: FileId,
    /// Its text, for precise value spans.
    pub text: &'a str,
    /// Every problem found so far.
    pub diags: &'a mut Vec<Diagnostic>,
    /// Where to record what the readers see, for tools (`None` when compiling).
    pub trace: Option<&'a mut super::trace::Trace>,
}

impl Cx<'_> {
    /// Records a diagnostic.
    pub fn report(&mut self, diag: Diagnostic) {
        self.diags.push(diag);
    }

    /// The span of a kdl span in this file.
    pub fn span(&self, span: miette::SourceSpan) -> Span {
        Span::new(self.file, span.offset(), span.len())
    }
}

/// The shape a node may have.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// What the node is, for messages (`network`, `app port`).
    pub what: &'static str,
    /// The most positional arguments it takes.
    pub max_args: usize,
    /// The properties it takes.
    pub props: &'static [&'static str],
    /// The children it takes.
    pub children: &'static [&'static str],
}

/// A `children` list that accepts any child name (parameters of `use`).
pub const ANY_CHILD: &[&str] = &["*"];

/// A value that can be read from a KDL value.
pub trait FromKdl: Sized {
    /// What is expected, for messages (`an IP address`).
    const EXPECTED: &'static str;
    /// KDL type annotations that may be written on such a value.
    const ANNOTATIONS: &'static [&'static str];
    /// Parses the value; on failure, the diagnostic's code and message.
    fn from_kdl(value: &tree::Value) -> Result<Self, (Code, String)>;
    /// A `help:` line for a value that failed to parse.
    fn help(_value: &tree::Value) -> Option<String> {
        None
    }
    /// What is expected, as tools show it (a word's kind: `node role`).
    fn noun() -> &'static str {
        Self::EXPECTED
    }
    /// The allowed values, for a value of a closed set of words.
    fn words() -> Vec<&'static str> {
        Vec::new()
    }
}

fn want_string(value: &tree::Value, expected: &str) -> Result<String, (Code, String)> {
    match value {
        tree::Value::String(s) => Ok(s.clone()),
        other => Err((Code::E0105, format!("expected {expected}, found {}", describe(other)))),
    }
}

/// Describes a KDL value for messages: `the integer 5`, `#true`.
pub fn describe(value: &tree::Value) -> String {
    match value {
        tree::Value::String(s) => format!("the string \"{s}\""),
        tree::Value::Integer(i) => format!("the number {i}"),
        tree::Value::Float(f) => format!("the number {f}"),
        tree::Value::Bool(b) => format!("#{b}"),
        tree::Value::Null => "#null".to_string(),
    }
}

impl FromKdl for String {
    const EXPECTED: &'static str = "a string";
    const ANNOTATIONS: &'static [&'static str] = &["string", "url", "path", "host:port"];
    fn from_kdl(value: &tree::Value) -> Result<String, (Code, String)> {
        want_string(value, Self::EXPECTED)
    }
    fn help(value: &tree::Value) -> Option<String> {
        Some(format!("write it in quotes: `\"{}\"`", crate::diag::redact(&value.to_string().replace('"', ""))))
    }
}

impl FromKdl for bool {
    const EXPECTED: &'static str = "`#true` or `#false`";
    const ANNOTATIONS: &'static [&'static str] = &["bool"];
    fn from_kdl(value: &tree::Value) -> Result<bool, (Code, String)> {
        match value {
            tree::Value::Bool(b) => Ok(*b),
            other => Err((Code::E0105, format!("expected `#true` or `#false`, found {}", describe(other)))),
        }
    }
    fn help(value: &tree::Value) -> Option<String> {
        match value.as_string() {
            Some("true" | "false") => Some("KDL v2 booleans are written `#true` and `#false`, without quotes".into()),
            _ => None,
        }
    }
}

macro_rules! int_from_kdl {
    ($t:ty, $expected:literal) => {
        impl FromKdl for $t {
            const EXPECTED: &'static str = $expected;
            const ANNOTATIONS: &'static [&'static str] = &["int", "port"];
            fn from_kdl(value: &tree::Value) -> Result<$t, (Code, String)> {
                match value {
                    tree::Value::Integer(i) => <$t>::try_from(*i)
                        .map_err(|_| (Code::E0105, format!("{i} is out of range: expected {}", $expected))),
                    other => Err((Code::E0105, format!("expected {}, found {}", $expected, describe(other)))),
                }
            }
            fn help(value: &tree::Value) -> Option<String> {
                value
                    .as_string()
                    .filter(|s| s.parse::<$t>().is_ok())
                    .map(|s| format!("write the number without quotes: `{s}`"))
            }
        }
    };
}
int_from_kdl!(u16, "a whole number from 0 to 65535");
int_from_kdl!(u32, "a whole number from 0 to 4294967295");
int_from_kdl!(i64, "a whole number");

impl FromKdl for f64 {
    const EXPECTED: &'static str = "a number";
    const ANNOTATIONS: &'static [&'static str] = &["number"];
    fn from_kdl(value: &tree::Value) -> Result<f64, (Code, String)> {
        match value {
            tree::Value::Integer(i) => Ok(*i as f64),
            tree::Value::Float(f) if f.is_finite() => Ok(*f),
            other => Err((Code::E0105, format!("expected a number, found {}", describe(other)))),
        }
    }
    fn help(value: &tree::Value) -> Option<String> {
        value
            .as_string()
            .filter(|s| s.parse::<f64>().is_ok_and(f64::is_finite))
            .map(|s| format!("write the number without quotes: `{s}`"))
    }
}

/// A TCP/UDP port number (1-65535).
#[derive(Clone, Copy, Debug)]
pub struct PortNumber(pub u16);

impl FromKdl for PortNumber {
    const EXPECTED: &'static str = "a port number from 1 to 65535";
    const ANNOTATIONS: &'static [&'static str] = &["port", "int"];
    fn from_kdl(value: &tree::Value) -> Result<PortNumber, (Code, String)> {
        match value {
            tree::Value::Integer(i) if (1..=65535).contains(i) => Ok(PortNumber(*i as u16)),
            tree::Value::Integer(i) => Err((Code::E0105, format!("port {i} is out of range 1-65535"))),
            other => Err((Code::E0105, format!("expected {}, found {}", Self::EXPECTED, describe(other)))),
        }
    }
    fn help(value: &tree::Value) -> Option<String> {
        <u16 as FromKdl>::help(value)
    }
}

/// An RFC 1123 label.
#[derive(Clone, Debug)]
pub struct Label(pub String);

impl FromKdl for Label {
    const EXPECTED: &'static str = "a name";
    const ANNOTATIONS: &'static [&'static str] = &["name", "ref"];
    fn from_kdl(value: &tree::Value) -> Result<Label, (Code, String)> {
        let s = want_string(value, Self::EXPECTED)?;
        model::check_rfc1123_label(&s).map_err(|m| (Code::E0106, format!("invalid name: {m}")))?;
        Ok(Label(s))
    }
    fn help(value: &tree::Value) -> Option<String> {
        let s = value.as_string()?;
        let fixed: String = s
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .trim_matches('-')
            .chars()
            .take(63)
            .collect();
        (!fixed.is_empty() && fixed != s).then(|| format!("names are RFC 1123 labels; try `{fixed}`"))
    }
}

/// A DNS-1035 label (names that become Service names).
#[derive(Clone, Debug)]
pub struct ServiceLabel(pub String);

impl FromKdl for ServiceLabel {
    const EXPECTED: &'static str = "a name";
    const ANNOTATIONS: &'static [&'static str] = &["name"];
    fn from_kdl(value: &tree::Value) -> Result<ServiceLabel, (Code, String)> {
        let s = want_string(value, Self::EXPECTED)?;
        model::check_dns1035_label(&s).map_err(|m| (Code::E0106, format!("invalid name: {m}")))?;
        Ok(ServiceLabel(s))
    }
    fn help(value: &tree::Value) -> Option<String> {
        Label::help(value)
    }
}

impl FromKdl for IpAddr {
    const EXPECTED: &'static str = "an IP address";
    const ANNOTATIONS: &'static [&'static str] = &["ip", "ipv4", "ipv6"];
    fn from_kdl(value: &tree::Value) -> Result<IpAddr, (Code, String)> {
        let s = want_string(value, Self::EXPECTED)?;
        s.parse().map_err(|_| {
            let why = if s.contains('/') { " (a CIDR was given where one address is expected)" } else { "" };
            (Code::E0105, format!("`{s}` is not an IP address{why}"))
        })
    }
    fn help(value: &tree::Value) -> Option<String> {
        let s = value.as_string().unwrap_or_default();
        Some(match s.split_once('/') {
            Some((address, _)) => format!("write the address alone: `\"{address}\"`"),
            None => "write an IPv4 or IPv6 address such as `\"192.168.1.10\"`".to_string(),
        })
    }
}

impl FromKdl for model::HostAddress {
    const EXPECTED: &'static str = "an IP address or a DNS name";
    const ANNOTATIONS: &'static [&'static str] = &["ip", "host"];
    fn from_kdl(value: &tree::Value) -> Result<model::HostAddress, (Code, String)> {
        let s = want_string(value, Self::EXPECTED)?;
        model::HostAddress::parse(&s).map_err(|m| (Code::E0105, format!("invalid host: {m}")))
    }
}

impl FromKdl for IpNet {
    const EXPECTED: &'static str = "a CIDR like `10.0.0.0/24`";
    const ANNOTATIONS: &'static [&'static str] = &["cidr"];
    fn from_kdl(value: &tree::Value) -> Result<IpNet, (Code, String)> {
        let s = want_string(value, Self::EXPECTED)?;
        model::parse_cidr(&s).map_err(|m| (Code::E0105, format!("invalid CIDR: {m}")))
    }
    fn help(_: &tree::Value) -> Option<String> {
        Some("write an address and a prefix length, at most 32 for IPv4 and 128 for IPv6: `\"10.0.0.0/24\"`".into())
    }
}

impl FromKdl for IpRange {
    const EXPECTED: &'static str = "an address range like `192.168.1.200-192.168.1.210` or a CIDR";
    const ANNOTATIONS: &'static [&'static str] = &["ip-range", "cidr"];
    fn from_kdl(value: &tree::Value) -> Result<IpRange, (Code, String)> {
        let s = want_string(value, Self::EXPECTED)?;
        IpRange::parse(&s).map_err(|m| (Code::E0105, format!("invalid address range: {m}")))
    }
    fn help(_: &tree::Value) -> Option<String> {
        Some(
            "write `\"FIRST-LAST\"` with FIRST no higher than LAST (`\"192.168.1.200-192.168.1.210\"`), or a CIDR"
                .into(),
        )
    }
}

impl FromKdl for Quantity {
    const EXPECTED: &'static str = "a quantity like `100m`, `64Mi` or `2`";
    const ANNOTATIONS: &'static [&'static str] = &["quantity"];
    fn from_kdl(value: &tree::Value) -> Result<Quantity, (Code, String)> {
        let text = match value {
            tree::Value::Integer(i) if *i >= 0 => i.to_string(),
            tree::Value::Float(f) if *f >= 0.0 => f.to_string(),
            tree::Value::String(s) => s.clone(),
            other => return Err((Code::E0105, format!("expected {}, found {}", Self::EXPECTED, describe(other)))),
        };
        Quantity::parse(&text).map_err(|m| (Code::E0105, format!("invalid quantity: {m}")))
    }
    fn help(value: &tree::Value) -> Option<String> {
        let s = value.as_string()?;
        let upper = s.to_uppercase();
        ["KB", "MB", "GB", "TB"]
            .iter()
            .find(|u| upper.ends_with(*u))
            .map(|u| format!("Kubernetes writes `{}{}i` for binary units", &s[..s.len() - 2], &u[..1]))
    }
}

impl FromKdl for model::Cron {
    const EXPECTED: &'static str = "a cron schedule like `0 3 * * *` or `@daily`";
    const ANNOTATIONS: &'static [&'static str] = &["cron"];
    fn from_kdl(value: &tree::Value) -> Result<model::Cron, (Code, String)> {
        let s = want_string(value, Self::EXPECTED)?;
        model::Cron::parse(&s).map_err(|e| (Code::E0105, e.message))
    }
    fn help(value: &tree::Value) -> Option<String> {
        model::Cron::parse(value.as_string()?).err().map(|e| e.help)
    }
}

impl FromKdl for Duration {
    const EXPECTED: &'static str = "a duration like `30s`, `5m` or `7d`";
    const ANNOTATIONS: &'static [&'static str] = &["duration"];
    fn from_kdl(value: &tree::Value) -> Result<Duration, (Code, String)> {
        let s = match value {
            tree::Value::String(s) => s.clone(),
            other => return Err((Code::E0105, format!("expected {}, found {}", Self::EXPECTED, describe(other)))),
        };
        Duration::parse(&s).map_err(|m| (Code::E0105, format!("invalid duration: {m}")))
    }
    fn help(value: &tree::Value) -> Option<String> {
        if let Some(i) = value.as_integer() {
            return Some(format!("give a unit: `\"{i}s\"` or `\"{i}m\"`"));
        }
        let text = value.as_string()?;
        Some(match Duration::spelled_out(text) {
            Some(fixed) => format!("write `{fixed}`: a number and one of ms, s, m, h, d, w, y, without spaces"),
            None => "write a number and one of ms, s, m, h, d, w, y, without spaces (`90s`, `1h30m`)".into(),
        })
    }
}

impl FromKdl for HostPort {
    const EXPECTED: &'static str = "an address like `192.168.1.171:5000`";
    const ANNOTATIONS: &'static [&'static str] = &["host:port", "address"];
    fn from_kdl(value: &tree::Value) -> Result<HostPort, (Code, String)> {
        let s = want_string(value, Self::EXPECTED)?;
        HostPort::parse(&s).map_err(|m| (Code::E0105, format!("invalid address: {}", crate::diag::redact(&m))))
    }
    fn help(_: &tree::Value) -> Option<String> {
        Some("write a host and a port from 1 to 65535, `HOST:PORT`: `\"192.168.1.171:5000\"`".into())
    }
}

/// An absolute URL with a scheme (`https://...`, `oci://...`, `ssh://...`).
#[derive(Clone, Debug)]
pub struct Url(pub String);

impl FromKdl for Url {
    const EXPECTED: &'static str = "a URL like `https://example.com/...`";
    const ANNOTATIONS: &'static [&'static str] = &["url"];
    fn from_kdl(value: &tree::Value) -> Result<Url, (Code, String)> {
        let s = want_string(value, Self::EXPECTED)?;
        let ok = s.split_once("://").is_some_and(|(scheme, rest)| {
            !scheme.is_empty()
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || c == '+')
                && !rest.is_empty()
                && !rest.contains(char::is_whitespace)
        });
        if ok || s.starts_with("git@") {
            Ok(Url(s))
        } else {
            Err((Code::E0105, format!("`{}` is not a URL with a scheme such as `https://`", crate::diag::redact(&s))))
        }
    }
    fn help(_: &tree::Value) -> Option<String> {
        Some("write the whole URL with its scheme: `\"https://charts.example.com\"`, `\"oci://ghcr.io/...\"`".into())
    }
}

impl<W: Word> FromKdl for Spanless<W> {
    const EXPECTED: &'static str = "one of the allowed words";
    const ANNOTATIONS: &'static [&'static str] = &["string"];
    fn from_kdl(value: &tree::Value) -> Result<Spanless<W>, (Code, String)> {
        let s = want_string(value, W::WHAT)?;
        W::parse(&s).map(Spanless).ok_or_else(|| (Code::E0108, format!("unknown {} `{s}`", W::WHAT)))
    }
    fn help(value: &tree::Value) -> Option<String> {
        let s = value.as_string()?;
        let words = W::words();
        // Case-insensitive exact matches first: `clusterip` → `ClusterIP`.
        if let Some(w) = words.iter().find(|w| w.eq_ignore_ascii_case(s)) {
            return Some(format!("did you mean `{w}`?"));
        }
        suggest::help_for(s, &words, &format!("{}s", W::WHAT))
    }
    fn noun() -> &'static str {
        W::WHAT
    }
    fn words() -> Vec<&'static str> {
        W::words()
    }
}

/// Wrapper through which a [`Word`] enum is read (coherence forbids a blanket
/// `FromKdl` impl over `Word` beside the other impls).
#[derive(Clone, Copy, Debug)]
pub struct Spanless<W>(pub W);

/// A node being read against its [`Shape`].
pub struct Reader<'n> {
    /// The node.
    pub node: &'n tree::Node,
    /// Its shape.
    pub shape: Shape,
    /// The file it is in.
    pub file: FileId,
}

impl<'n> Reader<'n> {
    /// Opens a node and reports every shape problem: unknown or repeated
    /// properties, unknown children, too many arguments.
    pub fn open(cx: &mut Cx<'_>, node: &'n tree::Node, shape: Shape) -> Reader<'n> {
        let reader = Reader { node, shape, file: cx.file };
        let span = reader.span(cx);
        if let Some(trace) = cx.trace.as_deref_mut() {
            trace.open(span, shape);
        }
        reader.check_shape(cx);
        reader
    }

    /// Records in the trace, if any, that a getter asked for a slot.
    fn ask<T: FromKdl>(&self, cx: &mut Cx<'_>, slot: impl FnOnce() -> super::trace::Slot) {
        // Without a trace (every build), nothing is made for it: a
        // description asks for tens of thousands of properties.
        if cx.trace.is_none() {
            return;
        }
        let span = self.span(cx);
        if let Some(trace) = cx.trace.as_deref_mut() {
            let typed = super::trace::Typed { slot: slot(), expected: T::noun(), words: T::words(), reference: false };
            trace.ask(span, typed);
        }
    }

    /// Records in the trace, if any, that a property names a declaration.
    fn ask_reference(&self, cx: &mut Cx<'_>, key: &str) {
        if cx.trace.is_none() {
            return;
        }
        let span = self.span(cx);
        if let Some(trace) = cx.trace.as_deref_mut() {
            trace.reference(span, key);
        }
    }

    fn check_shape(&self, cx: &mut Cx<'_>) {
        let mut seen: Vec<(&str, Span)> = Vec::new();
        let mut args = 0;
        for entry in self.node.entries() {
            let span = cx.span(entry.span());
            match entry.name() {
                None => {
                    args += 1;
                    if args > self.shape.max_args {
                        let takes = match self.shape.max_args {
                            0 => "no arguments".to_string(),
                            1 => "one argument".to_string(),
                            n => format!("{n} arguments"),
                        };
                        cx.report(
                            Diagnostic::new(Code::E0110, format!("unexpected argument to {}", self.shape.what))
                                .primary(span, "extra argument")
                                .help(format!(
                                    "{} takes {takes}; a named value is written `key=value`",
                                    self.shape.what
                                )),
                        );
                    }
                }
                Some(key) => {
                    let key = key.value();
                    if !self.shape.props.contains(&key) {
                        let help = suggest::help_for(key, self.shape.props, "properties")
                            .or_else(|| {
                                self.shape
                                    .children
                                    .contains(&key)
                                    .then(|| format!("`{key}` is a child node: write it inside `{{ ... }}`"))
                            })
                            .or_else(|| Some(format!("{} takes no properties", self.shape.what)));
                        cx.report(
                            Diagnostic::new(Code::E0103, format!("unknown property `{key}` on {}", self.shape.what))
                                .primary(span, "unknown property")
                                .help_opt(help),
                        );
                    } else if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
                        cx.report(
                            Diagnostic::new(Code::E0107, format!("property `{key}` is given twice"))
                                .primary(span, "given again here")
                                .secondary(*first, "first given here")
                                .help("remove one of them; KDL would silently keep the last"),
                        );
                    } else {
                        seen.push((key, span));
                    }
                }
            }
        }
        for child in self.children() {
            let name = child.name().value();
            if self.shape.children == ANY_CHILD {
                break;
            }
            if !self.shape.children.contains(&name) {
                let span = cx.span(child.name().span());
                let help = if self.shape.children.is_empty() {
                    Some(format!("{} takes no children", self.shape.what))
                } else {
                    suggest::help_for(name, self.shape.children, "children")
                }
                .or_else(|| {
                    self.shape
                        .props
                        .contains(&name)
                        .then(|| format!("`{name}` is a property: write `{name}=...` on the node itself"))
                });
                cx.report(
                    Diagnostic::new(Code::E0103, format!("unknown child `{name}` in {}", self.shape.what))
                        .primary(span, "not known here")
                        .help_opt(help),
                );
            }
        }
    }

    /// The span of the node's name: where a problem with the whole node is shown.
    pub fn name_span(&self, cx: &Cx<'_>) -> Span {
        cx.span(self.node.name().span())
    }

    /// The span of the whole node.
    pub fn span(&self, cx: &Cx<'_>) -> Span {
        cx.span(self.node.span())
    }

    /// The children nodes, in order.
    pub fn children(&self) -> &'n [tree::Node] {
        self.node.children().map_or(&[], |d| d.nodes())
    }

    /// The children with this name.
    pub fn children_named(&self, name: &'n str) -> impl Iterator<Item = &'n tree::Node> + 'n {
        self.children().iter().filter(move |c| c.name().value() == name)
    }

    /// Each child with this name lowered by `lower`, those it could read, in
    /// a vector with room for them all and no more: the model holds its lists
    /// for the whole build, and a vector grown by pushing has room for four.
    pub fn lower_each<'c, T>(
        &self,
        cx: &mut Cx<'c>,
        name: &'n str,
        mut lower: impl FnMut(&mut Cx<'c>, &'n tree::Node) -> Option<T>,
    ) -> Vec<T> {
        let mut lowered = Vec::with_capacity(self.children_named(name).count());
        lowered.extend(self.children_named(name).filter_map(|child| lower(cx, child)));
        lowered
    }

    /// The one child with this name; a second is reported.
    pub fn child_once(&self, cx: &mut Cx<'_>, name: &str) -> Option<&'n tree::Node> {
        let mut found = self.children().iter().filter(|c| c.name().value() == name);
        let first = found.next()?;
        for again in found {
            cx.report(
                Diagnostic::new(Code::E0107, format!("`{name}` is given twice in {}", self.shape.what))
                    .primary(cx.span(again.name().span()), "given again here")
                    .secondary(cx.span(first.name().span()), "first given here")
                    .help(format!("{} takes one `{name}`", self.shape.what)),
            );
        }
        Some(first)
    }

    fn args(&self) -> impl Iterator<Item = &'n tree::Entry> {
        self.node.entries().iter().filter(|e| e.name().is_none())
    }

    /// Every positional argument from `index` on, parsed.
    pub fn rest_args<T: FromKdl>(&self, cx: &mut Cx<'_>, index: usize) -> Vec<Spanned<T>> {
        self.ask::<T>(cx, || super::trace::Slot::Arg(index));
        self.args().skip(index).filter_map(|e| parse_entry(cx, e)).collect()
    }

    /// An optional positional argument.
    pub fn opt_arg<T: FromKdl>(&self, cx: &mut Cx<'_>, index: usize) -> Option<Spanned<T>> {
        self.ask::<T>(cx, || super::trace::Slot::Arg(index));
        let entry = self.args().nth(index)?;
        parse_entry(cx, entry)
    }

    /// A required positional argument; `what` names it in the message (`a name`).
    pub fn arg<T: FromKdl>(&self, cx: &mut Cx<'_>, index: usize, what: &str) -> Option<Spanned<T>> {
        self.ask::<T>(cx, || super::trace::Slot::Arg(index));
        match self.args().nth(index) {
            Some(entry) => parse_entry(cx, entry),
            None => {
                let span = self.name_span(cx);
                let example = if index == 0 {
                    format!("{} \"...\"", self.node.name().value())
                } else {
                    format!("{} ... \"...\"", self.node.name().value())
                };
                cx.report(
                    Diagnostic::new(Code::E0104, format!("{} needs {what}", self.shape.what))
                        .primary(span, format!("{what} missing"))
                        .help(format!("write it as an argument: `{example}`")),
                );
                None
            }
        }
    }

    fn prop_entry(&self, key: &str) -> Option<&'n tree::Entry> {
        self.node.entries().iter().find(|e| e.name().is_some_and(|n| n.value() == key))
    }

    /// Whether a property is present (whatever its value).
    pub fn has_prop(&self, key: &str) -> bool {
        self.prop_entry(key).is_some()
    }

    /// An optional property.
    pub fn prop<T: FromKdl>(&self, cx: &mut Cx<'_>, key: &str) -> Option<Spanned<T>> {
        debug_assert!(self.shape.props.contains(&key), "{key} not in the shape of {}", self.shape.what);
        self.ask::<T>(cx, || super::trace::Slot::Prop(key.to_string()));
        let entry = self.prop_entry(key)?;
        parse_entry(cx, entry)
    }

    /// A required property.
    pub fn req_prop<T: FromKdl>(&self, cx: &mut Cx<'_>, key: &str) -> Option<Spanned<T>> {
        if self.prop_entry(key).is_none() {
            let span = self.name_span(cx);
            cx.report(
                Diagnostic::new(Code::E0104, format!("{} needs `{key}=`", self.shape.what))
                    .primary(span, format!("`{key}` missing"))
                    .help(format!("add `{key}=` with {}", T::EXPECTED)),
            );
            return None;
        }
        self.prop(cx, key)
    }

    /// A word-valued optional property (`role="server"`).
    pub fn word_prop<W: Word>(&self, cx: &mut Cx<'_>, key: &str) -> Option<Spanned<W>> {
        self.prop::<Spanless<W>>(cx, key).map(|s| s.map(|w| w.0))
    }

    /// A word-valued required property.
    pub fn req_word_prop<W: Word>(&self, cx: &mut Cx<'_>, key: &str) -> Option<Spanned<W>> {
        self.req_prop::<Spanless<W>>(cx, key).map(|s| s.map(|w| w.0))
    }

    /// A word-valued argument.
    pub fn word_arg<W: Word>(&self, cx: &mut Cx<'_>, index: usize, what: &str) -> Option<Spanned<W>> {
        self.arg::<Spanless<W>>(cx, index, what).map(|s| s.map(|w| w.0))
    }

    /// The node's name as a required name argument (`app "demo"` → `demo`).
    pub fn name(&self, cx: &mut Cx<'_>) -> Option<Spanned<String>> {
        self.arg::<Label>(cx, 0, "a name").map(|s| s.map(|l| l.0))
    }

    /// A required name-valued (reference) property.
    pub fn req_ref(&self, cx: &mut Cx<'_>, key: &str) -> Option<Spanned<String>> {
        let value = self.req_prop::<Label>(cx, key).map(|s| s.map(|l| l.0));
        self.ask_reference(cx, key);
        value
    }

    /// An optional name-valued (reference) property.
    pub fn opt_ref(&self, cx: &mut Cx<'_>, key: &str) -> Option<Spanned<String>> {
        let value = self.prop::<Label>(cx, key).map(|s| s.map(|l| l.0));
        self.ask_reference(cx, key);
        value
    }
}

/// The span of an entry's value (after `key=` for properties, after a type annotation).
fn value_span(cx: &Cx<'_>, entry: &tree::Entry) -> Span {
    let whole = cx.span(entry.span());
    let text = cx.text.get(whole.start as usize..whole.end as usize).unwrap_or("");
    let mut skip = 0;
    if entry.name().is_some()
        && let Some(eq) = text.find('=')
    {
        skip = eq + 1;
    }
    let rest = &text[skip..];
    if entry.ty().is_some()
        && rest.trim_start().starts_with('(')
        && let Some(close) = rest.find(')')
    {
        skip += close + 1;
    }
    let lead = text[skip..].len() - text[skip..].trim_start().len();
    Span { file: whole.file, start: whole.start + (skip + lead) as u32, end: whole.end }
}

/// Parses one entry, checking its type annotation; reports and returns `None` on failure.
pub fn parse_entry<T: FromKdl>(cx: &mut Cx<'_>, entry: &tree::Entry) -> Option<Spanned<T>> {
    let span = value_span(cx, entry);
    if let Some(ty) = entry.ty() {
        let ty = ty.value();
        if !T::ANNOTATIONS.contains(&ty) {
            let expected = T::ANNOTATIONS.first().copied().unwrap_or("string");
            cx.report(
                Diagnostic::new(Code::E0109, format!("type annotation `({ty})` does not match the schema"))
                    .primary(cx.span(entry.span()), format!("the schema expects {}", T::EXPECTED))
                    .help(format!("write `({expected})` or drop the annotation")),
            );
            return None;
        }
    }
    match T::from_kdl(entry.value()) {
        Ok(v) => Some(Spanned::new(v, span)),
        Err((code, message)) => {
            // Every diagnostic says what to do (SPEC §3): the type's own advice, else what it expects.
            let help = T::help(entry.value()).or_else(|| Some(format!("write {} here", T::EXPECTED)));
            let label = match code {
                Code::E0106 => "invalid name".to_string(),
                Code::E0108 => "unknown value".to_string(),
                _ => format!("expected {}", T::EXPECTED),
            };
            cx.report(Diagnostic::new(code, message).primary(span, label).help_opt(help));
            None
        }
    }
}

/// Reports duplicate names among items: `(name, span)` pairs, kind for messages.
pub fn report_duplicates<'a>(
    cx: &mut Cx<'_>,
    items: impl IntoIterator<Item = (&'a str, Span)>,
    what: &str,
    code: Code,
) {
    let mut seen: Vec<(&str, Span)> = Vec::new();
    let mut reported = BTreeSet::new();
    for (name, span) in items {
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
            if reported.insert((name, span)) {
                cx.report(
                    Diagnostic::new(code, format!("{what} `{name}` is declared twice"))
                        .primary(span, "declared again here")
                        .secondary(*first, "first declared here")
                        .help(format!("give each {what} its own name")),
                );
            }
        } else {
            seen.push((name, span));
        }
    }
}
