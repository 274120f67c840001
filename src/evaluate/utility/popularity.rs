//! The most popular items a user has not touched yet.
//!
//! The baseline every recommender must beat, and the filler for models that
//! find fewer than [`TOP_K`] candidates. Trained on a synthetic log it
//! measures whether the synthetic log ranks items as the real one does.

use super::TOP_K;
use super::catalogue::{Catalogue, Seen};
use super::log::TestUser;

/// Each user's top [`TOP_K`] by popularity, as shared item ids.
#[tracing::instrument(skip_all, fields(users = users.len(), items = catalogue.len()))]
pub(super) fn recommend(catalogue: &Catalogue, users: &[TestUser]) -> Vec<Vec<u32>> {
    let mut seen = Seen::new(catalogue);
    users
        .iter()
        .map(|user| {
            seen.mark(catalogue, &user.history);
            let mut list = Vec::with_capacity(TOP_K);
            fill(catalogue, &seen, &mut list);
            list.iter().map(|&at| catalogue.shared(at)).collect()
        })
        .collect()
}

/// Tops `list` (local ids) up to [`TOP_K`] with the most popular items that
/// are neither seen nor already listed.
pub(super) fn fill(catalogue: &Catalogue, seen: &Seen, list: &mut Vec<u32>) {
    for &at in catalogue.popular() {
        if list.len() >= TOP_K {
            break;
        }
        if !seen.contains(at) && !list.contains(&at) {
            list.push(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::utility::log::Log;

    #[test]
    fn popular_items_come_first_and_history_is_skipped() {
        let log = Log { histories: vec![], events: vec![3, 3, 3, 1, 1, 2] };
        let catalogue = Catalogue::new(&log, 5);
        let users = [
            TestUser { history: vec![], targets: vec![2] },
            TestUser { history: vec![3, 4], targets: vec![2] },
        ];
        let lists = recommend(&catalogue, &users);
        assert_eq!(lists, [vec![3, 1, 2], vec![1, 2]]);
    }
}
