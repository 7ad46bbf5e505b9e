//! The one place that turns [`Diagnostic`]s into text: miette's graphical
//! report for people, a one-line form for editors, and JSON lines for tools.
//!
//! miette shows one source per report, so labels that sit in another file
//! than the primary one become a related report of their own.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteSpanContents, SourceSpan, SpanContents};
use serde::Serialize;

use super::{Diagnostic, Label, Severity};
use crate::source::{SourceMap, Span};

/// How diagnostics are printed (`--message-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// miette's graphical report.
    #[default]
    Human,
    /// `file:line:col: error[E0301]: message`.
    Short,
    /// One JSON object per line.
    Json,
}

/// Rendering options.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// The output format.
    pub format: Format,
    /// Whether to use colors (human format only).
    pub color: bool,
    /// Terminal width for wrapping (human format only).
    pub width: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options { format: Format::Human, color: false, width: 100 }
    }
}

/// Renders one diagnostic, ending with a newline.
pub fn render(diag: &Diagnostic, sources: &SourceMap, options: &Options) -> String {
    match options.format {
        Format::Human => human(diag, sources, options),
        Format::Short => short(diag, sources),
        Format::Json => json(diag, sources),
    }
}

/// Renders every diagnostic, then a summary line for the human format.
pub fn render_all(diags: &[Diagnostic], sources: &SourceMap, options: &Options) -> String {
    let mut out = String::new();
    for diag in diags {
        out.push_str(&render(diag, sources, options));
    }
    if options.format == Format::Human {
        out.push_str(&summary(diags));
    }
    out
}

/// `error: 2 errors, 1 warning` style summary, empty when there is nothing.
pub fn summary(diags: &[Diagnostic]) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, 0) => String::new(),
        (0, w) => format!("{} emitted\n", plural(w, "warning")),
        (e, 0) => format!("{} found\n", plural(e, "error")),
        (e, w) => format!("{} and {} found\n", plural(e, "error"), plural(w, "warning")),
    }
}

fn location(span: Span, sources: &SourceMap) -> (String, usize, usize) {
    let file = sources.get(span.file);
    let (line, col) = file.line_col(span.start);
    (file.path.clone(), line, col)
}

fn short(diag: &Diagnostic, sources: &SourceMap) -> String {
    let head = format!("{}[{}]: {}", diag.severity().as_str(), diag.code, diag.message);
    match diag.primary_span() {
        Some(span) => {
            let (path, line, col) = location(span, sources);
            format!("{path}:{line}:{col}: {head}\n")
        }
        None => format!("{head}\n"),
    }
}

#[derive(Serialize)]
struct JsonLabel {
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: String,
    primary: bool,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    name: &'a str,
    severity: &'a str,
    message: &'a str,
    file: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    labels: Vec<JsonLabel>,
    help: Option<&'a str>,
    notes: &'a [String],
}

fn json(diag: &Diagnostic, sources: &SourceMap) -> String {
    let labels: Vec<JsonLabel> = diag
        .labels
        .iter()
        .map(|l| {
            let (file, line, column) = location(l.span, sources);
            let (end_line, end_column) = sources.get(l.span.file).line_col(l.span.end);
            JsonLabel { file, line, column, end_line, end_column, message: l.message.clone(), primary: l.primary }
        })
        .collect();
    let primary = labels.iter().find(|l| l.primary);
    let value = JsonDiagnostic {
        code: diag.code.as_str(),
        name: diag.code.name(),
        severity: diag.severity().as_str(),
        message: &diag.message,
        file: primary.map(|l| l.file.clone()),
        line: primary.map(|l| l.line),
        column: primary.map(|l| l.column),
        help: diag.help.as_deref(),
        notes: &diag.notes,
        labels,
    };
    let mut line = serde_json::to_string(&value).unwrap_or_default();
    line.push('\n');
    line
}

/// The lines of one file around a diagnostic's labels, given to miette in
/// place of the whole file: miette finds a label's line by scanning its
/// source from the start, and copying and scanning a large file once per
/// diagnostic made many diagnostics quadratic. Labels are shifted to the
/// excerpt; the line numbers miette shows are shifted back.
#[derive(Debug, Default)]
struct Excerpt {
    name: String,
    text: String,
    /// Lines of the file above the excerpt.
    lines_before: usize,
}

