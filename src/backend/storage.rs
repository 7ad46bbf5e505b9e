//! Storage (SPEC §2.5): a StorageClass (storage.k8s.io/v1) per
//! `storage-class`, in `configs/storage`, and a PersistentVolumeClaim per
//! `claim`, in the unit of its namespace (applied with the Namespace, before
//! the apps that mount it).
//!
//! A StorageClass's provisioner, parameters, reclaim policy and binding mode
//! cannot change once it exists: the GitOps agents replace it instead
//! (Flux's `force`, Argo CD's `Force=true,Replace=true`), which leaves the
//! volumes it made as they are. Its CSI driver is a chart the description
//! declares (SPEC: not pulled in by need).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, PersistentVolumeClaimSpec, VolumeResourceRequirements};
use k8s_openapi::api::storage::v1::StorageClass as K8sStorageClass;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::{Artifacts, Origin, managed_labels, meta};
use crate::layout::{Folder, Unit};
use crate::model::{Claim, Model, ReclaimPolicy, StorageClass, Stored, VolumeBinding, Word};

/// The `configs/` folder of the storage classes.
pub const FOLDER: &str = "storage";

/// The annotation that makes a class the cluster's default.
pub const DEFAULT_CLASS: &str = "storageclass.kubernetes.io/is-default-class";

/// Emits every storage class and claim.
pub fn emit(model: &Model, out: &mut Artifacts) {
    for class in &model.storage_classes {
        let unit = Unit::new(model.cluster_key(class.cluster.as_ref()), Folder::Configs(FOLDER.into()));
        out.object(&Origin::of(class.id(model)), &unit, storage_class(class));
    }
    for claim in &model.claims {
        let scope = model.cluster_key(claim.cluster.as_ref());
        let unit = Unit::namespace_home(model, scope, &claim.namespace.value);
        out.object(&Origin::of(claim.id(model)), &unit, persistent_claim(model, claim));
    }
}

/// The StorageClass of a `storage-class`: binding WaitForFirstConsumer and
/// reclaim Delete unless it says otherwise, written out.
fn storage_class(class: &StorageClass) -> K8sStorageClass {
    let mut metadata = meta(&class.name.value, None, managed_labels());
    let mut annotations: BTreeMap<String, String> = [
        ("kustomize.toolkit.fluxcd.io/force".to_string(), "enabled".to_string()),
        ("argocd.argoproj.io/sync-options".to_string(), "Force=true,Replace=true".to_string()),
    ]
    .into();
    if class.default.as_ref().is_some_and(|d| d.value) {
        annotations.insert(DEFAULT_CLASS.into(), "true".into());
    }
    metadata.annotations = Some(annotations);
    let parameters: BTreeMap<String, String> =
        class.parameters.iter().map(|(k, v)| (k.value.clone(), v.value.clone())).collect();
    K8sStorageClass {
        metadata,
        provisioner: class.provisioner.value.clone(),
        parameters: (!parameters.is_empty()).then_some(parameters),
        reclaim_policy: Some(class.reclaim.as_ref().map_or(ReclaimPolicy::Delete, |r| r.value).as_str().into()),
        volume_binding_mode: Some(
            class.binding.as_ref().map_or(VolumeBinding::WaitForFirstConsumer, |b| b.value).as_str().into(),
        ),
        allow_volume_expansion: class.expansion.as_ref().map(|e| e.value),
        ..K8sStorageClass::default()
    }
}

/// The PersistentVolumeClaim of a `claim`, filled from its backup when it is
/// restored on create.
fn persistent_claim(model: &Model, claim: &Claim) -> PersistentVolumeClaim {
    let requests: BTreeMap<String, Quantity> =
        [("storage".to_string(), Quantity(claim.size.value.text.clone()))].into();
    PersistentVolumeClaim {
        metadata: meta(&claim.name.value, Some(&claim.namespace.value), managed_labels()),
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec![claim.access.value.as_str().into()]),
            storage_class_name: claim.storage_class.as_ref().map(|c| c.value.clone()),
            resources: Some(VolumeResourceRequirements { requests: Some(requests), ..Default::default() }),
            data_source_ref: super::volsync::restore_ref(model, &Stored::Shared(claim)),
            ..PersistentVolumeClaimSpec::default()
        }),
        ..PersistentVolumeClaim::default()
    }
}
