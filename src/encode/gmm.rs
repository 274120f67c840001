//! A one-dimensional Gaussian mixture, fitted by expectation-maximisation.
//!
//! This is the "mode-specific normalisation" of the CTGAN paper: a numeric
//! column is split into the modes of its distribution, and each value is
//! encoded as (which mode, where inside it). Spikes such as the zeros of a
//! zero-inflated column become their own narrow mode and come back exactly.

use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Most modes a column is split into, as in CTGAN.
pub const MAX_MODES: usize = 10;
/// Modes lighter than this are dropped after fitting, as in CTGAN.
const MIN_WEIGHT: f64 = 0.005;
/// Values used to fit; larger columns are subsampled.
const FIT_SAMPLE: usize = 20_000;
const ITERATIONS: usize = 60;
/// Smallest standard deviation, as a share of the column's spread, so that a
/// spike of identical values gets a narrow mode instead of a singular one.
const MIN_STD_SHARE: f64 = 1e-4;

/// A mode this much wider than the narrowest allowed is still a spike.
const SPIKE_SLACK: f64 = 1.5;

/// A fitted mixture: modes sorted by mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mixture {
    pub weights: Vec<f64>,
    pub means: Vec<f64>,
    pub stds: Vec<f64>,
    /// Modes of one repeated value (the zeros of a zero-inflated column):
    /// decoded to exactly that value, never to a value near it.
    pub spikes: Vec<bool>,
}

impl Mixture {
    /// Fits up to [`MAX_MODES`] modes to `values` (which must not be empty).
    pub fn fit(values: &[f64], rng: &mut ChaCha8Rng) -> Mixture {
        let sample: Vec<f64> = if values.len() > FIT_SAMPLE {
            (0..FIT_SAMPLE).map(|_| *values.choose(rng).expect("values are not empty")).collect()
        } else {
            values.to_vec()
        };
        let (low, high) =
            sample.iter().fold((f64::MAX, f64::MIN), |(l, h), &v| (l.min(v), h.max(v)));
        let min_std = ((high - low) * MIN_STD_SHARE).max(1e-9);

        let mut distinct = sample.clone();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        if distinct.len() <= MAX_MODES {
            return Self::from_atoms(&sample, &distinct, min_std);
        }

        let mut mixture = Self::initial(&distinct, min_std);
        mixture.run_em(&sample, min_std, ITERATIONS);
        mixture.prune();
        mixture.run_em(&sample, min_std, ITERATIONS / 4);
        mixture.sort();
        mixture.spikes = mixture.stds.iter().map(|&s| s <= min_std * SPIKE_SLACK).collect();
        mixture
    }

    /// One narrow mode per distinct value, weighted by its frequency.
    fn from_atoms(sample: &[f64], distinct: &[f64], min_std: f64) -> Mixture {
        let weights = distinct
            .iter()
            .map(|d| sample.iter().filter(|v| *v == d).count() as f64 / sample.len() as f64)
            .collect();
        Mixture {
            weights,
            means: distinct.to_vec(),
            stds: vec![min_std; distinct.len()],
            spikes: vec![true; distinct.len()],
        }
    }

    /// Means at evenly spaced quantiles of the distinct values, so spikes and
    /// tails both get a starting mode.
    fn initial(distinct: &[f64], min_std: f64) -> Mixture {
        let last = distinct.len() - 1;
        let means: Vec<f64> =
            (0..MAX_MODES).map(|k| distinct[k * last / (MAX_MODES - 1)]).collect();
        let spread = (distinct[last] - distinct[0]) / MAX_MODES as f64;
        Mixture {
            weights: vec![1.0 / MAX_MODES as f64; MAX_MODES],
            means,
            stds: vec![spread.max(min_std); MAX_MODES],
            spikes: Vec::new(),
        }
    }

    fn run_em(&mut self, sample: &[f64], min_std: f64, iterations: usize) {
        let modes = self.means.len();
        let mut resp = vec![0.0; modes];
        for _ in 0..iterations {
            let mut total = vec![0.0; modes];
            let mut sum = vec![0.0; modes];
            let mut sum_sq = vec![0.0; modes];
            for &x in sample {
                self.posterior(x, &mut resp);
                for (k, r) in resp.iter().enumerate() {
                    total[k] += r;
                    sum[k] += r * x;
                    sum_sq[k] += r * x * x;
                }
            }
            for k in 0..modes {
                let weight = total[k].max(1e-12);
                let mean = sum[k] / weight;
                let variance = (sum_sq[k] / weight - mean * mean).max(0.0);
                self.weights[k] = weight / sample.len() as f64;
                self.means[k] = mean;
                self.stds[k] = variance.sqrt().max(min_std);
            }
        }
    }

