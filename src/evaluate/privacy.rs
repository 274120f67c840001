//! Does the synthetic table leak the rows or people it was learnt from?
//!
//! Distance to closest record (DCR): for each synthetic row, and for each
//! real holdout row as the reference, the distance to the nearest training
//! row. Numbers and datetimes count `|a - b| / range` (range of the training
//! column), labels and catalogue keys count 0 or 1; the distance is the mean
//! over the columns read, so it lies in [0, 1]. Exact copies are counted
//! over the same columns. For behaviour logs, real subject ids must not
//! appear and no real subject's event sequence may be reproduced.
//!
//! Subject ids, row ids and free text are not read: pseudonyms and fresh
//! keys never match by design, so they would only add noise. Cells are
//! encoded once (numbers as parsed values, labels as per-column codes) so
//! that the nearest-row search is arithmetic only. The search is exact yet
//! quick on tens of thousands of rows: training rows are grouped by the
//! label column with the most distinct values, the query's own group is
//! searched first, and the other rows, each at least one whole column away,
//! are scanned only when the best distance so far leaves room for them,
//! every row abandoned as soon as its partial sum reaches that best.

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;
use std::ops::Range;
use std::thread;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{roles, thousands};
use crate::schema::{ColumnSchema, IdRole, Kind, Schema};
use crate::table::Table;

/// Most synthetic rows, and most holdout rows, whose nearest training row is
/// searched: enough for steady quantiles, few enough to search exactly.
const SAMPLE_ROWS: usize = 2000;
/// Sequences shorter than this are too common to identify anyone.
const MIN_SEQUENCE: usize = 3;
/// Mixed into the job seed so the synthetic sample never reuses other draws.
const SYNTHETIC_STREAM: u64 = 0x9e37_79b9_7f4a_7c15;
/// Mixed into the job seed so the holdout sample is drawn apart from the
/// synthetic one.
const HOLDOUT_STREAM: u64 = 0xc2b2_ae3d_27d4_eb4f;
/// The code of a missing label: missing matches missing only.
const MISSING: u32 = u32::MAX;

/// Everything the report says about privacy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Privacy {
    /// How nearest rows were found, in words (index or sample, and sizes).
    pub method: String,
    /// The columns the distance and the exact-copy check read.
    pub columns: Vec<String>,
    /// DCR of (a sample of) the synthetic rows.
    pub synthetic: DistanceSummary,
    /// DCR of (a sample of) the real holdout rows: the reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holdout: Option<DistanceSummary>,
    /// Share of synthetic rows closer to training than the holdout's median
    /// DCR; rows as new as the holdout's score 0.5, copies push it to 1.
    /// Absent without a holdout, or when either side measured no row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closer_than_holdout_median: Option<f64>,
    /// Rows that repeat a training row outright.
    pub exact_copies: ExactCopies,
    /// Present when the schema has a subject id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subjects: Option<SubjectPrivacy>,
    /// What a reader must know to read the figures, such as why a time
    /// split's holdout sits farther from training than unseen rows would.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Distances to the closest training row, summarised; every figure is 0
/// when no row was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistanceSummary {
    /// Rows whose distance was measured.
    pub rows: usize,
    /// Median distance, linearly interpolated.
    pub median: f64,
    /// 5th percentile, linearly interpolated: how close the closest rows
    /// come.
    pub p05: f64,
    pub mean: f64,
    /// Share of measured rows at distance 0.
    pub zero_share: f64,
}

/// Rows equal to a training row on every column read, counted over all
/// rows, not a sample; duplicates count once each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExactCopies {
    /// Synthetic rows equal to some training row.
    pub synthetic: usize,
    /// Synthetic rows checked: all of them, or 0 when no column is read.
    pub synthetic_rows: usize,
    /// Holdout rows equal to some training row: the real reference, as
    /// real data repeats itself too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holdout: Option<usize>,
    /// Holdout rows checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holdout_rows: Option<usize>,
}

/// Whether real people can be found in a synthetic behaviour log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubjectPrivacy {
    /// The subject id column.
    pub column: String,
    /// Distinct synthetic subject ids that are real ids (training or
    /// holdout); should be 0.
    pub real_ids: usize,
    /// The columns whose values, in time order, make a subject's sequence.
    pub sequence_columns: Vec<String>,
    /// Sequences shorter than this are too common to identify anyone and
    /// are not checked.
    pub min_length: usize,
    /// Synthetic subjects with a sequence at least `min_length` long.
    pub checked: usize,
    /// Of those, how many repeat a real subject's whole sequence.
    pub copied: usize,
}

