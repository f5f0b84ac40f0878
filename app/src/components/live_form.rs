//! An editor's form, and what it does in the browser: the provider and application editors.
//!
//! The whole form is rendered on the server ([`LiveForm`] around the fields of
//! `components::draft_editor`), and posts without JavaScript. In the browser a small script
//! takes it over ([`start`], the bundle's entry), written against the DOM alone so that an
//! editor's first load carries no framework (issue 20: `docs/light-pages.md`): the form as
//! the admin left it is the draft. At each edit it reads the form with `FormData`, the same
//! fields a post without JavaScript sends, judges the draft with the function the server
//! runs before saving, and writes each message into its field's error element: a field's
//! live errors show once the admin has left it, the server's errors of the last save (or of
//! a post without JavaScript) at once. It posts the form without leaving the page, shows the
//! alert and the Save button's state. The parts that render views in the browser (the icon
//! picker, the logo's preview, Test connection's report) are Leptos components in modules
//! of their own, fetched when first used (`#[lazy]`).

use crate::components::draft_editor::{EditorActions, posted_errors};
use crate::error::AppError;
use crate::ids;
use leptos::prelude::*;
use portcullis::field::FieldError;
use serde::{Deserialize, Serialize};

/// A draft an editor edits, as its form posts it (`draft[<field>]`), judged as a whole.
#[cfg(feature = "hydrate")]
pub trait Draft: serde::de::DeserializeOwned + 'static {
    /// What the editor knows besides the form and needs to judge or fill it (the
    /// provider's mode, issuer policy and stored identity; the image origin).
    type Context: serde::de::DeserializeOwned + 'static;

    /// The draft's errors as it stands, named by field.
    fn errors(self, cx: &Self::Context) -> Vec<FieldError>;

    /// The fields whose errors show once `field` is left, besides its own (a rule that
    /// joins two fields speaks as soon as either is left).
    fn left_with(_field: &str, _cx: &Self::Context) -> &'static [&'static str] {
        &[]
    }

    /// After the admin changed `field` (`None`: the form as the page came, with what was
    /// typed before the script ran): a form whose fields fill others does that here.
    fn typed(_form: &FormFields, _field: Option<&str>, _cx: &Self::Context) {}
}

/// Which editor a form is: the draft its script reads, where it posts, and its ids.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum EditorKind {
    Provider,
    App,
}

impl EditorKind {
    fn as_str(self) -> &'static str {
        match self {
            EditorKind::Provider => "provider",
            EditorKind::App => "app",
        }
    }

    /// The server function it posts to.
    fn action(self) -> &'static str {
        use leptos::server_fn::ServerFn;
        match self {
            EditorKind::Provider => crate::api::providers::SaveProvider::PATH,
            EditorKind::App => crate::api::apps::SaveApp::PATH,
        }
    }

    /// The ids of its card, its alert and its Save button.
    fn ids(self) -> (&'static str, &'static str, &'static str) {
        match self {
            EditorKind::Provider => (ids::PROVIDER_EDITOR, ids::EDITOR_ERROR, ids::SAVE_PROVIDER),
            EditorKind::App => (ids::APP_EDITOR, ids::APP_EDITOR_ERROR, ids::SAVE_APP),
        }
    }

    /// Where Cancel goes.
    fn cancel(self) -> &'static str {
        match self {
            EditorKind::Provider => "/settings/users/oidc",
            EditorKind::App => "/settings/applications",
        }
    }

    /// Whether the server may ask before it saves ("Save anyway": a provider it cannot reach).
    fn asks(self) -> bool {
        self == EditorKind::Provider
    }
}

/// What the form's script is told by the page (as JSON in `data-setup`): nothing secret.
#[derive(Serialize, Deserialize)]
struct Setup<C> {
    cx: C,
    /// The errors beside the fields as the page came (the last post's).
    errors: Vec<FieldError>,
}

