//! The MetalLB backend: an IPAddressPool and an L2Advertisement (or
//! BGPAdvertisement naming its peers) per `pool`, in metallb.io/v1beta1, and
//! a BGPPeer (metallb.io/v1beta2) per router the BGP pools announce to, in
//! `configs/metallb`; and the Service annotations that take an address from
//! a pool.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Artifacts, Custom, CustomKind, Origin, managed_labels, meta};
use crate::layout::{Folder, Unit};
use crate::model::{Advertise, Model, Peer};

/// The namespace MetalLB runs in.
pub const NAMESPACE: &str = "metallb-system";
/// The component whose CRDs the pools need.
pub const COMPONENT: &str = "metallb";
/// The Service annotation naming the pool MetalLB takes an address from
/// (the `metallb.universe.tf/` prefix: MetalLB 0.14 reads only that one).
pub const POOL_ANNOTATION: &str = "metallb.universe.tf/address-pool";
/// The Service annotation asking MetalLB for fixed addresses.
pub const ADDRESS_ANNOTATION: &str = "metallb.universe.tf/loadBalancerIPs";

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
    /// BGP only: the peers announced to (every peer when absent).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    peers: Vec<String>,
}

/// `BGPPeer`: a router the speakers open a BGP session with.
#[derive(Debug, Serialize)]
struct BgpPeer {
    spec: PeerSpec,
}

impl CustomKind for BgpPeer {
    const API_VERSION: &'static str = "metallb.io/v1beta2";
    const KIND: &'static str = "BGPPeer";
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PeerSpec {
    #[serde(rename = "myASN")]
    my_asn: u32,
    #[serde(rename = "peerASN")]
    peer_asn: u32,
    peer_address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    password_secret: Option<SecretReference>,
}

/// A Secret by name and namespace.
#[derive(Debug, Serialize)]
struct SecretReference {
    name: String,
    namespace: String,
}

/// The name of the BGPPeer of a router: `peer-` and its address, one per
/// router in a cluster (pools announcing to the same router share it).
pub fn peer_name(address: std::net::IpAddr) -> String {
    format!("peer-{}", address.to_string().replace(['.', ':'], "-"))
}

/// The MetalLB annotations of a Service (or of the Service Envoy Gateway
/// makes for a Gateway): the pool it takes its address from, and its fixed
/// address.
pub fn annotations(service: &crate::model::Service) -> std::collections::BTreeMap<String, String> {
    address_annotations(service.pool.as_ref(), service.address.as_ref())
}

/// The MetalLB annotations for an optional pool and fixed address.
pub fn address_annotations(
    pool: Option<&crate::model::Name>,
    address: Option<&crate::source::Spanned<std::net::IpAddr>>,
) -> std::collections::BTreeMap<String, String> {
    let pool = pool.map(|p| (POOL_ANNOTATION.to_string(), p.value.clone()));
    let address = address.map(|a| (ADDRESS_ANNOTATION.to_string(), a.value.to_string()));
    pool.into_iter().chain(address).collect()
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
        match pool.advertise.value {
            Advertise::L2 => {
                let spec = AdvertisementSpec { ip_address_pools: vec![name.clone()], peers: Vec::new() };
                out.object(&origin, &unit, Custom::new(metadata(), L2Advertisement { spec }));
            }
            Advertise::Bgp => {
                let mut peers: Vec<String> = pool.peers.iter().map(|p| peer_name(p.address.value)).collect();
                peers.sort();
                peers.dedup();
                let spec = AdvertisementSpec { ip_address_pools: vec![name.clone()], peers };
                out.object(&origin, &unit, Custom::new(metadata(), BgpAdvertisement { spec }));
            }
        }
    }
    peers(model, out);
}

/// A BGPPeer per router the BGP pools of the cluster announce to, made for
/// every pool naming it (the checks make sure they agree, E0319).
fn peers(model: &Model, out: &mut Artifacts) {
    let mut routers: BTreeMap<std::net::IpAddr, (Origin, &Peer)> = BTreeMap::new();
    for pool in model.pools.iter().filter(|p| p.advertise.value == Advertise::Bgp) {
        for peer in &pool.peers {
            let id = pool.id(model);
            routers
                .entry(peer.address.value)
                .and_modify(|(origin, _)| *origin = origin.clone().and(id.clone()))
                .or_insert_with(|| (Origin::of(id), peer));
        }
    }
    let scope = model.cluster_key(None);
    let unit = Unit::new(scope, Folder::Configs(COMPONENT.into()));
    for (address, (origin, peer)) in routers {
        let spec = PeerSpec {
            my_asn: peer.local_asn.value,
            peer_asn: peer.asn.value,
            peer_address: address.to_string(),
            password_secret: peer
                .password_secret
                .as_ref()
                .map(|s| SecretReference { name: s.value.clone(), namespace: NAMESPACE.to_string() }),
        };
        let metadata = meta(&peer_name(address), Some(NAMESPACE), managed_labels());
        out.object(&origin, &unit, Custom::new(metadata, BgpPeer { spec }));
    }
}
