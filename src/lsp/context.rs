//! What is at the cursor, read from the text alone: the node names around it
//! and whether it sits on a node name, a property key or a value.
//!
//! An editor asks while the text is being typed, so it is often not valid
//! KDL (`secret=` with no value yet, an unterminated string): this scanner
//! is lenient where the parser is strict. It only delimits tokens and tracks
//! blocks; what a node takes comes from the readers (`lower::trace`).

use crate::lower::trace::Slot;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A bare word: identifier, number, `#true`.
    Word,
    /// A quoted or raw string, possibly unterminated.
    Str,
    /// `{`.
    Open,
    /// `}`.
    Close,
    /// `;` or a line break: the end of a node.
    End,
    /// `=`.
    Equals,
    /// `\`: the node goes on after the line break.
    Escline,
    /// `(type)`, `/-`: nothing the cursor context needs.
    Other,
    /// A line or block comment.
    Comment,
}

/// One token and where it is.
#[derive(Clone, Copy, Debug)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

/// What the token at the cursor is, or what would be written there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// A node's name; `parents` are the names of the nodes around it.
    NodeName {
        /// The enclosing nodes, outermost first.
        parents: Vec<String>,
    },
    /// A property key of the node at `path`.
    Key {
        /// The node's path of names, itself last.
        path: Vec<String>,
    },
    /// A value of the node at `path`.
    Value {
        /// The node's path of names, itself last.
        path: Vec<String>,
        /// Which value.
        slot: Slot,
    },
    /// Inside a comment, a type annotation or punctuation.
    Nothing,
}

/// The cursor's context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// What is (or would be) at the cursor.
    pub role: Role,
    /// The byte range of the token at the cursor (empty at the cursor when
    /// there is none): what a completion replaces.
    pub start: usize,
    /// End of that range.
    pub end: usize,
    /// The token's value: a string's content without quotes, a word as written.
    pub value: String,
}

/// The context of the byte offset `at` in `text`.
pub fn at(text: &str, at: usize) -> Cursor {
    let at = floor_char_boundary(text, at);
    let tokens = scan(text);
    let mut parents: Vec<String> = Vec::new();
    let mut node: Option<String> = None;
    let mut key: Option<String> = None;
    let mut args = 0;
    let mut escline = false;
    let none = |at| Cursor { role: Role::Nothing, start: at, end: at, value: String::new() };
    for (i, token) in tokens.iter().enumerate() {
        let touches = match token.kind {
            Kind::Word | Kind::Str => token.start <= at && at <= token.end,
            Kind::Comment => token.start < at && at <= token.end,
            Kind::Other => token.start < at && at < token.end,
            Kind::Equals => at == token.end && tokens.get(i + 1).is_none_or(|next| next.start > at),
            _ => false,
        };
        if !touches && token.start >= at {
            break;
        }
        let slice = &text[token.start..token.end];
        let role = match token.kind {
            Kind::Word | Kind::Str => match &node {
                None => Role::NodeName { parents: parents.clone() },
                Some(name) => {
                    let path: Vec<String> = parents.iter().cloned().chain([name.clone()]).collect();
                    let next = tokens[i + 1..].iter().find(|t| !matches!(t.kind, Kind::Other | Kind::Comment));
                    if next.is_some_and(|t| t.kind == Kind::Equals) {
                        Role::Key { path }
                    } else if let Some(k) = &key {
                        Role::Value { path, slot: Slot::Prop(k.clone()) }
                    } else if token.kind == Kind::Word && touches {
                        // A bare word being typed: most likely a key whose `=` is still to come.
                        Role::Key { path }
                    } else {
                        Role::Value { path, slot: Slot::Arg(args) }
                    }
                }
            },
            _ => Role::Nothing,
        };
        if touches {
            if token.kind == Kind::Equals && at == token.end {
                // Right after `key=`: the value is being written.
                if let (Some(name), Some(k)) = (&node, &key) {
                    let path = parents.iter().cloned().chain([name.clone()]).collect();
                    return Cursor { role: Role::Value { path, slot: Slot::Prop(k.clone()) }, ..none(at) };
                }
            }
            return Cursor { role, start: token.start, end: token.end, value: unquote(slice) };
        }
        match token.kind {
            Kind::Word | Kind::Str => match role {
                Role::NodeName { .. } => {
                    node = Some(unquote(slice));
                    key = None;
                    args = 0;
                }
                Role::Key { .. } => key = Some(unquote(slice)),
                Role::Value { slot: Slot::Prop(_), .. } => key = None,
                Role::Value { slot: Slot::Arg(_), .. } => args += 1,
                Role::Nothing => {}
            },
            Kind::Equals => {}
            Kind::Open => {
                parents.push(node.take().unwrap_or_default());
                key = None;
            }
            Kind::Close => {
                parents.pop();
                node = None;
                key = None;
            }
            Kind::End if escline => escline = false,
            Kind::End => {
                node = None;
                key = None;
            }
            Kind::Escline => escline = true,
            Kind::Other | Kind::Comment => {}
        }
    }
    // Between tokens: what the next token would be.
    let role = match (node, key) {
        (None, _) => Role::NodeName { parents },
        (Some(name), key) => {
            let path = parents.into_iter().chain([name]).collect();
            match key {
                Some(k) => Role::Value { path, slot: Slot::Prop(k) },
                None => Role::Key { path },
            }
        }
    };
    Cursor { role, ..none(at) }
}

