//! What the server answers: completion, hover, go to definition and
//! formatting, each from the text at the cursor ([`context`]), the shapes the
//! readers check against ([`Schema`], from `lower::trace`) and the checked
//! model of the description (its declarations and their spans).

use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionTextEdit, Documentation, Hover, HoverContents, Location,
    MarkupContent, MarkupKind, TextEdit,
};

use super::context::{self, Cursor, Role};
use super::text::LineIndex;
use super::workspace::{Root, uri_of};
use crate::diag::codes;
use crate::driver::Checked;
use crate::lower::trace::{Opened, Slot, Trace};
use crate::model::DeclKind;
use crate::source::Origin;

/// What the language's nodes take, as the readers saw it: the file being
/// edited first (its own text, or the text with the cursor's line blanked
/// when it does not parse), then the embedded examples.
pub struct Schema<'a> {
    own: Option<Trace>,
    corpus: &'a [Trace],
}

impl<'a> Schema<'a> {
    /// The schema for a text being edited at byte `at`.
    pub fn new(text: &str, at: usize, corpus: &'a [Trace]) -> Schema<'a> {
        let own = crate::lower::trace::file(text)
            .or_else(|| crate::lower::trace::file(&blank(text, at, true)))
            .or_else(|| crate::lower::trace::file(&blank(text, at, false)));
        Schema { own, corpus }
    }

    /// The node at a path of names, as some reader opened it.
    pub fn node(&self, path: &[String]) -> Option<&Opened> {
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        self.own.iter().chain(self.corpus).find_map(|t| t.at_path(&path))
    }
}

/// The text with the line holding `at` replaced by spaces, or with only the
/// entry being written (`registry="lo`, from the last space before `at`)
/// when `entry`: a line being typed is the usual reason a file does not
/// parse, and the node it is on is kept where it can be. Offsets stay the same.
fn blank(text: &str, at: usize, entry: bool) -> String {
    let at = context::floor_char_boundary(text, at);
    let line = text[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let space = text[line..at].rfind(char::is_whitespace).map(|i| line + i + 1);
    let start = if entry { space.unwrap_or(line) } else { line };
    let end = text[at..].find(['\n', '\r']).map_or(text.len(), |i| at + i);
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..start]);
    out.extend(text[start..end].chars().map(|c| if c.is_whitespace() { c } else { ' ' }));
    out.push_str(&text[end..]);
    out
}

/// The kinds of declaration a value names, by the property (or, for a
/// positional value, the node) it is given to: `secret=` and `pull-secret=`
/// name secrets, `tls-issuer "x"` an issuer. The keywords come from the one
/// registry ([`DeclKind::ALL`]); `store=` and `depends-on` are the two
/// references not spelled after a keyword.
pub fn referenced_kinds(name: &str, positional: bool) -> Vec<DeclKind> {
    match name {
        "store" => return vec![DeclKind::SecretStore],
        "depends-on" => return vec![DeclKind::App, DeclKind::Chart, DeclKind::Component],
        _ => {}
    }
    let exact = (!positional).then(|| DeclKind::from_keyword(name)).flatten();
    let suffix = name.rsplit_once('-').and_then(|(_, last)| DeclKind::from_keyword(last));
    exact.or(suffix).into_iter().filter(|k| *k != DeclKind::Homelab).collect()
}

/// The kinds a value at the cursor names, if it is a reference.
fn reference_at(role: &Role, schema: &Schema<'_>) -> Vec<DeclKind> {
    let Role::Value { path, slot } = role else { return Vec::new() };
    let typed = schema.node(path).and_then(|n| n.slot(slot));
    if typed.is_some_and(|t| !t.words.is_empty()) {
        return Vec::new();
    }
    match slot {
        Slot::Prop(key) => referenced_kinds(key, false),
        Slot::Arg(_) if path.len() > 1 => path.last().map_or_else(Vec::new, |n| referenced_kinds(n, true)),
        Slot::Arg(_) => Vec::new(),
    }
}

