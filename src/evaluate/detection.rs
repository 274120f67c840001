//! Can a classifier tell synthetic rows from real ones?
//!
//! A logistic regression (linfa-logistic) is trained to separate an equal
//! number of training and synthetic rows, and its ROC AUC is measured with
//! stratified k-fold cross-validation: 0.5 means indistinguishable, 1.0
//! means every row gives itself away. The same is done for real holdout
//! rows against training rows, the reference a real sample scores.

use serde::{Deserialize, Serialize};

use crate::schema::Schema;
use crate::table::Table;

/// Real-versus-synthetic detection, with the holdout reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// The classifier and protocol, in words.
    pub classifier: String,
    pub folds: usize,
    /// The features the classifier reads, after encoding.
    pub features: Vec<String>,
    pub synthetic: DetectionScore,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holdout: Option<DetectionScore>,
}

/// Cross-validated ROC AUC of one real-versus-other separation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectionScore {
    /// Rows drawn from each side.
    pub rows_per_side: usize,
    /// Mean AUC over the folds.
    pub auc: f64,
    pub fold_aucs: Vec<f64>,
}

/// Measures how detectable `synthetic` (and `holdout`) rows are against
/// `training`; `Err` says why it could not be measured.
pub fn score(
    training: &Table,
    synthetic: &Table,
    holdout: Option<&Table>,
    schema: &Schema,
    seed: u64,
) -> Result<Detection, String> {
    unimplemented!("detection::score for {training:?} {synthetic:?} {holdout:?} {schema:?} {seed}")
}
