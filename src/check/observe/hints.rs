//! Help for PromQL the parser refuses (E0901): the parser's message made
//! readable, a help line for the common mistakes, and a rough tokenizer that
//! points at what is wrong where the parser only says "invalid promql query".

use super::promql::{Problem, Purpose};
use crate::suggest::did_you_mean;

/// The problem for a parser message: the message made readable (or, for the
/// crate's bare "invalid promql query", what the tokens show), and a help line.
pub(super) fn syntax_problem(text: &str, message: &str, purpose: Purpose) -> Problem {
    let located = if message == "invalid promql query" { locate(text) } else { None };
    let (label, help) = located.unwrap_or_else(|| (readable(message), help_for(text, message, purpose)));
    let help = if purpose == Purpose::Alert && tokens(text).iter().any(|t| t.text.starts_with('$')) {
        "Grafana's variables such as `$__rate_interval` do not exist in Prometheus rules: write a duration such as \
         `[5m]` or a value"
            .to_string()
    } else {
        help
    };
    Problem::Syntax { label, help }
}

/// The parser's message on one line, at most 100 characters, with the
/// crate's `'quotes'` written as code: `` `quotes` ``.
fn readable(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default().trim();
    let line = if line.matches('\'').count().is_multiple_of(2) { line.replace('\'', "`") } else { line.to_string() };
    if line.chars().count() > 100 {
        let cut: String = line.chars().take(99).collect();
        return format!("{cut}…");
    }
    if line == "invalid promql query" { "not a valid PromQL expression".to_string() } else { line }
}

/// The example a help line shows when nothing more precise applies.
const EXAMPLE: &str = "sum by (pod) (rate(http_requests_total{namespace=\"demo\"}[5m]))";

/// The help line for a parser message.
fn help_for(text: &str, message: &str, purpose: Purpose) -> String {
    let range = match purpose {
        Purpose::Panel => "[$__rate_interval]",
        Purpose::Alert => "[5m]",
    };
    let quoted = message.split('\'').nth(1).unwrap_or_default();
    if message.starts_with("expected type matrix in call to function") {
        return format!(
            "`{quoted}` takes a range vector: add a range such as `{range}` after the selector, e.g. \
             `{quoted}(http_requests_total{range})`"
        );
    }
    if message.starts_with("unknown function with name") {
        if quoted == "holt_winters" {
            return "Prometheus 3 renamed `holt_winters` to `double_exponential_smoothing`".to_string();
        }
        return match did_you_mean(quoted, AGGREGATIONS.iter().chain(FUNCTIONS).copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None => {
                "see the functions Prometheus knows at https://prometheus.io/docs/prometheus/latest/querying/functions/"
                    .to_string()
            }
        };
    }
    if message.starts_with("unexpected character inside brackets") || message.starts_with("not a valid duration") {
        return "a range is one duration without spaces, such as `[5m]` or `[1h30m]` (units: ms, s, m, h, d, w, y)"
            .to_string();
    }
    if message.starts_with("duration must be greater than 0") {
        return "write a range longer than zero, such as `[5m]`".to_string();
    }
    if message.starts_with("unclosed left parenthesis") {
        let missing = count(text, "(").saturating_sub(count(text, ")")).max(1);
        let what = if missing == 1 { "the missing `)`".to_string() } else { format!("the {missing} missing `)`") };
        return format!("add {what}: every `(` needs its `)`");
    }
    if message.contains("end of input") {
        return "the expression ends too early: close every `(`, `{` and `[` it opens".to_string();
    }
    if message.contains("in label matching, expected string") {
        return "label values are quoted strings: write `label=\"value\"`".to_string();
    }
    if message.contains("label matcher") || message.contains("inside braces") {
        return "label matchers are written `label=\"value\"`, with `=`, `!=`, `=~` or `!~`".to_string();
    }
    if message.starts_with("vector selector must contain at least one non-empty matcher") {
        return "name a metric, or add a matcher that does not match the empty string, such as `job=\"web\"`"
            .to_string();
    }
    if message.starts_with("ranges only allowed for vector selectors") {
        return "to take a range of an expression, write a subquery such as `(...)[1h:5m]`".to_string();
    }
    if message.starts_with("illegal regex") {
        return "`=~` and `!~` take an RE2 regular expression: check its parentheses and brackets".to_string();
    }
    if message.starts_with("no expression found") {
        return format!("write an expression, such as `{EXAMPLE}`");
    }
    if message.starts_with("comparisons between scalars must use BOOL") {
        return "write `bool` after the comparison operator, such as `1 > bool 0`".to_string();
    }
    if message.contains("argument(s) in call to") {
        return format!(
            "see how `{quoted}` is called at https://prometheus.io/docs/prometheus/latest/querying/functions/"
        );
    }
    format!("a PromQL query reads like `{EXAMPLE}`")
}

