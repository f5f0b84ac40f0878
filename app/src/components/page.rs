//! The frame of every page that loads data: "Loading…" while it loads, the error when it
//! cannot, and the messages for the page: what the server left for it (a flash error or a
//! notice from a form posted without JavaScript) and the errors of the page's own actions.

use crate::api::admin::UsersSettingsData;
use crate::api::app_editor::AppEditorData;
use crate::api::apps::AppsSettingsData;
use crate::api::auth::{LoginPageData, SetupPageData};
use crate::api::linked::LinkedAccountsData;
use crate::api::providers::OidcSettingsData;
use crate::api::second_factor::{SecondFactorPageData, SecurityData};
use crate::api::sessions::SessionsData;
use crate::api::tokens::TokensData;
use crate::components::forms::Forms;
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use portcullis::field::FieldError;
use portcullis::user::UserView;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::marker::PhantomData;

/// What the server left for a page: an error from a form posted without JavaScript (the
/// flash) and a confirmation (the notice, e.g. "your account is now linked"). Every page's
/// data carries it as `messages`, read once ([`crate::auth::Ctx::messages`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Messages {
    pub notice: Option<String>,
    pub flash: Option<AppError>,
}

/// What a page's data carries for the page's messages besides itself.
pub trait PageData {
    fn messages(&self) -> Messages {
        Messages::default()
    }
}

impl<T: PageData> PageData for Option<T> {
    fn messages(&self) -> Messages {
        self.as_ref().map(T::messages).unwrap_or_default()
    }
}

impl PageData for UserView {}

/// Page data that carries its [`Messages`] in its `messages` field.
macro_rules! messages_field {
    ($($data:ty),*) => {$(
        impl PageData for $data {
            fn messages(&self) -> Messages {
                self.messages.clone()
            }
        }
    )*};
}
messages_field!(
    SetupPageData,
    UsersSettingsData,
    OidcSettingsData,
    SecondFactorPageData,
    AppEditorData,
    LoginPageData,
    LinkedAccountsData,
    SessionsData,
    SecurityData,
    AppsSettingsData,
    TokensData
);

/// The page's messages: the latest error (its actions' first, then the flash) and the
/// notice. Render it with [`Alert::view`] where the page wants them.
#[derive(Clone, Copy)]
pub struct Alert {
    error: Signal<Option<AppError>>,
    notice: Signal<Option<String>>,
    error_id: &'static str,
    notice_id: &'static str,
}

impl Alert {
    /// The messages: `errors` (the actions' latest) before `flash`, and no notice (a page
    /// with one sets it).
    pub fn new(
        errors: Signal<Option<AppError>>,
        flash: Option<AppError>,
        error_id: &'static str,
    ) -> Self {
        Alert {
            error: Signal::derive(move || errors.get().or_else(|| flash.clone())),
            notice: Signal::stored(None),
            error_id,
            notice_id: "",
        }
    }

    /// The error being shown, also for pages that act on its kind.
    pub fn error(self) -> Signal<Option<AppError>> {
        self.error
    }

    /// The per-field errors of the error being shown, for the page's [`TextField`]s.
    ///
    /// [`TextField`]: crate::components::field::TextField
    pub fn field_errors(self) -> Signal<Vec<FieldError>> {
        let error = self.error;
        Signal::derive(move || {
            error
                .with(|e| e.as_ref().map(|e| e.field_errors().to_vec()))
                .unwrap_or_default()
        })
    }

    /// The notice and the error. A [`AppError::NeedsConfirmation`] is not shown here: it is
    /// a question the page asks beside the button that repeats the request.
    pub fn view(self) -> impl IntoView {
        let Alert {
            error,
            notice,
            error_id,
            notice_id,
        } = self;
        let id = |id: &'static str| (!id.is_empty()).then_some(id);
        view! {
            {move || notice.get().map(|n| view! { <p class="alert ok" role="status" id=id(notice_id)>{n}</p> })}
            {move || {
                error
                    .get()
                    .filter(|e| !matches!(e, AppError::NeedsConfirmation(_)))
                    .map(|e| view! { <p class="alert error" role="alert" id=id(error_id)>{e.to_string()}</p> })
            }}
        }
    }
}

