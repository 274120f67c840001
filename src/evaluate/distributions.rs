//! What each column looks like, real beside synthetic, for the page's plots.
//!
//! Every real column gets one distribution, including those the synthetic
//! table lacks (drawn real-only, with the reason): numbers and datetimes as
//! histograms over the real range, labels as bars of the most frequent real
//! labels, catalogue keys as popularity by rank, subject ids as events per
//! subject, row ids as unique or repeated, free text as text length.
//!
//! Everything is a share (of rows, keyed rows or subjects), never a count,
//! so that a synthetic table of another size draws on the same scale.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::similarity::counts;
use super::{ABSENT_REASON, TEXT_REASON};
use crate::schema::{ColumnSchema, IdRole, Kind, Schema};
use crate::table::Table;

/// Bins of a number, datetime or text-length histogram.
const BINS: usize = 30;
/// Most bins of a log-spaced events-per-subject histogram.
const LOG_BINS: usize = 24;
/// Labels drawn by name; the rest are pooled as [`OTHER`].
const TOP_LABELS: usize = 15;
/// The bar that pools labels past the most frequent real ones. Bracketed so
/// that it cannot be mistaken for a label spelled `other`.
pub const OTHER: &str = "(other)";
/// The bar of missing cells.
pub const MISSING: &str = "(missing)";

/// One column's plot data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnDistribution {
    pub column: String,
    /// The schema kind (`numeric`, `categorical`, ...).
    pub kind: String,
    /// What the plot shows, in words, for its caption.
    pub caption: String,
    pub plot: Plot,
}

/// Plot data: shares of rows (or events) per bin, label or rank; the
/// synthetic side is absent for columns the synthetic table lacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "plot", rename_all = "snake_case")]
pub enum Plot {
    /// `edges` has one more entry than each side has bins; empty when the
    /// real column has no readable value.
    Histogram {
        edges: Vec<f64>,
        real: Vec<f64>,
        synthetic: Option<Vec<f64>>,
        /// How the page draws the x axis.
        #[serde(default)]
        axis: Axis,
    },
    Bars {
        labels: Vec<String>,
        real: Vec<f64>,
        synthetic: Option<Vec<f64>>,
    },
    /// Popularity by rank; a side with fewer keys than a rank has 0 there.
    /// Drawn log-log, as popularity falls by orders of magnitude.
    Ranks {
        ranks: Vec<usize>,
        real: Vec<f64>,
        synthetic: Option<Vec<f64>>,
    },
}

/// How the page draws a histogram's x axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Axis {
    #[default]
    Linear,
    /// Log-spaced edges, drawn on a log scale.
    Log,
    /// Seconds since the Unix epoch, drawn as dates.
    Time,
}

/// A column's cells on each side; `synthetic` is `None` when the column is
/// drawn real-only.
struct Sides<'a> {
    real: &'a [Option<String>],
    synthetic: Option<&'a [Option<String>]>,
    /// The real column in a sample as large as the synthetic table, for
    /// plots whose shape depends on the number of rows.
    sized: &'a [Option<String>],
}

/// One distribution per real column, in the real table's column order;
/// `sized` is a real sample as large as the synthetic table (or the real
/// table itself), which popularity ranks read.
pub fn distributions(
    real: &Table,
    synthetic: &Table,
    sized: &Table,
    schema: &Schema,
) -> Vec<ColumnDistribution> {
    real.columns
        .iter()
        .map(|column| {
            let fallback;
            let column_schema = match schema.column(&column.name) {
                Some(found) => found,
                None => {
                    fallback = unknown_column(&column.name);
                    &fallback
                }
            };

            let other = synthetic.column(&column.name).map(|c| c.cells.as_slice());
            let absent = match (&column_schema.kind, other) {
                (Kind::Text, None) => Some(TEXT_REASON),
                (_, None) => Some(ABSENT_REASON),
                _ => None,
            };
            let sides = Sides {
                real: &column.cells,
                synthetic: other.filter(|_| absent.is_none()),
                sized: sized.column(&column.name).map_or(&column.cells, |c| &c.cells),
            };

            let (plot, caption) = draw(column_schema, &sides);
            let caption = match absent {
                Some(reason) => format!("{caption} Real only: {reason}."),
                None => caption,
            };
            ColumnDistribution {
                column: column.name.clone(),
                kind: column_schema.kind.name().to_string(),
                caption,
                plot,
            }
        })
        .collect()
}

