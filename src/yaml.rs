//! Canonical YAML: the one module that writes and reads YAML, and the only user of serde_yaml.
//!
//! # Writing: the determinism contract
//! [`render_json`] writes a `serde_json::Value` with the small block-style emitter below, not with
//! `serde_yaml::to_string`; [`render`] and [`render_straight`] write the same bytes straight from a
//! value's `Serialize` (`straight.rs`, held to the emitter by property tests), going through
//! `serde_json::to_value` and the emitter only where that declines. The writers are ours so that we
//! decide, and tests pin down, every byte: key order, which strings are quoted and how. Their output
//! cannot drift when serde_yaml (frozen upstream) is swapped for a fork; serde_yaml only parses.
//! The canonical form:
//! - **Key order.** At the top level of a document `apiVersion`, `kind`, `metadata` come first, then
//!   the other keys sorted by bytes; in every nested mapping `name` comes first (Kubernetes readers
//!   expect it first in containers, ports, env), then the other keys sorted by bytes.
//! - **Block style.** `key: value`; a nested mapping or sequence goes on the next lines, indented two
//!   spaces more than its key (`containers:\n  - name: x\n    image: y`); a mapping or sequence in a
//!   list item starts on the dash line. Empty mapping `{}`, empty list `[]`, null `null`.
//! - **Scalars.** Numbers as JSON writes them (a float in exponent form gets a `.0`, `1.0e+300`, as
//!   YAML 1.1 wants a dot in a float), booleans `true`/`false`. A string is plain only when no
//!   YAML 1.1 or 1.2 reader could take it for anything else; otherwise it is double-quoted with
//!   JSON-style escapes (`\uXXXX` also for NEL, U+2028, U+2029 and the BOM, which YAML reads as line
//!   breaks or drops). Quoted are: the empty string; `y`, `yes`, `on`, `off`, `null`, `~` and the other
//!   YAML 1.1 booleans and nulls, `<<` and `=`; anything an int or float in YAML 1.1 or 1.2 (`0644`,
//!   `0o17`, `0x1F`, `1_000`, `1e3`, `e5`, `.5`, `+1`, `.inf`, `.nan`, sexagesimal `1:30`); dates and
//!   timestamps (`2024-01-01…`); strings with leading or trailing whitespace, starting with an
//!   indicator (one of `` -?:,[]{}#&*!|>'"%@`\ ``) or `...`, containing `: ` or ` #`, ending with
//!   `:`, or holding a tab, a line break or another control character. Keys follow the same rule.
//! - **Multi-line strings** use a literal block `|` (`|-` without a final newline, `|+` with several),
//!   its lines indented two more than the key and kept exactly. A string falls back to double quotes
//!   when a block cannot hold it: a line with trailing whitespace, a first non-empty line starting
//!   with a space or tab, only newlines, a control character other than tab, or a `|+` block at the
//!   very end of a document (its trailing empty lines would break the one-final-newline rule).
//! - A key longer than 1000 bytes is written as an explicit `? key` / `: value` pair (libyaml
//!   refuses implicit keys over 1024 characters).
//! - No trailing spaces, LF only, exactly one final newline; [`render_all`] joins documents with `---`.
//!
//! # Reading
//! [`parse_documents`] reads a YAML stream with serde_yaml (YAML 1.2 scalars) into JSON values.
//! Empty documents (a file of comments, a trailing `---`) are skipped; an explicit `null` is kept.
//! Merge keys (`<<: *base`) are applied, as Kubernetes' and Helm's YAML 1.1 reader applies them, so a
//! literal key `<<` holding a mapping does not survive a round trip. Duplicate keys, tags (`!secret`),
//! `.inf`/`.nan` and integers beyond 64 bits are errors with a position. Scalar keys are taken as
//! written (`80: http` gives the key `"80"`, `0x1F:` the key `"0x1F"`). YAML 1.1 spellings that
//! serde_yaml reads as strings (`yes`, `on`, `0644`, `1_000`, `1:30`) stay strings, which render
//! then quotes: the boolean or number a YAML 1.1 reader would have seen in them is not kept.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt::{self, Write as _};