/// Scores privacy of `synthetic` against `training`, with `holdout` rows as
/// the real reference.
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
) -> Privacy {
    let read = read_columns(training, synthetic, schema);
    let tables: Vec<&Table> = [training, synthetic].into_iter().chain(holdout).collect();
    let space = Space::encode(&read, &tables);

    let searchable = !read.is_empty() && training.rows() > 0;
    let draw = |rows: usize, stream: u64| {
        if searchable { sample(rows, seed ^ stream) } else { Vec::new() }
    };
    let synthetic_sample = draw(synthetic.rows(), SYNTHETIC_STREAM);
    let holdout_sample = holdout.map(|table| draw(table.rows(), HOLDOUT_STREAM));
    let (synthetic_dcr, holdout_dcr) =
        nearest_distances(&space, &synthetic_sample, holdout_sample.as_deref());

    let synthetic_summary = summarise(&synthetic_dcr);
    let holdout_summary = holdout_dcr.as_deref().map(summarise);
    let closer =
        holdout_summary.as_ref().and_then(|reference| closer_share(&synthetic_dcr, reference));

    Privacy {
        method: method(&space, &tables, &synthetic_sample, holdout_sample.as_deref()),
        columns: read.iter().map(|column| column.name.clone()).collect(),
        synthetic: synthetic_summary,
        holdout: holdout_summary,
        closer_than_holdout_median: closer,
        exact_copies: exact_copies(&space, !read.is_empty()),
        subjects: subjects(&tables, schema, &space),
        notes: Vec::new(),
    }
}

/// The schema columns both tables have, except those that never match by
/// design: free text, subject pseudonyms and fresh row keys.
fn read_columns<'a>(
    training: &Table,
    synthetic: &Table,
    schema: &'a Schema,
) -> Vec<&'a ColumnSchema> {
    schema
        .columns
        .iter()
        .filter(|column| {
            !matches!(column.kind, Kind::Text | Kind::Id { role: IdRole::Subject | IdRole::Row })
        })
        .filter(|column| {
            training.column(&column.name).is_some() && synthetic.column(&column.name).is_some()
        })
        .collect()
}

/// A column's cells as text; all missing where the table lacks the column.
fn texts<'a>(table: &'a Table, name: &str) -> Vec<Option<&'a str>> {
    match table.column(name) {
        Some(column) => column.cells.iter().map(Option::as_deref).collect(),
        None => vec![None; table.rows()],
    }
}

/// The cells of the columns read, in every table, encoded for arithmetic.
struct Space {
    /// Label columns in scan order: most distinct training labels first,
    /// so that rows are told apart, and abandoned, as early as possible.
    labels: Vec<LabelColumn>,
    /// The training range of each numeric column; 0 when the training
    /// values are all equal (or all missing), so any difference counts 1.
    ranges: Vec<f64>,
    /// Training, synthetic and, when there is one, holdout rows.
    tables: Vec<Encoded>,
}

/// A column read as labels.
struct LabelColumn {
    name: String,
    kind: Kind,
    /// Its place among the columns read, to report columns in schema order.
    position: usize,
    /// Distinct training labels; training codes are below this.
    distinct: usize,
}

impl Space {
    /// Encodes the columns `read` in each of `tables`, training first.
    fn encode(read: &[&ColumnSchema], tables: &[&Table]) -> Space {
        let mut labels = Vec::new();
        let mut numbers = Vec::new();
        for (position, column) in read.iter().enumerate() {
            if column.kind.is_continuous() {
                numbers.push(number_column(column, tables));
            } else {
                labels.push(label_column(column, position, tables));
            }
        }

        labels.sort_by_key(|(column, _)| Reverse(column.distinct));
        let encoded = (0..tables.len())
            .map(|t| {
                let label_cells: Vec<&[u32]> =
                    labels.iter().map(|(_, c)| c[t].as_slice()).collect();
                let number_cells: Vec<&[f64]> =
                    numbers.iter().map(|(_, c)| c[t].as_slice()).collect();
                Encoded::from_columns(tables[t].rows(), &label_cells, &number_cells)
            })
            .collect();

        Space {
            ranges: numbers.iter().map(|(range, _)| *range).collect(),
            labels: labels.into_iter().map(|(column, _)| column).collect(),
            tables: encoded,
        }
    }

    /// Number of columns read: what a row distance is the mean over.
    fn width(&self) -> usize {
        self.labels.len() + self.ranges.len()
    }
}

/// A numeric or datetime column's parsed values in each table, and its
/// training range.
fn number_column(column: &ColumnSchema, tables: &[&Table]) -> (f64, Vec<Vec<f64>>) {
    let values: Vec<Vec<f64>> = tables
        .iter()
        .map(|table| {
            texts(table, &column.name).into_iter().map(|c| canonical(column.number(c))).collect()
        })
        .collect();
    (range(&values[0]), values)
}

/// A parsed number as stored: missing (or non-finite) as one NaN and -0 as
/// 0, so that equal bits mean equal values or both missing.
fn canonical(value: Option<f64>) -> f64 {
    match value {
        // The pattern matches -0 too, which equals 0.
        Some(0.0) => 0.0,
        Some(value) if value.is_finite() => value,
        _ => f64::NAN,
    }
}

/// Largest minus smallest present value; 0 when there are none.
fn range(values: &[f64]) -> f64 {
    let present = values.iter().copied().filter(|value| !value.is_nan());
    let (low, high) = present.fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), value| {
        (low.min(value), high.max(value))
    });
    if high > low { high - low } else { 0.0 }
}