/// A real column the schema does not describe is read as labels, the one
/// reading that makes no assumption about its cells.
fn unknown_column(name: &str) -> ColumnSchema {
    ColumnSchema {
        name: name.to_string(),
        kind: Kind::Categorical,
        null_marker: None,
        missing_rate: 0.0,
        distinct: 0,
    }
}

/// The plot and its caption for one column.
fn draw(schema: &ColumnSchema, sides: &Sides) -> (Plot, String) {
    match &schema.kind {
        Kind::Numeric { .. } | Kind::Datetime { .. } => numbers(schema, sides),
        Kind::Categorical | Kind::Boolean => labels(schema, sides),
        Kind::Id { role: IdRole::Key } => key_ranks(schema, sides),
        Kind::Id { role: IdRole::Subject } => events_per_subject(schema, sides),
        Kind::Id { role: IdRole::Row } => row_ids(schema, sides),
        Kind::Text => text_lengths(schema, sides),
    }
}

/// Histogram over the real range, as shares of the readable values.
fn numbers(schema: &ColumnSchema, sides: &Sides) -> (Plot, String) {
    let read = |cells: &[Option<String>]| -> Vec<f64> {
        let numbers = cells.iter().filter_map(|cell| schema.number(cell.as_deref()));
        numbers.filter(|value| value.is_finite()).collect()
    };
    let real = read(sides.real);
    let synthetic = sides.synthetic.map(read);

    let integer = matches!(schema.kind, Kind::Numeric { integer: true, .. });
    let middle = middle_range(&real);
    let binned: Vec<f64> = match middle {
        Some((low, high)) => real.iter().map(|v| v.clamp(low, high)).collect(),
        None => real.clone(),
    };
    let edges = spread_edges(&binned, integer);
    let axis = if matches!(schema.kind, Kind::Datetime { .. }) { Axis::Time } else { Axis::Linear };

    let caption = match range(&binned) {
        None => "No readable real values to bin.".to_string(),
        Some((low, high)) => {
            let bins = if edges.len() == BINS + 1 { "30 equal bins" } else { "whole-number bins" };
            let over = match (middle, range(&real)) {
                (Some(_), Some((min, max))) => format!(
                    "the middle 99% of real values, {} to {} (the full range, {} to {}, is \
                     mostly empty)",
                    schema.format_number(low),
                    schema.format_number(high),
                    schema.format_number(min),
                    schema.format_number(max),
                ),
                _ => format!(
                    "the real range {} to {}",
                    schema.format_number(low),
                    schema.format_number(high)
                ),
            };
            let mut caption = format!(
                "Shares of readable values in {bins} over {over}; values outside it count in \
                 the end bins. Missing or unreadable: real {}",
                percent(1.0 - real.len() as f64 / sides.real.len().max(1) as f64),
            );
            if let (Some(cells), Some(values)) = (sides.synthetic, &synthetic) {
                let missing = 1.0 - values.len() as f64 / cells.len().max(1) as f64;
                caption.push_str(&format!(", synthetic {}", percent(missing)));
            }
            caption.push('.');
            caption
        }
    };

    (histogram(&real, synthetic.as_deref(), edges, axis), caption)
}