/// For the crate's bare "invalid promql query": a label and a help line found
/// by looking at the tokens, for an expression that ends after an operator,
/// a `by` after something not an aggregation, or two operands side by side.
fn locate(text: &str) -> Option<(String, String)> {
    let tokens = tokens(text);
    let last = tokens.last()?;
    if last.is_operator() {
        let label = format!("the expression ends after `{}`", last.text);
        let help = format!("`{}` needs an expression on its right", last.text);
        return Some((label, help));
    }
    // The word before each open `(`, and before the `(` just closed.
    let mut callers: Vec<Option<&str>> = Vec::new();
    let mut closed: Option<&str> = None;
    for (i, t) in tokens.iter().enumerate() {
        let before = i.checked_sub(1).map(|b| &tokens[b]);
        match t.text {
            "(" => callers.push(before.filter(|b| b.kind == Kind::Word).map(|b| b.text)),
            ")" => closed = callers.pop().flatten(),
            "by" | "without"
                if before.is_some_and(|b| b.text == ")") && !closed.is_some_and(|c| AGGREGATIONS.contains(&c)) =>
            {
                let label = format!("`{}` after something that is not an aggregation", t.text);
                let help = format!(
                    "`{} (...)` groups an aggregation such as `sum`, `avg` or `max`: write `sum {} (pod) (...)`",
                    t.text, t.text
                );
                return Some((label, help));
            }
            _ => {}
        }
        if let Some(b) = before
            && b.ends_operand()
            && t.starts_operand()
        {
            let label = format!("`{}` follows `{}` without an operator between them", t.text, b.text);
            let help = "join the two with an operator (`+`, `/`, `>`, `and`, ...), or remove one".to_string();
            return Some((label, help));
        }
    }
    None
}

/// Occurrences of `what` outside strings.
fn count(text: &str, what: &str) -> usize {
    tokens(text).iter().filter(|t| t.text == what).count()
}

/// What a token is, as far as the help lines care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A name or a keyword.
    Word,
    /// A number or a duration.
    Number,
    /// A quoted string.
    Str,
    /// Anything else: one operator or bracket.
    Punct,
}

/// One token of a PromQL text.
#[derive(Clone, Copy, Debug)]
pub(super) struct Token<'a> {
    /// What it is.
    kind: Kind,
    /// As written.
    pub(super) text: &'a str,
}

/// The keywords that join or modify expressions rather than being one.
const KEYWORDS: &[&str] =
    &["and", "or", "unless", "atan2", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"];

impl Token<'_> {
    /// Whether an expression may end with this token.
    fn ends_operand(&self) -> bool {
        match self.kind {
            Kind::Word => !KEYWORDS.contains(&self.text),
            Kind::Number | Kind::Str => true,
            Kind::Punct => matches!(self.text, ")" | "}" | "]"),
        }
    }

    /// Whether an expression may start with this token.
    fn starts_operand(&self) -> bool {
        match self.kind {
            Kind::Word => !KEYWORDS.contains(&self.text),
            Kind::Number | Kind::Str => true,
            Kind::Punct => false,
        }
    }

    /// A binary operator, which needs an operand on its right.
    fn is_operator(&self) -> bool {
        const OPS: &[&str] = &["+", "-", "*", "/", "%", "^", "==", "!=", "<", "<=", ">", ">=", "=", "=~", "!~", ","];
        OPS.contains(&self.text) || (self.kind == Kind::Word && KEYWORDS.contains(&self.text)) || self.text == "("
    }
}

/// A rough tokenizer, enough for help lines: words, numbers and durations,
/// strings (with their escapes), comments skipped, one- and two-character
/// operators.
pub(super) fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let kind = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'"' | b'\'' | b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != c {
                    i += if bytes[i] == b'\\' && c != b'`' { 2 } else { 1 };
                }
                i = (i + 1).min(bytes.len());
                Kind::Str
            }
            b'0'..=b'9' | b'.' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.') {
                    i += 1;
                }
                Kind::Number
            }
            _ if c.is_ascii_alphabetic() || c == b'_' || c == b':' || c == b'$' => {
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b':')) {
                    i += 1;
                }
                Kind::Word
            }
            _ => {
                let two = text.get(i..i + 2).unwrap_or_default();
                i += if ["==", "!=", "<=", ">=", "=~", "!~"].contains(&two) { 2 } else { 1 };
                while !text.is_char_boundary(i) {
                    i += 1;
                }
                Kind::Punct
            }
        };
        out.push(Token { kind, text: &text[start..i.min(bytes.len())] });
    }
    out
}

