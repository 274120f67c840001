//! A learned recommender: BPR with users made of their items (FISM).
//!
//! Synthetic users are not the real users, so the model may not keep a
//! vector per user. A user is the mean of the item embeddings `Q` over
//! their recent items, and item `j` scores `user . P[j] + b[j]`. Training
//! asks each (user, item) pair to score its item above a uniformly drawn
//! one, with the item itself left out of the user's mean so that the model
//! learns to predict an item from the others, as it must at test time.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Device, Kind, Tensor};

use super::TOP_K;
use super::adam::RowAdam;
use super::catalogue::Catalogue;
use super::log::{Log, TestUser, recent};

/// Embedding width.
const DIM: i64 = 32;
/// Spread of the initial embeddings.
const INIT_STD: f64 = 0.1;
const LEARNING_RATE: f64 = 0.01;
/// Weight of the squared norm of the rows a batch touches.
const L2: f64 = 1e-4;
/// At least this many (user, item) pairs per step, in whole users.
const BATCH: usize = 1024;
/// Passes over the pairs.
const EPOCHS: usize = 10;
/// Steps however few the pairs, so that a small log is learnt too.
const MIN_STEPS: usize = 300;
/// Users scored against every item at once when recommending.
const SCORE_CHUNK: usize = 256;
const FLOAT: (Kind, Device) = (Kind::Float, Device::Cpu);

/// A trained model over one catalogue.
pub(super) struct Bpr<'c> {
    catalogue: &'c Catalogue,
    /// `Q` (items as evidence), `P` (items as candidates) and `b` (bias).
    tables: [Tensor; 3],
}

impl<'c> Bpr<'c> {
    /// Trains on every user's most recent distinct items; `seed` fixes the
    /// initial weights, the pair order and the negatives.
    #[tracing::instrument(skip_all, fields(users = log.histories.len(), items = catalogue.len()))]
    pub(super) fn train(log: &Log, catalogue: &'c Catalogue, seed: u64) -> Result<Bpr<'c>, String> {
        let _threads = OneThread::new();
        tch::manual_seed(seed as i64);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let items = catalogue.len() as i64;
        let mut tables = [
            Tensor::randn([items, DIM], FLOAT) * INIT_STD,
            Tensor::randn([items, DIM], FLOAT) * INIT_STD,
            Tensor::zeros([items], FLOAT),
        ];

        let bags: Vec<Vec<u32>> =
            log.histories.iter().map(|h| catalogue.known(recent(h)).collect()).collect();
        let mut users: Vec<u32> =
            (0..bags.len() as u32).filter(|&user| !bags[user as usize].is_empty()).collect();

        let mut adam = RowAdam::new(&tables, LEARNING_RATE);
        let mut slots = Slots::new(catalogue.len());
        let (mut epochs, mut steps, mut loss) = (0, 0, f64::NAN);
        while !users.is_empty() && (epochs < EPOCHS || steps < MIN_STEPS) {
            users.shuffle(&mut rng);
            for group in batches(&users, &bags) {
                let batch = Batch::build(&bags, group, &mut slots, &mut rng);
                loss = batch.step(&mut tables, &mut adam)?;
                steps += 1;
            }
            epochs += 1;
        }
        let pairs: usize = bags.iter().map(Vec::len).sum();
        tracing::debug!(pairs, epochs, steps, loss, "bpr trained");
        Ok(Bpr { catalogue, tables })
    }

    /// Each user's top [`TOP_K`] unseen items by score, as shared ids.
    #[tracing::instrument(skip_all, fields(users = users.len()))]
    pub(super) fn recommend(&self, users: &[TestUser]) -> Result<Vec<Vec<u32>>, String> {
        let _threads = OneThread::new();
        let _guard = tch::no_grad_guard();
        let catalogue = self.catalogue;
        let items = catalogue.len();
        let k = TOP_K.min(items);
        if k == 0 {
            return Ok(vec![Vec::new(); users.len()]);
        }
        let [q, p, b] = &self.tables;
        let candidates = p.tr();
        let mut lists = Vec::with_capacity(users.len());
        for chunk in users.chunks(SCORE_CHUNK) {
            let mut members = Members::default();
            let mut seen = Vec::new();
            for (row, user) in chunk.iter().enumerate() {
                members.add(row, catalogue.known(user.recent()).map(i64::from));
                let offset = (row * items) as i64;
                seen.extend(catalogue.known(&user.history).map(|at| offset + i64::from(at)));
            }

            let scores = members.mean(q).matmul(&candidates) + b;
            let _ = scores.view([-1]).index_fill_(0, &Tensor::from_slice(&seen), f64::NEG_INFINITY);
            let (values, indices) = scores.topk(k as i64, 1, true, true);
            let error = |e: tch::TchError| format!("bpr scoring: {e}");
            let values = Vec::<f32>::try_from(values.view([-1])).map_err(error)?;
            let indices = Vec::<i64>::try_from(indices.view([-1])).map_err(error)?;

            for (values, indices) in values.chunks(k).zip(indices.chunks(k)) {
                let unseen = values.iter().zip(indices).filter(|(value, _)| value.is_finite());
                lists.push(unseen.map(|(_, &at)| catalogue.shared(at as u32)).collect());
            }
        }
        Ok(lists)
    }
}

/// Holds libtorch to one intra-op thread until dropped, then restores the
/// count. A BPR step is a few dozen operations on a few thousand rows:
/// handing each to a thread pool costs more than it saves, and on a busy
/// machine the pool's waiting threads made training on the Taobao sample
/// fifty times slower (31 s against 0.6 s on two shared cores).
struct OneThread {
    threads: i32,
}

impl OneThread {
    fn new() -> OneThread {
        let threads = tch::get_num_threads();
        tch::set_num_threads(1);
        OneThread { threads }
    }
}

impl Drop for OneThread {
    fn drop(&mut self) {
        tch::set_num_threads(self.threads);
    }
}

/// Several users' item lists, flattened for one gather and one segment sum.
#[derive(Default)]
struct Members {
    items: Vec<i64>,
    /// The user (row) of each entry of `items`.
    owners: Vec<i64>,
    /// Items per user, at least 1 so that an empty list means zero.
    sizes: Vec<f32>,
}

impl Members {
    fn add(&mut self, owner: usize, items: impl Iterator<Item = i64>) {
        let before = self.items.len();
        self.items.extend(items);
        self.owners.resize(self.items.len(), owner as i64);
        self.sizes.push((self.items.len() - before).max(1) as f32);
    }

