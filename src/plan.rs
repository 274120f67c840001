//! Decides how each column is synthesised, from what e-commerce data is.
//!
//! A generic tabular model one-hot encodes every label, which fails twice on
//! shop data: tens of thousands of item ids make giant, mostly empty layers,
//! and facts that hold in every real row (an item has one category) hold in
//! almost no synthetic row. So before anything is learnt, columns are split:
//!
//! - **keys** (item ids) are never learnt: each synthetic row draws a real
//!   key with its real popularity, within the value the network chose for
//!   the key's *parent* (the most detailed label every key determines, such
//!   as its category), so keys are valid and keep their long tail;
//! - **derived** columns, determined by a key in every real row, are looked
//!   up from the drawn key, so the fact keeps holding;
//! - **subjects** (user ids) become fresh pseudonyms, grouped so that events
//!   per subject follow the real distribution;
//! - **row ids** become fresh unique values; free **text** is looked up
//!   when a key determines it (a product's name) and left out otherwise;
//! - everything else is **modelled** by the network.

use std::collections::{BTreeMap, HashMap};

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::schema::{IdRole, Kind, Schema};
use crate::table::{Column, Table};

/// A parent with more labels than this is looked up from the key instead of
/// learnt: its one-hot layer would dwarf every other column (Taobao's 2,914
/// categories would make a 1 GB training matrix from 3 MB of data).
const MAX_PARENT_LABELS: usize = 500;
/// A dependency needs at least this many keys seen in two rows or more, so
/// that it is evidence rather than an accident of keys seen once.
const MIN_REPEATED_KEYS: usize = 20;
/// Share of rows that may disagree with their key's usual value and still
/// count as a dependency: real logs carry a few stray rows (one Taobao item
/// of 55,368 is filed under two categories), which would otherwise hide the
/// rule that every other row follows.
const MAX_DISAGREEING_SHARE: f64 = 0.001;
/// The same for free text looked up from a key: product names vary in
/// spelling and spacing between rows (0.9 % of Online Retail's rows).
const MAX_DISAGREEING_TEXT_SHARE: f64 = 0.02;

/// How every column of a table is produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// Output columns, in the real table's order, unlearnt text excluded.
    pub output_columns: Vec<String>,
    /// Columns the network learns.
    pub modelled: Vec<String>,
    pub keys: Vec<KeyPlan>,
    pub subjects: Vec<SubjectPlan>,
    pub row_ids: Vec<RowIdPlan>,
    /// Free-text columns no key determines: not learnt and not written.
    pub left_out: Vec<String>,
}

/// A key column drawn from the real catalogue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyPlan {
    pub column: String,
    /// The modelled column the key is drawn within, if any.
    pub parent: Option<String>,
    /// Every distinct real key (`None`: missing), in a fixed order.
    pub keys: Vec<Option<String>>,
    /// Keys grouped by their parent's label, with real counts.
    pub groups: Vec<KeyGroup>,
    /// Columns looked up from the key, aligned with `keys`.
    pub derived: Vec<Derived>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyGroup {
    pub parent: Option<String>,
    pub members: Vec<u32>,
    pub counts: Vec<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Derived {
    pub column: String,
    pub values: Vec<Option<String>>,
}

/// A subject column replaced by pseudonyms.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubjectPlan {
    pub column: String,
    /// Real events per subject, sorted.
    pub sizes: Vec<u32>,
    pub missing_rate: f64,
    pub missing_text: Option<String>,
    pub pseudonyms: Pseudonyms,
}

/// How fresh identifiers are spelt; never overlapping real ones.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "style", rename_all = "lowercase")]
pub enum Pseudonyms {
    /// Integers from `start` up; `start` is above every real id.
    Integer { start: u64 },
    /// `prefix` and a number; no real id starts with `prefix`.
    Text { prefix: String },
}

/// A row's own key, regenerated uniquely.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RowIdPlan {
    pub column: String,
    pub pseudonyms: Pseudonyms,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(
        "nothing to learn: every column is an id or free text; declare at least one column \
         numeric, categorical, boolean or datetime in dataset.schema"
    )]
    NothingToModel,
}