use serde::Deserialize as _;
use serde::de::{self, DeserializeSeed, EnumAccess, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

mod straight;

/// Renders a value as one canonical YAML document (no leading `---`), LF endings, final newline:
/// written straight from the value ([`render_straight`]), or through its JSON where that declines.
pub fn render<T: serde::Serialize + ?Sized>(value: &T) -> String {
    render_straight(value, |_| false).unwrap_or_else(|| {
        let value = serde_json::to_value(value)
            .expect("a rendered value must serialize to JSON: string-like map keys and no failing Serialize impl");
        render_value(&value, &|_| {})
    })
}

/// The canonical document of a value written straight from its `Serialize`, without the
/// `serde_json::Value` tree [`render_json`] reads: byte for byte what `render_json` writes of the
/// value's JSON. `None` (and nothing else is lost) where it declines, and the caller takes the way
/// through JSON: when `refuse` says so of a string of the value (the credential scan, which then
/// needs the JSON to say where the string is), when a string's literal block would depend on
/// being last in the document (a `|+` block), and when serde_json would take the value otherwise
/// than a document (a key that is not a string or an integer, a key given twice, a number beyond
/// 64 bits, a failing `Serialize`).
pub fn render_straight<T: serde::Serialize + ?Sized>(value: &T, refuse: impl Fn(&str) -> bool) -> Option<String> {
    straight::render(value, &refuse, &|_| {})
}

/// [`render_straight`], the document written after what `head` writes first (a comment line),
/// in one string.
pub fn render_straight_after<T: serde::Serialize + ?Sized>(
    head: &dyn Fn(&mut String),
    value: &T,
    refuse: impl Fn(&str) -> bool,
) -> Option<String> {
    straight::render(value, &refuse, head)
}

/// Renders a JSON value as one canonical YAML document, without the copy
/// [`render`] makes of any serializable value.
pub fn render_json(value: &Value) -> String {
    render_value(value, &|_| {})
}

/// [`render_json`], the document written after what `head` writes first.
pub fn render_json_after(head: &dyn Fn(&mut String), value: &Value) -> String {
    render_value(value, head)
}

/// Renders several documents separated by `---\n`.
pub fn render_all(values: &[Value]) -> String {
    values.iter().map(render_json).collect::<Vec<_>>().join("---\n")
}

/// Parses a YAML stream into documents as JSON values (for user manifests, values files, SOPS files).
pub fn parse_documents(text: &str) -> Result<Vec<Value>, YamlError> {
    let mut documents = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        documents.push(ValueSeed.deserialize(document).map_err(YamlError::from_serde_yaml)?);
    }
    // serde_yaml reads an empty document (`---` with nothing after it) as null, like `null` itself;
    // only the raw scalar text tells them apart, so the null documents are read once more for it.
    if documents.contains(&Some(Value::Null)) {
        for (slot, document) in documents.iter_mut().zip(serde_yaml::Deserializer::from_str(text)) {
            if *slot == Some(Value::Null) && String::deserialize(document).is_ok_and(|raw| raw.is_empty()) {
                *slot = None;
            }
        }
    }
    Ok(documents.into_iter().flatten().collect())
}

/// A parse error with 1-based line and column when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// What went wrong, without the position of the error itself.
    pub message: String,
    /// 1-based line of the error, when known.
    pub line: Option<usize>,
    /// 1-based column of the error, when known.
    pub column: Option<usize>,
}

