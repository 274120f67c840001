//! The statistics behind SDMetrics' quality metrics, on plain slices.
//!
//! Each function computes what the named SDMetrics, SciPy or NumPy routine
//! computes, including their edge cases: `None` stands for the NaN (or the
//! raised error) that makes SDMetrics leave a score out of its averages.
//! Continuous values carry `NaN` for missing; discrete values are label
//! codes in which missing is a code like any other.

use std::collections::HashMap;

use super::frame::MISSING;

/// SDMetrics rounds continuous values to this many decimals before the
/// Kolmogorov-Smirnov test (`sys.float_info.dig - 1`).
const KS_DECIMALS: i32 = 14;
/// NumPy's default number of histogram bins, which SDMetrics uses to bin a
/// continuous column paired with a discrete one.
const PAIR_BINS: usize = 10;

/// `KSComplement`: 1 minus the two-sample Kolmogorov-Smirnov statistic of
/// the present values; `None` when either side has none.
pub(super) fn ks_complement(real: &[f64], synthetic: &[f64]) -> Option<f64> {
    let real = sorted_present(real);
    let synthetic = sorted_present(synthetic);
    if real.is_empty() || synthetic.is_empty() {
        return None;
    }
    Some(1.0 - ks_statistic(&real, &synthetic))
}

/// Present values rounded the way `Series.round(14)` does, sorted.
fn sorted_present(values: &[f64]) -> Vec<f64> {
    let scale = 10f64.powi(KS_DECIMALS);
    let mut present: Vec<f64> = values
        .iter()
        .filter(|v| !v.is_nan())
        .map(|v| (v * scale).round_ties_even() / scale)
        .collect();
    present.sort_by(f64::total_cmp);
    present
}

/// The largest gap between the two empirical distribution functions.
fn ks_statistic(a: &[f64], b: &[f64]) -> f64 {
    let (n_a, n_b) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut gap) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        let value = a[i].min(b[j]);
        while i < a.len() && a[i] <= value {
            i += 1;
        }
        while j < b.len() && b[j] <= value {
            j += 1;
        }
        gap = gap.max((i as f64 / n_a - j as f64 / n_b).abs());
    }
    gap
}

/// `TVComplement`: 1 minus the total variation distance between the label
/// frequencies of the present values; `None` when either side has none.
pub(super) fn tv_complement(real: &[u32], synthetic: &[u32]) -> Option<f64> {
    let real_counts = counts(real.iter().filter(|&&code| code != MISSING).map(|&c| c as u64));
    let synthetic_counts =
        counts(synthetic.iter().filter(|&&code| code != MISSING).map(|&c| c as u64));
    let real_total: u64 = real_counts.values().sum();
    let synthetic_total: u64 = synthetic_counts.values().sum();
    if real_total == 0 || synthetic_total == 0 {
        return None;
    }
    let distance = total_variation(&real_counts, real_total, &synthetic_counts, synthetic_total);
    Some(1.0 - distance)
}

/// The joint label counts of two discrete (or binned) columns on one side,
/// missing values counted as labels, as `groupby(dropna=False).size()`.
pub(super) struct Contingency {
    /// Count of each (first, second) code pair, keyed `first << 32 | second`.
    joint: HashMap<u64, u64>,
    rows: u64,
}

impl Contingency {
    pub(super) fn new(first: &[u32], second: &[u32]) -> Self {
        let keys = first.iter().zip(second).map(|(&a, &b)| (u64::from(a) << 32) | u64::from(b));
        Contingency { joint: counts(keys), rows: first.len() as u64 }
    }
}

/// `ContingencySimilarity`: 1 minus the total variation distance between
/// the joint label frequencies of the two sides.
pub(super) fn contingency_similarity(real: &Contingency, synthetic: &Contingency) -> Option<f64> {
    if real.rows == 0 || synthetic.rows == 0 {
        return None;
    }
    Some(1.0 - total_variation(&real.joint, real.rows, &synthetic.joint, synthetic.rows))
}