    fn prune(&mut self) {
        let keep: Vec<usize> =
            (0..self.weights.len()).filter(|&k| self.weights[k] > MIN_WEIGHT).collect();
        let total: f64 = keep.iter().map(|&k| self.weights[k]).sum();
        self.weights = keep.iter().map(|&k| self.weights[k] / total).collect();
        self.means = keep.iter().map(|&k| self.means[k]).collect();
        self.stds = keep.iter().map(|&k| self.stds[k]).collect();
    }

    fn sort(&mut self) {
        let mut order: Vec<usize> = (0..self.means.len()).collect();
        order.sort_by(|&a, &b| self.means[a].total_cmp(&self.means[b]));
        self.weights = order.iter().map(|&k| self.weights[k]).collect();
        self.means = order.iter().map(|&k| self.means[k]).collect();
        self.stds = order.iter().map(|&k| self.stds[k]).collect();
    }

    pub fn modes(&self) -> usize {
        self.means.len()
    }

    /// Writes into `resp` the probability of each mode given `x`.
    pub fn posterior(&self, x: f64, resp: &mut [f64]) {
        let mut best = f64::MIN;
        let modes = self.weights.iter().zip(&self.means).zip(&self.stds);
        for (r, ((weight, mean), std)) in resp.iter_mut().zip(modes) {
            let z = (x - mean) / std;
            *r = weight.max(1e-300).ln() - std.ln() - 0.5 * z * z;
            best = best.max(*r);
        }
        let mut total = 0.0;
        for r in resp.iter_mut() {
            *r = (*r - best).exp();
            total += *r;
        }
        resp.iter_mut().for_each(|r| *r /= total);
    }

    /// Draws a mode for `x` from its posterior, as CTGAN's encoder does.
    pub fn draw_mode(&self, x: f64, resp: &mut [f64], rng: &mut ChaCha8Rng) -> usize {
        self.posterior(x, resp);
        let mut target: f64 = rng.random();
        for (k, p) in resp.iter().enumerate() {
            target -= p;
            if target <= 0.0 {
                return k;
            }
        }
        resp.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};

    #[test]
    fn two_separated_bumps_get_two_heavy_modes() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let low = Normal::new(-10.0, 1.0).unwrap();
        let high = Normal::new(10.0, 2.0).unwrap();
        let values: Vec<f64> = (0..4000)
            .map(|i| if i % 4 == 0 { high.sample(&mut rng) } else { low.sample(&mut rng) })
            .collect();
        let mixture = Mixture::fit(&values, &mut rng);
        let heavy_low: f64 = (0..mixture.modes())
            .filter(|&k| mixture.means[k] < 0.0)
            .map(|k| mixture.weights[k])
            .sum();
        assert!((heavy_low - 0.75).abs() < 0.03, "{mixture:?}");
    }

    #[test]
    fn a_spike_of_zeros_gets_its_own_narrow_mode() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut values = vec![0.0; 900];
        values.extend((1..=100).map(|v| v as f64 * 100.0));
        let mixture = Mixture::fit(&values, &mut rng);
        let zero = (0..mixture.modes()).find(|&k| mixture.means[k].abs() < 1e-6).unwrap();
        assert!(mixture.weights[zero] > 0.85 && mixture.stds[zero] <= 1.0, "{mixture:?}");
        assert!(mixture.spikes[zero], "the zeros are not marked a spike: {mixture:?}");
        let spikes_away_from_zero =
            (0..mixture.modes()).filter(|&k| mixture.spikes[k] && mixture.means[k].abs() > 1e-6);
        assert_eq!(spikes_away_from_zero.count(), 0, "{mixture:?}");
    }

    #[test]
    fn few_distinct_values_become_one_mode_each() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mixture = Mixture::fit(&[1.0, 2.0, 2.0, 3.0], &mut rng);
        assert_eq!(mixture.means, [1.0, 2.0, 3.0]);
        assert_eq!(mixture.weights, [0.25, 0.5, 0.25]);
    }
}
