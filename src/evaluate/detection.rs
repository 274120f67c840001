//! Can a classifier tell synthetic rows from real ones?
//!
//! A logistic regression (linfa-logistic) is trained to separate an equal
//! number of training and synthetic rows, and its ROC AUC is measured with
//! stratified k-fold cross-validation: 0.5 means indistinguishable, 1.0
//! means every row gives itself away. The same is done for real holdout
//! rows against training rows, the reference a real sample scores.
//!
//! Every column the two tables share is encoded, except free text and
//! subject and row ids, whose synthetic values are fresh by design. Numbers
//! and times are standardised, few-valued labels one-hot encoded, and
//! catalogue keys and many-valued labels replaced by how common the value
//! is, so that a table which over-draws rare items is caught without one
//! feature per item. Encodings are fitted on the training side only, but
//! for the counts, which are taken over the drawn rows of both sides (see
//! `Encoding::LogCount` for why).

use std::collections::HashMap;

use linfa::DatasetBase;
use linfa::traits::Fit;
use linfa_logistic::{FittedLogisticRegression, LogisticRegression};
use ndarray::{Array1, Array2, ArrayViewMut2, Axis, s};
use rand::SeedableRng;
use rand::seq::{SliceRandom, index};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{LeftOut, thousands};
use crate::schema::{ColumnSchema, IdRole, Kind, Schema};
use crate::table::Table;

/// Rows drawn from each side at most: enough for a stable AUC, few enough
/// that the whole section takes well under a second.
const MAX_ROWS_PER_SIDE: usize = 5_000;
/// With fewer rows per side a fold's AUC is mostly noise.
const MIN_ROWS_PER_SIDE: usize = 30;
const FOLDS: usize = 3;
/// Labels one-hot encoded at most; a column with more is encoded by how
/// common each value is, as catalogue keys are.
const ONE_HOT_LIMIT: usize = 30;
/// L2 weight on the summed log-loss, the same as scikit-learn's default
/// `C = 1`: it keeps the weights finite when one feature separates the
/// sides perfectly, and is negligible next to thousands of rows otherwise.
const ALPHA: f64 = 1.0;
/// Solver iterations; features are standardised, so L-BFGS settles long
/// before this on every table we have measured.
const MAX_ITERATIONS: u64 = 100;
/// Standardised values are clipped to this many standard deviations: a
/// value that far out gives its row away anyway, and the solver stays well
/// inside floating-point range.
const CLIP: f64 = 100.0;
/// Mixed into the job seed so each comparison draws its own rows.
const SYNTHETIC_STREAM: u64 = 0x6a09_e667_f3bc_c908;
const HOLDOUT_STREAM: u64 = 0xbb67_ae85_84ca_a73b;

/// Real-versus-synthetic detection, with the holdout reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// The classifier and protocol, in words.
    pub classifier: String,
    pub folds: usize,
    /// The features the classifier reads, after encoding.
    pub features: Vec<String>,
    pub synthetic: DetectionScore,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holdout: Option<DetectionScore>,
}

/// Cross-validated ROC AUC of one real-versus-other separation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectionScore {
    /// Rows drawn from each side.
    pub rows_per_side: usize,
    /// Mean AUC over the folds.
    pub auc: f64,
    pub fold_aucs: Vec<f64>,
    /// Columns of [`Detection::features`] this separation does not read,
    /// each with the reason: for a holdout wholly later than training, the
    /// time column and what rises with it (see `holdout::later_columns`),
    /// which tell the holdout apart by construction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<LeftOut>,
}

