//! Per-column profile similarity and identifier checks.
//!
//! A column's profile is its label frequencies (labels and catalogue keys)
//! or a 20-bin histogram over the real range (numbers and datetimes,
//! synthetic values clipped into it); real and synthetic profiles are
//! compared by cosine similarity. Label sets are also compared by Jaccard
//! coefficient. Identifiers get checks of their own: catalogue keys should
//! be real keys and cover the catalogue, subject ids should never be real.
//! Cells are read through the real schema, so its missing markers apply.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::Compared;
use crate::schema::{ColumnSchema, IdRole, Kind};

/// Bins of the histogram that profiles a continuous column.
const HISTOGRAM_BINS: usize = 20;

/// Similarity of every compared column, and their mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Similarity {
    /// Mean cosine similarity over the columns that have one.
    pub overall: Option<f64>,
    pub columns: Vec<ColumnSimilarity>,
}

/// How one synthetic column compares with its real counterpart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnSimilarity {
    pub column: String,
    /// The schema kind (`numeric`, `categorical`, ...).
    pub kind: String,
    /// Cosine similarity of the profiles; absent for subject and row ids,
    /// whose synthetic values are fresh by design.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cosine: Option<f64>,
    /// Jaccard coefficient of the label sets (categorical and boolean).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jaccard: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<KeyCoverage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subjects: Option<SubjectLeakage>,
}

/// How well synthetic catalogue keys match the real catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyCoverage {
    /// Share of real distinct keys that appear in the synthetic column.
    pub coverage: f64,
    /// Share of synthetic present keys that are real keys; `None` when the
    /// synthetic column has none.
    pub valid_share: Option<f64>,
}

/// Whether real subject ids leaked into the synthetic table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubjectLeakage {
    /// Distinct synthetic ids equal to a real id; should be 0.
    pub leaked: usize,
    pub real_subjects: usize,
    pub synthetic_subjects: usize,
}

/// Scores every compared column.
pub(super) fn score(compared: &[Compared]) -> Similarity {
    let columns: Vec<ColumnSimilarity> = compared.iter().map(column_similarity).collect();
    let cosines: Vec<f64> = columns.iter().filter_map(|c| c.cosine).collect();
    let overall = (!cosines.is_empty()).then(|| cosines.iter().sum::<f64>() / cosines.len() as f64);
    Similarity { overall, columns }
}

fn column_similarity(column: &Compared) -> ColumnSimilarity {
    let schema = column.schema;
    let mut result = ColumnSimilarity {
        column: schema.name.clone(),
        kind: schema.kind.name().to_string(),
        cosine: None,
        jaccard: None,
        keys: None,
        subjects: None,
    };
    match &schema.kind {
        Kind::Numeric { .. } | Kind::Datetime { .. } => {
            result.cosine = histogram_cosine(schema, column.real, column.synthetic);
        }
        Kind::Categorical | Kind::Boolean => {
            let (real, synthetic) = label_counts(schema, column);
            result.cosine = frequency_cosine(&real, &synthetic);
            result.jaccard = jaccard(&real, &synthetic);
        }
        Kind::Id { role: IdRole::Key } => {
            let (real, synthetic) = label_counts(schema, column);
            result.cosine = frequency_cosine(&real, &synthetic);
            result.keys = Some(key_coverage(&real, &synthetic));
        }
        Kind::Id { role: IdRole::Subject } => {
            let (real, synthetic) = label_counts(schema, column);
            result.subjects = Some(subject_leakage(&real, &synthetic));
        }
        Kind::Id { role: IdRole::Row } | Kind::Text => {}
    }
    result
}

/// How often each present label occurs, read through the schema.
pub(super) fn counts<'a>(
    schema: &ColumnSchema,
    cells: &'a [Option<String>],
) -> HashMap<&'a str, usize> {
    let mut counts = HashMap::new();
    for label in cells.iter().filter_map(|cell| schema.label(cell.as_deref())) {
        *counts.entry(label).or_insert(0) += 1;
    }
    counts
}

type Counts<'a> = HashMap<&'a str, usize>;

fn label_counts<'a>(schema: &ColumnSchema, column: &Compared<'a>) -> (Counts<'a>, Counts<'a>) {
    (counts(schema, column.real), counts(schema, column.synthetic))
}

/// Cosine similarity of two label-frequency vectors over their union.
fn frequency_cosine(real: &Counts, synthetic: &Counts) -> Option<f64> {
    let dot: f64 = real
        .iter()
        .map(|(label, &n)| n as f64 * synthetic.get(label).copied().unwrap_or(0) as f64)
        .sum();
    cosine_from(dot, norm(real.values()), norm(synthetic.values()))
}

fn norm<'a>(counts: impl Iterator<Item = &'a usize>) -> f64 {
    counts.map(|&n| (n as f64).powi(2)).sum::<f64>().sqrt()
}

