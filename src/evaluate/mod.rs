//! Scores a synthetic table against the real one it was learnt from.
//!
//! The report answers three questions. Is the synthetic table like the real
//! one? [`quality`] reproduces SDMetrics' single-table QualityReport, so
//! that our headline number can be checked against the tool most papers and
//! users quote; [`similarity`] compares each column's profile and checks
//! identifiers; [`behaviour`] looks at what an e-commerce log is about
//! (events per subject, popularity, behaviour mix); [`detection`] asks a
//! classifier to tell the two apart. Does it leak anyone? [`privacy`]
//! measures distances to the closest real row, exact copies, and copied
//! subjects. Would a recommender trained on it work on real users?
//! [`utility`] trains recommenders both ways and scores them on real users.
//!
//! "Real" here is the training part of the real table. The [`holdout`], real
//! rows the model never saw, is scored the same way beside the synthetic
//! table, so that every figure has a real reference: a synthetic table
//! cannot be expected to beat fresh real data.
//!
//! Every cell of both tables is read through the real table's schema: the
//! synthetic table has the real column names (possibly fewer columns) and no
//! schema of its own.

mod behaviour;
pub mod detection;
pub mod distributions;
pub mod holdout;
mod metadata;
pub mod page;
pub mod privacy;
mod quality;
pub mod roles;
mod similarity;
pub mod utility;

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::schema::{ColumnSchema, Kind, Schema};
use crate::table::Table;

pub use behaviour::{
    Behaviour, BehaviourMix, EventsPerSubject, EventsSummary, LabelShare, Popularity,
    PopularityCurve, RankShare,
};
pub use metadata::sdv_metadata;
pub use quality::{ColumnShape, PairMetric, PairTrend, Quality, ShapeMetric};
pub use similarity::{ColumnSimilarity, KeyCoverage, Similarity, SubjectLeakage};

use detection::Detection;
use distributions::ColumnDistribution;
use holdout::Split;
use privacy::Privacy;
use utility::Utility;

/// Why free-text columns are absent from the synthetic table.
const TEXT_REASON: &str = "free text is not learnt";
/// Why free text a key carried into the synthetic table is not scored.
const CARRIED_TEXT_REASON: &str =
    "free text is not learnt or scored; the synthetic table carries real text with its key";
/// Why a real column the synthetic table lacks is not scored.
const ABSENT_REASON: &str = "absent from the synthetic table";

/// Everything the evaluator says about one synthetic table; written as
/// `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// SDMetrics' quality score, computed the way SDMetrics computes it.
    pub quality: Quality,
    /// Per-column profile similarity and identifier checks.
    pub similarity: Similarity,
    /// Behaviour-log statistics; present when the schema has a subject id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behaviour: Option<Behaviour>,
    /// The real holdout scored like the synthetic table; absent when the
    /// job kept no holdout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holdout: Option<HoldoutReference>,
    pub privacy: Privacy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection: Option<Detection>,
    /// Recommender utility; behaviour logs split by time only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utility: Option<Utility>,
    /// Per-column plot data for the page.
    pub distributions: Vec<ColumnDistribution>,
    /// Real columns that were not scored, each with the reason.
    pub left_out: Vec<LeftOut>,
    /// Report sections that were not computed, each with the reason.
    #[serde(default)]
    pub omitted: Vec<Omitted>,
    /// Seconds each part of the report took.
    #[serde(default)]
    pub timings_s: BTreeMap<String, f64>,
}

/// What the real holdout scores against the training part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldoutReference {
    pub split: Split,
    /// Columns the reference does not score, and why: the time column of a
    /// time split, which tells the later holdout apart by construction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<LeftOut>,
    pub quality: Quality,
    pub similarity: Similarity,
    /// The synthetic table's quality on the reference's columns, to compare
    /// like with like; present when the reference leaves columns out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synthetic_quality: Option<Quality>,
}

/// Mixed into the seed for the real sample that size-dependent figures read.
const SIZED_STREAM: u64 = 0x2545_f491_4f6c_dd1d;