    /// Each user's sum of `table`'s rows over their items.
    fn sum(&self, table: &Tensor) -> Tensor {
        let users = self.sizes.len() as i64;
        let rows = table.index_select(0, &Tensor::from_slice(&self.items));
        let owners = Tensor::from_slice(&self.owners);
        Tensor::zeros([users, DIM], FLOAT).index_add(0, &owners, &rows)
    }

    /// Each user's mean of `table`'s rows over their items.
    fn mean(&self, table: &Tensor) -> Tensor {
        self.sum(table) / Tensor::from_slice(&self.sizes).view([-1, 1])
    }
}

/// Consecutive runs of `users` with at least [`BATCH`] pairs each (the last
/// may have fewer). A batch takes whole users so that each user's items are
/// gathered and summed once, not once per pair.
fn batches<'u>(users: &'u [u32], bags: &[Vec<u32>]) -> Vec<&'u [u32]> {
    let mut groups = Vec::new();
    let (mut start, mut pairs) = (0, 0);
    for (at, &user) in users.iter().enumerate() {
        pairs += bags[user as usize].len();
        if pairs >= BATCH {
            groups.push(&users[start..=at]);
            (start, pairs) = (at + 1, 0);
        }
    }
    if start < users.len() {
        groups.push(&users[start..]);
    }
    groups
}

/// One step's examples: every (user, item) pair of a group of users, in
/// the numbering of the rows they touch so that only those rows are
/// gathered, differentiated and moved.
struct Batch {
    /// Local item ids touched, each once.
    rows: Tensor,
    /// Each user's items, as row slots.
    users: Members,
    /// Per pair: its user, its item and a uniformly drawn one (row slots).
    owner: Tensor,
    positive: Tensor,
    negative: Tensor,
    /// Per pair, how many other items make up its user, at least 1.
    others: Tensor,
}