impl YamlError {
    /// Takes serde_yaml's message apart from its position, which it writes into the text.
    fn from_serde_yaml(error: serde_yaml::Error) -> Self {
        let mut text = error.to_string();
        // serde_yaml stops at 128 levels (so that nothing recurses without
        // bound on a hostile file); say so in words.
        if text.starts_with("recursion limit exceeded") {
            text = text.replacen("recursion limit exceeded", "the YAML nests deeper than 128 levels", 1);
        }
        match error.location() {
            Some(at) => YamlError {
                message: text.replacen(&format!(" at line {} column {}", at.line(), at.column()), "", 1),
                line: Some(at.line()),
                column: Some(at.column()),
            },
            None => YamlError { message: text, line: None, column: None },
        }
    }
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, " at line {line} column {column}"),
            (Some(line), None) => write!(f, " at line {line}"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for YamlError {}

/// Keys longer than this (in bytes, as written) use the explicit `? key` form.
const MAX_IMPLICIT_KEY: usize = 1000;

/// First characters that make a plain scalar mean something else (YAML indicators, and backslash).
const INDICATORS: &[char] =
    &['-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', '\\'];

/// Words that YAML 1.1 or 1.2 reads as a boolean, a null, a merge key or a value key.
const RESERVED: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on",
    "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~", "<<", "=",
];

/// The length of the longest [`RESERVED`] word: longer texts skip the lookup.
const RESERVED_MAX: usize = {
    let (mut i, mut max) = (0, 0);
    while i < RESERVED.len() {
        if RESERVED[i].len() > max {
            max = RESERVED[i].len();
        }
        i += 1;
    }
    assert!(max < 8, "a reserved word is packed in a u64 with its length");
    max
};

/// A text of up to 7 bytes as one number: its length, then its bytes.
const fn packed(bytes: &[u8]) -> u64 {
    let mut key = bytes.len() as u64;
    let mut i = 0;
    while i < bytes.len() {
        key |= (bytes[i] as u64) << (8 * (i + 1));
        i += 1;
    }
    key
}

/// [`RESERVED`], packed: a lookup compares numbers, not strings.
const RESERVED_PACKED: [u64; RESERVED.len()] = {
    let mut keys = [0; RESERVED.len()];
    let mut i = 0;
    while i < RESERVED.len() {
        keys[i] = packed(RESERVED[i].as_bytes());
        i += 1;
    }
    keys
};

/// Whether `text` is one of the [`RESERVED`] words. Most texts are longer, or start with a byte
/// none of them starts with.
fn reserved(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() <= RESERVED_MAX
        && bytes.first().is_some_and(|b| BYTE_CLASS[*b as usize] & RESERVED_FIRST != 0)
        && RESERVED_PACKED.contains(&packed(bytes))
}

/// Renders one JSON value as a canonical document, after what `head` writes first.
fn render_value(value: &Value, head: &dyn Fn(&mut String)) -> String {
    // Most documents are objects of a few hundred bytes to a few KiB: room
    // for one at once rather than a string regrown from empty (a build
    // renders tens of thousands), then no more than it holds.
    let mut emitter = Emitter { out: String::with_capacity(DOCUMENT_CAPACITY) };
    head(&mut emitter.out);
    emitter.document(value);
    emitter.out.shrink_to_fit();
    emitter.out
}

/// The room a rendered document starts with.
const DOCUMENT_CAPACITY: usize = 2048;

/// Where a value goes: after `key:` on its key's line, or in place (after `- `, after `: ` of an
/// explicit key, or at the start of a document).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lead {
    /// After `key:`: a scalar follows a space, a collection starts on the next line.
    AfterKey,
    /// In place: a scalar follows directly, a collection starts on this line.
    InPlace,
}

/// Which keys of a mapping come before the sorted rest.
#[derive(Clone, Copy)]
enum KeyOrder {
    /// A document's top level: `apiVersion`, `kind`, `metadata`.
    TopLevel,
    /// Any nested mapping: `name`.
    Nested,
}

impl KeyOrder {
    /// The keys put first, in this order.
    fn firsts(self) -> &'static [&'static str] {
        match self {
            KeyOrder::TopLevel => &["apiVersion", "kind", "metadata"],
            KeyOrder::Nested => &["name"],
        }
    }
}

/// The block-style writer; `out` grows line by line.
struct Emitter {
    out: String,
}

