//! Cursor pagination shared by the list routes: newest first, the cursor
//! being the last id of the previous page (ids are ULIDs, which sort by
//! creation time).

use super::problem::Problem;

const DEFAULT_PAGE: usize = 20;
const MAX_PAGE: usize = 100;

/// Checks a page request; returns the page size.
pub fn checked(cursor: Option<&str>, limit: Option<usize>) -> Result<usize, Problem> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Problem::invalid("limit", format!("must be 1 to {MAX_PAGE}, got {limit}")));
    }
    if cursor.is_some_and(|c| ulid::Ulid::from_string(c).is_err()) {
        return Err(Problem::invalid("cursor", "is not a cursor this API returned"));
    }
    Ok(limit)
}

/// Cuts `items` (fetched with one extra) to `limit`, and gives the cursor
/// of the next page when there is one.
pub fn cut<T>(
    mut items: Vec<T>,
    limit: usize,
    id: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    if items.len() <= limit {
        return (items, None);
    }
    items.truncate(limit);
    let next = items.last().map(id);
    (items, next)
}
