//! `homelabc plan`: what a build would change, object by object (SPEC §6).
//!
//! Both trees (the one on disk or at a git ref, and the one just compiled)
//! are read the same way: every YAML document with an `apiVersion` and a
//! `kind` is an object keyed by apiVersion/kind/namespace/name, wherever its
//! file is (a file renamed is no change); every other file is keyed by its
//! path. The lock is derived and never shown. A change lists just the fields
//! that differ; lists whose items all have a `name` (or a `hostname`, as
//! talhelper's nodes) are matched by it, so one container more is one `+`,
//! not a shifted list. Values of Secrets are
//! never printed. Destroying what holds data — a PersistentVolumeClaim, a
//! StatefulSet's volume claims, a Namespace — is flagged as data loss, with
//! the declaration to name in `--allow-destroy`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::output::{LOCK_FILE, OutputTree};

/// What a thing in the tree is: an object, or a plain file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Key {
    /// A Kubernetes object.
    Object {
        /// The cluster it is applied to, when the tree holds several.
        #[serde(skip_serializing_if = "Option::is_none")]
        cluster: Option<String>,
        /// `group/version`.
        api_version: String,
        /// Kind.
        kind: String,
        /// Namespace, for namespaced objects.
        #[serde(skip_serializing_if = "Option::is_none")]
        namespace: Option<String>,
        /// Name.
        name: String,
    },
    /// Any other file, by its path.
    File {
        /// Path in the tree.
        path: String,
    },
}

impl Key {
    /// How the key is shown: `Deployment demo/web (apps/v1)`, or the path.
    pub fn label(&self) -> String {
        match self {
            Key::Object { cluster, api_version, kind, namespace, name } => {
                let object = match namespace {
                    Some(ns) => format!("{kind} {ns}/{name} ({api_version})"),
                    None => format!("{kind} {name} ({api_version})"),
                };
                match cluster {
                    Some(cluster) => format!("{object} in cluster {cluster}"),
                    None => object,
                }
            }
            Key::File { path } => path.clone(),
        }
    }
}

/// One field that differs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldChange {
    /// Where: `spec.template.spec.containers[web].image`.
    pub path: String,
    /// The value before (absent when added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The value after (absent when removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

/// What happens to one thing.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// It is created.
    Create,
    /// It is destroyed.
    Destroy,
    /// It changes, in these fields (for files that are not YAML: one change of the whole text).
    Change(Vec<FieldChange>),
}

/// One entry of a plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    /// What.
    pub key: Key,
    /// What happens to it.
    pub action: Action,
    /// When it loses data: why, and the declaration `--allow-destroy` names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_loss: Option<DataLoss>,
    /// When the API server refuses the change in place (an immutable field):
    /// why, and what to do. The GitOps agent's apply of its unit fails until then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// Data a change destroys.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DataLoss {
    /// What is lost, in words.
    pub reason: String,
    /// The declaration to name in `--allow-destroy` to accept it.
    pub declaration: String,
}

/// A whole plan, sorted by key.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Plan {
    /// Every entry.
    pub entries: Vec<Entry>,
}

/// The counts of the summary line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Created.
    pub add: usize,
    /// Changed.
    pub change: usize,
    /// Destroyed.
    pub destroy: usize,
}

impl Plan {
    /// The counts.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for e in &self.entries {
            match e.action {
                Action::Create => s.add += 1,
                Action::Destroy => s.destroy += 1,
                Action::Change(_) => s.change += 1,
            }
        }
        s
    }

    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries that lose data and whose declaration is not allowed.
    pub fn refused<'a>(&'a self, allowed: &[String]) -> Vec<&'a Entry> {
        self.entries
            .iter()
            .filter(|e| e.data_loss.as_ref().is_some_and(|d| !allowed.contains(&d.declaration)))
            .collect()
    }
}

/// Compares the tree before with the tree after.
pub fn diff(before: &OutputTree, after: &OutputTree) -> Plan {
    let clusters = (crate::output::lock_clusters(before), crate::output::lock_clusters(after));
    diff_files(before.files(), &clusters.0, after.files(), &clusters.1)
}

