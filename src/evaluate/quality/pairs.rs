//! Column Pair Trends: how well each pair of columns keeps its real
//! relationship, one score per pair.
//!
//! Two continuous columns compare Pearson correlations; any other pair
//! compares joint label frequencies, a continuous column replaced by its
//! bin numbers. As in SDMetrics' QualityReport, a pair counts towards the
//! property only when the real data shows a relationship worth keeping.

use serde::{Deserialize, Serialize};

use super::stats::{self, Contingency};
use super::{Continuous, Prepared, Scored};

/// A continuous pair counts when the real |r| exceeds this.
const REAL_CORRELATION_THRESHOLD: f64 = 0.5;
/// Any other pair counts when the real Cramér's V exceeds this.
const REAL_ASSOCIATION_THRESHOLD: f64 = 0.3;

/// The SDMetrics metric that scored a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PairMetric {
    /// 1 - |r_real - r_synthetic| / 2 with Pearson's r.
    CorrelationSimilarity,
    /// 1 minus the total variation distance of the joint frequencies.
    ContingencySimilarity,
}

/// One pair's trend score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairTrend {
    pub column_1: String,
    pub column_2: String,
    pub metric: PairMetric,
    /// The similarity, whether or not it counts; `None` when it cannot be
    /// computed (a constant or unreadable column, too few values).
    pub score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real_correlation: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synthetic_correlation: Option<f64>,
    /// Cramér's V of the real joint frequencies (contingency pairs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub real_association: Option<f64>,
    /// Whether the score enters the Column Pair Trends average: it could be
    /// computed and the real relationship passes SDMetrics' threshold.
    pub counted: bool,
}

/// What a pair's metric found, before naming the columns.
struct Found {
    metric: PairMetric,
    score: Option<f64>,
    real_correlation: Option<f64>,
    synthetic_correlation: Option<f64>,
    real_association: Option<f64>,
    counted: bool,
}

/// Scores every pair of scored columns, in column order.
pub(super) fn pair_trends(columns: &[Scored]) -> Vec<PairTrend> {
    let mut trends = Vec::new();
    for (i, first) in columns.iter().enumerate() {
        for second in &columns[i + 1..] {
            if let Some(found) = pair(&first.prepared, &second.prepared) {
                trends.push(named(found, first.name, second.name));
            }
        }
    }
    trends
}

fn named(found: Found, column_1: &str, column_2: &str) -> PairTrend {
    PairTrend {
        column_1: column_1.to_string(),
        column_2: column_2.to_string(),
        metric: found.metric,
        score: found.score,
        real_correlation: found.real_correlation,
        synthetic_correlation: found.synthetic_correlation,
        real_association: found.real_association,
        counted: found.counted,
    }
}

/// The metric result for one pair; `None` when SDMetrics skips the pair.
fn pair(first: &Prepared, second: &Prepared) -> Option<Found> {
    Some(match (first, second) {
        (Prepared::Skipped, _) | (_, Prepared::Skipped) => return None,
        (Prepared::Continuous(x), Prepared::Continuous(y)) => match (x, y) {
            (Some(x), Some(y)) => correlation(x, y),
            _ => incomputable(PairMetric::CorrelationSimilarity),
        },
        (Prepared::Discrete(x), Prepared::Discrete(y)) => {
            contingency((&x.real, &y.real), (&x.synthetic, &y.synthetic))
        }
        (Prepared::Continuous(binned), Prepared::Discrete(labels))
        | (Prepared::Discrete(labels), Prepared::Continuous(binned)) => match binned {
            Some(b) => {
                contingency((&b.real_bins, &labels.real), (&b.synthetic_bins, &labels.synthetic))
            }
            None => incomputable(PairMetric::ContingencySimilarity),
        },
    })
}

fn incomputable(metric: PairMetric) -> Found {
    Found {
        metric,
        score: None,
        real_correlation: None,
        synthetic_correlation: None,
        real_association: None,
        counted: false,
    }
}

