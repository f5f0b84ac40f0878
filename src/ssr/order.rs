//! A list's stored order, a `position` column: providers on the login page, applications on
//! the start page.

use super::apps::AppsError;
use super::db::Db;
use super::providers::ProviderError;
use crate::on_pool;

/// The login page's order.
pub(crate) const PROVIDERS: OrderedList = OrderedList {
    table: "oidc_providers",
    key: "slug",
    order_by: "position, slug",
};

/// The start page's order.
pub(crate) const APPS: OrderedList = OrderedList {
    table: "applications",
    key: "id",
    order_by: "position, lower(name)",
};

/// A list kept in a `position` column.
pub(crate) struct OrderedList {
    pub table: &'static str,
    /// The column that names a row.
    pub key: &'static str,
    /// The order shown, `position` first (the rest breaks ties).
    pub order_by: &'static str,
}

/// The errors a list's owner answers a reorder or a move with.
pub(crate) trait OrderError: From<sqlx::Error> {
    /// A move's key is not in the list.
    fn not_found(key: &str) -> Self;
    /// A reorder's keys do not name every row exactly once (nothing written).
    fn bad_order() -> Self;
}

/// The lists' owners answer with their own `NotFound` and `BadOrder`.
macro_rules! order_error {
    ($($error:ident),*) => {$(
        impl OrderError for $error {
            fn not_found(key: &str) -> Self {
                $error::NotFound(key.to_owned())
            }
            fn bad_order() -> Self {
                $error::BadOrder
            }
        }
    )*};
}
order_error!(AppsError, ProviderError);

impl OrderedList {
    /// Stores the order of `keys`, unless they do not name every row exactly once.
    pub async fn reorder<E: OrderError>(&self, db: &Db, keys: &[String]) -> Result<(), E> {
        let mut current = self.keys(db).await?;
        let mut wanted = keys.to_vec();
        current.sort();
        wanted.sort();
        if current != wanted {
            return Err(E::bad_order());
        }
        let update = format!(
            "UPDATE {} SET position = $2 WHERE {} = $1",
            self.table, self.key
        );
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
        Ok(())
    }

    /// Moves `key` a place up (`-1`) or down (`+1`), stopping at either end.
    pub async fn shift<E: OrderError>(&self, db: &Db, key: &str, by: i64) -> Result<(), E> {
        let order =
            shifted(self.keys(db).await?, key, by.clamp(-1, 1)).ok_or_else(|| E::not_found(key))?;
        self.reorder(db, &order).await
    }

    /// The keys in the order shown.
    async fn keys(&self, db: &Db) -> Result<Vec<String>, sqlx::Error> {
        let select = format!(
            "SELECT {} FROM {} ORDER BY {}",
            self.key, self.table, self.order_by
        );
        on_pool!(db, pool => sqlx::query_scalar(&select).fetch_all(pool).await)
    }
}

/// `order` with `key` moved `by` places (`-1` up, `+1` down), stopping at either end;
/// `None` when `key` is not in it.
fn shifted(mut order: Vec<String>, key: &str, by: i64) -> Option<Vec<String>> {
    let from = order.iter().position(|k| k == key)?;
    let to = (from as i64 + by).clamp(0, order.len() as i64 - 1) as usize;
    let item = order.remove(from);
    order.insert(to, item);
    Some(order)
}
