//! Turns the modelled columns into the matrix a network learns, and back.
//!
//! Each column becomes one or two *spans* of the row vector:
//! - a continuous column (numeric or datetime) becomes a `tanh` span holding
//!   the value's place inside its mixture mode, then a `softmax` span
//!   holding the mode, with one more slot when the column has missing
//!   values, so missingness is learnt jointly with everything else;
//! - a discrete column becomes one `softmax` span over its labels, missing
//!   being one more label.
//!
//! Decoding picks the most likely slot of every softmax span, so outputs are
//! always real labels, and keeps numbers inside the real minimum and maximum.

pub mod gmm;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::schema::ColumnSchema;
use crate::table::Column;
use gmm::Mixture;

/// Values inside a mode are scaled by this many standard deviations, as in
/// CTGAN, so nearly all of them land inside tanh's range.
const MODE_SCALE: f64 = 4.0;
const ALPHA_LIMIT: f64 = 0.99;

/// How one slice of the row vector is activated and decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activation {
    Tanh,
    Softmax,
}

/// A contiguous slice of the encoded row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub width: usize,
    pub activation: Activation,
    /// Whether the span holds a discrete column's labels, which the GAN's
    /// conditional vector can ask for (mode spans are not asked for).
    pub conditional: bool,
}

/// The learnt encoding of one modelled column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "encoding", rename_all = "lowercase")]
pub enum ColumnEncoding {
    Continuous { column: ColumnSchema, mixture: Mixture, missing: bool },
    Discrete { column: ColumnSchema, labels: Vec<Option<String>> },
}

impl ColumnEncoding {
    pub fn column(&self) -> &ColumnSchema {
        match self {
            ColumnEncoding::Continuous { column, .. } | ColumnEncoding::Discrete { column, .. } => {
                column
            }
        }
    }

    fn spans(&self, start: usize) -> Vec<Span> {
        match self {
            ColumnEncoding::Continuous { mixture, missing, .. } => vec![
                Span { start, width: 1, activation: Activation::Tanh, conditional: false },
                Span {
                    start: start + 1,
                    width: mixture.modes() + usize::from(*missing),
                    activation: Activation::Softmax,
                    conditional: false,
                },
            ],
            ColumnEncoding::Discrete { labels, .. } => vec![Span {
                start,
                width: labels.len(),
                activation: Activation::Softmax,
                conditional: true,
            }],
        }
    }
}

/// The encoder of all modelled columns, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Encoder {
    pub columns: Vec<ColumnEncoding>,
}

/// A table encoded as a dense row-major matrix.
pub struct Encoded {
    pub rows: usize,
    pub width: usize,
    pub values: Vec<f32>,
}

impl Encoder {
    /// Learns each column's encoding from its real cells.
    pub fn fit(columns: &[(&ColumnSchema, &Column)], seed: u64) -> Encoder {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let columns =
            columns.iter().map(|(schema, column)| fit_column(schema, column, &mut rng)).collect();
        Encoder { columns }
    }

    /// Every span of the encoded row, in order.
    pub fn spans(&self) -> Vec<Span> {
        let mut spans = Vec::new();
        let mut start = 0;
        for column in &self.columns {
            let column_spans = column.spans(start);
            start += column_spans.iter().map(|s| s.width).sum::<usize>();
            spans.extend(column_spans);
        }
        spans
    }

    pub fn width(&self) -> usize {
        self.spans().iter().map(|s| s.width).sum()
    }

    /// Encodes columns given in the same order as at fitting.
    pub fn encode(&self, columns: &[&Column], seed: u64) -> Encoded {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let rows = columns.first().map_or(0, |c| c.cells.len());
        let width = self.width();
        let mut values = vec![0.0f32; rows * width];
        let mut start = 0;
        for (encoding, column) in self.columns.iter().zip(columns) {
            start += encode_column(encoding, column, &mut values, width, start, &mut rng);
        }
        Encoded { rows, width, values }
    }

    /// Decodes activated network outputs (`rows` x `width`) into cells.
    ///
    /// `sigmas`, when given, is the VAE's learnt noise per output, added to
    /// the in-mode values as TVAE does.
    pub fn decode(
        &self,
        values: &[f32],
        rows: usize,
        sigmas: Option<&[f32]>,
        seed: u64,
    ) -> Vec<Vec<Option<String>>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let width = self.width();
        let mut start = 0;
        let mut out = Vec::with_capacity(self.columns.len());
        for encoding in &self.columns {
            let (cells, used) =
                decode_column(encoding, values, rows, width, start, sigmas, &mut rng);
            out.push(cells);
            start += used;
        }
        out
    }
}

fn fit_column(schema: &ColumnSchema, column: &Column, rng: &mut ChaCha8Rng) -> ColumnEncoding {
    if schema.kind.is_continuous() {
        let values: Vec<f64> =
            column.cells.iter().filter_map(|c| schema.number(c.as_deref())).collect();
        let missing = values.len() < column.cells.len();
        let mixture = Mixture::fit(&values, rng);
        return ColumnEncoding::Continuous { column: schema.clone(), mixture, missing };
    }
    // Collected through a BTreeSet, so the labels come out sorted.
    let labels: Vec<Option<String>> = column
        .cells
        .iter()
        .map(|c| schema.label(c.as_deref()).map(str::to_string))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    ColumnEncoding::Discrete { column: schema.clone(), labels }
}

