//! The tokens of a KDL file as written: every byte belongs to one token, so
//! that the formatter can lay them out again without losing a comment.
//!
//! The lexer only delimits tokens (strings, comments, punctuation); it never
//! decides whether a file is valid KDL. It runs on text the kdl crate has
//! parsed already, and the formatter's result is parsed again by the crate.

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// Spaces, tabs and the other Unicode spaces (and a byte-order mark).
    Space,
    /// One line break: CRLF, LF, CR, NEL, VT, FF, LS or PS.
    Newline,
    /// `// ...` up to the line break, which is not part of it.
    LineComment,
    /// `/* ... */`, nested.
    BlockComment,
    /// `/-`: the next node, entry or children block is a comment.
    Slashdash,
    /// `\`: a line continuation.
    Escline,
    /// `{`.
    Open,
    /// `}`.
    Close,
    /// `;`.
    Semicolon,
    /// `=`.
    Equals,
    /// `(`.
    OpenParen,
    /// `)`.
    CloseParen,
    /// A string (quoted, multi-line or raw), a number, a keyword or a bare
    /// identifier, as written.
    Word,
}

use Dialect::{V1, V2};

/// Which KDL the text is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dialect {
    /// KDL v2: `#true`, `#"raw"#`, `"""` multi-line strings.
    V2,
    /// KDL v1: `true`, `r#"raw"#`, quoted strings may span lines.
    V1,
}

/// One token and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Token<'a> {
    /// What it is.
    pub kind: Kind,
    /// Its bytes as written.
    pub text: &'a str,
}

/// Splits `text` into tokens. Fails only on what no KDL parser accepts (an
/// unterminated string or comment).
pub(super) fn lex(text: &str, dialect: Dialect) -> Result<Vec<Token<'_>>, String> {
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        let (kind, len) = next(rest, dialect).ok_or_else(|| format!("cannot read the token at byte {at}"))?;
        tokens.push(Token { kind, text: &rest[..len] });
        at += len;
    }
    Ok(tokens)
}

/// Whether `c` breaks a line.
pub(super) fn is_newline(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{0B}' | '\u{0C}' | '\u{2028}' | '\u{2029}')
}

/// Whether `c` is white space within a line.
fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' | '\u{FEFF}'
    )
}

/// Whether `c` ends a bare word.
fn ends_word(c: char) -> bool {
    is_space(c) || is_newline(c) || matches!(c, '\\' | '/' | '(' | ')' | '{' | '}' | ';' | '[' | ']' | '=' | '"')
}

/// The kind and byte length of the token at the start of `rest` (not empty).
fn next(rest: &str, dialect: Dialect) -> Option<(Kind, usize)> {
    let c = rest.chars().next()?;
    let single = |kind| Some((kind, c.len_utf8()));
    match c {
        '\r' if rest.starts_with("\r\n") => Some((Kind::Newline, 2)),
        c if is_newline(c) => single(Kind::Newline),
        c if is_space(c) => Some((Kind::Space, rest.find(|c| !is_space(c)).unwrap_or(rest.len()))),
        '/' if rest.starts_with("//") => Some((Kind::LineComment, rest.find(is_newline).unwrap_or(rest.len()))),
        '/' if rest.starts_with("/*") => block_comment(rest).map(|len| (Kind::BlockComment, len)),
        '/' if rest.starts_with("/-") => Some((Kind::Slashdash, 2)),
        '\\' => single(Kind::Escline),
        '{' => single(Kind::Open),
        '}' => single(Kind::Close),
        ';' => single(Kind::Semicolon),
        '=' => single(Kind::Equals),
        '(' => single(Kind::OpenParen),
        ')' => single(Kind::CloseParen),
        _ => word(rest, dialect).map(|len| (Kind::Word, len)),
    }
}