impl Plan {
    /// How each column is produced, in words, for reports; `network`
    /// names the model that learns the modelled columns.
    pub fn describe(&self, network: &str) -> BTreeMap<String, String> {
        let mut columns = BTreeMap::new();
        for name in &self.modelled {
            columns.insert(name.clone(), format!("learnt by the {network} network"));
        }
        for key in &self.keys {
            let how = match &key.parent {
                Some(parent) => format!("real keys drawn by popularity within `{parent}`"),
                None => "real keys drawn by popularity".to_string(),
            };
            columns.insert(key.column.clone(), how);
            for derived in &key.derived {
                columns.insert(derived.column.clone(), format!("looked up from `{}`", key.column));
            }
        }
        for subject in &self.subjects {
            let how = "fresh pseudonyms, events per subject drawn from the real distribution";
            columns.insert(subject.column.clone(), how.to_string());
        }
        for row_id in &self.row_ids {
            columns.insert(row_id.column.clone(), "fresh unique ids".to_string());
        }
        for text in &self.left_out {
            columns.insert(text.clone(), "free text: left out of training and output".to_string());
        }
        columns
    }

    /// Plans `table` under `schema`.
    pub fn build(table: &Table, schema: &Schema) -> Result<Plan, PlanError> {
        let mut taken: Vec<bool> = vec![false; schema.columns.len()];
        let mut keys = Vec::new();
        let mut parents = Vec::new();

        let mut key_columns: Vec<usize> = (0..schema.columns.len())
            .filter(|&i| matches!(schema.columns[i].kind, Kind::Id { role: IdRole::Key }))
            .collect();
        key_columns.sort_by_key(|&i| std::cmp::Reverse(schema.columns[i].distinct));

        for key in key_columns {
            if taken[key] {
                continue;
            }
            taken[key] = true;
            let dependents = dependents(table, schema, key, &taken);
            let parent = choose_parent(schema, &dependents);
            for &d in &dependents {
                taken[d] = true;
            }
            if let Some(p) = parent {
                parents.push(p);
            }
            keys.push(KeyPlan::build(table, key, parent, &dependents));
        }

        let mut plan = Plan {
            output_columns: Vec::new(),
            modelled: Vec::new(),
            keys,
            subjects: Vec::new(),
            row_ids: Vec::new(),
            left_out: Vec::new(),
        };
        for (i, column) in schema.columns.iter().enumerate() {
            let name = column.name.clone();
            match column.kind {
                Kind::Text if !taken[i] => {
                    plan.left_out.push(name);
                    continue;
                }
                Kind::Id { role: IdRole::Subject } => {
                    plan.subjects.push(SubjectPlan::build(&table.columns[i], column))
                }
                Kind::Id { role: IdRole::Row } => plan.row_ids.push(RowIdPlan {
                    column: name.clone(),
                    pseudonyms: Pseudonyms::avoiding(&table.columns[i]),
                }),
                _ if parents.contains(&i) || !taken[i] => plan.modelled.push(name.clone()),
                _ => {}
            }
            plan.output_columns.push(column.name.clone());
        }
        if plan.modelled.is_empty() {
            return Err(PlanError::NothingToModel);
        }
        Ok(plan)
    }

    /// Builds the output table from the network's modelled columns.
    pub fn complete(&self, modelled: Vec<Column>, rows: usize, rng: &mut ChaCha8Rng) -> Table {
        let mut columns: HashMap<String, Vec<Option<String>>> =
            modelled.into_iter().map(|c| (c.name, c.cells)).collect();
        for key in &self.keys {
            let parent_cells = key.parent.as_ref().and_then(|p| columns.get(p));
            let drawn = key.draw(parent_cells, rows, rng);
            columns
                .insert(key.column.clone(), drawn.iter().map(|&k| key.keys[k].clone()).collect());
            for derived in &key.derived {
                let cells = drawn.iter().map(|&k| derived.values[k].clone()).collect();
                columns.insert(derived.column.clone(), cells);
            }
        }
        for subject in &self.subjects {
            columns.insert(subject.column.clone(), subject.assign(rows, rng));
        }
        for row_id in &self.row_ids {
            let cells = (0..rows).map(|n| Some(row_id.pseudonyms.spell(n as u64))).collect();
            columns.insert(row_id.column.clone(), cells);
        }
        let columns = self
            .output_columns
            .iter()
            .map(|name| Column {
                name: name.clone(),
                cells: columns.remove(name).unwrap_or_default(),
            })
            .collect();
        Table::new(columns)
    }
}