/// [`diff`] over some files of each tree, with the clusters each tree's lock
/// lists. Files byte-identical in both trees may be left out of both: an
/// object is in one file of a tree, so theirs are the same on both sides and
/// make no entry. `build` plans only the files that differ so.
pub fn diff_files<'a>(
    before: impl Iterator<Item = (&'a str, &'a [u8])>,
    before_clusters: &[String],
    after: impl Iterator<Item = (&'a str, &'a [u8])>,
    after_clusters: &[String],
) -> Plan {
    let old = index(before, before_clusters);
    let new = index(after, after_clusters);
    let mut entries = Vec::new();
    for (key, old_value) in &old {
        match new.get(key) {
            None => {
                let data_loss = destroyed_data(key, old_value);
                entries.push(Entry { key: key.clone(), action: Action::Destroy, data_loss, refused: None });
            }
            Some(new_value) if new_value != old_value => {
                let mut changes = Vec::new();
                fields(String::new(), Some(old_value), Some(new_value), &mut changes);
                if is_secret(key) {
                    changes.iter_mut().for_each(redact);
                }
                let data_loss = lost_claims(key, old_value, new_value);
                let refused = refused_change(key, &changes);
                entries.push(Entry { key: key.clone(), action: Action::Change(changes), data_loss, refused });
            }
            Some(_) => {}
        }
    }
    for key in new.keys().filter(|k| !old.contains_key(*k)) {
        entries.push(Entry { key: key.clone(), action: Action::Create, data_loss: None, refused: None });
    }
    entries.sort_by(|a, b| a.key.cmp(&b.key));
    Plan { entries }
}

/// Every object and file of some files of a tree, by key. A YAML file whose
/// documents are all objects gives one key per object; anything else is one
/// file. The files are parsed on every core.
fn index<'a>(files: impl Iterator<Item = (&'a str, &'a [u8])>, clusters: &[String]) -> BTreeMap<Key, Value> {
    // The lock is derived from the rest, so never part of a plan.
    let files: Vec<(&str, &[u8])> = files.filter(|(path, _)| *path != LOCK_FILE).collect();
    let keyed = crate::par::map(&files, |(path, bytes)| file_keys(path, bytes, clusters));
    let mut all = BTreeMap::new();
    for keys in keyed {
        all.extend(keys);
    }
    all
}

/// The keys and values of one file (see [`index`]).
fn file_keys(path: &str, bytes: &[u8], clusters: &[String]) -> Vec<(Key, Value)> {
    let text = String::from_utf8_lossy(bytes);
    let docs = (path.ends_with(".yaml") || path.ends_with(".yml"))
        .then(|| crate::yaml::parse_documents(&text).ok())
        .flatten()
        .unwrap_or_default();
    let cluster = crate::layout::cluster_of(path, clusters);
    let keys: Vec<Option<Key>> = docs.iter().map(|doc| object_key(cluster, doc)).collect();
    if !docs.is_empty() && keys.iter().all(Option::is_some) {
        return keys.into_iter().flatten().zip(docs).collect();
    }
    // Anything else is one file; a YAML file of one document is compared
    // field by field too (a kustomization's resources, a CI file's steps).
    let value = match <[Value; 1]>::try_from(docs) {
        Ok([doc]) => doc,
        Err(_) => Value::String(text.into_owned()),
    };
    vec![(Key::File { path: path.to_string() }, value)]
}

fn object_key(cluster: Option<&str>, doc: &Value) -> Option<Key> {
    let api_version = doc.get("apiVersion")?.as_str()?.to_string();
    let kind = doc.get("kind")?.as_str()?.to_string();
    let meta = doc.get("metadata")?;
    let name = meta.get("name").or_else(|| meta.get("generateName"))?.as_str()?.to_string();
    let namespace = meta.get("namespace").and_then(Value::as_str).map(str::to_string);
    Some(Key::Object { cluster: cluster.map(str::to_string), api_version, kind, namespace, name })
}

/// The fields that differ between two values, below `path`.
fn fields(path: String, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<FieldChange>) {
    match (before, after) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                fields(join(&path, k), a.get(k), b.get(k), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) if named(a).is_some() && named(a) == named(b) => {
            let key = named(a).unwrap_or("name");
            let by_name = |items: &Vec<Value>| -> BTreeMap<String, Value> {
                items.iter().map(|i| (i[key].as_str().unwrap_or_default().to_string(), i.clone())).collect()
            };
            let (a, b) = (by_name(a), by_name(b));
            let names: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for n in names {
                fields(format!("{path}[{n}]"), a.get(n), b.get(n), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) if scalars(a) && scalars(b) && set_differs(a, b) => {
            for item in a.iter().filter(|i| !b.contains(i)) {
                out.push(FieldChange { path: format!("{path}[]"), before: Some(item.clone()), after: None });
            }
            for item in b.iter().filter(|i| !a.contains(i)) {
                out.push(FieldChange { path: format!("{path}[]"), before: None, after: Some(item.clone()) });
            }
        }
        (Some(a), Some(b)) if a == b => {}
        (None, None) => {}
        (before, after) => {
            out.push(FieldChange { path, before: before.cloned(), after: after.cloned() });
        }
    }
}

fn join(path: &str, key: &str) -> String {
    let key = if key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        key.to_string()
    } else {
        format!("\"{key}\"")
    };
    if path.is_empty() { key } else { format!("{path}.{key}") }
}