/// The length of a nested block comment at the start of `rest`, `None`
/// when it is not closed (the language server reads this too).
pub(crate) fn block_comment(rest: &str) -> Option<usize> {
    let bytes = rest.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// The length of the string, number, keyword or identifier at the start.
fn word(rest: &str, dialect: Dialect) -> Option<usize> {
    let hashes_after = |prefix: usize| rest[prefix..].bytes().take_while(|&b| b == b'#').count();
    match dialect {
        V2 if rest.starts_with("\"\"\"") => multi_line(rest, 3),
        _ if rest.starts_with('"') => quoted(rest),
        V2 if rest.starts_with('#') => {
            let hashes = hashes_after(0);
            if rest[hashes..].starts_with('"') { raw(rest, hashes, hashes, true) } else { Some(bare(rest)) }
        }
        V1 if rest.starts_with('r') => {
            let hashes = hashes_after(1);
            if rest[1 + hashes..].starts_with('"') { raw(rest, 1 + hashes, hashes, false) } else { Some(bare(rest)) }
        }
        _ => Some(bare(rest)),
    }
}

/// A bare word: up to the first character that ends one.
fn bare(rest: &str) -> usize {
    rest.find(ends_word).unwrap_or(rest.len()).max(rest.chars().next().map_or(0, char::len_utf8))
}

/// A quoted string with escapes (v1 quoted strings may span lines).
fn quoted(rest: &str) -> Option<usize> {
    let bytes = rest.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// A v2 multi-line string: from `"""` to the next unescaped `"""`.
fn multi_line(rest: &str, open: usize) -> Option<usize> {
    let bytes = rest.as_bytes();
    let mut i = open;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
        } else if bytes[i..].starts_with(b"\"\"\"") {
            return Some(i + 3);
        } else {
            i += 1;
        }
    }
    None
}

/// A raw string whose opening quote is at `quote` and whose delimiters carry
/// `hashes` hashes: `#"..."#`, `#"""..."""#` (`multi_line` allows it), or
/// v1's `r#"..."#`.
fn raw(rest: &str, quote: usize, hashes: usize, multi_line: bool) -> Option<usize> {
    let close = format!("\"{}", "#".repeat(hashes));
    let body = quote + 1;
    if multi_line && rest[quote..].starts_with("\"\"\"") {
        let close = format!("\"\"\"{}", "#".repeat(hashes));
        return rest[quote + 3..].find(&close).map(|i| quote + 3 + i + close.len());
    }
    rest[body..].find(&close).map(|i| body + i + close.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str, dialect: Dialect) -> Vec<(Kind, &str)> {
        lex(text, dialect).unwrap().into_iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn every_byte_is_in_one_token() {
        let text = "a \"x//y\" /* 1 /* 2 */ */ #\"r\"\"# /-k=(t)#true \\ // c\r\n}\u{2028}";
        let tokens = lex(text, Dialect::V2).unwrap();
        assert_eq!(tokens.iter().map(|t| t.text).collect::<String>(), text);
        assert_eq!(
            tokens.iter().filter(|t| t.kind != Kind::Space).map(|t| t.text).collect::<Vec<_>>(),
            [
                "a",
                "\"x//y\"",
                "/* 1 /* 2 */ */",
                "#\"r\"\"#",
                "/-",
                "k",
                "=",
                "(",
                "t",
                ")",
                "#true",
                "\\",
                "// c",
                "\r\n",
                "}",
                "\u{2028}"
            ]
        );
    }

    #[test]
    fn multi_line_and_raw_strings_are_one_word() {
        let text = "\"\"\"\n  a \\\"\"\" b\n  \"\"\" ##\"\"\"\n\"#\n\"\"\"##";
        assert_eq!(
            kinds(text, Dialect::V2),
            [
                (Kind::Word, "\"\"\"\n  a \\\"\"\" b\n  \"\"\""),
                (Kind::Space, " "),
                (Kind::Word, "##\"\"\"\n\"#\n\"\"\"##")
            ]
        );
    }

    #[test]
    fn v1_raw_strings_and_multi_line_quotes() {
        assert_eq!(
            kinds("r#\"a\"b\"# \"x\ny\" rust", Dialect::V1),
            [
                (Kind::Word, "r#\"a\"b\"#"),
                (Kind::Space, " "),
                (Kind::Word, "\"x\ny\""),
                (Kind::Space, " "),
                (Kind::Word, "rust")
            ]
        );
    }

    #[test]
    fn an_unterminated_string_is_refused() {
        assert!(lex("a \"b", Dialect::V2).is_err());
        assert!(lex("/* a", Dialect::V2).is_err());
    }
}
