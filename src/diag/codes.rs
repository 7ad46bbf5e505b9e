//! The registry of diagnostic codes: every code, its kebab-case name, its
//! severity, a one-line summary and the long text `homelabc explain` prints.
//!
//! Codes are stable: once released, a code keeps its meaning. The long texts
//! live in `src/diag/explain/<CODE>.md`, one file per code, in the manner of
//! rustc's error index and ruff's rule docs ("What it does / Why / Example").

use super::Severity;

macro_rules! codes {
    ($($code:ident $name:literal $sev:ident $summary:literal;)*) => {
        /// A stable diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $(
                #[doc = $summary]
                $code,
            )*
        }

        /// Every code, in registry order.
        pub const ALL: &[Code] = &[$(Code::$code),*];

        impl Code {
            /// The code as written, e.g. `E0301`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$code => stringify!($code)),* }
            }

            /// The kebab-case name, e.g. `node-outside-network`.
            pub fn name(self) -> &'static str {
                match self { $(Code::$code => $name),* }
            }

            /// The severity every diagnostic with this code has.
            pub fn severity(self) -> Severity {
                match self { $(Code::$code => Severity::$sev),* }
            }

            /// The one-line summary.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$code => $summary),* }
            }

            /// The long explanation, in Markdown.
            pub fn explanation(self) -> &'static str {
                match self {
                    $(Code::$code => include_str!(concat!("explain/", stringify!($code), ".md"))),*
                }
            }
        }
    };
}