/// An editor: its card and title, its alert (the last post's error, or `flash`: the one a
/// post without JavaScript left), the fields (`children`), Cancel and Save, and the question
/// "Save anyway?" when the server asks it.
#[component]
pub fn LiveForm<C: Serialize + 'static>(
    kind: EditorKind,
    title: &'static str,
    cx: C,
    flash: Option<AppError>,
    children: Children,
) -> impl IntoView {
    let (card_id, alert_id, save_id) = kind.ids();
    let confirm = kind.asks();
    let setup = serde_json::to_string(&Setup {
        cx,
        errors: posted_errors(&flash),
    })
    .unwrap_or_default();
    let (alert, question) = match flash {
        Some(AppError::NeedsConfirmation(q)) => (None, Some(q)),
        Some(e) => (Some(e.to_string()), None),
        None => (None, None),
    };
    // Both messages are always there, hidden when empty: the script fills and shows them.
    let (no_alert, no_question) = (alert.is_none(), question.is_none());
    view! {
        <section class="card editor" id=card_id>
        <h1>{title}</h1>
        <p class="alert error" role="alert" id=alert_id hidden=no_alert>{alert}</p>
        <form method="post" action=kind.action() data-editor=kind.as_str() data-setup=setup>
            // Enter in a field submits with the form's first submit button: Save, not a
            // button of a field's own (Test sign-in posts elsewhere).
            <button
                type="submit"
                hidden=true
                tabindex="-1"
                name=confirm.then_some("confirm")
                value=confirm.then_some("false")
            ></button>
            {children()}
            <EditorActions cancel=kind.cancel() save_id confirm/>
            {confirm.then(|| view! {
                <div class="alert warn" role="alert" id=ids::SAVE_WARNING hidden=no_question>
                    <p>{question}</p>
                    <button type="submit" name="confirm" value="true" class="danger">"Save anyway"</button>
                </div>
            })}
        </form>
        </section>
    }
}

/// The editor's form in the page, as the browser holds it.
#[cfg(feature = "hydrate")]
pub struct FormFields {
    form: web_sys::HtmlFormElement,
}

#[cfg(feature = "hydrate")]
impl FormFields {
    /// The value of text field `name` (`draft[name]`).
    pub fn value(&self, name: &str) -> String {
        self.input(name).map(|i| i.value()).unwrap_or_default()
    }

    /// Sets text field `name` (`draft[name]`), as the page fills one from another.
    pub fn set_value(&self, name: &str, value: &str) {
        if let Some(input) = self.input(name) {
            input.set_value(value);
        }
    }

    /// Sets the value of the (read-only) input `id` of the page, e.g. a URL derived from the
    /// fields.
    pub fn show(&self, id: &str, value: &str) {
        if let Some(input) = browser::by_id::<web_sys::HtmlInputElement>(id) {
            input.set_value(value);
        }
    }

    fn input(&self, name: &str) -> Option<web_sys::HtmlInputElement> {
        use wasm_bindgen::JsCast;
        self.form
            .query_selector(&format!("input[name='draft[{name}]']"))
            .ok()??
            .dyn_into()
            .ok()
    }
}

