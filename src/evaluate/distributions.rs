//! What each column looks like, real beside synthetic, for the page's plots.
//!
//! Every real column gets one distribution, including those the synthetic
//! table lacks (drawn real-only, with the reason): numbers and datetimes as
//! histograms over the real range, labels as bars of the most frequent real
//! labels, catalogue keys as popularity by rank, subject ids as events per
//! subject, free text as text length.

use serde::{Deserialize, Serialize};

use crate::schema::Schema;
use crate::table::Table;

/// One column's plot data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnDistribution {
    pub column: String,
    /// The schema kind (`numeric`, `categorical`, ...).
    pub kind: String,
    /// What the plot shows, in words, for its caption.
    pub caption: String,
    pub plot: Plot,
}

/// Plot data: shares of rows (or events) per bin, label or rank; the
/// synthetic side is absent for columns the synthetic table lacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "plot", rename_all = "snake_case")]
pub enum Plot {
    Histogram { edges: Vec<f64>, real: Vec<f64>, synthetic: Option<Vec<f64>> },
    Bars { labels: Vec<String>, real: Vec<f64>, synthetic: Option<Vec<f64>> },
    Ranks { ranks: Vec<usize>, real: Vec<f64>, synthetic: Option<Vec<f64>> },
}

/// One distribution per real column, in the real table's column order.
pub fn distributions(real: &Table, synthetic: &Table, schema: &Schema) -> Vec<ColumnDistribution> {
    unimplemented!("distributions {real:?} {synthetic:?} {schema:?}")
}
