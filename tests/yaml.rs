//! Canonical YAML: golden output, key order, quoting of every tricky string, literal blocks,
//! parse errors with positions, and a property test that render and parse round-trip.

use std::sync::LazyLock;

use homelabc::yaml::{parse_documents, render, render_all, render_json, render_straight};
use proptest::prelude::*;
use regex::Regex;
use serde::Serialize;
use serde_json::{Number, Value, json};

/// Strings that YAML 1.1 or 1.2 would read as something else when written plain.
#[rustfmt::skip]
const MUST_QUOTE: &[&str] = &[
    "", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
    "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~", "<<", "=", "0", "123", "-1", "+1", "0644",
    "-0644", "0o17", "0O17", "0x1F", "0X1f", "-0x1F", "+0x1F", "0x_1F", "0_x1F", "+0_b1", "0b_", "0b101", "1_000",
    "+_1", "1__", "1e3", "1E3", "e5", "-E3", ".e5", "1e-3", "1e+3", "1.5", "-1.5", "1.", ".", ".5", "+.5", "._5",
    ".inf", ".Inf", "-.Inf", "+.INF", ".nan", ".NaN", ".NAN", "1:30", "1:30.5", "-1:30", "190:20:30", "8080:80",
    "1e400", "2024-01-01", "2024-01-01T10:00:00Z", "2024-1-1 10:00:00", " lead", "trail ", " both ", "\ttab", "tab\t",
    "a\tb", "\u{a0}nbsp", "- dash", "-", "--flag", "?", "? q", ":", ":x", "a:", "a: b", "a #b", "#c", ",", "[x]", "]",
    "{x}", "}", "&anchor", "*alias", "!tag", "|", "|x", ">", "'s'", "\"d\"", "%TAG", "@at", "`tick`", "\\back", "...",
    "...x", "--- x", "line\nbreak", "cr\rlf", "nel\u{85}x", "ls\u{2028}x", "ps\u{2029}x", "bom\u{feff}x", "\u{feff}",
    "nul\u{0}x", "bell\u{7}", "del\u{7f}x", "c1\u{9b}x", "\u{fffe}", "\n", "\n\n", "a\n", "\na",
];

/// Strings that stay plain: the everyday values of Kubernetes manifests.
#[rustfmt::skip]
const STAY_PLAIN: &[&str] = &[
    "web", "nginx:1.25", "128Mi", "500m", "10.0.0.1", "10.0.0.0/24", "1.25.3", "v1", "apps/v1", "http://x:80/p?q=1#f",
    "app.kubernetes.io/name", "a#b", "a b", "a-b", "a:b", "/bin/sh", "fe80::1", "2001:db8::1", "0x", "0b", "0xZZ",
    "1a", "1e", "e", "e5x", "_", "yes please", "nullable", "Off-grid", "on-call", "日本語", "émoji 🎉", "ends.", "x=1",
    "a,b", "a[0]", "x {{ .Values.y }}", "semi;colon", "ends-with-dash-",
];

/// Renders, parses back, and checks the value survives and the text is clean.
fn round_trip(value: &Value) -> String {
    let text = render(value);
    let parsed = parse_documents(&text).unwrap_or_else(|e| panic!("{e} in:\n{text}"));
    assert_eq!(parsed, vec![value.clone()], "round trip of:\n{text}");
    assert_clean(&text);
    text
}

/// No trailing whitespace, LF only, exactly one final newline.
fn assert_clean(text: &str) {
    assert!(text.ends_with('\n') && !text.ends_with("\n\n"), "final newline: {text:?}");
    assert!(!text.contains('\r'), "CR in {text:?}");
    for line in text.lines() {
        assert!(!line.ends_with([' ', '\t']), "trailing whitespace in line {line:?} of:\n{text}");
    }
}

/// Puts `s` in every position: document, value, list item, key, key and value in a list of maps.
fn in_every_position(s: &str) -> Vec<Value> {
    let mut values = vec![json!(s), json!({ "k": s }), json!([s]), json!({ "list": [{ "name": s }] })];
    // The parser reads any key `<<` as a merge key (see the module doc): only values are tried with it.
    if s != "<<" {
        let mut map = serde_json::Map::new();
        map.insert(s.to_string(), json!(1));
        let mut item = serde_json::Map::new();
        item.insert("name".to_string(), json!(s));
        item.insert(s.to_string(), json!([s]));
        values.push(Value::Object(map));
        values.push(json!({ "list": [Value::Object(item)] }));
    }
    values
}

