//! Real rows kept out of training, so every score has a real reference.
//!
//! A behaviour log (subject and time columns) is split by time: the latest
//! events are held out, as a recommender is judged on what users do next.
//! Any other table is split at random. Rows with no readable time stay in
//! training, since they cannot be placed before or after anything.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{LeftOut, roles};
use crate::schema::{ColumnSchema, Kind, Schema};
use crate::table::{Column, Table};

/// Mixed into the job seed so the split never reuses the model's draws.
const SPLIT_STREAM: u64 = 0x5bd1_e995_0c0f_fee5;

/// How the real table was divided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Split {
    pub method: SplitMethod,
    /// The time column of a time split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The share of rows the spec asked to hold out.
    pub share: f64,
    pub training_rows: usize,
    pub holdout_rows: usize,
    /// The last training time, written as the source writes times: every
    /// holdout row is later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cutoff: Option<String>,
    /// Why a behaviour log was not split by time, when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SplitMethod {
    /// The latest events were held out.
    Time,
    /// Rows drawn at random were held out.
    Random,
    /// The caller gave the holdout as its own file, and it is not wholly
    /// later than the training rows.
    Given,
}

/// The two parts of a split table.
#[derive(Debug, Clone)]
pub struct Parts {
    pub training: Table,
    pub holdout: Table,
    pub split: Split,
}

/// Holds out about `share` of `table`'s rows; `Err` says why no holdout
/// could be made (too few rows for the share).
pub fn split(table: &Table, schema: &Schema, share: f64, seed: u64) -> Result<Parts, String> {
    let wanted = (table.rows() as f64 * share).round() as usize;
    if wanted == 0 || wanted >= table.rows() {
        return Err(format!(
            "a holdout share of {share} of {} rows leaves no rows on one side",
            table.rows()
        ));
    }
    let log = roles::is_behaviour_log(schema);
    let by_time = log.then(|| split_by_time(table, schema, wanted)).flatten();
    let (held, method, column, cutoff) = match by_time {
        Some((held, column, cutoff)) => (held, SplitMethod::Time, Some(column), Some(cutoff)),
        None => (random_rows(table.rows(), wanted, seed), SplitMethod::Random, None, None),
    };
    let note = (log && method == SplitMethod::Random).then(|| {
        "the log's times could not hold out this share (too few readable or distinct \
         times), so rows were drawn at random"
            .to_string()
    });
    let training = select(table, &held, false);
    let holdout = select(table, &held, true);
    let split = Split {
        method,
        column,
        share,
        training_rows: training.rows(),
        holdout_rows: holdout.rows(),
        cutoff,
        note,
    };
    Ok(Parts { training, holdout, split })
}

/// Describes a holdout the caller gave as its own table: a time split when
/// the table is a behaviour log and every holdout event is later than every
/// training event, else [`SplitMethod::Given`].
pub fn given(training: &Table, holdout: &Table, schema: &Schema) -> Split {
    let mut split = Split {
        method: SplitMethod::Given,
        column: None,
        share: holdout.rows() as f64 / (training.rows() + holdout.rows()).max(1) as f64,
        training_rows: training.rows(),
        holdout_rows: holdout.rows(),
        cutoff: None,
        note: None,
    };
    let repeated = repeated_share(training, holdout);
    if repeated > 0.5 {
        split.note = Some(format!(
            "{:.0}% of the holdout's rows are also rows of the real file; a holdout must be \
             rows the model never saw, or its figures are no reference",
            repeated * 100.0
        ));
        return split;
    }
    let time = roles::time(schema).filter(|_| roles::is_behaviour_log(schema));
    let Some(time) = time else {
        return split;
    };
    if let Some(last) = last_before(training, holdout, time) {
        split.method = SplitMethod::Time;
        split.column = Some(time.name.clone());
        split.cutoff = Some(time.format_number(last));
    } else {
        split.note = Some(format!(
            "some holdout events are not later than every real event (by `{}`), so the \
             holdout cannot stand for what users did next",
            time.name
        ));
    }
    split
}

/// Columns past this rank correlation with time rise (or fall) with it.
const TRACKS_TIME: f64 = 0.95;
/// Fewest rows with both values readable for a correlation to count.
const MIN_TRACKED: usize = 30;

