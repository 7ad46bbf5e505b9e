//! Lowering of `dashboard` and `alert` declarations.

use super::reader::{Cx, Reader, Shape};
use crate::diag::{Code, Diagnostic};
use crate::model::*;
use crate::source::Spanned;
use crate::syntax::tree;

pub(super) fn dashboard(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Dashboard> {
    let r = Reader::open(
        cx,
        node,
        Shape { what: "dashboard", max_args: 1, props: &["folder", "title", "cluster"], children: &["row", "panel"] },
    );
    let name = r.name(cx)?;
    let title = r.prop::<String>(cx, "title").unwrap_or_else(|| name.clone());
    let folder = r.prop::<String>(cx, "folder").unwrap_or(Spanned::new("general".into(), name.span));
    if let Err(m) = check_rfc1123_label(&folder.value) {
        cx.report(
            Diagnostic::new(Code::E0106, format!("invalid folder name: {m}"))
                .primary(folder.span, "used as a folder name in the output")
                .help("use a lowercase name such as `apps`"),
        );
    }
    let mut rows = Vec::new();
    let loose: Vec<Panel> = r.lower_each(cx, "panel", panel);
    if !loose.is_empty() {
        rows.push(Row { title: None, panels: loose });
    }
    for c in r.children_named("row") {
        let row = Reader::open(cx, c, Shape { what: "row", max_args: 1, props: &[], children: &["panel"] });
        let title = row.arg::<String>(cx, 0, "a title");
        let panels = row.lower_each(cx, "panel", panel);
        rows.push(Row { title, panels });
    }
    let cluster = r.opt_ref(cx, "cluster");
    Some(Dashboard { name, title, folder, rows, cluster, span: r.span(cx) })
}

fn panel(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Panel> {
    let r = Reader::open(
        cx,
        node,
        Shape {
            what: "panel",
            max_args: 1,
            props: &["kind", "unit", "min", "max", "legend"],
            children: &["query", "threshold"],
        },
    );
    let title = r.arg::<String>(cx, 0, "a title");
    let at = r.name_span(cx);
    let kind = r.word_prop::<PanelKind>(cx, "kind").unwrap_or(Spanned::new(PanelKind::Timeseries, at));
    let unit = r.prop::<String>(cx, "unit");
    let min = r.prop::<f64>(cx, "min");
    let max = r.prop::<f64>(cx, "max");
    let legend = r.word_prop::<LegendPlacement>(cx, "legend");
    let mut queries = Vec::new();
    for c in r.children_named("query") {
        let q = Reader::open(cx, c, Shape { what: "query", max_args: 1, props: &["legend"], children: &[] });
        if let Some(expr) = q.arg::<String>(cx, 0, "a PromQL expression") {
            queries.push(Query { expr, legend: q.prop::<String>(cx, "legend") });
        }
    }
    if queries.is_empty() {
        cx.report(
            Diagnostic::new(Code::E0104, "panel has no query")
                .primary(at, "nothing to show")
                .help("add `query \"sum(rate(http_requests_total[5m]))\"` inside the panel"),
        );
    }
    let mut thresholds = Vec::new();
    for c in r.children_named("threshold") {
        let t = Reader::open(cx, c, Shape { what: "threshold", max_args: 1, props: &["color"], children: &[] });
        let Some(value) = t.arg::<f64>(cx, 0, "the value the step starts at") else { continue };
        // Later steps are more severe by default: orange, then red.
        let fallback = if thresholds.is_empty() { "orange" } else { "red" };
        let color = t.prop::<String>(cx, "color").unwrap_or(Spanned::new(fallback.into(), value.span));
        if !is_grafana_color(&color.value) {
            let help = match crate::suggest::did_you_mean(&color.value, HUES.iter().copied()) {
                Some(hue) => format!("did you mean `{hue}`? Grafana also takes `#rrggbb`"),
                None => "use a color name (green, yellow, orange, red, blue, purple, ...) or `#rrggbb`".into(),
            };
            cx.report(
                Diagnostic::new(Code::E0105, format!("unknown color `{}`", color.value))
                    .primary(color.span, "not a Grafana color")
                    .help(help),
            );
        }
        if let Some(last) = thresholds.last().map(|t: &Threshold| t.value.value)
            && value.value <= last
        {
            cx.report(
                Diagnostic::new(Code::E0105, "thresholds must go up")
                    .primary(value.span, format!("not above the previous step ({last})"))
                    .help("write the threshold steps from the lowest value to the highest"),
            );
        }
        thresholds.push(Threshold { value, color });
    }
    Some(Panel { title: title?, kind, unit, queries, min, max, legend, thresholds, span: r.span(cx) })
}

/// Grafana's named hues; each also comes in `super-light-`, `light-`, `semi-dark-` and `dark-` shades.
const HUES: &[&str] = &["red", "orange", "yellow", "green", "blue", "purple"];

/// Grafana's named colors (and their shades), or a `#rgb`/`#rrggbb` hex color.
fn is_grafana_color(color: &str) -> bool {
    if let Some(hex) = color.strip_prefix('#') {
        return matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit());
    }
    const SHADES: &[&str] = &["super-light-", "light-", "semi-dark-", "dark-"];
    let named = ["transparent", "text", "white", "black", "gray", "grey"].contains(&color);
    let hue = SHADES.iter().find_map(|s| color.strip_prefix(s)).unwrap_or(color);
    named || HUES.contains(&hue)
}

pub(super) fn alert(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Alert> {
    let r = Reader::open(
        cx,
        node,
        Shape {
            what: "alert",
            max_args: 1,
            props: &["expr", "for", "severity", "namespace", "cluster"],
            children: &["summary", "description"],
        },
    );
    // Alert names follow Prometheus' convention (`DemoAppDown`), not RFC 1123.
    let name = r.arg::<String>(cx, 0, "a name")?;
    let valid = name.value.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        cx.report(
            Diagnostic::new(Code::E0106, format!("invalid alert name `{}`", name.value))
                .primary(name.span, "not a Prometheus alert name")
                .help("alert names are written in CamelCase letters and digits, e.g. `DemoAppDown`"),
        );
    }
    let expr = r.req_prop::<String>(cx, "expr");
    let for_ = r.prop::<Duration>(cx, "for");
    let severity =
        r.word_prop::<AlertSeverity>(cx, "severity").unwrap_or(Spanned::new(AlertSeverity::Warning, name.span));
    let namespace = r.opt_ref(cx, "namespace").unwrap_or(Spanned::new("monitoring".into(), name.span));
    let text = |cx: &mut Cx<'_>, key: &'static str| {
        r.child_once(cx, key).and_then(|c| super::infra::single_value::<String>(cx, c, key, "a text"))
    };
    let summary = text(cx, "summary");
    let description = text(cx, "description");
    let cluster = r.opt_ref(cx, "cluster");
    Some(Alert { name, namespace, expr: expr?, for_, severity, summary, description, cluster, span: r.span(cx) })
}