/// Cramér's V of a contingency table (SciPy's `association` without
/// continuity correction); `None` when the table has a single row or column.
pub(super) fn cramers_v(table: &Contingency) -> Option<f64> {
    let rows = counts_by(&table.joint, |key| key >> 32);
    let columns = counts_by(&table.joint, |key| key & u64::from(u32::MAX));
    let smaller = rows.len().min(columns.len());
    if smaller < 2 {
        return None;
    }
    // chi2 / n = sum(O^2 / (R * C)) - 1, summed over the non-empty cells.
    let ratio: f64 = table
        .joint
        .iter()
        .map(|(key, &observed)| {
            let expected = rows[&(key >> 32)] as f64 * columns[&(key & u64::from(u32::MAX))] as f64;
            observed as f64 * observed as f64 / expected
        })
        .sum();
    let phi_squared = (ratio - 1.0).max(0.0);
    Some((phi_squared / (smaller - 1) as f64).sqrt())
}

/// Marginal counts of a joint table, grouped by `part` of each key.
fn counts_by(joint: &HashMap<u64, u64>, part: impl Fn(u64) -> u64) -> HashMap<u64, u64> {
    let mut margins = HashMap::new();
    for (&key, &count) in joint {
        *margins.entry(part(key)).or_insert(0) += count;
    }
    margins
}

/// Pearson's r over the rows where both values are present, as
/// `scipy.stats.pearsonr` computes it; `None` when undefined.
pub(super) fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let (xs, ys): (Vec<f64>, Vec<f64>) =
        x.iter().zip(y).filter(|(a, b)| !a.is_nan() && !b.is_nan()).map(|(a, b)| (*a, *b)).unzip();
    if xs.len() < 2 {
        return None;
    }
    let centred_x = centred(&xs);
    let centred_y = centred(&ys);
    let norm_x = norm(&centred_x);
    let norm_y = norm(&centred_y);
    let r: f64 = centred_x.iter().zip(&centred_y).map(|(a, b)| (a / norm_x) * (b / norm_y)).sum();
    r.is_finite().then_some(r.clamp(-1.0, 1.0))
}

fn centred(values: &[f64]) -> Vec<f64> {
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    values.iter().map(|v| v - mean).collect()
}

