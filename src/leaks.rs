//! What a credential looks like inside a string: a password in a URL
//! (`postgres://admin:pw@db`), a JSON Web Token, a private key block, a token
//! with a well-known prefix (`ghp_…`, `glpat-…`, `AKIA…`), and, in a command
//! line, a password given to a flag (`--db-password=…`, `docker login -p …`).
//!
//! The security checks apply it to every string of the description that
//! reaches the output, the check of the output to every string of every
//! object and file the build writes, and [`crate::diag::redact`] to what a
//! diagnostic quotes. A finding says what was found and never holds the value.

use std::fmt::Write as _;
use std::sync::LazyLock;

/// A kind of credential found in a string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leak {
    /// `scheme://user:password@host`.
    UrlPassword,
    /// A JSON Web Token (`eyJ….eyJ….…`).
    Jwt,
    /// A `-----BEGIN … PRIVATE KEY-----` block.
    PrivateKey,
    /// A token with a well-known prefix; what it is.
    Token(&'static str),
    /// A password or token given to a command-line flag.
    PasswordFlag,
}

impl Leak {
    /// What was found, for messages: "a password inside a URL".
    pub fn what(self) -> &'static str {
        match self {
            Leak::UrlPassword => "a password inside a URL",
            Leak::Jwt => "a JSON Web Token",
            Leak::PrivateKey => "a private key",
            Leak::Token(what) => what,
            Leak::PasswordFlag => "a password given on the command line",
        }
    }
}

/// Prefixes of well-known tokens, the least number of characters that follow
/// them, and what they are.
const TOKENS: &[(&str, usize, &str)] = &[
    ("ghp_", 30, "a GitHub token"),
    ("gho_", 30, "a GitHub token"),
    ("ghu_", 30, "a GitHub token"),
    ("ghs_", 30, "a GitHub token"),
    ("ghr_", 30, "a GitHub token"),
    ("github_pat_", 30, "a GitHub token"),
    ("glpat-", 20, "a GitLab token"),
    ("AKIA", 16, "an AWS access key"),
    ("ASIA", 16, "an AWS access key"),
    ("xoxb-", 12, "a Slack token"),
    ("xoxp-", 12, "a Slack token"),
    ("xoxa-", 12, "a Slack token"),
    ("xoxs-", 12, "a Slack token"),
    ("sk_live_", 16, "a Stripe key"),
    ("rk_live_", 16, "a Stripe key"),
    ("sk-ant-", 32, "an Anthropic API key"),
    ("sk-proj-", 32, "an OpenAI API key"),
    ("AIza", 35, "a Google API key"),
    ("npm_", 36, "an npm token"),
    ("pypi-AgE", 40, "a PyPI token"),
    ("hf_", 30, "a Hugging Face token"),
    ("dop_v1_", 40, "a DigitalOcean token"),
    ("SG.", 40, "a SendGrid key"),
];

/// The fewest bytes a JSON Web Token takes: `eyJ` and eight, `.eyJ` and
/// eight, `.` and eight ([`jwt_from`]).
const SHORTEST_JWT: usize = 3 + 8 + 4 + 8 + 1 + 8;

/// The fewest bytes a private key's first line takes ([`key_from`]).
const SHORTEST_KEY: usize = "-----BEGIN PRIVATE KEY-----".len();

/// The fewest bytes any shape but a URL takes: a token's prefix and its
/// shortest body, a JSON Web Token, a private key's first line.
const SHORTEST_BUT_URL: usize = {
    let mut shortest = if SHORTEST_JWT < SHORTEST_KEY { SHORTEST_JWT } else { SHORTEST_KEY };
    let mut i = 0;
    while i < TOKENS.len() {
        let token = TOKENS[i].0.len() + TOKENS[i].1;
        if token < shortest {
            shortest = token;
        }
        i += 1;
    }
    shortest
};