/// Completion items at byte `at` of `text`.
/// `components` are the names `use` may take (the stdlib's).
pub fn completion(
    text: &str,
    at: usize,
    corpus: &[Trace],
    checked: Option<&Checked>,
    components: &[&str],
) -> Vec<CompletionItem> {
    let cursor = context::at(text, at);
    let schema = Schema::new(text, at, corpus);
    let index = LineIndex::new(text);
    let range = index.range(text, cursor.start, cursor.end);
    let item =
        |label: &str, insert: String, kind: CompletionItemKind, detail: String, docs: Option<String>| CompletionItem {
            label: label.to_string(),
            kind: Some(kind),
            detail: (!detail.is_empty()).then_some(detail),
            documentation: docs.map(|d| Documentation::MarkupContent(markdown(d))),
            filter_text: Some(insert.clone()),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit { range, new_text: insert })),
            ..Default::default()
        };
    let mut items = Vec::new();
    match &cursor.role {
        Role::NodeName { parents } if parents.is_empty() => {
            for kind in DeclKind::ALL {
                let keyword = kind.keyword();
                items.push(item(
                    keyword,
                    keyword.to_string(),
                    CompletionItemKind::KEYWORD,
                    kind.noun().into(),
                    Some(kind.docs().into()),
                ));
            }
            let import = crate::lower::IMPORT;
            items.push(item(
                import,
                import.into(),
                CompletionItemKind::KEYWORD,
                "import".into(),
                Some(IMPORT_DOCS.into()),
            ));
        }
        Role::NodeName { parents } => {
            if let Some(node) = schema.node(parents) {
                for child in node.shape.children.iter().filter(|c| **c != "*") {
                    let path: Vec<String> = parents.iter().cloned().chain([child.to_string()]).collect();
                    let docs = schema.node(&path).map(describe_node);
                    items.push(item(
                        child,
                        child.to_string(),
                        CompletionItemKind::FIELD,
                        format!("in {}", node.shape.what),
                        docs,
                    ));
                }
            }
        }
        Role::Key { path } => {
            if let Some(node) = schema.node(path) {
                for key in node.shape.props {
                    let typed = node.slot(&Slot::Prop(key.to_string()));
                    let detail = typed.map_or(String::new(), |t| t.expected.to_string());
                    let docs = typed.filter(|t| !t.words.is_empty()).map(|t| one_of(&t.words));
                    items.push(item(key, format!("{key}="), CompletionItemKind::PROPERTY, detail, docs));
                }
            }
        }
        Role::Value { path, slot } => {
            if matches!((path.as_slice(), slot), ([node], Slot::Arg(0)) if node == DeclKind::Component.keyword()) {
                for name in components {
                    let detail = "stdlib component".to_string();
                    items.push(item(name, format!("\"{name}\""), CompletionItemKind::MODULE, detail, None));
                }
            }
            let typed = schema.node(path).and_then(|n| n.slot(slot));
            for word in typed.map_or(&[][..], |t| &t.words) {
                items.push(item(
                    word,
                    format!("\"{word}\""),
                    CompletionItemKind::ENUM_MEMBER,
                    typed.map_or("", |t| t.expected).into(),
                    None,
                ));
            }
            let kinds = reference_at(&cursor.role, &schema);
            if let Some(checked) = checked.filter(|_| !kinds.is_empty()) {
                let mut seen = std::collections::BTreeSet::new();
                for decl in checked.model.declarations().into_iter().filter(|d| kinds.contains(&d.id.kind)) {
                    if seen.insert(decl.id.name.clone()) {
                        let docs = Some(decl.id.kind.docs().to_string());
                        items.push(item(
                            &decl.id.name,
                            format!("\"{}\"", decl.id.name),
                            CompletionItemKind::REFERENCE,
                            decl.id.describe().replace('`', ""),
                            docs,
                        ));
                    }
                }
            }
        }
        Role::Nothing => {}
    }
    items
}

/// What `import` does, for completion and hover.
const IMPORT_DOCS: &str = "`import \"PATH\"`: reads another file (or every `.kdl` file of a folder) of the \
                           description, relative to this file";

/// A list of words, for documentation.
fn one_of(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
    format!("one of {}", quoted.join(", "))
}

