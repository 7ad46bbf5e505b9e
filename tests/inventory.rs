//! The generated inventory (`README.md` of the output tree) of every example:
//! a snapshot each, and checks that it names every app's NodePorts and
//! ingress and route hosts and draws each namespace holding apps as a subgraph.

mod common;

use common::examples;

use homelabc::driver::{self, Built};
use homelabc::host::FsHost;

/// Every example, built in memory: its name, the build, and its README.md.
fn built_examples() -> Vec<(String, Built, String)> {
    examples()
        .into_iter()
        .map(|example| {
            let name = example.file_name().expect("named").to_string_lossy().into_owned();
            let built = driver::build(&FsHost::new(&example), "homelab.kdl");
            assert!(!built.checked.has_errors(), "{name}: {:?}", built.checked.diagnostics);
            let tree = built.tree.as_ref().expect("no errors").as_ref().expect("layout succeeds");
            let readme = tree.get("README.md").expect("README.md is written");
            let readme = String::from_utf8(readme.to_vec()).expect("UTF-8");
            (name, built, readme)
        })
        .collect()
}

#[test]
fn every_example_inventory_matches_its_snapshot() {
    for (name, _, readme) in built_examples() {
        insta::assert_snapshot!(format!("{name}-inventory"), readme);
    }
}

/// The lines of the mermaid block.
fn mermaid(readme: &str) -> Vec<&str> {
    let start = readme.find("```mermaid\n").expect("a mermaid block") + "```mermaid\n".len();
    let end = start + readme[start..].find("```").expect("closed");
    readme[start..end].lines().collect()
}

/// The node lines of the subgraph titled `namespace <ns>`.
fn subgraph<'a>(lines: &[&'a str], ns: &str) -> Vec<&'a str> {
    let title = format!("[\"namespace {ns}\"]");
    let opening: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].trim_start().starts_with("subgraph ") && lines[i].ends_with(&title))
        .collect();
    assert_eq!(opening.len(), 1, "one subgraph for namespace {ns}");
    lines[opening[0] + 1..].iter().take_while(|l| l.trim() != "end").copied().collect()
}

#[test]
fn every_namespace_with_apps_is_one_subgraph_holding_them() {
    for (name, built, readme) in built_examples() {
        let lines = mermaid(&readme);
        assert_eq!(lines.first(), Some(&"flowchart LR"), "{name}");
        let model = &built.checked.model;
        for ns in model.app_namespaces() {
            let inside = subgraph(&lines, ns);
            for app in model.apps.iter().filter(|a| a.namespace.value == ns) {
                let node = format!("[\"{}\"]", app.id(model).label());
                assert!(
                    inside.iter().any(|l| l.ends_with(&node)),
                    "{name}: app {} not in subgraph {ns}",
                    app.name.value
                );
            }
        }
    }
}

#[test]
fn every_app_node_port_ingress_and_route_host_is_listed() {
    for (name, built, readme) in built_examples() {
        let model = &built.checked.model;
        let reachable = readme.split("## Reachable from outside").nth(1).unwrap_or_default();
        for app in &model.apps {
            for ingress in &app.ingresses {
                let host = model.ingress_host(&ingress.host.value);
                assert!(reachable.contains(&format!("://{host}")), "{name}: ingress host {host} missing");
            }
            for route in &app.routes {
                let host = model.ingress_host(&route.host.value);
                assert!(reachable.contains(&format!("://{host}")), "{name}: route host {host} missing");
            }
            let exposes = app.service.iter().flat_map(|s| &s.exposes);
            for np in exposes.filter_map(|e| e.node_port.as_ref()) {
                assert!(reachable.contains(&format!(":{}", np.value)), "{name}: NodePort {} missing", np.value);
            }
        }
        for registry in &model.registries {
            if let Some(np) = registry.deploy.as_ref().and_then(|d| d.node_port.as_ref()) {
                assert!(
                    reachable.contains(&format!(":{}", np.value)),
                    "{name}: registry NodePort {} missing",
                    np.value
                );
            }
        }
    }
}
