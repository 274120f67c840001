//! Would a recommender trained on the synthetic log work on real users?
//!
//! The real log is split by time (the holdout is its later part). Three
//! recommenders are trained on the real training part, on the synthetic
//! log, and on both together, then asked for each real holdout user's top
//! 20 items given that user's real training history; Recall@20 and NDCG@20
//! are measured against the items the user really touched later.
//!
//! Synthetic subjects are fresh pseudonyms, so no model may keep a
//! parameter per user: each one scores a user from their item history
//! alone, which is what lets a model learnt from synthetic people serve
//! real ones.

mod adam;
mod bpr;
mod catalogue;
mod cooccurrence;
mod log;
mod metrics;
#[cfg(test)]
mod planted;
mod popularity;

use serde::{Deserialize, Serialize};

use crate::schema::Schema;
use crate::table::Table;

use bpr::Bpr;
use catalogue::Catalogue;
use cooccurrence::Cooccurrence;
use log::{Columns, Items, Log, TestUser};

/// How many items each recommender returns per user.
pub const TOP_K: usize = 20;

/// The evaluation protocol, as the report states it.
const PROTOCOL: &str = "Test users are the real holdout subjects who also have training events \
and touched at least one item in the holdout that they had not touched in training. A user's \
history is their distinct training items in time order; models read the most recent 50 of them. \
The targets are the user's distinct holdout items outside the history, and no history item is \
ever recommended. Every model is trained three ways: on the real training log, on the synthetic \
log, and on both together (synthetic subjects kept apart from real ones). It then ranks the \
items of its own training data for each real test user from that user's real history, so an \
item a log never shows cannot be recommended from it. Every behaviour type counts as an \
interaction. popularity ranks items by event count; item_cooccurrence ranks by summed cosine \
similarity (over users' 50 most recent distinct items) to the user's recent items, filled up \
by popularity; bpr learns item embeddings with the BPR pairwise loss and represents a user by \
the mean embedding of their recent items, so it needs no parameter per user. Recall@20 is the \
share of targets in the top 20; NDCG@20 uses binary relevance and the ideal ranking of \
min(targets, 20) hits; both are means over test users. ratio is synthetic over real; gain is \
(combined - real) / real.";

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

impl Ranking {
    /// `self` over `real` after `shift` is taken from both numerators;
    /// `None` when `real` scores 0 on either metric.
    fn relative(self, real: Ranking, shift: Ranking) -> Option<Ranking> {
        (real.recall > 0.0 && real.ndcg > 0.0).then(|| Ranking {
            recall: (self.recall - shift.recall) / real.recall,
            ndcg: (self.ndcg - shift.ndcg) / real.ndcg,
        })
    }
}

/// The recommenders compared, in report order.
#[derive(Debug, Clone, Copy)]
enum Model {
    Popularity,
    ItemCooccurrence,
    Bpr,
}

impl Model {
    const ALL: [Model; 3] = [Model::Popularity, Model::ItemCooccurrence, Model::Bpr];

    fn name(self) -> &'static str {
        match self {
            Model::Popularity => "popularity",
            Model::ItemCooccurrence => "item_cooccurrence",
            Model::Bpr => "bpr",
        }
    }

    /// Trains on `log` and lists each user's top [`TOP_K`] shared item ids.
    fn recommend(
        self,
        log: &Log,
        catalogue: &Catalogue,
        users: &[TestUser],
        seed: u64,
    ) -> Result<Vec<Vec<u32>>, String> {
        match self {
            Model::Popularity => Ok(popularity::recommend(catalogue, users)),
            Model::ItemCooccurrence => Ok(Cooccurrence::train(log, catalogue).recommend(users)),
            Model::Bpr => Bpr::train(log, catalogue, seed)?.recommend(users),
        }
    }
}

/// Trains and scores the recommenders; `Err` says why the log does not
/// allow it (no subject, item or time column, no users in both parts).
#[tracing::instrument(
    skip_all,
    fields(
        training = training.rows(),
        synthetic = synthetic.rows(),
        holdout = holdout.rows(),
        test_users = tracing::field::Empty,
    )
)]
pub fn score(
    training: &Table,
    synthetic: &Table,
    holdout: &Table,
    schema: &Schema,
    seed: u64,
) -> Result<Utility, String> {
    let columns = Columns::of(schema)?;
    let mut items = Items::default();
    let real = log::read(training, &columns, &mut items, "training")?;
    let synthetic = log::read(synthetic, &columns, &mut items, "synthetic")?.log;
    let later = log::read(holdout, &columns, &mut items, "holdout")?;

    let users = log::test_users(&real, &later);
    if users.is_empty() {
        return Err("no holdout subject has training events and a holdout item new to them, \
                    so there is no real user to recommend to"
            .to_string());
    }
    tracing::Span::current().record("test_users", users.len());

    let combined = real.log.join(&synthetic);
    let logs = [&real.log, &synthetic, &combined];
    let mut rankings = [[None; 3]; 3];
    for (at, log) in logs.into_iter().enumerate() {
        let catalogue = Catalogue::new(log, items.len());
        for model in Model::ALL {
            let lists = model.recommend(log, &catalogue, &users, seed)?;
            rankings[model as usize][at] = Some(metrics::mean(&users, &lists));
        }
    }

    let models = Model::ALL
        .into_iter()
        .map(|model| {
            let [real, synthetic, combined] =
                rankings[model as usize].map(|r| r.expect("every model was scored on every log"));
            ModelUtility {
                model: model.name().to_string(),
                real,
                synthetic,
                combined,
                ratio: synthetic.relative(real, Ranking { recall: 0.0, ndcg: 0.0 }),
                gain: combined.relative(real, real),
            }
        })
        .collect();
    Ok(Utility { protocol: PROTOCOL.to_string(), k: TOP_K, test_users: users.len(), models })
}

