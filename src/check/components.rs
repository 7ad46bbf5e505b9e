//! Component checks (E0502): a declaration that needs a cluster component
//! (MetalLB, a load balancer, an ingress controller) the cluster disables.

use crate::diag::{Code, Diagnostic};
use crate::model::{App, Cluster, Distribution, IngressController, LoadBalancer, Model, Pool, ServiceType, Word};
use crate::source::Span;

/// Runs the component checks.
pub fn check(model: &Model, diags: &mut Vec<Diagnostic>) {
    diags.extend(charts_without_installer(model));
    for pool in &model.pools {
        diags.extend(pool_without_metallb(model, pool));
    }
    for gateway in &model.gateways {
        diags.extend(gateway_pool_without_metallb(model, gateway));
    }
    for app in &model.apps {
        if let Some(cluster) = model.cluster_for(app.cluster.as_ref()) {
            check_app(cluster, app, diags);
        }
    }
}

/// Charts on a cluster with neither GitOps nor k3s's helm-controller (kind,
/// Talos): no object homelabc could write would install them.
fn charts_without_installer(model: &Model) -> Option<Diagnostic> {
    let cluster = model.cluster_for(None)?;
    if model.chart_installer().is_some() {
        return None;
    }
    // Charts the cluster's own defaults bring in (kind's ingress-nginx) are
    // usually installed by hand as kind's guide says: no warning for those.
    let defaulted = |c: &&crate::model::Chart| {
        c.component.as_deref().and_then(|n| model.component(n)).is_some_and(|c| c.by_default)
    };
    let charts: Vec<&crate::model::Chart> = model.charts.iter().filter(|c| !defaulted(c)).collect();
    if charts.is_empty() {
        return None;
    }
    let names: Vec<String> = charts
        .iter()
        .map(|c| match &c.component {
            Some(component) if *component != c.name.value => format!("`{}` ({component})", c.name.value),
            _ => format!("`{}`", c.name.value),
        })
        .collect();
    let mut diag = Diagnostic::new(
        Code::W0502,
        format!("cluster `{}` has nothing to install charts: {} will not be installed", cluster.name.value, names.join(", ")),
    )
    .primary(cluster.name.span, format!("a {} cluster without `gitops`", cluster.distribution.value))
    .help(format!(
        "add `gitops \"flux\" repo=\"...\"` to cluster `{}` so that Flux installs the charts, or install them by hand with `helm install`",
        cluster.name.value
    ));
    for chart in charts.iter().filter(|c| c.component.is_none()) {
        diag = diag.secondary(chart.name.span, "declared here");
    }
    Some(diag)
}

/// A `pool` while its cluster's load balancer is not MetalLB.
fn pool_without_metallb(model: &Model, pool: &Pool) -> Option<Diagnostic> {
    let cluster = model.cluster_for(pool.cluster.as_ref())?;
    let lb = cluster.load_balancer.value;
    if lb == LoadBalancer::Metallb {
        return None;
    }
    let alternative = match lb {
        LoadBalancer::Servicelb => ", or delete the pool: ServiceLB uses the nodes' own addresses and takes no pool",
        _ => ", or delete the pool",
    };
    Some(
        Diagnostic::new(
            Code::E0502,
            format!(
                "pool `{}` needs MetalLB, but cluster `{}` uses {}",
                pool.name.value,
                cluster.name.value,
                lb_words(lb)
            ),
        )
        .primary(pool.name.span, "a MetalLB address pool")
        .secondary(cluster.load_balancer.span, lb_label(cluster))
        .help(format!("set `load-balancer \"metallb\"` in cluster `{}`{alternative}", cluster.name.value)),
    )
}

/// A gateway's `pool=` while its cluster's load balancer is not MetalLB.
fn gateway_pool_without_metallb(model: &Model, gateway: &crate::model::Gateway) -> Option<Diagnostic> {
    let pool = gateway.pool.as_ref().filter(|_| !gateway.implicit)?;
    let cluster = model.cluster_for(gateway.cluster.as_ref())?;
    let lb = cluster.load_balancer.value;
    if lb == LoadBalancer::Metallb {
        return None;
    }
    Some(
        Diagnostic::new(
            Code::E0502,
            format!(
                "gateway `{}` takes an address from pool `{}`, but cluster `{}` uses {}",
                gateway.name.value,
                pool.value,
                cluster.name.value,
                lb_words(lb)
            ),
        )
        .primary(pool.span, "a MetalLB pool")
        .secondary(cluster.load_balancer.span, lb_label(cluster))
        .help(format!("set `load-balancer \"metallb\"` in cluster `{}`, or drop `pool=`", cluster.name.value)),
    )
}

