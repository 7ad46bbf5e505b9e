//! The certificate issuers: a cert-manager ClusterIssuer (cert-manager.io/v1)
//! per `issuer`, in `configs/cert-manager` (applied after the chart that
//! installs the CRDs). TLS ingresses name their cluster's issuer in the
//! `cert-manager.io/cluster-issuer` annotation ([`super::k8s`]).

use serde::Serialize;

use super::{Artifacts, Custom, CustomKind, Origin, managed_labels, meta};
use crate::layout::{Folder, Unit};
use crate::model::{AcmeSolver, DnsProvider, Issuer, IssuerKind, Model};

/// The component whose CRDs the issuers need.
pub const COMPONENT: &str = "cert-manager";
/// The ACME directory an `acme` issuer without `server=` registers with.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// `ClusterIssuer`: signs certificates for Certificates of any namespace.
#[derive(Debug, Serialize)]
struct ClusterIssuer {
    spec: IssuerSpec,
}

impl CustomKind for ClusterIssuer {
    const API_VERSION: &'static str = "cert-manager.io/v1";
    const KIND: &'static str = "ClusterIssuer";
}

/// Exactly one of its fields is set.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct IssuerSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    acme: Option<Acme>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ca: Option<Ca>,
    #[serde(skip_serializing_if = "Option::is_none")]
    self_signed: Option<SelfSigned>,
}

/// An ACME account and how it proves names.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Acme {
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    server: String,
    /// The Secret cert-manager creates for the account's private key.
    private_key_secret_ref: SecretName,
    solvers: Vec<Solver>,
}

/// A reference to a Secret by name.
#[derive(Debug, Serialize)]
struct SecretName {
    name: String,
}

/// A key of a Secret.
#[derive(Debug, Serialize)]
struct SecretKey {
    name: String,
    key: String,
}

/// One way of proving names: HTTP-01 or DNS-01.
#[derive(Debug, Serialize)]
struct Solver {
    #[serde(skip_serializing_if = "Option::is_none")]
    http01: Option<Http01>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dns01: Option<Dns01>,
}

