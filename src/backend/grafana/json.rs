//! The dashboard JSON model as types: the dashboard, its panels and their
//! queries, field config and options, the templating variables.
//!
//! **Invariant:** every struct declares its fields in the byte order of their
//! JSON names (`fieldConfig` before `gridPos`, `type` after `transformations`,
//! uppercase before lowercase), and maps are never `HashMap`s. The dashboard
//! is embedded in its ConfigMap as the text of `serde_json::to_string_pretty`,
//! whose keys follow field order; sorted fields keep that text identical to
//! the one a `serde_json::Value` (whose maps are sorted) printed, so the
//! dashboards do not change between builds or releases. The test
//! `keys_come_out_sorted` guards it for every type here.

use serde::{Serialize, Serializer};

/// A dashboard as Grafana provisions it from a file.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Dashboard<'a> {
    /// Annotation queries: none.
    pub annotations: List<EmptyList>,
    /// Whether users may edit it in Grafana (they may not: it is provisioned).
    pub editable: bool,
    /// Shared crosshair (1) or tooltip (2) between panels.
    pub graph_tooltip: u32,
    /// Links to other dashboards: none.
    pub links: EmptyList,
    /// Row headers and panels, in reading order.
    pub panels: Vec<PanelItem<'a>>,
    /// The auto-refresh interval.
    pub refresh: &'static str,
    /// The version of this JSON model.
    pub schema_version: u32,
    /// Tags to find it by.
    pub tags: Vec<&'a str>,
    /// The variables.
    pub templating: List<Vec<Variable>>,
    /// The time range shown when it opens.
    pub time: TimeRange,
    /// The time zone times are shown in.
    pub timezone: &'static str,
    /// The title.
    pub title: &'a str,
    /// The stable identifier links and bookmarks use.
    pub uid: String,
    /// The version of this dashboard.
    pub version: u32,
}

/// An object whose one field is `list` (`annotations`, `templating`).
#[derive(Debug, Serialize)]
pub(super) struct List<T> {
    /// The items.
    pub list: T,
}

/// A list homelabc always leaves empty: `[]`.
#[derive(Debug)]
pub(super) struct EmptyList;

impl Serialize for EmptyList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        serializer.serialize_seq(Some(0))?.end()
    }
}

/// An object homelabc always leaves empty: `{}`.
#[derive(Debug, Serialize)]
pub(super) struct EmptyObject {}

/// A time range, e.g. the last six hours.
#[derive(Debug, Serialize)]
pub(super) struct TimeRange {
    /// Start, e.g. `now-6h`.
    pub from: &'static str,
    /// End, e.g. `now`.
    pub to: &'static str,
}

/// A templating variable: the datasource choice, or values a query lists.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Variable {
    /// The value chosen: none, Grafana picks the first.
    pub current: EmptyObject,
    /// The datasource a query variable queries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datasource: Option<Datasource>,
    /// The query as shown in the editor, for a query variable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definition: Option<&'static str>,
    /// Whether it is hidden (0: shown with its label).
    pub hide: u32,
    /// Whether an `All` choice is offered.
    pub include_all: bool,
    /// The label shown.
    pub label: &'static str,
    /// Whether several values may be chosen.
    pub multi: bool,
    /// The name panels refer to it by (`$name`).
    pub name: &'static str,
    /// Fixed options: none, they come from the query (or the custom values).
    pub options: EmptyList,
    /// What lists the values.
    pub query: VariableQuery,
    /// When the values are listed again (1: on load, 2: on time range change).
    pub refresh: u32,
    /// A filter of the values: none.
    pub regex: &'static str,
    /// How the values are sorted (1: alphabetically), for a query variable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<u32>,
    /// `datasource`, `query` or `custom`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

impl Variable {
    /// A variable of `kind` listed by `query`: nothing chosen (Grafana picks
    /// the first value), shown with its label, one value at a time, unfiltered.
    pub(super) fn new(kind: &'static str, name: &'static str, label: &'static str, query: VariableQuery) -> Variable {
        Variable {
            current: EmptyObject {},
            datasource: None,
            definition: None,
            hide: 0,
            include_all: false,
            label,
            multi: false,
            name,
            options: EmptyList,
            query,
            refresh: 0,
            regex: "",
            sort: None,
            kind,
        }
    }

