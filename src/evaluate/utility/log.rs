//! Who touched which item, in time order, as the recommenders read a table.
//!
//! Every behaviour type (view, cart, buy) counts as an implicit interaction.
//! Item keys get one dense id shared by all tables, so that a recommendation
//! made from the synthetic log can be checked against real holdout items.

use std::collections::{HashMap, HashSet};

use crate::evaluate::roles;
use crate::schema::{ColumnSchema, Schema};
use crate::table::Table;

/// A model reads at most this many of a user's items, the most recent: it
/// bounds item pairs and bag sizes whatever the longest history is.
pub(super) const RECENT_ITEMS: usize = 50;

/// The columns that make a table a behaviour log.
pub(super) struct Columns<'s> {
    subject: &'s ColumnSchema,
    item: &'s ColumnSchema,
    time: &'s ColumnSchema,
}

impl<'s> Columns<'s> {
    /// `Err` names the role the schema has no column for.
    pub(super) fn of(schema: &'s Schema) -> Result<Columns<'s>, String> {
        let missing = |role: &str| format!("the schema has no {role} column");
        Ok(Columns {
            subject: roles::subject(schema).ok_or_else(|| missing("subject (user) id"))?,
            item: roles::item(schema).ok_or_else(|| missing("item key"))?,
            time: roles::time(schema).ok_or_else(|| missing("event time (datetime)"))?,
        })
    }
}

/// Dense ids for item keys, shared by every table read.
#[derive(Default)]
pub(super) struct Items<'a> {
    ids: HashMap<&'a str, u32>,
}

impl<'a> Items<'a> {
    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    fn id(&mut self, key: &'a str) -> u32 {
        let next = self.ids.len() as u32;
        *self.ids.entry(key).or_insert(next)
    }
}

/// One table's interactions, grouped by subject.
#[derive(Debug, Clone, Default)]
pub(super) struct Log {
    /// Per subject, their distinct items ordered by last event, oldest
    /// first, so the most recent items are the tail.
    pub histories: Vec<Vec<u32>>,
    /// The item of every event, repeats included: popularity counts events.
    pub events: Vec<u32>,
}

impl Log {
    /// Both logs as one. Subjects are kept apart even when two ids are
    /// spelt alike, as if one side's ids carried a prefix: a synthetic
    /// pseudonym is never the real person with the same spelling.
    pub(super) fn join(&self, other: &Log) -> Log {
        let mut joined = self.clone();
        joined.histories.extend(other.histories.iter().cloned());
        joined.events.extend_from_slice(&other.events);
        joined
    }
}

/// A log with the subject id of each history, for matching real users
/// across the training and holdout parts.
pub(super) struct Subjects<'a> {
    pub names: Vec<&'a str>,
    pub log: Log,
}

/// A real user scored by every model: who touched items in training and
/// new items in the holdout.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TestUser {
    /// Distinct training items, oldest first; never recommended.
    pub history: Vec<u32>,
    /// Distinct holdout items not in the history: what a model should find.
    pub targets: Vec<u32>,
}

impl TestUser {
    /// The items a model is given: the most recent [`RECENT_ITEMS`].
    pub(super) fn recent(&self) -> &[u32] {
        recent(&self.history)
    }
}

/// The most recent [`RECENT_ITEMS`] of a history.
pub(super) fn recent(history: &[u32]) -> &[u32] {
    &history[history.len().saturating_sub(RECENT_ITEMS)..]
}

