//! Column Shapes: how closely each synthetic column's distribution follows
//! the real one, one score per column.

use serde::{Deserialize, Serialize};

use super::{Prepared, Scored, stats};

/// The SDMetrics metric that scored a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShapeMetric {
    /// 1 minus the Kolmogorov-Smirnov statistic (numbers and datetimes).
    KSComplement,
    /// 1 minus the total variation distance (labels).
    TVComplement,
}

/// One column's shape score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnShape {
    pub column: String,
    pub metric: ShapeMetric,
    /// `None` when SDMetrics cannot compute it (no values on a side, or
    /// values pandas would not read as numbers); left out of the average.
    pub score: Option<f64>,
}

/// The shape score of a scored column; `None` for skipped columns.
pub(super) fn column_shape(column: &Scored) -> Option<ColumnShape> {
    let (metric, score) = match &column.prepared {
        Prepared::Continuous(values) => {
            let score = values.as_ref().and_then(|v| stats::ks_complement(&v.real, &v.synthetic));
            (ShapeMetric::KSComplement, score)
        }
        Prepared::Discrete(labels) => {
            (ShapeMetric::TVComplement, stats::tv_complement(&labels.real, &labels.synthetic))
        }
        Prepared::Skipped => return None,
    };
    Some(ColumnShape { column: column.name.to_string(), metric, score })
}
