//! Scores a synthetic table against the real one it was learnt from.
//!
//! The report has four parts. [`quality`] reproduces SDMetrics' single-table
//! QualityReport, so that our headline number can be checked against the
//! tool most papers and users quote. [`similarity`] compares each column's
//! profile and checks identifiers (catalogue keys stay valid, subjects do
//! not leak). [`behaviour`] looks at what an e-commerce log is about: how
//! many events each subject makes, how popularity spreads over items, and
//! the mix of behaviour types. `left_out` says which real columns the
//! synthetic table does not hold, and why.
//!
//! Every cell of both tables is read through the real table's schema: the
//! synthetic table has the real column names (possibly fewer columns) and no
//! schema of its own.

mod behaviour;
mod metadata;
mod quality;
mod similarity;

use serde::{Deserialize, Serialize};

use crate::schema::{ColumnSchema, Kind, Schema};
use crate::table::Table;

pub use behaviour::{
    Behaviour, BehaviourMix, EventsPerSubject, EventsSummary, LabelShare, Popularity,
    PopularityCurve, RankShare,
};
pub use metadata::sdv_metadata;
pub use quality::{ColumnShape, PairMetric, PairTrend, Quality, ShapeMetric};
pub use similarity::{ColumnSimilarity, KeyCoverage, Similarity, SubjectLeakage};

/// Why free-text columns are absent from the synthetic table.
const TEXT_REASON: &str = "free text is not learnt";
/// Why a real column the synthetic table lacks is not scored.
const ABSENT_REASON: &str = "absent from the synthetic table";

/// Everything the evaluator says about one synthetic table; written as
/// `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// SDMetrics' quality score, computed the way SDMetrics computes it.
    pub quality: Quality,
    /// Per-column profile similarity and identifier checks.
    pub similarity: Similarity,
    /// Behaviour-log statistics; present when the schema has a subject id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behaviour: Option<Behaviour>,
    /// Real columns that were not scored, each with the reason.
    pub left_out: Vec<LeftOut>,
}

/// A real column the report does not score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeftOut {
    pub column: String,
    pub reason: String,
}

/// One schema column with its real and synthetic cells side by side.
#[derive(Debug, Clone, Copy)]
struct Compared<'a> {
    schema: &'a ColumnSchema,
    real: &'a [Option<String>],
    synthetic: &'a [Option<String>],
}

/// Scores `synthetic` against `real`, reading both through `schema`.
pub fn evaluate(real: &Table, synthetic: &Table, schema: &Schema) -> Report {
    let compared = compared_columns(real, synthetic, schema);
    Report {
        quality: quality::score(&compared),
        similarity: similarity::score(&compared),
        behaviour: behaviour::score(&compared),
        left_out: left_out(real, synthetic, schema),
    }
}

/// The schema's columns present in both tables, text excluded.
fn compared_columns<'a>(
    real: &'a Table,
    synthetic: &'a Table,
    schema: &'a Schema,
) -> Vec<Compared<'a>> {
    schema
        .columns
        .iter()
        .filter(|column| column.kind != Kind::Text)
        .filter_map(|column| {
            let real = real.column(&column.name)?;
            let synthetic = synthetic.column(&column.name)?;
            Some(Compared { schema: column, real: &real.cells, synthetic: &synthetic.cells })
        })
        .collect()
}

/// Text columns, and real columns the synthetic table does not have.
fn left_out(real: &Table, synthetic: &Table, schema: &Schema) -> Vec<LeftOut> {
    real.columns
        .iter()
        .filter_map(|column| {
            let is_text = schema.column(&column.name).is_some_and(|c| c.kind == Kind::Text);
            let reason = if is_text {
                TEXT_REASON
            } else if synthetic.column(&column.name).is_none() {
                ABSENT_REASON
            } else {
                return None;
            };
            Some(LeftOut { column: column.name.clone(), reason: reason.to_string() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{IdRole, infer::infer};
    use crate::table::Column;
    use std::collections::BTreeMap;

    fn column(name: &str, cells: &[&str]) -> Column {
        Column { name: name.into(), cells: cells.iter().map(|c| Some(c.to_string())).collect() }
    }

    fn shop_table(users: &[&str]) -> Table {
        let n = users.len();
        let items: Vec<String> = (0..n).map(|i| format!("item{}", i % 3)).collect();
        let kinds: Vec<&str> = (0..n).map(|i| if i % 4 == 0 { "buy" } else { "pv" }).collect();
        let notes: Vec<String> =
            (0..n).map(|i| format!("a long free text note number {i} about nothing")).collect();
        Table::new(vec![
            column("user_id", users),
            column("item_id", &items.iter().map(String::as_str).collect::<Vec<_>>()),
            column("behavior_type", &kinds),
            column("note", &notes.iter().map(String::as_str).collect::<Vec<_>>()),
        ])
    }

    fn hinted_schema(table: &Table) -> Schema {
        let hint = |role| crate::schema::infer::ColumnHint {
            kind: crate::schema::infer::HintKind::Id,
            format: None,
            role: Some(role),
        };
        let hints = BTreeMap::from([
            ("user_id".to_string(), hint(IdRole::Subject)),
            ("item_id".to_string(), hint(IdRole::Key)),
        ]);
        infer(table, &hints).expect("the test table has a schema")
    }

    #[test]
    fn text_columns_and_missing_columns_are_listed_as_left_out() {
        let users = ["u1", "u2", "u1", "u3", "u2", "u1", "u4", "u4"];
        let real = shop_table(&users);
        let schema = hinted_schema(&real);
        let mut synthetic = real.clone();
        synthetic.columns.retain(|c| c.name != "note" && c.name != "item_id");
        let report = evaluate(&real, &synthetic, &schema);
        let left: Vec<(&str, &str)> =
            report.left_out.iter().map(|l| (l.column.as_str(), l.reason.as_str())).collect();
        assert_eq!(left, [("item_id", ABSENT_REASON), ("note", TEXT_REASON)]);
    }

    #[test]
    fn a_report_round_trips_through_json() {
        let users = ["u1", "u2", "u1", "u3", "u2", "u1", "u4", "u4"];
        let real = shop_table(&users);
        let schema = hinted_schema(&real);
        let report = evaluate(&real, &real, &schema);
        let text = serde_json::to_string(&report).expect("reports serialise");
        let back: Report = serde_json::from_str(&text).expect("reports deserialise");
        assert_eq!(back.left_out, report.left_out);
        assert_eq!(back.quality.columns.len(), report.quality.columns.len());
        assert!(back.behaviour.is_some());
    }
}