/// The first credential in a string, if any.
///
/// One pass from left to right, as a regular expression with the four
/// shapes as alternatives would find them (the leftmost first, a URL before
/// the others where two start at one place), written out by hand: the
/// pattern took longer to compile than a seed-sized homelab takes to check.
/// A URL whose password is a reference (`$(DB_PASSWORD)`) is passed over
/// whole, and the search goes on after it.
pub fn find(text: &str) -> Option<Leak> {
    // Most strings hold nothing of the sort: most are shorter than any shape
    // but a URL, which needs an `@`; of the others, most have none of the
    // characters the shapes are made of (ASCII: looked for as bytes, which
    // are never part of a longer character's UTF-8).
    let bytes = text.as_bytes();
    let at_sign = memchr::memchr(b'@', bytes).is_some();
    if text.len() < SHORTEST_BUT_URL && !at_sign {
        return None;
    }
    if !bytes.iter().any(|&b| matches!(b, b':' | b'.' | b'-' | b'_'))
        && !memchr::memchr_iter(b'A', bytes)
            .any(|at| matches!(bytes.get(at + 1..at + 4), Some(b"KIA" | b"SIA" | b"Iza")))
    {
        return None;
    }
    // The first place a shape but a URL starts at, from `from` on. Where it
    // is, and whether it is one, depends on the bytes from it on: once found,
    // it stays the first until the search passes it.
    let others = |from| {
        [jwt_from(bytes, from), key_from(bytes, from), token_from(bytes, from)]
            .into_iter()
            .flatten()
            .min_by_key(|(start, _)| *start)
    };
    // A URL's password ends at an `@`: without one, the first other shape is the answer.
    if !at_sign {
        return others(0).map(|(_, leak)| leak);
    }
    let mut from = 0;
    let mut other = others(from);
    loop {
        // The leftmost shape wins, a URL before the others at one place.
        let url = url_from(text, from);
        if other.is_some_and(|(start, _)| start < from) {
            other = others(from);
        }
        match (url, other) {
            (Some(url), other) if other.is_none_or(|(start, _)| url.start <= start) => {
                // What follows the last `:` is taken for the password.
                let password = &text[url.password];
                if is_literal(password.rsplit_once(':').map_or(password, |(_, last)| last)) {
                    return Some(Leak::UrlPassword);
                }
                from = url.end;
            }
            (_, Some((_, leak))) => return Some(leak),
            (_, None) => return None,
        }
    }
}

/// A `scheme://user:password@` found in a string: where it starts and ends
/// (after the `@`), and where its password is.
struct Url {
    start: usize,
    end: usize,
    password: std::ops::Range<usize>,
}

/// `user:password@` at `at`: where the password is and where the `@` ends.
/// The user name runs to the first `:`, the password to the `@`; neither
/// holds whitespace, `/`, `?`, `#`, `@` or a quote, the user name no `:`,
/// and the password is not empty.
fn userinfo(text: &str, at: usize) -> Option<(std::ops::Range<usize>, usize)> {
    let stop = |c: char, colon: bool| {
        c.is_whitespace() || matches!(c, '/' | '?' | '#' | '@' | '"' | '\'' | '`') || (colon && c == ':')
    };
    let rest = text.get(at..)?;
    let colon = at + rest.find(|c| stop(c, true))?;
    if !text[colon..].starts_with(':') {
        return None;
    }
    let start = colon + 1;
    let at_sign = start + text[start..].find(|c| stop(c, false))?;
    (text[at_sign..].starts_with('@') && at_sign > start).then_some((start..at_sign, at_sign + 1))
}

/// The first `scheme://user:password@` starting at or after `from`.
fn url_from(text: &str, from: usize) -> Option<Url> {
    let bytes = text.as_bytes();
    let scheme = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-');
    let mut search = from;
    while let Some(found) = find_bytes(&bytes[search..], &SCHEME_END) {
        let colon = search + found;
        // The scheme: the first letter of the run of scheme characters
        // before `://` (not before `from`).
        let mut run = colon;
        while run > from && scheme(bytes[run - 1]) {
            run -= 1;
        }
        if let Some(first) = (run..colon).find(|&i| bytes[i].is_ascii_alphabetic())
            && let Some((password, end)) = userinfo(text, colon + 3)
        {
            return Some(Url { start: first, end, password });
        }
        search = colon + 1;
    }
    None
}

/// Whether a byte is one of base64url's (`[A-Za-z0-9_-]`).
fn base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// How many bytes from `at` on satisfy `class`.
fn run(bytes: &[u8], at: usize, class: impl Fn(u8) -> bool) -> usize {
    bytes[at.min(bytes.len())..].iter().take_while(|&&b| class(b)).count()
}

