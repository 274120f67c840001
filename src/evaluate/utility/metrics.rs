//! Recall@k and NDCG@k of one recommendation list, and their means.
//!
//! Relevance is binary (the user touched the item later or not), so NDCG
//! rewards hits near the top and is 1 when the first min(targets, k)
//! places are all hits.

use super::log::TestUser;
use super::{Ranking, TOP_K};

/// Share of the targets found in the first [`TOP_K`] of `list`.
pub(super) fn recall(list: &[u32], targets: &[u32]) -> f64 {
    if targets.is_empty() {
        return 0.0;
    }
    hits(list).filter(|(_, item)| targets.contains(item)).count() as f64 / targets.len() as f64
}

/// Discounted gain of the hits over the best gain `targets` allow.
pub(super) fn ndcg(list: &[u32], targets: &[u32]) -> f64 {
    let ideal: f64 = (0..targets.len().min(TOP_K)).map(discount).sum();
    if ideal == 0.0 {
        return 0.0;
    }
    let gain: f64 =
        hits(list).filter(|(_, item)| targets.contains(item)).map(|(rank, _)| discount(rank)).sum();
    gain / ideal
}

/// Mean recall and NDCG over the users, `lists[i]` being user `i`'s list.
pub(super) fn mean(users: &[TestUser], lists: &[Vec<u32>]) -> Ranking {
    let count = users.len().max(1) as f64;
    let pairs = || users.iter().zip(lists);
    Ranking {
        recall: pairs().map(|(user, list)| recall(list, &user.targets)).sum::<f64>() / count,
        ndcg: pairs().map(|(user, list)| ndcg(list, &user.targets)).sum::<f64>() / count,
    }
}

/// The first [`TOP_K`] items with their 0-based rank.
fn hits(list: &[u32]) -> impl Iterator<Item = (usize, &u32)> {
    list.iter().take(TOP_K).enumerate()
}

/// The weight of a hit at 0-based `rank`.
fn discount(rank: usize) -> f64 {
    1.0 / (rank as f64 + 2.0).log2()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn recall_counts_targets_found() {
        assert!(close(recall(&[5, 1, 7], &[1, 2, 3, 7]), 0.5));
        assert!(close(recall(&[5, 6], &[1]), 0.0));
        assert!(close(recall(&[1], &[1]), 1.0));
    }

    #[test]
    fn recall_ignores_places_past_k() {
        let mut list: Vec<u32> = (100..100 + TOP_K as u32).collect();
        list.push(1);
        assert!(close(recall(&list, &[1]), 0.0));
    }

    #[test]
    fn ndcg_discounts_by_rank_over_the_ideal() {
        // One target found second: (1 / log2 3) / (1 / log2 2).
        assert!(close(ndcg(&[9, 1], &[1]), 1.0 / 3f64.log2()));
        // Two targets, hits at ranks 0 and 2: (1 + 1/2) / (1 + 1/log2 3).
        let expected = 1.5 / (1.0 + 1.0 / 3f64.log2());
        assert!(close(ndcg(&[1, 9, 2], &[1, 2]), expected));
        assert!(close(ndcg(&[1, 2], &[2, 1]), 1.0));
    }

    #[test]
    fn ndcg_ideal_stops_at_k() {
        let targets: Vec<u32> = (0..30).collect();
        let list: Vec<u32> = (0..TOP_K as u32).collect();
        assert!(close(ndcg(&list, &targets), 1.0));
        assert!(close(recall(&list, &targets), TOP_K as f64 / 30.0));
    }

    #[test]
    fn means_are_over_users() {
        let users = [
            TestUser { history: vec![], targets: vec![1] },
            TestUser { history: vec![], targets: vec![2, 3] },
        ];
        let ranking = mean(&users, &[vec![1], vec![9, 3]]);
        assert!(close(ranking.recall, (1.0 + 0.5) / 2.0));
        let second = (1.0 / 3f64.log2()) / (1.0 + 1.0 / 3f64.log2());
        assert!(close(ranking.ndcg, (1.0 + second) / 2.0));
    }
}
