pub mod field;
pub mod guard;
pub mod nav;
pub mod session;
