//! What a text must satisfy before the kdl crate may parse it.
//!
//! The crate's parsers recurse: once per level of `{ }`, once per `*` or `/`
//! inside a block comment, and once per error they recover from. A few
//! thousand levels exhaust a thread's stack, which aborts the process (no
//! panic to catch). So no text reaches the crate without [`check`], which
//! refuses, with a position for the diagnostic:
//!
//! - characters KDL forbids outside and inside strings (NUL and the other
//!   control characters, the bidirectional marks, a BOM past the start),
//!   which also catches binary files in one pass;
//! - blocks nested deeper than [`MAX_DEPTH`] levels;
//! - block comments of more than [`MAX_COMMENT_PIECES`] pieces (the crate
//!   reads each `*`, each `/` and each run of other characters one level deeper);
//! - more than [`MAX_UNMATCHED`] unmatched `}` (each restarts the crate's
//!   parser one level deeper).
//!
//! The scan reads strings and comments as KDL v2 does and, in a second pass,
//! as KDL v1 does (the crate tries both), and takes the worse of the two. A
//! string it cannot read as a whole (unterminated, a bad escape, glued to a
//! word) is read as ordinary text, so that the braces in it count: the crate
//! may recover from the error and parse them. What the scan cannot foresee
//! (the crate recursing once per recovered error) is bounded by the large
//! stack the crate runs on ([`super::on_large_stack`]).

/// The deepest nesting of `{ }` blocks homelabc reads.
pub const MAX_DEPTH: usize = 64;

/// The most pieces (`*`, `/`, runs of other characters) one block comment may have.
pub const MAX_COMMENT_PIECES: usize = 4096;

/// The most unmatched `}` a text may have before it is refused without the crate.
pub const MAX_UNMATCHED: usize = 256;

/// How many times over its text the scan may read, with the strings and
/// comments it tries and finds broken: a text of many unterminated strings
/// would otherwise take quadratic time.
const WORK_PER_BYTE: usize = 16;

/// Why a text may not be given to the kdl crate, with the byte offset to point at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A character KDL forbids; `count` of them in the text, `nul` whether they are NUL bytes.
    Forbidden {
        /// Byte offset of the first one.
        at: usize,
        /// The first forbidden character.
        ch: char,
        /// How many forbidden characters the text holds.
        count: usize,
    },
    /// The `{` that opens level [`MAX_DEPTH`] + 1.
    TooDeep {
        /// Byte offset of the `{`.
        at: usize,
    },
    /// A block comment of more than [`MAX_COMMENT_PIECES`] pieces.
    LongComment {
        /// Byte offset of its `/*`.
        at: usize,
    },
    /// Too many `}` without a `{`.
    Unmatched {
        /// Byte offset of the first one.
        at: usize,
        /// How many there are.
        count: usize,
    },
    /// More than [`MAX_DEPTH`] slashdashes in a row (`/- /- /- a`), each of which the
    /// crate's KDL v1 parser reads one level deeper.
    Slashdashes {
        /// Byte offset of the first one.
        at: usize,
    },
    /// So many broken strings or comments that reading them would take quadratic time.
    Tangled {
        /// Byte offset where the scan gave up.
        at: usize,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Forbidden { ch, .. } => {
                write!(f, "it holds U+{:04X}, a character KDL does not allow", u32::from(*ch))
            }
            Refusal::TooDeep { .. } => write!(f, "its blocks nest deeper than {MAX_DEPTH} levels"),
            Refusal::LongComment { .. } => f.write_str("a block comment in it is too long to parse"),
            Refusal::Unmatched { count, .. } => write!(f, "{count} or more `}}` in it close no block"),
            Refusal::Slashdashes { .. } => write!(f, "it has more than {MAX_DEPTH} `/-` in a row"),
            Refusal::Tangled { .. } => f.write_str("it has too many unterminated strings or comments"),
        }
    }
}

/// Checks a text before the kdl crate parses it; `None` when it may.
pub fn check(text: &str) -> Option<Refusal> {
    forbidden(text).or_else(|| Scan::run(text, Dialect::V2)).or_else(|| Scan::run(text, Dialect::V1))
}

