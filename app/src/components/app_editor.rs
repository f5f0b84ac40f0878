//! The application editor: name, URLs, icon and who may open it, validated as the admin
//! types by the same function the server runs before saving (`AppDraft::validate`).
//! Without JavaScript it is a plain form: the server's errors come back beside the fields.

use crate::api::apps::SaveApp;
use crate::components::app_icon::AppIcon;
use crate::components::field::{Bound, TextField};
use crate::components::logo_field::LogoField;
use crate::components::page::Alert;
use crate::ids;
use leptos::form::ActionForm;
use leptos::prelude::*;
use portcullis::apps::{Access, AppDraft};
use portcullis::field::{FieldError, message_for};

/// One text field of the draft: its name (posted as `draft[name]`, the name its errors
/// carry) and where its value lives.
#[derive(Clone, Copy)]
struct DraftText {
    name: &'static str,
    get: fn(&AppDraft) -> &String,
    get_mut: fn(&mut AppDraft) -> &mut String,
}

macro_rules! text {
    ($field:ident) => {
        DraftText {
            name: stringify!($field),
            get: |d| &d.$field,
            get_mut: |d| &mut d.$field,
        }
    };
}

/// The editor's state: the draft as one value, the fields left (validated live from then
/// on), and the errors beside the fields.
#[derive(Clone, Copy)]
struct Editor {
    draft: RwSignal<AppDraft>,
    touched: RwSignal<Vec<&'static str>>,
    errors: Signal<Vec<FieldError>>,
}

impl Editor {
    fn touch(self, field: &'static str) {
        if !self.touched.with_untracked(|t| t.contains(&field)) {
            self.touched.update(|t| t.push(field));
        }
    }

    fn bind(self, field: DraftText) -> Bound {
        Bound {
            value: Signal::derive(move || self.draft.with(|d| (field.get)(d).clone())),
            set: Callback::new(move |v| self.draft.update(|d| *(field.get_mut)(d) = v)),
            touch: Callback::new(move |()| self.touch(field.name)),
        }
    }

    fn error(self, field: &'static str) -> Signal<Option<String>> {
        let errors = self.errors;
        Signal::derive(move || errors.with(|e| message_for(e, field).map(str::to_owned)))
    }
}

/// The application editor. `save` and `alert` belong to the page: the alert shows the last
/// save's error, or the one a post without JavaScript left.
#[component]
pub fn AppEditor(
    draft: AppDraft,
    /// Empty for a new application.
    id: String,
    /// The plain-http image origin the server allows for icons (the icon mirror), if any,
    /// so that the live check agrees with the server's.
    http_image_origin: Option<String>,
    save: ServerAction<SaveApp>,
    alert: Alert,
) -> impl IntoView {
    let creating = id.is_empty();
    let initial_access = Access::parse(&draft.access).unwrap_or_default();
    let draft = RwSignal::new(AppDraft {
        http_image_origin,
        ..draft
    });
    let touched = RwSignal::new(Vec::<&'static str>::new());
    let live_errors = Memo::new(move |_| draft.with(|d| d.validate().err().unwrap_or_default()));
    let server_errors = alert.field_errors();
    let editor = Editor {
        draft,
        touched,
        errors: Signal::derive(move || {
            let mut errors = server_errors.get();
            touched.with(|t| {
                live_errors.with(|live| {
                    errors.extend(
                        live.iter()
                            .filter(|e| t.contains(&e.field.as_str()))
                            .cloned(),
                    )
                })
            });
            errors
        }),
    };
    let errors = editor.errors;
    let urls_error = editor.error("urls");
    let access_error = editor.error("access");
    let urls = editor.bind(text!(urls));
    let title = if creating {
        "Add Application"
    } else {
        "Edit Application"
    };
    let access_options = Access::ALL
        .into_iter()
        .map(|a| {
            let value = a.as_str();
            let hint = match a {
                Access::Users => "Anyone who can sign in to Portcullis.",
                Access::Admins => "Portcullis administrators only.",
                Access::Listed => {
                    "The users and the members of the groups named below (groups assigned here or sent by a provider)."
                }
            };
            view! {
                <label class="radio">
                    <input
                        type="radio"
                        name="draft[access]"
                        value=value
                        checked=a == initial_access
                        aria-describedby=format!("access-{value}-hint")
                        on:change=move |_| {
                            draft.update(|d| d.access = value.to_owned());
                            editor.touch("access");
                            editor.touch("users");
                        }
                    />
                    <span>{a.label()}</span>
                </label>
                <p class="hint radio-hint" id=format!("access-{value}-hint")>{hint}</p>
            }
        })
        .collect_view();
    view! {
        <section class="card editor" id=ids::APP_EDITOR>
            <h1>{title}</h1>
            {alert.view()}
            <ActionForm action=save>
                <input type="hidden" name="id" value=id/>
                <TextField
                    name="name"
                    group="draft"
                    label="Name"
                    hint="Shown on the start page."
                    required=true
                    errors
                    bound=editor.bind(text!(name))
                />
                <div class="field" class:invalid=move || urls_error.get().is_some()>
                    <label for="field-urls">"URLs"</label>
                    <textarea
                        id="field-urls"
                        name="draft[urls]"
                        rows="3"
                        required
                        spellcheck="false"
                        placeholder="https://sonarr.home.example"
                        aria-invalid=move || urls_error.get().is_some().to_string()
                        aria-describedby="field-urls-hint field-urls-error"
                        prop:value=urls.value
                        on:input=move |ev| urls.set.run(event_target_value(&ev))
                        on:blur=move |_| urls.touch.run(())
                    >
                        {urls.value.get_untracked()}
                    </textarea>
                    <p class="hint" id="field-urls-hint">
                        "One per line: where the application is reached, as scheme and host, with a path prefix if it shares its host (https://home.example/media). The start page links to the first."
                    </p>
                    <p class="field-error" id="field-urls-error" role="alert">{move || urls_error.get()}</p>
                </div>
                <LogoField
                    name="icon"
                    label="Icon"
                    group="draft"
                    bound=editor.bind(text!(icon))
                    errors
                    preview=|icon| view! { <AppIcon icon size=32/> }.into_any()
                />
                <fieldset class="field" class:invalid=move || access_error.get().is_some() aria-describedby="field-access-error">
                    <legend>"Who may open it"</legend>
                    {access_options}
                    <p class="field-error" id="field-access-error" role="alert">{move || access_error.get()}</p>
                </fieldset>
                <div class="grid-2">
                    <TextField
                        name="users"
                        group="draft"
                        label="Users"
                        hint="For \"Listed users and groups\": usernames, comma-separated."
                        autocomplete="off"
                        errors
                        bound=editor.bind(text!(users))
                    />
                    <TextField
                        name="groups"
                        group="draft"
                        label="Groups"
                        hint="For \"Listed users and groups\": group names, comma-separated."
                        autocomplete="off"
                        errors
                        bound=editor.bind(text!(groups))
                    />
                </div>
                <div class="actions">
                    <a class="button" href="/settings/applications">"Cancel"</a>
                    <button type="submit" class="primary" id=ids::SAVE_APP disabled=move || save.pending().get()>
                        {move || if save.pending().get() { "Saving…" } else { "Save" }}
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}
