//! The MetalLB backend: an IPAddressPool and an L2Advertisement (or
//! BGPAdvertisement) per `pool`, in metallb.io/v1beta1, in `configs/metallb`.

use serde::Serialize;

use super::{Artifacts, Custom, CustomKind, Origin, managed_labels, meta};
use crate::layout::{Folder, Unit};
use crate::model::{Advertise, Model};

/// The namespace MetalLB runs in.
pub const NAMESPACE: &str = "metallb-system";
/// The component whose CRDs the pools need.
pub const COMPONENT: &str = "metallb";

/// `IPAddressPool`: the addresses MetalLB may hand out.
#[derive(Debug, Serialize)]
struct IpAddressPool {
    spec: PoolSpec,
}

impl CustomKind for IpAddressPool {
    const API_VERSION: &'static str = "metallb.io/v1beta1";
    const KIND: &'static str = "IPAddressPool";
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PoolSpec {
    addresses: Vec<String>,
    auto_assign: bool,
}

/// `L2Advertisement`: answer ARP / NDP for a pool's addresses.
#[derive(Debug, Serialize)]
struct L2Advertisement {
    spec: AdvertisementSpec,
}

impl CustomKind for L2Advertisement {
    const API_VERSION: &'static str = "metallb.io/v1beta1";
    const KIND: &'static str = "L2Advertisement";
}

/// `BGPAdvertisement`: announce a pool's addresses to BGP peers.
#[derive(Debug, Serialize)]
struct BgpAdvertisement {
    spec: AdvertisementSpec,
}

impl CustomKind for BgpAdvertisement {
    const API_VERSION: &'static str = "metallb.io/v1beta1";
    const KIND: &'static str = "BGPAdvertisement";
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AdvertisementSpec {
    ip_address_pools: Vec<String>,
}

/// Emits the pools and their advertisements.
pub fn emit(model: &Model, out: &mut Artifacts) {
    for pool in &model.pools {
        let origin = Origin::of(pool.id(model));
        let unit = Unit::new(model.cluster_key(pool.cluster.as_ref()), Folder::Configs(COMPONENT.into()));
        let name = &pool.name.value;
        let range = pool.range.value;
        let metadata = || meta(name, Some(NAMESPACE), managed_labels());
        let spec = PoolSpec { addresses: vec![format!("{}-{}", range.start, range.end)], auto_assign: true };
        out.object(&origin, &unit, Custom::new(metadata(), IpAddressPool { spec }));
        let spec = AdvertisementSpec { ip_address_pools: vec![name.clone()] };
        match pool.advertise.value {
            Advertise::L2 => out.object(&origin, &unit, Custom::new(metadata(), L2Advertisement { spec })),
            Advertise::Bgp => out.object(&origin, &unit, Custom::new(metadata(), BgpAdvertisement { spec })),
        }
    }
}
