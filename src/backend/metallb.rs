//! The MetalLB backend: an IPAddressPool and an L2Advertisement (or
//! BGPAdvertisement) per `pool`, in metallb.io/v1beta1, in `configs/metallb`.

use serde::Serialize;

use super::{Artifacts, Metadata, Object};
use crate::model::{Advertise, Model};

/// The namespace MetalLB runs in.
pub const NAMESPACE: &str = "metallb-system";
/// The unit folder of MetalLB's custom resources.
pub const UNIT: &str = "configs/metallb";

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Resource<S> {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: S,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PoolSpec {
    addresses: Vec<String>,
    auto_assign: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AdvertisementSpec {
    ip_address_pools: Vec<String>,
}

/// Emits the pools and their advertisements.
pub fn emit(model: &Model, out: &mut Artifacts) {
    for pool in &model.pools {
        let name = &pool.name.value;
        let range = pool.range.value;
        out.objects.push(Object::new(
            UNIT,
            &Resource {
                api_version: "metallb.io/v1beta1",
                kind: "IPAddressPool",
                metadata: Metadata::namespaced(name, NAMESPACE),
                spec: PoolSpec { addresses: vec![format!("{}-{}", range.start, range.end)], auto_assign: true },
            },
        ));
        let kind = match pool.advertise.value {
            Advertise::L2 => "L2Advertisement",
            Advertise::Bgp => "BGPAdvertisement",
        };
        out.objects.push(Object::new(
            UNIT,
            &Resource {
                api_version: "metallb.io/v1beta1",
                kind,
                metadata: Metadata::namespaced(name, NAMESPACE),
                spec: AdvertisementSpec { ip_address_pools: vec![name.clone()] },
            },
        ));
    }
}
