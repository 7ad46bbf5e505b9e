//! Tests of `set` over descriptions held in memory: each target shape, the
//! bytes that must not move, and every way an address can miss.

use super::*;
use crate::host::MemHost;

const ROOT: &str = r#"// The lab.
homelab "lab" {
    domain "lab.example.com"
}

cluster "main" distribution="kind" version="v1.33.1" {
    ingress "nginx"
    load-balancer "none"
}

node "cp" role="server" {
    arch "amd64"
    cpu 4; memory "8Gi"; disk "40Gi"
}

import "apps/web.kdl"
"#;

const WEB: &str = r#"// The web app: comments, odd spacing and order must survive.
app "web" {
    image   "nginx"  tag="1.27.0"   // pinned
    replicas 2 /* two */
    port "http" (port)8080
    service { expose "http" 80; }
    env "LOG_LEVEL" "info"
    env "MODE"      prod
    probe "liveness" http="/health" port="http"
    resources cpu="100m" memory="64Mi" cpu-limit="200m" memory-limit="128Mi"
    command "nginx" "-g"
}
"#;

const RESOURCES: &str = r#"resources cpu="100m" memory="64Mi" cpu-limit="200m" memory-limit="128Mi""#;

fn host(web: &str) -> MemHost {
    MemHost::with([("homelab.kdl", ROOT), ("apps/web.kdl", web)])
}

fn run(host: &MemHost, address: &str, value: &str) -> Set {
    let address = Address::parse(address).expect("a valid address");
    set(host, "homelab.kdl", &address, value, &Library::embedded())
}

/// The edited text of a successful `set`.
fn edited(address: &str, value: &str) -> String {
    let result = run(&host(WEB), address, value);
    match result.outcome {
        Outcome::Edited(edit) => {
            assert_eq!(edit.path, "apps/web.kdl");
            assert_eq!(edit.before, WEB);
            edit.after
        }
        other => panic!("{address} = {value}: {other:?}\n{:#?}", result.diagnostics),
    }
}

/// The one E0207 of a refused `set`, as (message, help).
fn unknown(host: &MemHost, address: &str) -> (String, String) {
    let result = run(host, address, "x");
    assert!(matches!(result.outcome, Outcome::Refused), "{address}: {:?}", result.outcome);
    match result.diagnostics.as_slice() {
        [d] if d.code == Code::E0207 => (d.message.clone(), d.help.clone().unwrap_or_default()),
        other => panic!("{address}: expected one E0207, found {other:#?}"),
    }
}