/// Cosine from a dot product and norms: 0 when only one side is empty,
/// `None` when both are.
fn cosine_from(dot: f64, norm_real: f64, norm_synthetic: f64) -> Option<f64> {
    match (norm_real > 0.0, norm_synthetic > 0.0) {
        (true, true) => Some(dot / (norm_real * norm_synthetic)),
        (false, false) => None,
        _ => Some(0.0),
    }
}

/// Cosine similarity of 20-bin histograms over the real range.
fn histogram_cosine(
    schema: &ColumnSchema,
    real: &[Option<String>],
    synthetic: &[Option<String>],
) -> Option<f64> {
    let read = |cells: &[Option<String>]| -> Vec<f64> {
        cells.iter().filter_map(|cell| schema.number(cell.as_deref())).collect()
    };
    let (real, synthetic) = (read(real), read(synthetic));
    let low = real.iter().copied().fold(f64::INFINITY, f64::min);
    let high = real.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let real = histogram(&real, low, high);
    let synthetic = histogram(&synthetic, low, high);
    let dot: f64 = real.iter().zip(&synthetic).map(|(a, b)| a * b).sum();
    let length = |h: &[f64]| h.iter().map(|v| v * v).sum::<f64>().sqrt();
    cosine_from(dot, length(&real), length(&synthetic))
}

/// Counts per equal-width bin of `[low, high]`, values outside clipped in.
fn histogram(values: &[f64], low: f64, high: f64) -> Vec<f64> {
    let mut bins = vec![0.0; HISTOGRAM_BINS];
    let width = (high - low) / HISTOGRAM_BINS as f64;
    for value in values {
        let index = if width > 0.0 { ((value - low) / width).floor() } else { 0.0 };
        bins[index.clamp(0.0, (HISTOGRAM_BINS - 1) as f64) as usize] += 1.0;
    }
    bins
}

/// Shared labels over all labels seen; `None` when neither side has any.
fn jaccard(real: &Counts, synthetic: &Counts) -> Option<f64> {
    let shared = real.keys().filter(|label| synthetic.contains_key(*label)).count();
    let union = real.len() + synthetic.len() - shared;
    (union > 0).then(|| shared as f64 / union as f64)
}

fn key_coverage(real: &Counts, synthetic: &Counts) -> KeyCoverage {
    let covered = real.keys().filter(|key| synthetic.contains_key(*key)).count();
    let synthetic_total: usize = synthetic.values().sum();
    let valid: usize =
        synthetic.iter().filter(|(key, _)| real.contains_key(*key)).map(|(_, &n)| n).sum();
    KeyCoverage {
        coverage: if real.is_empty() { 0.0 } else { covered as f64 / real.len() as f64 },
        valid_share: (synthetic_total > 0).then(|| valid as f64 / synthetic_total as f64),
    }
}

fn subject_leakage(real: &Counts, synthetic: &Counts) -> SubjectLeakage {
    let real_ids: HashSet<&str> = real.keys().copied().collect();
    SubjectLeakage {
        leaked: synthetic.keys().filter(|id| real_ids.contains(*id)).count(),
        real_subjects: real.len(),
        synthetic_subjects: synthetic.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counted<'a>(labels: &[&'a str]) -> Counts<'a> {
        let mut counts = Counts::new();
        for label in labels {
            *counts.entry(*label).or_insert(0) += 1;
        }
        counts
    }

    #[test]
    fn cosine_of_label_frequencies_by_hand() {
        // Real (a:2, b:1), synthetic (a:1, c:1): dot 2, norms sqrt5 and sqrt2.
        let cosine = frequency_cosine(&counted(&["a", "a", "b"]), &counted(&["a", "c"]));
        assert!((cosine.expect("both present") - 2.0 / (5f64.sqrt() * 2f64.sqrt())).abs() < 1e-12);
    }

    #[test]
    fn jaccard_is_shared_labels_over_all_labels() {
        let value = jaccard(&counted(&["a", "b", "c"]), &counted(&["b", "c", "d"]));
        assert_eq!(value, Some(0.5));
    }

    #[test]
    fn histograms_clip_synthetic_values_into_the_real_range() {
        let bins = histogram(&[-5.0, 0.0, 10.0, 50.0], 0.0, 10.0);
        assert_eq!(bins[0], 2.0);
        assert_eq!(bins[HISTOGRAM_BINS - 1], 2.0);
    }

    #[test]
    fn key_coverage_counts_real_keys_seen_and_synthetic_keys_valid() {
        let coverage = key_coverage(&counted(&["a", "b", "c", "d"]), &counted(&["a", "a", "x"]));
        assert_eq!(coverage.coverage, 0.25);
        assert_eq!(coverage.valid_share, Some(2.0 / 3.0));
    }

    #[test]
    fn a_synthetic_subject_equal_to_a_real_one_is_a_leak() {
        let leakage = subject_leakage(&counted(&["u1", "u2", "u2"]), &counted(&["s1", "u2"]));
        assert_eq!(leakage.leaked, 1);
        assert_eq!((leakage.real_subjects, leakage.synthetic_subjects), (2, 2));
    }
}
