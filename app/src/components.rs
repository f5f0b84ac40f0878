pub mod copy_button;
pub mod field;
pub mod guard;
pub mod nav;
pub mod provider_editor;
pub mod provider_logo;
pub mod session;
pub mod switch;
