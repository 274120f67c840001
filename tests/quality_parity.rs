//! Our quality score against SDMetrics' own, on public data.
//!
//! For each real dataset, two synthetic tables are derived deterministically:
//! one keeps every column's shape but breaks relationships (a subsample with
//! some columns shuffled on their own), one keeps relationships but worsens
//! shapes (numbers shifted and scaled, popular labels swapped, some values
//! missing). Both are written as CSV next to SDV metadata made from the
//! inferred schema, and scored by [`evaluate`] and by SDMetrics'
//! QualityReport (`tests/support/sdmetrics_score.py`, run by the Python in
//! `SHOPSYNTH_TOOLS_PYTHON`, which `make test` provides). The overall score
//! and both property scores must agree to within 0.01.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use shopsynth::evaluate::{Quality, quality, sdv_metadata};
use shopsynth::schema::infer::infer;
use shopsynth::schema::{ColumnSchema, Kind, Schema};
use shopsynth::table::{self, Column, Format, ReadOptions, Table};

/// Largest allowed gap between our score and SDMetrics'.
const TOLERANCE: f64 = 0.01;
/// Share of real rows the shuffled variant keeps.
const SUBSAMPLE: f64 = 0.6;
/// Chance that the distorted variant changes a number or a label.
const DISTORT: f64 = 0.4;
/// Chance that the distorted variant blanks a number.
const BLANK: f64 = 0.03;
/// Seconds in a day: distorted datetimes move by whole days.
const DAY: f64 = 86_400.0;

/// The two ways of deriving a synthetic table from a real one.
#[derive(Debug, Clone, Copy)]
enum Variant {
    Shuffled,
    Distorted,
}

#[test]
fn evaluate_matches_sdmetrics_on_adult() {
    check_dataset("uci-adult/adult.csv");
}

#[test]
fn evaluate_matches_sdmetrics_on_online_shoppers() {
    check_dataset("uci-online-shoppers/online_shoppers_intention.csv");
}

#[test]
fn evaluate_matches_sdmetrics_on_online_retail() {
    check_dataset("uci-online-retail/online_retail_random_sample.csv");
}

fn check_dataset(relative: &str) {
    let python = tools_python();
    let real_path = dataset(relative);
    let real = read_csv(&real_path);
    let schema = infer(&real, &BTreeMap::new()).expect("the dataset has a schema");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let metadata_path = dir.path().join("metadata.json");
    let metadata = serde_json::to_vec_pretty(&sdv_metadata(&schema)).expect("metadata serialises");
    std::fs::write(&metadata_path, metadata).expect("metadata is written");

    for (seed, variant) in [Variant::Shuffled, Variant::Distorted].into_iter().enumerate() {
        let synthetic = without_text(&derive(&real, &schema, variant, seed as u64), &schema);
        let synthetic_path = dir.path().join(format!("{variant:?}.csv"));
        let bytes = table::write(&synthetic, Format::Csv).expect("the synthetic table is written");
        std::fs::write(&synthetic_path, bytes).expect("the synthetic CSV is written");

        let ours = quality(&real, &synthetic, &schema);
        let theirs = sdmetrics(&python, &real_path, &synthetic_path, &metadata_path);
        assert_agree(&ours, &theirs, &format!("{relative} ({variant:?})"));
    }
}

/// The Python that has SDMetrics; the test fails without it, since a parity
/// check that silently passes proves nothing.
fn tools_python() -> String {
    std::env::var("SHOPSYNTH_TOOLS_PYTHON").unwrap_or_else(|_| {
        panic!(
            "SHOPSYNTH_TOOLS_PYTHON is not set: run the parity tests via `make test`, \
             which installs SDMetrics and points this variable at its Python"
        )
    })
}

fn dataset(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets").join(relative)
}

fn read_csv(path: &Path) -> Table {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let options = ReadOptions { header: true, ..ReadOptions::default() };
    let name = path.display().to_string();
    table::read(&bytes, &name, Format::Csv, &options).expect("the dataset reads").table
}

/// The table without its free-text columns, as shopsynth writes output.
fn without_text(table: &Table, schema: &Schema) -> Table {
    let keep = |c: &Column| schema.column(&c.name).is_none_or(|s| s.kind != Kind::Text);
    Table::new(table.columns.iter().filter(|c| keep(c)).cloned().collect())
}

fn derive(real: &Table, schema: &Schema, variant: Variant, seed: u64) -> Table {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    match variant {
        Variant::Shuffled => shuffled(real, &mut rng),
        Variant::Distorted => distorted(real, schema, &mut rng),
    }
}

/// A random subsample of rows, with every other column shuffled on its own.
fn shuffled(real: &Table, rng: &mut ChaCha8Rng) -> Table {
    let mut rows: Vec<usize> = (0..real.rows()).collect();
    rows.shuffle(rng);
    rows.truncate((real.rows() as f64 * SUBSAMPLE) as usize);
    let columns = real
        .columns
        .iter()
        .enumerate()
        .map(|(position, column)| {
            let mut cells: Vec<Option<String>> =
                rows.iter().map(|&row| column.cells[row].clone()).collect();
            if position % 2 == 1 {
                cells.shuffle(rng);
            }
            Column { name: column.name.clone(), cells }
        })
        .collect();
    Table::new(columns)
}

/// Every row kept; numbers and datetimes moved, popular labels swapped.
fn distorted(real: &Table, schema: &Schema, rng: &mut ChaCha8Rng) -> Table {
    let columns = real
        .columns
        .iter()
        .map(|column| match schema.column(&column.name) {
            Some(column_schema) => distort_column(column, column_schema, rng),
            None => column.clone(),
        })
        .collect();
    Table::new(columns)
}