/// The first JSON Web Token (`eyJ….eyJ….…`, each part eight characters or
/// more) starting at or after `from`.
fn jwt_from(bytes: &[u8], from: usize) -> Option<(usize, Leak)> {
    let mut search = from;
    while let Some(found) = find_bytes(&bytes[search..], &JWT_START) {
        let start = search + found;
        let header = start + 3 + run(bytes, start + 3, base64url);
        let is_jwt = header >= start + 11 && bytes.get(header..header + 4) == Some(b".eyJ") && {
            let payload = header + 4 + run(bytes, header + 4, base64url);
            payload >= header + 12 && bytes.get(payload) == Some(&b'.') && run(bytes, payload + 1, base64url) >= 8
        };
        if is_jwt {
            return Some((start, Leak::Jwt));
        }
        search = start + 1;
    }
    None
}

/// What a private key's first line starts with.
const KEY_BEGIN_TEXT: &[u8] = b"-----BEGIN ";

/// The first `-----BEGIN … PRIVATE KEY-----` (or `PRIVATE KEY BLOCK`, the
/// words before it capitals, digits and spaces) starting at or after `from`.
fn key_from(bytes: &[u8], from: usize) -> Option<(usize, Leak)> {
    let mut search = from;
    while let Some(found) = find_bytes(&bytes[search..], &KEY_BEGIN) {
        let start = search + found;
        let words = start + KEY_BEGIN_TEXT.len();
        let end = words + run(bytes, words, |b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ');
        let label = &bytes[words..end];
        if (label.ends_with(b"PRIVATE KEY") || label.ends_with(b"PRIVATE KEY BLOCK"))
            && bytes[end..].starts_with(b"-----")
        {
            return Some((start, Leak::PrivateKey));
        }
        search = start + 1;
    }
    None
}

/// The first well-known token (one of [`TOKENS`], at the start of the string
/// or after a character that is not a letter, a digit or `_`) whose match
/// starts at or after `from`; the match starts at that character.
fn token_from(bytes: &[u8], from: usize) -> Option<(usize, Leak)> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let body = |b: u8| word(b) || b == b'.' || b == b'-';
    // For each byte, the tokens that start with it: bit `i` for `TOKENS[i]`.
    const FIRST: [u32; 256] = {
        assert!(TOKENS.len() <= 32);
        let mut first = [0; 256];
        let mut i = 0;
        while i < TOKENS.len() {
            first[TOKENS[i].0.as_bytes()[0] as usize] |= 1 << i;
            i += 1;
        }
        first
    };
    for at in from..bytes.len() {
        let mut candidates = FIRST[bytes[at] as usize];
        if candidates == 0 {
            continue;
        }
        let start = match at {
            0 => 0,
            _ if word(bytes[at - 1]) => continue,
            // The character before the token: where the match starts.
            _ => (0..at).rev().find(|&i| bytes[i] & 0xC0 != 0x80).unwrap_or(0),
        };
        if start < from && at != 0 {
            continue;
        }
        let rest = &bytes[at..];
        // In the order of `TOKENS`, the first that matches.
        while candidates != 0 {
            let (prefix, min, what) = TOKENS[candidates.trailing_zeros() as usize];
            if rest.starts_with(prefix.as_bytes()) && run(rest, prefix.len(), body) >= min {
                return Some((start, Leak::Token(what)));
            }
            candidates &= candidates - 1;
        }
    }
    None
}

/// A searcher for the bytes one shape starts with, made once: making one is
/// most of what a search of a short string costs, and a build searches
/// every string of every object for each shape.
type Finder = LazyLock<memchr::memmem::Finder<'static>>;

/// The `://` of a URL ([`url_from`]).
static SCHEME_END: Finder = LazyLock::new(|| memchr::memmem::Finder::new(b"://"));
/// The `eyJ` of a JSON Web Token ([`jwt_from`]).
static JWT_START: Finder = LazyLock::new(|| memchr::memmem::Finder::new(b"eyJ"));
/// The first words of a private key ([`key_from`]).
static KEY_BEGIN: Finder = LazyLock::new(|| memchr::memmem::Finder::new(KEY_BEGIN_TEXT));

/// Where the needle of `finder` first occurs in `haystack`.
fn find_bytes(haystack: &[u8], finder: &Finder) -> Option<usize> {
    finder.find(haystack)
}

/// The first credential in a command line: [`find`], or a literal password
/// or token given to a flag (`--password=…`, `--db-password …`, `--token=…`,
/// and `-p …` in a `login`, `mysql` or `mariadb` command).
pub fn in_command(text: &str) -> Option<Leak> {
    find(text).or_else(|| password_flag(text).then_some(Leak::PasswordFlag))
}