#[test]
fn a_tag_bump_changes_only_the_value_bytes() {
    let after = edited("app.web.image.tag", "sha-1a2b3c4");
    assert_eq!(after, WEB.replace(r#"tag="1.27.0""#, r#"tag="sha-1a2b3c4""#));
}

#[test]
fn a_child_holding_one_value() {
    assert_eq!(edited("app.web.replicas", "5"), WEB.replace("replicas 2 /*", "replicas 5 /*"));
    assert_eq!(
        edited("app.web.image", "nginx-unprivileged"),
        WEB.replace(r#""nginx"  tag"#, r#""nginx-unprivileged"  tag"#)
    );
}

#[test]
fn children_of_one_name_are_selected_by_their_first_argument() {
    assert_eq!(edited("app.web.env.LOG_LEVEL", "debug"), WEB.replace(r#""info""#, r#""debug""#));
    assert_eq!(edited("app.web.port.http", "9090"), WEB.replace("(port)8080", "(port)9090"));
    // A single child may be selected, or not.
    let selected = edited("app.web.probe.liveness.http", "/ready");
    assert_eq!(selected, WEB.replace(r#"http="/health""#, r#"http="/ready""#));
    assert_eq!(edited("app.web.probe.http", "/ready"), selected);
}

#[test]
fn a_bare_value_stays_bare_when_it_may() {
    assert_eq!(edited("app.web.env.MODE", "staging"), WEB.replace("      prod", "      staging"));
    assert_eq!(edited("app.web.env.MODE", "two words"), WEB.replace("      prod", "      \"two words\""));
}

#[test]
fn strings_are_escaped_and_read_back() {
    let after = edited("app.web.env.LOG_LEVEL", "say \"hi\"\\ \u{1b}");
    assert_eq!(after, WEB.replace(r#""info""#, r#""say \"hi\"\\ \u{1b}""#));
}

#[test]
fn a_missing_property_the_schema_knows_is_inserted() {
    let after = edited("app.web.image.arch", "amd64");
    assert_eq!(after, WEB.replace(r#"tag="1.27.0""#, r#"tag="1.27.0" arch="amd64""#));
}

#[test]
fn a_property_is_inserted_after_the_name_of_a_node_without_entries() {
    let after = edited("app.web.service.type", "NodePort");
    assert_eq!(after, WEB.replace("service {", "service type=\"NodePort\" {"));
}

#[test]
fn an_unknown_property_is_refused_with_the_schema_suggestion() {
    let (message, help) = unknown(&host(WEB), "app.web.image.tags");
    assert_eq!(message, "`app.web.image` has no `tags`");
    assert_eq!(help, "did you mean `tag`?");
    // No close name: the schema's list.
    let help = unknown(&host(WEB), "app.web.image.version").1;
    assert_eq!(help, "the known properties are `arch`, `digest`, `registry`, `tag`");
}

#[test]
fn a_value_the_schema_refuses_is_refused() {
    let result = run(&host(WEB), "app.web.replicas", "abc");
    assert!(matches!(result.outcome, Outcome::Refused));
    let codes: Vec<Code> = result.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.code).collect();
    assert_eq!(codes, [Code::E0105]);
    let result = run(&host(WEB), "app.web.image.tag", "latest");
    assert!(matches!(result.outcome, Outcome::Refused));
    assert!(result.diagnostics.iter().any(|d| d.code == Code::E0603), "{:#?}", result.diagnostics);
}

#[test]
fn the_same_value_changes_nothing() {
    let result = run(&host(WEB), "app.web.replicas", "2");
    let Outcome::Unchanged(edit) = result.outcome else { panic!("{:?}", result.outcome) };
    assert_eq!((edit.token.as_str(), edit.after.as_str()), ("2", WEB));
}

#[test]
fn kdl_v1_files_keep_v1_booleans() {
    let v1 = concat!(
        "app \"web\" {\n",
        "    image \"nginx\" tag=\"1.27.0\"\n",
        "    resources cpu=\"100m\" memory=\"64Mi\" cpu-limit=\"200m\" memory-limit=\"128Mi\"\n",
        "    read-only-root true\n",
        "}\n",
    );
    let result = run(&host(v1), "app.web.read-only-root", "false");
    let Outcome::Edited(edit) = result.outcome else { panic!("{:?} {:#?}", result.outcome, result.diagnostics) };
    assert_eq!(edit.after, v1.replace("read-only-root true", "read-only-root false"));
}

#[test]
fn unknown_kinds_names_and_children_are_suggested() {
    let h = host(WEB);
    assert_eq!(unknown(&h, "ap.web.replicas").1, "did you mean `app`?");
    assert_eq!(unknown(&h, "app.webb.replicas"), ("no app named `webb`".into(), "did you mean `app.web`?".into()));
    // A transposition is one edit.
    assert_eq!(unknown(&h, "app.wbe.replicas").1, "did you mean `app.web`?");
    assert_eq!(unknown(&h, "app.xyz.replicas").1, "the app declarations are `app.web`");
    let (message, help) = unknown(&h, "app.web.imag.tag");
    assert_eq!((message.as_str(), help.as_str()), ("`app.web` has no `imag`", "did you mean `app.web.image`?"));
    assert_eq!(unknown(&h, "chart.web.version").0, "the description declares no `chart`");
}

#[test]
fn several_children_need_a_selector() {
    let h = host(WEB);
    let (message, help) = unknown(&h, "app.web.env");
    assert_eq!(message, "`app.web.env` names 2 nodes");
    assert_eq!(help, "select one by its first argument: `app.web.env.LOG_LEVEL`, `app.web.env.MODE`");
    assert_eq!(unknown(&h, "app.web.env.LOG_LEVL").1, "did you mean `app.web.env.LOG_LEVEL`?");
}

#[test]
fn addresses_must_end_at_one_value() {
    let h = host(WEB);
    assert_eq!(unknown(&h, "app.web.image.tag.major").0, "`app.web.image.tag` is a property: it holds no `major`");
    let (message, help) = unknown(&h, "app.web.resources");
    assert_eq!(message, "`app.web.resources` holds no value of its own");
    assert!(help.contains("`app.web.resources.cpu`"), "{help}");
    assert_eq!(unknown(&h, "app.web.command").0, "`app.web.command` holds 2 values");
}

#[test]
fn names_shared_across_namespaces_are_qualified() {
    let two = format!(
        "{WEB}\napp \"web\" namespace=\"staging\" {{\n    image \"nginx\" tag=\"1.26.0\"\n    {RESOURCES}\n}}\n"
    );
    let h = host(&two);
    let (message, help) = unknown(&h, "app.web.image.tag");
    assert_eq!(message, "`app.web` names 2 declarations");
    assert_eq!(help, "qualify the name with its namespace: `app.web/web`, `app.staging/web`");
    let result = run(&h, "app.staging/web.image.tag", "1.27.1");
    let Outcome::Edited(edit) = result.outcome else { panic!("{:?} {:#?}", result.outcome, result.diagnostics) };
    assert_eq!(edit.after, two.replace("1.26.0", "1.27.1"));
    assert_eq!(unknown(&h, "app.prod/web.image.tag").0, "no app `web` in namespace `prod`");
    // The same name in the same namespace is a duplicate, not an ambiguity.
    let h = host(&two.replace("namespace=\"staging\"", "namespace=\"web\""));
    assert_eq!(
        unknown(&h, "app.web/web.replicas").1,
        "`app.web/web` is declared twice; `homelabc check` reports it: keep one"
    );
}

#[test]
fn the_root_file_is_edited_too() {
    let result = run(&host(WEB), "node.cp.cpu", "8");
    let Outcome::Edited(edit) = result.outcome else { panic!("{:?} {:#?}", result.outcome, result.diagnostics) };
    assert_eq!(edit.path, "homelab.kdl");
    assert_eq!(edit.after, ROOT.replace("cpu 4;", "cpu 8;"));
}
