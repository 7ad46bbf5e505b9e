//! PromQL of dashboard queries and alert expressions (E0901): Grafana's
//! variables are replaced by values of the right shape, the text is parsed by
//! Prometheus' grammar (the `promql-parser` crate), and the parser's message
//! gets a help line for the common mistakes.

use promql_parser::parser::{self, value::ValueType};

use super::hints::{syntax_problem, tokens};

/// Where a PromQL text is used: it decides which variables the text may hold
/// and which types its result may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// A dashboard panel's query, run by Grafana: `$__rate_interval` and the
    /// dashboard's variables are replaced before Prometheus sees it.
    Panel,
    /// An alert's `expr`, run by Prometheus as it is written.
    Alert,
}

/// Why a PromQL text is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// It does not parse: what the parser says, and what to do.
    Syntax { label: String, help: String },
    /// An alert expression parses, but to a range vector or a string.
    NotInstant { found: &'static str, help: String },
}

/// Deeper nesting is refused before parsing: the parser recurses, and a
/// pathological text must not exhaust the stack. Real queries nest a dozen
/// levels at most.
const MAX_DEPTH: usize = 64;

/// Longer texts are refused before parsing, for the same reason.
const MAX_LEN: usize = 16 * 1024;

/// Checks one PromQL text.
pub(crate) fn check(text: &str, purpose: Purpose) -> Result<(), Problem> {
    if let Some(problem) = too_big(text) {
        return Err(problem);
    }
    let parsed = match purpose {
        Purpose::Alert => parser::parse(text),
        Purpose::Panel => {
            // A dashboard variable outside a string stands for a name (a
            // metric, a label) or for a number (`topk($n, ...)`): the text is
            // valid when one of the two readings is.
            let as_names = parser::parse(&substitute(text, Reading::Names));
            match as_names {
                Err(_) if text.contains('$') => parser::parse(&substitute(text, Reading::Numbers)).or(as_names),
                _ => as_names,
            }
        }
    };
    let expr = parsed.map_err(|message| syntax_problem(text, &message, purpose))?;
    if purpose == Purpose::Alert {
        let found = match expr.value_type() {
            ValueType::Matrix => "a range vector",
            ValueType::String => "a string",
            ValueType::Vector | ValueType::Scalar => return Ok(()),
        };
        let help = if found == "a string" {
            "an alert fires for every series its expression returns: write a condition such as `up{job=\"web\"} == 0`"
        } else {
            "an alert fires for every series of an instant vector: reduce the range with a function such as \
             `max_over_time(...[5m])`, or remove the range"
        };
        return Err(Problem::NotInstant { found, help: help.to_string() });
    }
    Ok(())
}

/// How a dashboard's own variables (`$namespace`, `${pod}`) are read when they
/// stand outside a string and outside a range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reading {
    /// As a name: `x`.
    Names,
    /// As a number: `1`.
    Numbers,
}

/// The text with every Grafana variable replaced by a value of the shape it
/// has where it stands: a word inside a string (`"$namespace"`, `=~"${pod}"`),
/// a duration in a range or after `offset` (`[$__rate_interval]`), a number
/// for the `_ms`/`_s` forms and `$__from`/`$__to`, and a name or a number
/// (see [`Reading`]) anywhere else. Handles `$name`, `${name}`,
/// `${name:format}` and the old `[[name]]`.
pub(super) fn substitute(text: &str, reading: Reading) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    let mut range_depth = 0usize;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some((name, len)) = variable(rest) {
            let value = match quote {
                Some(_) => "x",
                None => {
                    let before = out.trim_end();
                    let duration = range_depth > 0 || ends_with_word(before, "offset");
                    variable_value(name, duration, before.ends_with('@'), reading)
                }
            };
            out.push_str(value);
            rest = &rest[len..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
        match (quote, c) {
            (Some(q), '\\') if q != '`' => {
                if let Some(next) = rest.chars().next() {
                    out.push(next);
                    rest = &rest[next.len_utf8()..];
                }
            }
            (Some(q), _) if c == q => quote = None,
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, '[') => range_depth += 1,
            (None, ']') => range_depth = range_depth.saturating_sub(1),
            _ => {}
        }
    }
    out
}

/// The variable at the start of `text`, as its name and the length of what
/// is written: `$name`, `${name}`, `${name:format}`, `${name.path}`, `[[name]]`.
fn variable(text: &str) -> Option<(&str, usize)> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if let Some(braced) = text.strip_prefix("${") {
        let end = braced.find('}')?;
        let inner = &braced[..end];
        let name = &inner[..inner.find([':', '.']).unwrap_or(inner.len())];
        return (!name.is_empty() && name.chars().all(is_word)).then_some((name, end + 3));
    }
    if let Some(bracketed) = text.strip_prefix("[[") {
        let end = bracketed.find("]]")?;
        let inner = &bracketed[..end];
        let name = &inner[..inner.find(':').unwrap_or(inner.len())];
        return (!name.is_empty() && name.chars().all(is_word)).then_some((name, end + 4));
    }
    let plain = text.strip_prefix('$')?;
    let len = plain.find(|c: char| !is_word(c)).unwrap_or(plain.len());
    (len > 0).then_some((&plain[..len], len + 1))
}

