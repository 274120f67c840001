//! Items touched by the same users as the user's recent items.
//!
//! Item-item cosine similarity over users' distinct item sets needs no
//! per-user parameter, so a model trained on synthetic users applies to
//! real ones: it only asks which items go together. It is the simplest
//! recommender that a log without real co-occurrence structure fails.

use super::TOP_K;
use super::catalogue::{Catalogue, Seen};
use super::log::{Log, TestUser, recent};
use super::popularity;

/// Item-item similarities, one sparse row per item.
pub(super) struct Cooccurrence<'c> {
    catalogue: &'c Catalogue,
    /// Where each item's row starts in `neighbours` and `weights`.
    starts: Vec<usize>,
    neighbours: Vec<u32>,
    /// Cosine similarity: shared users over the root of both user counts.
    weights: Vec<f64>,
}

impl<'c> Cooccurrence<'c> {
    /// Counts item pairs over each user's most recent distinct items.
    #[tracing::instrument(skip_all, fields(users = log.histories.len(), items = catalogue.len()))]
    pub(super) fn train(log: &Log, catalogue: &'c Catalogue) -> Cooccurrence<'c> {
        let sets: Vec<Vec<u32>> =
            log.histories.iter().map(|h| catalogue.known(recent(h)).collect()).collect();
        let mut users_with = vec![0u32; catalogue.len()];
        for &at in sets.iter().flatten() {
            users_with[at as usize] += 1;
        }

        // Both orders of every pair, packed so that sorting groups each
        // item's row with its neighbours ascending.
        let mut pairs: Vec<u64> = Vec::new();
        for set in &sets {
            for &a in set {
                let row = u64::from(a) << 32;
                pairs.extend(set.iter().filter(|&&b| b != a).map(|&b| row | u64::from(b)));
            }
        }
        pairs.sort_unstable();

        let mut starts = vec![0usize; catalogue.len() + 1];
        let mut neighbours = Vec::new();
        let mut weights = Vec::new();
        for run in pairs.chunk_by(|x, y| x == y) {
            let (a, b) = ((run[0] >> 32) as usize, run[0] as u32);
            let norm = f64::from(users_with[a]) * f64::from(users_with[b as usize]);
            starts[a + 1] += 1;
            neighbours.push(b);
            weights.push(run.len() as f64 / norm.sqrt());
        }
        for at in 1..starts.len() {
            starts[at] += starts[at - 1];
        }
        tracing::debug!(pairs = neighbours.len(), "item similarities counted");
        Cooccurrence { catalogue, starts, neighbours, weights }
    }

    /// Each user's top [`TOP_K`] by summed similarity to their recent
    /// items (ties to the more popular item), filled up by popularity.
    #[tracing::instrument(skip_all, fields(users = users.len()))]
    pub(super) fn recommend(&self, users: &[TestUser]) -> Vec<Vec<u32>> {
        let catalogue = self.catalogue;
        let mut seen = Seen::new(catalogue);
        let mut scores = vec![0f64; catalogue.len()];
        let mut touched: Vec<u32> = Vec::new();
        users
            .iter()
            .map(|user| {
                seen.mark(catalogue, &user.history);

                for at in catalogue.known(user.recent()) {
                    for (&b, &weight) in self.row(at) {
                        if seen.contains(b) {
                            continue;
                        }
                        if scores[b as usize] == 0.0 {
                            touched.push(b);
                        }
                        scores[b as usize] += weight;
                    }
                }

                touched.sort_by(|&x, &y| {
                    let by_score = scores[y as usize].total_cmp(&scores[x as usize]);
                    by_score.then(catalogue.rank(x).cmp(&catalogue.rank(y)))
                });
                let mut list: Vec<u32> = touched.iter().take(TOP_K).copied().collect();
                for &b in &touched {
                    scores[b as usize] = 0.0;
                }
                touched.clear();

                popularity::fill(catalogue, &seen, &mut list);
                list.iter().map(|&at| catalogue.shared(at)).collect()
            })
            .collect()
    }

    /// The neighbours of local item `at` with their similarity.
    fn row(&self, at: u32) -> impl Iterator<Item = (&u32, &f64)> {
        let span = self.starts[at as usize]..self.starts[at as usize + 1];
        self.neighbours[span.clone()].iter().zip(&self.weights[span])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_is_cosine_over_users() {
        // Items 0 and 1 share both users; item 2 shares one of three.
        let log = Log {
            histories: vec![vec![0, 1], vec![0, 1, 2], vec![2], vec![2]],
            events: vec![0, 1, 0, 1, 2, 2, 2],
        };
        let catalogue = Catalogue::new(&log, 3);
        let model = Cooccurrence::train(&log, &catalogue);
        let row: Vec<(u32, f64)> = model.row(0).map(|(&b, &w)| (b, w)).collect();
        assert_eq!(row.len(), 2);
        assert_eq!(row[0], (1, 1.0));
        assert!((row[1].1 - 1.0 / (2.0f64 * 3.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn similar_items_outrank_popular_ones() {
        // 3 is the most popular item but never seen with 0; 1 always is.
        let log = Log {
            histories: vec![vec![0, 1], vec![0, 1], vec![3], vec![3], vec![3], vec![2]],
            events: vec![0, 1, 0, 1, 3, 3, 3, 2],
        };
        let catalogue = Catalogue::new(&log, 4);
        let model = Cooccurrence::train(&log, &catalogue);
        let users = [TestUser { history: vec![0], targets: vec![1] }];
        assert_eq!(model.recommend(&users), [vec![1, 3, 2]]);
    }
}
