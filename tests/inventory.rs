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

/// The (first) Bootstrap section of a README, heading included, up to the
/// next heading: `## Bootstrap`, or `### Bootstrap` under a cluster's heading.
fn bootstrap(readme: &str) -> &str {
    let heading = readme.find("## Bootstrap\n").expect("a Bootstrap section");
    let start = readme[..heading].rfind('\n').map_or(0, |i| i + 1);
    let end = readme[heading..].find("\n#").map_or(readme.len(), |i| heading + i + 1);
    &readme[start..end]
}

/// The numbered steps of a Bootstrap section, with their sub-items.
fn steps(section: &str) -> Vec<String> {
    let mut steps: Vec<String> = Vec::new();
    for line in section.lines() {
        let number = line.split_once(". ").and_then(|(n, _)| n.parse::<usize>().ok());
        match (number, steps.last_mut()) {
            (Some(n), _) => {
                assert_eq!(n, steps.len() + 1, "steps are numbered in order:\n{section}");
                steps.push(line.to_string());
            }
            (None, Some(step)) if line.starts_with("   ") => step.push_str(&format!("\n{line}")),
            _ => {}
        }
    }
    steps
}

/// The index of the one step that holds `needle`.
fn step_of(steps: &[String], needle: &str) -> usize {
    let found: Vec<usize> = (0..steps.len()).filter(|&i| steps[i].contains(needle)).collect();
    assert_eq!(found.len(), 1, "`{needle}` in exactly one step: {steps:#?}");
    found[0]
}

#[test]
fn the_bootstrap_steps_come_in_order_and_name_every_secret_made_by_hand_without_a_value() {
    let literal = regex::Regex::new(r"--(?:from-literal|from-file)=([^=\s`]+)=([^\s`]+)").expect("regex");
    for (name, built, readme) in built_examples() {
        let section = bootstrap(&readme);
        let steps = steps(section);
        let model = &built.checked.model;
        match name.as_str() {
            "kind-flux-tekton" => {
                insta::assert_snapshot!(format!("{name}-bootstrap"), section);
                let cluster = step_of(&steps, "kind create cluster --config kind-config.yaml");
                let agent = step_of(&steps, "flux install --version=v2.4.0");
                let age = step_of(&steps, "create secret generic sops-age --from-file=age.agekey=...");
                let sync = step_of(&steps, "kubectl apply -k clusters/kind-homelab/flux-system");
                assert!(cluster < agent && agent < age && age < sync, "{steps:#?}");
                assert_eq!(sync, steps.len() - 1, "the first sync comes last");
            }
            "microservices-argocd" => {
                insta::assert_snapshot!(format!("{name}-bootstrap"), section);
                let token = step_of(&steps, "/etc/rancher/k3s/cluster-token");
                let agent = step_of(&steps, "helm install argocd argo-cd --repo https://argoproj.github.io/argo-helm");
                let secrets = step_of(&steps, "kubectl create namespace cert-manager");
                let sync = step_of(&steps, "kubectl apply -f clusters/kubeops/application-kubeops-root.yaml");
                assert!(token < agent && agent < secrets && secrets < sync, "{steps:#?}");
                let ca = "`kubeops-ca` in `cert-manager`, read by issuer `kubeops-ca`, keys `tls.crt`, `tls.key`";
                assert!(steps[secrets].contains(ca), "{}", steps[secrets]);
                let vault = "`vault-token` in `external-secrets`, read by secret store `vault`, key `token`";
                assert!(steps[secrets].contains(vault), "{}", steps[secrets]);
            }
            _ => {}
        }
        // Every secret made by hand is created, in its namespace, before the first sync.
        for secret in model.secrets.iter().filter(|s| matches!(s.source, homelabc::model::SecretSource::Existing)) {
            let (secret, ns) = (&secret.name.value, &secret.namespace.value);
            let at = step_of(&steps, &format!("`{secret}` in `{ns}`"));
            assert!(at < steps.len() - 1, "{name}: {secret} is made before the first sync");
        }
        // No value: every literal or file a command takes is left to the
        // reader, but a backup secret's restic repository, which the tree
        // names anyway (one per claim, in the storage table).
        for capture in literal.captures_iter(section) {
            if &capture[1] == "RESTIC_REPOSITORY" {
                assert!(readme.contains(&format!("| `{}` |", &capture[2])), "{name}: {}", &capture[0]);
                continue;
            }
            assert_eq!(&capture[2], "...", "{name}: a value in {}", &capture[0]);
        }
        assert!(!section.contains("ENC["), "{name}: no encrypted material");
    }
}
