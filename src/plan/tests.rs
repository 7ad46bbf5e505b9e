//! Tests of the plan: keys, field diffs, named lists, redaction, data loss.

use super::*;

fn tree(files: &[(&str, &str)]) -> OutputTree {
    let mut tree = OutputTree::new();
    for (path, text) in files {
        tree.insert_any(path, text.as_bytes().to_vec()).expect("valid path");
    }
    tree
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: web
          image: reg/web:1
        - name: sidecar
          image: reg/side:1
";

#[test]
fn a_tag_bump_is_one_field_of_one_named_container() {
    let before = tree(&[("apps/demo/web/deployment-web.yaml", DEPLOYMENT)]);
    let after = tree(&[("apps/demo/web/deployment-web.yaml", &DEPLOYMENT.replace("reg/web:1", "reg/web:2"))]);
    let plan = diff(&before, &after);
    assert_eq!(plan.summary(), Summary { add: 0, change: 1, destroy: 0 });
    let Action::Change(changes) = &plan.entries[0].action else { panic!("a change") };
    assert_eq!(
        changes,
        &[FieldChange {
            path: "spec.template.spec.containers[web].image".into(),
            before: Some("reg/web:1".into()),
            after: Some("reg/web:2".into()),
        }]
    );
    let text = render(&plan, Format::Human);
    assert!(text.contains("~ Deployment demo/web (apps/v1)\n    ~ spec.template.spec.containers[web].image: \"reg/web:1\" → \"reg/web:2\"\n"), "{text}");
    assert!(text.ends_with("Plan: 0 to add, 1 to change, 0 to destroy.\n"), "{text}");
}

#[test]
fn a_container_more_is_one_addition_not_a_shifted_list() {
    let before = tree(&[("d.yaml", DEPLOYMENT)]);
    let three = DEPLOYMENT.replace(
        "        - name: sidecar",
        "        - name: init\n          image: reg/init:1\n        - name: sidecar",
    );
    let plan = diff(&before, &tree(&[("d.yaml", &three)]));
    let Action::Change(changes) = &plan.entries[0].action else { panic!("a change") };
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].path, "spec.template.spec.containers[init]");
    assert!(changes[0].before.is_none());
}

#[test]
fn moving_an_object_to_another_file_is_no_change_and_the_lock_is_ignored() {
    let before = tree(&[("a/deployment-web.yaml", DEPLOYMENT), ("homelab.lock", "one")]);
    let after = tree(&[("b/deployment-web.yaml", DEPLOYMENT), ("homelab.lock", "two")]);
    assert!(diff(&before, &after).is_empty());
    assert_eq!(render(&diff(&before, &after), Format::Human), "No changes. The tree is up to date.\n");
}

#[test]
fn plain_files_are_compared_by_path() {
    let before = tree(&[("pipelines/web/.drone.yml", "kind: pipeline\nname: web\n"), ("README.md", "# a\n")]);
    let after = tree(&[("pipelines/web/.drone.yml", "kind: pipeline\nname: web2\n")]);
    let plan = diff(&before, &after);
    assert_eq!(plan.summary(), Summary { add: 0, change: 1, destroy: 1 });
    assert_eq!(plan.entries[0].key, Key::File { path: "README.md".into() });
    assert_eq!(plan.entries[0].action, Action::Destroy);
}

#[test]
fn secret_values_are_never_shown() {
    let secret = |v: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: data\nstringData:\n  password: {v}\n"
        )
    };
    let plan = diff(&tree(&[("s.yaml", &secret("ENC[one]"))]), &tree(&[("s.yaml", &secret("ENC[two]"))]));
    for format in [Format::Human, Format::Json, Format::Markdown] {
        let text = render(&plan, format);
        assert!(!text.contains("ENC[one]") && !text.contains("ENC[two]"), "{text}");
        assert!(text.contains("(sensitive)"), "{text}");
    }
}

#[test]
fn destroying_claims_namespaces_and_statefulset_volumes_is_data_loss() {
    let claim = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: registry-local-data\n  namespace: registry\n  labels:\n    app.kubernetes.io/name: registry\n    app.kubernetes.io/instance: local\n";
    let namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n";
    let set = |claims: &str| {
        format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  namespace: demo\n  labels:\n    app.kubernetes.io/name: db\nspec:\n  volumeClaimTemplates:\n{claims}"
        )
    };
    let two = set("    - metadata:\n        name: data\n    - metadata:\n        name: logs\n");
    let one = set("    - metadata:\n        name: data\n");
    let before = tree(&[("c.yaml", claim), ("n.yaml", namespace), ("s.yaml", &two)]);
    let after = tree(&[("s.yaml", &one)]);
    let plan = diff(&before, &after);
    let losses: Vec<(&str, &str)> = plan
        .entries
        .iter()
        .filter_map(|e| e.data_loss.as_ref().map(|d| (d.declaration.as_str(), d.reason.as_str())))
        .collect();
    let declarations: Vec<&str> = losses.iter().map(|(d, _)| *d).collect();
    // Sorted by key: apps/v1 StatefulSet, then v1 Namespace and claim; the
    // registry's storage is named by the registry.
    assert_eq!(declarations, ["db", "demo", "local"], "{losses:?}");
    assert!(losses[0].1.contains("`logs`"));
    assert_eq!(plan.refused(&[]).len(), 3);
    assert_eq!(plan.refused(&["local".into(), "db".into()]).len(), 1);
    assert!(render(&plan, Format::Human).contains("! data loss: "));
    assert!(render(&plan, Format::Markdown).contains("> [!WARNING]"));
}