/// `at` moved back to the start of the character it is in (and into the text).
pub fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// A string token's content: quotes and raw-string hashes removed, the
/// common escapes read. A word is returned as written.
pub fn unquote(token: &str) -> String {
    let hashes = token.len() - token.trim_start_matches('#').len();
    let body = &token[hashes..];
    if !body.starts_with('"') {
        return token.to_string();
    }
    let quotes = if body.starts_with("\"\"\"") { 3 } else { 1 };
    let inner = &body[quotes..];
    let closing = format!("{}{}", "\"".repeat(quotes), "#".repeat(hashes));
    let inner = inner.strip_suffix(closing.as_str()).unwrap_or(inner);
    if hashes > 0 {
        return inner.to_string();
    }
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Splits a text into tokens, comments and spaces left out.
fn scan(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let rest = &text[i..];
        let (kind, len) = match bytes[i] {
            b'\n' | b'\r' | b';' => (Some(Kind::End), 1),
            b'{' => (Some(Kind::Open), 1),
            b'}' => (Some(Kind::Close), 1),
            b'=' => (Some(Kind::Equals), 1),
            b'\\' => (Some(Kind::Escline), 1),
            b'(' => (Some(Kind::Other), rest.find(')').map_or(rest.len(), |e| e + 1)),
            b'/' if rest.starts_with("//") => (Some(Kind::Comment), rest.find(['\n', '\r']).unwrap_or(rest.len())),
            b'/' if rest.starts_with("/*") => {
                (Some(Kind::Comment), crate::fmt::block_comment(rest).unwrap_or(rest.len()))
            }
            b'/' if rest.starts_with("/-") => (Some(Kind::Other), 2),
            b'"' => (Some(Kind::Str), string(rest, 0)),
            b'#' if rest.trim_start_matches('#').starts_with('"') => {
                let hashes = rest.len() - rest.trim_start_matches('#').len();
                (Some(Kind::Str), string(rest, hashes))
            }
            c if c == b' ' || c == b'\t' => (None, 1),
            _ => {
                let c = rest.chars().next().unwrap_or(' ');
                if c.is_whitespace() {
                    (None, c.len_utf8())
                } else {
                    let end = rest
                        .find(|c: char| c.is_whitespace() || "{}();=\"\\".contains(c) || c == '/')
                        .unwrap_or(rest.len());
                    (Some(Kind::Word), end.max(c.len_utf8()))
                }
            }
        };
        let len = len.max(1);
        let mut end = (start + len).min(bytes.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        if let Some(kind) = kind {
            tokens.push(Token { kind, start, end });
        }
        i = end;
    }
    tokens
}

/// The length of a string at the start of `rest` whose opening quote
/// follows `hashes` hashes. A single-line string left open ends at the line
/// break; a multi-line one at the end of the text.
fn string(rest: &str, hashes: usize) -> usize {
    let body = &rest[hashes..];
    let multi = body.starts_with("\"\"\"");
    let open = if multi { 3 } else { 1 };
    let closing = format!("{}{}", if multi { "\"\"\"" } else { "\"" }, "#".repeat(hashes));
    let mut i = open;
    let bytes = body.as_bytes();
    while i < bytes.len() {
        if hashes == 0 && bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if !multi && (bytes[i] == b'\n' || bytes[i] == b'\r') {
            return hashes + i;
        }
        if bytes[i..].starts_with(closing.as_bytes()) {
            return hashes + i + closing.len();
        }
        i += 1;
    }
    rest.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(marked: &str) -> Cursor {
        let at = marked.find('|').expect("a cursor");
        let text = marked.replacen('|', "", 1);
        super::at(&text, at)
    }

    fn path(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn node_names_top_level_and_in_blocks() {
        assert_eq!(cursor("|").role, Role::NodeName { parents: vec![] });
        assert_eq!(cursor("ap|").role, Role::NodeName { parents: vec![] });
        assert_eq!(cursor("app \"a\" {\n    ima|\n}").role, Role::NodeName { parents: path(&["app"]) });
        assert_eq!(cursor("app \"a\" {\n    image \"x\"\n    |\n}").role, Role::NodeName { parents: path(&["app"]) });
        assert_eq!(cursor("app \"a\" {\n}\n|").role, Role::NodeName { parents: vec![] });
        assert_eq!(cursor("a { b { c; } ; |").role, Role::NodeName { parents: path(&["a"]) });
    }

    #[test]
    fn keys_and_values() {
        let c = cursor("app \"a\" {\n    image \"x\" reg|\n}");
        assert_eq!((c.role, c.value.as_str()), (Role::Key { path: path(&["app", "image"]) }, "reg"));
        assert_eq!(cursor("app \"a\" {\n    image \"x\" |").role, Role::Key { path: path(&["app", "image"]) });
        let value = Role::Value { path: path(&["app", "image"]), slot: Slot::Prop("registry".into()) };
        assert_eq!(cursor("app \"a\" {\n    image \"x\" registry=|").role, value);
        let c = cursor("app \"a\" {\n    image \"x\" registry=\"lo|");
        assert_eq!((c.role.clone(), c.value.as_str()), (value.clone(), "lo"));
        assert_eq!(cursor("app \"a\" {\n    image \"x\" registry=\"lo|cal\" tag=\"1\"\n}").value, "local");
        let arg = Role::Value { path: path(&["app"]), slot: Slot::Arg(0) };
        assert_eq!(cursor("app \"w|eb\" {").role, arg);
        assert_eq!(cursor("// app |\n").role, Role::Nothing);
        assert_eq!(cursor("// a|pp\n").role, Role::Nothing);
        assert_eq!(cursor("app \"a\" {\n    |image \"x\"\n}").value, "image");
        let c = cursor("app \"a\" {\n    image \"x\" registry=|\"local\"\n}");
        assert_eq!(c.value, "local");
        assert_eq!(cursor("a \\\n  b=|").role, Role::Value { path: path(&["a"]), slot: Slot::Prop("b".into()) });
    }

    #[test]
    fn any_offset_of_any_text_is_read_without_panicking() {
        let texts = [
            "app \"é😀\" {\n    image \"ü\" registry=\"ß",
            "a #\"raw \" é\"# b=##\"x\"## /* é /* ü */ */ c \"\"\"\n é\n\"\"\" d=\"\\é\"",
            "(t)a (u)\"b\"=(v)1 /- c { } } } ; \\\r\n x=",
            "\"\\",
            "#",
            "#\"",
            "/",
            "/*",
            "(",
            "é",
            "}{",
            "a=b=c",
            "\"\"\"é",
        ];
        for text in texts {
            for at in 0..=text.len() + 1 {
                let cursor = super::at(text, at);
                assert!(cursor.start <= cursor.end && cursor.end <= text.len(), "{text:?} at {at}: {cursor:?}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_and_offset(text in "[a-z \"#=/*(){};\\\n\r\u{e9}\u{1F600}-]{0,40}", at in 0usize..50) {
            let cursor = super::at(&text, at);
            proptest::prop_assert!(cursor.end <= text.len());
        }
    }

    #[test]
    fn strings_unquoted() {
        assert_eq!(unquote("\"a\\\"b\""), "a\"b");
        assert_eq!(unquote("#\"raw\\n\"#"), "raw\\n");
        assert_eq!(unquote("bare"), "bare");
        assert_eq!(unquote("\"open"), "open");
    }
}