/// Whether a command line gives a literal password to a flag.
fn password_flag(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    let login = words.iter().any(|w| *w == "login" || w.ends_with("mysql") || w.ends_with("mariadb"));
    for (i, word) in words.iter().enumerate() {
        let next = words.get(i + 1).copied().unwrap_or_default();
        let (flag, value) = match word.split_once('=') {
            Some((flag, value)) => (flag, value),
            None => (*word, next),
        };
        let long = flag.strip_prefix("--").is_some_and(|name| {
            let last = name.rsplit(['-', '_']).next().unwrap_or(name).to_ascii_lowercase();
            matches!(last.as_str(), "password" | "passwd" | "pass" | "pwd" | "token" | "secret" | "apikey")
                || name.eq_ignore_ascii_case("api-key")
                || name.to_ascii_lowercase().ends_with("-api-key")
        });
        let short = login && flag == "-p";
        // `mysql -psecret`: the password glued to the flag.
        let glued = login && flag.len() > 2 && flag.starts_with("-p") && !flag.starts_with("--");
        if glued && is_literal(&flag[2..]) {
            return true;
        }
        if (long || short) && is_literal(value.trim_matches(['"', '\''])) && !value.starts_with('-') {
            return true;
        }
    }
    false
}

/// Whether a value is written out rather than taken from somewhere: not
/// empty, not a variable (`$X`, `${X}`, `$(X)`), a template (`{{ … }}`), a
/// placeholder made of one repeated character (`***`, `xxx`) or `<…>`.
pub fn is_literal(value: &str) -> bool {
    let v = value.trim();
    let placeholder = v.chars().all(|c| c == '*' || c == 'x' || c == 'X' || c == '.')
        || (v.starts_with('<') && v.ends_with('>'))
        || (v.starts_with('{') && v.ends_with('}'));
    !(v.is_empty() || v.contains('$') || v.contains("{{") || placeholder)
}

/// The first string of a JSON value that looks like a credential ([`find`]),
/// with its path (`spec.template.spec.containers[0].env[2].value`).
pub fn in_json(value: &serde_json::Value) -> Option<(String, Leak)> {
    fn walk(value: &serde_json::Value, path: &mut String) -> Option<(String, Leak)> {
        match value {
            serde_json::Value::String(s) => find(s).map(|leak| (path.clone(), leak)),
            serde_json::Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
                let len = path.len();
                let _ = write!(path, "[{i}]");
                let found = walk(item, path);
                path.truncate(len);
                found
            }),
            serde_json::Value::Object(map) => map.iter().find_map(|(key, item)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                let found = walk(item, path);
                path.truncate(len);
                found
            }),
            _ => None,
        }
    }
    walk(value, &mut String::new())
}

/// The first line of a text that holds a credential ([`find`]), 1-based.
///
/// No shape spans lines (none holds a line feed, and a carriage return ends
/// each as the end of a line does), so the text is searched whole first, and
/// line by line only where it holds one.
pub fn in_text(text: &str) -> Option<(usize, Leak)> {
    find(text)?;
    text.lines().enumerate().find_map(|(i, line)| find(line).map(|leak| (i + 1, leak)))
}