impl Batch {
    fn build(bags: &[Vec<u32>], group: &[u32], slots: &mut Slots, rng: &mut ChaCha8Rng) -> Batch {
        let items = slots.slot.len() as u32;
        let mut users = Members::default();
        let (mut owner, mut positive, mut negative, mut others) = (vec![], vec![], vec![], vec![]);
        for (member, &user) in group.iter().enumerate() {
            let bag: Vec<i64> = bags[user as usize].iter().map(|&item| slots.of(item)).collect();
            users.add(member, bag.iter().copied());
            let count = (bag.len() - 1).max(1) as f32;
            for slot in bag {
                owner.push(member as i64);
                positive.push(slot);
                negative.push(slots.of(rng.random_range(0..items)));
                others.push(count);
            }
        }
        Batch {
            rows: Tensor::from_slice(&slots.take()),
            users,
            owner: Tensor::from_slice(&owner),
            positive: Tensor::from_slice(&positive),
            negative: Tensor::from_slice(&negative),
            others: Tensor::from_slice(&others).view([-1, 1]),
        }
    }

    /// One Adam step on the rows this batch touches; returns the loss.
    fn step(&self, tables: &mut [Tensor; 3], adam: &mut RowAdam) -> Result<f64, String> {
        let gathered: Vec<Tensor> = tables
            .iter()
            .map(|table| table.index_select(0, &self.rows).set_requires_grad(true))
            .collect();
        let loss = self.loss(&gathered);
        loss.backward();
        let gradients: Vec<Tensor> = gathered.iter().map(Tensor::grad).collect();
        adam.step(tables, &self.rows, &gradients);
        f64::try_from(&loss).map_err(|e| format!("bpr training: {e}"))
    }

    /// BPR's loss, -log sigmoid(score(positive) - score(negative)), with
    /// L2 on the gathered rows `[q, p, b]`. A pair's user is the mean of
    /// the user's other items: the sum less the positive item.
    fn loss(&self, gathered: &[Tensor]) -> Tensor {
        let (q, p, b) = (&gathered[0], &gathered[1], &gathered[2]);
        let sums = self.users.sum(q).index_select(0, &self.owner);
        let user = (sums - q.index_select(0, &self.positive)) / &self.others;
        let apart = p.index_select(0, &self.positive) - p.index_select(0, &self.negative);
        let bias = b.index_select(0, &self.positive) - b.index_select(0, &self.negative);
        let margin = (user * apart).sum_dim_intlist(1, false, Kind::Float) + bias;
        let norms = [q, p, b].map(|t| t.square().sum(Kind::Float));
        let [nq, np, nb] = norms;
        let pairs = self.owner.size()[0] as f64;
        -margin.log_sigmoid().mean(Kind::Float) + (nq + np + nb) * (L2 / pairs)
    }
}

/// Numbers the items one batch touches 0, 1, 2, ... in order of first use.
struct Slots {
    /// Each local item's slot in this batch, or `u32::MAX`.
    slot: Vec<u32>,
    rows: Vec<i64>,
}

impl Slots {
    fn new(items: usize) -> Slots {
        Slots { slot: vec![u32::MAX; items], rows: Vec::new() }
    }

    fn of(&mut self, item: u32) -> i64 {
        let slot = &mut self.slot[item as usize];
        if *slot == u32::MAX {
            *slot = self.rows.len() as u32;
            self.rows.push(i64::from(item));
        }
        i64::from(*slot)
    }

    /// The touched items in slot order; the numbering starts over.
    fn take(&mut self) -> Vec<i64> {
        for &item in &self.rows {
            self.slot[item as usize] = u32::MAX;
        }
        std::mem::take(&mut self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::utility::log::{self, Columns, Items};
    use crate::evaluate::utility::planted::{clustered, log_schema, log_table};
    use crate::evaluate::utility::{metrics, popularity};

    #[test]
    fn bpr_learns_the_clusters_popularity_cannot() {
        let (training, holdout) = clustered(200, "u", 3);
        let (training, holdout) = (log_table(&training), log_table(&holdout));
        let schema = log_schema(&training);
        let columns = Columns::of(&schema).unwrap();
        let mut items = Items::default();
        let training = log::read(&training, &columns, &mut items, "training").unwrap();
        let holdout = log::read(&holdout, &columns, &mut items, "holdout").unwrap();
        let users = log::test_users(&training, &holdout);
        let catalogue = Catalogue::new(&training.log, items.len());

        let model = Bpr::train(&training.log, &catalogue, 11).unwrap();
        let lists = model.recommend(&users).unwrap();
        assert!(lists.iter().zip(&users).all(|(list, user)| {
            list.len() == TOP_K && list.iter().all(|item| !user.history.contains(item))
        }));
        let learnt = metrics::mean(&users, &lists);
        let baseline = metrics::mean(&users, &popularity::recommend(&catalogue, &users));
        assert!(learnt.recall > baseline.recall + 0.2, "{learnt:?} vs {baseline:?}");
    }
}