/// Columns a holdout that is wholly later than training differs in by
/// construction, which its reference must leave out or the reference
/// scores the passing of time: the time column, and numbers or ids that
/// rise with it (a row number, invoice numbers). Empty when the holdout is
/// not wholly later.
pub fn later_columns(training: &Table, holdout: &Table, schema: &Schema) -> Vec<LeftOut> {
    let Some(time) = roles::time(schema) else {
        return Vec::new();
    };
    if last_before(training, holdout, time).is_none() {
        return Vec::new();
    }
    let training_times = times(training, time);

    let mut left = vec![LeftOut {
        column: time.name.clone(),
        reason: format!(
            "every holdout row is later than every training row (by `{}`), so time alone \
             would tell them apart",
            time.name
        ),
    }];
    for column in schema.columns.iter().filter(|c| c.name != time.name) {
        let Some(rho) = time_correlation(training, column, &training_times) else {
            continue;
        };
        if rho.abs() >= TRACKS_TIME {
            left.push(LeftOut {
                column: column.name.clone(),
                reason: format!(
                    "it {} with `{}` (rank correlation {rho:.2} in training), so the later \
                     holdout differs in it by construction",
                    if rho > 0.0 { "rises" } else { "falls" },
                    time.name
                ),
            });
        }
    }
    left
}

/// The last training time, when every readable holdout time is later.
fn last_before(training: &Table, holdout: &Table, time: &ColumnSchema) -> Option<f64> {
    let last = times(training, time).into_iter().flatten().reduce(f64::max)?;
    let first = times(holdout, time).into_iter().flatten().reduce(f64::min)?;
    (first > last).then_some(last)
}

/// Each row's time; `None` where missing or unreadable.
fn times(table: &Table, time: &ColumnSchema) -> Vec<Option<f64>> {
    let cells = table.column(&time.name).map_or(&[][..], |c| &c.cells[..]);
    cells.iter().map(|c| time.number(c.as_deref())).collect()
}

/// Spearman's rank correlation of a numeric or id column with time over
/// the training rows where both read as numbers.
fn time_correlation(table: &Table, column: &ColumnSchema, times: &[Option<f64>]) -> Option<f64> {
    let cells = &table.column(&column.name)?.cells;
    let value = |cell: &Option<String>| match column.kind {
        Kind::Numeric { .. } => column.number(cell.as_deref()),
        Kind::Id { .. } => column.label(cell.as_deref())?.trim().parse::<f64>().ok(),
        _ => None,
    };
    let pairs: Vec<(f64, f64)> =
        cells.iter().zip(times).filter_map(|(cell, time)| Some((value(cell)?, (*time)?))).collect();
    if pairs.len() < MIN_TRACKED || pairs.len() * 10 < cells.len() * 9 {
        return None;
    }
    let ranks_of =
        |pick: fn(&(f64, f64)) -> f64| ranks(&pairs.iter().map(pick).collect::<Vec<_>>());
    pearson(&ranks_of(|p| p.0), &ranks_of(|p| p.1))
}

/// Ranks from 1, ties given their mean rank.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        let mean = (start + end + 1) as f64 / 2.0;
        order[start..end].iter().for_each(|&i| ranks[i] = mean);
        start = end;
    }
    ranks
}

/// Pearson's correlation; `None` when either side is constant.
fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len() as f64;
    let (mean_a, mean_b) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - mean_a, y - mean_b);
        ab += dx * dy;
        aa += dx * dx;
        bb += dy * dy;
    }
    (aa > 0.0 && bb > 0.0).then(|| ab / (aa * bb).sqrt())
}

/// Share of `holdout` rows that are, cell for cell, rows of `training`.
fn repeated_share(training: &Table, holdout: &Table) -> f64 {
    let row = |table: &Table, i: usize| -> Vec<Option<String>> {
        table.columns.iter().map(|c| c.cells[i].clone()).collect()
    };
    let known: std::collections::HashSet<Vec<Option<String>>> =
        (0..training.rows()).map(|i| row(training, i)).collect();
    let repeated = (0..holdout.rows()).filter(|&i| known.contains(&row(holdout, i))).count();
    repeated as f64 / holdout.rows().max(1) as f64
}

