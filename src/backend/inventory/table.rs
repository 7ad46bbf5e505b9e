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
        let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
        out.push_str(&line(kept.iter().map(|&c| cell(self.header[c])).collect()));
        out.push_str(&line(kept.iter().map(|_| "---".to_string()).collect()));
        for row in &self.rows {
            let text = |c: usize| row.get(c).map_or("", String::as_str);
            out.push_str(&line(kept.iter().map(|&c| cell(text(c))).collect()));
        }
        out.push('\n');
    }

    /// Whether column `c` is shown: it is required, or some cell fills it.
    fn keeps(&self, c: usize) -> bool {
        !self.optional.contains(&self.header[c]) || self.rows.iter().any(|r| r.get(c).is_some_and(|t| !t.is_empty()))
    }
}

/// One cell's text, safe inside a table row: `|` escaped, line breaks as
/// `<br>`, surrounding blanks trimmed, and an empty cell shown as a dash.
pub fn cell(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return NONE.to_string();
    }
    text.replace("\r\n", "\n").replace('\r', "\n").replace('|', "\\|").replace('\n', "<br>")
}

/// Text as inline code, with a fence longer than any backtick run inside it.
pub fn code(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{text}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_escape_pipes_and_line_breaks() {
        assert_eq!(cell("a|b"), "a\\|b");
        assert_eq!(cell("one\ntwo\r\nthree"), "one<br>two<br>three");
        assert_eq!(cell("  "), NONE);
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