    /// A variable listing what a Prometheus `query` returns (through the
    /// datasource variable), again whenever the time range changes, sorted.
    pub(super) fn prometheus(name: &'static str, label: &'static str, query: &'static str) -> Variable {
        Variable {
            datasource: Some(super::PROMETHEUS),
            definition: Some(query),
            refresh: 2,
            sort: Some(1),
            ..Variable::new("query", name, label, VariableQuery::Prometheus(PrometheusQuery { query, ref_id: name }))
        }
    }
}

/// What lists a variable's values.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(super) enum VariableQuery {
    /// The datasource plugin whose instances a datasource variable lists.
    Plugin(&'static str),
    /// A Prometheus query.
    Prometheus(PrometheusQuery),
    /// The values of a custom variable, separated by commas.
    Custom(String),
}

/// The query of a Prometheus query variable.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PrometheusQuery {
    /// PromQL or a `label_values(...)` function.
    pub query: &'static str,
    /// Its reference.
    pub ref_id: &'static str,
}

/// A datasource reference.
#[derive(Debug, Serialize)]
pub(super) struct Datasource {
    /// The plugin, `prometheus`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The datasource, or a variable choosing it.
    pub uid: &'static str,
}

/// An entry of the dashboard's `panels`: a row header or a panel.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(super) enum PanelItem<'a> {
    /// A row header.
    Row(RowHeader<'a>),
    /// A panel.
    Panel(Box<Panel<'a>>),
}

/// The header of a titled row; the panels below it up to the next header are
/// its panels.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RowHeader<'a> {
    /// Whether the row is folded (it is not).
    pub collapsed: bool,
    /// Where it is.
    pub grid_pos: GridPos,
    /// Its number within the dashboard.
    pub id: u32,
    /// The panels of a collapsed row: none, since it is expanded.
    pub panels: EmptyList,
    /// The title.
    pub title: &'a str,
    /// `row`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// A panel on the grid.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Panel<'a> {
    /// The datasource its queries go to.
    pub datasource: Datasource,
    /// How values are shown.
    pub field_config: FieldConfig<'a>,
    /// Where it is.
    pub grid_pos: GridPos,
    /// Its number within the dashboard.
    pub id: u32,
    /// The options of its panel type.
    pub options: Options,
    /// Its queries.
    pub targets: Vec<Target<'a>>,
    /// The title.
    pub title: &'a str,
    /// What is done to the query results before they are shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transformations: Option<Vec<Transformation>>,
    /// The panel type (`timeseries`, `stat`, ...).
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// A rectangle of the 24-column grid.
#[derive(Clone, Copy, Debug, Serialize)]
pub(super) struct GridPos {
    /// Height.
    pub h: u32,
    /// Width.
    pub w: u32,
    /// Column of the left edge.
    pub x: u32,
    /// Line of the top edge.
    pub y: u32,
}

/// A query of a panel.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Target<'a> {
    /// The datasource it goes to.
    pub datasource: Datasource,
    /// PromQL.
    pub expr: &'a str,
    /// `table` for a table's queries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<&'static str>,
    /// Whether it is evaluated at one instant (a table's queries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instant: Option<bool>,
    /// The legend of its series.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legend_format: Option<&'a str>,
    /// Whether it is evaluated over the time range (the other panels' queries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<bool>,
    /// Its reference: `A`, `B`, ...
    pub ref_id: String,
}

/// How a panel shows values.
#[derive(Debug, Serialize)]
pub(super) struct FieldConfig<'a> {
    /// For every field.
    pub defaults: FieldDefaults<'a>,
    /// For some fields: none.
    pub overrides: EmptyList,
}

/// How a panel shows every field.
#[derive(Debug, Serialize)]
pub(super) struct FieldDefaults<'a> {
    /// How series are colored.
    pub color: Mode,
    /// How a time series is drawn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<GraphStyle>,
    /// The highest value of the axis or gauge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// The lowest value of the axis or gauge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// The threshold steps.
    pub thresholds: Thresholds<'a>,
    /// The unit of the values.
    pub unit: &'a str,
}

/// A setting that is one `mode`.
#[derive(Debug, Serialize)]
pub(super) struct Mode {
    /// The mode, e.g. `palette-classic` or `line`.
    pub mode: &'static str,
}

