//! Markdown tables (GitHub-flavoured) for the inventory: cells are escaped
//! here, once, so that no declaration can break a table's layout.

/// What an empty cell shows.
pub const NONE: &str = "—";

/// A table with a header and rows of cells, rendered as GFM.
#[derive(Debug, Default)]
pub struct Table {
    /// Column titles.
    header: Vec<&'static str>,
    /// Columns dropped when every one of their cells is empty.
    optional: Vec<&'static str>,
    /// Rows, one cell per column, not yet escaped.
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&'static str]) -> Table {
        Table { header: header.to_vec(), ..Table::default() }
    }

    /// Marks columns to leave out when none of their cells says anything.
    pub fn optional(mut self, columns: &[&'static str]) -> Table {
        self.optional.extend_from_slice(columns);
        self
    }

    /// Adds a row (missing cells are empty, extra ones ignored).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Appends the table, followed by a blank line; nothing when it has no rows.
    pub fn render(&self, out: &mut String) {
        if self.rows.is_empty() {
            return;
        }
        let kept: Vec<usize> = (0..self.header.len()).filter(|&c| self.keeps(c)).collect();
        // Each row written as it goes: `| a | b |`, every cell escaped on the way.
        let line = |out: &mut String, cell: &dyn Fn(&mut String, usize)| {
            out.push_str("| ");
            for (i, &c) in kept.iter().enumerate() {
                if i > 0 {
                    out.push_str(" | ");
                }
                cell(out, c);
            }
            out.push_str(" |\n");
        };
        line(out, &|out, c| push_cell(out, self.header[c]));
        line(out, &|out, _| out.push_str("---"));
        for row in &self.rows {
            line(out, &|out, c| push_cell(out, row.get(c).map_or("", String::as_str)));
        }
        out.push('\n');
    }

    /// Whether column `c` is shown: it is required, or some cell fills it.
    fn keeps(&self, c: usize) -> bool {
        !self.optional.contains(&self.header[c]) || self.rows.iter().any(|r| r.get(c).is_some_and(|t| !t.is_empty()))
    }
}

/// Appends one cell's text, safe inside a table row: `|` escaped, line
/// breaks as `<br>`, surrounding blanks trimmed, and an empty cell shown as
/// a dash.
fn push_cell(out: &mut String, text: &str) {
    let text = text.trim();
    if text.is_empty() {
        out.push_str(NONE);
        return;
    }
    // Most cells hold none of the characters escaped.
    let mut rest = text;
    while let Some(at) = rest.find(['|', '\r', '\n']) {
        out.push_str(&rest[..at]);
        let after = match rest.as_bytes()[at] {
            b'|' => {
                out.push_str("\\|");
                at + 1
            }
            // A line break: CRLF, a lone CR or LF.
            b'\r' if rest.as_bytes().get(at + 1) == Some(&b'\n') => {
                out.push_str("<br>");
                at + 2
            }
            _ => {
                out.push_str("<br>");
                at + 1
            }
        };
        rest = &rest[after..];
    }
    out.push_str(rest);
}

/// Text as inline code, with a fence longer than any backtick run inside it.
pub fn code(text: &str) -> String {
    let longest = if text.contains('`') { text.split(|c| c != '`').map(str::len).max().unwrap_or(0) } else { 0 };
    let pad = if text.starts_with('`') || text.ends_with('`') { " " } else { "" };
    let mut out = String::with_capacity(text.len() + 2 * (longest + 1 + pad.len()));
    let fence = |out: &mut String| (0..=longest).for_each(|_| out.push('`'));
    fence(&mut out);
    out.push_str(pad);
    out.push_str(text);
    out.push_str(pad);
    fence(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(text: &str) -> String {
        let mut out = String::new();
        push_cell(&mut out, text);
        out
    }

    #[test]
    fn cells_escape_pipes_and_line_breaks() {
        assert_eq!(cell("a|b"), "a\\|b");
        assert_eq!(cell("one\ntwo\r\nthree"), "one<br>two<br>three");
        assert_eq!(cell("  "), NONE);
        assert_eq!(cell(" a\r\r\nb|\rc|| "), "a<br><br>b\\|<br>c\\|\\|");
        // As the four replacements it stands for.
        for text in ["x\r\n\r\ny", "|\n|", "\r|\r", "plain", "é|è\r\nü"] {
            let replaced =
                text.trim().replace("\r\n", "\n").replace('\r', "\n").replace('|', "\\|").replace('\n', "<br>");
            assert_eq!(cell(text), replaced, "{text:?}");
        }
    }

    #[test]
    fn code_spans_outgrow_backticks_inside() {
        assert_eq!(code("web"), "`web`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
    }

    #[test]
    fn empty_optional_columns_are_dropped() {
        let mut table = Table::new(&["Name", "Labels", "Note"]).optional(&["Labels", "Note"]);
        table.row(vec!["a|b".into(), String::new(), "x".into()]);
        table.row(vec!["c".into()]);
        let mut out = String::new();
        table.render(&mut out);
        assert_eq!(out, "| Name | Note |\n| --- | --- |\n| a\\|b | x |\n| c | — |\n\n");
    }

    #[test]
    fn a_table_without_rows_renders_nothing() {
        let mut out = String::new();
        Table::new(&["Name"]).render(&mut out);
        assert!(out.is_empty());
    }
}
