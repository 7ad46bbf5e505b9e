//! The automatic layout of panels on Grafana's 24-column grid.
//!
//! Each row starts with a row header (a titled row) and fills lines left to
//! right: a line takes panels while their minimum widths fit in 24 columns
//! (6 for stat, gauge and bar gauge, 8 for time series and tables), then
//! shares the 24 columns evenly between them. A line is 8 high when it holds
//! a graph or a table, 5 when it holds only single values.

use super::json::{self, EmptyList, GridPos, PanelItem, RowHeader};
use crate::model::{Panel, PanelKind, Row};

/// Columns of the grid.
const COLUMNS: u32 = 24;

/// Every panel of the rows, in reading order: `render` makes a panel's JSON
/// model given its `id` and `gridPos`.
pub(super) fn panels<'a>(
    rows: &'a [Row],
    render: impl Fn(&'a Panel, u32, GridPos) -> json::Panel<'a>,
) -> Vec<PanelItem<'a>> {
    let mut out = Vec::new();
    let mut y = 0;
    let mut id = 0;
    let mut next_id = || {
        id += 1;
        id
    };
    for row in rows {
        if let Some(title) = &row.title {
            out.push(PanelItem::Row(RowHeader {
                collapsed: false,
                grid_pos: GridPos { h: 1, w: COLUMNS, x: 0, y },
                id: next_id(),
                panels: EmptyList,
                title: &title.value,
                kind: "row",
            }));
            y += 1;
        }
        for line in lines(&row.panels) {
            let height = if line.iter().any(|p| is_graph(p.kind.value)) { 8 } else { 5 };
            let mut x = 0;
            for (i, p) in line.iter().enumerate() {
                let width = share(line.len(), i);
                let grid_pos = GridPos { h: height, w: width, x, y };
                out.push(PanelItem::Panel(Box::new(render(p, next_id(), grid_pos))));
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
