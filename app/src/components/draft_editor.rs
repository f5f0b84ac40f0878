//! The editors' machinery, one for the application and the provider editor: the draft as one
//! value, its fields bound to it, validated as the admin types by the same function the
//! server runs before saving. A field's live errors show once the admin has left it; the
//! server's errors of the last save (or of a post without JavaScript) show at once. Without
//! JavaScript an editor is a plain form posting `draft[<field>]`.

use crate::components::field::{Bound, Checkbox, Radio, RadioGroup, TextField, TextFieldProps};
use crate::components::logo_field::LogoField;
use crate::components::page::Alert;
use leptos::prelude::*;
use portcullis::field::{FieldError, message_for};

/// A draft an editor edits: a value of text and yes/no fields, judged as a whole.
pub trait Draft: Clone + Send + Sync + 'static {
    /// What the editor knows besides the draft and needs to judge or fill it (the
    /// provider's mode, issuer policy and stored identity).
    type Context: Send + Sync + 'static;

    /// The draft's errors as it stands, named by field.
    fn errors(&self, cx: &Self::Context) -> Vec<FieldError>;

    /// Sets a text field as typed. A draft whose fields fill others does that here.
    fn set(&mut self, field: DraftText<Self>, value: String, _cx: &Self::Context) {
        *(field.get_mut)(self) = value;
    }

    /// The fields whose errors show once `field` is left, besides its own (a rule that
    /// joins two fields speaks as soon as either is left).
    fn left_with(_field: &str, _cx: &Self::Context) -> &'static [&'static str] {
        &[]
    }
}

/// One text field of a draft: its name (posted as `draft[name]`, the name its errors carry)
/// and where its value lives. Write one with [`text!`].
pub struct DraftText<D> {
    pub name: &'static str,
    pub get: fn(&D) -> &String,
    pub get_mut: fn(&mut D) -> &mut String,
}

/// One yes/no field of a draft: its name (posted as `draft[name]=true` when checked) and
/// where its value lives. Write one with [`flag!`].
pub struct DraftFlag<D> {
    pub name: &'static str,
    pub get: fn(&D) -> bool,
    pub set: fn(&mut D, bool),
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
            get_mut: |d| &mut d.client.$field,
        }
    };
    (settings.$field:ident) => {
        $crate::components::draft_editor::DraftText::<Edited> {
            name: stringify!($field),
            get: |d| &d.settings.$field,
            get_mut: |d| &mut d.settings.$field,
        }
    };
    ($field:ident) => {
        $crate::components::draft_editor::DraftText::<Edited> {
            name: stringify!($field),
            get: |d| &d.$field,
            get_mut: |d| &mut d.$field,
        }
    };
}

/// `flag!(settings.enabled)`, `flag!(client.oidc)`: that yes/no field as a [`DraftFlag`]. The draft is the type the calling module names `Edited`.
macro_rules! flag {
    (client.$field:ident) => {
        $crate::components::draft_editor::DraftFlag::<Edited> {
            name: stringify!($field),
            get: |d| d.client.$field,
            set: |d, v| d.client.$field = v,
        }
    };
    (settings.$field:ident) => {
        $crate::components::draft_editor::DraftFlag::<Edited> {
            name: stringify!($field),
            get: |d| d.settings.$field,
            set: |d, v| d.settings.$field = v,
        }
    };
    ($field:ident) => {
        $crate::components::draft_editor::DraftFlag::<Edited> {
            name: stringify!($field),
            get: |d| d.$field,
            set: |d, v| d.$field = v,
        }
    };
}

pub(crate) use {flag, text};

/// An editor's state: the draft as one value, which fields were left (validated live from
/// then on), and the errors beside the fields. Provided to the fields below the editor.
pub struct Editor<D: Draft> {
    pub draft: RwSignal<D>,
    touched: RwSignal<Vec<&'static str>>,
    /// The server's errors of the last save, then the live ones of the fields left.
    pub errors: Signal<Vec<FieldError>>,
    cx: StoredValue<D::Context>,
}

impl<D: Draft> Clone for Editor<D> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<D: Draft> Copy for Editor<D> {}

