pub mod home;
pub mod login;
pub mod not_found;
pub mod oidc_settings;
pub mod profile_settings;
pub mod provider_edit;
pub mod setup;
pub mod users_settings;
