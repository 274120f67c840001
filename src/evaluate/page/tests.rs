//! The page rendered from a hand-built report over a small shop log.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::evaluate::detection::{Detection, DetectionScore};
use crate::evaluate::distributions::distributions;
use crate::evaluate::holdout::Split;
use crate::evaluate::privacy::{DistanceSummary, ExactCopies, Privacy, SubjectPrivacy};
use crate::evaluate::utility::{ModelUtility, Ranking, Utility};
use crate::evaluate::{
    Behaviour, BehaviourMix, EventsPerSubject, EventsSummary, HoldoutReference, LabelShare,
    LeftOut, Omitted, Popularity, PopularityCurve, RankShare, Similarity, quality,
};
use crate::schema::{ColumnSchema, DateFormat, IdRole, Kind, Schema};
use crate::table::{Column, Table};

/// A column whose name needs escaping everywhere it is written.
const NASTY: &str = "<b>&\"x";

fn column_schema(name: &str, kind: Kind) -> ColumnSchema {
    ColumnSchema { name: name.into(), kind, null_marker: None, missing_rate: 0.0, distinct: 0 }
}

fn schema() -> Schema {
    let format = DateFormat::Pattern("%Y-%m-%d %H:%M:%S".into());
    Schema {
        columns: vec![
            column_schema("user_id", Kind::Id { role: IdRole::Subject }),
            column_schema("item_id", Kind::Id { role: IdRole::Key }),
            column_schema("behavior_type", Kind::Categorical),
            column_schema(
                "price",
                Kind::Numeric { integer: false, decimals: 2, min: 0.0, max: 0.0 },
            ),
            column_schema("time", Kind::Datetime { format, min: 0.0, max: 0.0 }),
            column_schema(NASTY, Kind::Categorical),
            column_schema("review", Kind::Text),
            column_schema("gift", Kind::Boolean),
        ],
    }
}

/// A shop log of `rows` events; `shift` moves prices and behaviour mix so
/// that the synthetic side differs visibly from the real one.
fn shop_log(rows: usize, seed: u64, shift: f64) -> Table {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let kinds = ["pv", "cart", "fav", "buy"];
    let mut cells: Vec<Vec<Option<String>>> = vec![Vec::new(); 8];
    for _ in 0..rows {
        let user = (rng.random::<f64>().powi(3) * 60.0) as usize;
        let item = (rng.random::<f64>().powi(4) * 300.0) as usize;
        let k = (rng.random::<f64>().powf(2.0 + shift) * 4.0) as usize;
        let kind = kinds[k];
        let price = 5.0 + 20.0 * k as f64 + 30.0 * rng.random::<f64>().powi(2) + 20.0 * shift;
        let seconds = 1_700_000_000 + rng.random_range(0..14 * 86_400);
        let time = chrono::DateTime::from_timestamp(seconds, 0).expect("in range");
        let colour = ["red", "green", "blue"][(k + rng.random_range(0..2)) % 3];
        let review = "good ".repeat(rng.random_range(1..12));
        let values = [
            format!("u{user}"),
            format!("i{item}"),
            kind.to_string(),
            format!("{price:.2}"),
            time.format("%Y-%m-%d %H:%M:%S").to_string(),
            colour.to_string(),
            review,
            if rng.random_bool(0.2) { "TRUE" } else { "FALSE" }.to_string(),
        ];
        for (column, value) in cells.iter_mut().zip(values) {
            column.push(Some(value));
        }
    }
    let names = schema().columns.into_iter().map(|c| c.name);
    Table::new(names.zip(cells).map(|(name, cells)| Column { name, cells }).collect())
}

fn ranking(recall: f64, ndcg: f64) -> Ranking {
    Ranking { recall, ndcg }
}

