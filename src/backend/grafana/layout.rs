//! The automatic layout of panels on Grafana's 24-column grid.
//!
//! Each row starts with a row header (a titled row) and fills lines left to
//! right: a line takes panels while their minimum widths fit in 24 columns
//! (6 for stat, gauge and bar gauge, 8 for time series and tables), then
//! shares the 24 columns evenly between them. A line is 8 high when it holds
//! a graph or a table, 5 when it holds only single values.

use serde_json::{Value as Json, json};

use crate::model::{Panel, PanelKind, Row};

/// Columns of the grid.
const COLUMNS: u32 = 24;

/// Every panel of the rows, with its `id` and `gridPos`, in reading order.
pub(super) fn panels(rows: &[Row], render: impl Fn(&Panel) -> Json) -> Vec<Json> {
    let mut out = Vec::new();
    let mut y = 0;
    let mut id = 0;
    let mut next_id = || {
        id += 1;
        id
    };
    for row in rows {
        if let Some(title) = &row.title {
            out.push(json!({
                "type": "row",
                "title": title.value,
                "collapsed": false,
                "id": next_id(),
                "gridPos": { "h": 1, "w": COLUMNS, "x": 0, "y": y },
                "panels": [],
            }));
            y += 1;
        }
        for line in lines(&row.panels) {
            let height = if line.iter().any(|p| is_graph(p.kind.value)) { 8 } else { 5 };
            let mut x = 0;
            for (i, p) in line.iter().enumerate() {
                let width = share(line.len(), i);
                let mut panel = render(p);
                panel["id"] = json!(next_id());
                panel["gridPos"] = json!({ "h": height, "w": width, "x": x, "y": y });
                out.push(panel);
                x += width;
            }
            y += height;
        }
    }
    out
}

/// Whether a panel kind needs room (a graph or a table).
fn is_graph(kind: PanelKind) -> bool {
    matches!(kind, PanelKind::Timeseries | PanelKind::Table)
}

/// The narrowest a panel of this kind may be.
fn min_width(kind: PanelKind) -> u32 {
    if is_graph(kind) { 8 } else { 6 }
}

/// Splits panels into lines whose minimum widths fit in the grid.
fn lines(panels: &[Panel]) -> Vec<&[Panel]> {
    let mut lines = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (i, p) in panels.iter().enumerate() {
        let width = min_width(p.kind.value);
        if i > start && used + width > COLUMNS {
            lines.push(&panels[start..i]);
            (start, used) = (i, 0);
        }
        used += width;
    }
    if start < panels.len() {
        lines.push(&panels[start..]);
    }
    lines
}

/// The width of the `i`-th of `n` panels sharing a line: 24 split evenly,
/// the first panels taking the columns left over.
fn share(n: usize, i: usize) -> u32 {
    let n = n as u32;
    COLUMNS / n + u32::from((i as u32) < COLUMNS % n)
}