/// Bars of the most frequent real labels, the rest pooled, and missing.
fn labels(schema: &ColumnSchema, sides: &Sides) -> (Plot, String) {
    let real = counts(schema, sides.real);
    let mut ranked: Vec<(&str, usize)> = real.iter().map(|(label, &n)| (*label, n)).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    // Pooling a single label would only hide its name.
    if ranked.len() > TOP_LABELS + 1 {
        ranked.truncate(TOP_LABELS);
    }
    let named: Vec<&str> = ranked.iter().map(|(label, _)| *label).collect();

    let bars = |cells: &[Option<String>]| label_bars(schema, cells, &named);
    let real_bars = bars(sides.real);
    let synthetic_bars = sides.synthetic.map(bars);

    let pooled = |b: &LabelBars| b.other > 0.0;
    let missing = |b: &LabelBars| b.missing > 0.0;
    let show_other = pooled(&real_bars) || synthetic_bars.as_ref().is_some_and(pooled);
    let show_missing = missing(&real_bars) || synthetic_bars.as_ref().is_some_and(missing);
    let lay_out = |b: &LabelBars| {
        let mut shares = b.named.clone();
        if show_other {
            shares.push(b.other);
        }
        if show_missing {
            shares.push(b.missing);
        }
        shares
    };

    let mut labels: Vec<String> = named.iter().map(|label| label.to_string()).collect();
    if show_other {
        labels.push(OTHER.to_string());
    }
    if show_missing {
        labels.push(MISSING.to_string());
    }

    let mut caption = if real.len() > TOP_LABELS {
        format!(
            "Share of rows per label: the {TOP_LABELS} most frequent of {} real labels, \
             the rest pooled as {OTHER}.",
            real.len()
        )
    } else {
        format!("Share of rows per label ({} real labels).", real.len())
    };
    if let Some(cells) = sides.synthetic {
        let unseen: usize = counts(schema, cells)
            .iter()
            .filter(|(label, _)| !real.contains_key(*label))
            .map(|(_, &n)| n)
            .sum();
        if unseen > 0 {
            let share = percent(unseen as f64 / cells.len() as f64);
            caption.push_str(&format!(
                " {share} of synthetic rows carry labels the real column lacks, counted as {OTHER}."
            ));
        }
    }

    let plot = Plot::Bars {
        labels,
        real: lay_out(&real_bars),
        synthetic: synthetic_bars.as_ref().map(lay_out),
    };
    (plot, caption)
}

/// One side's shares of rows: per named label, pooled, and missing.
struct LabelBars {
    named: Vec<f64>,
    other: f64,
    missing: f64,
}

fn label_bars(schema: &ColumnSchema, cells: &[Option<String>], named: &[&str]) -> LabelBars {
    let counted = counts(schema, cells);
    let rows = cells.len().max(1) as f64;
    let present: usize = counted.values().sum();
    let named_counts: Vec<usize> =
        named.iter().map(|label| counted.get(label).copied().unwrap_or(0)).collect();
    let other = present - named_counts.iter().sum::<usize>();
    LabelBars {
        named: named_counts.iter().map(|&n| n as f64 / rows).collect(),
        other: other as f64 / rows,
        missing: (cells.len() - present) as f64 / rows,
    }
}

/// Share of keyed rows taken by the key at each popularity rank.
fn key_ranks(schema: &ColumnSchema, sides: &Sides) -> (Plot, String) {
    let real = descending(counts(schema, sides.sized));
    let synthetic = sides.synthetic.map(|cells| descending(counts(schema, cells)));
    let keys = real.len().max(synthetic.as_ref().map_or(0, Vec::len));
    let ranks = rank_points(keys);

    let mut caption = format!(
        "Share of keyed rows taken by the key at each popularity rank, each side ranked by \
         its own counts (log-log). Keys: real {}",
        real.len()
    );
    if sides.sized.len() < sides.real.len() {
        caption = format!(
            "{caption} in a random sample of {} real rows, the synthetic table's size",
            super::thousands(sides.sized.len())
        );
    }
    if let Some(synthetic) = &synthetic {
        caption.push_str(&format!(", synthetic {}", synthetic.len()));
    }
    caption.push('.');

    let plot = Plot::Ranks {
        real: rank_shares(&real, &ranks),
        synthetic: synthetic.map(|counts| rank_shares(&counts, &ranks)),
        ranks,
    };
    (plot, caption)
}