/// What a node takes, in Markdown.
fn describe_node(node: &Opened) -> String {
    let mut text = format!("`{}`", node.shape.what);
    let args: Vec<String> = node
        .typed
        .iter()
        .filter_map(|t| match t.slot {
            Slot::Arg(i) => Some(format!("argument {}: {}", i + 1, t.expected)),
            Slot::Prop(_) => None,
        })
        .collect();
    if !args.is_empty() {
        text.push_str(&format!("\n\n{}", args.join("; ")));
    }
    if !node.shape.props.is_empty() {
        let props: Vec<String> = node.shape.props.iter().map(|p| format!("`{p}=`")).collect();
        text.push_str(&format!("\n\nproperties: {}", props.join(", ")));
    }
    let children: Vec<String> = node.shape.children.iter().filter(|c| **c != "*").map(|c| format!("`{c}`")).collect();
    if !children.is_empty() {
        text.push_str(&format!("\n\nchildren: {}", children.join(", ")));
    }
    text
}

fn markdown(value: String) -> MarkupContent {
    MarkupContent { kind: MarkupKind::Markdown, value }
}

/// The hover text at byte `at` of `text`: what the token is (a declaration
/// kind's docs, a property's type, the declaration a reference names in
/// `checked`), and the explanation of a diagnostic code under the cursor or
/// of the diagnostics the cursor is on (`own` are the check's diagnostics of
/// this file).
pub fn hover(
    text: &str,
    at: usize,
    corpus: &[Trace],
    checked: Option<&Checked>,
    own: &[lsp_types::Diagnostic],
) -> Option<Hover> {
    let cursor = context::at(text, at);
    let schema = Schema::new(text, at, corpus);
    let mut sections = Vec::new();
    if let Some(section) = token_docs(&cursor, &schema) {
        sections.push(section);
    }
    let kinds = reference_at(&cursor.role, &schema);
    if let Some(checked) = checked.filter(|_| !kinds.is_empty()) {
        let named = checked.model.declarations();
        let named: Vec<String> = named
            .iter()
            .filter(|d| kinds.contains(&d.id.kind) && d.id.name == cursor.value)
            .map(|d| format!("names the {}: {}", d.id.describe(), d.id.kind.docs()))
            .collect();
        if !named.is_empty() {
            sections.push(named.join("\n\n"));
        }
    }
    let word = word_at(text, at);
    let index = LineIndex::new(text);
    let position = index.position(text, at);
    let mut shown = Vec::new();
    if let Some(code) = codes::ALL.iter().find(|c| c.as_str() == word) {
        shown.push(*code);
    }
    for diag in own.iter().filter(|d| d.range.start <= position && position <= d.range.end) {
        let code = diag.code.as_ref().and_then(|c| match c {
            lsp_types::NumberOrString::String(s) => codes::ALL.iter().find(|k| k.as_str() == s),
            lsp_types::NumberOrString::Number(_) => None,
        });
        if let Some(code) = code.filter(|c| !shown.contains(c)) {
            shown.push(*code);
        }
    }
    for code in shown {
        sections.push(format!("**{}** `{}`: {}\n\n{}", code.as_str(), code.name(), code.summary(), code.explanation()));
    }
    if sections.is_empty() {
        return None;
    }
    let range = (cursor.start < cursor.end).then(|| index.range(text, cursor.start, cursor.end));
    Some(Hover { contents: HoverContents::Markup(markdown(sections.join("\n\n---\n\n"))), range })
}