/// Measures how detectable `synthetic` (and `holdout`) rows are against
/// `training`; `Err` says why it could not be measured. A holdout that
/// cannot be scored (too few rows) leaves `holdout` empty and is logged,
/// since the synthetic score stands without it.
#[tracing::instrument(skip_all, fields(
    training = training.rows(),
    synthetic = synthetic.rows(),
    holdout = holdout.map(Table::rows),
))]
pub fn score(
    training: &Table,
    synthetic: &Table,
    holdout: Option<&Table>,
    schema: &Schema,
    seed: u64,
) -> Result<Detection, String> {
    let others: Vec<&Table> = std::iter::once(synthetic).chain(holdout).collect();
    let features = fit_features(schema, training, &others);
    if features.is_empty() {
        return Err("no column to classify on: the tables share no column other than free \
                    text, subject ids and row ids"
            .to_string());
    }
    let synthetic_side = Side { table: synthetic, name: "synthetic", stream: SYNTHETIC_STREAM };
    let synthetic_score = separate(&features, training, &synthetic_side, Vec::new(), seed)?;
    let holdout_score = holdout.and_then(|table| {
        let side = Side { table, name: "holdout", stream: HOLDOUT_STREAM };
        let left_out = super::holdout::later_columns(training, table, schema);
        separate(&features, training, &side, left_out, seed)
            .map_err(|reason| tracing::warn!(%reason, "holdout detection reference skipped"))
            .ok()
    });
    Ok(Detection {
        classifier: describe(&synthetic_score, holdout_score.as_ref()),
        folds: FOLDS,
        features: features.iter().flat_map(Feature::names).collect(),
        synthetic: synthetic_score,
        holdout: holdout_score,
    })
}

/// The protocol in words, with the rows actually drawn.
fn describe(synthetic: &DetectionScore, holdout: Option<&DetectionScore>) -> String {
    let mut text = format!(
        "logistic regression (linfa-logistic, L2 alpha {ALPHA}), {FOLDS}-fold stratified \
         cross-validation, {} rows per side",
        thousands(synthetic.rows_per_side)
    );
    if let Some(holdout) = holdout.filter(|h| h.rows_per_side != synthetic.rows_per_side) {
        text.push_str(&format!(" ({} for the holdout)", thousands(holdout.rows_per_side)));
    }
    text
}

/// The table set against the training rows, and where its draws come from.
struct Side<'a> {
    table: &'a Table,
    /// How errors name this side.
    name: &'a str,
    stream: u64,
}

/// One schema column and how it becomes features.
struct Feature<'a> {
    column: &'a ColumnSchema,
    encoding: Encoding,
    /// Whether a missing-indicator feature follows: some table has missing
    /// values in this column. Decided over every table, so that both
    /// separations read the same features.
    missing: bool,
}

/// How a column's values become numbers.
enum Encoding {
    /// Standardised by the training mean and standard deviation.
    Number { mean: f64, scale: f64 },
    /// One slot per training label (sorted, so features are in a stable
    /// order), then one for labels training never shows.
    OneHot { labels: Vec<String>, slots: HashMap<String, usize> },
    /// `ln(1 + count)`, the count taken over the rows drawn for one
    /// separation, both sides together, and standardised by the training
    /// rows. Counting over both sides keeps a real sample of the same
    /// distribution indistinguishable: counts taken over the training rows
    /// alone would give every training row a count of at least one (its
    /// own) and a fresh real row with an unseen value zero, so the holdout
    /// would be "detected" by its new items rather than by any difference
    /// in how common its items are.
    LogCount,
}