/// Whether a character may not appear in a KDL v2 document, even in a string
/// (the specification's "disallowed literal code points"; surrogates cannot be in a `str`).
pub fn is_forbidden(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{e}'..='\u{1f}' | '\u{7f}' | '\u{200e}' | '\u{200f}')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// The first forbidden character (a BOM at the very start is allowed) and how many there are.
fn forbidden(text: &str) -> Option<Refusal> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let skipped = text.len() - body.len();
    // Bytes first: every forbidden character starts with a byte below 0x20,
    // 0x7f, 0xe2 or 0xef, so most texts never decode a character here.
    if !body.bytes().any(|b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) || b == 0x7f || b >= 0xe2) {
        return None;
    }
    let mut found = body.char_indices().filter(|(_, c)| is_forbidden(*c));
    let (at, ch) = found.next()?;
    Some(Refusal::Forbidden { at: skipped + at, ch, count: 1 + found.count() })
}

/// Which KDL's strings the scan reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dialect {
    V1,
    V2,
}

/// One pass over the text.
struct Scan<'a> {
    bytes: &'a [u8],
    dialect: Dialect,
    pos: usize,
    depth: usize,
    unmatched: usize,
    first_unmatched: usize,
    /// Bytes read by strings and comments tried and found broken; bounded by [`WORK_PER_BYTE`].
    wasted: usize,
}

impl Scan<'_> {
    fn run(text: &str, dialect: Dialect) -> Option<Refusal> {
        let mut scan =
            Scan { bytes: text.as_bytes(), dialect, pos: 0, depth: 0, unmatched: 0, first_unmatched: 0, wasted: 0 };
        scan.text()
    }

    fn text(&mut self) -> Option<Refusal> {
        // Whether the previous byte ends a value, so that a quote here opens a string.
        let mut separated = true;
        while let Some(&b) = self.bytes.get(self.pos) {
            let start = self.pos;
            match b {
                b'/' if self.at(1) == Some(b'/') => self.line_comment(),
                b'/' if self.at(1) == Some(b'*') => {
                    if let Some(refusal) = self.block_comment() {
                        return Some(refusal);
                    }
                }
                b'/' if self.at(1) == Some(b'-') => {
                    let mut run = 0;
                    while self.bytes.get(self.pos..self.pos + 2) == Some(b"/-") {
                        run += 1;
                        if run > MAX_DEPTH {
                            return Some(Refusal::Slashdashes { at: start });
                        }
                        self.pos += 2;
                        while self.bytes.get(self.pos).is_some_and(|b| b.is_ascii_whitespace()) {
                            self.pos += 1;
                        }
                    }
                }
                b'{' => {
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        return Some(Refusal::TooDeep { at: start });
                    }
                    self.pos += 1;
                }
                b'}' => {
                    if self.depth == 0 {
                        if self.unmatched == 0 {
                            self.first_unmatched = start;
                        }
                        self.unmatched += 1;
                        if self.unmatched > MAX_UNMATCHED {
                            return Some(Refusal::Unmatched { at: self.first_unmatched, count: self.unmatched });
                        }
                    }
                    self.depth = self.depth.saturating_sub(1);
                    self.pos += 1;
                }
                b'"' | b'#' | b'r' if separated => {
                    if !self.string() {
                        self.pos += 1;
                    }
                    if self.wasted > WORK_PER_BYTE * self.bytes.len() {
                        return Some(Refusal::Tangled { at: start });
                    }
                }
                _ => self.pos += 1,
            }
            separated = self.bytes.get(self.pos.wrapping_sub(1)).is_some_and(|&b| {
                b.is_ascii_whitespace() || matches!(b, b'{' | b'}' | b';' | b'=' | b'(' | b')' | b'/' | 0x0b)
            });
        }
        None
    }

    fn at(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    /// `// ...` up to the first byte that ends a line in either dialect.
    fn line_comment(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            if matches!(b, b'\n' | b'\r' | 0x0b | 0x0c) {
                return;
            }
            self.pos += 1;
        }
    }

    /// A nested `/* ... */`, the cursor on its `/*`. Its pieces are counted to
    /// its end (or the end of the text when it has none, as the crate would
    /// read them); an unterminated comment is then read as ordinary text.
    fn block_comment(&mut self) -> Option<Refusal> {
        let start = self.pos;
        let mut pos = start + 2;
        let (mut nesting, mut pieces, mut in_run) = (1usize, 1usize, false);
        while nesting > 0 {
            let Some(&b) = self.bytes.get(pos) else { break };
            let next = self.bytes.get(pos + 1).copied();
            match (b, next) {
                (b'*', Some(b'/')) => {
                    nesting -= 1;
                    pos += 2;
                    pieces += 1;
                    in_run = false;
                }
                (b'/', Some(b'*')) => {
                    nesting += 1;
                    pos += 2;
                    pieces += 1;
                    in_run = false;
                }
                (b'*' | b'/', _) => {
                    pos += 1;
                    pieces += 1;
                    in_run = false;
                }
                _ => {
                    pos += 1;
                    pieces += usize::from(!in_run);
                    in_run = true;
                }
            }
            if pieces > MAX_COMMENT_PIECES {
                return Some(Refusal::LongComment { at: start });
            }
        }
        if nesting == 0 {
            self.pos = pos;
        } else {
            self.pos = start + 2;
            self.wasted += pos - start;
            if self.wasted > WORK_PER_BYTE * self.bytes.len() {
                return Some(Refusal::Tangled { at: start });
            }
        }
        None
    }

    /// A string at the cursor, skipped when it is whole and well formed in the
    /// scan's dialect; `false` (nothing consumed) otherwise.
    fn string(&mut self) -> bool {
        let rest = &self.bytes[self.pos..];
        let end = match (self.dialect, rest[0]) {
            (Dialect::V2, b'#') | (Dialect::V1, b'r') => raw_string(rest, self.dialect),
            (_, b'"') if self.dialect == Dialect::V2 && rest.starts_with(b"\"\"\"") => multi_line(rest, 3, 0, true),
            (_, b'"') => quoted(rest, self.dialect),
            _ => Err(0),
        };
        match end {
            Ok(len) => {
                self.pos += len;
                true
            }
            Err(read) => {
                self.wasted += read;
                false
            }
        }
    }
}