/// A label column's codes in each table: one code space per column, so
/// equal labels get equal codes across tables, training labels coded first.
fn label_column(
    column: &ColumnSchema,
    position: usize,
    tables: &[&Table],
) -> (LabelColumn, Vec<Vec<u32>>) {
    let mut codes: HashMap<&str, u32> = HashMap::new();
    let mut distinct = 0;
    let mut encoded = Vec::with_capacity(tables.len());
    for (t, table) in tables.iter().enumerate() {
        let cells = texts(table, &column.name);
        encoded.push(cells.into_iter().map(|cell| code(&mut codes, column.label(cell))).collect());
        if t == 0 {
            distinct = codes.len();
        }
    }
    let name = column.name.clone();
    (LabelColumn { name, kind: column.kind.clone(), position, distinct }, encoded)
}

/// The code of `label`, a new one when it is first seen.
fn code<'a>(codes: &mut HashMap<&'a str, u32>, label: Option<&'a str>) -> u32 {
    let Some(label) = label else { return MISSING };
    let next = u32::try_from(codes.len()).expect("fewer than 2^32 distinct labels per column");
    *codes.entry(label).or_insert(next)
}

/// One table's rows in the columns read, row-major.
#[derive(Clone)]
struct Encoded {
    rows: usize,
    label_width: usize,
    number_width: usize,
    labels: Vec<u32>,
    numbers: Vec<f64>,
}

/// One encoded row.
#[derive(Clone, Copy)]
struct Row<'a> {
    labels: &'a [u32],
    numbers: &'a [f64],
}

impl Encoded {
    /// Interleaves column-major cells into rows.
    fn from_columns(rows: usize, labels: &[&[u32]], numbers: &[&[f64]]) -> Encoded {
        let mut encoded = Encoded {
            rows,
            label_width: labels.len(),
            number_width: numbers.len(),
            labels: Vec::with_capacity(rows * labels.len()),
            numbers: Vec::with_capacity(rows * numbers.len()),
        };
        for row in 0..rows {
            encoded.labels.extend(labels.iter().map(|column| column[row]));
            encoded.numbers.extend(numbers.iter().map(|column| column[row]));
        }
        encoded
    }

    /// Row `row`'s labels and numbers.
    fn row(&self, row: usize) -> Row<'_> {
        let labels = row * self.label_width..(row + 1) * self.label_width;
        let numbers = row * self.number_width..(row + 1) * self.number_width;
        Row { labels: &self.labels[labels], numbers: &self.numbers[numbers] }
    }

    /// The same rows in the given order.
    fn reordered(&self, order: &[usize]) -> Encoded {
        let mut reordered = Encoded {
            labels: Vec::with_capacity(self.labels.len()),
            numbers: Vec::with_capacity(self.numbers.len()),
            ..*self
        };
        for &row in order {
            let Row { labels, numbers } = self.row(row);
            reordered.labels.extend_from_slice(labels);
            reordered.numbers.extend_from_slice(numbers);
        }
        reordered
    }
}

/// Sum of the column components between two rows, given up as soon as it
/// reaches `bound` (the value returned is then at least `bound`).
fn distance_sum(a: Row, b: Row, ranges: &[f64], bound: f64) -> f64 {
    let mut sum = 0.0;
    for (x, y) in a.labels.iter().zip(b.labels) {
        if x != y {
            sum += 1.0;
            if sum >= bound {
                return sum;
            }
        }
    }
    for ((x, y), range) in a.numbers.iter().zip(b.numbers).zip(ranges) {
        // Equal bits: equal values or both missing. Otherwise one missing
        // side gives NaN and a zero range infinity; `min` makes both 1.
        if x.to_bits() != y.to_bits() {
            sum += ((x - y).abs() / range).min(1.0);
            if sum >= bound {
                return sum;
            }
        }
    }
    sum
}

/// Training rows ordered by their first label column, so that the rows
/// sharing a query's label there are one contiguous slice.
struct Index {
    rows: Encoded,
    /// `starts[g]..starts[g + 1]` are the rows of group `g`: one group per
    /// training code, then one for missing labels.
    starts: Vec<usize>,
}

impl Index {
    /// Groups `training` rows by their first label (`distinct` training
    /// codes) with a counting sort.
    fn build(training: &Encoded, distinct: usize) -> Index {
        let group_of = |row: usize| match training.row(row).labels.first() {
            Some(&code) if code != MISSING => code as usize,
            _ => distinct,
        };
        let mut starts = vec![0; distinct + 2];
        for row in 0..training.rows {
            starts[group_of(row) + 1] += 1;
        }
        for group in 1..starts.len() {
            starts[group] += starts[group - 1];
        }

        let mut next = starts.clone();
        let mut order = vec![0; training.rows];
        for row in 0..training.rows {
            let group = group_of(row);
            order[next[group]] = row;
            next[group] += 1;
        }
        Index { rows: training.reordered(&order), starts }
    }

    /// The training rows whose first label equals the query's; empty when
    /// there are no label columns or training never has that label.
    fn shared(&self, query: Row) -> Range<usize> {
        let groups = self.starts.len() - 1;
        let group = match query.labels.first() {
            None => return 0..0,
            Some(&MISSING) => groups - 1,
            Some(&code) if (code as usize) < groups - 1 => code as usize,
            Some(_) => return 0..0,
        };
        self.starts[group]..self.starts[group + 1]
    }