/// Columns whose value is the same in every real row sharing a key value.
fn dependents(table: &Table, schema: &Schema, key: usize, taken: &[bool]) -> Vec<usize> {
    let key_cells = &table.columns[key].cells;
    let mut rows_per_key: HashMap<&Option<String>, u32> = HashMap::new();
    for cell in key_cells {
        *rows_per_key.entry(cell).or_default() += 1;
    }
    let repeated = rows_per_key.values().filter(|&&n| n > 1).count();
    if repeated < MIN_REPEATED_KEYS {
        return Vec::new();
    }
    (0..schema.columns.len())
        .filter(|&i| i != key && !taken[i])
        .filter(|&i| {
            !matches!(schema.columns[i].kind, Kind::Id { role: IdRole::Subject | IdRole::Row })
        })
        .filter(|&i| {
            let tolerance = match schema.columns[i].kind {
                Kind::Text => MAX_DISAGREEING_TEXT_SHARE,
                _ => MAX_DISAGREEING_SHARE,
            };
            is_determined(key_cells, &table.columns[i].cells, tolerance)
        })
        .collect()
}

fn is_determined(keys: &[Option<String>], values: &[Option<String>], tolerance: f64) -> bool {
    let mut counts: HashMap<&Option<String>, HashMap<&Option<String>, usize>> = HashMap::new();
    for (key, value) in keys.iter().zip(values) {
        *counts.entry(key).or_default().entry(value).or_default() += 1;
    }
    let agreeing: usize =
        counts.values().map(|by_value| by_value.values().max().unwrap_or(&0)).sum();
    let disagreeing = keys.len() - agreeing;
    disagreeing as f64 <= tolerance * keys.len() as f64
}

/// The most common value of `values` for each key slot (ties: the smallest).
fn usual_values(slots: &[u32], values: &[Option<String>], keys: usize) -> Vec<Option<String>> {
    let mut counts: Vec<BTreeMap<&Option<String>, usize>> = vec![BTreeMap::new(); keys];
    for (slot, value) in slots.iter().zip(values) {
        *counts[*slot as usize].entry(value).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|by_value| {
            let best = by_value.iter().max_by_key(|(v, n)| (**n, std::cmp::Reverse(**v)));
            best.and_then(|(v, _)| (*v).clone())
        })
        .collect()
}

/// The most detailed discrete dependent, which the network then learns.
fn choose_parent(schema: &Schema, dependents: &[usize]) -> Option<usize> {
    dependents
        .iter()
        .copied()
        .filter(|&i| {
            let column = &schema.columns[i];
            let discrete = column.kind.is_discrete() || matches!(column.kind, Kind::Id { .. });
            discrete && column.distinct <= MAX_PARENT_LABELS
        })
        .max_by_key(|&i| (schema.columns[i].distinct, std::cmp::Reverse(i)))
}

impl KeyPlan {
    fn build(table: &Table, key: usize, parent: Option<usize>, dependents: &[usize]) -> KeyPlan {
        let key_cells = &table.columns[key].cells;
        let mut index: BTreeMap<&Option<String>, u32> = BTreeMap::new();
        for cell in key_cells {
            index.entry(cell).or_default();
        }
        for (i, slot) in index.values_mut().enumerate() {
            *slot = i as u32;
        }
        let keys: Vec<Option<String>> = index.keys().map(|k| (*k).clone()).collect();

        let slots: Vec<u32> = key_cells.iter().map(|cell| index[cell]).collect();
        let mut grouped: BTreeMap<Option<&str>, BTreeMap<u32, u32>> = BTreeMap::new();
        for (row, &slot) in slots.iter().enumerate() {
            let parent_value = parent.and_then(|p| table.columns[p].cells[row].as_deref());
            *grouped.entry(parent_value).or_default().entry(slot).or_default() += 1;
        }
        let derived = dependents
            .iter()
            .filter(|&&d| Some(d) != parent)
            .map(|&d| Derived {
                column: table.columns[d].name.clone(),
                values: usual_values(&slots, &table.columns[d].cells, keys.len()),
            })
            .collect();
        let groups = grouped
            .into_iter()
            .map(|(parent, members)| KeyGroup {
                parent: parent.map(str::to_string),
                members: members.keys().copied().collect(),
                counts: members.values().copied().collect(),
            })
            .collect();
        KeyPlan {
            column: table.columns[key].name.clone(),
            parent: parent.map(|p| table.columns[p].name.clone()),
            keys,
            groups,
            derived,
        }
    }