/// What reading a string gives: `Ok(its length)`, or `Err(bytes read)` when
/// it is not whole and well formed.
type Read = Result<usize, usize>;

/// A `"..."` string: whole, only valid escapes, on one line in v2.
fn quoted(rest: &[u8], dialect: Dialect) -> Read {
    let mut i = 1;
    loop {
        match *rest.get(i).ok_or(i)? {
            b'"' => return Ok(i + 1),
            b'\\' => i += escape(&rest[i..], dialect).ok_or(i)?,
            b'\n' | b'\r' | 0x0b | 0x0c if dialect == Dialect::V2 => return Err(i),
            _ => i += 1,
        }
    }
}

/// The length of an escape at `rest` (on its `\`), `None` when it is not one.
fn escape(rest: &[u8], dialect: Dialect) -> Option<usize> {
    match (*rest.get(1)?, dialect) {
        (b'n' | b'r' | b't' | b'\\' | b'"' | b'b' | b'f', _) | (b'/', Dialect::V1) | (b's', Dialect::V2) => Some(2),
        (b'u', _) => {
            let close = rest.iter().skip(3).take(7).position(|&b| b == b'}')? + 3;
            let digits = rest.get(3..close)?;
            (rest.get(2) == Some(&b'{') && !digits.is_empty() && digits.iter().all(u8::is_ascii_hexdigit))
                .then_some(close + 1)
        }
        // A whitespace escape (v2) swallows every space and line break after the `\`.
        (b' ' | b'\t' | b'\n' | b'\r', Dialect::V2) => {
            let spaces = rest[1..].iter().take_while(|b| b.is_ascii_whitespace() || **b == 0x0b).count();
            Some(1 + spaces)
        }
        _ => None,
    }
}

/// A raw string (`#"..."#`, `#"""..."""#` in v2; `r"..."`, `r#"..."#` in
/// v1), whole.
fn raw_string(rest: &[u8], dialect: Dialect) -> Read {
    let skip = usize::from(dialect == Dialect::V1);
    let hashes = rest[skip..].iter().take_while(|&&b| b == b'#').count();
    let open = skip + hashes;
    if dialect == Dialect::V2 && hashes == 0 || rest.get(open) != Some(&b'"') {
        return Err(open);
    }
    if dialect == Dialect::V2 && rest[open..].starts_with(b"\"\"\"") {
        return multi_line(rest, open + 3, hashes, false);
    }
    let mut i = open + 1;
    loop {
        match *rest.get(i).ok_or(i)? {
            b'"' if closes(&rest[i + 1..], hashes) => return Ok(i + 1 + hashes),
            b'\n' | b'\r' | 0x0b | 0x0c if dialect == Dialect::V2 => return Err(i),
            _ => i += 1,
        }
    }
}

/// Whether `hashes` `#` follow.
fn closes(after: &[u8], hashes: usize) -> bool {
    after.len() >= hashes && after[..hashes].iter().all(|&b| b == b'#')
}