impl Emitter {
    /// Writes a whole document.
    fn document(&mut self, value: &Value) {
        match value {
            Value::Object(map) if !map.is_empty() => self.mapping(map, 0, KeyOrder::TopLevel, true, true),
            _ => self.value(value, 0, Lead::InPlace, true),
        }
    }

    /// Writes `value`, whose own lines are indented by `indent`; `at_end` when nothing follows it.
    fn value(&mut self, value: &Value, indent: usize, lead: Lead, at_end: bool) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                let padded = self.open_collection(lead);
                self.mapping(map, indent, KeyOrder::Nested, padded, at_end);
            }
            Value::Array(items) if !items.is_empty() => {
                let padded = self.open_collection(lead);
                self.sequence(items, indent, padded, at_end);
            }
            Value::String(text) => match literal_header(text, at_end) {
                Some(header) => {
                    self.scalar_line(lead, header);
                    // A top-level block still needs indented lines: libyaml wants at least one space.
                    self.literal_lines(text, indent.max(2));
                }
                None => self.scalar_line(lead, &string_scalar(text)),
            },
            _ => self.scalar_line(lead, &scalar(value)),
        }
    }

    /// Ends the current line before a collection after a key; returns whether its first line is padded.
    fn open_collection(&mut self, lead: Lead) -> bool {
        if lead == Lead::AfterKey {
            self.out.push('\n');
        }
        lead == Lead::AfterKey
    }

    /// Writes a scalar (or a block header) and ends the line.
    fn scalar_line(&mut self, lead: Lead, text: &str) {
        if lead == Lead::AfterKey {
            self.out.push(' ');
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// Writes a non-empty mapping in canonical key order; the first line's indent is already
    /// written (by `- ` or `: `) unless `first_padded`.
    fn mapping(&mut self, map: &Map<String, Value>, indent: usize, order: KeyOrder, first_padded: bool, at_end: bool) {
        let last = map.len().saturating_sub(1);
        for (i, (key, value)) in ordered_entries(map, order).enumerate() {
            if i > 0 || first_padded {
                self.pad(indent);
            }
            let key = string_scalar(key);
            let end = at_end && i == last;
            if key.len() <= MAX_IMPLICIT_KEY {
                self.out.push_str(&key);
                self.out.push(':');
                self.value(value, indent + 2, Lead::AfterKey, end);
            } else {
                self.out.push_str("? ");
                self.out.push_str(&key);
                self.out.push('\n');
                self.pad(indent);
                self.out.push_str(": ");
                self.value(value, indent + 2, Lead::InPlace, end);
            }
        }
    }

    /// Writes a non-empty sequence, one `- item` per entry.
    fn sequence(&mut self, items: &[Value], indent: usize, first_padded: bool, at_end: bool) {
        let last = items.len().saturating_sub(1);
        for (i, item) in items.iter().enumerate() {
            if i > 0 || first_padded {
                self.pad(indent);
            }
            self.out.push_str("- ");
            self.value(item, indent + 2, Lead::InPlace, at_end && i == last);
        }
    }

    /// Writes the lines of a literal block.
    fn literal_lines(&mut self, text: &str, indent: usize) {
        literal_lines(&mut self.out, text, indent);
    }

    /// Writes `indent` spaces.
    fn pad(&mut self, indent: usize) {
        pad(&mut self.out, indent);
    }
}

/// Writes the lines of a literal block; the chomping indicator restores the final newlines.
fn literal_lines(out: &mut String, text: &str, indent: usize) {
    let body = text.strip_suffix('\n').unwrap_or(text);
    for line in body.split('\n') {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
}

/// Writes `indent` spaces.
fn pad(out: &mut String, indent: usize) {
    const SPACES: &str = "                                                                ";
    let mut left = indent;
    while left > 0 {
        let step = left.min(SPACES.len());
        out.push_str(&SPACES[..step]);
        left -= step;
    }
}

/// The entries of a mapping in canonical order: the keys `order` puts first, then by bytes.
/// The map iterates by key already (serde_json without `preserve_order`), so the keys put
/// first are taken out of it by name and the rest follow in the map's order.
fn ordered_entries(map: &Map<String, Value>, order: KeyOrder) -> impl Iterator<Item = (&String, &Value)> {
    let first = order.firsts();
    let firsts = first.iter().filter_map(|key| map.get_key_value(*key));
    firsts.chain(map.iter().filter(move |(key, _)| !first.contains(&key.as_str())))
}

/// A scalar on one line: null, boolean, number, string, or an empty collection.
fn scalar(value: &Value) -> Cow<'_, str> {
    match value {
        Value::Null => Cow::Borrowed("null"),
        Value::Bool(true) => Cow::Borrowed("true"),
        Value::Bool(false) => Cow::Borrowed("false"),
        Value::Number(number) => Cow::Owned(number_text(number)),
        Value::String(text) => string_scalar(text),
        Value::Array(_) => Cow::Borrowed("[]"),
        Value::Object(_) => Cow::Borrowed("{}"),
    }
}

/// A number as JSON writes it, but with `.0` before the exponent of a float that has no fraction
/// (`1e+300` becomes `1.0e+300`): YAML 1.1 (PyYAML, so Ansible) reads a float only with a dot.
fn number_text(number: &Number) -> String {
    let text = number.to_string();
    match text.find(['e', 'E']) {
        Some(at) if number.is_f64() && !text.contains('.') => format!("{}.0{}", &text[..at], &text[at..]),
        _ => text,
    }
}

/// A string on one line: plain when that is safe, else double-quoted.
fn string_scalar(text: &str) -> Cow<'_, str> {
    if is_plain_safe(text) { Cow::Borrowed(text) } else { Cow::Owned(double_quoted(text)) }
}