impl<D: Draft> Editor<D> {
    /// Starts editing `draft` and provides the editor to the [`DraftField`]s and
    /// [`DraftCheck`]s below. `alert` is the page's: its field errors are the server's.
    pub fn provide(draft: D, cx: D::Context, alert: Alert) -> Self {
        let draft = RwSignal::new(draft);
        let cx = StoredValue::new(cx);
        let touched = RwSignal::new(Vec::<&'static str>::new());
        let live = Memo::new(move |_| draft.with(|d| cx.with_value(|cx| d.errors(cx))));
        let server = alert.field_errors();
        let errors = Signal::derive(move || {
            let mut errors = server.get();
            touched.with(|t| {
                live.with(|live| {
                    errors.extend(
                        live.iter()
                            .filter(|e| t.contains(&e.field.as_str()))
                            .cloned(),
                    )
                })
            });
            errors
        });
        let editor = Editor {
            draft,
            touched,
            errors,
            cx,
        };
        provide_context(editor);
        editor
    }

    /// The editor of the draft above.
    pub fn get() -> Self {
        expect_context()
    }

    /// Shows `field`'s live errors from now on (and those of the fields it joins).
    pub fn touch(self, field: &'static str) {
        if !self.touched.with_untracked(|t| t.contains(&field)) {
            self.touched.update(|t| t.push(field));
        }
        for &other in self.cx.with_value(|cx| D::left_with(field, cx)) {
            self.touch(other);
        }
    }

    pub fn bind(self, field: DraftText<D>) -> Bound {
        Bound {
            value: Signal::derive(move || self.draft.with(|d| (field.get)(d).clone())),
            set: Callback::new(move |v| {
                self.draft
                    .update(|d| self.cx.with_value(|cx| d.set(field, v, cx)))
            }),
            touch: Callback::new(move |()| self.touch(field.name)),
        }
    }

    /// The message of `field`'s error being shown, if any.
    pub fn error(self, field: &'static str) -> Signal<Option<String>> {
        let errors = self.errors;
        Signal::derive(move || errors.with(|e| message_for(e, field).map(str::to_owned)))
    }
}

/// A text field of the draft: [`TextField`] bound to `field`, posted as `draft[name]`.
#[component]
pub fn DraftField<D: Draft>(
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
    #[prop(optional, into)] before: Option<ViewFnOnce>,
    #[prop(optional, into)] after: Option<ViewFnOnce>,
    #[prop(optional)] children: Option<Children>,
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
        bound: Some(editor.bind(field)),
        node_ref: None,
        initial: None,
        rows,
        before,
        after,
        children,
    })
}

/// The logo (or icon) of the draft: [`LogoField`] bound to `field`, posted as `draft[name]`.
#[component]
pub fn DraftLogo<D: Draft>(
    field: DraftText<D>,
    label: &'static str,
    /// The preview of a value (an empty value shows the caller's generic mark).
    preview: fn(String) -> AnyView,
) -> impl IntoView {
    let editor = Editor::<D>::get();
    view! {
        <LogoField name=field.name label group="draft" bound=editor.bind(field) errors=editor.errors preview/>
    }
}

/// A checkbox of the draft: [`Checkbox`] bound to `field`, posted as `draft[name]`.
#[component]
pub fn DraftCheck<D: Draft>(
    field: DraftFlag<D>,
    label: &'static str,
    hint: &'static str,
) -> impl IntoView {
    let draft = Editor::<D>::get().draft;
    view! {
        <Checkbox
            name=format!("draft[{}]", field.name)
            label
            hint
            checked=Signal::derive(move || draft.with(|d| (field.get)(d)))
            on_change=Callback::new(move |on| draft.update(|d| (field.set)(d, on)))
        />
    }
}

/// A choice among `options` for a text field of the draft ([`RadioGroup`] bound to `field`),
/// posted as `draft[name]`; its errors show once a choice is made.
#[component]
pub fn DraftRadio<D: Draft>(
    field: DraftText<D>,
    legend: &'static str,
    options: Vec<Radio>,
) -> impl IntoView {
    let editor = Editor::<D>::get();
    let current = editor.draft.with_untracked(|d| (field.get)(d).clone());
    let selected = options
        .iter()
        .find(|o| o.value == current.trim())
        .or(options.first())
        .map(|o| o.value)
        .unwrap_or_default();
    view! {
        <RadioGroup
            name=field.name
            group="draft"
            legend
            options
            selected
            error=editor.error(field.name)
            on_change=Callback::new(move |value: &'static str| {
                editor.draft.update(|d| *(field.get_mut)(d) = value.to_owned());
                editor.touch(field.name);
            })
        />
    }
}

/// An editor's card: its title, the page's messages, and the form.
#[component]
pub fn EditorCard(
    id: &'static str,
    title: &'static str,
    alert: Alert,
    children: Children,
) -> impl IntoView {
    view! {
        <section class="card editor" id=id>
            <h1>{title}</h1>
            {alert.view()}
            {children()}
        </section>
    }
}

/// An editor's Cancel (back to `cancel`) and Save buttons; Save is disabled while it runs.
#[component]
pub fn EditorActions(
    cancel: &'static str,
    save_id: &'static str,
    #[prop(into)] pending: Signal<bool>,
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
                disabled=move || pending.get()
            >
                {move || if pending.get() { "Saving…" } else { "Save" }}
            </button>
        </div>
    }
}