impl Feature<'_> {
    fn names(&self) -> Vec<String> {
        let name = &self.column.name;
        let mut names = match &self.encoding {
            Encoding::Number { .. } => vec![name.clone()],
            Encoding::OneHot { labels, .. } => labels
                .iter()
                .map(|label| format!("{name}={label}"))
                .chain([format!("{name}:other")])
                .collect(),
            Encoding::LogCount => vec![format!("{name}:log_count")],
        };
        if self.missing {
            names.push(format!("{name}:missing"));
        }
        names
    }

    fn width(&self) -> usize {
        let values = match &self.encoding {
            Encoding::Number { .. } | Encoding::LogCount => 1,
            Encoding::OneHot { labels, .. } => labels.len() + 1,
        };
        values + usize::from(self.missing)
    }

    /// Writes the features of `cells` into `out`, one row per cell; the
    /// first `training` cells are the training side's.
    fn encode(&self, cells: &[Option<&str>], training: usize, mut out: ArrayViewMut2<f64>) {
        match &self.encoding {
            Encoding::Number { mean, scale } => {
                for (row, cell) in cells.iter().enumerate() {
                    match self.column.number(*cell) {
                        Some(value) => out[[row, 0]] = standardise(value, *mean, *scale),
                        None => self.mark_missing(&mut out, row),
                    }
                }
            }
            Encoding::OneHot { labels, slots } => {
                for (row, cell) in cells.iter().enumerate() {
                    match self.column.label(*cell) {
                        Some(label) => out[[row, *slots.get(label).unwrap_or(&labels.len())]] = 1.0,
                        None => self.mark_missing(&mut out, row),
                    }
                }
            }
            Encoding::LogCount => self.encode_log_count(cells, training, out),
        }
    }

    /// Sets the missing indicator, the last feature; a column without one
    /// has no missing cell in any table, so there is nothing to mark.
    fn mark_missing(&self, out: &mut ArrayViewMut2<f64>, row: usize) {
        if self.missing {
            out[[row, self.width() - 1]] = 1.0;
        }
    }

    fn encode_log_count(
        &self,
        cells: &[Option<&str>],
        training: usize,
        mut out: ArrayViewMut2<f64>,
    ) {
        let labels: Vec<Option<&str>> = cells.iter().map(|cell| self.column.label(*cell)).collect();
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for label in labels.iter().flatten() {
            *counts.entry(label).or_insert(0) += 1;
        }
        let log_count = |label: &str| (1.0 + counts[label] as f64).ln();
        let (mean, scale) =
            mean_and_scale(labels[..training].iter().flatten().map(|l| log_count(l)));
        for (row, label) in labels.iter().enumerate() {
            match label {
                Some(label) => out[[row, 0]] = standardise(log_count(label), mean, scale),
                None => self.mark_missing(&mut out, row),
            }
        }
    }
}

/// Whether a column is read at all: free text is not learnt, and subject
/// and row ids are fresh in the synthetic table by design.
fn is_classified(column: &ColumnSchema) -> bool {
    !matches!(column.kind, Kind::Text | Kind::Id { role: IdRole::Subject | IdRole::Row })
}

/// Fits an encoding for every classified column that `training` and the
/// first of `others` (the synthetic table) share.
fn fit_features<'a>(schema: &'a Schema, training: &Table, others: &[&Table]) -> Vec<Feature<'a>> {
    let Some(synthetic) = others.first() else { return Vec::new() };
    schema
        .columns
        .iter()
        .filter(|column| is_classified(column))
        .filter(|column| synthetic.column(&column.name).is_some())
        .filter_map(|column| {
            let cells = &training.column(&column.name)?.cells;
            let missing = std::iter::once(training)
                .chain(others.iter().copied())
                .filter_map(|table| table.column(&column.name))
                .any(|other| other.cells.iter().any(|cell| is_missing(column, cell.as_deref())));
            Some(Feature { column, encoding: fit_encoding(column, cells), missing })
        })
        .collect()
}

/// A cell the column's encoding reads as missing (or unreadable).
fn is_missing(column: &ColumnSchema, cell: Option<&str>) -> bool {
    if column.kind.is_continuous() {
        column.number(cell).is_none()
    } else {
        column.label(cell).is_none()
    }
}

fn fit_encoding(column: &ColumnSchema, cells: &[Option<String>]) -> Encoding {
    if column.kind.is_continuous() {
        let values = cells.iter().filter_map(|cell| column.number(cell.as_deref()));
        let (mean, scale) = mean_and_scale(values);
        return Encoding::Number { mean, scale };
    }
    if column.kind.is_discrete() {
        let mut labels: Vec<String> =
            super::similarity::counts(column, cells).into_keys().map(str::to_string).collect();
        if labels.len() <= ONE_HOT_LIMIT {
            labels.sort();
            let slots = labels.iter().enumerate().map(|(i, l)| (l.clone(), i)).collect();
            return Encoding::OneHot { labels, slots };
        }
    }
    Encoding::LogCount
}