    /// The exact smallest distance sum from `query` to any training row.
    fn nearest(&self, query: Row, ranges: &[f64]) -> f64 {
        let shared = self.shared(query);
        let best = self.scan(shared.clone(), query, ranges, f64::INFINITY);
        // Every other row differs on the first label: it is at least 1 away.
        if best <= 1.0 {
            return best;
        }
        let best = self.scan(0..shared.start, query, ranges, best);
        self.scan(shared.end..self.rows.rows, query, ranges, best)
    }

    /// The smaller of `best` and the distance sums from `query` to `rows`.
    fn scan(&self, rows: Range<usize>, query: Row, ranges: &[f64], mut best: f64) -> f64 {
        for row in rows {
            let sum = distance_sum(query, self.rows.row(row), ranges, best);
            if sum < best {
                best = sum;
                if best == 0.0 {
                    break;
                }
            }
        }
        best
    }
}

/// Up to [`SAMPLE_ROWS`] row numbers out of `rows`, drawn without
/// replacement, in row order; every row when there are no more.
fn sample(rows: usize, seed: u64) -> Vec<usize> {
    if rows <= SAMPLE_ROWS {
        return (0..rows).collect();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut picked = rand::seq::index::sample(&mut rng, rows, SAMPLE_ROWS).into_vec();
    picked.sort_unstable();
    picked
}

/// DCR of the sampled synthetic rows and of the sampled holdout rows.
fn nearest_distances(
    space: &Space,
    synthetic: &[usize],
    holdout: Option<&[usize]>,
) -> (Vec<f64>, Option<Vec<f64>>) {
    let mut queries: Vec<Row> = synthetic.iter().map(|&row| space.tables[1].row(row)).collect();
    if let (Some(rows), Some(table)) = (holdout, space.tables.get(2)) {
        queries.extend(rows.iter().map(|&row| table.row(row)));
    }
    if queries.is_empty() {
        return (Vec::new(), holdout.map(|_| Vec::new()));
    }

    let distinct = space.labels.first().map_or(0, |column| column.distinct);
    let index = Index::build(&space.tables[0], distinct);
    let mut distances = nearest_all(&index, &queries, &space.ranges);
    let width = space.width() as f64;
    distances.iter_mut().for_each(|sum| *sum /= width);

    let held = holdout.map(|_| distances.split_off(synthetic.len()));
    (distances, held)
}

/// The nearest distance sum of every query, the queries dealt out in turn
/// to one thread per core.
fn nearest_all(index: &Index, queries: &[Row], ranges: &[f64]) -> Vec<f64> {
    let cores = thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let threads = cores.clamp(1, queries.len().max(1));
    let mut sums = vec![0.0; queries.len()];
    thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|first| {
                scope.spawn(move || {
                    let mine = queries.iter().skip(first).step_by(threads);
                    mine.map(|&query| index.nearest(query, ranges)).collect::<Vec<f64>>()
                })
            })
            .collect();
        for (first, worker) in workers.into_iter().enumerate() {
            let found = worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            for (turn, sum) in found.into_iter().enumerate() {
                sums[first + turn * threads] = sum;
            }
        }
    });
    sums
}

/// Rows, median, 5th percentile, mean and zero share of `distances`.
fn summarise(distances: &[f64]) -> DistanceSummary {
    if distances.is_empty() {
        return DistanceSummary { rows: 0, median: 0.0, p05: 0.0, mean: 0.0, zero_share: 0.0 };
    }
    let mut sorted = distances.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rows = sorted.len() as f64;
    let zeros = sorted.iter().filter(|&&distance| distance == 0.0).count();
    DistanceSummary {
        rows: sorted.len(),
        median: quantile(&sorted, 0.5),
        p05: quantile(&sorted, 0.05),
        mean: sorted.iter().sum::<f64>() / rows,
        zero_share: zeros as f64 / rows,
    }
}

/// The `q` quantile of non-empty `sorted`, linearly interpolated between
/// the two nearest ranks.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
}

/// Share of synthetic distances strictly below the holdout's median.
fn closer_share(synthetic: &[f64], holdout: &DistanceSummary) -> Option<f64> {
    if synthetic.is_empty() || holdout.rows == 0 {
        return None;
    }
    let closer = synthetic.iter().filter(|&&distance| distance < holdout.median).count();
    Some(closer as f64 / synthetic.len() as f64)
}

/// What was measured, in words, with the numbers.
fn method(
    space: &Space,
    tables: &[&Table],
    synthetic: &[usize],
    holdout: Option<&[usize]>,
) -> String {
    if space.width() == 0 {
        return "no distance measured: the training and synthetic tables share no column \
                other than free text, subject ids and row ids"
            .to_string();
    }
    if tables[0].rows() == 0 {
        return "no distance measured: the training table has no rows".to_string();
    }

    let search = match space.labels.first() {
        Some(first) => format!(
            "rows with the query's `{}` first, the others only while they could be closer",
            first.name
        ),
        None => "a scan".to_string(),
    };
    let mut text = format!(
        "exact nearest of all {} training rows ({search}, each row abandoned once farther \
         than the best so far), for {}",
        thousands(tables[0].rows()),
        sampled(synthetic.len(), tables[1].rows(), "synthetic")
    );
    if let (Some(rows), Some(table)) = (holdout, tables.get(2)) {
        text.push_str(&format!(" and {}", sampled(rows.len(), table.rows(), "holdout")));
    }
    text
}