#[test]
fn golden_deployment() {
    let value = json!({
        "spec": {
            "template": {
                "spec": { "containers": [{
                    "resources": {},
                    "ports": [{ "containerPort": 80, "name": "http" }],
                    "image": "nginx:1.25",
                    "env": [{ "value": "yes", "name": "FLAG" }, { "value": "0644", "name": "MODE" }],
                    "args": [],
                    "name": "web",
                }]},
                "metadata": { "labels": { "app": "web" } },
            },
            "selector": { "matchLabels": { "app": "web" } },
            "replicas": 2,
        },
        "metadata": { "namespace": "apps", "name": "web", "labels": { "app.kubernetes.io/name": "web" } },
        "kind": "Deployment",
        "apiVersion": "apps/v1",
    });
    let expected = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app.kubernetes.io/name: web
  namespace: apps
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          args: []
          env:
            - name: FLAG
              value: \"yes\"
            - name: MODE
              value: \"0644\"
          image: nginx:1.25
          ports:
            - name: http
              containerPort: 80
          resources: {}
";
    assert_eq!(render(&value), expected);
    round_trip(&value);
}

#[test]
fn golden_config_map_with_blocks_and_quoted_keys() {
    let value = json!({
        "data": {
            "run.sh": "#!/bin/sh\nset -eu\n\n  exec app --port 8080\n",
            "dashboard.json": "{\n  \"title\": \"x\"\n}",
            "8080": "on",
            "": null,
            "notes": "a\nb\n\n",
        },
        "metadata": { "name": "cfg", "labels": { "grafana_dashboard": "1" } },
        "kind": "ConfigMap",
        "apiVersion": "v1",
    });
    let expected = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  labels:
    grafana_dashboard: \"1\"
data:
  \"\": null
  \"8080\": \"on\"
  dashboard.json: |-
    {
      \"title\": \"x\"
    }
  notes: |+
    a
    b

  run.sh: |
    #!/bin/sh
    set -eu

      exec app --port 8080
";
    assert_eq!(render(&value), expected);
    round_trip(&value);
}

#[test]
fn top_level_keys_come_first_then_bytes_order() {
    let value = json!({ "b": 1, "metadata": {}, "a": 1, "kind": "K", "apiVersion": "v1", "B": 1, "name": "nm" });
    assert_eq!(render(&value), "apiVersion: v1\nkind: K\nmetadata: {}\nB: 1\na: 1\nb: 1\nname: nm\n");
}

#[test]
fn nested_mappings_put_name_first_then_bytes_order() {
    let value = json!({ "x": { "z": 1, "name": "nm", "Z": 2, "apiVersion": 3, "_": 4, "é": 5, "a": 6 } });
    assert_eq!(render(&value), "x:\n  name: nm\n  Z: 2\n  _: 4\n  a: 6\n  apiVersion: 3\n  z: 1\n  é: 5\n");
    let list = json!([{ "value": "1", "name": "A" }, { "b": 1, "a": 2 }]);
    assert_eq!(render(&list), "- name: A\n  value: \"1\"\n- a: 2\n  b: 1\n");
}

#[test]
fn scalars_and_empty_containers() {
    let value = json!({ "n": null, "t": true, "f": false, "i": -7, "u": u64::MAX, "x": 1.5, "e": 1e300,
                        "m": {}, "l": [], "ll": [[], {}, [1, [2]]] });
    let expected = "e: 1.0e+300\nf: false\ni: -7\nl: []\nll:\n  - []\n  - {}\n  - - 1\n    - - 2\nm: {}\n\"n\": null\n\
                    t: true\nu: 18446744073709551615\nx: 1.5\n";
    assert_eq!(render(&value), expected);
    round_trip(&value);
    for document in [json!(null), json!({}), json!([]), json!(0), json!(-0.0), json!(f64::MIN_POSITIVE), json!("x")] {
        round_trip(&document);
    }
    // Floats keep JSON's digits; one in exponent form gets `.0`, which YAML 1.1 needs to see a float.
    let floats = json!([5e-324, -1e21, 1.5e-300, 1e15, 0.1, 123456789.0, f64::MAX]);
    let expected = "- 5.0e-324\n- -1.0e+21\n- 1.5e-300\n- 1000000000000000.0\n- 0.1\n- 123456789.0\n\
                    - 1.7976931348623157e+308\n";
    assert_eq!(render(&floats), expected);
    round_trip(&floats);
}