fn distort_column(column: &Column, schema: &ColumnSchema, rng: &mut ChaCha8Rng) -> Column {
    let cells = match &schema.kind {
        Kind::Numeric { min, max, .. } => move_numbers(column, schema, 0.05 * (max - min), rng),
        Kind::Datetime { .. } => move_instants(column, schema, rng),
        Kind::Categorical | Kind::Boolean => swap_top_labels(column, schema, rng),
        Kind::Id { .. } | Kind::Text => column.cells.clone(),
    };
    Column { name: column.name.clone(), cells }
}

/// Scales some numbers up and shifts them by `shift`; blanks a few.
fn move_numbers(
    column: &Column,
    schema: &ColumnSchema,
    shift: f64,
    rng: &mut ChaCha8Rng,
) -> Vec<Option<String>> {
    column
        .cells
        .iter()
        .map(|cell| match schema.number(cell.as_deref()) {
            Some(_) if rng.random_bool(BLANK) => Some(String::new()),
            Some(value) if rng.random_bool(DISTORT) => {
                Some(schema.format_number(value * 1.2 + shift))
            }
            _ => cell.clone(),
        })
        .collect()
}

/// Moves some instants up to a month later.
fn move_instants(
    column: &Column,
    schema: &ColumnSchema,
    rng: &mut ChaCha8Rng,
) -> Vec<Option<String>> {
    column
        .cells
        .iter()
        .map(|cell| match schema.number(cell.as_deref()) {
            Some(seconds) if rng.random_bool(DISTORT) => {
                let days = rng.random_range(1..=30) as f64;
                Some(schema.format_number(seconds + days * DAY))
            }
            _ => cell.clone(),
        })
        .collect()
}

/// Swaps the two most frequent labels in some rows.
fn swap_top_labels(
    column: &Column,
    schema: &ColumnSchema,
    rng: &mut ChaCha8Rng,
) -> Vec<Option<String>> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for label in column.cells.iter().filter_map(|c| schema.label(c.as_deref())) {
        *counts.entry(label).or_insert(0) += 1;
    }
    let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let [(first, _), (second, _), ..] = ranked[..] else {
        return column.cells.clone();
    };
    column
        .cells
        .iter()
        .map(|cell| {
            let label = schema.label(cell.as_deref());
            let other = match label {
                Some(l) if l == first => second,
                Some(l) if l == second => first,
                _ => return cell.clone(),
            };
            if rng.random_bool(DISTORT) { Some(other.to_string()) } else { cell.clone() }
        })
        .collect()
}

/// SDMetrics' report on the two files, as the script prints it.
fn sdmetrics(python: &str, real: &Path, synthetic: &Path, metadata: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/sdmetrics_score.py");
    let output = Command::new(python)
        .arg(&script)
        .args([real, synthetic, metadata])
        .output()
        .unwrap_or_else(|e| panic!("{python} could not run {}: {e}", script.display()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "sdmetrics_score.py failed: {stderr}");
    serde_json::from_slice(&output.stdout).expect("the script prints JSON")
}

/// Whether two optional scores agree: both missing, or close enough.
fn agree(ours: Option<f64>, theirs: Option<f64>) -> bool {
    match (ours, theirs) {
        (Some(a), Some(b)) => (a - b).abs() <= TOLERANCE,
        (None, None) => true,
        _ => false,
    }
}

fn assert_agree(ours: &Quality, theirs: &Value, case: &str) {
    let scores = [
        ("overall", ours.overall),
        ("column_shapes", ours.column_shapes),
        ("column_pair_trends", ours.column_pair_trends),
    ];
    let summary: Vec<String> = scores
        .iter()
        .map(|(name, mine)| format!("{name} {mine:?} vs {:?}", theirs[name].as_f64()))
        .collect();
    eprintln!("{case}: ours vs sdmetrics: {}", summary.join(", "));
    let failed = scores.iter().any(|(name, mine)| !agree(*mine, theirs[name].as_f64()));
    assert!(!failed, "{case}: {}\n{}", summary.join(", "), differences(ours, theirs));
}

/// The column and pair scores that differ, to say where a gap comes from.
fn differences(ours: &Quality, theirs: &Value) -> String {
    let mut lines = Vec::new();
    let empty = Vec::new();
    let rows = |key: &str| theirs[key].as_array().unwrap_or(&empty).clone();
    let their_columns: HashMap<String, Option<f64>> = rows("columns")
        .iter()
        .map(|row| (row["column"].as_str().unwrap_or("").to_string(), row["score"].as_f64()))
        .collect();
    for column in &ours.columns {
        let theirs = their_columns.get(&column.column).copied().flatten();
        if !agree(column.score, theirs) {
            lines.push(format!("column {}: {:?} vs {theirs:?}", column.column, column.score));
        }
    }
    let their_pairs: HashMap<(String, String), (Option<f64>, Option<bool>)> = rows("pairs")
        .iter()
        .map(|row| {
            let name = |key: &str| row[key].as_str().unwrap_or("").to_string();
            let values = (row["score"].as_f64(), row["counted"].as_bool());
            ((name("column_1"), name("column_2")), values)
        })
        .collect();
    for pair in &ours.pairs {
        let key = (pair.column_1.clone(), pair.column_2.clone());
        let (score, counted) = their_pairs.get(&key).copied().unwrap_or((None, None));
        let ours_counted = pair.counted.then_some(pair.score).flatten();
        if counted.unwrap_or(false) != pair.counted || !agree(ours_counted, score) {
            lines.push(format!(
                "pair {} / {}: {:?} counted {} vs {score:?} counted {counted:?}",
                pair.column_1, pair.column_2, pair.score, pair.counted
            ));
        }
    }
    lines.join("\n")
}