/// The length of a KDL v2 multi-line string whose body starts at `body` (after
/// `"""`), closed by `"""` and `hashes` `#`; `None` unless it is whole: a line
/// break right after the opening quotes, the closing quotes alone on their
/// line after the whitespace that prefixes every other non-blank line, and
/// (when `escapes`) only valid escapes.
fn multi_line(rest: &[u8], body: usize, hashes: usize, escapes: bool) -> Read {
    let is_break = |b: u8| matches!(b, b'\n' | b'\r' | 0x0b | 0x0c);
    if !rest.get(body).is_some_and(|&b| is_break(b)) {
        return Err(body);
    }
    let mut i = body;
    let close = loop {
        match *rest.get(i).ok_or(i)? {
            b'"' if rest[i..].starts_with(b"\"\"\"") && closes(&rest[i + 3..], hashes) => break i,
            b'\\' if escapes => i += escape(&rest[i..], Dialect::V2).ok_or(i)?,
            _ => i += 1,
        }
    };
    // The closing line: whitespace, then the quotes.
    let line_start = rest[..close].iter().rposition(|&b| is_break(b)).map_or(0, |p| p + 1);
    let prefix = &rest[line_start..close];
    if line_start <= body || !prefix.iter().all(|&b| b == b' ' || b == b'\t') {
        return Err(close);
    }
    let fits = |line: &[u8]| line.iter().all(|&b| b == b' ' || b == b'\t') || line.starts_with(prefix);
    if rest[body..line_start].split(|&b| is_break(b)).all(fits) { Ok(close + 3 + hashes) } else { Err(close) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_passes() {
        for text in [
            "a { b { c 1 } }\n",
            "a \"{\" \"}}}}\"\n",
            "a #\"{{{\"#\n",
            "a \"\"\"\n  {{{\n  \"\"\"\n",
            "a r#\"{{{\"#\n",
            "/* { */ a // {{{\n",
            "a \"\\u{7b}\"\n",
            "\u{feff}a 1\n",
        ] {
            assert_eq!(check(text), None, "{text:?}");
        }
    }

    #[test]
    fn deep_blocks_are_refused_at_the_first_brace_too_deep() {
        let text = "a{".repeat(1280);
        assert_eq!(check(&text), Some(Refusal::TooDeep { at: 2 * MAX_DEPTH + 1 }));
        let fine = format!("{}{}", "a{".repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
        assert_eq!(check(&fine), None);
    }

    #[test]
    fn braces_in_broken_strings_count() {
        // The crate recovers from each of these strings and may read the braces.
        for open in ["\"\\q", "1x\"", "\"\"\"", "#\""] {
            let text = format!("a {open}{}", "{".repeat(100));
            assert!(matches!(check(&text), Some(Refusal::TooDeep { .. })), "{open}");
        }
        // A string across lines is fine in v1 only: the v2 reading counts its braces.
        let text = format!("a \"\n{}\"", "{".repeat(100));
        assert!(matches!(check(&text), Some(Refusal::TooDeep { .. })));
    }

    #[test]
    fn long_comments_and_stray_braces_are_refused() {
        assert_eq!(check(&format!("a\n/*{}*/", "*".repeat(10_000))), Some(Refusal::LongComment { at: 2 }));
        assert_eq!(
            check(&format!("a\n{}{}", "/*".repeat(3000), "*/".repeat(3000))),
            Some(Refusal::LongComment { at: 2 })
        );
        assert!(matches!(check(&"}".repeat(1000)), Some(Refusal::Unmatched { at: 0, count: 257 })));
        assert_eq!(check("a }\n"), None);
        assert_eq!(check(&format!("a {}b", "/- ".repeat(100))), Some(Refusal::Slashdashes { at: 2 }));
    }

    #[test]
    fn many_broken_strings_take_linear_time() {
        // Each `r##"` would be read to the end of the text looking for `"##`.
        let text = "r##\" ".repeat(200_000);
        let started = std::time::Instant::now();
        assert!(matches!(check(&text), Some(Refusal::Tangled { .. })));
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        let text = "/* a".repeat(100_000);
        assert!(matches!(check(&text), Some(Refusal::Tangled { .. } | Refusal::LongComment { .. })));
    }

    #[test]
    fn forbidden_characters_are_found_and_counted() {
        assert_eq!(check("a \"x\u{0}y\"\n"), Some(Refusal::Forbidden { at: 4, ch: '\u{0}', count: 1 }));
        assert_eq!(check(&"\u{0}".repeat(10)), Some(Refusal::Forbidden { at: 0, ch: '\u{0}', count: 10 }));
        assert!(matches!(check("a \u{202e}\n"), Some(Refusal::Forbidden { ch: '\u{202e}', .. })));
        assert_eq!(check("a\u{feff}"), Some(Refusal::Forbidden { at: 1, ch: '\u{feff}', count: 1 }));
    }
}
