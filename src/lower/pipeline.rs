//! Lowering of `pipeline` declarations.

use super::infra::single_value;
use super::reader::{Cx, Label, Reader, Shape, Url, report_duplicates};
use crate::diag::{Code, Diagnostic};
use crate::model::*;
use crate::source::Spanned;
use crate::syntax::tree;

pub(super) fn pipeline(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Pipeline> {
    let r = Reader::open(
        cx,
        node,
        Shape {
            what: "pipeline",
            max_args: 1,
            props: &["engine", "namespace", "cluster"],
            children: &["source", "trigger", "step", "build", "deploy", "workspace"],
        },
    );
    let name = r.name(cx);
    let engine = r.req_word_prop::<Engine>(cx, "engine");
    let namespace = r.opt_ref(cx, "namespace");
    let cluster = r.opt_ref(cx, "cluster");
    let source = r.child_once(cx, "source").and_then(|c| {
        let s = Reader::open(cx, c, Shape { what: "source", max_args: 0, props: &["repo", "branch"], children: &[] });
        let repo = s.req_prop::<Url>(cx, "repo").map(|u| u.map(|u| u.0));
        let at = s.name_span(cx);
        let branch = s.prop::<String>(cx, "branch").unwrap_or(Spanned::new("main".into(), at));
        Some(Source { repo: repo?, branch, span: s.span(cx) })
    });
    let mut triggers = Vec::new();
    for c in r.children_named("trigger") {
        let t = Reader::open(cx, c, Shape { what: "trigger", max_args: 4, props: &[], children: &[] });
        let words = t.rest_args::<super::reader::Spanless<Trigger>>(cx, 0);
        if words.is_empty() {
            t.word_arg::<Trigger>(cx, 0, "a trigger");
        }
        triggers.extend(words.into_iter().map(|w| w.map(|w| w.0)));
    }
    report_duplicates(cx, triggers.iter().map(|t| (t.value.as_str(), t.span)), "trigger", Code::E0107);
    let steps: Vec<Step> = r.lower_each(cx, "step", step);
    report_duplicates(cx, steps.iter().map(|s| (s.name.value.as_str(), s.name.span)), "step", Code::E0202);
    let build = r.child_once(cx, "build").and_then(|c| {
        let b = Reader::open(
            cx,
            c,
            Shape { what: "build", max_args: 0, props: &["app", "context", "dockerfile"], children: &[] },
        );
        let app = b.req_ref(cx, "app");
        let at = b.name_span(cx);
        let context = b.prop::<String>(cx, "context").unwrap_or(Spanned::new(".".into(), at));
        let dockerfile = b.prop::<String>(cx, "dockerfile").unwrap_or(Spanned::new("Dockerfile".into(), at));
        Some(Build { app: app?, context, dockerfile, span: b.span(cx) })
    });
    let deploy = r.child_once(cx, "deploy").and_then(|c| {
        let d =
            Reader::open(cx, c, Shape { what: "deploy", max_args: 0, props: &["app", "via", "secret"], children: &[] });
        let app = d.req_ref(cx, "app");
        let at = d.name_span(cx);
        let via = d.word_prop::<DeployVia>(cx, "via").unwrap_or(Spanned::new(DeployVia::Gitops, at));
        let secret = d.opt_ref(cx, "secret");
        Some(Deploy { app: app?, via, secret, span: d.span(cx) })
    });
    let workspace = r.child_once(cx, "workspace").map(|c| {
        let w = Reader::open(cx, c, Shape { what: "workspace", max_args: 0, props: &["size"], children: &[] });
        let at = w.name_span(cx);
        let size = w.prop::<Quantity>(cx, "size").unwrap_or(Spanned::new(Quantity::parse("1Gi").expect("valid"), at));
        Workspace { size, span: w.span(cx) }
    });
    let name = name?;
    if steps.is_empty() && build.is_none() && deploy.is_none() {
        cx.report(
            Diagnostic::new(Code::E0104, format!("pipeline `{}` does nothing", name.value))
                .primary(name.span, "no step, build or deploy")
                .help("add `step`, `build app=...` or `deploy app=...` inside the pipeline"),
        );
    }
    Some(Pipeline {
        name,
        engine: engine?,
        namespace,
        source,
        triggers,
        steps,
        build,
        deploy,
        workspace,
        cluster,
        span: r.span(cx),
    })
}

fn step(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Step> {
    let r = Reader::open(cx, node, Shape { what: "step", max_args: 1, props: &["image"], children: &["run"] });
    let name = r.arg::<Label>(cx, 0, "a name").map(|l| l.map(|l| l.0));
    let image = r.req_prop::<String>(cx, "image");
    let run: Vec<Spanned<String>> = r.lower_each(cx, "run", |cx, c| single_value::<String>(cx, c, "run", "a command"));
    if run.is_empty() {
        let at = r.name_span(cx);
        cx.report(
            Diagnostic::new(Code::E0104, "step runs no command")
                .primary(at, "no `run` inside")
                .help("add `run \"command\"` inside the step"),
        );
    }
    Some(Step { name: name?, image: image?, run, span: r.span(cx) })
}
