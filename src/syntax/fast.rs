//! A hand-written fast path for the common subset of KDL v2, tried before the kdl crate.
//!
//! The kdl crate's parser recovers from errors and keeps every byte of formatting, which
//! makes it read about 2 MB/s, and a large homelab is several megabytes. This module parses
//! the subset that descriptions are written in straight into a [`Document`], with the
//! names, values and spans of the one the crate's document converts to:
//!
//! - nodes named by a bare identifier or a quoted string, with arguments, `key=value`
//!   properties (spaces and `/* */` comments allowed around `=`) and a `{ ... }` block;
//!   nodes end at a newline (LF or CRLF), `;`, `//`, `}` or the end of the text;
//! - values: quoted strings with the escapes `\n \r \t \\ \" \b \f \s \u{...}`, decimal
//!   integers of up to 18 digits, decimals without exponent, bare identifiers, `#true`, `#false` and `#null`;
//! - `// ...` and nested `/* ... */` comments wherever KDL allows them.
//!
//! On anything else, valid or not, it bails with `None` and the caller parses the text
//! with the crate, which also reports every error. It bails on type annotations, exponents,
//! other integer forms, `#inf`/`#nan`, raw and multi-line strings, identifiers that do
//! not start with an ASCII letter, `_` or a sign, slashdash, line continuations, whitespace
//! escapes, and on non-ASCII text or control characters outside strings and comments.
//!
//! Neither kind of document carries formatting (the crate's keeps the leading space,
//! comments and literal spellings that its `Display` reprints); spans locate every token.

use super::tree::{Document, Entry, Ident, Node, Value};

/// How deep children blocks may nest: deeper texts are left to the crate's path,
/// where the guard refuses them.
use super::MAX_DEPTH;

/// Parses `text` if it lies in the supported subset of KDL v2, `None` otherwise.
pub(super) fn parse(text: &str) -> Option<Document> {
    Parser { text, bytes: text.as_bytes(), pos: 0, nodes: Vec::new(), entries: Vec::new() }.nodes(0)
}

/// A cursor over the text. Every method returns `None` to bail, and moves only over
/// whole characters, so `pos` is always a character boundary.
///
/// Nodes and entries are gathered in scratch stacks and moved once into vectors of
/// the exact size, rather than pushed into vectors that grow by doubling, which (with
/// the kdl crate's nodes of several hundred bytes) made the parser spend most of its
/// time in the allocator.
struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// The nodes read so far of the documents being read, innermost last.
    nodes: Vec<Node>,
    /// The entries read so far of the node being read.
    entries: Vec<Entry>,
}

