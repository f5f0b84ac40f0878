pub mod home;
pub mod login;
pub mod not_found;
pub mod profile_settings;
pub mod setup;
pub mod users_settings;
