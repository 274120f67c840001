//! Test logs with a planted structure the recommenders should find.
//!
//! Items fall in two clusters and every user keeps to one: they touch a few
//! of its items in training and another one later. Popularity cannot know
//! a user's cluster; item co-occurrence and BPR can.

use std::collections::BTreeMap;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::schema::infer::{ColumnHint, HintKind, infer};
use crate::schema::{IdRole, Schema};
use crate::table::{Column, Table};

/// One event: subject, item, unix seconds.
pub type Event = (String, String, i64);

/// Items per cluster.
const CLUSTER_ITEMS: usize = 30;
/// Distinct items each user touches in training.
const TRAINING_ITEMS: usize = 4;
/// The first training time; holdout events come after every training one.
const START: i64 = 1_500_000_000;
const HOLDOUT_START: i64 = START + 1_000_000;

/// A table with `user_id`, `item_id` and `timestamp` columns.
pub fn log_table<S: AsRef<str>>(events: &[(S, S, i64)]) -> Table {
    let column = |name: &str, cell: &dyn Fn(&(S, S, i64)) -> String| Column {
        name: name.to_string(),
        cells: events.iter().map(|event| Some(cell(event))).collect(),
    };
    Table::new(vec![
        column("user_id", &|e| e.0.as_ref().to_string()),
        column("item_id", &|e| e.1.as_ref().to_string()),
        column("timestamp", &|e| e.2.to_string()),
    ])
}

/// The schema of a [`log_table`]: subject, item key and unix-seconds time.
pub fn log_schema(table: &Table) -> Schema {
    let hint = |kind, format: Option<&str>, role| ColumnHint {
        kind,
        format: format.map(str::to_string),
        role,
    };
    let hints = BTreeMap::from([
        ("user_id".to_string(), hint(HintKind::Id, None, Some(IdRole::Subject))),
        ("item_id".to_string(), hint(HintKind::Id, None, Some(IdRole::Key))),
        ("timestamp".to_string(), hint(HintKind::Datetime, Some("unix_seconds"), None)),
    ]);
    infer(table, &hints).expect("the planted log has a schema")
}

/// `users` users named `{prefix}{n}`, half per cluster: training events,
/// then one new item of the same cluster each in the holdout.
pub fn clustered(users: usize, prefix: &str, seed: u64) -> (Vec<Event>, Vec<Event>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut training = Vec::new();
    let mut holdout = Vec::new();
    for user in 0..users {
        let name = format!("{prefix}{user}");
        let cluster = cluster_items(user % 2);
        let picked: Vec<&String> = cluster.choose_multiple(&mut rng, TRAINING_ITEMS + 1).collect();
        for (at, item) in picked[..TRAINING_ITEMS].iter().enumerate() {
            training.push((name.clone(), item.to_string(), START + (user * 10 + at) as i64));
        }
        let later = picked[TRAINING_ITEMS].to_string();
        holdout.push((name, later, HOLDOUT_START + user as i64));
    }
    (training, holdout)
}

/// `users` users touching items drawn from both clusters alike.
pub fn scattered(users: usize, prefix: &str, seed: u64) -> Vec<Event> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let all: Vec<String> = (0..2).flat_map(cluster_items).collect();
    let mut events = Vec::new();
    for user in 0..users {
        for at in 0..TRAINING_ITEMS {
            let item = all[rng.random_range(0..all.len())].clone();
            events.push((format!("{prefix}{user}"), item, START + (user * 10 + at) as i64));
        }
    }
    events
}

fn cluster_items(cluster: usize) -> Vec<String> {
    (0..CLUSTER_ITEMS).map(|item| format!("c{cluster}i{item}")).collect()
}