impl Parser<'_> {
    /// The byte at the cursor.
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// The byte `ahead` bytes after the cursor.
    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    /// The nodes of the document (depth 0, up to the end) or of a children block (up to
    /// its `}`, left for the caller). The crate's span runs from the first node to the
    /// end of the last one, or is empty where the first node would start.
    fn nodes(&mut self, depth: usize) -> Option<Document> {
        let mark = self.nodes.len();
        self.line_space()?;
        let start = self.pos;
        let mut end = start;
        loop {
            match self.peek() {
                None if depth == 0 => break,
                Some(b'}') if depth > 0 => break,
                None | Some(b'}') => return None,
                Some(_) => {}
            }
            self.node(depth)?;
            end = self.pos;
            self.terminator()?;
            self.line_space()?;
        }
        Some(Document::new(exact(self.nodes.drain(mark..)), start..end))
    }

    /// Reads one node, up to its terminator, onto `nodes`. Its span covers the name, the
    /// entries, the children block and the space and block comments that follow, but not
    /// the terminator (nor a `//` comment that ends the node).
    fn node(&mut self, depth: usize) -> Option<()> {
        let start = self.pos;
        let name = self.string()?;
        // The node goes on the stack before its children, which go above it.
        let index = self.nodes.len();
        self.nodes.push(Node::new(identifier(name, start, self.pos), Vec::new(), None, start..start));
        self.entries.clear();
        loop {
            let before = self.pos;
            self.node_space()?;
            match self.peek() {
                None | Some(b'\n' | b'\r' | b';' | b'}') => break,
                Some(b'/') if self.peek_at(1) == Some(b'/') => break,
                Some(b'{') => {
                    *self.nodes[index].entries_mut() = exact(self.entries.drain(..));
                    let children = self.children(depth + 1)?;
                    *self.nodes[index].children_mut() = Some(children);
                    self.node_space()?;
                    break;
                }
                // An entry must be separated from what precedes it.
                Some(_) if self.pos > before => self.entry()?,
                Some(_) => return None,
            }
        }
        let node = &mut self.nodes[index];
        if !self.entries.is_empty() {
            *node.entries_mut() = exact(self.entries.drain(..));
        }
        node.set_span(start..self.pos);
        Some(())
    }

    /// A `{ ... }` block, the cursor on its `{`.
    fn children(&mut self, depth: usize) -> Option<Document> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        let doc = self.nodes(depth)?;
        // `nodes` stops inside a block only on its `}`.
        self.pos += 1;
        Some(doc)
    }

    /// What ends a node: `;`, a newline, a `//` comment, or (not consumed) `}` or the end.
    fn terminator(&mut self) -> Option<()> {
        match self.peek() {
            None | Some(b'}') => Some(()),
            Some(b';' | b'\n') => {
                self.pos += 1;
                Some(())
            }
            Some(b'\r') => self.crlf(),
            Some(b'/') if self.peek_at(1) == Some(b'/') => self.line_comment(),
            Some(_) => None,
        }
    }

    /// Reads an argument or a property onto `entries`. Its span runs from the key (or
    /// the value) to the end of the value, the spaces around `=` included.
    fn entry(&mut self) -> Option<()> {
        let start = self.pos;
        let (key, value) = if self.at_string() { self.argument_or_property(start)? } else { (None, self.value()?) };
        self.entries.push(Entry::new(key, value, start..self.pos));
        Some(())
    }

    /// An entry that starts with a string: the key and value of a property if `=`
    /// follows, else the value of an argument.
    fn argument_or_property(&mut self, start: usize) -> Option<(Option<Ident>, Value)> {
        let text = self.string()?;
        let key_end = self.pos;
        self.node_space()?;
        if self.peek() != Some(b'=') {
            self.pos = key_end;
            return Some((None, Value::String(text)));
        }
        self.pos += 1;
        self.node_space()?;
        let value = self.value()?;
        Some((Some(identifier(text, start, key_end)), value))
    }

    /// A value: a string, a decimal integer or a keyword.
    fn value(&mut self) -> Option<Value> {
        if self.at_string() {
            return self.string().map(Value::String);
        }
        match self.peek()? {
            b'#' => self.keyword(),
            b'0'..=b'9' | b'+' | b'-' => self.integer(),
            _ => None,
        }
    }

    /// Whether a string in the subset starts at the cursor: a quoted string, or a bare
    /// identifier that starts with an ASCII letter or `_`, or with a sign not followed
    /// by a digit (a number) or a dot (left to the crate).
    fn at_string(&self) -> bool {
        match self.peek() {
            Some(b'"' | b'A'..=b'Z' | b'a'..=b'z' | b'_') => true,
            Some(b'-' | b'+') => !matches!(self.peek_at(1), Some(b'0'..=b'9' | b'.')),
            _ => false,
        }
    }

    /// A string that may name a node or a property: quoted or a bare identifier.
    fn string(&mut self) -> Option<String> {
        match self.peek()? {
            b'"' => self.quoted(),
            _ if self.at_string() => self.bare(),
            _ => None,
        }
    }

    /// A bare identifier, `at_string` having checked its start. The caller checks what follows: a character the crate would
    /// still read as part of the identifier is never a separator, so it bails there.
    fn bare(&mut self) -> Option<String> {
        let start = self.pos;
        while self.peek().is_some_and(is_ident_char) {
            self.pos += 1;
        }
        let word = self.text.get(start..self.pos)?;
        // KDL v2 reserves these words for keywords; the signed ones are left to the crate
        // too, which reads `-inf` as a string although the specification forbids it.
        if matches!(word.trim_start_matches(['-', '+']), "true" | "false" | "null" | "inf" | "nan") {
            return None;
        }
        Some(word.to_owned())
    }

    /// A single-line quoted string, the cursor on its opening quote.
    fn quoted(&mut self) -> Option<String> {
        self.pos += 1;
        if self.peek() == Some(b'"') && self.peek_at(1) == Some(b'"') {
            // `"""` opens a multi-line string.
            return None;
        }
        let mut out = String::new();
        // The start of the literal text not yet copied into `out`.
        let mut run = self.pos;
        loop {
            match self.peek()? {
                b'"' => break,
                b'\\' => {
                    out.push_str(self.text.get(run..self.pos)?);
                    out.push(self.escape()?);
                    run = self.pos;
                }
                b'\t' | b' '..=b'~' => self.pos += 1,
                0x80.. => self.non_ascii()?,
                // Newlines, other control characters and DEL.
                _ => return None,
            }
        }
        out.push_str(self.text.get(run..self.pos)?);
        self.pos += 1;
        Some(out)
    }

    /// An escape, the cursor on its `\`.
    fn escape(&mut self) -> Option<char> {
        let c = match self.peek_at(1)? {
            b'\\' => '\\',
            b'"' => '"',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b's' => ' ',
            b'u' => return self.unicode_escape(),
            // Whitespace escapes and invalid ones.
            _ => return None,
        };
        self.pos += 2;
        Some(c)
    }

    /// A `\u{...}` escape of one to six hex digits, the cursor on its `\`.
    fn unicode_escape(&mut self) -> Option<char> {
        if self.peek_at(2) != Some(b'{') {
            return None;
        }
        self.pos += 3;
        let digits = self.pos;
        let mut code = 0u32;
        while let Some(digit) = self.peek().and_then(|b| char::from(b).to_digit(16)) {
            if self.pos - digits == 6 {
                return None;
            }
            code = code * 16 + digit;
            self.pos += 1;
        }
        if self.pos == digits || self.peek() != Some(b'}') {
            return None;
        }
        self.pos += 1;
        // Surrogates and values past U+10FFFF are not characters.
        char::from_u32(code)
    }

    /// `#true`, `#false` or `#null`.
    fn keyword(&mut self) -> Option<Value> {
        let rest = self.bytes.get(self.pos..)?;
        let (value, len) = if rest.starts_with(b"#true") {
            (Value::Bool(true), 5)
        } else if rest.starts_with(b"#false") {
            (Value::Bool(false), 6)
        } else if rest.starts_with(b"#null") {
            (Value::Null, 5)
        } else {
            return None;
        };
        self.pos += len;
        Some(value)
    }

    /// A decimal integer with an optional sign. More than 18 digits could overflow an
    /// `i64`, so they bail, as do `_`, a fraction or an exponent (the caller finds no
    /// separator after the digits).
    fn integer(&mut self) -> Option<Value> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if matches!(self.peek(), Some(b'-' | b'+')) {
            self.pos += 1;
        }
        let digits = self.pos;
        let mut magnitude = 0i64;
        while let Some(digit @ b'0'..=b'9') = self.peek() {
            if self.pos - digits == 18 {
                return None;
            }
            magnitude = magnitude * 10 + i64::from(digit - b'0');
            self.pos += 1;
        }
        if self.pos == digits {
            return None;
        }
        if self.peek() == Some(b'.') && matches!(self.peek_at(1), Some(b'0'..=b'9')) {
            return self.fraction(start);
        }
        let value = if negative { -magnitude } else { magnitude };
        Some(Value::Integer(value.into()))
    }

    /// The fraction of a decimal (`0.05`, `-1.5`), the cursor on its dot and `start` at
    /// its sign or first digit. An exponent or `_` bails (the caller finds no separator).
    fn fraction(&mut self, start: usize) -> Option<Value> {
        self.pos += 1;
        let fraction = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            if self.pos - fraction == 15 {
                return None;
            }
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.bytes[start..self.pos]).ok()?;
        text.parse::<f64>().ok().map(Value::Float)
    }

    /// Spaces, tabs and block comments: what may separate the parts of a node.
    fn node_space(&mut self) -> Option<()> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t') => self.pos += 1,
                Some(b'/') if self.peek_at(1) == Some(b'*') => self.block_comment()?,
                _ => return Some(()),
            }
        }
    }

    /// Spaces, newlines and comments: what may separate nodes. A `/` that starts no
    /// comment (a slashdash) bails.
    fn line_space(&mut self) -> Option<()> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n') => self.pos += 1,
                Some(b'\r') => self.crlf()?,
                Some(b'/') => match self.peek_at(1) {
                    Some(b'/') => self.line_comment()?,
                    Some(b'*') => self.block_comment()?,
                    _ => return None,
                },
                _ => return Some(()),
            }
        }
    }

    /// A `//` comment and the newline that ends it, if any.
    fn line_comment(&mut self) -> Option<()> {
        self.pos += 2;
        loop {
            match self.peek() {
                None => return Some(()),
                Some(b'\n') => {
                    self.pos += 1;
                    return Some(());
                }
                Some(b'\r') => return self.crlf(),
                Some(_) => self.comment_char()?,
            }
        }
    }

    /// A `/* */` comment, in which comments nest.
    fn block_comment(&mut self) -> Option<()> {
        self.pos += 2;
        let mut depth = 1usize;
        loop {
            match (self.peek()?, self.peek_at(1)) {
                (b'*', Some(b'/')) => {
                    self.pos += 2;
                    depth -= 1;
                    if depth == 0 {
                        return Some(());
                    }
                }
                (b'/', Some(b'*')) => {
                    self.pos += 2;
                    depth += 1;
                }
                (b'\n', _) => self.pos += 1,
                (b'\r', _) => self.crlf()?,
                _ => self.comment_char()?,
            }
        }
    }

    /// One character of a comment other than a newline.
    fn comment_char(&mut self) -> Option<()> {
        match self.peek()? {
            b'\t' | b' '..=b'~' => {
                self.pos += 1;
                Some(())
            }
            0x80.. => self.non_ascii(),
            _ => None,
        }
    }

    /// A CRLF newline; a lone CR is a newline too in KDL, but not in the subset.
    fn crlf(&mut self) -> Option<()> {
        if self.peek_at(1) != Some(b'\n') {
            return None;
        }
        self.pos += 2;
        Some(())
    }

    /// A non-ASCII character inside a string or comment. Newlines and the code points
    /// KDL disallows bail.
    fn non_ascii(&mut self) -> Option<()> {
        let c = self.text.get(self.pos..)?.chars().next()?;
        if matches!(
            c,
            '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{200E}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        ) {
            return None;
        }
        self.pos += c.len_utf8();
        Some(())
    }
}