/// The service and ingress of one app against its cluster's components.
fn check_app(cluster: &Cluster, app: &App, diags: &mut Vec<Diagnostic>) {
    let lb = cluster.load_balancer.value;
    let cname = &cluster.name.value;
    if let Some(service) = &app.service {
        match &service.pool {
            Some(pool) if lb != LoadBalancer::Metallb => diags.push(
                Diagnostic::new(
                    Code::E0502,
                    format!(
                        "the service of `{}` takes an address from pool `{}`, but cluster `{cname}` uses {}",
                        app.name.value,
                        pool.value,
                        lb_words(lb)
                    ),
                )
                .primary(pool.span, "a MetalLB pool")
                .secondary(cluster.load_balancer.span, lb_label(cluster))
                .help(format!("set `load-balancer \"metallb\"` in cluster `{cname}`, or drop `pool=`")),
            ),
            _ if service.kind.value == ServiceType::LoadBalancer && lb == LoadBalancer::None => diags.push(
                Diagnostic::new(
                    Code::E0502,
                    format!(
                        "`{}` asks for a LoadBalancer Service, but cluster `{cname}` has no load balancer",
                        app.name.value
                    ),
                )
                .primary(service.kind.span, "would stay `<pending>` forever")
                .secondary(cluster.load_balancer.span, lb_label(cluster))
                .help(format!(
                    "set `load-balancer \"metallb\"` with a `pool`{} in cluster `{cname}`, or use `type=\"NodePort\"`",
                    if cluster.distribution.value == Distribution::K3s { " (or \"servicelb\")" } else { "" }
                )),
            ),
            _ => {}
        }
    }
    if cluster.ingress.value == IngressController::EnvoyGateway {
        for ingress in app.ingresses.iter().filter(|i| i.class.is_none()) {
            diags.push(
                Diagnostic::new(
                    Code::E0502,
                    format!("`{}` has an ingress, but cluster `{cname}` serves Gateway API routes, not Ingresses", app.name.value),
                )
                .primary(ingress.span, format!("route for `{}` that nothing would serve", ingress.host.value))
                .secondary(cluster.ingress.span, "ingress set to `envoy-gateway` here")
                .help(format!(
                    "write `route host=\"{}\" path=\"{}\" port=\"{}\"` instead (the listener covering the host serves TLS), \
                     or give the ingress the `class=` of a controller you install",
                    ingress.host.value, ingress.path.value, ingress.port.value
                )),
            );
        }
        return;
    }
    if cluster.ingress.value != IngressController::None {
        return;
    }
    for ingress in app.ingresses.iter().filter(|i| i.class.is_none()) {
        diags.push(
            Diagnostic::new(
                Code::E0502,
                format!("`{}` has an ingress, but cluster `{cname}` runs no ingress controller", app.name.value),
            )
            .primary(ingress.span, format!("route for `{}` that nothing would serve", ingress.host.value))
            .secondary(cluster.ingress.span, setting_label(cluster, cluster.ingress.span, "ingress", "none"))
            .help(format!(
                "set `ingress \"traefik\"` or `\"nginx\"` in cluster `{cname}`, or give the ingress the `class=` \
                 of the controller you install yourself"
            )),
        );
    }
}

/// The load balancer in words.
fn lb_words(lb: LoadBalancer) -> &'static str {
    match lb {
        LoadBalancer::Metallb => "MetalLB",
        LoadBalancer::Servicelb => "ServiceLB",
        LoadBalancer::None => "no load balancer",
    }
}

/// The secondary label on a cluster's load-balancer setting.
fn lb_label(cluster: &Cluster) -> String {
    setting_label(cluster, cluster.load_balancer.span, "load balancer", cluster.load_balancer.value.as_str())
}

/// The label on a cluster setting, saying when it is the distribution's default
/// (defaults are spanned at the cluster's name).
fn setting_label(cluster: &Cluster, span: Span, what: &str, value: &str) -> String {
    if span == cluster.name.span {
        format!("{} clusters default to {what} `{value}`", cluster.distribution.value)
    } else {
        format!("{what} set to `{value}` here")
    }
}

#[cfg(test)]
mod tests {
    use crate::host::MemHost;

    /// The E0502 diagnostics a description produces.
    fn count(body: &str) -> usize {
        let text = format!("homelab \"lab\"\nnetwork \"lan\" cidr=\"192.168.1.0/24\"\n{body}");
        let checked = crate::driver::check(&MemHost::with([("homelab.kdl", text)]), "homelab.kdl");
        checked.diagnostics.iter().filter(|d| d.code == crate::diag::Code::E0502).count()
    }

    /// A pool on the LAN.
    const POOL: &str = "pool \"lb\" network=\"lan\" range=\"192.168.1.200-192.168.1.210\"\n";

    #[test]
    fn pools_need_metallb() {
        assert_eq!(count(&format!("cluster \"c\" distribution=\"k3s\"\n{POOL}")), 1);
        assert_eq!(count(&format!("cluster \"c\" distribution=\"k3s\" {{ load-balancer \"metallb\"; }}\n{POOL}")), 0);
    }

    #[test]
    fn services_and_ingresses() {
        let app = |service: &str, ingress: &str| {
            format!(
                "cluster \"c\" distribution=\"kind\" {{ ingress \"none\"; }}\n\
                 app \"web\" {{ image \"me/web\" tag=\"1.0.0\"; port \"http\" 80; {service} {ingress} }}"
            )
        };
        assert_eq!(count(&app("service type=\"LoadBalancer\" { expose \"http\" 80; }", "")), 1);
        assert_eq!(count(&app("service type=\"LoadBalancer\" pool=\"lb\" { expose \"http\" 80; }", "")), 1);
        assert_eq!(count(&app("", "ingress host=\"web\" port=\"http\";")), 1);
        assert_eq!(count(&app("", "ingress host=\"web\" port=\"http\" class=\"apisix\";")), 0);
    }
}