fn norm(values: &[f64]) -> f64 {
    values.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// Number of distinct present values (pandas' `nunique`).
pub(super) fn distinct_present(values: &[f64]) -> usize {
    let mut present: Vec<u64> =
        values.iter().filter(|v| !v.is_nan()).map(|v| v.to_bits()).collect();
    present.sort_unstable();
    present.dedup();
    present.len()
}

/// Bin numbers the way SDMetrics discretises a continuous column for a
/// mixed pair: `np.digitize` over `np.histogram_bin_edges` of the column's
/// own present values. The maximum and NaN both land in bin 11.
pub(super) fn pair_bins(values: &[f64]) -> Vec<u32> {
    let edges = histogram_edges(values);
    values
        .iter()
        .map(
            |v| {
                if v.is_nan() {
                    edges.len() as u32
                } else {
                    edges.partition_point(|e| e <= v) as u32
                }
            },
        )
        .collect()
}

/// `np.histogram_bin_edges(values, bins=10)`, including NumPy's `linspace`
/// arithmetic (`i * step + start`, last edge exact).
fn histogram_edges(values: &[f64]) -> Vec<f64> {
    let present = values.iter().filter(|v| !v.is_nan());
    let (mut low, mut high) =
        present.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if low > high {
        (low, high) = (0.0, 1.0);
    }
    if low == high {
        (low, high) = (low - 0.5, high + 0.5);
    }
    let step = (high - low) / PAIR_BINS as f64;
    let mut edges: Vec<f64> = (0..=PAIR_BINS).map(|i| i as f64 * step + low).collect();
    edges[PAIR_BINS] = high;
    edges
}

fn counts(codes: impl Iterator<Item = u64>) -> HashMap<u64, u64> {
    let mut counts = HashMap::new();
    for code in codes {
        *counts.entry(code).or_insert(0) += 1;
    }
    counts
}

/// Half the summed absolute difference of two frequency tables.
fn total_variation(
    real: &HashMap<u64, u64>,
    real_total: u64,
    synthetic: &HashMap<u64, u64>,
    synthetic_total: u64,
) -> f64 {
    let share = |count: u64, total: u64| count as f64 / total as f64;
    let shared: f64 = real
        .iter()
        .map(|(key, &count)| {
            let other = synthetic.get(key).copied().unwrap_or(0);
            (share(count, real_total) - share(other, synthetic_total)).abs()
        })
        .sum();
    let synthetic_only: f64 = synthetic
        .iter()
        .filter(|(key, _)| !real.contains_key(key))
        .map(|(_, &count)| share(count, synthetic_total))
        .sum();
    0.5 * (shared + synthetic_only)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn ks_complement_of_identical_samples_is_one() {
        let sample = [3.0, 1.0, 2.0, 2.0, f64::NAN];
        assert_eq!(ks_complement(&sample, &sample), Some(1.0));
    }

    #[test]
    fn ks_complement_of_disjoint_samples_is_zero() {
        assert_eq!(ks_complement(&[1.0, 2.0], &[5.0, 6.0, 7.0]), Some(0.0));
    }

    #[test]
    fn ks_complement_by_hand() {
        // CDFs at 1, 2, 3: real 1/2, 1, 1; synthetic 0, 1/2, 1: gap 1/2.
        let score = ks_complement(&[1.0, 2.0], &[2.0, 3.0]).expect("both sides present");
        assert!(close(score, 0.5));
    }

    #[test]
    fn ks_complement_is_undefined_without_values_on_a_side() {
        assert_eq!(ks_complement(&[1.0], &[f64::NAN]), None);
    }

    #[test]
    fn ks_rounding_merges_values_that_differ_past_fourteen_decimals() {
        let score = ks_complement(&[0.1 + 0.2], &[0.3]).expect("both sides present");
        assert!(close(score, 1.0));
    }

    #[test]
    fn tv_complement_by_hand_ignores_missing_values() {
        // Real a,a,b (2/3, 1/3); synthetic a,b,b,c (1/4, 1/2, 1/4), one missing.
        let score = tv_complement(&[1, 1, 2], &[1, 2, 2, 3, MISSING]).expect("present");
        let distance = 0.5 * ((2.0 / 3.0 - 0.25) + (0.5 - 1.0 / 3.0) + 0.25);
        assert!(close(score, 1.0 - distance));
    }

    #[test]
    fn contingency_similarity_on_a_two_by_two_example() {
        // Real cells (1,1) (1,2) (2,1) (2,2) once each; synthetic only on the diagonal.
        let real = Contingency::new(&[1, 1, 2, 2], &[1, 2, 1, 2]);
        let synthetic = Contingency::new(&[1, 2], &[1, 2]);
        assert!(close(contingency_similarity(&real, &synthetic).expect("rows"), 0.5));
        assert!(close(contingency_similarity(&real, &real).expect("rows"), 1.0));
    }

    #[test]
    fn cramers_v_is_one_for_a_perfect_association_and_zero_for_none() {
        let diagonal = Contingency::new(&[1, 1, 2, 2], &[1, 1, 2, 2]);
        let independent = Contingency::new(&[1, 1, 2, 2], &[1, 2, 1, 2]);
        assert!(close(cramers_v(&diagonal).expect("2x2 table"), 1.0));
        assert!(close(cramers_v(&independent).expect("2x2 table"), 0.0));
        assert_eq!(cramers_v(&Contingency::new(&[1, 1], &[1, 2])), None);
    }

    #[test]
    fn pearson_skips_rows_with_a_missing_value() {
        let r = pearson(&[1.0, 2.0, 3.0, f64::NAN], &[2.0, 4.0, 6.0, 1.0]).expect("defined");
        assert!(close(r, 1.0));
        assert_eq!(pearson(&[1.0, 1.0], &[1.0, 2.0]), None);
    }

    #[test]
    fn bins_follow_numpy_digitize_with_the_maximum_beside_missing() {
        let bins = pair_bins(&[0.0, 1.0, 5.0, 9.99, 10.0, f64::NAN]);
        assert_eq!(bins, [1, 2, 6, 10, 11, 11]);
    }

    #[test]
    fn a_constant_column_bins_into_one_widened_range() {
        assert_eq!(pair_bins(&[4.0, 4.0]), [6, 6]);
    }
}
