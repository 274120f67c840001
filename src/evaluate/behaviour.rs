//! What a behaviour log is about, real beside synthetic.
//!
//! A log with a subject id (user, session) is judged on more than its
//! columns: how many events each subject makes, how concentrated item
//! popularity is (a few items take most events in real shops), and the mix
//! of behaviour types (many views, few purchases). These shapes decide
//! whether a recommender or funnel analysis trained on the synthetic log
//! would learn what it would learn from the real one.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::similarity::counts;
use super::{Compared, roles};
use crate::schema::{IdRole, Kind};

/// Quantiles of events per subject that the summary reports.
const QUANTILES: [f64; 6] = [0.10, 0.25, 0.50, 0.75, 0.90, 0.99];
/// Shares of the catalogue whose event share the popularity curve reports.
const TOP_SHARES: [f64; 3] = [0.01, 0.10, 0.50];
/// Popularity ranks whose event share the curve reports.
const RANKS: [usize; 4] = [1, 10, 100, 1000];

/// Behaviour-log statistics, real beside synthetic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Behaviour {
    pub events_per_subject: EventsPerSubject,
    /// Present when the schema also has a catalogue key column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub popularity: Option<Popularity>,
    /// Present when a categorical column names the behaviour type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behaviour_mix: Option<BehaviourMix>,
}

/// Rows per subject id, summarised on each side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventsPerSubject {
    pub subject: String,
    pub real: EventsSummary,
    pub synthetic: EventsSummary,
}

/// Mean, quantiles (linear interpolation) and maximum of a count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventsSummary {
    pub subjects: usize,
    pub mean: f64,
    pub p10: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// How events spread over catalogue keys, real beside synthetic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Popularity {
    pub key: String,
    /// Real rows the real curve reads: a random sample as large as the
    /// synthetic table when the real table is larger.
    #[serde(default)]
    pub real_rows: usize,
    pub real: PopularityCurve,
    pub synthetic: PopularityCurve,
}

/// Points of one side's popularity curve, as shares of all keyed events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PopularityCurve {
    pub top_1_percent: f64,
    pub top_10_percent: f64,
    pub top_50_percent: f64,
    /// Event share of the key at each rank; `None` past the last key.
    pub ranks: Vec<RankShare>,
}

/// The event share of the key at one popularity rank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankShare {
    pub rank: usize,
    pub share: Option<f64>,
}

/// The share of each behaviour type, real beside synthetic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BehaviourMix {
    pub column: String,
    /// Labels by falling real share.
    pub shares: Vec<LabelShare>,
}

/// One behaviour type's share of events on each side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelShare {
    pub label: String,
    pub real: f64,
    pub synthetic: f64,
}

/// The behaviour statistics; `None` without a subject id column. `sized`
/// pairs the synthetic columns with a real sample of the same size, which
/// popularity reads: its shares depend on how many rows there are.
pub(super) fn score(compared: &[Compared], sized: &[Compared]) -> Option<Behaviour> {
    let subject = compared.iter().find(|c| has_role(c, IdRole::Subject))?;
    Some(Behaviour {
        events_per_subject: events_per_subject(subject),
        popularity: item_key(sized).map(popularity),
        behaviour_mix: compared
            .iter()
            .find(|c| roles::names_behaviour(c.schema))
            .map(behaviour_mix),
    })
}

fn has_role(column: &Compared, role: IdRole) -> bool {
    column.schema.kind == Kind::Id { role }
}

/// The key column most likely to name catalogue items.
fn item_key<'c, 'a>(compared: &'c [Compared<'a>]) -> Option<&'c Compared<'a>> {
    let item = roles::item_among(compared.iter().map(|c| c.schema))?;
    compared.iter().find(|c| c.schema.name == item.name)
}

fn events_per_subject(subject: &Compared) -> EventsPerSubject {
    let summary = |cells| summarise(counts(subject.schema, cells).into_values().collect());
    EventsPerSubject {
        subject: subject.schema.name.clone(),
        real: summary(subject.real),
        synthetic: summary(subject.synthetic),
    }
}

fn summarise(mut events: Vec<usize>) -> EventsSummary {
    events.sort_unstable();
    let values: Vec<f64> = events.iter().map(|&n| n as f64).collect();
    let [p10, p25, p50, p75, p90, p99] = QUANTILES.map(|q| quantile(&values, q));
    let mean =
        if values.is_empty() { 0.0 } else { values.iter().sum::<f64>() / values.len() as f64 };
    EventsSummary {
        subjects: values.len(),
        mean,
        p10,
        p25,
        p50,
        p75,
        p90,
        p99,
        max: values.last().copied().unwrap_or(0.0),
    }
}

