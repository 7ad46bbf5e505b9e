//! The one printer that writes to the terminal: diagnostics to stderr, results
//! to stdout, and the color decision made at the edge.

use std::io::{IsTerminal, Write};

use super::{Color, MessageFormat};
use crate::diag::Diagnostic;
use crate::diag::render::{self, Format, Options};
use crate::source::SourceMap;

/// Writes diagnostics and results.
#[derive(Clone, Copy, Debug)]
pub struct Printer {
    options: Options,
    quiet: bool,
}

impl Printer {
    /// A printer for the global flags.
    pub fn new(color: Color, format: MessageFormat, quiet: bool) -> Printer {
        #[allow(clippy::disallowed_methods)] // The CLI edge may read the environment.
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => !no_color && std::io::stderr().is_terminal(),
        };
        let format = match format {
            MessageFormat::Human => Format::Human,
            MessageFormat::Short => Format::Short,
            MessageFormat::Json => Format::Json,
        };
        let width = terminal_width();
        Printer { options: Options { format, color, width }, quiet }
    }

    /// Prints diagnostics to stderr, with the summary line for humans.
    pub fn diagnostics(&self, diags: &[Diagnostic], sources: &SourceMap) {
        self.shown(&self.render(diags, sources));
    }

    /// Diagnostics as [`Printer::diagnostics`] prints them.
    pub fn render(&self, diags: &[Diagnostic], sources: &SourceMap) -> String {
        let mut text = render::render_all(diags, sources, &self.options);
        if self.quiet && self.options.format == Format::Human {
            // Keep the reports, drop the summary line.
            let summary = render::summary(diags);
            text.truncate(text.len() - summary.len());
        }
        text
    }

    /// Prints diagnostics rendered by [`Printer::render`] (by this process or,
    /// remembered, by an earlier one with the same [`Printer::style`]).
    pub fn shown(&self, text: &str) {
        let _ = std::io::stderr().write_all(text.as_bytes());
    }

    /// Everything that decides how [`Printer::render`] renders, in words.
    pub fn style(&self) -> String {
        let Options { format, color, width } = self.options;
        format!("{format:?} color={color} width={width} quiet={}", self.quiet)
    }

    /// Prints a result to stdout.
    pub fn out(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }

    /// Prints a status line to stderr unless quiet.
    pub fn status(&self, text: &str) {
        if !self.quiet {
            // One write, the line break with it.
            let _ = std::io::stderr().write_all(format!("{text}\n").as_bytes());
        }
    }

    /// Prints a warning that is no diagnostic of the input (about the output folder) to stderr,
    /// even when quiet.
    pub fn warning(&self, text: &str) {
        eprintln!("warning: {text}");
    }

    /// Prints a usage or I/O error to stderr.
    pub fn error(&self, text: &str) {
        eprintln!("error: {text}");
    }

    /// Whether a progress line may be shown: standard error is a terminal
    /// and the run is not quiet (SPEC §1).
    pub fn shows_progress(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }

    /// Shows `text` as the progress line, over the previous one (the line
    /// is cleared, then written without a newline).
    pub fn progress(&self, text: &str) {
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\r\x1b[2K{text}");
        let _ = stderr.flush();
    }

    /// Clears the progress line.
    pub fn clear_progress(&self) {
        self.progress("");
    }

    /// Prints a table or other text the user asked for (`--timings`) to
    /// stderr, even when quiet.
    pub fn report(&self, text: &str) {
        let _ = std::io::stderr().write_all(text.as_bytes());
    }
}

fn terminal_width() -> usize {
    #[allow(clippy::disallowed_methods)] // The CLI edge may read the environment.
    let columns = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok());
    columns.unwrap_or(100).clamp(60, 200)
}