fn privacy() -> Privacy {
    let distances = |median| DistanceSummary {
        rows: 400,
        median,
        p05: median / 4.0,
        mean: median * 1.1,
        zero_share: 0.0075,
    };
    Privacy {
        method: "exact nearest rows over 400 training rows".into(),
        columns: vec!["item_id".into(), "price".into(), NASTY.into()],
        synthetic: distances(0.1234),
        holdout: Some(distances(0.1456)),
        closer_than_holdout_median: Some(0.5432),
        exact_copies: ExactCopies {
            synthetic: 4,
            synthetic_rows: 400,
            holdout: Some(1),
            holdout_rows: Some(200),
        },
        subjects: Some(SubjectPrivacy {
            column: "user_id".into(),
            real_ids: 0,
            sequence_columns: vec!["item_id".into()],
            min_length: 5,
            checked: 37,
            copied: 0,
        }),
        notes: vec![],
    }
}

fn detection() -> Detection {
    Detection {
        classifier: "logistic regression, stratified 5-fold".into(),
        folds: 5,
        features: vec!["price".into(), format!("{NASTY}=red")],
        synthetic: DetectionScore {
            rows_per_side: 400,
            auc: 0.6123,
            fold_aucs: vec![0.6, 0.61, 0.62, 0.6, 0.63],
            left_out: vec![],
        },
        holdout: Some(DetectionScore {
            rows_per_side: 200,
            auc: 0.5351,
            fold_aucs: vec![0.52, 0.55, 0.53, 0.54, 0.53],
            left_out: vec![],
        }),
    }
}

fn utility() -> Utility {
    Utility {
        protocol: "time split; top 20 for each holdout user".into(),
        k: 20,
        test_users: 41,
        models: vec![ModelUtility {
            model: "item_cooccurrence".into(),
            real: ranking(0.2468, 0.1357),
            synthetic: ranking(0.1976, 0.1086),
            combined: ranking(0.2543, 0.1401),
            ratio: Some(ranking(0.8002, 0.8003)),
            gain: Some(ranking(0.0304, 0.0324)),
        }],
    }
}

fn behaviour() -> Behaviour {
    let events = |subjects, mean| EventsSummary {
        subjects,
        mean,
        p10: 1.0,
        p25: 2.0,
        p50: 4.0,
        p75: 8.0,
        p90: 15.0,
        p99: 40.0,
        max: 97.0,
    };
    let curve = |top| PopularityCurve {
        top_1_percent: top,
        top_10_percent: 0.4,
        top_50_percent: 0.9,
        ranks: vec![
            RankShare { rank: 1, share: Some(0.05) },
            RankShare { rank: 1000, share: None },
        ],
    };
    Behaviour {
        events_per_subject: EventsPerSubject {
            subject: "user_id".into(),
            real: events(59, 6.78),
            synthetic: events(54, 7.41),
        },
        popularity: Some(Popularity {
            key: "item_id".into(),
            real_rows: 400,
            real: curve(0.1234),
            synthetic: curve(0.2),
        }),
        behaviour_mix: Some(BehaviourMix {
            column: "behavior_type".into(),
            shares: vec![LabelShare { label: "pv".into(), real: 0.9, synthetic: 0.8 }],
        }),
    }
}

/// A full report over the shop log, every section present.
fn report() -> Report {
    let schema = schema();
    let real = shop_log(400, 1, 0.0);
    let holdout = shop_log(200, 2, 0.0);
    let mut synthetic = shop_log(400, 3, 0.6);
    synthetic.columns.retain(|c| c.name != "review" && c.name != "gift");
    let split = Split {
        method: SplitMethod::Time,
        column: Some("time".into()),
        share: 0.2,
        training_rows: 400,
        holdout_rows: 200,
        cutoff: Some("2023-11-25 10:00:00".into()),
        note: None,
    };
    let empty = || Similarity { overall: None, columns: vec![] };
    Report {
        quality: quality(&real, &synthetic, &schema),
        similarity: empty(),
        behaviour: Some(behaviour()),
        holdout: Some(HoldoutReference {
            split,
            left_out: vec![],
            quality: quality(&real, &holdout, &schema),
            similarity: empty(),
            synthetic_quality: None,
        }),
        privacy: privacy(),
        detection: Some(detection()),
        utility: Some(utility()),
        distributions: distributions(&real, &synthetic, &real, &schema),
        left_out: vec![
            LeftOut { column: "review".into(), reason: "free text is not learnt".into() },
            LeftOut { column: "gift".into(), reason: "absent from the synthetic table".into() },
        ],
        omitted: vec![],
        timings_s: BTreeMap::from([("quality".into(), 0.13), ("privacy".into(), 1.5)]),
    }
}

