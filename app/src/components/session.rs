//! The signed-in user, shared by every page, refreshed whenever a sign-in, sign-out or setup
//! action completes.

use crate::api::auth::{Login, Logout, Setup, me};
use crate::components::forms::Forms;
use crate::error::AppError;
use leptos::prelude::*;
use portcullis::user::UserView;

#[derive(Clone, Copy)]
pub struct SessionContext {
    pub login: ServerAction<Login>,
    pub logout: ServerAction<Logout>,
    pub setup: ServerAction<Setup>,
    pub me: Resource<Result<Option<UserView>, AppError>>,
}

impl SessionContext {
    pub fn provide() {
        let login = ServerAction::<Login>::new();
        let logout = ServerAction::<Logout>::new();
        let setup = ServerAction::<Setup>::new();
        let me = Resource::new(move || (login, logout, setup).runs(), |_| me());
        provide_context(SessionContext {
            login,
            logout,
            setup,
            me,
        });
    }

    pub fn get() -> Self {
        expect_context()
    }
}