fn descending(counts: HashMap<&str, usize>) -> Vec<usize> {
    let mut values: Vec<usize> = counts.into_values().collect();
    values.sort_unstable_by(|a, b| b.cmp(a));
    values
}

/// Ranks 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, ... up to `keys`, and
/// `keys` itself, so the curve reaches the least popular key.
fn rank_points(keys: usize) -> Vec<usize> {
    let mut ranks = Vec::new();
    let mut decade = 1;
    'decades: loop {
        let steps: &[usize] = if decade == 1 { &[1, 2, 3, 5] } else { &[1, 2, 5] };
        for step in steps {
            let rank = step * decade;
            if rank > keys {
                break 'decades;
            }
            ranks.push(rank);
        }
        decade *= 10;
    }
    if ranks.last().is_some_and(|&last| last < keys) {
        ranks.push(keys);
    }
    ranks
}

fn rank_shares(descending: &[usize], ranks: &[usize]) -> Vec<f64> {
    let total = descending.iter().sum::<usize>().max(1) as f64;
    ranks.iter().map(|&rank| descending.get(rank - 1).map_or(0.0, |&n| n as f64 / total)).collect()
}

/// Histogram of rows per subject, over the range of both sides, since
/// synthetic subjects are fresh ids and their counts may run past the real.
fn events_per_subject(schema: &ColumnSchema, sides: &Sides) -> (Plot, String) {
    let per_subject = |cells: &[Option<String>]| -> Vec<f64> {
        counts(schema, cells).into_values().map(|n| n as f64).collect()
    };
    let real = per_subject(sides.real);
    let synthetic = sides.synthetic.map(per_subject);

    let all = || real.iter().chain(synthetic.iter().flatten()).copied();
    let most = all().fold(0.0, f64::max);
    let (edges, axis) = if most <= BINS as f64 {
        (integer_edges(1.0, most.max(1.0)), Axis::Linear)
    } else {
        (log_edges(all().fold(most, f64::min), most), Axis::Log)
    };

    let mut caption = format!(
        "Share of subjects by events (rows) per subject{}. Subjects: real {}",
        if axis == Axis::Log { ", log-spaced bins" } else { "" },
        real.len()
    );
    if let Some(synthetic) = &synthetic {
        caption.push_str(&format!(", synthetic {}", synthetic.len()));
    }
    caption.push('.');

    (histogram(&real, synthetic.as_deref(), edges, axis), caption)
}

/// Shares of rows whose id is unique in its own table, repeated, or
/// missing: synthetic row ids are fresh, so only their uniqueness compares.
fn row_ids(schema: &ColumnSchema, sides: &Sides) -> (Plot, String) {
    let split = |cells: &[Option<String>]| -> [f64; 3] {
        let counted = counts(schema, cells);
        let rows = cells.len().max(1) as f64;
        let unique = counted.values().filter(|&&n| n == 1).count();
        let present: usize = counted.values().sum();
        let missing = cells.len() - present;
        [unique as f64 / rows, (present - unique) as f64 / rows, missing as f64 / rows]
    };
    let real = split(sides.real);
    let synthetic = sides.synthetic.map(split);

    let has_missing = real[2] > 0.0 || synthetic.is_some_and(|s| s[2] > 0.0);
    let keep = if has_missing { 3 } else { 2 };
    let labels = ["unique", "repeated", MISSING][..keep].iter().map(|l| l.to_string()).collect();
    let caption = "Share of rows whose id appears once in its own table (unique) or more \
                   often (repeated); synthetic ids are fresh, so only uniqueness compares."
        .to_string();
    let plot = Plot::Bars {
        labels,
        real: real[..keep].to_vec(),
        synthetic: synthetic.map(|s| s[..keep].to_vec()),
    };
    (plot, caption)
}

