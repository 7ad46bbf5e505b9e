//! `homelabc explain CODE`: the long text of a diagnostic code.

use super::{ExitStatus, Printer};
use crate::diag::codes::{ALL, Code};
use crate::suggest;

/// Arguments of `homelabc explain`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A code such as `E0301`, or its name (`node-outside-network`); `kinds` lists the
    /// declaration kinds; `stdlib` lists the stdlib components; none lists every code.
    pub code: Option<String>,
}

/// Runs the command.
pub fn run(args: &Args, printer: &Printer, library: &crate::stdlib::Library) -> ExitStatus {
    let Some(wanted) = &args.code else {
        let mut text = String::new();
        for code in ALL {
            text.push_str(&format!("{code}  {:<28} {}\n", code.name(), code.summary()));
        }
        printer.out(&text);
        return ExitStatus::Success;
    };
    if wanted == "kinds" {
        printer.out(&kinds_text());
        return ExitStatus::Success;
    }
    if wanted == "stdlib" {
        printer.out(&stdlib_text(library));
        return ExitStatus::Success;
    }
    match wanted.parse::<Code>() {
        Ok(code) => {
            printer.out(code.explanation());
            ExitStatus::Success
        }
        Err(()) => {
            let names: Vec<&str> = ALL.iter().flat_map(|c| [c.as_str(), c.name()]).collect();
            let hint = suggest::did_you_mean(wanted, names)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_else(|| "; `homelabc explain` lists every code".to_string());
            printer.error(&format!("no diagnostic code `{wanted}`{hint}"));
            ExitStatus::Error
        }
    }
}

/// The declaration kinds, from the one registry: keyword and what it declares.
fn kinds_text() -> String {
    let mut text = String::from("declaration kinds (a top-level node per declaration, `KIND \"NAME\" ...`):\n");
    for kind in crate::model::DeclKind::ALL {
        text.push_str(&format!("  {:<10} {}\n", kind.keyword(), kind.docs()));
    }
    text.push_str(&format!("  {:<10} includes a file, or every `.kdl` file below a folder\n", crate::lower::IMPORT));
    text
}

/// The stdlib components: description, pinned charts and parameters.
fn stdlib_text(library: &crate::stdlib::Library) -> String {
    let mut text = String::from("stdlib components (`use \"NAME\" { PARAM VALUE; values { ... } }`):\n");
    for c in crate::lower::component::summarize(library) {
        text.push_str(&format!("\n{}  {}\n", c.name, c.description));
        for (release, chart, version) in &c.charts {
            text.push_str(&format!("  chart {release}: {chart} {version}\n"));
        }
        for (name, ty, default) in &c.params {
            let default = if default.is_empty() { "optional".to_string() } else { format!("default {default}") };
            text.push_str(&format!("  param {name}: {ty}, {default}\n"));
        }
    }
    text
}