/// The bundle's entry: takes the page's editor form over, if it has one, and marks the page
/// live (`data-hydrated`: tests wait for it; `public/pkg/page.js` sets it on other pages).
#[cfg(feature = "hydrate")]
pub fn start() {
    use portcullis::apps::AppDraft;
    use portcullis::provider::ProviderDraft;
    if let Some(form) = browser::doc()
        .query_selector("form[data-editor]")
        .ok()
        .flatten()
        .and_then(|f| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlFormElement>(f).ok())
    {
        let named = form.get_attribute("data-editor");
        let kind = [EditorKind::Provider, EditorKind::App]
            .into_iter()
            .find(|k| named.as_deref() == Some(k.as_str()));
        match kind {
            Some(kind @ EditorKind::Provider) => browser::attach::<ProviderDraft>(form, kind),
            Some(kind @ EditorKind::App) => browser::attach::<AppDraft>(form, kind),
            None => {}
        }
        crate::components::logo_field::attach();
        crate::components::provider_editor::attach();
    }
    if let Some(root) = browser::doc().document_element() {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}

/// The script itself: the DOM, through `web_sys`.
#[cfg(feature = "hydrate")]
pub mod browser {
    use super::{Draft, EditorKind, FormFields, Setup};
    use crate::components::form_post::{form_body, post};
    use crate::error::AppError;
    use portcullis::field::{FieldError, message_for};
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::Closure;
    use web_sys::{Element, Event, HtmlButtonElement, HtmlElement, HtmlFormElement};

    pub fn doc() -> web_sys::Document {
        web_sys::window()
            .and_then(|w| w.document())
            .expect("a document")
    }

    /// The element `id` of the page, as a `T`.
    pub fn by_id<T: JsCast>(id: &str) -> Option<T> {
        doc().get_element_by_id(id)?.dyn_into().ok()
    }

    /// Calls `f` at each `event` on `target`, for as long as the page lives.
    pub fn on(target: &web_sys::EventTarget, event: &str, f: impl FnMut(Event) + 'static) {
        let f = Closure::<dyn FnMut(Event)>::new(f);
        let _ = target.add_event_listener_with_callback(event, f.as_ref().unchecked_ref());
        f.forget();
    }

    /// Sets element `id`'s text and shows it, or hides it with `None`.
    pub fn say(id: &str, text: Option<&str>) {
        if let Some(el) = by_id::<HtmlElement>(id) {
            el.set_text_content(text);
            el.set_hidden(text.is_none());
        }
    }

    /// Puts `value` in the input `id` and tells the page, as typing it would (the form's
    /// live check and the logo's preview hear it).
    pub fn put(id: &str, value: &str) {
        let Some(input) = by_id::<web_sys::HtmlInputElement>(id) else {
            return;
        };
        input.set_value(value);
        let init = web_sys::EventInit::new();
        init.set_bubbles(true);
        if let Ok(ev) = Event::new_with_event_init_dict("input", &init) {
            let _ = input.dispatch_event(&ev);
        }
    }

    /// Mounts `view` in `parent` in place of what `shown` last mounted there (dropping it, and
    /// its reactive owner, unmounts it) or of the server's markup: for the editors' parts
    /// that render views, in their own modules (`#[lazy]`).
    pub fn mount_in<N: leptos::prelude::IntoView + 'static>(
        shown: &'static std::thread::LocalKey<RefCell<Option<Box<dyn std::any::Any>>>>,
        parent: HtmlElement,
        view: impl FnOnce() -> N + 'static,
    ) {
        shown.with(|s| s.borrow_mut().take());
        parent.set_inner_html("");
        let handle = leptos::mount::mount_to(parent, view);
        shown.with(|s| *s.borrow_mut() = Some(Box::new(handle)));
    }

    /// A button's state while what it started runs: disabled, saying `busy`; then as it was.
    pub fn busy(button: &HtmlButtonElement, busy: Option<&str>) {
        match busy {
            Some(text) => {
                if !button.has_attribute("data-idle") {
                    let idle = button.text_content().unwrap_or_default();
                    let _ = button.set_attribute("data-idle", &idle);
                }
                button.set_text_content(Some(text));
                button.set_disabled(true);
            }
            None => {
                if let Some(idle) = button.get_attribute("data-idle") {
                    button.set_text_content(Some(&idle));
                }
                button.set_disabled(false);
            }
        }
    }

    /// An editor's form, live.
    struct Live<D: Draft> {
        fields: FormFields,
        /// Which editor: its alert's and its Save button's ids.
        kind: EditorKind,
        cx: D::Context,
        /// The errors of the last post (at first, the page's).
        server: RefCell<Vec<FieldError>>,
        /// The live errors of the draft as it stands.
        live: RefCell<Vec<FieldError>>,
        /// The fields the admin has left: their live errors show.
        touched: RefCell<Vec<String>>,
    }

    pub fn attach<D: Draft>(form: HtmlFormElement, kind: EditorKind) {
        let Some(Setup { cx, errors }) = form
            .get_attribute("data-setup")
            .and_then(|s| serde_json::from_str::<Setup<D::Context>>(&s).ok())
        else {
            return;
        };
        let live = Rc::new(Live::<D> {
            fields: FormFields { form: form.clone() },
            kind,
            cx,
            server: RefCell::new(errors),
            live: RefCell::default(),
            touched: RefCell::default(),
        });
        live.check(None);
        let l = live.clone();
        // Only the draft's fields (the icon picker's search box is in the form too).
        on(&form, "input", move |ev| {
            if let Some(f) = field_of(&ev) {
                l.check(Some(&f));
            }
        });
        let l = live.clone();
        on(&form, "change", move |ev| {
            let Some(f) = field_of(&ev) else {
                return;
            };
            // A choice is made by changing it: it is left at once.
            if is_choice(&ev) {
                l.touch(&f);
            }
            l.check(Some(&f));
        });
        let l = live.clone();
        on(&form, "focusout", move |ev| {
            if let Some(f) = field_of(&ev) {
                l.touch(&f);
            }
        });
        let l = live;
        on(&form.clone(), "submit", move |ev| l.submit(&form, ev));
    }

    impl<D: Draft> Live<D> {
        fn check(&self, field: Option<&str>) {
            D::typed(&self.fields, field, &self.cx);
            if let Some(draft) = self.draft() {
                *self.live.borrow_mut() = draft.errors(&self.cx);
            }
            self.show();
        }

        fn touch(&self, field: &str) {
            {
                let mut touched = self.touched.borrow_mut();
                for f in std::iter::once(field).chain(D::left_with(field, &self.cx).iter().copied())
                {
                    if !touched.iter().any(|t| t == f) {
                        touched.push(f.to_owned());
                    }
                }
            }
            self.show();
        }

        /// The draft as the form would post it now.
        fn draft(&self) -> Option<D> {
            let data = web_sys::FormData::new_with_form(&self.fields.form).ok()?;
            let mut fields = serde_json::Map::new();
            for entry in js_sys::try_iter(&data).ok()?? {
                let entry = js_sys::Array::from(&entry.ok()?);
                let (Some(key), Some(value)) = (entry.get(0).as_string(), entry.get(1).as_string())
                else {
                    continue;
                };
                if let Some(name) = key.strip_prefix("draft[").and_then(|k| k.strip_suffix(']')) {
                    fields.insert(name.to_owned(), value.into());
                }
            }
            serde_json::from_value(serde_json::Value::Object(fields)).ok()
        }

        /// Writes the errors beside their fields: the last post's, then the live ones of the
        /// fields left. Each field's error element (`field-<name>-error`, the markup of every
        /// control in `components::field`), its `invalid` mark and its control's
        /// `aria-invalid`.
        fn show(&self) {
            let mut errors = self.server.borrow().clone();
            let touched = self.touched.borrow();
            errors.extend(
                self.live
                    .borrow()
                    .iter()
                    .filter(|e| touched.contains(&e.field))
                    .cloned(),
            );
            let Ok(list) = self
                .fields
                .form
                .query_selector_all("p.field-error[id^='field-']")
            else {
                return;
            };
            for i in 0..list.length() {
                let Some(p) = list.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
                    continue;
                };
                let id = p.id();
                let Some(name) = id
                    .strip_prefix("field-")
                    .and_then(|n| n.strip_suffix("-error"))
                else {
                    continue;
                };
                let message = message_for(&errors, name).unwrap_or_default();
                if p.text_content().unwrap_or_default() != message {
                    p.set_text_content(Some(message));
                }
                if let Some(field) = p.parent_element() {
                    let _ = field
                        .class_list()
                        .toggle_with_force("invalid", !message.is_empty());
                }
                if let Some(control) = doc().get_element_by_id(&format!("field-{name}"))
                    && control.has_attribute("aria-invalid")
                {
                    let invalid = if message.is_empty() { "false" } else { "true" };
                    let _ = control.set_attribute("aria-invalid", invalid);
                }
            }
        }

        /// Posts the form as the browser would, without leaving the page; a button with a
        /// `formaction` of its own (Test sign-in) posts elsewhere, as a navigation, so the
        /// browser does that itself.
        fn submit(self: &Rc<Self>, form: &HtmlFormElement, ev: Event) {
            let ev: web_sys::SubmitEvent = ev.unchecked_into();
            let submitter = ev
                .submitter()
                .and_then(|b| b.dyn_into::<HtmlButtonElement>().ok());
            if submitter
                .as_ref()
                .is_some_and(|b| b.has_attribute("formaction"))
            {
                return;
            }
            let Some(body) = form_body(form, submitter.as_ref()) else {
                return;
            };
            ev.prevent_default();
            let url = form.action();
            let (_, _, save_id) = self.kind.ids();
            let save = by_id::<HtmlButtonElement>(save_id);
            if let Some(save) = &save {
                busy(save, Some("Saving…"));
            }
            let live = self.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let result = post::<serde::de::IgnoredAny>(&url, body).await;
                if let Some(save) = &save {
                    busy(save, None);
                }
                live.saved(result.err());
            });
        }

        /// Shows what the last post answered: its error in the alert (or its question beside
        /// Save), its field errors beside the fields.
        fn saved(&self, error: Option<AppError>) {
            let (_, alert, _) = self.kind.ids();
            // The server's errors replace the page's.
            *self.server.borrow_mut() = error
                .as_ref()
                .map(|e| e.field_errors().to_vec())
                .unwrap_or_default();
            match &error {
                Some(AppError::NeedsConfirmation(q)) => {
                    say(alert, None);
                    if let Some(warning) = by_id::<HtmlElement>(crate::ids::SAVE_WARNING) {
                        if let Some(p) = warning.query_selector("p").ok().flatten() {
                            p.set_text_content(Some(q));
                        }
                        warning.set_hidden(false);
                    }
                }
                Some(e) => {
                    say(alert, Some(&e.to_string()));
                    if let Some(warning) = by_id::<HtmlElement>(crate::ids::SAVE_WARNING) {
                        warning.set_hidden(true);
                    }
                }
                None => {
                    say(alert, None);
                    if let Some(warning) = by_id::<HtmlElement>(crate::ids::SAVE_WARNING) {
                        warning.set_hidden(true);
                    }
                }
            }
            self.show();
        }
    }

    /// The draft field an event came from: `name` of `draft[name]`.
    fn field_of(ev: &Event) -> Option<String> {
        let target = ev.target()?.dyn_into::<Element>().ok()?;
        let name = target.get_attribute("name")?;
        Some(name.strip_prefix("draft[")?.strip_suffix(']')?.to_owned())
    }

    /// Whether the event came from a control that is changed by choosing (a select, a radio
    /// button, a checkbox), not by typing.
    fn is_choice(ev: &Event) -> bool {
        ev.target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .is_some_and(|el| {
                el.tag_name().eq_ignore_ascii_case("select")
                    || matches!(
                        el.get_attribute("type").as_deref(),
                        Some("radio" | "checkbox")
                    )
            })
    }
}