/// Histogram of text length in characters, real only.
/// Free text is not learnt, but a synthetic table may still hold it when a
/// key determines it (a product's name comes with its real product id).
fn text_lengths(schema: &ColumnSchema, sides: &Sides) -> (Plot, String) {
    let lengths = |cells: &[Option<String>]| -> Vec<f64> {
        let texts = cells.iter().filter_map(|cell| schema.label(cell.as_deref()));
        texts.map(|text| text.chars().count() as f64).collect()
    };
    let real = lengths(sides.real);
    let synthetic = sides.synthetic.map(lengths);
    let edges = spread_edges(&real, true);
    let mut caption = "Share of texts by length in characters.".to_string();
    if synthetic.is_some() {
        caption.push_str(" The synthetic text is real text carried with its key.");
    }
    (histogram(&real, synthetic.as_deref(), edges, Axis::Linear), caption)
}

/// A histogram of both sides' shares over the same `edges`.
fn histogram(real: &[f64], synthetic: Option<&[f64]>, edges: Vec<f64>, axis: Axis) -> Plot {
    Plot::Histogram {
        real: shares(real, &edges),
        synthetic: synthetic.map(|values| shares(values, &edges)),
        edges,
        axis,
    }
}

/// The smallest and largest value; `None` for no values.
fn range(values: &[f64]) -> Option<(f64, f64)> {
    let low = values.iter().copied().reduce(f64::min)?;
    let high = values.iter().copied().reduce(f64::max)?;
    Some((low, high))
}

/// The range of the middle 99% of `values`, when a few outliers stretch
/// the full range to more than three times it (a stray 1970 timestamp, a
/// single huge order), so that equal bins would leave the data in one or
/// two of them; `None` when the full range serves.
fn middle_range(values: &[f64]) -> Option<(f64, f64)> {
    let (min, max) = range(values)?;
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    let (low, high) = (at(0.005), at(0.995));
    (high > low && max - min > 3.0 * (high - low)).then_some((low, high))
}

/// Bin edges over the range of `values`: one bin per whole number when
/// they are integers spanning fewer than [`BINS`], else [`BINS`] equal bins;
/// a single unit bin for a constant, none for no values.
fn spread_edges(values: &[f64], integer: bool) -> Vec<f64> {
    let Some((low, high)) = range(values) else {
        return Vec::new();
    };
    if integer && high - low < BINS as f64 {
        return integer_edges(low.round(), high.round());
    }
    if high == low {
        return vec![low - 0.5, low + 0.5];
    }
    let width = (high - low) / BINS as f64;
    let mut edges: Vec<f64> = (0..BINS).map(|i| low + i as f64 * width).collect();
    edges.push(high);
    edges
}

/// Unit bins centred on each whole number from `low` to `high`.
fn integer_edges(low: f64, high: f64) -> Vec<f64> {
    let bins = (high - low).round() as usize + 1;
    (0..=bins).map(|i| low - 0.5 + i as f64).collect()
}

/// Whole-number edges spaced evenly on a log scale from `least` to just
/// past `most` (both at least 1).
fn log_edges(least: f64, most: f64) -> Vec<f64> {
    let (low, high) = (least.max(1.0), most.max(1.0) + 1.0);
    let ratio = high / low;
    let mut edges: Vec<f64> =
        (0..=LOG_BINS).map(|i| (low * ratio.powf(i as f64 / LOG_BINS as f64)).round()).collect();
    edges.dedup();
    edges
}