#[cfg(test)]
mod tests {
    use super::*;
    use planted::{clustered, log_schema, log_table, scattered};

    /// Scores the planted real log against `synthetic`.
    fn planted_utility(synthetic: &[planted::Event]) -> Utility {
        let (training, holdout) = clustered(200, "u", 1);
        let training = log_table(&training);
        let schema = log_schema(&training);
        score(&training, &log_table(synthetic), &log_table(&holdout), &schema, 7)
            .expect("the planted log has test users")
    }

    fn model<'u>(utility: &'u Utility, name: &str) -> &'u ModelUtility {
        utility.models.iter().find(|m| m.model == name).expect("every model is reported")
    }

    #[test]
    fn cooccurrence_finds_the_clusters_popularity_cannot() {
        let utility = planted_utility(&clustered(200, "s", 2).0);
        assert_eq!(utility.test_users, 200);
        let popularity = model(&utility, "popularity").real;
        let cooccurrence = model(&utility, "item_cooccurrence").real;
        assert!(
            cooccurrence.recall > popularity.recall + 0.2,
            "{cooccurrence:?} vs {popularity:?}"
        );
        assert!(cooccurrence.ndcg > popularity.ndcg, "{cooccurrence:?} vs {popularity:?}");
    }

    #[test]
    fn a_synthetic_log_without_the_structure_scores_a_lower_ratio() {
        let copied = planted_utility(&clustered(200, "s", 2).0);
        let scattered = planted_utility(&scattered(200, "s", 2));
        for name in ["item_cooccurrence", "bpr"] {
            let copied = model(&copied, name).ratio.expect("real scores above 0");
            let scattered = model(&scattered, name).ratio.expect("real scores above 0");
            assert!(copied.recall > 0.8, "{name}: {copied:?}");
            assert!(scattered.recall < copied.recall - 0.2, "{name}: {scattered:?}");
            assert!(scattered.ndcg < copied.ndcg, "{name}: {scattered:?} vs {copied:?}");
        }
    }

    #[test]
    fn ratio_and_gain_are_relative_to_real() {
        let utility = planted_utility(&clustered(200, "s", 2).0);
        for model in &utility.models {
            let ratio = model.ratio.expect("real scores above 0");
            let gain = model.gain.expect("real scores above 0");
            assert!((ratio.recall - model.synthetic.recall / model.real.recall).abs() < 1e-12);
            let expected = (model.combined.ndcg - model.real.ndcg) / model.real.ndcg;
            assert!((gain.ndcg - expected).abs() < 1e-12);
        }
        let zero = Ranking { recall: 0.0, ndcg: 0.0 };
        let real = Ranking { recall: 0.5, ndcg: 0.0 };
        assert_eq!(Ranking { recall: 0.2, ndcg: 0.1 }.relative(real, zero), None);
    }

    #[test]
    fn the_same_seed_gives_the_same_utility() {
        let synthetic = scattered(100, "s", 4);
        assert_eq!(planted_utility(&synthetic), planted_utility(&synthetic));
    }

    #[test]
    fn a_missing_column_is_named() {
        let (training, holdout) = clustered(10, "u", 1);
        let (training, holdout) = (log_table(&training), log_table(&holdout));
        let schema = log_schema(&training);
        let mut synthetic = training.clone();
        synthetic.columns.retain(|c| c.name != "item_id");
        let error = score(&training, &synthetic, &holdout, &schema, 7).unwrap_err();
        assert!(error.contains("synthetic") && error.contains("`item_id`"), "{error}");

        let mut timeless = schema.clone();
        timeless.columns.retain(|c| c.name != "timestamp");
        let error = score(&training, &training, &holdout, &timeless, 7).unwrap_err();
        assert!(error.contains("time"), "{error}");
    }

    #[test]
    fn a_holdout_of_strangers_has_no_test_users() {
        let (training, _) = clustered(10, "u", 1);
        let (_, strangers) = clustered(10, "v", 1);
        let training = log_table(&training);
        let schema = log_schema(&training);
        let error = score(&training, &training, &log_table(&strangers), &schema, 7).unwrap_err();
        assert!(error.contains("no holdout subject"), "{error}");
    }
}