/// Mean and standard deviation of `values` (Welford's update, exact for
/// Unix times too); a scale of 1 where they do not vary (or there are
/// none), so standardising never divides by zero.
fn mean_and_scale(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut n, mut mean, mut spread) = (0.0, 0.0, 0.0);
    for value in values {
        n += 1.0;
        let delta = value - mean;
        mean += delta / n;
        spread += delta * (value - mean);
    }
    let std = if n > 0.0 { (spread / n).sqrt() } else { 0.0 };
    (mean, if std > 0.0 { std } else { 1.0 })
}

fn standardise(value: f64, mean: f64, scale: f64) -> f64 {
    ((value - mean) / scale).clamp(-CLIP, CLIP)
}

/// Draws rows from both sides, encodes them and cross-validates the
/// classifier on them.
fn separate(
    features: &[Feature],
    training: &Table,
    side: &Side,
    left_out: Vec<LeftOut>,
    seed: u64,
) -> Result<DetectionScore, String> {
    let rows = training.rows().min(side.table.rows()).min(MAX_ROWS_PER_SIDE);
    if rows < MIN_ROWS_PER_SIDE {
        let (name, have) = if training.rows() < MIN_ROWS_PER_SIDE {
            ("training", training.rows())
        } else {
            (side.name, side.table.rows())
        };
        return Err(format!(
            "detection needs at least {MIN_ROWS_PER_SIDE} rows on each side; \
             the {name} table has {have}"
        ));
    }
    let read: Vec<&Feature> = features
        .iter()
        .filter(|f| side.table.column(&f.column.name).is_some())
        .filter(|f| !left_out.iter().any(|l| l.column == f.column.name))
        .collect();
    if read.is_empty() {
        return Err(format!("no column to classify the {} rows on", side.name));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ side.stream);
    let training_rows = draw(&mut rng, training.rows(), rows);
    let other_rows = draw(&mut rng, side.table.rows(), rows);
    let records = design(&read, (training, &training_rows), (side.table, &other_rows));
    let fold_aucs = cross_validate(&records, rows)?;
    let auc = fold_aucs.iter().sum::<f64>() / fold_aucs.len() as f64;
    Ok(DetectionScore { rows_per_side: rows, auc, fold_aucs, left_out })
}

/// `wanted` distinct row indices in random order: the order assigns folds.
fn draw(rng: &mut ChaCha8Rng, rows: usize, wanted: usize) -> Vec<usize> {
    let mut picked = index::sample(rng, rows, wanted).into_vec();
    picked.shuffle(rng);
    picked
}

/// The encoded rows: the drawn training rows, then the other side's.
fn design(
    features: &[&Feature],
    (training, training_rows): (&Table, &[usize]),
    (other, other_rows): (&Table, &[usize]),
) -> Array2<f64> {
    let width = features.iter().map(|f| f.width()).sum();
    let mut records = Array2::zeros((training_rows.len() + other_rows.len(), width));
    let mut at = 0;
    for feature in features {
        let name = &feature.column.name;
        let mut cells = cells_at(training, name, training_rows);
        cells.extend(cells_at(other, name, other_rows));
        let end = at + feature.width();
        feature.encode(&cells, training_rows.len(), records.slice_mut(s![.., at..end]));
        at = end;
    }
    records
}

/// The cells of column `name` at `rows`; a column the table lacks reads
/// as missing.
fn cells_at<'a>(table: &'a Table, name: &str, rows: &[usize]) -> Vec<Option<&'a str>> {
    let cells = table.column(name).map_or(&[][..], |c| &c.cells);
    rows.iter().map(|&row| cells.get(row).and_then(|cell| cell.as_deref())).collect()
}

