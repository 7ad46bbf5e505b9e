//! What a credential looks like inside a string: a password in a URL
//! (`postgres://admin:pw@db`), a JSON Web Token, a private key block, a token
//! with a well-known prefix (`ghp_…`, `glpat-…`, `AKIA…`), and, in a command
//! line, a password given to a flag (`--db-password=…`, `docker login -p …`).
//!
//! The security checks apply it to every string of the description that
//! reaches the output, the check of the output to every string of every
//! object and file the build writes, and [`crate::diag::redact`] to what a
//! diagnostic quotes. A finding says what was found and never holds the value.

use std::sync::LazyLock;

use regex::Regex;

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

/// Everything [`find`] looks for, in one pass over the string.
static PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    let tokens: Vec<String> =
        TOKENS.iter().map(|(prefix, min, _)| format!("{}[A-Za-z0-9_.-]{{{min},}}", regex::escape(prefix))).collect();
    Regex::new(&format!(
        "(?P<url>[A-Za-z][A-Za-z0-9+.-]*://[^\\s/?#@:\"'`]*:[^\\s/?#@\"'`]+@)\
         |(?P<jwt>eyJ[A-Za-z0-9_-]{{8,}}\\.eyJ[A-Za-z0-9_-]{{8,}}\\.[A-Za-z0-9_-]{{8,}})\
         |(?P<key>-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----)\
         |(?P<token>(^|[^A-Za-z0-9_])({}))",
        tokens.join("|")
    ))
    .expect("the credential pattern compiles")
});

/// The first credential in a string, if any.
pub fn find(text: &str) -> Option<Leak> {
    // Most strings hold nothing of the sort: the regex runs only on those that might.
    if !text.contains([':', '.', '-', '_'])
        && !text.contains("AKIA")
        && !text.contains("ASIA")
        && !text.contains("AIza")
    {
        return None;
    }
    for found in PATTERN.captures_iter(text) {
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
            let what = TOKENS.iter().find(|(prefix, _, _)| token.starts_with(prefix)).map_or("a token", |t| t.2);
            return Some(Leak::Token(what));
        }
    }
    None
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
                path.push_str(&format!("[{i}]"));
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
pub fn in_text(text: &str) -> Option<(usize, Leak)> {
    text.lines().enumerate().find_map(|(i, line)| find(line).map(|leak| (i + 1, leak)))
}

/// The text with the password of every URL replaced by `***`, for messages.
pub fn redact(text: &str) -> String {
    static USERINFO: LazyLock<Regex> =
        LazyLock::new(|| Regex::new("(://|^|\\s)([^\\s/?#@:\"'`]*):([^\\s/?#@\"'`]+)@").expect("compiles"));
    USERINFO.replace_all(text, "$1$2:***@").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn redacts_url_passwords() {
        assert_eq!(redact("http://admin:pw@10.0.0.5:5000"), "http://admin:***@10.0.0.5:5000");
        assert_eq!(redact("admin:pw@10.0.0.5:5000"), "admin:***@10.0.0.5:5000");
        assert_eq!(redact("https://github.com/me"), "https://github.com/me");
    }
}
