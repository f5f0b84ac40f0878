//! A list's stored order, a `position` column: providers on the login page, applications on
//! the start page.

use super::db::Db;
use crate::on_pool;

/// Stores the order of `keys` in `table`'s `position` column, rows keyed by column `key`;
/// false, with nothing written, unless `keys` names every row exactly once.
pub(crate) async fn reorder(
    db: &Db,
    table: &str,
    key: &str,
    keys: &[String],
) -> Result<bool, sqlx::Error> {
    let select = format!("SELECT {key} FROM {table}");
    let mut current: Vec<String> =
        on_pool!(db, pool => sqlx::query_scalar(&select).fetch_all(pool).await)?;
    let mut wanted = keys.to_vec();
    current.sort();
    wanted.sort();
    if current != wanted {
        return Ok(false);
    }
    let update = format!("UPDATE {table} SET position = $2 WHERE {key} = $1");
    on_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        for (i, k) in keys.iter().enumerate() {
            sqlx::query(&update)
                .bind(k)
                .bind(i as i64)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    })?;
    Ok(true)
}

/// `order` with `key` moved `by` places (`-1` up, `+1` down), stopping at either end;
/// `None` when `key` is not in it.
pub(crate) fn shifted(mut order: Vec<String>, key: &str, by: i64) -> Option<Vec<String>> {
    let from = order.iter().position(|k| k == key)?;
    let to = (from as i64 + by).clamp(0, order.len() as i64 - 1) as usize;
    let item = order.remove(from);
    order.insert(to, item);
    Some(order)
}