/// AUC of each fold. Rows `0..rows` are training rows and the next `rows`
/// the other side's, each side in random order, so giving the k-th row of
/// each side fold `k % FOLDS` stratifies the folds.
fn cross_validate(records: &Array2<f64>, rows: usize) -> Result<Vec<f64>, String> {
    let is_other: Vec<bool> = (0..2 * rows).map(|row| row >= rows).collect();
    let fold_of = |row: usize| (row % rows) % FOLDS;
    (0..FOLDS)
        .map(|fold| {
            let (test, train): (Vec<usize>, Vec<usize>) =
                (0..2 * rows).partition(|&row| fold_of(row) == fold);
            let model = fit(records, &is_other, &train)
                .map_err(|err| format!("the logistic regression failed on fold {fold}: {err}"))?;
            let probabilities = other_probability(&model, &records.select(Axis(0), &test));
            let truth: Vec<bool> = test.iter().map(|&row| is_other[row]).collect();
            auc(&probabilities.to_vec(), &truth)
                .ok_or_else(|| format!("fold {fold} holds rows of one side only"))
        })
        .collect()
}

fn fit(
    records: &Array2<f64>,
    is_other: &[bool],
    rows: &[usize],
) -> Result<FittedLogisticRegression<f64, bool>, linfa_logistic::error::Error> {
    let targets: Array1<bool> = rows.iter().map(|&row| is_other[row]).collect();
    let dataset = DatasetBase::new(records.select(Axis(0), rows), targets);
    LogisticRegression::default().alpha(ALPHA).max_iterations(MAX_ITERATIONS).fit(&dataset)
}

/// The probability that each row is the other side's. linfa-logistic
/// reports the probability of whichever class it labelled positive (the
/// more frequent, or the first seen on a tie), so it is turned round when
/// that is the training side.
fn other_probability(
    model: &FittedLogisticRegression<f64, bool>,
    rows: &Array2<f64>,
) -> Array1<f64> {
    let probabilities = model.predict_probabilities(rows);
    if model.labels().pos.class { probabilities } else { probabilities.mapv(|p| 1.0 - p) }
}

