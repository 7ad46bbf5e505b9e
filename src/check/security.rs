//! Checks on security: mutable image tags (E0603), privileged pods without an
//! explicit allowance (E0604) and registries over HTTP (E0605). Credentials
//! written in plain text are `plaintext.rs`'s (E0601, E0611, E0612), secret
//! files that are not encrypted `secret_files.rs`'s (E0602).

use crate::diag::{Code, Diagnostic};
use crate::model::{App, Model, Registry};

/// Runs the security checks.
pub fn check(model: &Model, diags: &mut Vec<Diagnostic>) {
    for app in &model.apps {
        app_image(app, diags);
        privileged(app, diags);
    }
    for pipeline in &model.pipelines {
        for step in &pipeline.steps {
            if let Some(problem) = step_image_problem(&step.image.value) {
                diags.push(
                    Diagnostic::new(Code::E0603, format!("step image `{}` {problem}", step.image.value))
                        .primary(step.image.span, "not pinned")
                        .help(format!(
                            "pin a version tag or a digest, e.g. `{0}:1.2.3` or `{0}@sha256:...`",
                            image_name(&step.image.value)
                        )),
                );
            }
        }
    }
    for registry in &model.registries {
        registry_scheme(registry, diags);
    }
}

// ---------------------------------------------------------------- E0603 --

/// E0603 for an image of an app's containers with the tag `latest`, or with
/// no tag and no digest.
fn app_image(app: &App, diags: &mut Vec<Diagnostic>) {
    for image in app.containers().filter_map(|c| c.image.as_ref()) {
        pinned(image, diags);
    }
}

/// E0603 for one image.
fn pinned(image: &crate::model::Image, diags: &mut Vec<Diagnostic>) {
    if image.digest.is_some() || image.repository.value.contains('@') {
        return;
    }
    let repo = &image.repository.value;
    let (message, span, label) = match &image.tag {
        Some(tag) if tag.value == "latest" => {
            (format!("image `{repo}` has the mutable tag `latest`"), tag.span, "moves with every push")
        }
        Some(_) => return,
        None => (format!("image `{repo}` has no tag or digest"), image.repository.span, "pulls whatever `latest` is"),
    };
    diags.push(
        Diagnostic::new(Code::E0603, message)
            .primary(span, label)
            .help("pin a version tag such as `tag=\"1.2.3\"`, or a digest with `digest=\"sha256:...\"`"),
    );
}

/// Why a `repo[:tag][@digest]` reference is not pinned, if it is not.
fn step_image_problem(reference: &str) -> Option<&'static str> {
    if reference.contains('@') {
        return None;
    }
    let last = reference.rsplit('/').next().unwrap_or(reference);
    match last.split_once(':') {
        Some((_, "latest")) => Some("has the mutable tag `latest`"),
        Some((_, tag)) if !tag.is_empty() => None,
        _ => Some("has no tag or digest"),
    }
}

/// The repository part of a `repo[:tag]` reference (keeping a registry port).
fn image_name(reference: &str) -> &str {
    let slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[slash..].find(':') {
        Some(colon) => &reference[..slash + colon],
        None => reference,
    }
}

// ---------------------------------------------------------------- E0604 --

/// E0604 for `privileged #true` or `host-network #true` without `allow-privileged #true`.
fn privileged(app: &App, diags: &mut Vec<Diagnostic>) {
    if app.allow_privileged.as_ref().is_some_and(|a| a.value) {
        return;
    }
    let flags = [
        (&app.privileged, "runs privileged", "privileged mode"),
        (&app.host_network, "uses the host network", "host network"),
    ];
    let mut set = flags
        .iter()
        .filter_map(|(flag, what, short)| flag.as_ref().filter(|f| f.value).map(|f| (f.span, *what, *short)));
    let Some((span, what, short)) = set.next() else { return };
    let mut d =
        Diagnostic::new(Code::E0604, format!("app `{}` {what} without `allow-privileged #true`", app.name.value))
            .primary(span, format!("{short} requested here"))
            .help("add `allow-privileged #true` to the app if this is intended");
    if let Some((other, _, also)) = set.next() {
        d = d.secondary(other, format!("{also} requested too"));
    }
    // Whether the namespace's Pod Security level allows it is E0607's.
    diags.push(d);
}

