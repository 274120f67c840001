//! Does the synthetic table leak the rows or people it was learnt from?
//!
//! Distance to closest record (DCR): for each synthetic row, and for each
//! real holdout row as the reference, the distance to the nearest training
//! row. Numbers and datetimes count `|a - b| / range` (range of the training
//! column), labels and catalogue keys count 0 or 1; the distance is the mean
//! over the columns read, so it lies in [0, 1]. Exact copies are counted
//! over the same columns. For behaviour logs, real subject ids must not
//! appear and no real subject's event sequence may be reproduced.

use serde::{Deserialize, Serialize};

use crate::schema::Schema;
use crate::table::Table;

/// Everything the report says about privacy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Privacy {
    /// How nearest rows were found, in words (index or sample, and sizes).
    pub method: String,
    /// The columns the distance and the exact-copy check read.
    pub columns: Vec<String>,
    /// DCR of (a sample of) the synthetic rows.
    pub synthetic: DistanceSummary,
    /// DCR of (a sample of) the real holdout rows: the reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holdout: Option<DistanceSummary>,
    /// Share of synthetic rows closer to training than the holdout's median
    /// DCR; rows as new as the holdout's score 0.5, copies push it to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closer_than_holdout_median: Option<f64>,
    pub exact_copies: ExactCopies,
    /// Present when the schema has a subject id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subjects: Option<SubjectPrivacy>,
}

/// Distances to the closest training row, summarised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistanceSummary {
    /// Rows whose distance was measured.
    pub rows: usize,
    pub median: f64,
    pub p05: f64,
    pub mean: f64,
    /// Share of measured rows at distance 0.
    pub zero_share: f64,
}

/// Rows equal to a training row on every column read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExactCopies {
    pub synthetic: usize,
    pub synthetic_rows: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holdout: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holdout_rows: Option<usize>,
}

/// Whether real people can be found in a synthetic behaviour log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubjectPrivacy {
    pub column: String,
    /// Distinct synthetic subject ids that are real ids (training or
    /// holdout); should be 0.
    pub real_ids: usize,
    /// The columns whose values, in time order, make a subject's sequence.
    pub sequence_columns: Vec<String>,
    /// Sequences shorter than this are too common to identify anyone and
    /// are not checked.
    pub min_length: usize,
    /// Synthetic subjects with a sequence at least `min_length` long.
    pub checked: usize,
    /// Of those, how many repeat a real subject's whole sequence.
    pub copied: usize,
}

/// Scores privacy of `synthetic` against `training`, with `holdout` rows as
/// the real reference.
pub fn score(
    training: &Table,
    synthetic: &Table,
    holdout: Option<&Table>,
    schema: &Schema,
    seed: u64,
) -> Privacy {
    unimplemented!("privacy::score for {training:?} {synthetic:?} {holdout:?} {schema:?} {seed}")
}
