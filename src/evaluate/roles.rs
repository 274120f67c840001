//! Which columns of a schema play which part in a behaviour log.
//!
//! The subject (user, session), the catalogue item and the event time are
//! found the same way by every part of the report, so the holdout split,
//! the privacy checks and the recommender utility agree on what a log is.

use crate::schema::{ColumnSchema, IdRole, Kind, Schema};

/// Name fragments that mark a key column as the catalogue item, preferred
/// over other keys (an invoice number is a key too, but not an item).
const ITEM_WORDS: [&str; 6] = ["item", "product", "sku", "stock", "article", "goods"];
/// Name fragments that mark a categorical column as the behaviour type.
const BEHAVIOUR_WORDS: [&str; 5] = ["behavior", "behaviour", "event", "action", "type"];

/// The first subject id column.
pub fn subject(schema: &Schema) -> Option<&ColumnSchema> {
    schema.columns.iter().find(|c| c.kind == Kind::Id { role: IdRole::Subject })
}

/// The key column most likely to name catalogue items.
pub fn item(schema: &Schema) -> Option<&ColumnSchema> {
    item_among(schema.columns.iter())
}

/// The key most likely to name catalogue items among `columns`: the first
/// whose name says item (or product, SKU, ...), else the first key.
pub fn item_among<'a>(
    columns: impl Iterator<Item = &'a ColumnSchema> + Clone,
) -> Option<&'a ColumnSchema> {
    let keys = || columns.clone().filter(|c| c.kind == Kind::Id { role: IdRole::Key });
    keys().find(|c| name_contains(c, &ITEM_WORDS)).or_else(|| keys().next())
}

/// The first datetime column: when each event happened.
pub fn time(schema: &Schema) -> Option<&ColumnSchema> {
    schema.columns.iter().find(|c| matches!(c.kind, Kind::Datetime { .. }))
}

/// The categorical column that names the behaviour type (view, buy, ...).
pub fn behaviour(schema: &Schema) -> Option<&ColumnSchema> {
    schema.columns.iter().find(|c| names_behaviour(c))
}

/// Whether a column is a categorical named for the behaviour type.
pub fn names_behaviour(column: &ColumnSchema) -> bool {
    column.kind == Kind::Categorical && name_contains(column, &BEHAVIOUR_WORDS)
}

/// A behaviour log has a subject and an event time.
pub fn is_behaviour_log(schema: &Schema) -> bool {
    subject(schema).is_some() && time(schema).is_some()
}

fn name_contains(column: &ColumnSchema, words: &[&str]) -> bool {
    let name = column.name.to_lowercase();
    words.iter().any(|word| name.contains(word))
}