#[test]
fn tricky_strings_are_quoted_and_round_trip() {
    for s in MUST_QUOTE {
        let text = round_trip(&json!({ "k": s }));
        assert!(text.starts_with("k: \"") || text.starts_with("k: |"), "{s:?} must be quoted, got {text:?}");
        for value in in_every_position(s) {
            round_trip(&value);
        }
    }
}

#[test]
fn everyday_strings_stay_plain() {
    for s in STAY_PLAIN {
        assert_eq!(render(&json!({ "k": s })), format!("k: {s}\n"));
        for value in in_every_position(s) {
            round_trip(&value);
        }
    }
}

#[test]
fn quoting_uses_json_escapes() {
    let value = json!({ "k": "a\"b\\c\td\re\u{8}\u{c}\u{0}\u{85}\u{2028}\u{feff}" });
    assert_eq!(render(&value), "k: \"a\\\"b\\\\c\\td\\re\\b\\f\\u0000\\u0085\\u2028\\ufeff\"\n");
    round_trip(&value);
}

#[test]
fn multi_line_strings_use_literal_blocks_with_the_right_chomping() {
    let cases = [
        ("a\nb", "k: |-\n  a\n  b\n"),
        ("a\nb\n", "k: |\n  a\n  b\n"),
        ("\n\na\n\n  b\tc\n", "k: |\n\n\n  a\n\n    b\tc\n"),
        (
            "a\n  \"quoted\": 1 # not a comment\n---\n...",
            "k: |-\n  a\n    \"quoted\": 1 # not a comment\n  ---\n  ...\n",
        ),
    ];
    for (s, expected) in cases {
        assert_eq!(render(&json!({ "k": s })), expected, "{s:?}");
        round_trip(&json!({ "k": s }));
    }
    // Keep chomping in the middle of a document, double quotes where it would end the document.
    assert_eq!(render(&json!({ "a": "x\n\n", "b": 1 })), "a: |+\n  x\n\nb: 1\n");
    assert_eq!(render(&json!({ "a": 1, "b": "x\n\n" })), "a: 1\nb: \"x\\n\\n\"\n");
    assert_eq!(render(&json!(["x\n\n", "y\n\n"])), "- |+\n  x\n\n- \"y\\n\\n\"\n");
    // In a list item, and as a whole document.
    assert_eq!(render(&json!([{ "name": "s", "run": "a\nb\n" }])), "- name: s\n  run: |\n    a\n    b\n");
    assert_eq!(render(&json!("a\nb\n")), "|\n  a\n  b\n");
    for s in ["a\nb\n", "x\n\n", "a\nb", "\n\nx"] {
        round_trip(&json!(s));
        round_trip(&json!([[s]]));
    }
}

#[test]
fn multi_line_strings_fall_back_to_double_quotes_when_a_block_cannot_hold_them() {
    for s in [" a\nb", "\n a\nb", "\ta\nb", "a \nb", "a\nb\t", "a\r\nb", "a\n\u{85}b", "\n", "\n\n\n", "a\n\u{1}"] {
        let text = round_trip(&json!({ "k": s }));
        assert!(text.starts_with("k: \""), "{s:?} gave {text:?}");
    }
}

#[test]
fn long_keys_use_the_explicit_form() {
    let long = "k".repeat(1500);
    let mut map = serde_json::Map::new();
    map.insert(long.clone(), json!({ "a": 1, "b": [1] }));
    map.insert("short".into(), json!(1));
    let value = Value::Object(map);
    let text = round_trip(&value);
    assert!(text.starts_with(&format!("? {long}\n: a: 1\n  b:\n    - 1\nshort: 1\n")), "{text}");
    for inner in [json!("x"), json!([1, 2]), json!("a\nb\n"), json!({})] {
        let mut map = serde_json::Map::new();
        map.insert(format!("{long}:"), inner);
        round_trip(&json!([Value::Object(map)]));
    }
}

#[test]
fn render_all_separates_documents() {
    let documents = vec![json!({ "kind": "A" }), json!(null), json!("x\n\n"), json!([]), json!({ "kind": "B" })];
    let text = render_all(&documents);
    assert_eq!(text, "kind: A\n---\nnull\n---\n\"x\\n\\n\"\n---\n[]\n---\nkind: B\n");
    assert_eq!(parse_documents(&text).expect("parses"), documents);
    assert_eq!(render_all(&[]), "");
}

