//! The Renovate preset (`homelabc renovate`, `renovate/homelabc.json5`):
//! custom managers that find every version a description pins in its `.kdl`
//! files, so that Renovate bumps the source and a rebuild carries the bump
//! into the tree.
//!
//! What is found, in the layout `homelabc fmt` writes:
//! - `image "NAME" tag="…"` (and `digest="sha256:…"` after it), on apps and
//!   their containers: the `docker` datasource. An image with `registry=`
//!   comes from the homelab's own registry, which its pipelines fill and
//!   bump: it is left to them (Renovate could not reach a LAN registry).
//! - `image="NAME:TAG"` of pipeline steps: `docker`.
//! - `chart … repo="https://…" chart="…" version="…"`: the `helm`
//!   datasource; `repo="oci://…"`: `docker`, the chart's OCI artifact.
//! - a cluster's `version=` (k3s releases, kind's `kindest/node` tags) and a
//!   Talos cluster's `kubernetes=`.
//! - in `use "COMPONENT" { … }`, each parameter of a stdlib component that
//!   pins the version of one of its charts, with that chart's repository:
//!   derived from the embedded components, so a new component is covered by
//!   the next release without a line here.

use crate::stdlib::Library;

/// The JSON Schema of Renovate's configuration.
const SCHEMA: &str = "https://docs.renovatebot.com/renovate-schema.json";

/// Which files the managers read.
const KDL_FILES: &str = "/(^|/)[^/]+\\.kdl$/";