/// The `q` quantile of sorted values by linear interpolation (NumPy's
/// default); 0 for no values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return 0.0;
    };
    let position = q * last as f64;
    let below = position.floor() as usize;
    let above = (below + 1).min(last);
    let fraction = position - below as f64;
    sorted[below] + fraction * (sorted[above] - sorted[below])
}

fn popularity(key: &Compared) -> Popularity {
    let curve = |cells| popularity_curve(counts(key.schema, cells).into_values().collect());
    Popularity {
        key: key.schema.name.clone(),
        real_rows: key.real.len(),
        real: curve(key.real),
        synthetic: curve(key.synthetic),
    }
}

fn popularity_curve(mut events: Vec<usize>) -> PopularityCurve {
    events.sort_unstable_by(|a, b| b.cmp(a));
    let total = events.iter().sum::<usize>().max(1) as f64;
    let top = |fraction: f64| {
        let keys = ((events.len() as f64 * fraction).ceil() as usize).clamp(1, events.len().max(1));
        events.iter().take(keys).sum::<usize>() as f64 / total
    };
    let [top_1_percent, top_10_percent, top_50_percent] = TOP_SHARES.map(top);
    let ranks = RANKS
        .iter()
        .map(|&rank| RankShare { rank, share: events.get(rank - 1).map(|&n| n as f64 / total) })
        .collect();
    PopularityCurve { top_1_percent, top_10_percent, top_50_percent, ranks }
}

fn behaviour_mix(column: &Compared) -> BehaviourMix {
    let real = counts(column.schema, column.real);
    let synthetic = counts(column.schema, column.synthetic);
    let share = |counts: &HashMap<&str, usize>, label: &str| {
        let total = counts.values().sum::<usize>().max(1) as f64;
        counts.get(label).copied().unwrap_or(0) as f64 / total
    };
    let labels: BTreeSet<&str> = real.keys().chain(synthetic.keys()).copied().collect();
    let mut shares: Vec<LabelShare> = labels
        .into_iter()
        .map(|label| LabelShare {
            label: label.to_string(),
            real: share(&real, label),
            synthetic: share(&synthetic, label),
        })
        .collect();
    shares.sort_by(|a, b| b.real.total_cmp(&a.real));
    BehaviourMix { column: column.schema.name.clone(), shares }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ColumnSchema;

    fn key(name: &str) -> ColumnSchema {
        ColumnSchema {
            name: name.into(),
            kind: Kind::Id { role: IdRole::Key },
            null_marker: None,
            missing_rate: 0.0,
            distinct: 1,
        }
    }

    #[test]
    fn an_item_named_key_is_preferred_for_popularity() {
        let (invoice, stock) = (key("InvoiceNo"), key("StockCode"));
        let cells = vec![Some("1".to_string())];
        let compared = [
            Compared { schema: &invoice, real: &cells, synthetic: &cells },
            Compared { schema: &stock, real: &cells, synthetic: &cells },
        ];
        let chosen = item_key(&compared).expect("there are keys");
        assert_eq!(chosen.schema.name, "StockCode");
        assert_eq!(item_key(&compared[..1]).expect("a key").schema.name, "InvoiceNo");
    }

    #[test]
    fn quantiles_interpolate_linearly_like_numpy() {
        let sorted = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&sorted, 0.5), 2.5);
        assert_eq!(quantile(&sorted, 0.0), 1.0);
        assert_eq!(quantile(&sorted, 1.0), 4.0);
        assert!((quantile(&sorted, 0.1) - 1.3).abs() < 1e-12);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }

    #[test]
    fn events_per_subject_summary_by_hand() {
        let summary = summarise(vec![1, 3, 2, 2]);
        assert_eq!(summary.subjects, 4);
        assert_eq!(summary.mean, 2.0);
        assert_eq!(summary.p50, 2.0);
        assert_eq!(summary.max, 3.0);
    }

    #[test]
    fn the_popularity_curve_takes_shares_of_all_keyed_events() {
        // Ten keys: one with 10 events, nine with 1 each (19 events).
        let mut events = vec![1; 9];
        events.push(10);
        let curve = popularity_curve(events);
        assert!((curve.top_1_percent - 10.0 / 19.0).abs() < 1e-12);
        assert!((curve.top_10_percent - 10.0 / 19.0).abs() < 1e-12);
        assert!((curve.top_50_percent - 14.0 / 19.0).abs() < 1e-12);
        assert_eq!(curve.ranks[1].share, Some(1.0 / 19.0));
        assert_eq!(curve.ranks[2].share, None);
    }
}
