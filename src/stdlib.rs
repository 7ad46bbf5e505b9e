//! The stdlib: components written in the homelab language (SPEC §2.4),
//! embedded in the binary and overridable per component with `--stdlib DIR`.
//!
//! The library only holds texts by name; [`crate::lower::component`] decides
//! which components a description includes and lowers them.

use std::collections::BTreeMap;

use crate::host::Host;

/// The components the binary embeds, by name, with their source text.
const EMBEDDED: &[(&str, &str)] = &[
    ("argocd", include_str!("../stdlib/argocd.kdl")),
    ("cert-manager", include_str!("../stdlib/cert-manager.kdl")),
    ("cloudflared", include_str!("../stdlib/cloudflared.kdl")),
    ("drone", include_str!("../stdlib/drone.kdl")),
    ("envoy-gateway", include_str!("../stdlib/envoy-gateway.kdl")),
    ("external-dns", include_str!("../stdlib/external-dns.kdl")),
    ("external-secrets", include_str!("../stdlib/external-secrets.kdl")),
    ("flux", include_str!("../stdlib/flux.kdl")),
    ("gitea", include_str!("../stdlib/gitea.kdl")),
    ("ingress-nginx", include_str!("../stdlib/ingress-nginx.kdl")),
    ("kube-prometheus-stack", include_str!("../stdlib/kube-prometheus-stack.kdl")),
    ("loki", include_str!("../stdlib/loki.kdl")),
    ("metallb", include_str!("../stdlib/metallb.kdl")),
    ("registry", include_str!("../stdlib/registry.kdl")),
    ("sealed-secrets", include_str!("../stdlib/sealed-secrets.kdl")),
    ("tekton", include_str!("../stdlib/tekton.kdl")),
    ("volsync", include_str!("../stdlib/volsync.kdl")),
    ("woodpecker", include_str!("../stdlib/woodpecker.kdl")),
];

/// Component sources by name.
#[derive(Clone, Debug, Default)]
pub struct Library {
    files: BTreeMap<String, String>,
}

impl Library {
    /// The embedded components.
    pub fn embedded() -> Library {
        Library { files: EMBEDDED.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect() }
    }

    /// The embedded components, with every `<name>.kdl` found in `host`'s
    /// root folder replacing or adding to them (`--stdlib DIR`).
    pub fn with_overrides(host: &dyn Host) -> std::io::Result<Library> {
        let mut library = Library::embedded();
        for path in host.kdl_files_below("")? {
            if path.contains('/') {
                continue;
            }
            let name = path.trim_end_matches(".kdl").to_string();
            library.files.insert(name, host.read(&path)?);
        }
        Ok(library)
    }

    /// The hex sha256 of every component's name and source: two libraries
    /// with one digest compile every description the same.
    pub fn digest(&self) -> String {
        let mut all = Vec::new();
        for (name, text) in &self.files {
            for part in [name.as_bytes(), b"\0", text.as_bytes(), b"\0"] {
                all.extend_from_slice(part);
            }
        }
        crate::output::sha256_hex(&all)
    }

    /// The source of a component.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.files.get(name).map(String::as_str)
    }

    /// Every component name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }
}
