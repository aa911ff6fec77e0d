//! Helpers shared by the runner's integration tests.

use pipeline::ChangeRecord;
use store::{ChangesQuery, QueryStore};

/// Every record of a store, every page of every table, in binlog order.
pub fn all_records(q: &dyn QueryStore) -> Vec<ChangeRecord> {
    let mut out = Vec::new();
    for t in q.tables().unwrap() {
        let mut cursor = None;
        loop {
            let mut query = ChangesQuery::new(t.database.clone(), t.table.clone());
            query.limit = 1000;
            query.cursor = cursor;
            let page = q.changes(&query).unwrap();
            let empty = page.items.is_empty();
            out.extend(page.items.into_iter().map(|c| c.record));
            match page.next {
                Some(n) if !empty => cursor = Some(n),
                _ => break,
            }
        }
    }
    out.sort_by_key(|r| (r.key.binlog_file.clone(), r.key.event_pos, r.key.row_index));
    out
}