#[test]
fn parse_skips_empty_documents_and_keeps_explicit_nulls() {
    let parse = |text: &str| parse_documents(text).expect("parses");
    assert_eq!(parse(""), Vec::<Value>::new());
    assert_eq!(parse("# only a comment\n"), Vec::<Value>::new());
    assert_eq!(parse("---\n---\n"), Vec::<Value>::new());
    assert_eq!(parse("---\na: 1\n---\n# end\n"), vec![json!({ "a": 1 })]);
    assert_eq!(parse("null\n---\n~\n---\nk:\n"), vec![json!(null), json!(null), json!({ "k": null })]);
}

#[test]
fn parse_applies_merge_keys_and_aliases() {
    let text = "base: &b {x: 1, y: 2}\nother: &o {y: 9, z: 9}\nm:\n  <<: *b\n  y: 3\nl:\n  <<: [*o, *b]\n  w: 0\n";
    let parsed = parse_documents(text).expect("parses");
    assert_eq!(parsed[0]["m"], json!({ "x": 1, "y": 3 }));
    assert_eq!(parsed[0]["l"], json!({ "w": 0, "x": 1, "y": 9, "z": 9 }));
}

#[test]
fn parse_takes_scalar_keys_as_written() {
    let parsed = parse_documents("80: http\n0x1F: a\ntrue: b\n~: c\n1.50: d\n").expect("parses");
    assert_eq!(parsed, vec![json!({ "80": "http", "0x1F": "a", "true": "b", "~": "c", "1.50": "d" })]);
}

/// serde_yaml reads YAML 1.2 scalars: these YAML 1.1 spellings stay strings, `0o17` is octal, and a
/// float too large for f64 is a string. Pinned so that a swap of the parser shows up here.
#[test]
fn parse_reads_yaml_1_2_scalars() {
    let text = "a: yes\nb: 0644\nc: 1_000\nd: 0o17\ne: 1e400\nf: 2024-01-01\ng: 1:30\nh: 0x1F\ni: 1e3\nj: +1\nk: Off\n";
    let parsed = parse_documents(text).expect("parses");
    let expected = json!({ "a": "yes", "b": "0644", "c": "1_000", "d": 15, "e": "1e400", "f": "2024-01-01",
                           "g": "1:30", "h": 31, "i": 1000.0, "j": 1, "k": "Off" });
    assert_eq!(parsed, vec![expected]);
}

#[test]
fn parse_errors_carry_positions() {
    let cases: &[(&str, usize, usize, &str)] = &[
        ("a: 1\nb: [1, 2\n", 3, 1, "did not find expected ',' or ']'"),
        ("a:\n  b: 1\n c: 2\n", 3, 2, "did not find expected key"),
        ("a: 1\nb:\n  c: 1\n  c: 2\n", 4, 3, "duplicate key `c`"),
        ("a: 1\nb: !secret x\n", 2, 4, "unsupported YAML tag `!secret`"),
        ("a: 1\n---\nb: .inf\n", 3, 4, "has no JSON form"),
        ("k: 340282366920938463463374607431768211455\n", 1, 4, "does not fit in 64 bits"),
        ("a:\n  <<: 1\n", 2, 3, "the merge key `<<` takes a mapping"),
        ("a: *nope\n", 1, 4, "unknown anchor"),
        ("[1]: a\n", 1, 1, "expected a scalar mapping key"),
    ];
    for (text, line, column, message) in cases {
        let error = parse_documents(text).expect_err(text);
        assert_eq!((error.line, error.column), (Some(*line), Some(*column)), "{text:?}: {error}");
        assert!(error.message.contains(message), "{text:?}: {error}");
        assert!(!error.message.contains(&format!("at line {line} column {column}")), "position twice: {error}");
        assert!(error.to_string().ends_with(&format!(" at line {line} column {column}")), "{error}");
    }
}