/// What the token at the cursor is, in Markdown.
fn token_docs(cursor: &Cursor, schema: &Schema<'_>) -> Option<String> {
    match &cursor.role {
        Role::NodeName { parents } if parents.is_empty() => {
            if cursor.value == crate::lower::IMPORT {
                return Some(IMPORT_DOCS.to_string());
            }
            let kind = DeclKind::from_keyword(&cursor.value)?;
            let node = schema.node(std::slice::from_ref(&cursor.value));
            let shape = node.map(describe_node).map_or(String::new(), |d| format!("\n\n{d}"));
            Some(format!("**{}** (declaration): {}{shape}", kind.keyword(), kind.docs()))
        }
        Role::NodeName { parents } => {
            let path: Vec<String> = parents.iter().cloned().chain([cursor.value.clone()]).collect();
            schema.node(&path).map(describe_node)
        }
        Role::Key { path } => {
            let node = schema.node(path)?;
            if !node.shape.props.contains(&cursor.value.as_str()) {
                return None;
            }
            let typed = node.slot(&Slot::Prop(cursor.value.clone()));
            let mut text = format!("`{}=` on `{}`", cursor.value, node.shape.what);
            if let Some(typed) = typed {
                text.push_str(&format!(": {}", typed.expected));
                if !typed.words.is_empty() {
                    text.push_str(&format!(", {}", one_of(&typed.words)));
                }
            }
            let kinds = referenced_kinds(&cursor.value, false);
            if typed.is_some_and(|t| t.words.is_empty()) && !kinds.is_empty() {
                let nouns: Vec<&str> = kinds.iter().map(|k| k.noun()).collect();
                text.push_str(&format!("\n\nnames a declared {}", nouns.join(" or ")));
            }
            Some(text)
        }
        Role::Value { path, slot } => {
            let typed = schema.node(path).and_then(|n| n.slot(slot))?;
            let mut text = format!("expects {}", typed.expected);
            if !typed.words.is_empty() {
                text.push_str(&format!(": {}", one_of(&typed.words)));
            }
            Some(text)
        }
        Role::Nothing => None,
    }
}

/// The word (letters, digits, `-`) around byte `at`.
fn word_at(text: &str, at: usize) -> &str {
    let at = context::floor_char_boundary(text, at);
    let part = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let start = text[..at].rfind(|c: char| !part(c)).map_or(0, |i| i + 1);
    let end = text[at..].find(|c: char| !part(c)).map_or(text.len(), |i| at + i);
    text.get(start..end).unwrap_or("")
}

/// The declarations the reference at byte `at` names, or the file an
/// `import` names. `file` is the logical path of the text in `root`.
pub fn definition(
    text: &str,
    at: usize,
    corpus: &[Trace],
    root: &Root,
    file: &str,
    checked: &Checked,
) -> Vec<Location> {
    let cursor = context::at(text, at);
    if let Role::Value { path, slot: Slot::Arg(0) } = &cursor.role
        && path.len() == 1
        && path[0] == crate::lower::IMPORT
    {
        let target = crate::host::resolve(file, &cursor.value);
        let uri = target.as_deref().and_then(|t| uri_of(root, t));
        return uri.map(|uri| Location { uri, range: lsp_types::Range::default() }).into_iter().collect();
    }
    let schema = Schema::new(text, at, corpus);
    let kinds = reference_at(&cursor.role, &schema);
    if kinds.is_empty() {
        return Vec::new();
    }
    let sources = &checked.sources;
    let mut locations = Vec::new();
    for decl in checked.model.declarations() {
        if !kinds.contains(&decl.id.kind) || decl.id.name != cursor.value {
            continue;
        }
        let source = sources.iter().find(|(id, _)| *id == decl.name_span.file).map(|(_, f)| f);
        let Some(source) = source.filter(|s| s.origin == Origin::User) else { continue };
        let Some(uri) = uri_of(root, &source.path) else { continue };
        let index = LineIndex::new(&source.text);
        let range = index.range(&source.text, decl.name_span.start as usize, decl.name_span.end as usize);
        let location = Location { uri, range };
        if !locations.contains(&location) {
            locations.push(location);
        }
    }
    locations
}

