//! The items one model was trained on, in its own dense numbering.
//!
//! A model can only recommend items its training log holds: an item the
//! synthetic log never shows is lost to a model trained on it, and that
//! loss is part of what the comparison measures. Local ids keep every
//! model's tables as small as its universe.

use super::log::Log;

/// Marks a shared item id the model never saw.
const UNSEEN: u32 = u32::MAX;

/// One model's item universe and its popularity order.
pub(super) struct Catalogue {
    /// The shared id of each local item, ascending.
    shared: Vec<u32>,
    /// The local id of each shared item, or [`UNSEEN`].
    local: Vec<u32>,
    /// Local ids by event count, most first; ties by shared id, which
    /// follows first appearance in the tables.
    popular: Vec<u32>,
    /// Each local item's place in `popular`.
    rank: Vec<u32>,
}

impl Catalogue {
    /// The items of `log`, among `universe` shared ids.
    pub(super) fn new(log: &Log, universe: usize) -> Catalogue {
        let mut counts = vec![0u32; universe];
        for &item in &log.events {
            counts[item as usize] += 1;
        }

        let shared: Vec<u32> = (0..universe as u32).filter(|&i| counts[i as usize] > 0).collect();
        let mut local = vec![UNSEEN; universe];
        for (at, &item) in shared.iter().enumerate() {
            local[item as usize] = at as u32;
        }

        let mut popular: Vec<u32> = (0..shared.len() as u32).collect();
        popular.sort_by_key(|&at| std::cmp::Reverse(counts[shared[at as usize] as usize]));
        let mut rank = vec![0u32; shared.len()];
        for (place, &at) in popular.iter().enumerate() {
            rank[at as usize] = place as u32;
        }
        Catalogue { shared, local, popular, rank }
    }

    pub(super) fn len(&self) -> usize {
        self.shared.len()
    }

    /// The local id of a shared item, if the model saw it.
    pub(super) fn local(&self, item: u32) -> Option<u32> {
        self.local.get(item as usize).copied().filter(|&at| at != UNSEEN)
    }

    /// The shared id of a local item.
    pub(super) fn shared(&self, at: u32) -> u32 {
        self.shared[at as usize]
    }

    /// The local ids of the shared `items` this model saw, in order.
    pub(super) fn known<'s>(&'s self, items: &'s [u32]) -> impl Iterator<Item = u32> + 's {
        items.iter().filter_map(|&item| self.local(item))
    }

    /// Local ids, most events first.
    pub(super) fn popular(&self) -> &[u32] {
        &self.popular
    }

    /// A local item's place in the popularity order (0 is the most popular).
    pub(super) fn rank(&self, at: u32) -> u32 {
        self.rank[at as usize]
    }
}

/// One user's history as a set over a catalogue's local ids, reused from
/// user to user so that no per-user allocation is needed.
pub(super) struct Seen {
    marked: Vec<bool>,
    items: Vec<u32>,
}

impl Seen {
    pub(super) fn new(catalogue: &Catalogue) -> Seen {
        Seen { marked: vec![false; catalogue.len()], items: Vec::new() }
    }

    /// Forgets the previous user and marks this `history` (shared ids).
    pub(super) fn mark(&mut self, catalogue: &Catalogue, history: &[u32]) {
        for &at in &self.items {
            self.marked[at as usize] = false;
        }
        self.items.clear();
        for at in catalogue.known(history) {
            self.marked[at as usize] = true;
            self.items.push(at);
        }
    }

    pub(super) fn contains(&self, at: u32) -> bool {
        self.marked[at as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn popularity_counts_events_and_breaks_ties_by_id() {
        let log = Log { histories: vec![], events: vec![4, 2, 4, 0, 2, 4] };
        let catalogue = Catalogue::new(&log, 6);
        assert_eq!(catalogue.len(), 3);
        let popular: Vec<u32> =
            catalogue.popular().iter().map(|&at| catalogue.shared(at)).collect();
        assert_eq!(popular, [4, 2, 0]);
        assert_eq!(catalogue.local(1), None);
        assert_eq!(catalogue.rank(catalogue.local(0).unwrap()), 2);
    }

    #[test]
    fn seen_forgets_the_previous_user() {
        let log = Log { histories: vec![], events: vec![0, 1, 2] };
        let catalogue = Catalogue::new(&log, 4);
        let mut seen = Seen::new(&catalogue);
        seen.mark(&catalogue, &[0, 3]);
        assert!(seen.contains(0));
        seen.mark(&catalogue, &[1]);
        assert!(!seen.contains(0) && seen.contains(1));
    }
}