/// The plain-scalar grammars of YAML 1.1 (yaml.org/type: bool, null, int, float, timestamp, merge,
/// value), of the YAML 1.2 core schema, and the wider float of the npm `yaml` package's 1.1 schema.
const RESOLVERS: &[&str] = &[
    r"^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
    r"^(~|null|Null|NULL|)$",
    r"^[-+]?0b[0-1_]+$",
    r"^[-+]?0[0-7_]+$",
    r"^[-+]?(0|[1-9][0-9_]*)$",
    r"^[-+]?0x[0-9a-fA-F_]+$",
    r"^[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+$",
    r"^[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?$",
    r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*$",
    r"^[-+]?\.(inf|Inf|INF)$",
    r"^\.(nan|NaN|NAN)$",
    r"^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$",
    concat!(
        r"^[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?([Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9]",
        r"(\.[0-9]*)?(([ \t]*)Z|[-+][0-9][0-9]?(:[0-9][0-9])?)?$"
    ),
    r"^(<<|=)$",
    r"^[-+]?[0-9]+$",
    r"^0o[0-7]+$",
    r"^0x[0-9a-fA-F]+$",
    r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$",
    r"^[-+]?([0-9][0-9_]*)?(\.[0-9_]*)?[eE][-+]?[0-9]+$",
];

/// Strings near the grammars of numbers, timestamps and reserved words.
const NUMBER_LIKE: &str = "[-+0-9_.:eExXoObB aTZ~<=]{0,9}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9:.]{0,12}Z?)?";

/// Whether some reader takes plain `s` for a non-string: a [`RESOLVERS`] grammar matches, or go-yaml
/// (Kubernetes, Helm) reads a number: for a scalar starting with a digit, a sign or a dot it drops
/// every `_`, then tries Go's `ParseInt(_, 0, 64)` and its float pattern.
fn some_reader_types(s: &str) -> bool {
    static GRAMMARS: LazyLock<[Vec<Regex>; 2]> = LazyLock::new(|| {
        let go = [
            r"^[-+]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[0-9]+)$",
            r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$",
        ];
        let compile = |patterns: &[&str]| patterns.iter().map(|p| Regex::new(p).expect("valid")).collect();
        [compile(RESOLVERS), compile(&go)]
    });
    let [yaml, go] = &*GRAMMARS;
    let plain = s.replace('_', "");
    yaml.iter().any(|r| r.is_match(s))
        || (s.starts_with(|c: char| c.is_ascii_digit() || "+-.".contains(c)) && go.iter().any(|r| r.is_match(&plain)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// Every string that some resolver reads as a non-string is quoted, as a value and as a key.
    #[test]
    fn strings_a_resolver_would_type_are_quoted(s in NUMBER_LIKE) {
        let typed = some_reader_types(&s);
        let value = render(&json!({ "k": &s }));
        let key = render(&json!({ &s: 1 }));
        prop_assert!(!typed || value.starts_with("k: \""), "{:?} must be quoted: {:?}", s, value);
        prop_assert!(!typed || key.starts_with('"'), "key {:?} must be quoted: {:?}", s, key);
        prop_assert_eq!(parse_documents(&value), Ok(vec![json!({ "k": &s })]));
    }
}

/// Tokens the generated strings are built from: the tricky ones and a few everyday ones.
fn token() -> impl Strategy<Value = String> {
    prop::sample::select([MUST_QUOTE, STAY_PLAIN].concat()).prop_map(str::to_owned)
}

/// Strings mixing tokens, YAML punctuation, whitespace, line breaks and arbitrary characters.
fn text() -> impl Strategy<Value = String> {
    let punctuation =
        concat!("[a-z0-9 :#?,.&*!|>'\"%@`~_+=/\\-\\[\\]{}\\\\", "\\n\\t\\r\\x{85}\\x{2028}\\x{feff}\\x{0}é日]{0,16}");
    prop_oneof![
        token(),
        punctuation,
        (token(), "[a-z :#\\n-]{0,6}", token()).prop_map(|(a, b, c)| format!("{a}{b}{c}")),
        prop::collection::vec(prop_oneof![token(), Just("\n".to_string()), Just(" ".to_string())], 0..8)
            .prop_map(|parts| parts.concat()),
        "\\PC{0,10}",
    ]
}

/// Arbitrary JSON scalars.
fn json_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        text().prop_map(Value::String),
    ]
}