/// ROC AUC of `scores` for telling `positive` rows from the rest, by the
/// Mann–Whitney rank-sum formula, tied scores sharing their average rank;
/// `None` when one class is empty.
fn auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let positives = positive.iter().filter(|&&p| p).count();
    let negatives = positive.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut below) = (0.0, 0);
    for tied in order.chunk_by(|&a, &b| scores[a] == scores[b]) {
        let average_rank = below as f64 + (tied.len() + 1) as f64 / 2.0;
        rank_sum += average_rank * tied.iter().filter(|&&row| positive[row]).count() as f64;
        below += tied.len();
    }
    let p = positives as f64;
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rand::Rng;
    use rand_distr::{Distribution, Normal};

    use super::*;
    use crate::schema::infer::{ColumnHint, HintKind, infer};
    use crate::table::Column;

    /// How a generated shop draws its rows.
    #[derive(Clone, Copy)]
    struct Shop {
        rows: usize,
        seed: u64,
        /// Added to every price (mean 50, standard deviation 10).
        price_shift: f64,
        /// Shares of red, green and blue.
        colours: [f64; 3],
        /// Items drawn uniformly from the catalogue rather than mostly the
        /// popular ones.
        uniform_items: bool,
        /// Items in the catalogue.
        catalogue: f64,
        /// First Unix time; events fall at random in the day after it.
        start: u64,
    }

    const REAL: Shop = Shop {
        rows: 3000,
        seed: 1,
        price_shift: 0.0,
        colours: [0.8, 0.1, 0.1],
        uniform_items: false,
        catalogue: 200.0,
        start: 1_511_000_000,
    };

    fn column(name: &str, cells: Vec<String>) -> Column {
        Column { name: name.into(), cells: cells.into_iter().map(Some).collect() }
    }

    fn table(shop: Shop) -> Table {
        let mut rng = ChaCha8Rng::seed_from_u64(shop.seed);
        let price = Normal::new(50.0 + shop.price_shift, 10.0).expect("a valid normal");
        let mut columns: [Vec<String>; 7] = Default::default();
        for row in 0..shop.rows {
            let u: f64 = rng.random();
            let item = if shop.uniform_items { u } else { u.powi(6) } * shop.catalogue;
            let pick: f64 = rng.random();
            let colour = match pick {
                p if p < shop.colours[0] => "red",
                p if p < shop.colours[0] + shop.colours[1] => "green",
                _ => "blue",
            };
            columns[0].push(format!("u{}", rng.random_range(0..shop.rows / 5)));
            columns[1].push(format!("i{}", item as usize));
            columns[2].push(colour.to_string());
            columns[3].push(format!("{:.2}", price.sample(&mut rng)));
            columns[4].push(format!("b{}", rng.random_range(0..40)));
            columns[5].push((shop.start + rng.random_range(0..86_400)).to_string());
            columns[6].push(format!("a free text note number {row} about nothing at all"));
        }
        let names = ["user_id", "item_id", "colour", "price", "brand", "timestamp", "note"];
        Table::new(names.iter().zip(columns).map(|(name, cells)| column(name, cells)).collect())
    }

    fn schema(real: &Table) -> Schema {
        let hint = |role| ColumnHint { kind: HintKind::Id, format: None, role: Some(role) };
        let hints = [("user_id", IdRole::Subject), ("item_id", IdRole::Key)]
            .into_iter()
            .filter(|(name, _)| real.column(name).is_some())
            .map(|(name, role)| (name.to_string(), hint(role)))
            .collect::<BTreeMap<_, _>>();
        infer(real, &hints).expect("the test table has a schema")
    }

    fn detect(real: Shop, synthetic: Shop) -> Detection {
        let real = table(real);
        score(&real, &table(synthetic), None, &schema(&real), 7).expect("detection runs")
    }

    #[test]
    fn auc_ranks_perfect_reversed_and_tied_scores() {
        let truth = [false, false, true, true];
        assert_eq!(auc(&[0.1, 0.2, 0.8, 0.9], &truth), Some(1.0));
        assert_eq!(auc(&[0.9, 0.8, 0.2, 0.1], &truth), Some(0.0));
        assert_eq!(auc(&[0.5; 4], &truth), Some(0.5));
    }

    #[test]
    fn auc_gives_tied_pairs_half_credit() {
        // Pairs (positive, negative): 0.5>0.1, 0.5=0.5, 0.9>0.1, 0.9>0.5.
        let auc = auc(&[0.1, 0.5, 0.5, 0.9], &[false, false, true, true]);
        assert_eq!(auc, Some(3.5 / 4.0));
    }

    #[test]
    fn auc_needs_both_classes() {
        assert_eq!(auc(&[0.1, 0.2], &[true, true]), None);
        assert_eq!(auc(&[0.1, 0.2], &[false, false]), None);
    }

    #[test]
    fn samples_of_one_distribution_are_hard_to_tell_apart() {
        let real = table(REAL);
        let synthetic = table(Shop { seed: 2, ..REAL });
        let holdout = table(Shop { seed: 3, rows: 1000, ..REAL });
        let detection =
            score(&real, &synthetic, Some(&holdout), &schema(&real), 7).expect("detection runs");
        assert!(detection.synthetic.auc < 0.65, "{detection:?}");
        let holdout = detection.holdout.expect("a holdout score");
        assert!(holdout.auc < 0.65, "{holdout:?}");
        assert_eq!(holdout.rows_per_side, 1000);
    }

    #[test]
    fn a_shifted_price_is_detected() {
        let detection = detect(REAL, Shop { seed: 2, price_shift: 30.0, ..REAL });
        assert!(detection.synthetic.auc > 0.9, "{detection:?}");
    }

    #[test]
    fn a_shifted_colour_mix_is_detected() {
        let detection = detect(REAL, Shop { seed: 2, colours: [0.1, 0.1, 0.8], ..REAL });
        assert!(detection.synthetic.auc > 0.8, "{detection:?}");
    }

    #[test]
    fn over_drawn_rare_items_are_detected() {
        let detection = detect(REAL, Shop { seed: 2, uniform_items: true, ..REAL });
        assert!(detection.synthetic.auc > 0.7, "{detection:?}");
    }

    #[test]
    fn new_items_in_a_real_sample_do_not_give_it_away() {
        // Nearly every item occurs once: a fresh real sample brings items
        // the training rows never show, which must not separate it.
        let vast = Shop { uniform_items: true, catalogue: 1e9, ..REAL };
        let real = table(vast);
        let holdout = table(Shop { seed: 3, ..vast });
        let detection = score(&real, &real, Some(&holdout), &schema(&real), 7).expect("runs");
        let holdout = detection.holdout.expect("a holdout score");
        assert!(holdout.auc < 0.65, "{holdout:?}");
    }

    #[test]
    fn too_few_rows_is_an_error_naming_the_side() {
        let real = table(REAL);
        let synthetic = table(Shop { seed: 2, rows: 20, ..REAL });
        let err = score(&real, &synthetic, None, &schema(&real), 7).expect_err("too few rows");
        assert!(err.contains("at least 30 rows"), "{err}");
        assert!(err.contains("the synthetic table has 20"), "{err}");
    }

    #[test]
    fn a_tiny_holdout_leaves_only_the_reference_out() {
        let real = table(REAL);
        let holdout = table(Shop { seed: 3, rows: 10, ..REAL });
        let detection = score(&real, &real, Some(&holdout), &schema(&real), 7);
        let detection = detection.expect("the synthetic score stands alone");
        assert_eq!(detection.holdout, None);
    }

    #[test]
    fn tables_with_nothing_to_classify_are_an_error() {
        let mut real = table(REAL);
        real.columns.retain(|c| c.name == "user_id" || c.name == "note");
        let err = score(&real, &real, None, &schema(&real), 7).expect_err("no features");
        assert!(err.contains("no column to classify on"), "{err}");
    }

    #[test]
    fn the_same_seed_gives_the_same_score() {
        let real = table(REAL);
        let synthetic = table(Shop { seed: 2, price_shift: 3.0, ..REAL });
        let schema = schema(&real);
        let run = |seed| score(&real, &synthetic, None, &schema, seed).expect("detection runs");
        assert_eq!(run(7), run(7));
        assert_ne!(run(7).synthetic.fold_aucs, run(8).synthetic.fold_aucs);
    }

    #[test]
    fn features_are_named_after_their_encoding() {
        let real = table(REAL);
        let mut synthetic = table(Shop { seed: 2, ..REAL });
        let price = synthetic.columns.iter_mut().find(|c| c.name == "price").expect("price");
        price.cells[0] = Some("NA".to_string());
        let detection = score(&real, &synthetic, None, &schema(&real), 7).expect("runs");
        let features = detection.features;
        for expected in [
            "item_id:log_count",
            "colour=blue",
            "colour=green",
            "colour=red",
            "colour:other",
            "price",
            "price:missing",
            "brand:log_count",
            "timestamp",
        ] {
            assert!(features.iter().any(|f| f == expected), "{expected} in {features:?}");
        }
        assert_eq!(features.len(), 9, "{features:?}");
        assert!(detection.classifier.contains("3,000 rows per side"), "{}", detection.classifier);
    }

    #[test]
    fn unseen_labels_fill_the_other_slot() {
        let real = table(REAL);
        let schema = schema(&real);
        let colour = schema.column("colour").expect("colour");
        let training = &real.column("colour").expect("colour").cells;
        let feature =
            Feature { column: colour, encoding: fit_encoding(colour, training), missing: true };
        let mut out = Array2::zeros((3, feature.width()));
        feature.encode(&[Some("red"), Some("purple"), None], 3, out.view_mut());
        let expected = [[0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 0.0], [0.0; 5]];
        let mut expected = Array2::from(expected.to_vec());
        expected[[2, 4]] = 1.0;
        assert_eq!(out, expected);
    }

    #[test]
    fn a_holdout_split_by_time_is_scored_without_the_time_column() {
        let real = table(REAL);
        let holdout = table(Shop { seed: 3, rows: 1000, start: REAL.start + 86_400, ..REAL });
        let detection = score(&real, &real, Some(&holdout), &schema(&real), 7).expect("runs");
        let holdout = detection.holdout.expect("a holdout score");
        let left: Vec<&str> = holdout.left_out.iter().map(|l| l.column.as_str()).collect();
        assert_eq!(left, ["timestamp"]);
        assert!(holdout.auc < 0.65, "{holdout:?}");
        assert!(detection.synthetic.left_out.is_empty());
    }
}