/// How a time series panel draws its series.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GraphStyle {
    /// `line`.
    pub draw_style: &'static str,
    /// The opacity of the area under a line, in percent.
    pub fill_opacity: u32,
    /// The width of a line.
    pub line_width: u32,
    /// When points are drawn.
    pub show_points: &'static str,
    /// Whether gaps are bridged.
    pub span_nulls: bool,
    /// How thresholds are drawn: `off` or `line`.
    pub thresholds_style: Mode,
}

/// Threshold steps.
#[derive(Debug, Serialize)]
pub(super) struct Thresholds<'a> {
    /// `absolute`: steps are values, not percentages.
    pub mode: &'static str,
    /// The steps, lowest first.
    pub steps: Vec<Step<'a>>,
}

/// A threshold step: values from `value` up are shown in `color`.
#[derive(Debug, Serialize)]
pub(super) struct Step<'a> {
    /// A Grafana color name or `#rrggbb`.
    pub color: &'a str,
    /// Where the step starts; `null` for the base step.
    pub value: Option<f64>,
}

/// A transformation of query results.
#[derive(Debug, Serialize)]
pub(super) struct Transformation {
    /// The transformation, e.g. `merge`.
    pub id: &'static str,
    /// Its options: none.
    pub options: EmptyObject,
}

/// The options of a panel, which differ by panel type.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(super) enum Options {
    /// Of a time series.
    Timeseries(TimeseriesOptions),
    /// Of a stat.
    Stat(StatOptions),
    /// Of a gauge.
    Gauge(GaugeOptions),
    /// Of a bar gauge.
    Bargauge(BargaugeOptions),
    /// Of a table.
    Table(TableOptions),
}

/// The options of a time series panel.
#[derive(Debug, Serialize)]
pub(super) struct TimeseriesOptions {
    /// The legend.
    pub legend: Legend,
    /// The tooltip.
    pub tooltip: Tooltip,
}

/// The legend of a time series panel.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Legend {
    /// Values computed per series in the legend.
    pub calcs: &'static [&'static str],
    /// `list` or `table`.
    pub display_mode: &'static str,
    /// `bottom` or `right`.
    pub placement: &'static str,
    /// Whether it is shown.
    pub show_legend: bool,
}

/// The tooltip of a time series panel.
#[derive(Debug, Serialize)]
pub(super) struct Tooltip {
    /// `single` or `multi` series.
    pub mode: &'static str,
    /// How the series are sorted.
    pub sort: &'static str,
}

/// How a single-value panel reduces a series to one value.
#[derive(Debug, Serialize)]
pub(super) struct ReduceOptions {
    /// The reducer, e.g. `lastNotNull`.
    pub calcs: &'static [&'static str],
    /// Which fields: `""` for numeric ones.
    pub fields: &'static str,
    /// Whether every value is shown rather than one per series.
    pub values: bool,
}

/// The options of a stat panel.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StatOptions {
    /// What the threshold color applies to.
    pub color_mode: &'static str,
    /// Whether a sparkline is drawn.
    pub graph_mode: &'static str,
    /// How values are aligned.
    pub justify_mode: &'static str,
    /// How several values are stacked.
    pub orientation: &'static str,
    /// How a series becomes one value.
    pub reduce_options: ReduceOptions,
    /// What text is shown.
    pub text_mode: &'static str,
}

/// The options of a gauge panel.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GaugeOptions {
    /// How several gauges are stacked.
    pub orientation: &'static str,
    /// How a series becomes one value.
    pub reduce_options: ReduceOptions,
    /// Whether threshold values are written around the gauge.
    pub show_threshold_labels: bool,
    /// Whether thresholds are drawn around the gauge.
    pub show_threshold_markers: bool,
}

/// The options of a bar gauge panel.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BargaugeOptions {
    /// How bars are drawn.
    pub display_mode: &'static str,
    /// Which way bars go.
    pub orientation: &'static str,
    /// How a series becomes one value.
    pub reduce_options: ReduceOptions,
    /// Whether the empty part of a bar is drawn.
    pub show_unfilled: bool,
    /// How the value text is colored.
    pub value_mode: &'static str,
}

/// The options of a table panel.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TableOptions {
    /// The height of a cell.
    pub cell_height: &'static str,
    /// The footer.
    pub footer: Footer,
    /// Whether the column names are shown.
    pub show_header: bool,
}

/// The footer of a table.
#[derive(Debug, Serialize)]
pub(super) struct Footer {
    /// Whether it is shown.
    pub show: bool,
}
