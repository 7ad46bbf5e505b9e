//! KDL parsing: text to `KdlDocument`, KDL v2 first, v1 accepted with a warning.

use kdl::{KdlDocument, KdlError};

use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};

mod fast;

/// Parses a file's text. A KDL v1 document is accepted with a `W0101`
/// warning; a document that is neither reports the v2 parser's errors.
///
/// The common subset of KDL v2 goes through a fast hand-written parser that
/// builds the same document; anything else goes to the kdl crate.
pub fn parse(file: FileId, text: &str, diags: &mut Vec<Diagnostic>) -> Option<KdlDocument> {
    if let Some(doc) = fast::parse(text) {
        return Some(doc);
    }
    match KdlDocument::parse_v2(text) {
        Ok(doc) => Some(doc),
        Err(v2_error) => match KdlDocument::parse_v1(text) {
            Ok(doc) => {
                let span = doc
                    .nodes()
                    .first()
                    .map_or(Span::new(file, 0, 0), |n| Span::new(file, n.span().offset(), n.name().span().len()));
                diags.push(
                    Diagnostic::new(Code::W0101, "this file is written in KDL v1")
                        .primary(span, "parsed as KDL v1")
                        .help(
                            "KDL v2 writes booleans and null as `#true`, `#false`, `#null` and quotes \
                             strings that are not identifiers; `homelabc fmt` rewrites the file in v2",
                        ),
                );
                Some(doc)
            }
            Err(_) => {
                report(file, text, &v2_error, diags);
                None
            }
        },
    }
}

fn report(file: FileId, text: &str, error: &KdlError, diags: &mut Vec<Diagnostic>) {
    if error.diagnostics.is_empty() {
        diags.push(
            Diagnostic::new(Code::E0101, "the file is not valid KDL")
                .primary(Span::new(file, 0, 0), "here")
                .help("see https://kdl.dev for the syntax"),
        );
    }
    for d in &error.diagnostics {
        let message = d.message.clone().unwrap_or_else(|| "invalid KDL".to_string());
        let message = lowercase_first(message.trim_end_matches('.'));
        let label = d.label.clone().unwrap_or_else(|| "here".to_string());
        let token = bare_token(text, d.span.offset());
        let unquoted =
            token.starts_with(|c: char| c.is_ascii_digit()) && token.contains(|c: char| c.is_ascii_alphabetic());
        let help = if unquoted {
            // `memory 8Gi`: a quantity or version written without quotes.
            format!("values that are not plain numbers are strings: write `\"{token}\"`")
        } else {
            d.help.clone().unwrap_or_else(|| "see https://kdl.dev for the KDL v2 syntax".to_string())
        };
        diags.push(
            Diagnostic::new(Code::E0101, message)
                .primary(Span::new(file, d.span.offset(), d.span.len()), label)
                .help(help),
        );
    }
}

/// The run of non-space, non-delimiter characters around a byte offset.
fn bare_token(text: &str, offset: usize) -> &str {
    let is_part = |c: char| !c.is_whitespace() && !matches!(c, ';' | '{' | '}' | '"' | '=' | '(' | ')');
    let offset = offset.min(text.len());
    let start = text[..offset].rfind(|c: char| !is_part(c)).map_or(0, |i| i + 1);
    let end = text[offset..].find(|c: char| !is_part(c)).map_or(text.len(), |i| offset + i);
    text.get(start..end).unwrap_or("")
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_parses_without_diagnostics() {
        let mut diags = Vec::new();
        assert!(parse(FileId(0), "node \"a\" flag=#true\n", &mut diags).is_some());
        assert!(diags.is_empty());
    }

    #[test]
    fn v1_parses_with_a_warning() {
        let mut diags = Vec::new();
        assert!(parse(FileId(0), "node \"a\" flag=true\n", &mut diags).is_some());
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, Code::W0101);
    }

    #[test]
    fn garbage_is_an_error_with_a_span() {
        let mut diags = Vec::new();
        assert!(parse(FileId(0), "node \"a\n{", &mut diags).is_none());
        assert!(!diags.is_empty());
        assert!(diags.iter().all(|d| d.code == Code::E0101 && d.primary_span().is_some()));
    }
}