/// Marks the rows later than the time that leaves about `wanted` rows
/// after it; `None` when ties leave no row strictly later (all events at
/// one instant), so that the caller falls back to a random split.
fn split_by_time(
    table: &Table,
    schema: &Schema,
    wanted: usize,
) -> Option<(Vec<bool>, String, String)> {
    let time = roles::time(schema)?;
    let times = times(table, time);
    let mut sorted: Vec<f64> = times.iter().flatten().copied().collect();
    if sorted.len() <= wanted {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let cutoff = sorted[sorted.len() - wanted - 1];
    let held: Vec<bool> = times.iter().map(|t| t.is_some_and(|t| t > cutoff)).collect();
    held.iter().any(|&h| h).then(|| (held, time.name.clone(), time.format_number(cutoff)))
}

/// `rows` rows of `table` drawn at random, in their original order.
pub fn sample_rows(table: &Table, rows: usize, seed: u64) -> Table {
    let rows = rows.min(table.rows());
    select(table, &random_rows(table.rows(), rows, seed), true)
}

/// Marks `wanted` rows drawn at random.
fn random_rows(rows: usize, wanted: usize, seed: u64) -> Vec<bool> {
    let mut order: Vec<usize> = (0..rows).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ SPLIT_STREAM));
    let mut held = vec![false; rows];
    for &row in &order[..wanted] {
        held[row] = true;
    }
    held
}