/// HTTP-01: a token served through an Ingress of the cluster's controller.
#[derive(Debug, Serialize)]
struct Http01 {
    ingress: Http01Ingress,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Http01Ingress {
    #[serde(skip_serializing_if = "Option::is_none")]
    ingress_class_name: Option<String>,
}

/// DNS-01: a TXT record set through the provider's API.
#[derive(Debug, Serialize)]
struct Dns01 {
    #[serde(skip_serializing_if = "Option::is_none")]
    cloudflare: Option<Cloudflare>,
    #[serde(skip_serializing_if = "Option::is_none")]
    digitalocean: Option<Digitalocean>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Cloudflare {
    api_token_secret_ref: SecretKey,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Digitalocean {
    token_secret_ref: SecretKey,
}

/// A CA whose certificate and key are a `kubernetes.io/tls` Secret.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Ca {
    secret_name: String,
}

/// Each certificate signed by its own key (`selfSigned: {}`).
#[derive(Debug, Serialize)]
struct SelfSigned {}

/// Emits a ClusterIssuer per issuer.
pub fn emit(model: &Model, out: &mut Artifacts) {
    for issuer in &model.issuers {
        let origin = Origin::of(issuer.id(model));
        let unit = Unit::new(model.cluster_key(issuer.cluster.as_ref()), Folder::Configs(COMPONENT.into()));
        let spec = match issuer.kind.value {
            IssuerKind::Acme => IssuerSpec { acme: Some(acme(model, issuer)), ..IssuerSpec::default() },
            IssuerKind::Ca => IssuerSpec {
                ca: issuer.secret.as_ref().map(|s| Ca { secret_name: s.value.clone() }),
                ..IssuerSpec::default()
            },
            IssuerKind::SelfSigned => IssuerSpec { self_signed: Some(SelfSigned {}), ..IssuerSpec::default() },
        };
        out.object(
            &origin,
            &unit,
            Custom::new(meta(&issuer.name.value, None, managed_labels()), ClusterIssuer { spec }),
        );
    }
}

/// The ACME part of an issuer: its account and its one solver.
fn acme(model: &Model, issuer: &Issuer) -> Acme {
    let token =
        |key: &str| issuer.token_secret.as_ref().map(|s| SecretKey { name: s.value.clone(), key: key.to_string() });
    let solver = issuer.solver.as_ref().map(|solver| match solver.value {
        AcmeSolver::Http01 => {
            let class = model.cluster_for(issuer.cluster.as_ref()).and_then(Model::controller_class);
            let ingress = Http01Ingress { ingress_class_name: class.map(str::to_string) };
            Solver { http01: Some(Http01 { ingress }), dns01: None }
        }
        AcmeSolver::Dns01 => {
            let dns01 = match issuer.provider.as_ref().map(|p| p.value) {
                Some(DnsProvider::Cloudflare) => Dns01 {
                    cloudflare: token(DnsProvider::Cloudflare.token_key())
                        .map(|t| Cloudflare { api_token_secret_ref: t }),
                    digitalocean: None,
                },
                Some(DnsProvider::Digitalocean) => Dns01 {
                    cloudflare: None,
                    digitalocean: token(DnsProvider::Digitalocean.token_key())
                        .map(|t| Digitalocean { token_secret_ref: t }),
                },
                None => Dns01 { cloudflare: None, digitalocean: None },
            };
            Solver { http01: None, dns01: Some(dns01) }
        }
    });
    Acme {
        email: issuer.email.as_ref().map(|e| e.value.clone()),
        server: issuer.server.as_ref().map_or(LETS_ENCRYPT, |s| s.value.as_str()).to_string(),
        private_key_secret_ref: SecretName { name: format!("{}-account-key", issuer.name.value) },
        solvers: solver.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use crate::driver;
    use crate::host::MemHost;
    use serde_json::{Value, json};

    /// The ClusterIssuers of a one-cluster description, by name.
    fn issuers(body: &str) -> Vec<(String, Value)> {
        let text = format!("homelab \"lab\"\ncluster \"home\" distribution=\"k3s\"\n{body}");
        let checked = driver::check(&MemHost::with([("homelab.kdl", text)]), "homelab.kdl");
        let mut out = crate::backend::Artifacts::default();
        super::emit(&checked.model, &mut out);
        let path = |o: &crate::backend::Object| o.unit.path();
        assert!(out.objects.iter().all(|o| path(o) == "configs/cert-manager"));
        out.objects.iter().map(|o| (o.id.name.clone(), o.value()["spec"].clone())).collect()
    }

    #[test]
    fn acme_http01_solves_through_the_clusters_controller() {
        let got = issuers("issuer \"le\" kind=\"acme\" email=\"me@example.com\" solver=\"http01\"\n");
        let spec = json!({"acme": {
            "email": "me@example.com",
            "server": super::LETS_ENCRYPT,
            "privateKeySecretRef": {"name": "le-account-key"},
            "solvers": [{"http01": {"ingress": {"ingressClassName": "traefik"}}}],
        }});
        assert_eq!(got, [("le".to_string(), spec)]);
    }

    #[test]
    fn acme_dns01_reads_the_providers_token() {
        let got = issuers(
            "issuer \"cf\" kind=\"acme\" email=\"a@b.c\" solver=\"dns01\" provider=\"cloudflare\" token-secret=\"cf-token\"\n\
             issuer \"do\" kind=\"acme\" email=\"a@b.c\" server=\"https://acme-staging-v02.api.letsencrypt.org/directory\" \
             solver=\"dns01\" provider=\"digitalocean\" token-secret=\"do-token\"\n",
        );
        assert_eq!(
            got[0].1["acme"]["solvers"],
            json!([{"dns01": {"cloudflare": {"apiTokenSecretRef": {"name": "cf-token", "key": "api-token"}}}}])
        );
        assert_eq!(
            got[1].1["acme"]["solvers"],
            json!([{"dns01": {"digitalocean": {"tokenSecretRef": {"name": "do-token", "key": "access-token"}}}}])
        );
        assert_eq!(got[1].1["acme"]["server"], "https://acme-staging-v02.api.letsencrypt.org/directory");
    }

    #[test]
    fn ca_and_self_signed() {
        let got = issuers("issuer \"home-ca\" kind=\"ca\" secret=\"home-ca\"\nissuer \"self\" kind=\"self-signed\"\n");
        assert_eq!(got[0].1, json!({"ca": {"secretName": "home-ca"}}));
        assert_eq!(got[1].1, json!({"selfSigned": {}}));
    }
}
