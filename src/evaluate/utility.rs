//! Would a recommender trained on the synthetic log work on real users?
//!
//! The real log is split by time (the holdout is its later part). Three
//! recommenders are trained on the real training part, on the synthetic
//! log, and on both together, then asked for each real holdout user's top
//! 20 items given that user's real training history; Recall@20 and NDCG@20
//! are measured against the items the user really touched later.

use serde::{Deserialize, Serialize};

use crate::schema::Schema;
use crate::table::Table;

/// How many items each recommender returns per user.
pub const TOP_K: usize = 20;

/// Recommender utility of the synthetic log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Utility {
    /// The evaluation protocol, in words.
    pub protocol: String,
    pub k: usize,
    /// Real holdout users with a training history that were scored.
    pub test_users: usize,
    pub models: Vec<ModelUtility>,
}

/// One recommender trained three ways and scored on the same real users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelUtility {
    /// `popularity`, `item_cooccurrence` or `bpr`.
    pub model: String,
    /// Trained on the real training part: the reference.
    pub real: Ranking,
    pub synthetic: Ranking,
    /// Trained on real training rows plus synthetic rows.
    pub combined: Ranking,
    /// Synthetic over real; `None` when real scores 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<Ranking>,
    /// (combined - real) / real; `None` when real scores 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gain: Option<Ranking>,
}

/// Mean Recall@k and NDCG@k over the test users (or ratios of them).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    pub recall: f64,
    pub ndcg: f64,
}

/// Trains and scores the recommenders; `Err` says why the log does not
/// allow it (no subject, item or time column, no users in both parts).
pub fn score(
    training: &Table,
    synthetic: &Table,
    holdout: &Table,
    schema: &Schema,
    seed: u64,
) -> Result<Utility, String> {
    unimplemented!("utility::score {training:?} {synthetic:?} {holdout:?} {schema:?} {seed}")
}