/// Whether every YAML 1.1 and 1.2 reader takes `text`, written plain, as exactly this string.
/// Every key and string of every object comes here: the bytes are read once ([`scan`]), and the
/// numeric spellings looked for only when every byte may be part of one.
fn is_plain_safe(text: &str) -> bool {
    let (Some(first), Some(last)) = (text.chars().next(), text.chars().next_back()) else {
        return false;
    };
    let scanned = scan(text);
    !(first.is_whitespace()
        || last.is_whitespace()
        || (first.is_ascii() && BYTE_CLASS[first as usize] & INDICATOR != 0)
        || text.starts_with("...")
        || text.ends_with(':')
        || scanned.breaks
        || reserved(text)
        || (scanned.numeric_bytes && looks_numeric(text))
        || looks_like_timestamp(text))
}

/// What one pass over a text's bytes says of it.
struct Scanned {
    /// It holds `: `, ` #` or a character [`needs_escape`] picks.
    breaks: bool,
    /// Each of its bytes may be part of a spelling [`looks_numeric`] takes.
    numeric_bytes: bool,
}

/// Bits of [`BYTE_CLASS`]: a control byte (C0 or DEL).
const CONTROL: u8 = 1;
/// A byte of a character beyond ASCII.
const NON_ASCII: u8 = 2;
/// `:` or `#`, which break a plain scalar next to a space.
const COLON_OR_HASH: u8 = 4;
/// A byte of the numeric spellings: digits, signs, `.`, `:`, `_`, exponents, radix prefixes, hex
/// digits and the letters of `.inf` and `.nan`.
const NUMERIC: u8 = 8;
/// A first character that makes a plain scalar mean something else ([`INDICATORS`]).
const INDICATOR: u8 = 16;
/// The first byte of a [`RESERVED`] word.
const RESERVED_FIRST: u8 = 32;