/// Prometheus' aggregation operators.
const AGGREGATIONS: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
];

/// Prometheus' functions, for the did-you-mean (with the aggregations).
const FUNCTIONS: &[&str] = &[
    "abs",
    "absent",
    "absent_over_time",
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atanh",
    "avg_over_time",
    "ceil",
    "changes",
    "clamp",
    "clamp_max",
    "clamp_min",
    "cos",
    "cosh",
    "count_over_time",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "days_in_month",
    "deg",
    "delta",
    "deriv",
    "double_exponential_smoothing",
    "exp",
    "floor",
    "histogram_avg",
    "histogram_count",
    "histogram_fraction",
    "histogram_quantile",
    "histogram_stddev",
    "histogram_stdvar",
    "histogram_sum",
    "hour",
    "idelta",
    "increase",
    "info",
    "irate",
    "label_join",
    "label_replace",
    "last_over_time",
    "ln",
    "log10",
    "log2",
    "mad_over_time",
    "max_over_time",
    "min_over_time",
    "minute",
    "month",
    "pi",
    "predict_linear",
    "present_over_time",
    "quantile_over_time",
    "rad",
    "rate",
    "resets",
    "round",
    "scalar",
    "sgn",
    "sin",
    "sinh",
    "sort",
    "sort_by_label",
    "sort_by_label_desc",
    "sort_desc",
    "sqrt",
    "stddev_over_time",
    "stdvar_over_time",
    "sum_over_time",
    "tan",
    "tanh",
    "time",
    "timestamp",
    "vector",
    "year",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The label and help for a text the parser refuses.
    fn problem(text: &str, purpose: Purpose) -> (String, String) {
        let message = promql_parser::parser::parse(text).expect_err("refused");
        match syntax_problem(text, &message, purpose) {
            Problem::Syntax { label, help } => (label, help),
            Problem::NotInstant { .. } => unreachable!("a syntax problem"),
        }
    }

    #[test]
    fn a_missing_range_is_explained() {
        let (label, help) = problem("rate(http_requests_total)", Purpose::Panel);
        assert_eq!(label, "expected type matrix in call to function `rate`, got vector");
        assert!(help.contains("add a range such as `[$__rate_interval]`"), "{help}");
        let (_, help) = problem("increase(x)", Purpose::Alert);
        assert!(help.starts_with("`increase` takes a range vector: add a range such as `[5m]`"), "{help}");
    }

    #[test]
    fn bare_invalid_queries_are_located() {
        assert_eq!(problem("sum(up) ==", Purpose::Alert).0, "the expression ends after `==`");
        assert_eq!(problem("sum(up) and", Purpose::Alert).0, "the expression ends after `and`");
        assert_eq!(problem("foo bar", Purpose::Alert).0, "`bar` follows `foo` without an operator between them");
        assert_eq!(problem("rate(x[5m]) by (a)", Purpose::Alert).0, "`by` after something that is not an aggregation");
        assert_eq!(
            problem("sum(x) by (a) by (b)", Purpose::Alert).0,
            "`by` after something that is not an aggregation"
        );
    }

    #[test]
    fn common_mistakes_get_a_help_line() {
        assert_eq!(problem("summ(x)", Purpose::Alert).1, "did you mean `sum`?");
        assert!(problem("holt_winters(x[5m], 0.1, 0.1)", Purpose::Alert).1.contains("double_exponential_smoothing"));
        assert!(problem("rate(x[5 m])", Purpose::Alert).1.contains("one duration without spaces"));
        assert_eq!(
            problem("sum(rate(x[5m]) by (pod)", Purpose::Alert).1,
            "add the missing `)`: every `(` needs its `)`"
        );
        assert!(problem(r#"x{a=b}"#, Purpose::Alert).1.contains(r#"`label="value"`"#));
        assert!(problem("", Purpose::Alert).1.starts_with("write an expression"));
    }

    #[test]
    fn messages_are_one_short_line() {
        assert_eq!(readable("unknown function with name 'foo'"), "unknown function with name `foo`");
        assert_eq!(readable("first line\nsecond"), "first line");
        assert_eq!(readable(&"x".repeat(300)).chars().count(), 100);
        assert_eq!(readable("it's"), "it's");
    }

    #[test]
    fn tokens_skip_strings_and_comments() {
        let texts: Vec<&str> = tokens("sum(x{a=\"(\\\"\"}) # (\n>= 5m").iter().map(|t| t.text).collect();
        assert_eq!(texts, ["sum", "(", "x", "{", "a", "=", "\"(\\\"\"", "}", ")", ">=", "5m"]);
    }
}