/// One custom regex manager.
struct Manager {
    description: String,
    match_strings: Vec<String>,
    /// `(field, template)` pairs, written as `<field>Template`.
    templates: Vec<(&'static str, String)>,
}

/// A chart of a stdlib component whose version a parameter sets.
#[derive(Debug, PartialEq, Eq)]
pub struct PinnedChart {
    /// The component.
    pub component: String,
    /// The parameter (`version`, `runner-version`).
    pub param: String,
    /// The chart's repository (`https://…` or `oci://…`).
    pub repo: String,
    /// The chart's name.
    pub chart: String,
}

/// Every parameter of a stdlib component that sets a chart's `version=`
/// (`version="{version}"`), by component and parameter name.
pub fn pinned_charts(library: &Library) -> Vec<PinnedChart> {
    let mut out: Vec<PinnedChart> = crate::lower::component::summarize(library)
        .into_iter()
        .flat_map(|summary| {
            let component = summary.name;
            summary.version_params.into_iter().map(move |(param, repo, chart)| PinnedChart {
                component: component.clone(),
                param,
                repo,
                chart,
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.component, &a.param, &a.chart).cmp(&(&b.component, &b.param, &b.chart)));
    out.dedup_by(|a, b| a.component == b.component && a.param == b.param);
    out
}

/// The managers of the description's own pins.
fn description_managers() -> Vec<Manager> {
    let t = |field: &'static str, template: &str| (field, template.to_string());
    vec![
        Manager {
            description: "container images: image \"NAME\" tag=\"…\" (digest=\"sha256:…\"), without registry=".into(),
            match_strings: vec![
                r#"\bimage\s+"(?<depName>[^"]+)"\s+tag="(?<currentValue>[^"]+)"(\s+digest="(?<currentDigest>sha256:[0-9a-f]{64})")?\s*(\n|\{|;|//|$)"#
                    .into(),
            ],
            templates: vec![t("datasource", "docker")],
        },
        Manager {
            description: "pipeline step images: image=\"NAME:TAG\"".into(),
            match_strings: vec![
                r#"\bimage="(?<depName>[^"@\s]+?):(?<currentValue>[^"@:/\s]+)(@(?<currentDigest>sha256:[0-9a-f]{64}))?""#
                    .into(),
            ],
            templates: vec![t("datasource", "docker")],
        },
        Manager {
            description: "Helm charts: chart … repo=\"https://…\" chart=\"…\" version=\"…\"".into(),
            match_strings: vec![
                r#"(^|\n)\s*chart\s+"[^"]+"[^\n]*?\srepo="(?<registryUrl>https?://[^"]+)"[^\n]*?\schart="(?<depName>[^"]+)"[^\n]*?\sversion="(?<currentValue>[^"{}]+)""#
                    .into(),
            ],
            templates: vec![t("datasource", "helm")],
        },
        Manager {
            description: "OCI Helm charts: chart … repo=\"oci://…\" chart=\"…\" version=\"…\"".into(),
            match_strings: vec![
                r#"(^|\n)\s*chart\s+"[^"]+"[^\n]*?\srepo="oci://(?<ociRepository>[^"]+?)/?"[^\n]*?\schart="(?<depName>[^"]+)"[^\n]*?\sversion="(?<currentValue>[^"{}]+)""#
                    .into(),
            ],
            templates: vec![t("datasource", "docker"), t("packageName", "{{{ociRepository}}}/{{{depName}}}")],
        },
        Manager {
            description: "k3s releases: cluster … distribution=\"k3s\" version=\"v1.33.6+k3s1\"".into(),
            match_strings: vec![
                r#"(^|\n)\s*cluster\s+"[^"]+"[^\n]*?\sdistribution="k3s"[^\n]*?\sversion="(?<currentValue>v[^"]+)""#
                    .into(),
            ],
            templates: vec![t("datasource", "github-releases"), t("depName", "k3s-io/k3s")],
        },
        Manager {
            description: "kind node images: cluster … distribution=\"kind\" version=\"v1.33.1\"".into(),
            match_strings: vec![
                r#"(^|\n)\s*cluster\s+"[^"]+"[^\n]*?\sdistribution="kind"[^\n]*?\sversion="(?<currentValue>v[^"@]+)(@(?<currentDigest>sha256:[0-9a-f]{64}))?""#
                    .into(),
            ],
            templates: vec![t("datasource", "docker"), t("depName", "kindest/node")],
        },
        Manager {
            description: "Talos releases: cluster … distribution=\"talos\" version=\"v1.11.3\"".into(),
            match_strings: vec![
                r#"(^|\n)\s*cluster\s+"[^"]+"[^\n]*?\sdistribution="talos"[^\n]*?\sversion="(?<currentValue>v[^"]+)""#
                    .into(),
            ],
            templates: vec![t("datasource", "github-releases"), t("depName", "siderolabs/talos")],
        },
        Manager {
            description: "Kubernetes on Talos: cluster … distribution=\"talos\" … kubernetes=\"v1.34.1\"".into(),
            match_strings: vec![
                r#"(^|\n)\s*cluster\s+"[^"]+"[^\n]*?\sdistribution="talos"[^\n]*?\skubernetes="(?<currentValue>v[^"]+)""#
                    .into(),
            ],
            templates: vec![t("datasource", "github-releases"), t("depName", "kubernetes/kubernetes")],
        },
    ]
}

/// The manager of one stdlib parameter: its value in a `use` block, on the
/// line of `use` or as a direct child (indented once, as `fmt` writes it).
/// Each repetition reads one whole line, so that no pattern backtracks more
/// than linearly (Renovate falls back to JavaScript's RegExp without RE2).
fn component_manager(pin: &PinnedChart) -> Manager {
    let (component, param) = (regex_literal(&pin.component), regex_literal(&pin.param));
    let value = format!(r#"{param}\s+"(?<currentValue>[^"]+)""#);
    let match_strings = vec![
        format!(r#"(^|\n)use\s+"{component}"[ \t]*\{{([^}}\n]*?;)?[ \t]*{value}"#),
        format!(r#"(^|\n)use\s+"{component}"[ \t]*\{{[ \t]*(//[^\n]*)?\n(([ \t][^\n]*)?\n)*?    {value}"#),
    ];
    let mut templates = vec![("depName", pin.chart.clone())];
    match pin.repo.strip_prefix("oci://") {
        Some(repository) => {
            templates.push(("datasource", "docker".into()));
            templates.push(("packageName", format!("{}/{}", repository.trim_end_matches('/'), pin.chart)));
        }
        None => {
            templates.push(("datasource", "helm".into()));
            templates.push(("registryUrl", pin.repo.clone()));
        }
    }
    Manager {
        description: format!(
            "stdlib component {}: `{}` pins its chart {} ({})",
            pin.component, pin.param, pin.chart, pin.repo
        ),
        match_strings,
        templates,
    }
}

/// A string matched literally by a regex.
fn regex_literal(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The preset, as JSON5 text (JSON with a comment).
pub fn preset(library: &Library) -> String {
    config(library, &[])
}

/// A repository's `renovate.json5` (what `homelabc init` writes): Renovate's
/// recommended base and the preset's managers.
pub fn repository_config(library: &Library) -> String {
    config(library, &["config:recommended"])
}

fn config(library: &Library, extends: &[&str]) -> String {
    let mut managers = description_managers();
    managers.extend(pinned_charts(library).iter().map(component_manager));
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut out = String::new();
    out.push_str(&format!(
        "// Renovate preset for homelab descriptions, written by `homelabc renovate` (homelabc {}).\n\
         // Renovate bumps the versions in the .kdl files; a rebuild on Renovate's branch (README.md,\n\
         // \"Renovate\") commits the regenerated tree to the same pull request.\n",
        env!("CARGO_PKG_VERSION")
    ));
    out.push_str("{\n");
    out.push_str(&format!("  \"$schema\": {},\n", q(SCHEMA)));
    if !extends.is_empty() {
        let extends: Vec<String> = extends.iter().map(|e| q(e)).collect();
        out.push_str(&format!("  \"extends\": [{}],\n", extends.join(", ")));
    }
    out.push_str(&format!(
        "  \"description\": {},\n",
        q("Versions pinned in homelabc descriptions: images, charts, cluster releases, stdlib components")
    ));
    out.push_str("  \"customManagers\": [\n");
    for (i, manager) in managers.iter().enumerate() {
        out.push_str("    {\n");
        out.push_str("      \"customType\": \"regex\",\n");
        out.push_str(&format!("      \"description\": {},\n", q(&manager.description)));
        out.push_str(&format!("      \"managerFilePatterns\": [{}],\n", q(KDL_FILES)));
        let strings: Vec<String> = manager.match_strings.iter().map(|s| format!("        {}", q(s))).collect();
        out.push_str(&format!("      \"matchStrings\": [\n{}\n      ],\n", strings.join(",\n")));
        let templates: Vec<String> =
            manager.templates.iter().map(|(field, value)| format!("      \"{field}Template\": {}", q(value))).collect();
        out.push_str(&templates.join(",\n"));
        out.push_str(if i + 1 < managers.len() { "\n    },\n" } else { "\n    }\n" });
    }
    out.push_str("  ]\n}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chart_version_parameter_of_the_stdlib_is_found() {
        let pins = pinned_charts(&Library::embedded());
        let find = |component: &str, param: &str| {
            pins.iter().find(|p| p.component == component && p.param == param).map(|p| (&*p.repo, &*p.chart))
        };
        assert_eq!(find("cert-manager", "version"), Some(("https://charts.jetstack.io", "cert-manager")));
        assert_eq!(find("drone", "runner-version"), Some(("https://charts.drone.io", "drone-runner-kube")));
        assert_eq!(find("envoy-gateway", "version"), Some(("oci://docker.io/envoyproxy", "gateway-helm")));
        // cloudflared's `version` is an image tag, not a chart's version.
        assert_eq!(find("cloudflared", "version"), None);
    }

    #[test]
    fn the_shipped_preset_is_the_generated_one() {
        let shipped = include_str!("../renovate/homelabc.json5");
        assert!(
            shipped == preset(&Library::embedded()),
            "renovate/homelabc.json5 is stale: run `cargo run -- renovate > renovate/homelabc.json5`"
        );
    }

    #[test]
    fn the_preset_is_json() {
        let text = preset(&Library::embedded());
        let json: String = text.lines().filter(|l| !l.starts_with("//")).collect::<Vec<_>>().join("\n");
        let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        let managers = value["customManagers"].as_array().expect("managers");
        assert!(managers.len() > 8);
        for manager in managers {
            for pattern in manager["matchStrings"].as_array().expect("strings") {
                // The regex crate reads the RE2 syntax Renovate uses.
                regex::Regex::new(pattern.as_str().expect("string")).expect("a valid RE2 pattern");
            }
        }
    }

    #[test]
    fn the_managers_find_what_they_are_for() {
        let text = preset(&Library::embedded());
        let json: String = text.lines().filter(|l| !l.starts_with("//")).collect::<Vec<_>>().join("\n");
        let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        let kdl = "app \"a\" {\n    image \"ghcr.io/me/web\" tag=\"1.2.3\"\n    image \"web\" registry=\"local\" tag=\"sha-1\"\n}\n\
                   use \"cert-manager\" {\n    values {\n        version \"no\"\n    }\n    version \"v1.17.1\"\n}\n\
                   use \"loki\" { version \"6.0.0\" }\n";
        let mut found = Vec::new();
        for manager in value["customManagers"].as_array().expect("managers") {
            for pattern in manager["matchStrings"].as_array().expect("strings") {
                let re = regex::Regex::new(pattern.as_str().expect("string")).expect("regex");
                for captures in re.captures_iter(kdl) {
                    found.push(captures["currentValue"].to_string());
                }
            }
        }
        found.sort();
        // The image of the homelab's own registry is its pipelines', and the
        // `version` inside `values` is the chart's business.
        assert_eq!(found, ["1.2.3", "6.0.0", "v1.17.1"]);
    }
}
