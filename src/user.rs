//! What the browser may know about a user. Never carries a password hash.

use serde::{Deserialize, Serialize};

/// A user as shown to the user themself, to admins, and by `GET /api/v1/auth/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub display_name: String,
    pub admin: bool,
}