/// Shares of `values` per bin, values outside the edges clipped into the
/// end bins; all zero for no values.
fn shares(values: &[f64], edges: &[f64]) -> Vec<f64> {
    let bins = edges.len().saturating_sub(1);
    let mut shares = vec![0.0; bins];
    if bins == 0 || values.is_empty() {
        return shares;
    }
    let each = 1.0 / values.len() as f64;
    for value in values {
        let index = edges.partition_point(|edge| edge <= value).saturating_sub(1);
        shares[index.min(bins - 1)] += each;
    }
    shares
}

/// A share as a percentage with one decimal.
fn percent(share: f64) -> String {
    format!("{:.1}%", 100.0 * share)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Column;

    fn column_schema(name: &str, kind: Kind) -> ColumnSchema {
        ColumnSchema { name: name.into(), kind, null_marker: None, missing_rate: 0.0, distinct: 0 }
    }

    fn column(name: &str, cells: &[&str]) -> Column {
        Column { name: name.into(), cells: cells.iter().map(|c| Some(c.to_string())).collect() }
    }

    fn numeric() -> Kind {
        Kind::Numeric { integer: false, decimals: 1, min: 0.0, max: 0.0 }
    }

    fn sum(values: &[f64]) -> f64 {
        values.iter().sum()
    }

    fn near(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// Real: price, colour, item, user, note, extra; synthetic lacks extra.
    fn tables() -> (Table, Table, Schema) {
        let prices: Vec<String> = (0..=30).map(|i| format!("{}.5", i)).collect();
        let prices: Vec<&str> = prices.iter().map(String::as_str).collect();
        let colours: Vec<String> = (0..31).map(|i| format!("c{}", i % 17)).collect();
        let mut colours: Vec<&str> = colours.iter().map(String::as_str).collect();
        colours[30] = "NA";
        let items: Vec<String> = (0..31).map(|i| format!("i{}", i % 4)).collect();
        let items: Vec<&str> = items.iter().map(String::as_str).collect();
        let users: Vec<&str> = (0..31).map(|i| if i < 20 { "u1" } else { "u2" }).collect();
        let notes: Vec<&str> = (0..31).map(|i| if i % 2 == 0 { "ab" } else { "abcd" }).collect();
        let real = Table::new(vec![
            column("price", &prices),
            column("colour", &colours),
            column("item", &items),
            column("user", &users),
            column("note", &notes),
            column("extra", &prices),
        ]);

        let mut synthetic_prices = prices.clone();
        synthetic_prices[0] = "-100";
        synthetic_prices[1] = "999";
        synthetic_prices[2] = "NA";
        let synthetic_items: Vec<&str> =
            (0..31).map(|i| if i < 25 { "i3" } else { "i0" }).collect();
        let synthetic = Table::new(vec![
            column("price", &synthetic_prices),
            column("colour", &colours),
            column("item", &synthetic_items),
            column("user", &users),
            column("note", &notes),
        ]);

        let schema = Schema {
            columns: vec![
                column_schema("price", numeric()),
                column_schema("colour", Kind::Categorical),
                column_schema("item", Kind::Id { role: IdRole::Key }),
                column_schema("user", Kind::Id { role: IdRole::Subject }),
                column_schema("note", Kind::Text),
                column_schema("extra", numeric()),
            ],
        };
        (real, synthetic, schema)
    }

    fn by_name<'a>(all: &'a [ColumnDistribution], name: &str) -> &'a ColumnDistribution {
        all.iter().find(|d| d.column == name).expect("every real column is drawn")
    }

    #[test]
    fn every_real_column_is_drawn_in_real_order() {
        let (real, synthetic, schema) = tables();
        let all = distributions(&real, &synthetic, &real, &schema);
        let names: Vec<&str> = all.iter().map(|d| d.column.as_str()).collect();
        assert_eq!(names, ["price", "colour", "item", "user", "note", "extra"]);
        assert_eq!(all[0].kind, "numeric");
    }

    #[test]
    fn numbers_are_shares_of_readable_values_over_the_real_range() {
        let (real, synthetic, schema) = tables();
        let all = distributions(&real, &synthetic, &real, &schema);
        let Plot::Histogram { edges, real, synthetic, axis } = &by_name(&all, "price").plot else {
            panic!("numbers are histograms");
        };
        assert_eq!(*axis, Axis::Linear);
        assert_eq!(edges.len(), BINS + 1);
        assert_eq!((edges[0], edges[BINS]), (0.5, 30.5));
        assert!(near(sum(real), 1.0));
        assert!(real.iter().all(|&s| s > 0.0), "31 values over 30 bins fill every bin");
        assert!(near(real[BINS - 1], 2.0 / 31.0), "the top edge falls in the last bin");

        let synthetic = synthetic.as_ref().expect("the synthetic table has prices");
        assert!(near(sum(synthetic), 1.0), "the missing cell is left out");
        // -100 is clipped into the first bin, 999 into the last.
        assert!(near(synthetic[0], 1.0 / 30.0));
        assert!(near(synthetic[BINS - 1], 3.0 / 30.0));
        assert!(by_name(&all, "price").caption.contains("synthetic 3.2%"));
    }

    #[test]
    fn labels_keep_the_most_frequent_real_ones_and_pool_the_rest() {
        let (real, synthetic, schema) = tables();
        let all = distributions(&real, &synthetic, &real, &schema);
        let Plot::Bars { labels, real, synthetic } = &by_name(&all, "colour").plot else {
            panic!("labels are bars");
        };
        assert_eq!(labels.len(), TOP_LABELS + 2);
        assert_eq!(labels[TOP_LABELS..], [OTHER, MISSING]);
        // c0..c12 occur twice, the rest once: the twice-seen come first.
        assert_eq!(labels[..3], ["c0", "c1", "c10"]);
        assert!(near(real[0], 2.0 / 31.0));
        assert!(near(real[TOP_LABELS + 1], 1.0 / 31.0), "one NA cell");
        assert!(near(sum(real), 1.0));
        assert!(near(sum(synthetic.as_ref().expect("present")), 1.0));
    }

    #[test]
    fn text_is_compared_when_carried_and_absent_columns_are_drawn_real_only() {
        let (real, synthetic, schema) = tables();
        let all = distributions(&real, &synthetic, &real, &schema);

        let note = by_name(&all, "note");
        assert!(note.caption.contains("carried with its key"));
        let Plot::Histogram { edges, real: lengths, synthetic, .. } = &note.plot else {
            panic!("text is a length histogram");
        };
        assert!(synthetic.is_some(), "text the synthetic table carries is compared");
        assert_eq!(edges, &[1.5, 2.5, 3.5, 4.5]);
        assert!(near(lengths[0], 16.0 / 31.0) && near(lengths[2], 15.0 / 31.0));

        let extra = by_name(&all, "extra");
        assert!(extra.caption.contains(ABSENT_REASON));
        assert!(matches!(&extra.plot, Plot::Histogram { synthetic: None, .. }));

        let (real, mut untexted, schema) = tables();
        untexted.columns.retain(|c| c.name != "note");
        let all = distributions(&real, &untexted, &real, &schema);
        let note = by_name(&all, "note");
        assert!(note.caption.contains(TEXT_REASON), "{}", note.caption);
        assert!(matches!(&note.plot, Plot::Histogram { synthetic: None, .. }));
    }

    #[test]
    fn key_ranks_follow_each_sides_own_popularity() {
        let (real, synthetic, schema) = tables();
        let all = distributions(&real, &synthetic, &real, &schema);
        let Plot::Ranks { ranks, real, synthetic } = &by_name(&all, "item").plot else {
            panic!("keys are ranks");
        };
        assert_eq!(ranks, &[1, 2, 3, 4]);
        assert!(real.windows(2).all(|pair| pair[0] >= pair[1]), "shares fall with rank");
        assert!(near(real[0], 8.0 / 31.0) && near(sum(real), 1.0));
        // Synthetic i3 leads with 25 rows although it is not real's first.
        let synthetic = synthetic.as_ref().expect("present");
        assert!(near(synthetic[0], 25.0 / 31.0) && near(synthetic[1], 6.0 / 31.0));
        assert_eq!(synthetic[2..], [0.0, 0.0], "no key at ranks the side lacks");
    }

    #[test]
    fn rank_points_are_log_spaced_and_end_at_the_last_key() {
        assert_eq!(rank_points(1), [1]);
        assert_eq!(rank_points(5), [1, 2, 3, 5]);
        assert_eq!(rank_points(120), [1, 2, 3, 5, 10, 20, 50, 100, 120]);
        assert!(rank_points(0).is_empty());
    }

    #[test]
    fn events_per_subject_are_shares_of_subjects() {
        let (real, synthetic, schema) = tables();
        let all = distributions(&real, &synthetic, &real, &schema);
        let Plot::Histogram { edges, real, axis, .. } = &by_name(&all, "user").plot else {
            panic!("subjects are histograms");
        };
        assert_eq!(*axis, Axis::Linear);
        assert_eq!(edges.len(), 21, "one bin per count from 1 to 20");
        assert!(near(real[10], 0.5) && near(real[19], 0.5), "u2 has 11 rows, u1 20");

        let wide = log_edges(1.0, 1000.0);
        assert_eq!((wide[0], *wide.last().expect("edges")), (1.0, 1001.0));
        assert!(wide.windows(2).all(|pair| pair[0] < pair[1]));
        let far = log_edges(2000.0, 90_000.0);
        assert_eq!((far[0], *far.last().expect("edges")), (2000.0, 90_001.0));
        assert_eq!(far.len(), LOG_BINS + 1);
    }

    #[test]
    fn histograms_written_before_the_axis_field_read_as_linear() {
        let text = r#"{"plot":"histogram","edges":[0.0,1.0],"real":[1.0],"synthetic":null}"#;
        let plot: Plot = serde_json::from_str(text).expect("reads");
        assert!(matches!(plot, Plot::Histogram { axis: Axis::Linear, .. }));
        let log = Plot::Ranks { ranks: vec![1], real: vec![1.0], synthetic: Some(vec![0.5]) };
        let back: Plot =
            serde_json::from_str(&serde_json::to_string(&log).expect("writes")).expect("reads");
        assert_eq!(back, log);
    }

    #[test]
    fn a_few_outliers_do_not_squash_the_histogram() {
        let mut values: Vec<f64> = (0..1000).map(|i| f64::from(i % 100)).collect();
        values.push(1_000_000.0);
        assert_eq!(middle_range(&values), Some((0.0, 99.0)));
        let spread: Vec<f64> = (0..1000).map(f64::from).collect();
        assert_eq!(middle_range(&spread), None, "no outliers, the full range serves");
    }

    #[test]
    fn row_ids_compare_uniqueness() {
        let schema = column_schema("id", Kind::Id { role: IdRole::Row });
        let real = [Some("a".to_string()), Some("b".to_string()), None];
        let synthetic = [Some("x".to_string()), Some("x".to_string()), Some("y".to_string())];
        let (plot, _) =
            row_ids(&schema, &Sides { real: &real, synthetic: Some(&synthetic), sized: &real });
        let Plot::Bars { labels, real, synthetic } = plot else {
            panic!("row ids are bars");
        };
        assert_eq!(labels, ["unique", "repeated", MISSING]);
        assert!(near(real[0], 2.0 / 3.0) && near(real[2], 1.0 / 3.0));
        let synthetic = synthetic.expect("present");
        assert!(near(synthetic[0], 1.0 / 3.0) && near(synthetic[1], 2.0 / 3.0));
    }
}