/// "all 500 synthetic rows" or "a random sample of 2,000 of 10,000 ...".
fn sampled(taken: usize, rows: usize, what: &str) -> String {
    if taken == rows {
        format!("all {} {what} rows", thousands(rows))
    } else {
        format!("a random sample of {} of {} {what} rows", thousands(taken), thousands(rows))
    }
}

/// Counts synthetic and holdout rows equal to a training row; none are
/// checked when no column is read (`readable` false).
fn exact_copies(space: &Space, readable: bool) -> ExactCopies {
    let training: HashSet<Vec<u64>> = rows_of(&space.tables[0]).map(exact_key).collect();
    let count = |table: &Encoded| {
        if readable {
            let copies = rows_of(table).filter(|&row| training.contains(&exact_key(row))).count();
            (copies, table.rows)
        } else {
            (0, 0)
        }
    };
    let (synthetic, synthetic_rows) = count(&space.tables[1]);
    let holdout = space.tables.get(2).map(count);
    ExactCopies {
        synthetic,
        synthetic_rows,
        holdout: holdout.map(|(copies, _)| copies),
        holdout_rows: holdout.map(|(_, rows)| rows),
    }
}

/// Every row of an encoded table, in order.
fn rows_of(table: &Encoded) -> impl Iterator<Item = Row<'_>> {
    (0..table.rows).map(|row| table.row(row))
}

/// A row as hashable values: label codes and the bits of the parsed
/// numbers, which [`canonical`] made equal exactly for equal values.
fn exact_key(row: Row) -> Vec<u64> {
    let labels = row.labels.iter().map(|&code| u64::from(code));
    labels.chain(row.numbers.iter().map(|value| value.to_bits())).collect()
}

/// Real subject ids, and real sequences, in the synthetic table; `None`
/// when the schema has no subject or the synthetic table lacks it.
fn subjects(tables: &[&Table], schema: &Schema, space: &Space) -> Option<SubjectPrivacy> {
    let subject = roles::subject(schema)?;
    tables[1].column(&subject.name)?;
    let slots = sequence_slots(schema, space);

    let (checked, copied) = if slots.is_empty() {
        (0, 0)
    } else {
        let time = roles::time(schema);
        let sequences = |t: usize| sequences(tables[t], &space.tables[t], subject, time, &slots);
        let training: HashSet<Vec<u32>> = sequences(0).into_iter().collect();
        let synthetic = sequences(1);
        let copied = synthetic.iter().filter(|sequence| training.contains(*sequence)).count();
        (synthetic.len(), copied)
    };

    Some(SubjectPrivacy {
        column: subject.name.clone(),
        real_ids: real_ids(subject, tables),
        sequence_columns: slots.iter().map(|&slot| space.labels[slot].name.clone()).collect(),
        min_length: MIN_SEQUENCE,
        checked,
        copied,
    })
}

/// Distinct synthetic subject ids that also name a training or holdout
/// subject.
fn real_ids(subject: &ColumnSchema, tables: &[&Table]) -> usize {
    let synthetic = subject_ids(tables[1], subject);
    let mut real = subject_ids(tables[0], subject);
    real.extend(tables.get(2).map(|holdout| subject_ids(holdout, subject)).unwrap_or_default());
    synthetic.iter().filter(|id| real.contains(*id)).count()
}

/// The distinct present subject ids of a table.
fn subject_ids<'a>(table: &'a Table, subject: &ColumnSchema) -> HashSet<&'a str> {
    texts(table, &subject.name).into_iter().filter_map(|cell| subject.label(cell)).collect()
}

/// The label slots whose values make an event: the item and the behaviour
/// type, or every categorical and key column when there is no item.
fn sequence_slots(schema: &Schema, space: &Space) -> Vec<usize> {
    let slot = |column: Option<&ColumnSchema>| {
        column.and_then(|column| space.labels.iter().position(|l| l.name == column.name))
    };
    if let Some(item) = slot(roles::item(schema)) {
        return [Some(item), slot(roles::behaviour(schema))].into_iter().flatten().collect();
    }
    let mut slots: Vec<usize> = (0..space.labels.len())
        .filter(|&slot| {
            matches!(space.labels[slot].kind, Kind::Categorical | Kind::Id { role: IdRole::Key })
        })
        .collect();
    slots.sort_by_key(|&slot| space.labels[slot].position);
    slots
}

