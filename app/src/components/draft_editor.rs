//! The editors' fields, rendered on the server: the application and the provider editor
//! are forms of text, yes/no and choice fields, each posting `draft[<field>]` as the draft's
//! deserialiser reads it, with the errors of the last post beside them. In the browser the
//! editors' script (`components::live_form`) checks them as the admin types; without
//! JavaScript an editor is a plain form.

use crate::components::field::{Checkbox, Radio, RadioGroup, TextField, TextFieldProps};
use crate::components::logo_field::{LogoField, LogoKind};
use crate::error::AppError;
use leptos::prelude::*;
use portcullis::field::{FieldError, message_for};

/// The field errors of the last post, shown beside the fields: those of `flash`, the error
/// a post without JavaScript left (the editors' script takes over from there).
pub fn posted_errors(flash: &Option<AppError>) -> Vec<FieldError> {
    flash
        .as_ref()
        .map(|e| e.field_errors().to_vec())
        .unwrap_or_default()
}

/// One text field of a draft: its name (posted as `draft[name]`, the name its errors carry)
/// and where its value lives. Write one with [`text!`].
pub struct DraftText<D> {
    pub name: &'static str,
    pub get: fn(&D) -> &String,
}

/// One yes/no field of a draft: its name (posted as `draft[name]=true` when checked) and
/// where its value lives. Write one with [`flag!`].
pub struct DraftFlag<D> {
    pub name: &'static str,
    pub get: fn(&D) -> bool,
}

// Copy whatever the draft is (a derive would ask it of `D`).
impl<D> Clone for DraftText<D> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<D> Copy for DraftText<D> {}
impl<D> Clone for DraftFlag<D> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<D> Copy for DraftFlag<D> {}

/// `text!(client_id)`, `text!(settings.scopes)`: that text field of the draft as a
/// [`DraftText`]. The draft is the type the calling module names `Edited`.
macro_rules! text {
    (client.$field:ident) => {
        $crate::components::draft_editor::DraftText::<Edited> {
            name: stringify!($field),
            get: |d| &d.client.$field,
        }
    };
    (settings.$field:ident) => {
        $crate::components::draft_editor::DraftText::<Edited> {
            name: stringify!($field),
            get: |d| &d.settings.$field,
        }
    };
    ($field:ident) => {
        $crate::components::draft_editor::DraftText::<Edited> {
            name: stringify!($field),
            get: |d| &d.$field,
        }
    };
}

/// `flag!(settings.enabled)`, `flag!(client.oidc)`: that yes/no field as a [`DraftFlag`]. The draft is the type the calling module names `Edited`.
macro_rules! flag {
    (client.$field:ident) => {
        $crate::components::draft_editor::DraftFlag::<Edited> {
            name: stringify!($field),
            get: |d| d.client.$field,
        }
    };
    (settings.$field:ident) => {
        $crate::components::draft_editor::DraftFlag::<Edited> {
            name: stringify!($field),
            get: |d| d.settings.$field,
        }
    };
    ($field:ident) => {
        $crate::components::draft_editor::DraftFlag::<Edited> {
            name: stringify!($field),
            get: |d| d.$field,
        }
    };
}

pub(crate) use {flag, text};

/// An editor's draft as the page shows it, and the errors of the last post beside its
/// fields. Provided to the fields below the editor.
pub struct Editor<D: Send + Sync + 'static> {
    draft: StoredValue<D>,
    errors: Signal<Vec<FieldError>>,
}

impl<D: Send + Sync + 'static> Clone for Editor<D> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<D: Send + Sync + 'static> Copy for Editor<D> {}