/// A report section that was not computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Omitted {
    pub section: String,
    pub reason: String,
}

/// What the evaluator compares.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The real rows the model learnt from (the whole real table when no
    /// holdout was kept).
    pub real: &'a Table,
    pub synthetic: &'a Table,
    /// Real rows kept out of training and how they were chosen, or why
    /// there are none.
    pub holdout: Result<(&'a Table, &'a Split), &'a str>,
    /// The real table's schema; both tables are read through it.
    pub schema: &'a Schema,
    /// Seeds every sample and model the report draws.
    pub seed: u64,
}

/// A real column the report does not score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeftOut {
    pub column: String,
    pub reason: String,
}

/// One schema column with its real and synthetic cells side by side.
#[derive(Debug, Clone, Copy)]
struct Compared<'a> {
    schema: &'a ColumnSchema,
    real: &'a [Option<String>],
    synthetic: &'a [Option<String>],
}

/// Scores the synthetic table against the real one, with the holdout as
/// the reference.
#[tracing::instrument(skip_all, fields(real = inputs.real.rows(), synthetic = inputs.synthetic.rows()))]
pub fn evaluate(inputs: &Inputs) -> Report {
    let Inputs { real, synthetic, schema, seed, .. } = *inputs;
    let holdout = inputs.holdout.ok().map(|(table, _)| table);
    let mut clock = Clock::default();
    let mut omitted = Vec::new();

    let compared = compared_columns(real, synthetic, schema);
    let quality = clock.time("quality", || quality::score(&compared));
    let similarity = clock.time("similarity", || similarity::score(&compared));

    // How events spread over keys depends on table size (10,000 rows
    // cannot show 50,000 items), so those figures read a real sample of
    // the synthetic table's size.
    let sized = (real.rows() > synthetic.rows())
        .then(|| holdout::sample_rows(real, synthetic.rows(), seed ^ SIZED_STREAM));
    let sized_real = sized.as_ref().unwrap_or(real);
    let sized_compared = compared_columns(sized_real, synthetic, schema);
    let behaviour = clock.time("behaviour", || behaviour::score(&compared, &sized_compared));

    let reference = inputs.holdout.ok().map(|(table, split)| {
        clock.time("holdout", || reference(real, synthetic, table, split, schema))
    });
    if let Err(reason) = inputs.holdout {
        omitted.push(omit("holdout", reason));
    }

    let known = match inputs.holdout {
        Ok((table, split)) if split.method == holdout::SplitMethod::Time => {
            known_items(real, table, schema)
        }
        _ => None,
    };
    let privacy_holdout = known.as_ref().map(|(table, _)| table).or(holdout);
    let mut privacy =
        clock.time("privacy", || privacy::score(real, synthetic, privacy_holdout, schema, seed));
    privacy.notes.extend(known.map(|(_, note)| note));
    let detection = clock.time("detection", || {
        detection::score(real, synthetic, holdout, schema, seed)
            .map_err(|reason| omitted.push(omit("detection", &reason)))
            .ok()
    });
    let utility = clock.time("utility", || match inputs.holdout {
        Ok((table, split)) if split.method == holdout::SplitMethod::Time => {
            utility::score(real, synthetic, table, schema, seed)
                .map_err(|reason| omitted.push(omit("utility", &reason)))
                .ok()
        }
        other => {
            omitted.push(omit("utility", &no_utility(other.map(|(_, split)| split), schema)));
            None
        }
    });
    let distributions = clock.time("distributions", || {
        distributions::distributions(real, synthetic, sized_real, schema)
    });

    Report {
        quality,
        similarity,
        behaviour,
        holdout: reference,
        privacy,
        detection,
        utility,
        distributions,
        left_out: left_out(real, synthetic, schema),
        omitted,
        timings_s: clock.laps,
    }
}

/// SDMetrics' quality score alone, for callers that need nothing else.
pub fn quality(real: &Table, synthetic: &Table, schema: &Schema) -> Quality {
    quality::score(&compared_columns(real, synthetic, schema))
}

