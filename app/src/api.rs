//! Server functions, grouped by area. Each is thin: who is calling, validate, call the core,
//! map to a view type, and finish through [`crate::auth::respond`].

pub mod admin;
pub mod app_editor;
pub mod apps;
pub mod audit;
pub mod auth;
pub mod linked;
pub mod order;
pub mod providers;
pub mod second_factor;
pub mod sessions;
pub mod test_sign_in;
pub mod tokens;