// ---------------------------------------------------------------- E0605 --

/// E0605 for `http://` without `insecure #true`, or `insecure #true` with `https://`.
fn registry_scheme(registry: &Registry, diags: &mut Vec<Diagnostic>) {
    let Some(scheme) = &registry.scheme else { return };
    let name = &registry.name.value;
    match (scheme.value.as_str(), &registry.insecure) {
        ("http", insecure) if !insecure.as_ref().is_some_and(|i| i.value) => diags.push(
            Diagnostic::new(Code::E0605, format!("registry `{name}` is reached over HTTP without `insecure #true`"))
                .primary(scheme.span, "a plain HTTP address")
                .help("add `insecure #true` inside the registry if plain HTTP is intended, or serve it over HTTPS"),
        ),
        ("https", Some(insecure)) if insecure.value => diags.push(
            Diagnostic::new(Code::E0605, format!("registry `{name}` is marked insecure but has an `https://` address"))
                .primary(insecure.span, "plain HTTP requested here")
                .secondary(scheme.span, "but this address is HTTPS")
                .help("remove `insecure #true`, or write the address without `https://` if the registry speaks plain HTTP"),
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver;
    use crate::host::MemHost;

    /// The E06xx codes emitted for a description and its files.
    fn codes(files: &[(&str, &str)]) -> Vec<String> {
        let host = MemHost::with(files.iter().map(|(p, t)| (p.to_string(), t.to_string())));
        let checked = driver::check(&host, "homelab.kdl");
        checked.diagnostics.iter().map(|d| d.code.to_string()).filter(|c| c.starts_with("E06")).collect()
    }

    const APP: &str = r#"resources cpu="100m" memory="64Mi" cpu-limit="200m" memory-limit="128Mi"
        port "http" 8080"#;

    #[test]
    fn pinned_images_and_allowed_privileges_are_fine() {
        let text = format!(
            r#"homelab "lab"
            cluster "home" distribution="k3s"
            namespace "home" pod-security="privileged"
            app "a" namespace="home" {{ {APP}
                image "me/a" tag="latest" digest="sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                privileged #true
                host-network #true
                allow-privileged #true }}
            app "b" {{ {APP}
                image "me/b:1.2.3"
                privileged #false }}"#
        );
        assert!(codes(&[("homelab.kdl", &text)]).is_empty());
    }

    #[test]
    fn privileged_and_host_network_make_one_diagnostic() {
        // In a privileged namespace, so that Pod Security (E0607) has nothing to say.
        let text = format!(
            r#"homelab "lab"
            cluster "home" distribution="k3s"
            namespace "a" pod-security="privileged"
            app "a" {{ {APP}
                image "me/a" tag="1.0.0"
                privileged #true
                host-network #true }}"#
        );
        assert_eq!(codes(&[("homelab.kdl", &text)]), ["E0604"]);
    }

    #[test]
    fn insecure_registries_must_say_so() {
        let registry = |address: &str, body: &str| {
            let text = format!(
                r#"homelab "lab"
                cluster "home" distribution="k3s"
                registry "r" address="{address}" {{ {body} }}
                app "a" {{ {APP}
                    image "me/a" registry="r" tag="1.0.0" }}"#
            );
            codes(&[("homelab.kdl", &text)])
        };
        assert_eq!(registry("http://10.0.0.5:5000", ""), ["E0605"]);
        assert!(registry("http://10.0.0.5:5000", "insecure #true").is_empty());
        assert!(registry("10.0.0.5:5000", "insecure #true").is_empty());
        assert_eq!(registry("https://ghcr.io", "insecure #true"), ["E0605"]);
    }

    #[test]
    fn parses_step_images() {
        assert_eq!(step_image_problem("python:3.12-slim"), None);
        assert_eq!(step_image_problem("registry.local:5000/ci/tool"), Some("has no tag or digest"));
        assert_eq!(step_image_problem("registry.local:5000/ci/tool:latest"), Some("has the mutable tag `latest`"));
        assert_eq!(step_image_problem("alpine@sha256:0123"), None);
        assert_eq!(image_name("registry.local:5000/ci/tool:latest"), "registry.local:5000/ci/tool");
    }
}