/// What a variable outside a string becomes.
fn variable_value(name: &str, duration_expected: bool, timestamp_expected: bool, reading: Reading) -> &'static str {
    match name {
        "__from" | "__to" => "1700000000",
        _ if timestamp_expected => "1700000000",
        _ if name.starts_with("__") && name.ends_with("_ms") => "300000",
        _ if name.starts_with("__") && name.ends_with("_s") => "300",
        "__interval" | "__rate_interval" | "__range" => "5m",
        _ if duration_expected => "5m",
        _ => match reading {
            Reading::Names => "x",
            Reading::Numbers => "1",
        },
    }
}

/// Whether `text` ends with the word `word` (lowercase ASCII).
fn ends_with_word(text: &str, word: &str) -> bool {
    text.len() > word.len()
        && text.to_ascii_lowercase().ends_with(word)
        && !text[..text.len() - word.len()].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
}

/// A problem for texts too long or too deeply nested to parse safely.
fn too_big(text: &str) -> Option<Problem> {
    let help = "split the expression, e.g. into recording rules";
    if text.len() > MAX_LEN {
        let label = format!("longer than {} KiB", MAX_LEN / 1024);
        return Some(Problem::Syntax { label, help: help.to_string() });
    }
    let tokens = tokens(text);
    let mut depth = 0usize;
    for t in &tokens {
        match t.text {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_DEPTH {
            return Some(Problem::Syntax {
                label: format!("nested more than {MAX_DEPTH} levels deep"),
                help: help.into(),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panel(text: &str) -> Result<(), Problem> {
        check(text, Purpose::Panel)
    }

    fn alert(text: &str) -> Result<(), Problem> {
        check(text, Purpose::Alert)
    }

    #[test]
    fn substitutes_grafana_variables_by_shape() {
        let names = |t| substitute(t, Reading::Names);
        assert_eq!(names("rate(x[$__rate_interval])"), "rate(x[5m])");
        assert_eq!(names("rate(x[${__rate_interval}])"), "rate(x[5m])");
        assert_eq!(names("increase(x[$__range]) offset $__interval"), "increase(x[5m]) offset 5m");
        assert_eq!(names("x[$__range:$__interval]"), "x[5m:5m]");
        assert_eq!(names(r#"x{namespace="$namespace", pod=~"${pod:regex}"}"#), r#"x{namespace="x", pod=~"x"}"#);
        assert_eq!(names("rate(x[$window]) offset $shift"), "rate(x[5m]) offset 5m");
        assert_eq!(names("sum by ($label) ($metric)"), "sum by (x) (x)");
        assert_eq!(names("x / $__range_s + x / $__interval_ms"), "x / 300 + x / 300000");
        assert_eq!(names("x @ ${__to:date:seconds}"), "x @ 1700000000");
        assert_eq!(names("x{a=\"[[old]]\"} > [[threshold]]"), "x{a=\"x\"} > x");
        assert_eq!(substitute("topk($n, x)", Reading::Numbers), "topk(1, x)");
    }

    #[test]
    fn leaves_what_is_not_a_variable() {
        let names = |t| substitute(t, Reading::Names);
        assert_eq!(names(r#"x{a=~"^foo$"}"#), r#"x{a=~"^foo$"}"#);
        assert_eq!(names(r#"x{a="\"$b"}"#), r#"x{a="\"x"}"#);
        assert_eq!(names("x{a=`$`} + ${"), "x{a=`$`} + ${");
        assert_eq!(names("café{a=\"é$v\"}"), "café{a=\"éx\"}");
    }

    #[test]
    fn grafana_queries_pass() {
        for q in [
            r#"sum(rate(http_requests_total{namespace="$namespace"}[$__rate_interval])) by (pod)"#,
            r#"histogram_quantile(0.95, sum by (le) (rate(x_bucket{pod=~"${pod}"}[${__rate_interval}])))"#,
            "topk($n, sum by (pod) (rate(x[$__interval])))",
            "max_over_time(up[$__range:$__interval])",
            "x > $threshold",
            "${metric}_total",
        ] {
            assert_eq!(panel(q), Ok(()), "{q}");
        }
    }

    #[test]
    fn alerts_get_no_substitution() {
        let Err(Problem::Syntax { help, .. }) = alert("rate(x[$__rate_interval]) > 0") else { panic!("refused") };
        assert!(help.contains("do not exist in Prometheus rules"), "{help}");
    }

    #[test]
    fn alerts_must_be_instant() {
        assert_eq!(alert("sum(up) == 0"), Ok(()));
        assert_eq!(alert("1 > bool 0"), Ok(()));
        assert!(matches!(alert("up[5m]"), Err(Problem::NotInstant { found: "a range vector", .. })));
        assert!(matches!(alert(r#""down""#), Err(Problem::NotInstant { found: "a string", .. })));
        assert_eq!(panel("up[5m]"), Ok(()));
    }

    #[test]
    fn pathological_texts_are_refused_before_parsing() {
        let deep = format!("{}x{}", "(".repeat(1_000), ")".repeat(1_000));
        assert!(matches!(panel(&deep), Err(Problem::Syntax { label, .. }) if label.contains("nested")));
        let long = vec!["x"; 20_000].join("+");
        assert!(matches!(panel(&long), Err(Problem::Syntax { label, .. }) if label.contains("longer")));
        let nested = format!("{}x{}", "sum(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(panel(&nested), Ok(()));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in r#"[a-z_(){}\[\]"'`=~!<>+\-*/^%,:@ $0-9.é#\n]{0,40}"#) {
            let _ = panel(&text);
            let _ = alert(&text);
        }
    }
}