/// Scores the holdout against training; a later holdout is scored without
/// the columns it differs in by construction, and the synthetic table again
/// on the same columns.
fn reference(
    real: &Table,
    synthetic: &Table,
    holdout: &Table,
    split: &Split,
    schema: &Schema,
) -> HoldoutReference {
    let left_out = holdout::later_columns(real, holdout, schema);
    let kept = |c: &&ColumnSchema| !left_out.iter().any(|l| l.column == c.name);
    let same_columns = Schema { columns: schema.columns.iter().filter(kept).cloned().collect() };
    let compared = compared_columns(real, holdout, &same_columns);
    let synthetic_quality = (!left_out.is_empty())
        .then(|| quality::score(&compared_columns(real, synthetic, &same_columns)));
    HoldoutReference {
        split: split.clone(),
        left_out,
        quality: quality::score(&compared),
        similarity: similarity::score(&compared),
        synthetic_quality,
    }
}

/// A later holdout's rows that name items the training part shows, the
/// privacy reference for a log split by time, with the note that says so.
///
/// A synthetic log draws only training items, by design, while much of a
/// later log names new items; held against all holdout rows, synthetic
/// rows would look close to training for a reason that is not copying.
/// `None` without an item column or when no holdout item is known.
fn known_items(real: &Table, holdout: &Table, schema: &Schema) -> Option<(Table, String)> {
    let item = roles::item(schema)?;
    let labels = |table: &'_ Table| -> Vec<Option<String>> {
        let cells = table.column(&item.name).map_or(&[][..], |c| &c.cells[..]);
        cells.iter().map(|c| item.label(c.as_deref()).map(str::to_string)).collect()
    };
    let known: std::collections::HashSet<Option<String>> = labels(real).into_iter().collect();
    let marks: Vec<bool> = labels(holdout).iter().map(|label| known.contains(label)).collect();
    let kept = marks.iter().filter(|&&k| k).count();
    if kept == 0 {
        return None;
    }
    let note = format!(
        "The holdout is the later part of the log, and {:.0}% of its rows name an item \
         (`{}`) the training part never shows, while the synthetic log draws only training \
         items by design. The privacy reference is therefore the {} holdout rows on known \
         items; their times still come after training, which adds a little to their \
         distances.",
        100.0 * (1.0 - kept as f64 / marks.len() as f64),
        item.name,
        thousands(kept),
    );
    Some((holdout::select(holdout, &marks, true), note))
}

/// A count with thousands separated by commas, as the report's prose and
/// page write counts.
pub(crate) fn thousands(count: usize) -> String {
    let digits = count.to_string();
    let mut text = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    text
}

/// Why recommender utility was not measured: it needs a behaviour log
/// whose holdout is its later part.
fn no_utility(holdout: Result<&Split, &str>, schema: &Schema) -> String {
    let needs = "recommender utility needs a behaviour log (subject, item and time columns) \
                 with a holdout that is its later part";
    if !roles::is_behaviour_log(schema) {
        return format!("{needs}; this table has no subject and time columns");
    }
    match holdout {
        Err(reason) => format!("{needs}; there is no holdout: {reason}"),
        Ok(split) => match &split.note {
            Some(note) => format!("{needs}; {note}"),
            None => format!("{needs}; the holdout was drawn at random"),
        },
    }
}

fn omit(section: &str, reason: &str) -> Omitted {
    Omitted { section: section.to_string(), reason: reason.to_string() }
}

/// Seconds spent in each part of the report.
#[derive(Default)]
struct Clock {
    laps: BTreeMap<String, f64>,
}

impl Clock {
    fn time<T>(&mut self, part: &str, work: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let result = work();
        let seconds = start.elapsed().as_secs_f64();
        tracing::debug!(part, seconds, "report part done");
        self.laps.insert(part.to_string(), seconds);
        result
    }
}