/// The class of every byte, from the lists above (and [`INDICATORS`]).
const BYTE_CLASS: [u8; 256] = {
    let mut class = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        if b < 0x20 || b == 0x7f {
            class[b] |= CONTROL;
        }
        if b >= 0x80 {
            class[b] |= NON_ASCII;
        }
        b += 1;
    }
    class[b':' as usize] |= COLON_OR_HASH;
    class[b'#' as usize] |= COLON_OR_HASH;
    let numeric = b"0123456789+-.:_eExXoObBabcdefABCDEFiInNfF";
    let mut i = 0;
    while i < numeric.len() {
        class[numeric[i] as usize] |= NUMERIC;
        i += 1;
    }
    let mut i = 0;
    while i < INDICATORS.len() {
        class[INDICATORS[i] as usize] |= INDICATOR;
        i += 1;
    }
    let mut i = 0;
    while i < RESERVED.len() {
        class[RESERVED[i].as_bytes()[0] as usize] |= RESERVED_FIRST;
        i += 1;
    }
    class
};

/// One pass over the bytes of `text` ([`Scanned`]). The bytes of a UTF-8 sequence are all above
/// ASCII, so `:`, `#` and space are found bytewise; only a text that is not ASCII is also read by
/// characters.
fn scan(text: &str) -> Scanned {
    let bytes = text.as_bytes();
    let mut all = NUMERIC;
    let mut ascii = true;
    for (i, &b) in bytes.iter().enumerate() {
        let class = BYTE_CLASS[b as usize];
        all &= class;
        if class & (CONTROL | NON_ASCII | COLON_OR_HASH) != 0 {
            let breaks = match b {
                b':' => bytes.get(i + 1) == Some(&b' '),
                b'#' => i > 0 && bytes[i - 1] == b' ',
                0x80.. => {
                    ascii = false;
                    false
                }
                _ => true,
            };
            if breaks {
                return Scanned { breaks: true, numeric_bytes: false };
            }
        }
    }
    Scanned { breaks: !ascii && text.chars().any(needs_escape), numeric_bytes: all != 0 }
}

/// Whether a character must be escaped in a double-quoted scalar: control characters (tab, line
/// feed and NEL included) and the characters YAML reads as line breaks or a byte order mark.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
}

/// A double-quoted scalar with JSON-style escapes.
fn double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            // Every character `needs_escape` picks is in the Basic Multilingual Plane.
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `text` reads as an int or a float in YAML 1.1, YAML 1.2, serde_yaml or go-yaml: a
/// superset of their grammars. YAML 1.1 allows `_` after a radix prefix (`0b_` is an int without
/// digits), go-yaml drops every `_` before it tries Go's `ParseInt(_, 0, 64)` (`0_x1F` is 31): both
/// spellings are checked.
fn looks_numeric(text: &str) -> bool {
    let compact: Vec<u8> = if text.contains('_') { text.bytes().filter(|b| *b != b'_').collect() } else { Vec::new() };
    [text.as_bytes(), &compact].into_iter().filter(|s| !s.is_empty()).any(|spelling| {
        let unsigned = spelling.strip_prefix(b"+").or_else(|| spelling.strip_prefix(b"-")).unwrap_or(spelling);
        let radix = unsigned.len() > 2
            && unsigned[0] == b'0'
            && matches!(unsigned[1], b'x' | b'X' | b'o' | b'O' | b'b' | b'B')
            && unsigned[2..].iter().all(|b| b.is_ascii_hexdigit() || *b == b'_');
        radix
            || matches!(unsigned, b".inf" | b".Inf" | b".INF" | b".nan" | b".NaN" | b".NAN")
            || looks_decimal(unsigned)
    })
}