/// Lines of context kept above and below the labels (miette shows one).
const EXCERPT_MARGIN: usize = 3;

impl Excerpt {
    /// The excerpt of `file` covering `spans`, and the byte offset it starts at.
    fn of(file: &crate::source::SourceFile, spans: impl Iterator<Item = Span>) -> (Excerpt, usize) {
        let (mut low, mut high) = (usize::MAX, 0);
        for span in spans {
            low = low.min(span.start as usize);
            high = high.max(span.end as usize);
        }
        let len = file.text.len();
        let (low, high) = (low.min(len), high.min(len).max(low.min(len)));
        let first = file.line_of(low).saturating_sub(EXCERPT_MARGIN).max(1);
        let last = file.line_of(high) + EXCERPT_MARGIN;
        let (start, end) = (file.line_start(first), file.line_start(last + 1));
        let text = file.text.get(start..end).unwrap_or_default().to_string();
        (Excerpt { name: file.path.clone(), text, lines_before: first - 1 }, start)
    }
}

impl miette::SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self.text.read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.lines_before,
            inner.column(),
            // miette counts lines from the start of the source, and merges
            // two labels' snippets by that count.
            inner.line_count() + self.lines_before,
        )))
    }
}

/// A miette report for the labels of one file.
#[derive(Debug)]
struct Report {
    message: String,
    severity: miette::Severity,
    source: Excerpt,
    labels: Vec<LabeledSpan>,
    help: Option<String>,
    related: Vec<Report>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        (!self.labels.is_empty()).then_some(&self.source as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        (!self.labels.is_empty()).then(|| Box::new(self.labels.iter().cloned()) as Box<_>)
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        (!self.related.is_empty())
            .then(|| Box::new(self.related.iter().map(|r| r as &dyn miette::Diagnostic)) as Box<_>)
    }
}

fn labeled(label: &Label, excerpt_start: usize) -> LabeledSpan {
    let start = (label.span.start as usize).saturating_sub(excerpt_start);
    let span = SourceSpan::new(start.into(), label.span.len());
    let text = (!label.message.is_empty()).then(|| label.message.clone());
    if label.primary { LabeledSpan::new_primary_with_span(text, span) } else { LabeledSpan::new_with_span(text, span) }
}

fn human(diag: &Diagnostic, sources: &SourceMap, options: &Options) -> String {
    let severity = match diag.severity() {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
    };
    let primary_file = diag.primary_span().or_else(|| diag.labels.first().map(|l| l.span)).map(|s| s.file);
    let source_of = |file| {
        let spans = diag.labels.iter().filter(|l| l.span.file == file).map(|l| l.span);
        Excerpt::of(sources.get(file), spans)
    };
    let mut help = diag.help.clone();
    for note in &diag.notes {
        let joined = match help {
            Some(h) => format!("{h}\nnote: {note}"),
            None => format!("note: {note}"),
        };
        help = Some(joined);
    }
    let (source, offset) = primary_file.map_or_else(|| (Excerpt::default(), 0), source_of);
    let mut report = Report {
        message: format!("{}[{}]: {}", diag.severity().as_str(), diag.code, diag.message),
        severity,
        source,
        labels: Vec::new(),
        help,
        related: Vec::new(),
    };
    // Labels in the primary file go on the report; others on related reports,
    // one per further file, in the order they first appear, nested under the
    // report (as notes, not under an "Advice:" heading of their own); their
    // labels say what they point at.
    let mut others: Vec<(crate::source::FileId, Vec<&Label>, String)> = Vec::new();
    for label in &diag.labels {
        if Some(label.span.file) == primary_file {
            report.labels.push(labeled(label, offset));
        } else if let Some(entry) = others.iter_mut().find(|(f, _, _)| *f == label.span.file) {
            entry.1.push(label);
        } else {
            others.push((label.span.file, vec![label], format!("and in {}", sources.get(label.span.file).path)));
        }
    }
    for (file, labels, message) in others {
        let (source, offset) = source_of(file);
        let labels = labels.into_iter().map(|l| labeled(l, offset)).collect();
        report.related.push(Report {
            message,
            severity: miette::Severity::Advice,
            source,
            labels,
            help: None,
            related: Vec::new(),
        });
    }
    let theme = if options.color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(options.width)
        .with_links(false)
        .with_show_related_as_nested(true);
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        out = short(diag, sources);
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}