impl<D: Send + Sync + 'static> Editor<D> {
    /// Shows `draft` with the errors of the last post (`flash`, [`posted_errors`]) beside its
    /// fields, to the [`DraftField`]s, [`DraftCheck`]s and [`DraftRadio`]s below.
    pub fn provide(draft: D, flash: &Option<AppError>) -> Self {
        let editor = Editor {
            draft: StoredValue::new(draft),
            errors: Signal::stored(posted_errors(flash)),
        };
        provide_context(editor);
        editor
    }

    /// The editor of the draft above.
    fn get() -> Self {
        expect_context()
    }

    /// The value of `field` as the page shows it.
    fn text(self, field: DraftText<D>) -> String {
        self.draft.with_value(|d| (field.get)(d).clone())
    }

    /// The message of `field`'s error, if any.
    pub fn error(self, field: &'static str) -> Signal<Option<String>> {
        let message = self
            .errors
            .with_untracked(|e| message_for(e, field).map(str::to_owned));
        Signal::stored(message)
    }
}

/// A text field of the draft: [`TextField`] with `field`'s value, posted as `draft[name]`.
#[component]
pub fn DraftField<D: Send + Sync + 'static>(
    field: DraftText<D>,
    label: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] hint_describes: bool,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional)] required: bool,
    #[prop(optional)] readonly: bool,
    #[prop(optional)] rows: u32,
    /// Shown after the input, on its row (e.g. a button that acts on the value).
    #[prop(optional, into)]
    after: Option<ViewFnOnce>,
    /// Shown below the hint and the error.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let editor = Editor::<D>::get();
    // The props as they are: the optional ones stay unset when unset here.
    TextField(TextFieldProps {
        name: field.name,
        label,
        group: "draft",
        kind,
        autocomplete,
        required,
        readonly,
        placeholder,
        hint,
        hint_describes,
        errors: editor.errors,
        bound: None,
        node_ref: None,
        initial: Some(editor.text(field)),
        rows,
        before: None,
        after,
        children,
    })
}

/// The logo (or icon) of the draft: [`LogoField`] with `field`'s value.
#[component]
pub fn DraftLogo<D: Send + Sync + 'static>(field: DraftText<D>, kind: LogoKind) -> impl IntoView {
    let editor = Editor::<D>::get();
    view! { <LogoField kind value=editor.text(field) errors=editor.errors/> }
}

/// A checkbox of the draft: [`Checkbox`], checked as `field` is, posted as `draft[name]`.
#[component]
pub fn DraftCheck<D: Send + Sync + 'static>(
    field: DraftFlag<D>,
    label: &'static str,
    hint: &'static str,
) -> impl IntoView {
    let checked = Editor::<D>::get().draft.with_value(|d| (field.get)(d));
    view! { <Checkbox name=format!("draft[{}]", field.name) label hint checked/> }
}

/// A choice among `options` for a text field of the draft ([`RadioGroup`]), posted as
/// `draft[name]`.
#[component]
pub fn DraftRadio<D: Send + Sync + 'static>(
    field: DraftText<D>,
    legend: &'static str,
    options: Vec<Radio>,
) -> impl IntoView {
    let editor = Editor::<D>::get();
    let current = editor.text(field);
    let selected = options
        .iter()
        .find(|o| o.value == current.trim())
        .or(options.first())
        .map(|o| o.value)
        .unwrap_or_default();
    view! {
        <RadioGroup name=field.name group="draft" legend options selected error=editor.error(field.name)/>
    }
}

/// An editor's Cancel (back to `cancel`) and Save buttons (the editor's script disables
/// Save while a save runs).
#[component]
pub fn EditorActions(
    cancel: &'static str,
    save_id: &'static str,
    /// Save posts `confirm=false` (the editor asks before some saves; "Save anyway" posts
    /// `confirm=true`).
    #[prop(optional)]
    confirm: bool,
) -> impl IntoView {
    view! {
        <div class="actions">
            <a class="button" href=cancel>"Cancel"</a>
            <button
                type="submit"
                name=confirm.then_some("confirm")
                value=confirm.then_some("false")
                class="primary"
                id=save_id
            >
                "Save"
            </button>
        </div>
    }
}