/// The items in a vector of their exact number.
fn exact<T>(items: std::vec::Drain<'_, T>) -> Vec<T> {
    let mut vec = Vec::with_capacity(items.len());
    vec.extend(items);
    vec
}

/// An identifier (node name or property key) read from `start..end`.
fn identifier(value: String, start: usize, end: usize) -> Ident {
    Ident::new(value, start..end)
}

/// Whether `b` continues a bare identifier: visible ASCII but the characters KDL
/// reserves (`\ / ( ) { } [ ] ; " # =`). Non-ASCII identifier characters bail.
fn is_ident_char(b: u8) -> bool {
    matches!(b, b'!'..=b'~')
        && !matches!(b, b'\\' | b'/' | b'(' | b')' | b'{' | b'}' | b'[' | b']' | b';' | b'"' | b'#' | b'=')
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;
    use std::path::Path;

    use kdl::KdlDocument;
    use miette::SourceSpan;
    use proptest::prelude::*;

    use super::parse;
    use crate::syntax::tree::Document;

    /// A document as text: every name, value, type annotation and span, children nested.
    fn dump(doc: &Document) -> String {
        let mut out = String::new();
        dump_into(doc, 0, &mut out);
        out
    }

    fn dump_into(doc: &Document, depth: usize, out: &mut String) {
        let pad = "  ".repeat(depth);
        let _ = writeln!(out, "{pad}doc @{}", at(doc.span()));
        for node in doc.nodes() {
            let name = node.name();
            let ty = node.ty().map(|t| (t.value().to_string(), at(t.span())));
            let _ =
                writeln!(out, "{pad}node {:?} @{} ty={ty:?} span @{}", name.value(), at(name.span()), at(node.span()));
            for entry in node.entries() {
                let key = entry.name().map(|k| (k.value().to_string(), at(k.span())));
                let ty = entry.ty().map(|t| (t.value().to_string(), at(t.span())));
                let _ =
                    writeln!(out, "{pad}  entry {key:?} = {:?} ty={ty:?} span @{}", entry.value(), at(entry.span()));
            }
            match node.children() {
                Some(children) => dump_into(children, depth + 1, out),
                None => {
                    let _ = writeln!(out, "{pad}  no children");
                }
            }
        }
    }

    fn at(span: SourceSpan) -> String {
        format!("{}..{}", span.offset(), span.offset() + span.len())
    }

    /// Checks the fast path against the crate on `text`; returns whether it took it.
    fn agrees(text: &str) -> Result<bool, String> {
        let Some(fast) = parse(text) else { return Ok(false) };
        match KdlDocument::parse_v2(text) {
            Ok(slow) if dump(&Document::from_kdl(&slow)) == dump(&fast) => Ok(true),
            Ok(slow) => {
                Err(format!("{text:?}\n--- crate\n{}--- fast\n{}", dump(&Document::from_kdl(&slow)), dump(&fast)))
            }
            Err(error) => Err(format!("{text:?}: the fast path accepts what the crate rejects: {error:?}")),
        }
    }

    fn kdl_files(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("readable folder") {
            let path = entry.expect("folder entry").path();
            if path.is_dir() {
                kdl_files(&path, files);
            } else if path.extension().is_some_and(|e| e == "kdl") {
                files.push(path);
            }
        }
    }

    #[test]
    fn examples_take_the_fast_path_and_agree_with_the_crate() {
        let mut files = Vec::new();
        kdl_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"), &mut files);
        assert!(!files.is_empty());
        for file in files {
            let text = std::fs::read_to_string(&file).expect("readable file");
            assert_eq!(agrees(&text), Ok(true), "{}", file.display());
        }
    }

    #[test]
    fn ui_fixtures_agree_with_the_crate() {
        let mut files = Vec::new();
        kdl_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui"), &mut files);
        let mut fast = 0;
        for file in &files {
            // A case of a file that is not UTF-8 or that the guard refuses never reaches a parser.
            let Ok(text) = String::from_utf8(std::fs::read(file).expect("readable file")) else { continue };
            if crate::syntax::guard::check(&text).is_some() {
                assert_eq!(parse(&text), None, "{}", file.display());
                continue;
            }
            fast += usize::from(agrees(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display())));
        }
        // Most fixtures are valid KDL in the subset; the syntax errors are not.
        assert!(fast * 10 >= files.len() * 8, "{fast} of {} fixtures took the fast path", files.len());
    }

    /// Snippets in the subset: the fast path must take them and agree with the crate.
    const SUPPORTED: &[&str] = &[
        "",
        "  \n ",
        "// only a comment\n",
        "/* only */ /* comments */",
        "foo",
        "foo bar",
        "foo bar\n",
        "  a 1 b=2  // c\n  x { y; z }  \nq",
        "a{b}",
        "a \"x\"{b}",
        "a { }",
        "a {}",
        "a {\n}\n",
        "a { // c\n }",
        "a {\n  b 1 // c\n  /* d */ c;\n}\n",
        "a;",
        "a; b",
        "a;b;c",
        "a {b};c",
        "a { b; }",
        "a { b }  // after\nc",
        "x /* a\nb */ y",
        "x /* a /* nested */ b */ y /**/ z",
        "x/*c*/y",
        "x//c",
        "x 1//c",
        "x \"s\"/*c*/1",
        "a\r\nb 1\r\n",
        "a // c\r\nb /* \r\n */ 2\r\n",
        "n k = 1",
        "n k= 1",
        "n k =1",
        "n \"k\" =1",
        "n \"k\"=1",
        "n k /* c */ = /* d */ 1",
        "n a=b",
        "n a=b c=\"d\" e",
        "n 1 \"two\" three=3 four=#true five=#false six=#null #true",
        "n -1 +2 0 007 -0 123456789012345678 -123456789012345678",
        "n \"a\\u{48}\\s\"",
        "n \"\\n\\t\\r\\\\\\\"\\b\\f\\s\\u{10FFFF}\\u{0}\\u{e9}\"",
        "n \"\" \"\\\"\\\"\"",
        "\"quoted name\" \"\"=1",
        "\"\" 1",
        "n \"héllo wörld ✓ 😀\" // ünïcode comment\n",
        "n /* ünïcode ✓ */ 1",
        "n \"tab\there\"",
        "n 1 { } ",
        "n #true{}",
        "n 1{}",
        "n 1;n 2",
        "n {\n  m {\n    o 1 { p }\n  }\n}",
        "a-b.c:d 1",
        "key$ val!ue x'y,z<w>?",
        "_ _a _1",
        "n x=a-b x=a.b x=a+1",
        "n infinity nullable trueish",
        "last { child }",
        "last 1 2",
        "t\t1\t2",
        "n -",
        "n +x",
        "- \"a\"",
        "list { - 1; - 2 }",
        "n --x -a=1 +b -=2 x=-y",
        "-//c",
        "+ 1",
        "n 1.5 -0.05 +2.25 0.0 x=0.01",
    ];

    /// Snippets outside the subset, valid or not: the fast path must leave them to the crate.
    const BAILS: &[&str] = &[
        "\u{feff}n 1",
        "(ty)n 1",
        "n (ty)1",
        "n 1.5e3",
        "n 1.5E3",
        "n 1.5_0",
        "n 1.",
        "n 1.x",
        "n 1.0000000000000001",
        "n 1e3",
        "n 0x10",
        "n 0o7",
        "n 0b1",
        "n 1_000",
        "n 1234567890123456789",
        "n #inf",
        "n #-inf",
        "n #nan",
        "n #\"raw\"#",
        "n \"\"\"\n  multi\n  \"\"\"",
        "n true",
        "n null",
        "n -inf",
        "n +nan",
        "n -true",
        "n .5",
        "n -.5",
        "n x=.5",
        "n -1x",
        "/- n 1",
        "n /-1 2",
        "n /-{ }",
        "n 1 \\\n  2",
        "n \"a\\\n  b\"",
        "n \"a\\qb\"",
        "n \"\\u{d800}\"",
        "n \"\\u{1234567}\"",
        "n \"\\u{}\"",
        "n \"unterminated",
        "n \"new\nline\"",
        "a\rb",
        "a\u{85}b",
        "a\u{2028}b",
        "a\u{c}b",
        "a\u{b}b",
        "n\u{a0}1",
        "ñ 1",
        "n \"\u{200e}\"",
        "n \"\u{7f}\"",
        "n // \u{202a}\n",
        "a;;b",
        "a { b } c",
        "n {}{}",
        "n {} 1",
        "}",
        "n {",
        "n { m",
        "n 1=2",
        "n a=",
        "n a=\n1",
        "n =1",
        "n \"a\"b",
        "n a\"b\"",
        "n a#b",
        "n #truex",
        "n a=b=c",
        "n /* unterminated",
        "n 1x",
        "1 n",
        "{ n }",
        "n [1]",
    ];

    #[test]
    fn supported_snippets_take_the_fast_path_and_agree_with_the_crate() {
        for text in SUPPORTED {
            assert_eq!(agrees(text), Ok(true), "{text:?}");
        }
    }

    #[test]
    fn other_snippets_are_left_to_the_crate() {
        for text in BAILS {
            assert!(parse(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn deep_nesting_is_left_to_the_crate() {
        let text = format!("{}{}", "a {".repeat(100), "}".repeat(100));
        assert!(parse(&text).is_none());
    }

    /// Pieces of KDL-ish text, valid and invalid, in and out of the subset.
    const TOKENS: &[&str] = &[
        "a",
        "node",
        "key",
        "x-y.z",
        "_u",
        "true",
        "null",
        "inf",
        "-",
        "+x",
        ".5",
        "é",
        "\"s\"",
        "\"\"",
        "\"a\\nb\"",
        "\"\\u{48}\"",
        "\"\\u{d800}\"",
        "\"\\\"\"",
        "\"é ✓\"",
        "\"\\q\"",
        "\"\\\n\"",
        "0",
        "12",
        "-3",
        "+4",
        "1.5",
        "0x10",
        "1_000",
        "99999999999999999999",
        "#true",
        "#false",
        "#null",
        "#inf",
        "#x",
        "=",
        " ",
        " ",
        " ",
        "\t",
        "\n",
        "\n",
        "\r\n",
        ";",
        "{",
        "{",
        "}",
        "}",
        "// c\n",
        "//",
        "/* c */",
        "/*",
        "*/",
        "/* \n */",
        "/-",
        "(t)",
        "\\",
        "\"\"\"",
        "#\"r\"#",
    ];

    /// Single characters that mutations insert.
    const INSERTS: &[char] =
        &['"', '\\', '\r', '\n', '/', '*', '#', '=', '{', '}', ';', ' ', '0', 'a', '-', '.', '\u{85}', '\u{feff}', 'é'];

    /// Text with a few characters inserted (from `INSERTS`) or deleted.
    fn mutated(base: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
        let edits =
            prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(INSERTS), any::<bool>()), 0..3);
        (base, edits).prop_map(|(base, edits)| {
            let mut chars: Vec<char> = base.chars().collect();
            for (index, c, insert) in edits {
                if insert {
                    chars.insert(index.index(chars.len() + 1), c);
                } else if !chars.is_empty() {
                    chars.remove(index.index(chars.len()));
                }
            }
            chars.into_iter().collect()
        })
    }

    /// A run of `TOKENS`, mostly not a document.
    fn token_soup() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(TOKENS), 0..24).prop_map(|tokens| tokens.concat())
    }

    const NAMES: &[&str] = &["a", "node", "\"q n\"", "\"\"", "-", "x-y.z", "_z", "+w", "\"\\u{48}\\\"\""];
    const KEYS: &[&str] = &["k", "\"k k\"", "-", "key-2", "\"\""];
    const EQUALS: &[&str] = &["=", "=", " = ", "/*c*/=", "= ", "\t=\t"];
    const VALUES: &[&str] =
        &["1", "-2", "+3", "0", "\"s\"", "\"\\n\\u{e9}\\s\"", "#true", "#false", "#null", "ident", "\"é ✓\"", "\"\""];
    const SPACES: &[&str] = &[" ", " ", "\t", " /* c */ ", "/*x*/", "  ", ""];
    const TERMINATORS: &[&str] = &["\n", "\n", ";", "\r\n", " // c\n", ";\n", "\n\n", "\n/* c\n */\n"];

    /// A node head: a name and entries, separated by space that is sometimes missing.
    fn head() -> impl Strategy<Value = String> {
        let entry = (
            prop::option::of((prop::sample::select(KEYS), prop::sample::select(EQUALS))),
            prop::sample::select(VALUES),
        );
        let entries = prop::collection::vec((prop::sample::select(SPACES), entry), 0..4);
        (prop::sample::select(NAMES), entries, prop::sample::select(SPACES)).prop_map(|(name, entries, trailing)| {
            let mut text = name.to_string();
            for (space, (key, value)) in entries {
                text.push_str(space);
                if let Some((key, equals)) = key {
                    text.push_str(key);
                    text.push_str(equals);
                }
                text.push_str(value);
            }
            text.push_str(trailing);
            text
        })
    }

    /// A document in (or near) the subset: nodes with entries and nested children.
    fn document() -> impl Strategy<Value = String> {
        let node = head().prop_recursive(3, 32, 4, |inner| {
            let children = prop::collection::vec((inner, prop::sample::select(TERMINATORS)), 0..4);
            (head(), children, prop::sample::select(SPACES)).prop_map(|(head, children, trailing)| {
                let children: String = children.into_iter().map(|(node, end)| node + end).collect();
                format!("{head}{{{children}}}{trailing}")
            })
        });
        prop::collection::vec((prop::sample::select(SPACES), node, prop::sample::select(TERMINATORS)), 0..5)
            .prop_map(|nodes| nodes.into_iter().map(|(lead, node, end)| format!("{lead}{node}{end}")).collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

        #[test]
        fn fast_path_agrees_with_the_crate_on_kdlish_text(text in mutated(prop_oneof![token_soup(), document()])) {
            if let Err(error) = agrees(&text) {
                return Err(TestCaseError::fail(error));
            }
        }

        #[test]
        fn fast_path_never_panics_on_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let text = String::from_utf8_lossy(&bytes);
            if let Err(error) = agrees(&text) {
                return Err(TestCaseError::fail(error));
            }
        }
    }
}