/// The data of a loaded page and its messages.
pub struct Loaded<T> {
    pub data: T,
    pub alert: Alert,
}

/// Loads `resource` and renders the children with it: "Loading…" meanwhile (the previous
/// content stays while it reloads), the error when it fails.
#[component]
pub fn DataPage<T, C, IV>(
    resource: Resource<Result<T, AppError>>,
    /// The errors of the page's actions (e.g. `move || save.failed()`), shown before the flash.
    #[prop(optional, into)]
    errors: Signal<Option<AppError>>,
    /// The id of the error message, for tests.
    #[prop(optional)]
    error_id: &'static str,
    /// The id of the notice, for tests.
    #[prop(optional)]
    notice_id: &'static str,
    children: C,
) -> impl IntoView
where
    T: PageData + Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    C: Fn(Loaded<T>) -> IV + Clone + Send + Sync + 'static,
    IV: IntoView + 'static,
{
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match resource.await {
                        Ok(data) => {
                            let Messages { notice, flash } = data.messages();
                            let alert = Alert {
                                notice: Signal::stored(notice),
                                notice_id,
                                ..Alert::new(errors, flash, error_id)
                            };
                            children(Loaded { data, alert }).into_any()
                        }
                        // The page's guard answers a caller who may not see it.
                        Err(AppError::Unauthorized | AppError::Forbidden) => ().into_any(),
                        Err(AppError::SecondFactorRequired) => step_up_needed().into_any(),
                        Err(e) => view! { <p class="alert error" role="alert">{e.to_string()}</p> }
                            .into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// An administrator's settings page (under [`AdminSection`](crate::components::guard::AdminSection)): its title, and what `load` gives, loaded again after any of the page's forms runs, shown
/// by `page` with the error of the form that failed (or else of `errors`). The forms are the
/// type `page` takes (declared with `forms!`), created here, once, for the page.
#[component]
pub fn SettingsPage<F, L, Fut, T, P, IV>(
    title: &'static str,
    load: L,
    /// Errors of other forms on the page, shown after the page's own.
    #[prop(optional, into)]
    errors: Signal<Option<AppError>>,
    /// The id of the error message, for tests.
    error_id: &'static str,
    /// The page, given its data and its forms.
    page: P,
    #[prop(marker)] _types: PhantomData<(F, IV)>,
) -> impl IntoView
where
    F: Forms + Default,
    L: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, AppError>> + Send + 'static,
    T: PageData + Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    P: Fn(Loaded<T>, F) -> IV + Clone + Send + Sync + 'static,
    IV: IntoView + 'static,
{
    let forms = F::default();
    let data = Resource::new(move || forms.runs(), move |_| load());
    let errors = Signal::derive(move || forms.failed().or_else(|| errors.get()));
    view! {
        <Title text=title/>
        {DataPage(DataPageProps {
            resource: data,
            errors,
            error_id,
            notice_id: "",
            children: move |loaded| page(loaded, forms),
        })}
    }
}

/// An administrator signed in with one factor where the policy asks two of administrators:
/// the way to give the second, coming back to this page.
fn step_up_needed() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let here = format!(
        "{}{}",
        location.pathname.get_untracked(),
        location.search.get_untracked()
    );
    let next: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::FORBIDDEN);
    }
    view! {
        <section class="card" id=crate::ids::STEP_UP_NEEDED>
            <h1>"Second factor required"</h1>
            <p>"These settings need a second factor: confirm it is you with a passkey or a one-time code."</p>
            <a class="button primary" href=format!("/second-factor?next={next}")>"Give your second factor"</a>
        </section>
    }
}