/// A list of strings and numbers (a kustomization's resources, args).
fn scalars(items: &[Value]) -> bool {
    items.iter().all(|i| i.is_string() || i.is_number())
}

/// Whether two lists differ as sets (not only in order): then the items added
/// and removed say more than the two whole lists.
fn set_differs(a: &[Value], b: &[Value]) -> bool {
    a.iter().any(|i| !b.contains(i)) || b.iter().any(|i| !a.contains(i))
}

/// The key a list of mappings is matched by: `name` when every item has a
/// unique string `name` (containers, ports, env), else `hostname` when every
/// item has a unique one (talhelper's nodes).
fn named(items: &[Value]) -> Option<&'static str> {
    ["name", "hostname"].into_iter().find(|key| {
        let names: Vec<&str> = items.iter().filter_map(|i| i.get(key)?.as_str()).collect();
        let unique: std::collections::BTreeSet<&&str> = names.iter().collect();
        !items.is_empty() && names.len() == items.len() && unique.len() == names.len()
    })
}

fn is_secret(key: &Key) -> bool {
    matches!(key, Key::Object { api_version, kind, .. } if api_version == "v1" && kind == "Secret")
        || matches!(key, Key::Object { kind, .. } if kind == "SealedSecret")
}

/// Secret values are shown as `(sensitive)`.
fn redact(change: &mut FieldChange) {
    let secret = ["data", "stringData", "spec.encryptedData", "sops"].iter().any(|p| change.path.starts_with(p));
    if secret {
        let hide = |v: &mut Option<Value>| {
            if v.is_some() {
                *v = Some(Value::String("(sensitive)".into()));
            }
        };
        hide(&mut change.before);
        hide(&mut change.after);
    }
}

/// The declaration an object comes from, as `--allow-destroy` names it: a
/// registry's storage by the registry, an app's by the app, else the object.
fn declaration(value: &Value) -> String {
    let meta = &value["metadata"];
    let labels = &meta["labels"];
    if labels["app.kubernetes.io/name"] == "registry"
        && let Some(instance) = labels["app.kubernetes.io/instance"].as_str()
    {
        return instance.to_string();
    }
    labels["app.kubernetes.io/name"].as_str().or(meta["name"].as_str()).unwrap_or_default().to_string()
}

/// The data destroying an object loses, if any.
fn destroyed_data(key: &Key, value: &Value) -> Option<DataLoss> {
    let Key::Object { api_version, kind, name, .. } = key else { return None };
    let reason = match (api_version.as_str(), kind.as_str()) {
        ("v1", "PersistentVolumeClaim") => format!("the volume of claim `{name}` and everything on it"),
        ("v1", "Namespace") => format!("namespace `{name}` and everything in it, volumes included"),
        ("apps/v1", "StatefulSet") if !claims(value).is_empty() => {
            format!("the volume claims {} of StatefulSet `{name}` are left orphaned, then lost", list(&claims(value)))
        }
        _ => return None,
    };
    let declaration = if kind == "Namespace" { name.clone() } else { declaration(value) };
    Some(DataLoss { reason, declaration })
}

/// Volume claim templates a StatefulSet loses in a change.
fn lost_claims(key: &Key, before: &Value, after: &Value) -> Option<DataLoss> {
    let Key::Object { kind, name, .. } = key else { return None };
    if kind != "StatefulSet" {
        return None;
    }
    let kept = claims(after);
    let lost: Vec<String> = claims(before).into_iter().filter(|c| !kept.contains(c)).collect();
    (!lost.is_empty()).then(|| DataLoss {
        reason: format!("StatefulSet `{name}` drops its volume claims {}", list(&lost)),
        declaration: declaration(after),
    })
}

/// Why the API server refuses a change of a claim or of a StatefulSet's
/// claim templates (adding or removing a backup's restore, `dataSourceRef`,
/// changes them too), and what to do.
fn refused_change(key: &Key, changes: &[FieldChange]) -> Option<String> {
    let Key::Object { kind, name, .. } = key else { return None };
    let spec = |c: &&FieldChange| c.path.starts_with("spec.") || c.path == "spec";
    match kind.as_str() {
        "PersistentVolumeClaim" => {
            let immutable = changes.iter().filter(spec).any(|c| {
                !(c.path.starts_with("spec.resources.requests") || c.path.starts_with("spec.volumeAttributesClassName"))
            });
            immutable.then(|| {
                format!(
                    "a claim's spec is immutable but its size: the apply fails until claim `{name}` is recreated \
                     (deleting it deletes its data, unless it is restored on create from a backup), or the change is undone"
                )
            })
        }
        "StatefulSet" => changes.iter().any(|c| c.path.starts_with("spec.volumeClaimTemplates")).then(|| {
            format!(
                "a StatefulSet's claim templates are immutable: delete StatefulSet `{name}` with \
                 `kubectl delete statefulset {name} --cascade=orphan` (its pods and claims stay) for the agent to \
                 create it anew; claims that exist keep their old spec"
            )
        }),
        _ => None,
    }
}

