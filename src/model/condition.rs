//! The GAN's conditional vector and "training by sampling" (CTGAN, §4.3).
//!
//! Each training row is conditioned on one discrete column taking one value:
//! the column is drawn uniformly and the value by its log-frequency, so rare
//! labels are seen far more often than their share, then a real row holding
//! that value is drawn to pair with the generated one. At sampling time the
//! value is drawn by its real frequency instead, so outputs keep real rates.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::encode::{Encoded, Span};

/// One discrete column's place in the data row and in the condition vector.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Conditional {
    /// Where the column's labels sit in the encoded data row.
    data_start: usize,
    /// Where they sit in the condition vector.
    cond_start: usize,
    /// Cumulative real frequencies of the labels.
    real_cdf: Vec<f64>,
    /// Cumulative log-frequency weights, used while training.
    log_cdf: Vec<f64>,
}

/// Draws condition vectors; saved with the model for later sampling.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConditionSampler {
    columns: Vec<Conditional>,
    width: usize,
}

/// One batch of conditions.
pub struct Conditions {
    /// `batch x width` one-hot condition vectors.
    pub vectors: Vec<f32>,
    /// For each row, the (column, label) it is conditioned on.
    pub chosen: Vec<(usize, usize)>,
}

impl ConditionSampler {
    /// Counts label frequencies of the conditional spans of `data`.
    pub fn fit(spans: &[Span], data: &Encoded) -> ConditionSampler {
        let mut columns = Vec::new();
        let mut cond_start = 0;
        for span in spans.iter().filter(|s| s.conditional) {
            let mut counts = vec![0.0f64; span.width];
            for row in 0..data.rows {
                let cells = &data.values[row * data.width + span.start..][..span.width];
                if let Some(slot) = cells.iter().position(|v| *v > 0.5) {
                    counts[slot] += 1.0;
                }
            }
            let log: Vec<f64> = counts.iter().map(|c| (c + 1.0).ln()).collect();
            columns.push(Conditional {
                data_start: span.start,
                cond_start,
                real_cdf: cumulative(&counts),
                log_cdf: cumulative(&log),
            });
            cond_start += span.width;
        }
        ConditionSampler { columns, width: cond_start }
    }

    /// Width of one condition vector; zero when no column is discrete.
    pub fn width(&self) -> usize {
        self.width
    }

    pub fn columns(&self) -> usize {
        self.columns.len()
    }

    /// Start of column `column`'s labels in the data row and condition vector.
    pub fn offsets(&self, column: usize) -> (usize, usize) {
        (self.columns[column].data_start, self.columns[column].cond_start)
    }

    pub fn labels(&self, column: usize) -> usize {
        self.columns[column].real_cdf.len()
    }

    /// Draws `batch` conditions; `training` selects log-frequency weights.
    pub fn draw(&self, batch: usize, training: bool, rng: &mut ChaCha8Rng) -> Conditions {
        let mut vectors = vec![0.0f32; batch * self.width];
        let mut chosen = Vec::with_capacity(batch);
        for row in 0..batch {
            let column_index = rng.random_range(0..self.columns.len());
            let column = &self.columns[column_index];
            let cdf = if training { &column.log_cdf } else { &column.real_cdf };
            let label = draw_index(cdf, rng);
            vectors[row * self.width + column.cond_start + label] = 1.0;
            chosen.push((column_index, label));
        }
        Conditions { vectors, chosen }
    }
}

/// Real rows grouped by the label each discrete column holds, so a row with
/// a given label is found in constant time.
pub struct RowIndex {
    rows: Vec<Vec<Vec<i64>>>,
}

impl RowIndex {
    pub fn build(sampler: &ConditionSampler, data: &Encoded) -> RowIndex {
        let rows = (0..sampler.columns())
            .map(|column| {
                let (start, _) = sampler.offsets(column);
                let mut by_label = vec![Vec::new(); sampler.labels(column)];
                for row in 0..data.rows {
                    let cells = &data.values[row * data.width + start..][..by_label.len()];
                    if let Some(slot) = cells.iter().position(|v| *v > 0.5) {
                        by_label[slot].push(row as i64);
                    }
                }
                by_label
            })
            .collect();
        RowIndex { rows }
    }

    /// A random real row holding `label` in `column`.
    pub fn draw(&self, column: usize, label: usize, rng: &mut ChaCha8Rng) -> i64 {
        let candidates = &self.rows[column][label];
        // Training draws labels with log(count + 1) > 0 weight only when the
        // count is positive, so the list is never empty.
        candidates[rng.random_range(0..candidates.len())]
    }
}

fn cumulative(weights: &[f64]) -> Vec<f64> {
    let total: f64 = weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let mut running = 0.0;
    weights
        .iter()
        .map(|w| {
            running += w / total;
            running
        })
        .collect()
}

fn draw_index(cdf: &[f64], rng: &mut ChaCha8Rng) -> usize {
    let target: f64 = rng.random();
    cdf.partition_point(|&c| c < target).min(cdf.len() - 1)
}