fn context() -> PageContext {
    PageContext {
        title: "Shop log".into(),
        facts: vec![("Dataset".into(), "taobao sample".into()), ("Model".into(), "ctgan".into())],
    }
}

#[test]
fn every_column_gets_a_plot_and_both_heat_maps_are_drawn() {
    let report = report();
    let page = render(&report, &context());
    assert_eq!(report.distributions.len(), 8);
    assert_eq!(page.matches("<svg").count(), report.distributions.len() + 2);
    assert!(page.contains("Synthetic vs training") && page.contains("Holdout vs training"));
    for name in ["user_id", "item_id", "behavior_type", "price", "time", "review", "gift"] {
        assert!(page.contains(name), "{name} is on the page");
    }
    assert!(page.contains("free text is not learnt"));
}

#[test]
fn headline_figures_sit_beside_their_references() {
    let page = render(&report(), &context());
    for figure in [
        "0.612",
        "0.535", // detection AUC, synthetic and holdout
        "0.123",
        "0.146",
        "54.3%", // DCR medians, closer than the holdout median
        "4 of 400 (1.0%)",
        "1 of 200 (0.5%)", // exact copies
        "0 copied of 37",  // subject sequences
        "0.247",
        "0.198",
        "0.80",
        "+3.0%", // Recall@20 real, synthetic, ratio, gain
        "0.136",
        "0.109", // NDCG@20 real, synthetic
        "taobao sample",
        "ctgan",
        "1.63 s",
        "6.8",
        "7.4",
        "12.3%", // events per subject means, top 1% of items
    ] {
        assert!(page.contains(figure), "{figure} is on the page");
    }
    let report = report();
    let overall = report.quality.overall.expect("the shop log is scored");
    assert!(page.contains(&format!("{overall:.3}")));
}

#[test]
fn absent_sections_show_dashes_and_their_reasons() {
    let mut report = report();
    report.holdout = None;
    report.detection = None;
    report.utility = None;
    report.privacy.holdout = None;
    report.privacy.closer_than_holdout_median = None;
    report.omitted = vec![
        Omitted { section: "detection".into(), reason: "too few rows <2>".into() },
        Omitted { section: "utility".into(), reason: "no time column".into() },
    ];
    let page = render(&report, &PageContext::default());
    assert_eq!(page.matches("<svg").count(), report.distributions.len() + 1);
    assert!(page.contains("Not computed: too few rows &lt;2&gt;."));
    assert!(page.contains("no time column"));
    assert!(page.contains("no real reference"));
    let dashes = page.matches(format::ABSENT).count();
    assert!(dashes >= 8, "absent references are dashes, not numbers ({dashes})");
}

#[test]
fn text_from_the_data_is_escaped() {
    let page = render(&report(), &context());
    assert!(!page.contains(NASTY));
    assert!(page.contains("&lt;b&gt;&amp;&quot;x"));
}

#[test]
fn the_page_loads_nothing_from_anywhere() {
    let page = render(&report(), &context());
    for banned in ["src=", "href=", "@import", "url(", "<script", "<link", "<img"] {
        assert!(!page.contains(banned), "the page contains {banned}");
    }
    let namespace = "http://www.w3.org/2000/svg";
    let addresses = page.matches("http").count();
    assert_eq!(addresses, page.matches(namespace).count(), "only the SVG namespace is a URL");
}