codes! {
    // E01xx: syntax and schema.
    E0101 "kdl-syntax" Error "the file is not valid KDL";
    E0102 "unknown-kind" Error "a top-level node is not a known declaration kind";
    E0103 "unknown-field" Error "a property or child is not known for this declaration";
    E0104 "missing-field" Error "a required argument, property or child is missing";
    E0105 "invalid-value" Error "a value has the wrong type or is out of range";
    E0106 "invalid-name" Error "a name is not a valid RFC 1123 label";
    E0107 "duplicate-field" Error "a property or child that may appear once is given twice";
    E0108 "unknown-variant" Error "a value is not one of the allowed choices";
    E0109 "annotation-mismatch" Error "a KDL type annotation disagrees with the schema";
    E0110 "unexpected-argument" Error "a node has more arguments than it takes";
    E0111 "missing-homelab" Error "there is no `homelab` declaration, or more than one";
    E0112 "missing-cluster" Error "a declaration needs a cluster but none (or several) could be chosen";
    E0113 "gitops-path-mismatch" Error "clusters of one description name different `gitops path=` folders";
    E0114 "nesting-too-deep" Error "blocks, a block comment or a chain of imports nest deeper or run longer than homelabc reads";
    // E02xx: references and files.
    E0201 "unknown-reference" Error "a reference names a declaration that does not exist";
    E0202 "duplicate-name" Error "two declarations of one kind share a name in one namespace";
    E0203 "file-not-found" Error "an imported or referenced file does not exist or is not a regular file";
    E0204 "import-cycle" Error "files import each other in a cycle";
    E0205 "duplicate-import" Error "a file is imported more than once";
    E0206 "path-escapes-root" Error "a path leaves the description's root folder";
    E0207 "unknown-address" Error "a `homelabc set` address names nothing in the description";
    E0208 "invalid-manifest" Error "a `manifest` file is not YAML, or a document of it is not a Kubernetes object";
    E0209 "object-clash" Error "two objects of the output have the same apiVersion, kind, namespace and name";
    E0210 "invalid-values-file" Error "a chart's `values-file` is not YAML, or not one mapping";
    // E03xx: addressing.
    E0301 "node-outside-network" Error "a node address is outside its network";
    E0302 "duplicate-address" Error "two nodes have the same address";
    E0303 "pool-outside-network" Error "a load-balancer pool is not inside its network";
    E0304 "pool-overlaps-address" Error "a pool contains a node address, the gateway or a DNS server";
    E0305 "pool-overlaps-range" Error "a pool overlaps the DHCP range or another pool";
    E0306 "pool-overlaps-cluster-cidr" Error "a pool overlaps the cluster's pod or service CIDR";
    E0307 "cidr-overlap" Error "pod CIDR, service CIDR and networks overlap";
    E0308 "non-canonical-cidr" Error "a CIDR has host bits set";
    E0309 "service-cidr-too-small" Error "the service CIDR cannot hold the cluster DNS address";
    E0310 "address-outside-network" Error "a gateway or DHCP range is outside its network";
    E0311 "static-in-dhcp" Error "a static address sits inside the DHCP range";
    E0312 "reserved-address" Error "a node uses its network's own, broadcast or gateway address";
    E0313 "address-outside-pool" Error "a fixed load-balancer address is outside its pool";
    E0314 "duplicate-lb-address" Error "one fixed load-balancer address is given twice in one cluster";
    E0315 "address-without-load-balancer" Error "a fixed address is given to a service that is not a LoadBalancer";
    E0316 "bgp-without-peer" Error "a pool advertised over BGP has no `peer`";
    E0317 "peer-without-bgp" Error "a pool advertised over L2 declares BGP peers";
    E0318 "bgp-password-not-basic-auth" Error "a BGP peer's password secret is not a `type=\"basic-auth\"` secret";
    E0319 "conflicting-bgp-peer" Error "one BGP router is declared with different settings in one cluster";
    // E04xx: ports, ingresses and their TLS.
    E0401 "node-port-out-of-range" Error "a NodePort is outside 30000-32767";
    E0402 "node-port-conflict" Error "a NodePort is used twice in one cluster";
    E0403 "undeclared-port" Error "a service, probe, ingress or metrics names a port the app does not declare";
    E0404 "duplicate-port" Error "two ports of one app share a number or a name";
    E0405 "duplicate-ingress-host" Error "an ingress host and path is used twice";
    E0410 "tls-without-issuer" Error "a TLS ingress is on a cluster with no issuer to sign its certificate";
    E0411 "ambiguous-tls-issuer" Error "a cluster has several issuers and no `tls-issuer` choosing one for its TLS ingresses and https listeners";
    E0412 "http01-without-ingress" Error "an ACME issuer solves HTTP-01 on a cluster without ingress controller";
    E0413 "ca-secret-not-tls" Error "a CA issuer's secret is not a `type=\"tls\"` secret";
    E0414 "route-host-not-covered" Error "no listener of a route's gateway covers the route's host";
    E0415 "https-listener-without-issuer" Error "an https listener is on a cluster with no issuer to sign its certificate";
    E0416 "ambiguous-gateway" Error "a route names no gateway on a cluster with several";
    E0417 "duplicate-listener" Error "two listeners of one gateway share a name, or a port and hostname";
    E0418 "wildcard-needs-dns01" Error "a wildcard https listener's certificate would be proven over HTTP-01";
    E0419 "exposed-app-without-host" Error "a tunnel exposes an app that has no route or ingress host";
    E0420 "conflicting-dns" Error "the `dns` declarations of one cluster need different providers or tokens";
    E0421 "tunnel-host-without-record" Error "a tunnel's host is in a DNS zone, but its record cannot point at the tunnel";
    E0422 "gateway-without-listener" Error "a gateway has no listener, or an https listener no hostname, and there is no domain to default to";
    E0423 "app-exposed-twice" Error "two tunnels of one cluster expose the same app";
    // E05xx: graph.
    E0501 "dependency-cycle" Error "declarations depend on each other in a cycle";
    E0502 "component-disabled" Error "a declaration needs a component the cluster disables";
    // E06xx: security.
    E0601 "plaintext-secret" Error "a secret value is written in plain text";
    E0602 "sops-not-encrypted" Error "a SOPS file has a value outside `sops:` that is not `ENC[…]`, or a sealed file a document that is no SealedSecret";
    E0603 "mutable-image-tag" Error "an image has the tag `latest` or no tag";
    E0604 "privileged-without-allow" Error "a privileged or host-network pod lacks `allow-privileged #true`";
    E0605 "insecure-registry" Error "a registry is reached over HTTP without `insecure #true`";
    E0606 "sops-without-decryption" Error "a SOPS secret is placed in a cluster whose GitOps agent cannot decrypt it";
    E0607 "secret-type-mismatch" Error "a secret's type is not the one its file holds or its reader needs";
    E0608 "gitops-credentials" Error "a GitOps repository's credentials are missing or cannot exist before the first sync";
    E0609 "unsupported-store-provider" Error "a secret store's provider needs settings homelabc cannot write yet";
    E0610 "pod-security-refused" Error "a pod asks for what the Pod Security level of its namespace refuses";
    E0611 "credential-in-url" Error "a URL that reaches the output holds a password (`scheme://user:password@host`)";
    E0612 "secret-in-manifest" Error "a `manifest` file holds a plain Secret, or a credential in a ConfigMap or another object";
    E0613 "credential-in-output" Error "a string the build would write holds a credential that no check of the description caught";
    // E07xx: capacity and scheduling.
    E0701 "capacity-exceeded" Error "requests exceed what the cluster's nodes can hold";
    E0702 "arch-mismatch" Error "an image's architecture matches no node of the cluster";
    E0703 "no-matching-node" Error "no node matches an app's node selection and tolerates its taints";
    E0704 "gpu-unavailable" Error "no node an app may run on offers the GPU it asks for";
    // E08xx: pipelines.
    E0801 "build-without-registry" Error "a pipeline builds an app whose image names no declared registry";
    E0802 "deploy-not-built" Error "a pipeline deploys a different app than the one it builds";
    E0803 "deploy-without-gitops" Error "a `deploy via=\"gitops\"` for a cluster without `gitops`";
    E0804 "engine-limit" Error "a pipeline asks for something its CI engine cannot do";
    E0805 "pipeline-credentials" Error "credentials a pipeline needs are not where its jobs run";
    E0806 "ci-server-without-forge" Error "a Drone or Woodpecker pipeline runs on a server configured with no forge";
    E0807 "ci-server-unreachable" Error "a CI server or webhook receiver has no address or nothing exposes it outside the cluster";
    E0808 "kubectl-cannot-roll" Error "a pipeline's kubectl deploy cannot change the app's workload";
    // E09xx: dashboards and alerts.
    E0901 "promql-syntax" Error "a dashboard query or alert expression is not valid PromQL";
    E0902 "duplicate-dashboard-title" Error "two dashboards in one Grafana folder have the same title";
    E0903 "unknown-panel-unit" Error "a panel's unit is not a unit Grafana knows";
    // E12xx: workloads.
    E1201 "workload-shape" Error "an app's workload kind does not take one of its children or properties";
    E1202 "unknown-mount" Error "a `mount` or `env-from config=` names nothing the app's pod has";
    E1203 "duplicate-mount-path" Error "a container mounts two things at one path";
    E1204 "config-file" Error "a config file cannot become the ConfigMap it is declared as";
    E1205 "shared-own-claim" Error "the pods of a Deployment or DaemonSet would share a ReadWriteOnce volume";
    // E13xx: distributions and Talos.
    E1301 "role-of-another-distribution" Error "a node's role is not one its cluster's distribution names";
    E1302 "cluster-version" Error "a cluster's version is not a release of its distribution, or a Talos cluster does not pin one";
    E1303 "talos-no-endpoint" Error "a Talos cluster has neither `endpoint=` nor `vip`";
    E1304 "endpoint-off-network" Error "a Talos cluster's endpoint or VIP is not on the network it must be on";
    E1305 "endpoint-address-taken" Error "a Talos cluster's endpoint or VIP is an address something else uses";
    E1306 "talos-no-control-plane" Error "a Talos cluster has no control-plane node";
    E1307 "talos-node-incomplete" Error "a Talos node has no address or no install disk";
    E1308 "setting-of-another-distribution" Error "a setting belongs to another distribution than its cluster's";
    E1309 "no-default-storage-class" Error "a claim takes the default storage class of a cluster that has none";
    // E10xx: the closed world of the output.
    E1001 "dangling-reference" Error "an object names a Secret, ConfigMap, ServiceAccount, Service, claim or role nothing makes";
    E1002 "unknown-class" Error "an object names a storage or ingress class the cluster does not have";
    E1003 "missing-issuer-or-store" Error "an object names a certificate issuer or secret store nothing makes";
    E1004 "crd-not-installed" Error "an object's kind belongs to an API group whose CRDs nothing installs";
    // E11xx: storage and backups.
    E1101 "two-default-classes" Error "two storage classes of one cluster are both the default";
    E1102 "claim-mounted-by-many-pods" Error "a ReadWriteOncePod claim is mounted by more than one pod";
    E1103 "read-only-claim-mounted-writable" Error "a ReadOnlyMany claim is mounted without `read-only=#true`";
    E1104 "shared-restic-repository" Error "one secret would hold the restic repository of several claims";
    E1105 "copy-method-unsupported" Error "a backup copies with CSI snapshots or clones from storage that has none";
    E1106 "backup-schedule-refused" Error "a backup's schedule is one VolSync's trigger does not accept";
    // Warnings.
    W0101 "kdl-v1" Warning "the file is written in KDL v1";
    W0102 "unimported-file" Warning "a `.kdl` file below the description's folder is not imported";
    W0501 "unused-declaration" Warning "a declaration nothing uses and nothing deploys";
    W0502 "no-chart-installer" Warning "charts are declared or needed but nothing in the cluster installs charts";
    W0510 "host-outside-dns-zones" Warning "a host is outside every declared DNS zone";
    W0701 "spread-exceeds-nodes" Warning "more spread replicas than schedulable nodes";
    W0702 "single-server" Warning "the cluster has a single server (or Talos control-plane) node";
    W0703 "no-resource-limits" Warning "an app sets no resources, or no memory limit";
    W0704 "unmatched-toleration" Warning "an app tolerates a taint no node has";
    W0801 "kubectl-deploy-under-gitops" Warning "a pipeline rolls an app with kubectl that a GitOps agent keeps in sync";
    W1101 "second-default-class" Warning "a declared default storage class sits beside the distribution's own default";
    W1102 "read-write-once-across-nodes" Warning "a ReadWriteOnce claim is mounted by pods that may run on different nodes";
    W1103 "nfs-server-off-network" Warning "an NFS server's address is on none of the declared networks";
    W1104 "volume-without-backup" Warning "a persistent volume has no backup in a cluster that backs volumes up";
    W1105 "statefulset-backup-partial" Warning "a StatefulSet's backups cannot cover or restore every replica";
    W1106 "csi-driver-not-declared" Warning "a storage class's CSI driver is a chart the description does not install";
    W1301 "even-control-planes" Warning "a Talos cluster has an even number of control planes, which etcd's quorum does not use";
    W1302 "endpoint-on-one-node" Warning "a Talos cluster's endpoint is the address of one of its several control planes";
    W1303 "talos-taint-key-twice" Warning "a Talos node has two taints with one key, and talhelper takes one per key";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Code {
    type Err = ();

    /// Parses `E0301` (any case) or a kebab name such as `node-outside-network`.
    fn from_str(s: &str) -> Result<Code, ()> {
        ALL.iter().copied().find(|c| c.as_str().eq_ignore_ascii_case(s) || c.name() == s).ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn codes_and_names_are_unique() {
        let codes: BTreeSet<_> = ALL.iter().map(|c| c.as_str()).collect();
        let names: BTreeSet<_> = ALL.iter().map(|c| c.name()).collect();
        assert_eq!(codes.len(), ALL.len());
        assert_eq!(names.len(), ALL.len());
    }

    #[test]
    fn severity_matches_prefix() {
        for code in ALL {
            let warn = code.as_str().starts_with('W');
            assert_eq!(warn, code.severity() == Severity::Warning, "{code}");
        }
    }

    #[test]
    fn every_code_has_a_long_explanation() {
        for code in ALL {
            let text = code.explanation();
            assert!(text.starts_with(&format!("# {code}")), "{code}: starts with `# {code}`");
            for section in ["## What it means", "## Why", "## Example", "## Fixed"] {
                assert!(text.contains(section), "{code}: explanation lacks `{section}`");
            }
        }
    }
}
