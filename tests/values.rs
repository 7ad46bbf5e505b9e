//! Property tests of the value types: IP math (overlap, containment, ranges)
//! and the name validators against Kubernetes' own regular expressions and
//! length limits (k8s.io/apimachinery/pkg/util/validation).

use std::net::{IpAddr, Ipv4Addr};

use homelabc::model::{IpRange, check_dns_subdomain, check_dns1035_label, check_rfc1123_label, nets_overlap};
use ipnet::{IpNet, Ipv4Net};
use proptest::prelude::*;
use regex::Regex;

fn ip(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(n))
}

fn range() -> impl Strategy<Value = IpRange> {
    (any::<u32>(), 0u32..4096).prop_map(|(start, len)| IpRange { start: ip(start), end: ip(start.saturating_add(len)) })
}

fn net() -> impl Strategy<Value = IpNet> {
    (any::<u32>(), 8u8..=32).prop_map(|(a, p)| IpNet::V4(Ipv4Net::new(Ipv4Addr::from(a), p).expect("valid").trunc()))
}

proptest! {
    #[test]
    fn overlap_is_symmetric(a in range(), b in range()) {
        prop_assert_eq!(a.overlaps(&b), b.overlaps(&a));
    }

    #[test]
    fn overlap_means_a_shared_address(a in range(), b in range()) {
        let shared = a.start.max(b.start);
        prop_assert_eq!(a.overlaps(&b), a.contains(shared) && b.contains(shared));
    }

    #[test]
    fn covering_implies_overlap_and_containment(a in range(), b in range(), probe in any::<u32>()) {
        if a.covers(&b) {
            prop_assert!(a.overlaps(&b));
            if b.contains(ip(probe)) {
                prop_assert!(a.contains(ip(probe)));
            }
        }
    }

    #[test]
    fn a_cidr_range_is_the_network(n in net(), probe in any::<u32>()) {
        let r = IpRange::from(n);
        prop_assert_eq!(r.contains(ip(probe)), n.contains(&ip(probe)));
        prop_assert_eq!(IpRange::parse(&n.to_string()).expect("parses"), r);
    }

    #[test]
    fn net_overlap_matches_containment(a in net(), b in net()) {
        let expected = a.contains(&b) || b.contains(&a);
        prop_assert_eq!(nets_overlap(&a, &b), expected);
    }

    #[test]
    fn rfc1123_label_matches_kubernetes(name in "[a-z0-9A-Z._-]{0,70}") {
        let re = Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$").expect("valid");
        let expected = name.len() <= 63 && re.is_match(&name);
        prop_assert_eq!(check_rfc1123_label(&name).is_ok(), expected, "{}", name);
    }

    #[test]
    fn dns1035_label_matches_kubernetes(name in "[a-z0-9-]{0,70}") {
        let re = Regex::new(r"^[a-z]([-a-z0-9]*[a-z0-9])?$").expect("valid");
        let expected = name.len() <= 63 && re.is_match(&name);
        prop_assert_eq!(check_dns1035_label(&name).is_ok(), expected, "{}", name);
    }

    #[test]
    fn dns_subdomain_matches_kubernetes(name in "[a-z0-9.-]{0,80}") {
        let re = Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$").expect("valid");
        // Kubernetes also limits each label to 63 characters through the total of 253.
        let expected = name.len() <= 253 && re.is_match(&name) && name.split('.').all(|l| l.len() <= 63);
        prop_assert_eq!(check_dns_subdomain(&name).is_ok(), expected, "{}", name);
    }
}

#[test]
fn label_length_limit_is_exactly_63() {
    assert!(check_rfc1123_label(&"a".repeat(63)).is_ok());
    assert!(check_rfc1123_label(&"a".repeat(64)).is_err());
}