/// Whether `bytes` (without `_`) matches `[0-9:]* (. [0-9]*)? ([eE] [+-]? [0-9]+)?` with a digit, a
/// dot or an exponent: decimal, octal `0644`, sexagesimal `1:30`, floats `.5`, `1.`, `1e3`. A bare
/// exponent counts too: the YAML 1.1 schema of the npm `yaml` package reads `e5` as a float (NaN).
fn looks_decimal(bytes: &[u8]) -> bool {
    let mut i = bytes.iter().take_while(|b| b.is_ascii_digit() || **b == b':').count();
    let dot = bytes.get(i) == Some(&b'.');
    if dot {
        i += 1;
        i += bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    }
    let has_mantissa = dot || bytes[..i].iter().any(u8::is_ascii_digit);
    if !matches!(bytes.get(i), Some(b'e' | b'E')) {
        return has_mantissa && i == bytes.len();
    }
    i += 1;
    if matches!(bytes.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    digits > 0 && i + digits == bytes.len()
}

/// Whether `text` starts like a YAML 1.1 timestamp: four digits, a dash, a digit.
fn looks_like_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 6 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-' && bytes[5].is_ascii_digit()
}

/// The literal block header for `text`, or `None` when it is written double-quoted instead.
fn literal_header(text: &str, at_end: bool) -> Option<&'static str> {
    // Most strings are one line.
    memchr::memchr(b'\n', text.as_bytes())?;
    let body = text.trim_end_matches('\n');
    let trailing = text.len() - body.len();
    if !text.contains('\n') || body.is_empty() || (trailing >= 2 && at_end) {
        return None;
    }
    let first = body.split('\n').find(|line| !line.is_empty()).unwrap_or_default();
    let blocked = first.starts_with([' ', '\t'])
        || body.split('\n').any(|line| line.ends_with([' ', '\t']))
        || escapes_in_block(body);
    match (blocked, trailing) {
        (true, _) => None,
        (false, 0) => Some("|-"),
        (false, 1) => Some("|"),
        (false, _) => Some("|+"),
    }
}

/// Whether a block's text holds a character [`needs_escape`] picks other than its line feeds and
/// tabs. Blocks are the long texts of a tree (dashboards, configuration files): their bytes are read
/// as bytes, and only a text that is not ASCII by characters as well (the bytes of a UTF-8 sequence
/// are all above ASCII, where no control character is).
fn escapes_in_block(body: &str) -> bool {
    body.bytes().any(|b| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f)
        || (!body.is_ascii() && body.chars().any(|c| !c.is_ascii() && needs_escape(c)))
}

/// The key under which YAML merges another mapping into this one.
const MERGE_KEY: &str = "<<";

