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

use super::roles;
use crate::schema::Schema;
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SplitMethod {
    Time,
    Random,
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
    let by_time = roles::is_behaviour_log(schema).then(|| split_by_time(table, schema, wanted));
    let (held, method, column, cutoff) = match by_time.flatten() {
        Some((held, column, cutoff)) => (held, SplitMethod::Time, Some(column), Some(cutoff)),
        None => (random_rows(table.rows(), wanted, seed), SplitMethod::Random, None, None),
    };
    let training = select(table, &held, false);
    let holdout = select(table, &held, true);
    let split = Split {
        method,
        column,
        share,
        training_rows: training.rows(),
        holdout_rows: holdout.rows(),
        cutoff,
    };
    Ok(Parts { training, holdout, split })
}

/// Marks the rows later than the time that leaves about `wanted` rows
/// after it; `None` when ties leave no row strictly later (all events at
/// one instant), so that the caller falls back to a random split.
fn split_by_time(table: &Table, schema: &Schema, wanted: usize) -> Option<(Vec<bool>, String, String)> {
    let time = roles::time(schema)?;
    let cells = &table.column(&time.name)?.cells;
    let times: Vec<Option<f64>> = cells.iter().map(|c| time.number(c.as_deref())).collect();
    let mut sorted: Vec<f64> = times.iter().flatten().copied().collect();
    if sorted.len() <= wanted {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let cutoff = sorted[sorted.len() - wanted - 1];
    let held: Vec<bool> = times.iter().map(|t| t.is_some_and(|t| t > cutoff)).collect();
    held.iter().any(|&h| h).then(|| (held, time.name.clone(), time.format_number(cutoff)))
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
fn select(table: &Table, held: &[bool], keep: bool) -> Table {
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
