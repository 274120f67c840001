//! SDMetrics' single-table QualityReport (sdmetrics 0.32), reproduced.
//!
//! The score has two properties, averaged with equal weight. Column Shapes
//! compares each column's distribution (KSComplement for numbers and
//! datetimes, TVComplement for labels). Column Pair Trends compares each
//! pair of columns: Pearson correlations for two continuous columns, joint
//! label frequencies for the rest, a continuous column binned first.
//!
//! SDMetrics' quirks are kept on purpose, since the point is that our score
//! matches the one users get from SDMetrics: values are what pandas reads
//! (see [`frame`]), identifiers and text are skipped, a metric that cannot
//! be computed is left out of its average rather than counted as zero, each
//! side of a mixed pair is binned over its own range, and a pair counts only
//! when the real data shows a relationship (|r| > 0.5, Cramér's V > 0.3).

mod frame;
mod pairs;
mod shapes;
mod stats;

use serde::{Deserialize, Serialize};

use super::Compared;
use crate::schema::Kind;

pub use pairs::{PairMetric, PairTrend};
pub use shapes::{ColumnShape, ShapeMetric};

/// The quality score and the per-column and per-pair scores behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quality {
    /// Mean of the property scores that could be computed; SDMetrics'
    /// overall score.
    pub overall: Option<f64>,
    /// Mean of the computable column scores.
    pub column_shapes: Option<f64>,
    /// Mean of the computable scores of the pairs that count.
    pub column_pair_trends: Option<f64>,
    pub columns: Vec<ColumnShape>,
    pub pairs: Vec<PairTrend>,
}

/// A column as the quality metrics read it on both sides.
enum Prepared {
    /// Numbers (NaN where missing) and their pair bins; `None` when pandas
    /// would not read the column as numbers on both sides.
    Continuous(Option<Continuous>),
    Discrete(frame::Labels),
    /// Identifiers: SDMetrics skips them.
    Skipped,
}

/// Both sides of a readable continuous column.
struct Continuous {
    real: Vec<f64>,
    synthetic: Vec<f64>,
    real_bins: Vec<u32>,
    synthetic_bins: Vec<u32>,
}

/// A scored column: its name and how it was read.
struct Scored<'a> {
    name: &'a str,
    prepared: Prepared,
}

/// Computes the quality score of the compared columns.
pub(super) fn score(compared: &[Compared]) -> Quality {
    let scored: Vec<Scored> = compared.iter().map(prepare).collect();
    let columns: Vec<ColumnShape> = scored.iter().filter_map(shapes::column_shape).collect();
    let pairs = pairs::pair_trends(&scored);
    let column_shapes = mean(columns.iter().filter_map(|c| c.score));
    let column_pair_trends = mean(pairs.iter().filter(|p| p.counted).filter_map(|p| p.score));
    Quality {
        overall: mean([column_shapes, column_pair_trends].into_iter().flatten()),
        column_shapes,
        column_pair_trends,
        columns,
        pairs,
    }
}

fn prepare<'a>(column: &Compared<'a>) -> Scored<'a> {
    let name = column.schema.name.as_str();
    let prepared = match &column.schema.kind {
        Kind::Numeric { .. } | Kind::Datetime { .. } => Prepared::Continuous(continuous(column)),
        Kind::Categorical | Kind::Boolean => {
            Prepared::Discrete(frame::labels(column.real, column.synthetic))
        }
        Kind::Id { .. } | Kind::Text => Prepared::Skipped,
    };
    Scored { name, prepared }
}

fn continuous(column: &Compared) -> Option<Continuous> {
    let real = frame::numbers(column.schema, column.real)?;
    let synthetic = frame::numbers(column.schema, column.synthetic)?;
    Some(Continuous {
        real_bins: stats::pair_bins(&real),
        synthetic_bins: stats::pair_bins(&synthetic),
        real,
        synthetic,
    })
}

/// The mean of the values, `None` when there are none (pandas' NaN).
fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, count) = values.fold((0.0, 0usize), |(sum, count), v| (sum + v, count + 1));
    (count > 0).then(|| sum / count as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ColumnSchema, IdRole};

    fn schema(name: &str, kind: Kind) -> ColumnSchema {
        ColumnSchema { name: name.into(), kind, null_marker: None, missing_rate: 0.0, distinct: 0 }
    }

    fn cells(texts: &[&str]) -> Vec<Option<String>> {
        texts.iter().map(|t| Some(t.to_string())).collect()
    }

    fn numeric() -> Kind {
        Kind::Numeric { integer: true, decimals: 0, min: 0.0, max: 0.0 }
    }

    #[test]
    fn overall_is_the_mean_of_the_two_properties() {
        let (x, y, id) = (schema("x", numeric()), schema("y", numeric()), schema("id", numeric()));
        let id = ColumnSchema { kind: Kind::Id { role: IdRole::Row }, ..id };
        let x_real = cells(&["1", "2", "3", "4"]);
        let y_real = cells(&["1", "2", "3", "4"]);
        let x_synthetic = cells(&["1", "2", "3", "5"]);
        let y_synthetic = cells(&["4", "3", "2", "1"]);
        let ids = cells(&["a", "b", "c", "d"]);
        let compared = [
            Compared { schema: &x, real: &x_real, synthetic: &x_synthetic },
            Compared { schema: &y, real: &y_real, synthetic: &y_synthetic },
            Compared { schema: &id, real: &ids, synthetic: &ids },
        ];
        let quality = score(&compared);
        assert_eq!(quality.columns.len(), 2, "ids are skipped");
        assert_eq!(quality.column_shapes, Some((0.75 + 1.0) / 2.0));
        let pair = &quality.pairs[0];
        assert_eq!(pair.real_correlation, Some(1.0));
        let r = pair.synthetic_correlation.expect("defined");
        assert!((pair.score.expect("defined") - (1.0 - (1.0 - r).abs() / 2.0)).abs() < 1e-12);
        let expected = (0.875 + pair.score.expect("defined")) / 2.0;
        assert!((quality.overall.expect("defined") - expected).abs() < 1e-12);
    }

    #[test]
    fn an_unreadable_column_is_left_out_of_every_average() {
        let x = schema("x", numeric());
        let real = cells(&["1", "2"]);
        let synthetic = cells(&["1", " ?"]);
        let quality = score(&[Compared { schema: &x, real: &real, synthetic: &synthetic }]);
        assert_eq!(quality.columns[0].score, None);
        assert_eq!(quality.overall, None);
    }
}
