//! A value given on the command line, written as a KDL token.
//!
//! A replaced value keeps its type where the new text allows it: a string stays
//! a string (bare only when it was bare and may stay so), a number stays a
//! number when the text is one, a boolean stays a boolean. Text that does not
//! fit the old type becomes a string, and the schema check that follows every
//! edit decides whether the declaration accepts it (a quantity such as `cpu=2`
//! takes `"500m"`, a replica count does not). An inserted property is a
//! string unless the text is a plain integer or `true`/`false`.

use kdl::KdlValue;

/// A rendered value: the token to write and the value KDL will read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// The text written into the file (`"sha-1a2b3c4"`, `8`, `#true`).
    pub text: String,
    /// What a KDL parser reads from `text`.
    pub value: KdlValue,
}

/// The token replacing `old`, written as `old_repr`, in a file of the given dialect.
pub fn replacing(input: &str, old: &KdlValue, old_repr: &str, v1: bool) -> Token {
    match old {
        KdlValue::String(_) => string(input, is_bare_identifier(old_repr) && !v1),
        KdlValue::Integer(_) => integer(input).unwrap_or_else(|| string(input, false)),
        KdlValue::Float(_) => float(input).or_else(|| integer(input)).unwrap_or_else(|| string(input, false)),
        KdlValue::Bool(_) => boolean(input, v1).unwrap_or_else(|| string(input, false)),
        KdlValue::Null => inserted(input, v1),
    }
}

/// The token of a new property: an integer, a boolean, or else a string.
pub fn inserted(input: &str, v1: bool) -> Token {
    integer(input).or_else(|| boolean(input, v1)).unwrap_or_else(|| string(input, false))
}

/// A property name as written before `=`: bare when it may be, else quoted.
pub fn key(name: &str) -> String {
    if is_bare_identifier(name) { name.to_string() } else { quote(name) }
}

/// A string token, bare when `bare` allows it and the text is an identifier.
fn string(input: &str, bare: bool) -> Token {
    let text = if bare && is_bare_identifier(input) { input.to_string() } else { quote(input) };
    Token { text, value: KdlValue::String(input.to_string()) }
}

/// A plain decimal integer (`8`, `-3`), written canonically.
fn integer(input: &str) -> Option<Token> {
    let digits = input.strip_prefix(['-', '+']).unwrap_or(input);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let i: i64 = input.parse().ok()?;
    Some(Token { text: i.to_string(), value: KdlValue::Integer(i.into()) })
}

/// A plain decimal number with a fraction or exponent (`1.5`, `2e3`).
fn float(input: &str) -> Option<Token> {
    let unsigned = input.strip_prefix('-').unwrap_or(input);
    let plain = unsigned.starts_with(|c: char| c.is_ascii_digit())
        && unsigned.ends_with(|c: char| c.is_ascii_digit())
        && unsigned.contains(['.', 'e', 'E'])
        && unsigned.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    let f: f64 = input.parse().ok().filter(|f: &f64| plain && f.is_finite())?;
    Some(Token { text: input.to_string(), value: KdlValue::Float(f) })
}

/// `#true`/`#false` (or `true`/`false` in a KDL v1 file), from either spelling.
fn boolean(input: &str, v1: bool) -> Option<Token> {
    let b = match input {
        "true" | "#true" => true,
        "false" | "#false" => false,
        _ => return None,
    };
    let text = match (v1, b) {
        (true, b) => b.to_string(),
        (false, b) => format!("#{b}"),
    };
    Some(Token { text, value: KdlValue::Bool(b) })
}

/// A quoted KDL string. The escapes used are common to KDL v1 and v2; every
/// character a quoted string may not hold literally is written `\u{...}`.
/// `set` writes values with it, `fmt` the strings it rewrites from v1.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{C}' => out.push_str("\\f"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Control characters, KDL's newlines and the code points KDL v2 forbids.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200E}' | '\u{200F}' | '\u{FEFF}')
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// Whether a KDL v2 identifier string may be written bare.
fn is_bare_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else { return false };
    let second = chars.next();
    let looks_numeric = first.is_ascii_digit()
        || (matches!(first, '+' | '-' | '.') && second.is_some_and(|c| c.is_ascii_digit()))
        || (matches!(first, '+' | '-') && second == Some('.') && s.chars().nth(2).is_some_and(|c| c.is_ascii_digit()));
    let reserved = matches!(s, "true" | "false" | "null" | "inf" | "-inf" | "nan");
    let allowed = s.chars().all(|c| {
        !c.is_whitespace()
            && !needs_escape(c)
            && !matches!(c, '\\' | '/' | '(' | ')' | '{' | '}' | ';' | '[' | ']' | '"' | '#' | '=')
    });
    !looks_numeric && !reserved && allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> KdlValue {
        KdlValue::String(v.into())
    }

    #[test]
    fn strings_stay_strings() {
        let t = replacing("sha-1a2b3c4", &s("sha-0"), "\"sha-0\"", false);
        assert_eq!(t, Token { text: "\"sha-1a2b3c4\"".into(), value: s("sha-1a2b3c4") });
        // A number given for a string stays a string.
        assert_eq!(replacing("8", &s("x"), "\"x\"", false).text, "\"8\"");
    }

    #[test]
    fn bare_strings_stay_bare_only_when_they_may() {
        assert_eq!(replacing("node", &s("zone"), "zone", false).text, "node");
        assert_eq!(replacing("a b", &s("zone"), "zone", false).text, "\"a b\"");
        assert_eq!(replacing("1abc", &s("zone"), "zone", false).text, "\"1abc\"");
        assert_eq!(replacing("true", &s("zone"), "zone", false).text, "\"true\"");
        assert_eq!(replacing("node", &s("zone"), "\"zone\"", false).text, "\"node\"");
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(quote("say \"hi\"\\n"), r#""say \"hi\"\\n""#);
        assert_eq!(quote("a\nb\tc"), r#""a\nb\tc""#);
        assert_eq!(quote("\u{7}\u{feff}é"), "\"\\u{7}\\u{feff}é\"");
        assert_eq!(key("tag"), "tag");
        assert_eq!(key("a=b"), "\"a=b\"");
    }

    #[test]
    fn numbers_and_booleans_keep_their_type() {
        let int = KdlValue::Integer(8);
        assert_eq!(replacing("3", &int, "8", false), Token { text: "3".into(), value: KdlValue::Integer(3) });
        assert_eq!(replacing("-03", &int, "8", false).text, "-3");
        // Not a number: a string, which the schema check then judges.
        assert_eq!(replacing("abc", &int, "8", false).value, s("abc"));
        assert_eq!(replacing("1.5", &KdlValue::Float(2.0), "2.0", false).value, KdlValue::Float(1.5));
        let yes = KdlValue::Bool(true);
        assert_eq!(replacing("false", &yes, "#true", false).text, "#false");
        assert_eq!(replacing("#false", &yes, "#true", false).text, "#false");
        assert_eq!(replacing("false", &yes, "true", true).text, "false");
        assert_eq!(replacing("no", &yes, "#true", false).text, "\"no\"");
    }

    #[test]
    fn inserted_values_are_strings_unless_plainly_numbers_or_booleans() {
        assert_eq!(inserted("amd64", false).text, "\"amd64\"");
        assert_eq!(inserted("80", false).value, KdlValue::Integer(80));
        assert_eq!(inserted("true", false).text, "#true");
        assert_eq!(inserted("1.5", false).text, "\"1.5\"");
        assert_eq!(inserted("99999999999999999999", false).text, "\"99999999999999999999\"");
    }
}
