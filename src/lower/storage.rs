//! Lowering of the storage declarations: `claim` (a shared
//! PersistentVolumeClaim), `storage-class` (a StorageClass) and `backup` (a
//! restic repository VolSync backs volumes up to).

use super::reader::{Cx, Reader, Shape};
use crate::diag::{Code, Diagnostic};
use crate::model::*;
use crate::source::Spanned;
use crate::syntax::tree;

pub(super) fn claim(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Claim> {
    let r = Reader::open(
        cx,
        node,
        Shape {
            what: "claim",
            max_args: 1,
            props: &["namespace", "size", "storage-class", "access", "backup", "cluster"],
            children: &[],
        },
    );
    let name = r.name(cx);
    let namespace = r.req_ref(cx, "namespace");
    let size = r.req_prop::<Quantity>(cx, "size");
    let storage_class = r.opt_ref(cx, "storage-class");
    let access =
        r.word_prop::<AccessMode>(cx, "access").unwrap_or(Spanned::new(AccessMode::ReadWriteOnce, r.name_span(cx)));
    let backup = r.opt_ref(cx, "backup");
    let cluster = r.opt_ref(cx, "cluster");
    Some(Claim {
        name: name?,
        namespace: namespace?,
        cluster,
        size: size?,
        storage_class,
        access,
        backup,
        span: r.span(cx),
    })
}

pub(super) fn storage_class(cx: &mut Cx<'_>, node: &tree::Node) -> Option<StorageClass> {
    let r = Reader::open(
        cx,
        node,
        Shape {
            what: "storage-class",
            max_args: 1,
            props: &["provisioner", "default", "reclaim", "binding", "expansion", "cluster"],
            children: &["parameter"],
        },
    );
    let name = r.name(cx);
    let provisioner = r.req_prop::<String>(cx, "provisioner");
    let default = r.prop::<bool>(cx, "default");
    let reclaim = r.word_prop::<ReclaimPolicy>(cx, "reclaim");
    let binding = r.word_prop::<VolumeBinding>(cx, "binding");
    let expansion = r.prop::<bool>(cx, "expansion");
    let cluster = r.opt_ref(cx, "cluster");
    let mut parameters = Vec::new();
    for c in r.children_named("parameter") {
        let p = Reader::open(cx, c, Shape { what: "parameter", max_args: 2, props: &[], children: &[] });
        if let (Some(k), Some(v)) = (p.arg::<String>(cx, 0, "a key"), p.arg::<String>(cx, 1, "a value")) {
            parameters.push((k, v));
        }
    }
    super::reader::report_duplicates(
        cx,
        parameters.iter().map(|(k, _)| (k.value.as_str(), k.span)),
        "parameter",
        Code::E0107,
    );
    if let Some(p) = &provisioner
        && (p.value.is_empty() || p.value.contains(char::is_whitespace))
    {
        cx.report(
            Diagnostic::new(Code::E0105, format!("`{}` is not a provisioner name", p.value))
                .primary(p.span, "expected a CSI driver name")
                .help(
                    "write the driver's name, e.g. `nfs.csi.k8s.io`, `driver.longhorn.io` or `rancher.io/local-path`",
                ),
        );
    }
    Some(StorageClass {
        name: name?,
        cluster,
        provisioner: provisioner?,
        default,
        reclaim,
        binding,
        expansion,
        parameters,
        span: r.span(cx),
    })
}

/// The properties of `backup`: one `keep-<period>` per [`KeepPeriod`].
const BACKUP_PROPS: &[&str] = &[
    "repository",
    "secret",
    "schedule",
    "copy-method",
    "cluster",
    "keep-last",
    "keep-hourly",
    "keep-daily",
    "keep-weekly",
    "keep-monthly",
    "keep-yearly",
];

pub(super) fn backup(cx: &mut Cx<'_>, node: &tree::Node) -> Option<Backup> {
    let r = Reader::open(cx, node, Shape { what: "backup", max_args: 1, props: BACKUP_PROPS, children: &[] });
    let name = r.name(cx);
    let repository = r.req_prop::<String>(cx, "repository");
    if let Some(repo) = &repository
        && (repo.value.is_empty() || repo.value.contains(char::is_whitespace) || repo.value.ends_with('/'))
    {
        cx.report(
            Diagnostic::new(Code::E0105, format!("`{}` is not a restic repository", repo.value))
                .primary(repo.span, "expected a repository URL without a trailing `/`")
                .help("write it as restic does, e.g. `s3:https://s3.example.com/homelab`, `b2:bucket:homelab` or `rest:https://restic.lan/homelab`; each volume gets its own repository below it"),
        );
    }
    let secret = r.req_ref(cx, "secret");
    let schedule = r.req_prop::<Cron>(cx, "schedule");
    let copy_method = r.word_prop::<CopyMethod>(cx, "copy-method");
    let cluster = r.opt_ref(cx, "cluster");
    let mut keep = Vec::new();
    for period in KeepPeriod::all() {
        let key = format!("keep-{}", period.as_str());
        if let Some(count) = r.prop::<u32>(cx, &key) {
            keep.push((Spanned::new(*period, count.span), count));
        }
    }
    if keep.is_empty() {
        cx.report(
            Diagnostic::new(Code::E0104, "backup keeps no snapshots")
                .primary(r.name_span(cx), "no retention")
                .help("say how many snapshots to keep, e.g. `keep-daily=7 keep-weekly=4`: without, restic never forgets one and the repository only grows"),
        );
    }
    Some(Backup {
        name: name?,
        cluster,
        repository: repository?,
        secret: secret?,
        schedule: schedule?,
        keep,
        copy_method,
        span: r.span(cx),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_takes_one_keep_per_period() {
        for period in KeepPeriod::all() {
            assert!(BACKUP_PROPS.contains(&format!("keep-{}", period.as_str()).as_str()), "{period}");
        }
        assert_eq!(BACKUP_PROPS.iter().filter(|p| p.starts_with("keep-")).count(), KeepPeriod::all().len());
    }
}
