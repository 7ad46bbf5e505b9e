//! `manifest` files (SPEC §2.2): their objects, read and checked by
//! [`crate::attach`], written one object per file like every other object.
//!
//! A namespaced object goes into the unit of its namespace (with the
//! Namespace homelabc writes, or the owning component's unit), so it is
//! applied after its namespace exists; the others go into a unit of their own
//! per file, `manifests/<file>`. Both come after the chart that installs their
//! CRDs when it is known ([`Model::crd_chart`], an edge of the graph).

use super::{Artifacts, Body, Object, ObjectId, Origin};
use crate::layout::{Folder, Unit};
use crate::model::Model;

/// Emits the objects of every manifest.
pub fn emit(model: &Model, out: &mut Artifacts) {
    for manifest in &model.manifests {
        let origin = Origin::of(manifest.id(model));
        let scope = model.cluster_key(manifest.cluster.as_ref());
        for object in &manifest.objects {
            let unit = match &object.namespace {
                Some(ns) => Unit::namespace_home(model, scope, ns),
                None => Unit::new(scope, Folder::Manifests(manifest.stem())),
            };
            let id = ObjectId {
                api_version: object.api_version.clone().into(),
                kind: object.kind.clone().into(),
                namespace: object.namespace.clone(),
                name: object.name.clone(),
            };
            out.objects.push(Object {
                origin: origin.clone(),
                unit: unit.into(),
                id,
                body: Body::Parsed(object.value.clone()),
            });
        }
    }
}