/// Reads one YAML node as a JSON value; `None` for an empty document.
struct ValueSeed;

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Option<Value>;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// Builds JSON values; errors raised here get the node's position from serde_yaml.
struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value that JSON can hold")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Some(Value::Null))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(Value::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Value::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Value::from(v)))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Self::Value, E> {
        let fits = i64::try_from(v).map_err(|_| E::custom(format!("integer {v} does not fit in 64 bits")))?;
        Ok(Some(Value::from(fits)))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Self::Value, E> {
        let fits = u64::try_from(v).map_err(|_| E::custom(format!("integer {v} does not fit in 64 bits")))?;
        Ok(Some(Value::from(fits)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        let number = Number::from_f64(v).ok_or_else(|| E::custom(format!("`{v}` has no JSON form (quote it)")))?;
        Ok(Some(Value::Number(number)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Value::String(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Value::String(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(ValueSeed)? {
            items.push(item.unwrap_or(Value::Null));
        }
        Ok(Some(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut seen = BTreeSet::new();
        let mut map = Map::new();
        let mut merged = None;
        while let Some(key) = access.next_key_seed(KeySeed { seen: &seen })? {
            let value = access.next_value_seed(ValueSeed)?.unwrap_or(Value::Null);
            seen.insert(key.clone());
            if key == MERGE_KEY {
                merged = Some(value);
            } else {
                map.insert(key, value);
            }
        }
        if let Some(source) = merged {
            merge_into(&mut map, source).map_err(de::Error::custom)?;
        }
        Ok(Some(Value::Object(map)))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        let (tag, _) = data.variant::<String>()?;
        Err(de::Error::custom(format!("unsupported YAML tag `!{tag}`: JSON values have no tags")))
    }
}

/// Applies a merge key's value: its keys fill in what the mapping lacks; in a list of mappings the
/// earlier ones win.
fn merge_into(map: &mut Map<String, Value>, source: Value) -> Result<(), &'static str> {
    let sources = match source {
        Value::Array(items) => items,
        single => vec![single],
    };
    for source in sources {
        let Value::Object(entries) = source else {
            return Err("the merge key `<<` takes a mapping or a list of mappings");
        };
        for (key, value) in entries {
            map.entry(key).or_insert(value);
        }
    }
    Ok(())
}

/// Reads a mapping key as written, refusing one already seen in the same mapping.
struct KeySeed<'a> {
    /// The keys read so far.
    seen: &'a BTreeSet<String>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_string(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scalar mapping key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if self.seen.contains(v) {
            return Err(E::custom(format!("duplicate key `{v}`")));
        }
        Ok(v.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The plain-scalar test as it was written before [`scan`]: each condition on its own.
    fn plain_safe_reference(text: &str) -> bool {
        fn breaks_plain(text: &str) -> bool {
            text.contains(": ") || text.contains(" #") || text.chars().any(needs_escape)
        }
        let (Some(first), Some(last)) = (text.chars().next(), text.chars().next_back()) else {
            return false;
        };
        !(first.is_whitespace()
            || last.is_whitespace()
            || INDICATORS.contains(&first)
            || text.starts_with("...")
            || text.ends_with(':')
            || breaks_plain(text)
            || RESERVED.contains(&text)
            || looks_numeric(text)
            || looks_like_timestamp(text))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(8192))]

        #[test]
        fn the_one_pass_test_of_plain_scalars_is_the_plain_one(
            text in prop_oneof![
                "[-+0-9a-fA-FxXoObBiInN.:_eE ]{0,8}",
                "[ -~]{0,12}",
                "[a-z0-9 :#\\t\\n\\r\\x{85}\\x{a0}\\x{2028}\\x{feff}\\x{0}\\x{7f}é日-]{0,10}",
                "\\PC{0,10}",
                "\\p{Any}{0,6}",
            ]
        ) {
            prop_assert_eq!(is_plain_safe(&text), plain_safe_reference(&text), "{:?}", text);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn a_block_escapes_what_the_plain_test_of_its_characters_escapes(
            text in "[a-z \\t\\n\\r\\x{0}\\x{7f}\\x{85}\\x{a0}\\x{2028}\\x{feff}é日]{0,12}"
        ) {
            let by_chars = text.chars().any(|c| c != '\n' && c != '\t' && needs_escape(c));
            prop_assert_eq!(escapes_in_block(&text), by_chars, "{:?}", text);
        }
    }

    #[test]
    fn the_reserved_words_and_their_neighbours_are_tested_as_the_plain_test_does() {
        for word in RESERVED {
            assert!(reserved(word) && !is_plain_safe(word), "{word}");
            let (first, rest) = word.split_at(1);
            let neighbours = [
                format!("{word}x"),
                format!("x{word}"),
                format!("{word}{word}"),
                word[..word.len() - 1].to_string(),
                rest.to_string(),
                format!("{}{rest}", first.to_ascii_lowercase()),
                format!("{first}{}", rest.to_ascii_uppercase()),
                format!("{word}\0"),
            ];
            for text in neighbours {
                assert_eq!(reserved(&text), RESERVED.contains(&text.as_str()), "{text:?}");
                assert_eq!(is_plain_safe(&text), plain_safe_reference(&text), "{text:?}");
            }
        }
    }

    #[test]
    fn every_byte_class_is_the_plain_one() {
        for b in 0..=0x7fu8 {
            let text = format!("a{}b", b as char);
            assert_eq!(is_plain_safe(&text), plain_safe_reference(&text), "{text:?}");
            for text in [(b as char).to_string(), format!("{}1", b as char), format!("1{}", b as char)] {
                assert_eq!(is_plain_safe(&text), plain_safe_reference(&text), "{text:?}");
            }
        }
    }
}
