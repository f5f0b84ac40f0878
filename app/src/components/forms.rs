//! A page's forms (server actions): the page loads its data again after any of them runs and
//! shows the error of the one that failed. Declare a page's forms with [`forms!`].

use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// One form or several.
pub trait Forms: Copy + Send + Sync + 'static {
    /// How many times they have run, in all (tracked: a resource's source).
    fn runs(self) -> usize;
    /// The error of the first whose last run failed (tracked).
    fn failed(self) -> Option<AppError>;
}

impl<S> Forms for ServerAction<S>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    fn runs(self) -> usize {
        self.version().get()
    }

    fn failed(self) -> Option<AppError> {
        self.value().get().and_then(Result::err)
    }
}

/// Forms for a tuple of forms, in order.
macro_rules! tuple_forms {
    ($($f:ident),+) => {
        impl<$($f: Forms),+> Forms for ($($f,)+) {
            #[allow(non_snake_case)]
            fn runs(self) -> usize {
                let ($($f,)+) = self;
                0 $(+ $f.runs())+
            }

            #[allow(non_snake_case)]
            fn failed(self) -> Option<AppError> {
                let ($($f,)+) = self;
                None $(.or_else(|| $f.failed()))+
            }
        }
    };
}
tuple_forms!(A, B);
tuple_forms!(A, B, C);
tuple_forms!(A, B, C, D);
tuple_forms!(A, B, C, D, E);
tuple_forms!(A, B, C, D, E, F);

/// `forms! { struct Actions { delete: DeleteApp, shift: MoveEntry } }`: a struct of the
/// page's server actions by name, `Actions::new()` creating them, and [`Forms`] over all.
/// Create it in the page component, not in a closure that may run again (see
/// `guard::authed`).
macro_rules! forms {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($field:ident: $action:ty),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy)]
        $vis struct $name {
            $(pub $field: ::leptos::prelude::ServerAction<$action>,)+
        }

        impl $name {
            $vis fn new() -> Self {
                Self { $($field: ::leptos::prelude::ServerAction::new(),)+ }
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl $crate::components::forms::Forms for $name {
            fn runs(self) -> usize {
                $crate::components::forms::Forms::runs(($(self.$field,)+))
            }

            fn failed(self) -> Option<$crate::error::AppError> {
                $crate::components::forms::Forms::failed(($(self.$field,)+))
            }
        }
    };
}
pub(crate) use forms;