fn claims(statefulset: &Value) -> Vec<String> {
    statefulset["spec"]["volumeClaimTemplates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["metadata"]["name"].as_str().map(str::to_string))
        .collect()
}

fn list(names: &[String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

/// How a plan is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// For a terminal.
    Human,
    /// For machines: the plan and its summary as one JSON object.
    Json,
    /// For a pull-request comment.
    Markdown,
}

/// Renders a plan.
pub fn render(plan: &Plan, format: Format) -> String {
    match format {
        Format::Human => human(plan),
        Format::Json => {
            let value = serde_json::json!({"entries": plan.entries, "summary": plan.summary()});
            serde_json::to_string_pretty(&value).expect("a plan serializes") + "\n"
        }
        Format::Markdown => markdown(plan),
    }
}

fn sign(action: &Action) -> char {
    match action {
        Action::Create => '+',
        Action::Destroy => '-',
        Action::Change(_) => '~',
    }
}

fn show(value: &Option<Value>) -> String {
    match value {
        None => "(none)".to_string(),
        Some(Value::String(s)) if s.contains('\n') => format!("({} lines)", s.lines().count()),
        Some(v) => {
            let text = v.to_string();
            if text.chars().count() > 120 { format!("{}…", text.chars().take(117).collect::<String>()) } else { text }
        }
    }
}

fn field_lines(changes: &[FieldChange], indent: &str, out: &mut String) {
    for c in changes {
        let (mark, text) = match (&c.before, &c.after) {
            (None, after) => ('+', show(after)),
            (before, None) => ('-', show(before)),
            (before, after) => ('~', format!("{} → {}", show(before), show(after))),
        };
        let path = if c.path.is_empty() { "(contents)" } else { c.path.as_str() };
        let _ = writeln!(out, "{indent}{mark} {path}: {text}");
    }
}

fn summary_line(plan: &Plan) -> String {
    let s = plan.summary();
    format!("Plan: {} to add, {} to change, {} to destroy.", s.add, s.change, s.destroy)
}

fn human(plan: &Plan) -> String {
    if plan.is_empty() {
        return "No changes. The tree is up to date.\n".to_string();
    }
    let mut out = String::new();
    for e in &plan.entries {
        let _ = writeln!(out, "{} {}", sign(&e.action), e.key.label());
        if let Action::Change(changes) = &e.action {
            field_lines(changes, "    ", &mut out);
        }
        if let Some(loss) = &e.data_loss {
            let _ = writeln!(out, "    ! data loss: {} (allow with --allow-destroy {})", loss.reason, loss.declaration);
        }
        if let Some(refused) = &e.refused {
            let _ = writeln!(out, "    ! refused by the API server: {refused}");
        }
    }
    let _ = writeln!(out, "\n{}", summary_line(plan));
    out
}

fn markdown(plan: &Plan) -> String {
    let mut out = String::from("### homelabc plan\n\n");
    if plan.is_empty() {
        out.push_str("No changes. The tree is up to date.\n");
        return out;
    }
    let _ = writeln!(out, "**{}**\n", summary_line(plan));
    let losses: Vec<&Entry> = plan.entries.iter().filter(|e| e.data_loss.is_some()).collect();
    if !losses.is_empty() {
        out.push_str("> [!WARNING]\n> This change destroys data:\n");
        for e in losses {
            if let Some(loss) = &e.data_loss {
                let _ =
                    writeln!(out, "> - `{}`: {} (`--allow-destroy {}`)", e.key.label(), loss.reason, loss.declaration);
            }
        }
        out.push('\n');
    }
    let refused: Vec<&Entry> = plan.entries.iter().filter(|e| e.refused.is_some()).collect();
    if !refused.is_empty() {
        out.push_str("> [!CAUTION]\n> The API server refuses these changes in place:\n");
        for e in refused {
            if let Some(why) = &e.refused {
                let _ = writeln!(out, "> - `{}`: {why}", e.key.label());
            }
        }
        out.push('\n');
    }
    out.push_str("<details><summary>Changes</summary>\n\n```diff\n");
    for e in &plan.entries {
        let _ = writeln!(out, "{} {}", sign(&e.action), e.key.label());
        if let Action::Change(changes) = &e.action {
            field_lines(changes, "    ", &mut out);
        }
    }
    out.push_str("```\n\n</details>\n");
    out
}

#[cfg(test)]
mod tests;
