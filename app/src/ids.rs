//! Stable element ids and test hooks, shared by the pages and the end-to-end tests.
//! Change one here and `end2end/` must follow (it reads the same strings).

pub const LOGIN_FORM: &str = "login-form";
pub const LOGIN_ERROR: &str = "login-error";
pub const SETUP_FORM: &str = "setup-form";
pub const SETUP_ERROR: &str = "setup-error";
pub const LOGOUT_BUTTON: &str = "logout-button";
pub const WHOAMI: &str = "whoami";
pub const FORBIDDEN: &str = "forbidden";
pub const LOGIN_METHODS: &str = "login-methods";
pub const USER_LIST: &str = "user-list";
pub const LINKED_ACCOUNTS_TAB: &str = "linked-accounts-tab";