    /// Draws one key index per row, within each row's parent label.
    fn draw(
        &self,
        parent: Option<&Vec<Option<String>>>,
        rows: usize,
        rng: &mut ChaCha8Rng,
    ) -> Vec<usize> {
        let samplers: HashMap<Option<&str>, (&KeyGroup, Vec<u64>)> =
            self.groups.iter().map(|g| (g.parent.as_deref(), (g, cumulative(&g.counts)))).collect();
        let all = self.all_keys();
        (0..rows)
            .map(|row| {
                let label = parent.and_then(|cells| cells[row].as_deref());
                let (group, cdf) = samplers.get(&label).map_or((&all.0, &all.1), |(g, c)| (*g, c));
                let target = rng.random_range(0..*cdf.last().unwrap_or(&1));
                group.members[cdf.partition_point(|&c| c <= target)] as usize
            })
            .collect()
    }

    /// Every key with its overall count, for rows whose parent label no key
    /// had (a missing-value marker the network produced, say).
    fn all_keys(&self) -> (KeyGroup, Vec<u64>) {
        let mut counts = vec![0u32; self.keys.len()];
        for group in &self.groups {
            for (member, count) in group.members.iter().zip(&group.counts) {
                counts[*member as usize] += count;
            }
        }
        let group =
            KeyGroup { parent: None, members: (0..self.keys.len() as u32).collect(), counts };
        let cdf = cumulative(&group.counts);
        (group, cdf)
    }
}

fn cumulative(counts: &[u32]) -> Vec<u64> {
    let mut total = 0u64;
    counts
        .iter()
        .map(|&c| {
            total += c as u64;
            total
        })
        .collect()
}

impl SubjectPlan {
    fn build(column: &Column, schema: &crate::schema::ColumnSchema) -> SubjectPlan {
        let mut per_subject: HashMap<&str, u32> = HashMap::new();
        for cell in &column.cells {
            if let Some(label) = schema.label(cell.as_deref()) {
                *per_subject.entry(label).or_default() += 1;
            }
        }
        let mut sizes: Vec<u32> = per_subject.into_values().collect();
        sizes.sort_unstable();
        SubjectPlan {
            column: column.name.clone(),
            sizes,
            missing_rate: schema.missing_rate,
            missing_text: schema.missing_text(),
            pseudonyms: Pseudonyms::avoiding(column),
        }
    }

    /// Pseudonyms for `rows` rows: missing at the real rate, and the rest in
    /// groups whose sizes are drawn from the real events per subject.
    fn assign(&self, rows: usize, rng: &mut ChaCha8Rng) -> Vec<Option<String>> {
        let mut cells: Vec<Option<String>> = Vec::with_capacity(rows);
        let missing = (self.missing_rate * rows as f64).round() as usize;
        let mut subject = 0u64;
        while cells.len() < rows - missing.min(rows) {
            let size = self.sizes[rng.random_range(0..self.sizes.len())] as usize;
            let left = rows - missing.min(rows) - cells.len();
            let name = self.pseudonyms.spell(subject);
            cells.extend(std::iter::repeat_n(Some(name), size.min(left)));
            subject += 1;
        }
        cells.extend(std::iter::repeat_n(self.missing_text.clone(), rows - cells.len()));
        cells.shuffle(rng);
        cells
    }
}