/// `CorrelationSimilarity`; SDMetrics refuses a column that is constant on
/// either side before looking at the rows both columns fill.
fn correlation(x: &Continuous, y: &Continuous) -> Found {
    let constant = [&x.real, &y.real, &x.synthetic, &y.synthetic]
        .iter()
        .any(|values| stats::distinct_present(values) == 1);
    if constant {
        return incomputable(PairMetric::CorrelationSimilarity);
    }
    let real = stats::pearson(&x.real, &y.real);
    let synthetic = stats::pearson(&x.synthetic, &y.synthetic);
    let score = real.zip(synthetic).map(|(r, s)| 1.0 - (r - s).abs() / 2.0);
    Found {
        metric: PairMetric::CorrelationSimilarity,
        score,
        real_correlation: real,
        synthetic_correlation: synthetic,
        real_association: None,
        counted: score.is_some() && real.is_some_and(|r| r.abs() > REAL_CORRELATION_THRESHOLD),
    }
}

/// `ContingencySimilarity` on two code columns per side.
fn contingency(real: (&[u32], &[u32]), synthetic: (&[u32], &[u32])) -> Found {
    let real = Contingency::new(real.0, real.1);
    let synthetic = Contingency::new(synthetic.0, synthetic.1);
    let association = stats::cramers_v(&real);
    let score = stats::contingency_similarity(&real, &synthetic);
    Found {
        metric: PairMetric::ContingencySimilarity,
        score,
        real_correlation: None,
        synthetic_correlation: None,
        real_association: association,
        counted: score.is_some() && association.is_some_and(|v| v > REAL_ASSOCIATION_THRESHOLD),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::quality::frame::Labels;

    fn continuous(real: &[f64], synthetic: &[f64]) -> Prepared {
        Prepared::Continuous(Some(Continuous {
            real: real.to_vec(),
            synthetic: synthetic.to_vec(),
            real_bins: stats::pair_bins(real),
            synthetic_bins: stats::pair_bins(synthetic),
        }))
    }

    #[test]
    fn correlation_similarity_is_one_minus_half_the_gap_between_correlations() {
        let x = continuous(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]);
        let y = continuous(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]);
        let found = pair(&x, &y).expect("continuous pairs are scored");
        let near =
            |value: Option<f64>, expected: f64| value.is_some_and(|v| (v - expected).abs() < 1e-12);
        assert!(near(found.real_correlation, 1.0));
        assert!(near(found.synthetic_correlation, -1.0));
        assert!(near(found.score, 0.0));
        assert!(found.counted);
    }

    #[test]
    fn a_constant_column_makes_the_correlation_incomputable() {
        let x = continuous(&[1.0, 2.0, 3.0], &[1.0, 1.0, f64::NAN]);
        let y = continuous(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]);
        let found = pair(&x, &y).expect("continuous pairs are scored");
        assert_eq!(found.score, None);
        assert!(!found.counted);
    }

    #[test]
    fn a_weak_real_association_does_not_count() {
        let labels = |real: &[u32]| {
            Prepared::Discrete(Labels { real: real.to_vec(), synthetic: real.to_vec() })
        };
        let found = pair(&labels(&[1, 1, 2, 2]), &labels(&[1, 2, 1, 2])).expect("scored");
        assert_eq!(found.score, Some(1.0));
        assert_eq!(found.real_association, Some(0.0));
        assert!(!found.counted);
    }

    #[test]
    fn a_mixed_pair_bins_the_continuous_column() {
        let x = continuous(&[0.0, 10.0, 0.0, 10.0], &[0.0, 10.0, 10.0, 0.0]);
        let labels =
            Prepared::Discrete(Labels { real: vec![1, 2, 1, 2], synthetic: vec![1, 2, 1, 2] });
        let found = pair(&labels, &x).expect("scored");
        assert_eq!(found.metric, PairMetric::ContingencySimilarity);
        assert_eq!(found.real_association, Some(1.0));
        assert_eq!(found.score, Some(0.5));
    }
}
