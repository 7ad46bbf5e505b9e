//! Diagnostics as data: `Diagnostic`, `Label`, `Severity`, and the code
//! registry in [`codes`]. The compiler builds these; [`render`] is the only
//! place that turns them into text (miette for humans, one-line, or JSON).

pub mod codes;
pub mod render;

pub use codes::Code;

use crate::source::Span;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The input is wrong: nothing is built.
    Error,
    /// The input is accepted but probably not what was meant.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A span with a message: what is at that place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// The place.
    pub span: Span,
    /// What is there, in lowercase without a final period.
    pub message: String,
    /// Whether this is the place the diagnostic is about.
    pub primary: bool,
}

/// One problem found in the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable code.
    pub code: Code,
    /// The problem, in lowercase without a final period.
    pub message: String,
    /// The primary label first, then secondary ones.
    pub labels: Vec<Label>,
    /// What to do about it.
    pub help: Option<String>,
    /// Further notes, each a sentence.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic with the code's severity and a message.
    pub fn new(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic { code, message: message.into(), labels: Vec::new(), help: None, notes: Vec::new() }
    }

    /// Adds the primary label.
    pub fn primary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.insert(0, Label { span, message: message.into(), primary: true });
        self
    }

    /// Adds a secondary label.
    pub fn secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { span, message: message.into(), primary: false });
        self
    }

    /// Sets the `help:` line.
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Sets the `help:` line when there is one.
    pub fn help_opt(mut self, help: Option<String>) -> Diagnostic {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// Adds a note.
    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// The severity, from the code.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }

    /// The primary span, if any.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels.iter().find(|l| l.primary).map(|l| l.span)
    }

    /// The key diagnostics are sorted by: file, position, code, message.
    pub fn sort_key(&self) -> (Option<Span>, Code, &str) {
        (self.primary_span(), self.code, &self.message)
    }
}

/// A value as a diagnostic may quote it: the password of a URL replaced by
/// `***` (diagnostics never echo a secret).
pub fn redact(text: &str) -> String {
    crate::leaks::redact(text)
}

/// Sorts diagnostics by file and position and removes exact duplicates.
pub fn sort(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    diags.dedup();
}

/// Whether any diagnostic is an error.
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}

/// A value built by a phase together with every diagnostic found on the way.
#[derive(Debug)]
pub struct Outcome<T> {
    /// What was built, as far as the input allowed.
    pub value: T,
    /// Every problem found.
    pub diagnostics: Vec<Diagnostic>,
}