#[test]
fn json_has_the_entries_and_the_summary() {
    let plan = diff(&tree(&[]), &tree(&[("d.yaml", DEPLOYMENT)]));
    let value: Value = serde_json::from_str(&render(&plan, Format::Json)).expect("JSON");
    assert_eq!(value["summary"], serde_json::json!({"add": 1, "change": 0, "destroy": 0}));
    assert_eq!(value["entries"][0]["key"]["kind"], "Deployment");
    assert_eq!(value["entries"][0]["action"], "create");
}

#[test]
fn destroying_a_claim_or_an_apps_own_claim_is_data_loss_of_its_declaration() {
    // A `claim` carries only homelabc's label: it is named by its own name;
    // a Deployment's own claim `<app>-<volume>` by its app.
    let claim = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: media-library\n  namespace: media\n  labels:\n    app.kubernetes.io/managed-by: homelabc\n";
    let own = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: paperless-data\n  namespace: docs\n  labels:\n    app.kubernetes.io/managed-by: homelabc\n    app.kubernetes.io/name: paperless\n";
    let plan = diff(&tree(&[("c.yaml", claim), ("o.yaml", own)]), &tree(&[]));
    let declarations: Vec<&str> =
        plan.entries.iter().filter_map(|e| e.data_loss.as_ref().map(|d| d.declaration.as_str())).collect();
    assert_eq!(declarations, ["paperless", "media-library"]);
    assert!(plan.refused(&["media-library".into()]).len() == 1);
}

#[test]
fn a_volume_whose_backup_goes_shows_its_replication_source_destroyed_and_its_claim_refused() {
    let claim = |restore: &str| {
        format!(
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: paperless-data\n  namespace: docs\nspec:\n  accessModes:\n    - ReadWriteOnce\n{restore}  resources:\n    requests:\n      storage: 5Gi\n"
        )
    };
    let with = claim(
        "  dataSourceRef:\n    apiGroup: volsync.backube\n    kind: ReplicationDestination\n    name: paperless-data-restore\n",
    );
    let source = "apiVersion: volsync.backube/v1alpha1\nkind: ReplicationSource\nmetadata:\n  name: paperless-data\n  namespace: docs\nspec:\n  sourcePVC: paperless-data\n  trigger:\n    schedule: 0 3 * * *\n";
    let before = tree(&[("c.yaml", &with), ("s.yaml", source)]);
    let after = tree(&[("c.yaml", &claim(""))]);
    let plan = diff(&before, &after);
    let human = render(&plan, Format::Human);
    assert!(human.contains("- ReplicationSource docs/paperless-data (volsync.backube/v1alpha1)"), "{human}");
    assert!(human.contains("- spec.dataSourceRef"), "{human}");
    assert!(human.contains("! refused by the API server: a claim's spec is immutable"), "{human}");
    // Losing the backup loses no data: the build is not refused.
    assert!(plan.refused(&[]).is_empty());
    // Growing a claim is allowed in place.
    let bigger = claim("").replace("5Gi", "10Gi");
    let grown = diff(&tree(&[("c.yaml", &claim(""))]), &tree(&[("c.yaml", &bigger)]));
    assert!(grown.entries[0].refused.is_none(), "{:?}", grown.entries);
    assert!(render(&plan, Format::Markdown).contains("> [!CAUTION]"));
}

#[test]
fn planning_only_the_files_that_differ_gives_the_whole_plan() {
    let claim = |name: &str| {
        format!("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: {name}\n  namespace: demo\n")
    };
    let before = tree(&[
        ("apps/demo/kept.yaml", &claim("kept")),
        ("apps/demo/gone.yaml", &claim("gone")),
        ("apps/demo/web.yaml", DEPLOYMENT),
    ]);
    let bumped = DEPLOYMENT.replace("reg/web:1", "reg/web:2");
    let after = tree(&[("apps/demo/kept.yaml", &claim("kept")), ("apps/demo/web.yaml", &bumped)]);
    let differs = |path: &str| before.get(path) != after.get(path);
    let planned =
        diff_files(before.files().filter(|(p, _)| differs(p)), &[], after.files().filter(|(p, _)| differs(p)), &[]);
    assert_eq!(planned, diff(&before, &after));
    assert_eq!(planned.summary(), Summary { add: 0, change: 1, destroy: 1 });
    assert_eq!(planned.refused(&[]).len(), 1, "the claim that goes is data loss");
}