/// Arbitrary JSON trees; keys avoid `<<`, which the parser reads as a merge key.
fn json_value() -> impl Strategy<Value = Value> {
    json_scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(text().prop_filter("merge key", |k| k != "<<"), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn render_then_parse_is_the_identity(value in json_value()) {
        let text = render(&value);
        let parsed = parse_documents(&text);
        prop_assert_eq!(parsed, Ok(vec![value]), "text:\n{}", text);
        prop_assert!(text.ends_with('\n') && !text.ends_with("\n\n"), "final newline: {:?}", text);
        prop_assert!(!text.contains('\r'));
        for line in text.lines() {
            prop_assert!(!line.ends_with([' ', '\t']), "trailing whitespace in {:?}", line);
        }
    }

    #[test]
    fn render_all_then_parse_is_the_identity(values in prop::collection::vec(json_value(), 0..4)) {
        let text = render_all(&values);
        prop_assert_eq!(parse_documents(&text), Ok(values), "text:\n{}", text);
    }
}

/// Keys as objects have them: the ones put first, a long one, and arbitrary text.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["name", "apiVersion", "kind", "metadata", "spec", "Name", "a", "z", "_", "名"])
            .prop_map(str::to_owned),
        Just("k".repeat(1001)),
        text().prop_filter("merge key", |k| k != "<<"),
    ]
}

/// Arbitrary JSON trees with object-like keys, and tails of new lines (a
/// literal block `|+`, which must not end a document).
fn object_like() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        json_scalar(),
        any::<f32>().prop_map(Value::from),
        (text(), "\n{0,3}").prop_map(|(a, b)| Value::String(a + &b)),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..7).prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Whether a string of `value` ends in two line breaks or more: the one
/// shape written straight declines (its block's form depends on being last).
fn keeps_final_newlines(value: &Value) -> bool {
    match value {
        Value::String(s) => s.ends_with("\n\n"),
        Value::Array(items) => items.iter().any(keeps_final_newlines),
        Value::Object(map) => map.values().any(keeps_final_newlines),
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// Written straight from `Serialize`, a value is the bytes its JSON is rendered to.
    #[test]
    fn written_straight_is_written_through_json(value in object_like()) {
        let through = render_json(&value);
        match render_straight(&value, |_| false) {
            Some(straight) => prop_assert_eq!(straight, through),
            None => prop_assert!(keeps_final_newlines(&value), "declined:\n{}", through),
        }
    }
}

/// Typed values the way backends make them: fields out of canonical order,
/// skipped options, enums, flattened bodies, integer keys, bytes.
#[test]
fn typed_values_written_straight_are_written_through_json() {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    enum Mode {
        Plain,
        Tagged(u8),
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Port {
        container_port: u16,
        name: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        protocol: Option<&'static str>,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Body {
        spec: Vec<Port>,
        data: std::collections::BTreeMap<u32, Vec<u8>>,
        modes: Vec<Mode>,
        ratio: f32,
        nothing: Option<()>,
        empty: Vec<u8>,
        unit: (),
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Wire {
        metadata: Value,
        kind: &'static str,
        #[serde(flatten)]
        body: Body,
        api_version: &'static str,
    }
    let wire = Wire {
        metadata: json!({ "namespace": "n", "name": "x", "labels": {} }),
        kind: "Thing",
        body: Body {
            spec: vec![
                Port { container_port: 80, name: "http", protocol: None },
                Port { container_port: 443, name: "https", protocol: Some("TCP") },
            ],
            data: [(10, vec![1, 2]), (2, vec![])].into_iter().collect(),
            modes: vec![Mode::Plain, Mode::Tagged(3)],
            ratio: 0.1,
            nothing: None,
            empty: Vec::new(),
            unit: (),
        },
        api_version: "example.com/v1",
    };
    let through = render_json(&serde_json::to_value(&wire).unwrap());
    assert_eq!(render_straight(&wire, |_| false).as_deref(), Some(&*through));
    assert!(through.starts_with("apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: x\n"), "{through}");
}

#[test]
fn written_straight_declines_a_refused_string_and_a_repeated_key() {
    let value = json!({ "a": ["fine", { "b": "secret" }] });
    assert_eq!(render_straight(&value, |s| s == "secret"), None);
    assert_eq!(render_straight(&value, |s| s == "other").as_deref(), Some(&*render_json(&value)));
    struct Twice;
    impl Serialize for Twice {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = serializer.serialize_map(None)?;
            map.serialize_entry("k", &1)?;
            map.serialize_entry("k", &2)?;
            map.end()
        }
    }
    assert_eq!(render_straight(&Twice, |_| false), None);
    // What `render` writes then is serde_json's: the last one.
    assert_eq!(render(&Twice), "k: 2\n");
}