impl Pseudonyms {
    /// A spelling that cannot collide with any value of `column`.
    fn avoiding(column: &Column) -> Pseudonyms {
        let values: Vec<&str> = column.cells.iter().flatten().map(|c| c.trim()).collect();
        let integers: Option<Vec<u64>> = values
            .iter()
            .filter(|v| !crate::schema::is_null_marker(v))
            .map(|v| v.parse::<u64>().ok())
            .collect();
        if let Some(integers) = integers {
            let max = integers.into_iter().max().unwrap_or(0);
            // The next power of ten keeps the real width plus one digit, so
            // pseudonyms read as ids and are obviously new.
            let start = 10u64.checked_pow(max.checked_ilog10().unwrap_or(0) + 1).unwrap_or(max + 1);
            return Pseudonyms::Integer { start: start.max(max + 1) };
        }
        let mut prefix = "syn-".to_string();
        while values.iter().any(|v| v.starts_with(&prefix)) {
            prefix.insert(0, 'x');
        }
        Pseudonyms::Text { prefix }
    }

    fn spell(&self, n: u64) -> String {
        match self {
            Pseudonyms::Integer { start } => (start + n).to_string(),
            Pseudonyms::Text { prefix } => format!("{prefix}{n:06}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::infer::infer;
    use rand::SeedableRng;

    /// A log where every item has one category except one stray row.
    fn log() -> Table {
        let mut users = Vec::new();
        let mut items = Vec::new();
        let mut categories = Vec::new();
        let mut kinds = Vec::new();
        for row in 0..3000 {
            let item = row % 700;
            users.push(Some((row % 37 + 1).to_string()));
            items.push(Some(format!("{}", 1000 + item)));
            categories.push(Some(format!("{}", 50 + item % 13)));
            kinds.push(Some(if row % 9 == 0 { "buy" } else { "pv" }.to_string()));
        }
        categories[5] = Some("999".to_string());
        let column = |name: &str, cells| Column { name: name.to_string(), cells };
        Table::new(vec![
            column("user_id", users),
            column("item_id", items),
            column("category_id", categories),
            column("behavior_type", kinds),
        ])
    }

    #[test]
    fn an_item_keeps_its_category_despite_a_stray_row() {
        let table = log();
        let schema = infer(&table, &Default::default()).unwrap();
        let plan = Plan::build(&table, &schema).unwrap();
        let key = &plan.keys[0];
        assert_eq!(key.column, "item_id");
        assert_eq!(key.parent.as_deref(), Some("category_id"));
        assert_eq!(plan.modelled, ["category_id", "behavior_type"]);

        let categories: Vec<Option<String>> =
            (0..200).map(|i| Some(format!("{}", 50 + i % 13))).collect();
        let modelled = vec![
            Column { name: "category_id".into(), cells: categories.clone() },
            Column { name: "behavior_type".into(), cells: vec![Some("pv".into()); 200] },
        ];
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let out = plan.complete(modelled, 200, &mut rng);
        let items = &out.column("item_id").unwrap().cells;
        for (item, category) in items.iter().zip(&categories) {
            let item: u32 = item.as_deref().unwrap().parse().unwrap();
            let expected = format!("{}", 50 + (item - 1000) % 13);
            assert_eq!(category.as_deref(), Some(expected.as_str()), "item {item}");
        }
    }

    #[test]
    fn subjects_get_pseudonyms_no_real_id_has() {
        let table = log();
        let schema = infer(&table, &Default::default()).unwrap();
        let plan = Plan::build(&table, &schema).unwrap();
        let subject = &plan.subjects[0];
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let cells = subject.assign(500, &mut rng);
        let real: std::collections::HashSet<_> =
            table.column("user_id").unwrap().cells.iter().cloned().collect();
        assert_eq!(cells.len(), 500);
        assert!(cells.iter().all(|c| !real.contains(c)), "a real user id was reused");
        let mut per_subject: HashMap<&Option<String>, u32> = HashMap::new();
        for cell in &cells {
            *per_subject.entry(cell).or_default() += 1;
        }
        let largest = subject.sizes.last().copied().unwrap();
        assert!(per_subject.values().all(|&n| n <= largest), "a group outgrew every real user");
    }

    #[test]
    fn text_pseudonyms_avoid_every_real_prefix() {
        let column = Column {
            name: "account".into(),
            cells: vec![Some("syn-000001".into()), Some("abc".into())],
        };
        match Pseudonyms::avoiding(&column) {
            Pseudonyms::Text { prefix } => assert_eq!(prefix, "xsyn-"),
            other => panic!("expected text pseudonyms, got {other:?}"),
        }
    }
}