/// The edits that format a text as `homelabc fmt` would: one edit replacing
/// the whole text, none when it is formatted already. `Err` says why a
/// text cannot be formatted; a text that is not KDL is left alone (its
/// diagnostics say why).
pub fn formatting(text: &str) -> Result<Vec<TextEdit>, String> {
    match crate::fmt::format(text) {
        Ok(after) if after == text => Ok(Vec::new()),
        Ok(after) => Ok(vec![TextEdit { range: LineIndex::new(text).whole(text), new_text: after }]),
        Err(crate::fmt::Error::Syntax) => Ok(Vec::new()),
        Err(error) => Err(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::MemHost;

    const LAB: &str = "homelab \"lab\" {\n    domain \"lab.example.com\"\n}\n\
                       secret \"db\" namespace=\"demo\" from=\"existing\"\n\
                       app \"web\" namespace=\"demo\" {\n    image \"me/web\" tag=\"1\"\n    service type=\"Cl\"\n    env \"PASSWORD\" secret=\"d\" key=\"password\"\n}\n";

    fn labels(text: &str, marker: &str, checked: Option<&Checked>) -> Vec<String> {
        let at = text.find(marker).expect("marker") + marker.len();
        completion(text, at, &[], checked, &["cert-manager"]).into_iter().map(|i| i.label).collect()
    }

    #[test]
    fn completes_words_and_references_from_the_readers_and_the_model() {
        let checked = crate::driver::check(&MemHost::with([("homelab.kdl", LAB)]), "homelab.kdl");
        let words = labels(LAB, "type=\"Cl", None);
        assert!(words.contains(&"ClusterIP".to_string()) && words.contains(&"LoadBalancer".to_string()), "{words:?}");
        assert_eq!(labels(LAB, "secret=\"d", Some(&checked)), ["db"]);
        // A line being typed does not parse: the shapes come from the rest of the file.
        let typing = LAB.replace("    service", "    in=\n    service");
        let keys = labels(&typing, "\n    in", None);
        assert!(keys.contains(&"ingress".to_string()), "{keys:?}");
        let typing = LAB.replace("type=\"Cl\"", "type=");
        let words = labels(&typing, "type=", None);
        assert!(words.contains(&"NodePort".to_string()), "{words:?}");
    }

    #[test]
    fn hover_and_definition() {
        let checked = crate::driver::check(&MemHost::with([("homelab.kdl", LAB)]), "homelab.kdl");
        let at = LAB.find("secret=").unwrap() + 2;
        let Some(Hover { contents: HoverContents::Markup(text), .. }) = hover(LAB, at, &[], None, &[]) else {
            panic!("a hover")
        };
        assert!(text.value.contains("`secret=` on `env`"), "{}", text.value);
        let root = Root { dir: "/lab".into(), file: "homelab.kdl".into() };
        let fixed = LAB.replace("secret=\"d\"", "secret=\"db\"");
        let checked_fixed = crate::driver::check(&MemHost::with([("homelab.kdl", fixed.as_str())]), "homelab.kdl");
        let at = fixed.find("secret=\"db").unwrap() + 9;
        let found = definition(&fixed, at, &[], &root, "homelab.kdl", &checked_fixed);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].uri.as_str(), "file:///lab/homelab.kdl");
        assert_eq!(found[0].range.start.line, 3);
        assert!(definition(LAB, at, &[], &root, "homelab.kdl", &checked).is_empty());
        let Some(Hover { contents: HoverContents::Markup(text), .. }) =
            hover(&fixed, at, &[], Some(&checked_fixed), &[])
        else {
            panic!("a hover")
        };
        assert!(text.value.contains("names the secret `db` in namespace `demo`"), "{}", text.value);
        assert_eq!(labels("use \"c", "use \"c", None), ["cert-manager"]);
    }

    #[test]
    fn no_offset_of_a_broken_text_panics() {
        let texts = [LAB, "app \"é\" {\n    image \"ü\" registry=\"", "}}} {{{ \"é", "import \"../x\"\n"];
        let checked = crate::driver::check(&MemHost::with([("homelab.kdl", LAB)]), "homelab.kdl");
        let root = Root { dir: "/lab".into(), file: "homelab.kdl".into() };
        for text in texts {
            for at in (0..=text.len() + 1).step_by(3) {
                completion(text, at, &[], Some(&checked), &[]);
                hover(text, at, &[], Some(&checked), &[]);
                definition(text, at, &[], &root, "homelab.kdl", &checked);
            }
            let _ = formatting(text);
        }
    }
}