/// The rows whose mark equals `keep`, in their original order.
pub(super) fn select(table: &Table, held: &[bool], keep: bool) -> Table {
    let columns = table
        .columns
        .iter()
        .map(|column| Column {
            name: column.name.clone(),
            cells: column
                .cells
                .iter()
                .zip(held)
                .filter(|(_, h)| **h == keep)
                .map(|(cell, _)| cell.clone())
                .collect(),
        })
        .collect();
    Table::new(columns)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::schema::IdRole;
    use crate::schema::infer::{ColumnHint, HintKind, infer};

    fn column(name: &str, cells: Vec<String>) -> Column {
        Column { name: name.into(), cells: cells.into_iter().map(Some).collect() }
    }

    /// A log of 100 events by 10 users, one event a minute, shuffled so
    /// that row order says nothing about time.
    fn log() -> (Table, Schema) {
        let order: Vec<usize> = (0..100).map(|i| (i * 37) % 100).collect();
        let table = Table::new(vec![
            column("user_id", order.iter().map(|i| format!("u{}", i % 10)).collect()),
            column("item_id", order.iter().map(|i| format!("i{}", i % 7)).collect()),
            column("ts", order.iter().map(|i| (1_500_000_000 + 60 * i).to_string()).collect()),
        ]);
        let hint = |kind, format: Option<&str>, role| ColumnHint {
            kind,
            format: format.map(String::from),
            role,
        };
        let hints = BTreeMap::from([
            ("user_id".to_string(), hint(HintKind::Id, None, Some(IdRole::Subject))),
            ("item_id".to_string(), hint(HintKind::Id, None, Some(IdRole::Key))),
            ("ts".to_string(), hint(HintKind::Datetime, Some("unix_seconds"), None)),
        ]);
        let schema = infer(&table, &hints).expect("the log has a schema");
        (table, schema)
    }

    fn times(table: &Table) -> Vec<i64> {
        let cells = &table.column("ts").unwrap().cells;
        cells.iter().map(|c| c.as_deref().unwrap().parse().unwrap()).collect()
    }

    #[test]
    fn a_behaviour_log_holds_out_its_latest_events() {
        let (table, schema) = log();
        let parts = split(&table, &schema, 0.2, 1).unwrap();
        assert_eq!(parts.split.method, SplitMethod::Time);
        assert_eq!((parts.split.training_rows, parts.split.holdout_rows), (80, 20));
        let last_training = times(&parts.training).into_iter().max().unwrap();
        let first_holdout = times(&parts.holdout).into_iter().min().unwrap();
        assert_eq!(last_training, 1_500_000_000 + 60 * 79);
        assert_eq!(first_holdout, last_training + 60);
        assert_eq!(parts.split.cutoff.as_deref(), Some("1500004740"));
    }

    #[test]
    fn other_tables_hold_out_random_rows_reproducibly() {
        let (mut table, _) = log();
        table.columns.retain(|c| c.name != "user_id");
        let schema = infer(&table, &BTreeMap::new()).unwrap();
        let first = split(&table, &schema, 0.25, 9).unwrap();
        let again = split(&table, &schema, 0.25, 9).unwrap();
        let other = split(&table, &schema, 0.25, 10).unwrap();
        assert_eq!(first.split.method, SplitMethod::Random);
        assert_eq!(first.holdout.rows(), 25);
        assert_eq!(first.holdout, again.holdout);
        assert_ne!(first.holdout, other.holdout);
        let mut all = times(&first.training);
        all.extend(times(&first.holdout));
        all.sort();
        let mut original = times(&table);
        original.sort();
        assert_eq!(all, original, "every row lands on exactly one side");
    }

    #[test]
    fn events_at_one_instant_fall_back_to_a_random_split() {
        let (mut table, schema) = log();
        let ts = table.columns.iter_mut().find(|c| c.name == "ts").unwrap();
        ts.cells.iter_mut().for_each(|c| *c = Some("1500000000".into()));
        let parts = split(&table, &schema, 0.2, 1).unwrap();
        assert_eq!(parts.split.method, SplitMethod::Random);
        assert_eq!(parts.holdout.rows(), 20);
        assert!(parts.split.note.unwrap().contains("could not hold out"));
    }

    #[test]
    fn a_share_too_small_for_the_table_is_refused() {
        let (table, schema) = log();
        let error = split(&table, &schema, 0.001, 1).unwrap_err();
        assert!(error.contains("of 100 rows leaves no rows"), "{error}");
    }

    #[test]
    fn a_later_holdout_leaves_out_time_and_what_rises_with_it() {
        let (mut table, _) = log();
        let ts = table.column("ts").unwrap().cells.clone();
        let invoice = ts.iter().map(|t| t.as_ref().map(|t| format!("9{t}"))).collect();
        table.columns.push(Column { name: "invoice".into(), cells: invoice });
        let hint = |role| ColumnHint { kind: HintKind::Id, format: None, role: Some(role) };
        let hints = BTreeMap::from([
            ("user_id".to_string(), hint(IdRole::Subject)),
            ("item_id".to_string(), hint(IdRole::Key)),
            ("invoice".to_string(), hint(IdRole::Key)),
            (
                "ts".to_string(),
                ColumnHint {
                    kind: HintKind::Datetime,
                    format: Some("unix_seconds".into()),
                    role: None,
                },
            ),
        ]);
        let schema = infer(&table, &hints).unwrap();
        let parts = split(&table, &schema, 0.2, 1).unwrap();

        let left = later_columns(&parts.training, &parts.holdout, &schema);
        let names: Vec<&str> = left.iter().map(|l| l.column.as_str()).collect();
        assert_eq!(names, ["ts", "invoice"], "item ids do not track time");
        assert!(left[1].reason.contains("rises with `ts`"), "{}", left[1].reason);
        let random =
            split(&table, &schema, 0.2, 1).map(|p| later_columns(&p.holdout, &p.training, &schema));
        assert!(random.unwrap().is_empty(), "an earlier holdout is not later");
    }

    #[test]
    fn a_given_holdout_is_a_time_split_only_when_wholly_later() {
        let (table, schema) = log();
        let parts = split(&table, &schema, 0.2, 1).unwrap();
        let later = given(&parts.training, &parts.holdout, &schema);
        assert_eq!(later.method, SplitMethod::Time);
        assert_eq!(later.cutoff, parts.split.cutoff);
        let same = given(&parts.training, &parts.training, &schema);
        assert_eq!(same.method, SplitMethod::Given);
        assert!(same.note.unwrap().starts_with("100% of the holdout's rows are also rows"));
        let mixed = given(&parts.holdout, &parts.training, &schema);
        assert_eq!(mixed.method, SplitMethod::Given);
        assert!(mixed.note.unwrap().contains("not later than every real event (by `ts`)"));
    }
}