/// Writes one column into the matrix; returns the width it used.
fn encode_column(
    encoding: &ColumnEncoding,
    column: &Column,
    out: &mut [f32],
    width: usize,
    start: usize,
    rng: &mut ChaCha8Rng,
) -> usize {
    match encoding {
        ColumnEncoding::Continuous { column: schema, mixture, missing } => {
            let mut resp = vec![0.0; mixture.modes()];
            for (row, cell) in column.cells.iter().enumerate() {
                let base = row * width + start;
                match schema.number(cell.as_deref()) {
                    Some(x) => {
                        let mode = mixture.draw_mode(x, &mut resp, rng);
                        let alpha = (x - mixture.means[mode]) / (MODE_SCALE * mixture.stds[mode]);
                        out[base] = alpha.clamp(-ALPHA_LIMIT, ALPHA_LIMIT) as f32;
                        out[base + 1 + mode] = 1.0;
                    }
                    None => out[base + 1 + mixture.modes()] = 1.0,
                }
            }
            1 + mixture.modes() + usize::from(*missing)
        }
        ColumnEncoding::Discrete { column: schema, labels } => {
            let index: std::collections::HashMap<Option<&str>, usize> =
                labels.iter().enumerate().map(|(i, l)| (l.as_deref(), i)).collect();
            for (row, cell) in column.cells.iter().enumerate() {
                let label = schema.label(cell.as_deref());
                // Labels were collected from these very cells at fitting;
                // unseen ones (sampling-time tables) fall back to the first.
                let slot = index.get(&label).copied().unwrap_or(0);
                out[row * width + start + slot] = 1.0;
            }
            labels.len()
        }
    }
}

fn decode_column(
    encoding: &ColumnEncoding,
    values: &[f32],
    rows: usize,
    width: usize,
    start: usize,
    sigmas: Option<&[f32]>,
    rng: &mut ChaCha8Rng,
) -> (Vec<Option<String>>, usize) {
    use rand_distr::{Distribution, Normal};
    match encoding {
        ColumnEncoding::Continuous { column, mixture, missing } => {
            let slots = mixture.modes() + usize::from(*missing);
            let (low, high) = range(column);
            let cells = (0..rows)
                .map(|row| {
                    let base = row * width + start;
                    let mode = argmax(&values[base + 1..base + 1 + slots]);
                    if mode == mixture.modes() {
                        return column.missing_text();
                    }
                    if mixture.spikes[mode] {
                        return Some(column.format_number(mixture.means[mode]));
                    }
                    let mut alpha = values[base] as f64;
                    if let Some(sigmas) = sigmas
                        && let Ok(noise) = Normal::new(0.0, sigmas[start] as f64)
                    {
                        alpha = (alpha + noise.sample(rng)).clamp(-1.0, 1.0);
                    }
                    let x = alpha * MODE_SCALE * mixture.stds[mode] + mixture.means[mode];
                    Some(column.format_number(x.clamp(low, high)))
                })
                .collect();
            (cells, 1 + slots)
        }
        ColumnEncoding::Discrete { column, labels } => {
            let cells = (0..rows)
                .map(|row| {
                    let base = row * width + start;
                    let slot = argmax(&values[base..base + labels.len()]);
                    labels[slot].clone().or_else(|| column.missing_text())
                })
                .collect();
            (cells, labels.len())
        }
    }
}

fn range(column: &ColumnSchema) -> (f64, f64) {
    use crate::schema::Kind;
    match column.kind {
        Kind::Numeric { min, max, .. } | Kind::Datetime { min, max, .. } => (min, max),
        _ => (f64::MIN, f64::MAX),
    }
}

fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Kind;

    fn numeric(name: &str) -> ColumnSchema {
        ColumnSchema {
            name: name.into(),
            kind: Kind::Numeric { integer: true, decimals: 0, min: 0.0, max: 1000.0 },
            null_marker: Some("NA".into()),
            missing_rate: 0.0,
            distinct: 0,
        }
    }

    fn column(name: &str, cells: &[&str]) -> Column {
        Column { name: name.into(), cells: cells.iter().map(|c| Some(c.to_string())).collect() }
    }

    #[test]
    fn encoding_then_decoding_returns_the_real_cells() {
        let schema = numeric("quantity");
        let cells = column("quantity", &["0", "0", "5", "NA", "1000", "7"]);
        let label_schema = ColumnSchema {
            kind: Kind::Categorical,
            null_marker: Some(" ?".into()),
            ..numeric("c")
        };
        let labels = column("c", &[" a", " ?", " b", " a", " b", " a"]);
        let encoder = Encoder::fit(&[(&schema, &cells), (&label_schema, &labels)], 3);
        let encoded = encoder.encode(&[&cells, &labels], 3);
        let decoded = encoder.decode(&encoded.values, encoded.rows, None, 3);
        assert_eq!(decoded[0], cells.cells);
        assert_eq!(decoded[1], labels.cells);
    }
}