/// Every subject's events with at least [`MIN_SEQUENCE`] of them, in time
/// order (ties and a missing time column keep table order, missing times
/// last), each event the codes of the sequence `slots`, flattened.
fn sequences(
    table: &Table,
    encoded: &Encoded,
    subject: &ColumnSchema,
    time: Option<&ColumnSchema>,
    slots: &[usize],
) -> Vec<Vec<u32>> {
    let times: Vec<f64> = match time {
        Some(time) => texts(table, &time.name)
            .into_iter()
            .map(|cell| time.number(cell).unwrap_or(f64::INFINITY))
            .collect(),
        None => vec![0.0; table.rows()],
    };

    let mut events: HashMap<&str, Vec<usize>> = HashMap::new();
    for (row, cell) in texts(table, &subject.name).into_iter().enumerate() {
        if let Some(id) = subject.label(cell) {
            events.entry(id).or_default().push(row);
        }
    }

    let long = events.into_values().filter(|rows| rows.len() >= MIN_SEQUENCE);
    long.map(|mut rows| {
        rows.sort_by(|&a, &b| times[a].total_cmp(&times[b]));
        let event = |row: usize| slots.iter().map(move |&slot| encoded.row(row).labels[slot]);
        rows.into_iter().flat_map(event).collect()
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rand::Rng;

    use super::*;
    use crate::schema::infer::{ColumnHint, HintKind, infer};
    use crate::table::Column;

    /// A table from named columns of cells; `None` is a source null.
    fn table(columns: &[(&str, &[Option<&str>])]) -> Table {
        let columns = columns
            .iter()
            .map(|(name, cells)| Column {
                name: name.to_string(),
                cells: cells.iter().map(|cell| cell.map(str::to_string)).collect(),
            })
            .collect();
        Table::new(columns)
    }

    /// Cells all present.
    fn cells<'a>(texts: &[&'a str]) -> Vec<Option<&'a str>> {
        texts.iter().map(|text| Some(*text)).collect()
    }

    fn hint(kind: HintKind) -> ColumnHint {
        ColumnHint { kind, format: None, role: None }
    }

    fn id(role: IdRole) -> ColumnHint {
        ColumnHint { kind: HintKind::Id, format: None, role: Some(role) }
    }

    fn unix_time() -> ColumnHint {
        ColumnHint { kind: HintKind::Datetime, format: Some("unix_seconds".into()), role: None }
    }

    /// The schema of `table` with every column's kind given, so that
    /// inference cannot surprise a test.
    fn schema(table: &Table, hints: Vec<(&str, ColumnHint)>) -> Schema {
        let hints: BTreeMap<String, ColumnHint> =
            hints.into_iter().map(|(name, hint)| (name.to_string(), hint)).collect();
        infer(table, &hints).expect("the test table has a schema")
    }

    /// Every synthetic row's DCR, in row order, through the same search as
    /// `score`.
    fn distances(training: &Table, synthetic: &Table, schema: &Schema) -> Vec<f64> {
        let read = read_columns(training, synthetic, schema);
        let space = Space::encode(&read, &[training, synthetic]);
        let rows: Vec<usize> = (0..synthetic.rows()).collect();
        nearest_distances(&space, &rows, None).0
    }

    fn assert_close(actual: &[f64], expected: &[f64]) {
        assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() < 1e-12, "{actual:?} vs {expected:?}");
        }
    }

    /// Item key, behaviour label and price.
    fn shop(items: &[&str], behaviours: &[&str], prices: &[&str]) -> Table {
        let (items, behaviours, prices) = (cells(items), cells(behaviours), cells(prices));
        table(&[("item_id", &items), ("behavior_type", &behaviours), ("price", &prices)])
    }

    fn shop_schema(table: &Table) -> Schema {
        let hints = vec![
            ("item_id", id(IdRole::Key)),
            ("behavior_type", hint(HintKind::Categorical)),
            ("price", hint(HintKind::Numeric)),
        ];
        schema(table, hints)
    }

    #[test]
    fn a_copied_row_is_an_exact_copy_at_distance_zero() {
        let training = shop(&["i1", "i2", "i3"], &["pv", "buy", "pv"], &["1.5", "3.0", "4.5"]);
        let synthetic = shop(&["i9", "i2"], &["cart", "buy"], &["100", "3"]);
        let schema = shop_schema(&training);

        let privacy = score(&training, &synthetic, None, &schema, 1);

        assert_eq!(privacy.columns, ["item_id", "behavior_type", "price"]);
        assert_eq!(privacy.exact_copies.synthetic, 1);
        assert_eq!(privacy.exact_copies.synthetic_rows, 2);
        assert_close(&distances(&training, &synthetic, &schema), &[1.0, 0.0]);
        assert_eq!(privacy.synthetic.zero_share, 0.5);
        assert_eq!(privacy.synthetic.median, 0.5);
    }

    #[test]
    fn numbers_count_their_share_of_the_training_range_capped_at_one() {
        let training =
            table(&[("behavior_type", &cells(&["a", "b"])), ("price", &cells(&["0", "10"]))]);
        let schema = schema(
            &training,
            vec![
                ("behavior_type", hint(HintKind::Categorical)),
                ("price", hint(HintKind::Numeric)),
            ],
        );
        let synthetic = table(&[
            ("behavior_type", &cells(&["a", "a", "b"])),
            ("price", &cells(&["5", "40", "-1"])),
        ]);

        // Half the range on one of two columns is 0.25. 40 is 4 ranges from
        // a's 0, capped at 1: 0.5. b's -1 is 1.1 ranges from b's 10, capped
        // at 1: 0.5, nearer than a's row at (1 + 0.1) / 2.
        let found = distances(&training, &synthetic, &schema);

        assert_close(&found, &[0.25, 0.5, 0.5]);
    }

    #[test]
    fn missing_matches_missing_and_differs_from_any_value() {
        let training = table(&[
            ("behavior_type", &[None, Some("b"), Some("c")]),
            ("price", &cells(&["0", "10", "NA"])),
        ]);
        let schema = schema(
            &training,
            vec![
                ("behavior_type", hint(HintKind::Categorical)),
                ("price", hint(HintKind::Numeric)),
            ],
        );
        let synthetic = table(&[
            ("behavior_type", &cells(&["NA", "c", "a", "NA"])),
            ("price", &[Some("0"), None, Some("NA"), Some("5")]),
        ]);

        let privacy = score(&training, &synthetic, None, &schema, 1);

        assert_close(&distances(&training, &synthetic, &schema), &[0.0, 0.0, 0.5, 0.25]);
        assert_eq!(privacy.exact_copies.synthetic, 2);
    }

    #[test]
    fn a_copied_sequence_and_real_subject_ids_are_found() {
        let log = |users: &[&str], items: &[&str], behaviours: &[&str], times: &[&str]| {
            table(&[
                ("user_id", &cells(users)),
                ("item_id", &cells(items)),
                ("behavior_type", &cells(behaviours)),
                ("timestamp", &cells(times)),
            ])
        };
        let training = log(
            &["u1", "u2", "u1", "u2", "u1", "u2", "u2", "u3"],
            &["i1", "i4", "i2", "i1", "i3", "i2", "i5", "i2"],
            &["pv", "pv", "pv", "pv", "buy", "buy", "pv", "pv"],
            &["100", "150", "200", "250", "300", "350", "450", "120"],
        );
        let holdout = log(&["u9"], &["i1"], &["pv"], &["900"]);
        let schema = schema(
            &training,
            vec![
                ("user_id", id(IdRole::Subject)),
                ("item_id", id(IdRole::Key)),
                ("behavior_type", hint(HintKind::Categorical)),
                ("timestamp", unix_time()),
            ],
        );
        // s1 repeats u2's events (i4, i1, i2 buy, i5) in another table order;
        // s2 differs from u1 in one behaviour; s3 is only a prefix of u2's;
        // u3 and u9 are real ids, u3 with too few events to check.
        let synthetic = log(
            &["s1", "s2", "s1", "s3", "s2", "s1", "s3", "s2", "s1", "u3", "s3", "u9"],
            &["i2", "i1", "i4", "i4", "i2", "i5", "i1", "i3", "i1", "i2", "i2", "i1"],
            &["buy", "pv", "pv", "pv", "pv", "pv", "pv", "pv", "pv", "pv", "buy", "pv"],
            &["1350", "10", "1150", "5", "20", "1450", "6", "30", "1250", "1", "7", "2"],
        );

        let privacy = score(&training, &synthetic, Some(&holdout), &schema, 1);
        let subjects = privacy.subjects.expect("the log has a subject column");

        assert_eq!(subjects.column, "user_id");
        assert_eq!(subjects.sequence_columns, ["item_id", "behavior_type"]);
        assert_eq!(subjects.real_ids, 2);
        assert_eq!((subjects.min_length, subjects.checked, subjects.copied), (3, 3, 1));
    }

    /// A log-like table of `rows` rows with some missing cells, drawn from
    /// `seed`.
    fn generated(rows: usize, seed: u64) -> Table {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut draw = |make: &mut dyn FnMut(&mut ChaCha8Rng) -> String| -> Vec<Option<String>> {
            (0..rows).map(|_| Some(make(&mut rng)).filter(|text| text != "NA")).collect()
        };
        let items = draw(&mut |rng| format!("i{}", rng.random_range(0..60)));
        let behaviours =
            draw(&mut |rng| ["pv", "buy", "cart", "fav", "NA"][rng.random_range(0..5)].into());
        let prices = draw(&mut |rng| match rng.random_range(0..20) {
            0 => "NA".into(),
            _ => format!("{:.2}", rng.random_range(0.0..50.0)),
        });
        let column = |name: &str, cells: Vec<Option<String>>| Column { name: name.into(), cells };
        Table::new(vec![
            column("item_id", items),
            column("behavior_type", behaviours),
            column("price", prices),
        ])
    }

    #[test]
    fn the_grouped_search_finds_the_same_nearest_row_as_brute_force() {
        let training = generated(800, 1);
        let synthetic = generated(300, 2);
        let schema = shop_schema(&training);
        let read = read_columns(&training, &synthetic, &schema);
        let space = Space::encode(&read, &[&training, &synthetic]);

        let found = distances(&training, &synthetic, &schema);

        let (training, synthetic) = (&space.tables[0], &space.tables[1]);
        for (row, distance) in found.iter().enumerate() {
            let brute = rows_of(training)
                .map(|other| distance_sum(synthetic.row(row), other, &space.ranges, f64::INFINITY))
                .fold(f64::INFINITY, f64::min);
            assert_eq!(*distance, brute / 3.0, "row {row}");
        }
    }

    #[test]
    fn samples_are_capped_and_repeat_for_a_seed() {
        let training = generated(3000, 1);
        let synthetic = generated(4500, 2);
        let holdout = generated(2500, 3);
        let schema = shop_schema(&training);

        let first = score(&training, &synthetic, Some(&holdout), &schema, 11);
        let again = score(&training, &synthetic, Some(&holdout), &schema, 11);

        assert_eq!(first, again);
        assert_eq!(first.synthetic.rows, SAMPLE_ROWS);
        assert_eq!(first.holdout.as_ref().map(|h| h.rows), Some(SAMPLE_ROWS));
        assert!(first.method.contains("2,000 of 4,500 synthetic rows"), "{}", first.method);
        assert!(first.method.contains("2,000 of 2,500 holdout rows"), "{}", first.method);
        assert_eq!(first.exact_copies.synthetic_rows, 4500);
        assert_eq!(first.exact_copies.holdout_rows, Some(2500));
        assert_ne!(sample(4500, 11), sample(4500, 12));
    }

    #[test]
    fn the_holdout_median_is_the_reference_for_closeness() {
        let training =
            table(&[("behavior_type", &cells(&["a", "b"])), ("price", &cells(&["0", "10"]))]);
        let schema = schema(
            &training,
            vec![
                ("behavior_type", hint(HintKind::Categorical)),
                ("price", hint(HintKind::Numeric)),
            ],
        );
        let pair = |labels: &[&str], prices: &[&str]| {
            table(&[("behavior_type", &cells(labels)), ("price", &cells(prices))])
        };
        // Holdout DCRs 0.25, 0.25, 0.5 (median 0.25); synthetic 0, 0.25, 0.5.
        let holdout = pair(&["a", "b", "a"], &["5", "5", "40"]);
        let synthetic = pair(&["a", "b", "a"], &["0", "15", "40"]);

        let privacy = score(&training, &synthetic, Some(&holdout), &schema, 1);

        assert_eq!(privacy.holdout.as_ref().map(|h| h.median), Some(0.25));
        assert_eq!(privacy.closer_than_holdout_median, Some(1.0 / 3.0));
        assert_eq!(privacy.exact_copies.holdout, Some(0));
        assert_eq!(privacy.exact_copies.synthetic, 1);
    }

    #[test]
    fn without_a_holdout_only_synthetic_figures_are_given() {
        let training = shop(&["i1", "i2"], &["pv", "buy"], &["1.5", "3.0"]);
        let synthetic = shop(&["i2"], &["pv"], &["3.0"]);
        let schema = shop_schema(&training);

        let privacy = score(&training, &synthetic, None, &schema, 1);

        assert_eq!(privacy.holdout, None);
        assert_eq!(privacy.closer_than_holdout_median, None);
        assert_eq!((privacy.exact_copies.holdout, privacy.exact_copies.holdout_rows), (None, None));
        assert_eq!(privacy.synthetic.rows, 1);
        assert_eq!(privacy.subjects, None);
        assert!(!privacy.method.contains("holdout"), "{}", privacy.method);
        assert!(privacy.method.contains("all 2 training rows"), "{}", privacy.method);
    }

    #[test]
    fn only_ids_leave_nothing_to_measure() {
        let training =
            table(&[("user_id", &cells(&["u1", "u2"])), ("order_id", &cells(&["o1", "o2"]))]);
        let schema = schema(
            &training,
            vec![("user_id", id(IdRole::Subject)), ("order_id", id(IdRole::Row))],
        );

        let privacy = score(&training, &training, None, &schema, 1);

        assert!(privacy.columns.is_empty());
        assert!(privacy.method.starts_with("no distance measured"), "{}", privacy.method);
        assert_eq!(privacy.synthetic.rows, 0);
        assert_eq!((privacy.exact_copies.synthetic, privacy.exact_copies.synthetic_rows), (0, 0));
        assert_eq!(privacy.subjects.map(|s| (s.real_ids, s.checked)), Some((2, 0)));
    }

    #[test]
    fn an_empty_synthetic_table_measures_no_rows() {
        let training = shop(&["i1", "i2"], &["pv", "buy"], &["1.5", "3.0"]);
        let synthetic = shop(&[], &[], &[]);
        let schema = shop_schema(&training);

        let privacy = score(&training, &synthetic, Some(&training), &schema, 1);

        assert_eq!(privacy.synthetic.rows, 0);
        assert_eq!(privacy.closer_than_holdout_median, None);
        assert_eq!(privacy.holdout.as_ref().map(|h| h.zero_share), Some(1.0));
        assert_eq!(privacy.exact_copies.holdout, Some(2));
    }

    #[test]
    fn quantiles_interpolate_between_ranks() {
        let summary = summarise(&[3.0, 0.0, 2.0, 1.0]);

        assert_eq!(summary.median, 1.5);
        assert!((summary.p05 - 0.15).abs() < 1e-12);
        assert_eq!((summary.mean, summary.zero_share), (1.5, 0.25));
    }

    #[test]
    fn negative_zero_and_missing_numbers_store_as_one_value_each() {
        assert_eq!(canonical(Some(-0.0)).to_bits(), 0.0f64.to_bits());
        assert_eq!(canonical(None).to_bits(), canonical(Some(f64::INFINITY)).to_bits());
    }

    #[test]
    fn counts_read_with_thousands_separators() {
        assert_eq!(thousands(67580), "67,580");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(thousands(999), "999");
    }
}
