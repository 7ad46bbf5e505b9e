//! KDL v1 tokens rewritten as KDL v2 tokens of the same value: `true` is
//! `#true`, `r#"raw"#` is `#"raw"#`, `\/` is `/`, a quoted string that spans
//! lines becomes a `"""` string, an identifier v2 does not allow bare is
//! quoted. Strings stay quoted as the author wrote them.
//!
//! Every rewritten string is read back by the kdl crate and compared with
//! the v1 value; where they differ, the value is written as an escaped
//! quoted string, which always reads back the same.

use kdl::{KdlDocument, KdlValue};

use super::lex::is_newline;
use crate::edit::quote;

/// The v2 spelling of a v1 word: a string, or else a bare identifier when
/// it is a `name` (of a node, a property or a type), or a keyword or number
/// when it is a value.
pub(super) fn word(text: &str, name: bool) -> String {
    match text {
        _ if text.starts_with('"') => string(text, quoted_candidate(text)),
        _ if text.starts_with('r') && text[1..].trim_start_matches('#').starts_with('"') => {
            string(text, raw_candidate(text))
        }
        _ if name => identifier(text),
        "true" | "false" | "null" => format!("#{text}"),
        _ if is_number(text) => text.to_string(),
        _ => identifier(text),
    }
}

/// A string's candidate spelling if it reads back as the v1 value, else the
/// value quoted and escaped. A string the v1 parser cannot read is left as it
/// is (the formatter's final check then refuses the file).
fn string(text: &str, candidate: String) -> String {
    let Some(value) = argument(KdlDocument::parse_v1(&format!("_ {text}"))) else {
        return text.to_string();
    };
    if argument(KdlDocument::parse_v2(&format!("_ {candidate}"))).as_ref() == Some(&value) {
        candidate
    } else {
        quote(&value)
    }
}

/// The string value of the only argument of the only node.
fn argument(parsed: Result<KdlDocument, kdl::KdlError>) -> Option<String> {
    let doc = parsed.ok()?;
    match doc.nodes() {
        [node] => match node.entries() {
            [entry] if entry.name().is_none() => match entry.value() {
                KdlValue::String(s) => Some(s.clone()),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// `"..."`: `\/` is no escape in v2; a string spanning lines becomes `"""`.
fn quoted_candidate(text: &str) -> String {
    let mut fixed = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            fixed.push(c);
            continue;
        }
        match chars.next() {
            Some('/') => fixed.push('/'),
            Some(next) => {
                fixed.push('\\');
                fixed.push(next);
            }
            None => fixed.push('\\'),
        }
    }
    if fixed.contains(is_newline) {
        let inner = &fixed[1..fixed.len() - 1];
        format!("\"\"\"\n{inner}\n\"\"\"")
    } else {
        fixed
    }
}

/// `r#"..."#`: v2 raw strings carry at least one `#` and no `r`.
fn raw_candidate(text: &str) -> String {
    let hashes = text[1..].bytes().take_while(|&b| b == b'#').count();
    let inner = &text[2 + hashes..text.len() - 1 - hashes];
    let fence = "#".repeat(hashes.max(1));
    if inner.contains(is_newline) {
        format!("{fence}\"\"\"\n{inner}\n\"\"\"{fence}")
    } else {
        format!("{fence}\"{inner}\"{fence}")
    }
}

/// Whether a v1 word is a number: a digit, maybe after a sign.
fn is_number(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    digits.starts_with(|c: char| c.is_ascii_digit())
}

/// A v1 bare identifier, kept bare where v2 reads it as the same name.
fn identifier(text: &str) -> String {
    let bare = KdlDocument::parse_v2(text).is_ok_and(|doc| match doc.nodes() {
        [node] => node.name().value() == text && node.entries().is_empty() && node.children().is_none(),
        _ => false,
    });
    if bare { text.to_string() } else { quote(text) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> String {
        word(text, false)
    }

    #[test]
    fn keywords_take_a_hash() {
        assert_eq!(value("true"), "#true");
        assert_eq!(value("false"), "#false");
        assert_eq!(value("null"), "#null");
    }

    #[test]
    fn strings_stay_quoted_and_lose_the_slash_escape() {
        assert_eq!(value("\"demo\""), "\"demo\"");
        assert_eq!(value(r#""a\/b""#), r#""a/b""#);
        assert_eq!(value(r#""a\\/b""#), r#""a\\/b""#);
        assert_eq!(value(r#""tab\tq\"""#), r#""tab\tq\"""#);
    }

    #[test]
    fn raw_strings_take_a_hash() {
        assert_eq!(value(r#"r"C:\x""#), r##"#"C:\x"#"##);
        assert_eq!(value(r###"r##"a"#b"##"###), r###"##"a"#b"##"###);
    }

    #[test]
    fn a_string_spanning_lines_reads_back_the_same() {
        for v1 in ["\"one\ntwo\"", "\"  indented\n  lines\n\"", "r#\"raw\nlines\"#", "\"crlf\r\nline\""] {
            let v2 = value(v1);
            let value = argument(KdlDocument::parse_v1(&format!("_ {v1}")));
            assert_eq!(argument(KdlDocument::parse_v2(&format!("_ {v2}"))), value, "{v1} became {v2}");
        }
    }

    #[test]
    fn numbers_and_identifiers() {
        assert_eq!(value("-1_000.5e3"), "-1_000.5e3");
        assert_eq!(value("0x1F"), "0x1F");
        assert_eq!(word("node-name", true), "node-name");
        assert_eq!(word("a#b", true), "\"a#b\"");
        assert_eq!(word("inf", true), "\"inf\"");
        assert_eq!(word("-1.5e3", true), "\"-1.5e3\"");
    }

    #[test]
    fn quoting_escapes_what_a_v2_string_may_not_hold() {
        assert_eq!(quote("a\"b\\c\nd\u{85}"), r#""a\"b\\c\nd\u{85}""#);
    }
}