/// Reads `table` (named `part` in errors) as a log. Rows without a subject
/// or item are skipped; rows without a readable time count as the oldest,
/// as the holdout split keeps them in training; a table with no time column
/// keeps its row order.
pub(super) fn read<'a>(
    table: &'a Table,
    columns: &Columns,
    items: &mut Items<'a>,
    part: &str,
) -> Result<Subjects<'a>, String> {
    let cells = |column: &ColumnSchema, role: &str| {
        table
            .column(&column.name)
            .map(|c| c.cells.as_slice())
            .ok_or_else(|| format!("the {part} table has no `{}` column (the {role})", column.name))
    };
    let subjects = cells(columns.subject, "subject id")?;
    let keys = cells(columns.item, "item key")?;
    let times = table.column(&columns.time.name).map(|c| c.cells.as_slice());

    let mut index: HashMap<&'a str, u32> = HashMap::new();
    let mut names = Vec::new();
    let mut events = Vec::with_capacity(table.rows());
    for row in 0..table.rows() {
        let subject = columns.subject.label(subjects[row].as_deref());
        let key = columns.item.label(keys[row].as_deref());
        let (Some(subject), Some(key)) = (subject, key) else { continue };
        let user = *index.entry(subject).or_insert_with(|| {
            names.push(subject);
            names.len() as u32 - 1
        });
        let time = times
            .and_then(|cells| columns.time.number(cells[row].as_deref()))
            .unwrap_or(f64::NEG_INFINITY);
        events.push((user, time, items.id(key)));
    }

    // A stable sort: events at the same time keep their row order.
    events.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));

    let mut histories = vec![Vec::new(); names.len()];
    let mut seen = HashSet::new();
    for events in events.chunk_by(|a, b| a.0 == b.0) {
        let history = &mut histories[events[0].0 as usize];
        seen.clear();
        history.extend(events.iter().rev().map(|e| e.2).filter(|item| seen.insert(*item)));
        history.reverse();
    }
    let events = events.into_iter().map(|e| e.2).collect();
    Ok(Subjects { names, log: Log { histories, events } })
}

/// Holdout subjects that also have training events and touched at least one
/// item later that they had not touched before, in holdout order.
pub(super) fn test_users(training: &Subjects, holdout: &Subjects) -> Vec<TestUser> {
    let index: HashMap<&str, usize> =
        training.names.iter().enumerate().map(|(at, name)| (*name, at)).collect();
    holdout
        .names
        .iter()
        .zip(&holdout.log.histories)
        .filter_map(|(name, later)| {
            let history = &training.log.histories[*index.get(name)?];
            let known: HashSet<u32> = history.iter().copied().collect();
            let targets: Vec<u32> = later.iter().copied().filter(|i| !known.contains(i)).collect();
            (!targets.is_empty()).then(|| TestUser { history: history.clone(), targets })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::utility::planted::{log_schema, log_table};

    #[test]
    fn histories_are_distinct_items_ordered_by_last_event() {
        let table = log_table(&[("u1", "b", 3), ("u1", "a", 1), ("u2", "c", 5), ("u1", "b", 2)]);
        let schema = log_schema(&table);
        let columns = Columns::of(&schema).unwrap();
        let mut items = Items::default();
        let read = read(&table, &columns, &mut items, "training").unwrap();
        // Ids follow row order: b=0, a=1, c=2. u1 touched a at 1 and b last at 3.
        assert_eq!(read.names, ["u1", "u2"]);
        assert_eq!(read.log.histories, [vec![1, 0], vec![2]]);
        assert_eq!(read.log.events.len(), 4);
    }

    #[test]
    fn a_table_without_times_keeps_its_row_order() {
        let mut table = log_table(&[("s1", "b", 3), ("s1", "a", 1), ("s1", "b", 2)]);
        let schema = log_schema(&table);
        table.columns.retain(|c| c.name != "timestamp");
        let columns = Columns::of(&schema).unwrap();
        let mut items = Items::default();
        let read = read(&table, &columns, &mut items, "synthetic").unwrap();
        assert_eq!(read.log.histories, [vec![1, 0]]);
    }

    #[test]
    fn test_users_need_training_events_and_a_new_holdout_item() {
        let training = log_table(&[("u1", "a", 1), ("u2", "b", 1), ("u3", "c", 1)]);
        let holdout = log_table(&[("u1", "a", 9), ("u1", "d", 9), ("u2", "b", 9), ("u4", "e", 9)]);
        let schema = log_schema(&training);
        let columns = Columns::of(&schema).unwrap();
        let mut items = Items::default();
        let training = read(&training, &columns, &mut items, "training").unwrap();
        let holdout = read(&holdout, &columns, &mut items, "holdout").unwrap();
        let users = test_users(&training, &holdout);
        // u1 gains d; u2 only repeats b; u4 has no training history.
        assert_eq!(users, [TestUser { history: vec![0], targets: vec![3] }]);
    }

    #[test]
    fn only_the_most_recent_items_are_model_input() {
        let user = TestUser { history: (0..60).collect(), targets: vec![99] };
        assert_eq!(user.recent().len(), RECENT_ITEMS);
        assert_eq!(user.recent()[0], 10);
    }
}