/// The schema's columns present in both tables, text excluded.
fn compared_columns<'a>(
    real: &'a Table,
    synthetic: &'a Table,
    schema: &'a Schema,
) -> Vec<Compared<'a>> {
    schema
        .columns
        .iter()
        .filter(|column| column.kind != Kind::Text)
        .filter_map(|column| {
            let real = real.column(&column.name)?;
            let synthetic = synthetic.column(&column.name)?;
            Some(Compared { schema: column, real: &real.cells, synthetic: &synthetic.cells })
        })
        .collect()
}

/// Text columns, and real columns the synthetic table does not have.
fn left_out(real: &Table, synthetic: &Table, schema: &Schema) -> Vec<LeftOut> {
    real.columns
        .iter()
        .filter_map(|column| {
            let is_text = schema.column(&column.name).is_some_and(|c| c.kind == Kind::Text);
            let present = synthetic.column(&column.name).is_some();
            let reason = match (is_text, present) {
                (true, true) => CARRIED_TEXT_REASON,
                (true, false) => TEXT_REASON,
                (false, false) => ABSENT_REASON,
                (false, true) => return None,
            };
            Some(LeftOut { column: column.name.clone(), reason: reason.to_string() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{IdRole, infer::infer};
    use crate::table::Column;
    use std::collections::BTreeMap;

    fn column(name: &str, cells: &[&str]) -> Column {
        Column { name: name.into(), cells: cells.iter().map(|c| Some(c.to_string())).collect() }
    }

    fn shop_table(users: &[&str]) -> Table {
        let n = users.len();
        let items: Vec<String> = (0..n).map(|i| format!("item{}", i % 3)).collect();
        let kinds: Vec<&str> = (0..n).map(|i| if i % 4 == 0 { "buy" } else { "pv" }).collect();
        let notes: Vec<String> =
            (0..n).map(|i| format!("a long free text note number {i} about nothing")).collect();
        Table::new(vec![
            column("user_id", users),
            column("item_id", &items.iter().map(String::as_str).collect::<Vec<_>>()),
            column("behavior_type", &kinds),
            column("note", &notes.iter().map(String::as_str).collect::<Vec<_>>()),
        ])
    }

    fn inputs<'a>(real: &'a Table, synthetic: &'a Table, schema: &'a Schema) -> Inputs<'a> {
        Inputs { real, synthetic, holdout: Err("no holdout in this test"), schema, seed: 7 }
    }

    fn hinted_schema(table: &Table) -> Schema {
        let hint = |role| crate::schema::infer::ColumnHint {
            kind: crate::schema::infer::HintKind::Id,
            format: None,
            role: Some(role),
        };
        let hints = BTreeMap::from([
            ("user_id".to_string(), hint(IdRole::Subject)),
            ("item_id".to_string(), hint(IdRole::Key)),
        ]);
        infer(table, &hints).expect("the test table has a schema")
    }

    #[test]
    fn text_columns_and_missing_columns_are_listed_as_left_out() {
        let users = ["u1", "u2", "u1", "u3", "u2", "u1", "u4", "u4"];
        let real = shop_table(&users);
        let schema = hinted_schema(&real);
        let mut synthetic = real.clone();
        synthetic.columns.retain(|c| c.name != "note" && c.name != "item_id");
        let report = evaluate(&inputs(&real, &synthetic, &schema));
        let left: Vec<(&str, &str)> =
            report.left_out.iter().map(|l| (l.column.as_str(), l.reason.as_str())).collect();
        assert_eq!(left, [("item_id", ABSENT_REASON), ("note", TEXT_REASON)]);
    }

    #[test]
    fn a_report_round_trips_through_json() {
        let users = ["u1", "u2", "u1", "u3", "u2", "u1", "u4", "u4"];
        let real = shop_table(&users);
        let schema = hinted_schema(&real);
        let report = evaluate(&inputs(&real, &real, &schema));
        let text = serde_json::to_string(&report).expect("reports serialise");
        let back: Report = serde_json::from_str(&text).expect("reports deserialise");
        assert_eq!(back.left_out, report.left_out);
        assert_eq!(back.quality.columns.len(), report.quality.columns.len());
        assert!(back.behaviour.is_some());
    }
}