/// The text with the password of every URL replaced by `***`, for messages:
/// `user:password@` at the start, after whitespace or after `://`.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while at < text.len() {
        let c = text[at..].chars().next().unwrap_or_default();
        // What may come before `user:` here, in the order they are tried.
        let leads = [
            text[at..].starts_with("://").then_some(3),
            (at == 0).then_some(0),
            c.is_whitespace().then_some(c.len_utf8()),
        ];
        let found = leads
            .into_iter()
            .flatten()
            .find_map(|lead| userinfo(text, at + lead).map(|(password, end)| (lead, password, end)));
        match found {
            Some((lead, password, end)) => {
                out.push_str(&text[at..password.start]);
                out.push_str("***@");
                debug_assert!(lead <= password.start - at);
                at = end;
            }
            None => {
                out.push(c);
                at += c.len_utf8();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shortest_of_each_shape_is_found_and_one_byte_less_is_not() {
        for (prefix, min, what) in TOKENS {
            let token = format!("{prefix}{}", "a".repeat(*min));
            assert_eq!(find(&token), Some(Leak::Token(what)), "{token}");
            assert_eq!(find(&token[..token.len() - 1]), None, "{token}");
        }
        let jwt = "eyJaaaaaaaa.eyJaaaaaaaa.aaaaaaaa";
        assert_eq!((jwt.len(), find(jwt)), (SHORTEST_JWT, Some(Leak::Jwt)));
        assert_eq!(find(&jwt[..jwt.len() - 1]), None);
        let key = "-----BEGIN PRIVATE KEY-----";
        assert_eq!((key.len(), find(key)), (SHORTEST_KEY, Some(Leak::PrivateKey)));
        assert_eq!(find(&key[1..]), None);
        assert_eq!(find("a://:p@"), Some(Leak::UrlPassword));
        assert_eq!(find("a://:p"), None);
    }

    #[test]
    fn finds_credentials_anywhere_in_a_string() {
        assert_eq!(find("postgres://admin:hunter22@db.data:5432/app"), Some(Leak::UrlPassword));
        assert_eq!(find("url: https://user:pw@charts.example.com/x"), Some(Leak::UrlPassword));
        let jwt = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(find(jwt), Some(Leak::Jwt));
        assert_eq!(find("key: |\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n"), Some(Leak::PrivateKey));
        assert_eq!(find("token=ghp_0123456789abcdefghijklmnopqrstuvwxyz"), Some(Leak::Token("a GitHub token")));
        assert_eq!(find("id AKIAIOSFODNN7EXAMPLE here"), Some(Leak::Token("an AWS access key")));
    }

    #[test]
    fn references_and_ordinary_text_are_fine() {
        for text in [
            "https://github.com/me/lab",
            "ssh://git@github.com/me/lab",
            "git@github.com:me/lab.git",
            "postgres://app:$(DB_PASSWORD)@db:5432/app",
            "postgres://app:${DB_PASSWORD}@db/app",
            "https://user:{{ .Values.password }}@x",
            "-----BEGIN CERTIFICATE-----",
            "sum(rate(http_requests_total{job=\"x\"}[5m]))",
            "nginx@sha256:0123456789abcdef",
            "MASKING",
            "ghp_short",
        ] {
            assert_eq!(find(text), None, "{text}");
        }
    }

    #[test]
    fn finds_passwords_given_to_flags() {
        for command in [
            "--db-password=hunter22",
            "docker login -u me -p hunter22 registry.local",
            "mysql -uroot -phunter22",
            "app --token abcdef123",
            "helm registry login --password s3cret ghcr.io",
        ] {
            assert_eq!(in_command(command), Some(Leak::PasswordFlag), "{command}");
        }
        for command in [
            "echo \"$PASS\" | docker login -u me --password-stdin",
            "docker login -u me -p \"$REGISTRY_PASSWORD\"",
            "mkdir -p /data",
            "ssh -p 22 host",
            "--password-file=/run/secrets/db",
            "--db-password=$(DB_PASSWORD)",
        ] {
            assert_eq!(in_command(command), None, "{command}");
        }
    }

    /// The regular expressions the hand-written scanner replaced: what it
    /// must agree with, on any string.
    mod oracle {
        use regex::Regex;

        use super::super::{Leak, TOKENS, is_literal};

        pub fn find(text: &str) -> Option<Leak> {
            let tokens: Vec<String> = TOKENS
                .iter()
                .map(|(prefix, min, _)| format!("{}[A-Za-z0-9_.-]{{{min},}}", regex::escape(prefix)))
                .collect();
            let pattern = Regex::new(&format!(
                "(?P<url>[A-Za-z][A-Za-z0-9+.-]*://[^\\s/?#@:\"'`]*:[^\\s/?#@\"'`]+@)\
                 |(?P<jwt>eyJ[A-Za-z0-9_-]{{8,}}\\.eyJ[A-Za-z0-9_-]{{8,}}\\.[A-Za-z0-9_-]{{8,}})\
                 |(?P<key>-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----)\
                 |(?P<token>(^|[^A-Za-z0-9_])({}))",
                tokens.join("|")
            ))
            .unwrap();
            for found in pattern.captures_iter(text) {
                if let Some(url) = found.name("url") {
                    let password = url.as_str().rsplit_once(':').map_or("", |(_, p)| p.trim_end_matches('@'));
                    if is_literal(password) {
                        return Some(Leak::UrlPassword);
                    }
                } else if found.name("jwt").is_some() {
                    return Some(Leak::Jwt);
                } else if found.name("key").is_some() {
                    return Some(Leak::PrivateKey);
                } else if let Some(token) = found.name("token") {
                    let token = token.as_str().trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
                    let what =
                        TOKENS.iter().find(|(prefix, _, _)| token.starts_with(prefix)).map_or("a token", |t| t.2);
                    return Some(Leak::Token(what));
                }
            }
            None
        }

        pub fn redact(text: &str) -> String {
            Regex::new("(://|^|\\s)([^\\s/?#@:\"'`]*):([^\\s/?#@\"'`]+)@")
                .unwrap()
                .replace_all(text, "$1$2:***@")
                .into_owned()
        }
    }

    /// Strings made of the pieces credentials are made of, and of things
    /// that nearly are credentials (a part one character short, a missing dot).
    fn pieces() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let piece = prop::sample::select(vec![
            "://",
            "http",
            "s",
            ":",
            "@",
            "/",
            "?",
            " ",
            "\t",
            "\u{a0}",
            "\u{b}",
            "é",
            "\"",
            "$",
            "{{",
            "(",
            "a",
            "Z",
            "0",
            ".",
            "-",
            "_",
            "x",
            "eyJ",
            ".eyJ",
            "abcdefg",
            "-----BEGIN ",
            "RSA ",
            "PRIVATE KEY",
            " BLOCK",
            "-----",
            "ghp_",
            "AKIA",
            "AIza",
            "SG.",
            "0123456789abcdef",
            "***",
        ])
        .prop_map(str::to_string);
        let near = |pattern: &str| proptest::string::string_regex(pattern).expect("a pattern");
        let part = prop_oneof![
            4 => piece,
            1 => near("[ a:]{0,2}(eyJ[A-Za-z0-9_-]{6,9}\\.){1,2}(eyJ)?[A-Za-z0-9_.-]{6,10}[ .]{0,2}"),
            1 => near("[ a_é]{0,2}(ghp_|AKIA|SG\\.|glpat-|sk-ant-|github_pat_|hf_)[A-Za-z0-9_.-]{12,40}"),
            1 => near("[a-z0-9+.-]{0,4}://[a-z:$@/é ]{0,10}"),
            1 => near("-----BEGIN [A-Z0-9 ]{0,8}(PRIVATE KEY)?( BLOCK)?-{3,6}"),
        ];
        prop::collection::vec(part, 0..12).prop_map(|parts| parts.concat())
    }

    #[test]
    fn agrees_with_the_regular_expression_where_shapes_meet() {
        let token = "ghp_0123456789abcdefghijklmnopqrstuvwxyz";
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N";
        for text in [
            // A URL and a token or a token starting at one place: the URL first.
            "AKIAIOSFODNN7EXAMPLE://u:pw@h".to_string(),
            format!("{jwt}://u:pw@h"),
            format!("{jwt}://u:$(PW)@h"),
            // What lies inside a URL passed over is not looked at again...
            format!("https://{token}:$(PW)@h"),
            format!("https://x/{token}:$(PW)@h"),
            // ...nor the character that ends it.
            format!("a://u:$(PW)@{token}"),
            format!("a://u:$(PW)@ {token}"),
            "a://u:$(PW)@h a://u:pw@h".to_string(),
        ] {
            assert_eq!(find(&text), oracle::find(&text), "{text}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]

        #[test]
        fn finds_what_the_regular_expression_found(text in pieces()) {
            proptest::prop_assert_eq!(find(&text), oracle::find(&text), "{:?}", text);
        }

        #[test]
        fn a_text_is_searched_as_its_lines_are(lines in proptest::collection::vec(pieces(), 0..6), crlf: bool) {
            let text = lines.join(if crlf { "\r\n" } else { "\n" });
            let by_line = text.lines().enumerate().find_map(|(i, line)| find(line).map(|leak| (i + 1, leak)));
            proptest::prop_assert_eq!(in_text(&text), by_line, "{:?}", text);
        }

        #[test]
        fn redacts_what_the_regular_expression_redacted(text in pieces()) {
            proptest::prop_assert_eq!(redact(&text), oracle::redact(&text), "{:?}", text);
        }
    }

    #[test]
    fn redacts_url_passwords() {
        assert_eq!(redact("http://admin:pw@10.0.0.5:5000"), "http://admin:***@10.0.0.5:5000");
        assert_eq!(redact("admin:pw@10.0.0.5:5000"), "admin:***@10.0.0.5:5000");
        assert_eq!(redact("https://github.com/me"), "https://github.com/me");
    }
}
