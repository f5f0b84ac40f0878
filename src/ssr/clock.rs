//! Time as stored in the database: whole seconds since the Unix epoch (portable across
//! SQLite and PostgreSQL without driver-specific timestamp types).

use std::time::{SystemTime, UNIX_EPOCH};

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
