//! The provider editor: every field of the reference, validated as the admin types by the
//! same function the server runs before saving.

use crate::api::providers::{SaveProvider, test_connection};
use crate::components::copy_button::CopyValue;
use crate::components::field::{Bound, TextField, TextFieldProps};
use crate::components::logo_field::LogoField;
use crate::components::page::Alert;
use crate::components::provider_logo::ProviderLogo;
use crate::error::AppError;
use crate::ids;
use leptos::form::ActionForm;
use leptos::prelude::*;
use portcullis::field::{FieldError, message_for};
use portcullis::provider::{ConnectionReport, IssuerPolicy, Mode, ProviderDraft, slugify};

#[derive(Clone)]
pub struct EditorProps {
    pub draft: ProviderDraft,
    /// Empty for a new provider.
    pub original_slug: String,
    pub has_secret: bool,
    pub redirect_uri: String,
    pub policy: IssuerPolicy,
}

/// One text field of the draft: its name (the input posts as `draft[name]`, the name its
/// errors carry) and where its value lives. Write one with [`text!`].
#[derive(Clone, Copy)]
struct DraftText {
    name: &'static str,
    get: fn(&ProviderDraft) -> &String,
    get_mut: fn(&mut ProviderDraft) -> &mut String,
}

/// One yes/no field of the draft: its name (posted as `draft[name]=true` when checked) and
/// where its value lives. Write one with [`flag!`].
#[derive(Clone, Copy)]
struct DraftFlag {
    name: &'static str,
    get: fn(&ProviderDraft) -> bool,
    set: fn(&mut ProviderDraft, bool),
}

/// `flag!(settings.enabled)`: the draft's `enabled` setting as a [`DraftFlag`] (every
/// yes/no field is a setting).
macro_rules! flag {
    (settings.$field:ident) => {
        DraftFlag {
            name: stringify!($field),
            get: |d| d.settings.$field,
            set: |d, v| d.settings.$field = v,
        }
    };
}

/// A checkbox bound to one yes/no field of the draft, with its hint.
#[component]
fn DraftCheck(
    draft: RwSignal<ProviderDraft>,
    field: DraftFlag,
    label: &'static str,
    hint: &'static str,
) -> impl IntoView {
    let initial = draft.with_untracked(|d| (field.get)(d));
    view! {
        <label class="check">
            <input
                type="checkbox"
                name=format!("draft[{}]", field.name)
                value="true"
                checked=initial
                prop:checked=move || draft.with(|d| (field.get)(d))
                on:change=move |ev| draft.update(|d| (field.set)(d, event_target_checked(&ev)))
            />
            <span>{label}</span>
        </label>
        <p class="hint">{hint}</p>
    }
}

/// `text!(client_id)`, `text!(settings.scopes)`: that text field of the draft as a
/// [`DraftText`].
macro_rules! text {
    (settings.$field:ident) => {
        DraftText {
            name: stringify!($field),
            get: |d| &d.settings.$field,
            get_mut: |d| &mut d.settings.$field,
        }
    };
    ($field:ident) => {
        DraftText {
            name: stringify!($field),
            get: |d| &d.$field,
            get_mut: |d| &mut d.$field,
        }
    };
}

/// The editor's state: the draft as one value, which fields were left (validated live from
/// then on), and the errors beside the fields.
#[derive(Clone, Copy)]
struct Editor {
    draft: RwSignal<ProviderDraft>,
    touched: RwSignal<Vec<&'static str>>,
    /// The name fills the slug until the slug is typed by hand (or the provider exists).
    slug_typed: RwSignal<bool>,
    /// The server's errors of the last save, then the live ones of the fields left.
    errors: Signal<Vec<FieldError>>,
    mode: Mode,
}

impl Editor {
    fn set(self, field: DraftText, value: String) {
        let fill_slug = field.name == "name" && !self.slug_typed.get_untracked();
        if field.name == "slug" {
            self.slug_typed.set(true);
        }
        self.draft.update(|d| {
            if fill_slug {
                d.slug = slugify(&value);
            }
            *(field.get_mut)(d) = value;
        });
    }

    fn touch(self, field: &'static str) {
        if !self.touched.with_untracked(|t| t.contains(&field)) {
            self.touched.update(|t| t.push(field));
        }
        // A new issuer or client ID needs the secret again: say so beside the secret as
        // soon as either is left (an empty secret is otherwise fine when editing).
        if self.mode == Mode::Update && matches!(field, "issuer_url" | "client_id") {
            self.touch("client_secret");
        }
    }

    fn bind(self, field: DraftText) -> Bound {
        Bound {
            value: Signal::derive(move || self.draft.with(|d| (field.get)(d).clone())),
            set: Callback::new(move |v| self.set(field, v)),
            touch: Callback::new(move |()| self.touch(field.name)),
        }
    }

    fn error(self, field: &'static str) -> Signal<Option<String>> {
        let errors = self.errors;
        Signal::derive(move || errors.with(|e| message_for(e, field).map(str::to_owned)))
    }
}

/// A text field of the draft: [`TextField`] bound to `field`, posted as `draft[name]`.
#[component]
fn DraftField(
    field: DraftText,
    label: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional)] required: bool,
    #[prop(optional)] readonly: bool,
    #[prop(optional)] rows: u32,
    #[prop(optional, into)] before: Option<ViewFnOnce>,
    #[prop(optional, into)] after: Option<ViewFnOnce>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let editor = expect_context::<Editor>();
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
        errors: editor.errors,
        bound: Some(editor.bind(field)),
        node_ref: None,
        rows,
        before,
        after,
        children,
    })
}

/// The provider editor. `save` and `alert` belong to the page (see `components::page`):
/// the alert shows the last save's error, or the one a post without JavaScript left.
#[component]
pub fn ProviderEditor(
    props: EditorProps,
    save: ServerAction<SaveProvider>,
    alert: Alert,
) -> impl IntoView {
    let EditorProps {
        draft,
        original_slug,
        has_secret,
        redirect_uri,
        policy,
    } = props;
    let logout_base = redirect_uri.clone();
    let mode = if original_slug.is_empty() {
        Mode::Create
    } else {
        Mode::Update
    };
    let initial = draft.clone();
    let stored = (initial.issuer_url.clone(), initial.client_id.clone());
    let draft = RwSignal::new(draft);
    let touched = RwSignal::new(Vec::<&'static str>::new());
    let live_errors = Memo::new(move |_| {
        draft.with(|d| {
            let mut errors = d.validate(mode, policy).err().unwrap_or_default();
            // The server's rule for a stored secret (`providers::update` runs it too).
            if mode == Mode::Update
                && !errors.iter().any(|e| e.field == "client_secret")
                && let Err(e) = portcullis::provider::check_stored_secret(
                    (&stored.0, &stored.1),
                    &d.issuer_url,
                    &d.client_id,
                    &d.client_secret,
                )
            {
                errors.push(e);
            }
            errors
        })
    });
    let server_errors = alert.field_errors();
    let editor = Editor {
        draft,
        touched,
        slug_typed: RwSignal::new(mode == Mode::Update || !initial.slug.is_empty()),
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
        mode,
    };
    provide_context(editor);

    let needs_confirmation = move || match alert.error().get() {
        Some(AppError::NeedsConfirmation(msg)) => Some(msg),
        _ => None,
    };
    let test = Action::new(move |(issuer, scopes): &(String, String)| {
        test_connection(issuer.clone(), scopes.clone())
    });
    let token_auth_error = editor.error("token_auth_method");

    let title = if mode == Mode::Create {
        "Add Provider"
    } else {
        "Edit Provider"
    };
    view! {
        <section class="card editor" id=ids::PROVIDER_EDITOR>
            <h1>{title}</h1>
            {alert.view()}
            <ActionForm action=save>
                <input type="hidden" name="original_slug" value=original_slug.clone()/>
                <div class="grid-2">
                    <DraftField field=text!(name) label="Provider Name" hint="Shown on the login button." required=true/>
                    <DraftField
                        field=text!(slug)
                        label="Provider Slug"
                        hint=if mode == Mode::Create {
                            "Unique id: lowercase letters, digits, single hyphens. Cannot change later."
                        } else {
                            "Cannot change after creation: linked accounts refer to it."
                        }
                        readonly=mode == Mode::Update
                        required=true
                    />
                </div>
                <LogoField
                    name="logo"
                    label="Logo"
                    group="draft"
                    bound=editor.bind(text!(logo))
                    errors=editor.errors
                    preview=|logo| view! { <ProviderLogo logo size=32/> }.into_any()
                />
                <DraftField
                    field=text!(issuer_url)
                    label="Issuer URL"
                    kind="url"
                    required=true
                    placeholder="https://sso.example.com/realms/main"
                    hint="Exactly as in the provider's discovery document; a trailing slash matters."
                    after=move || view! {
                        <button
                            type="button"
                            id=ids::TEST_CONNECTION
                            disabled=move || test.pending().get()
                            on:click=move |_| {
                                let (issuer, scopes) = draft.with_untracked(|d| (d.issuer_url.clone(), d.settings.scopes.clone()));
                                test.dispatch((issuer, scopes));
                            }
                        >
                            {move || if test.pending().get() { "Testing…" } else { "Test connection" }}
                        </button>
                        // A submit of the editor's form to the test route: the values as typed,
                        // saved or not, with or without JavaScript.
                        <button
                            type="submit"
                            id=ids::TEST_SIGN_IN
                            formaction=portcullis::test_sign_in::START_PATH
                            formmethod="post"
                            formnovalidate=true
                            on:click=submit_test_sign_in
                        >
                            "Test sign-in"
                        </button>
                    }
                >
                    {move || test.value().get().map(|r| view! { <Report result=r/> })}
                </DraftField>
                <div class="grid-2">
                    <DraftField field=text!(client_id) label="Client ID" required=true/>
                    <DraftField
                        field=text!(client_secret)
                        label="Client Secret"
                        kind="password"
                        autocomplete="off"
                        required=mode == Mode::Create
                        placeholder=if has_secret { "Set. Type a new one to replace it." } else { "" }
                        hint=if has_secret {
                            "A secret is set and is never shown. Leave empty to keep it while the issuer and client ID stay the same (a new one of either needs its secret typed); type to replace it."
                        } else {
                            "Stored encrypted; never shown again."
                        }
                    />
                </div>
                <div class="grid-2">
                    <DraftField field=text!(settings.scopes) label="Scopes" hint="Comma-separated; must include openid."/>
                    <DraftField
                        field=text!(settings.required_claims)
                        label="Required Claims"
                        hint="Comma-separated rules, all of which must hold to sign in: a name means the claim is boolean true (portcullis_user); name=value means it equals the value or is a list containing it (groups=media-users); nested claims by dotted path (realm_access.roles=portcullis)."
                    />
                </div>
                <DraftField
                    field=text!(settings.groups_claim)
                    label="Groups Claim"
                    hint="The claim that lists the user's groups, refreshed at each sign-in, for applications open to listed groups (default groups; nested by dotted path, e.g. realm_access.roles). Empty: no groups from this provider."
                />
                <DraftCheck
                    draft
                    field=flag!(settings.groups_authoritative)
                    label="Groups are authoritative"
                    hint="Off (recommended): applications see this provider's groups with its slug in front, e.g. gitea:media for the group media, so they never stand in for a group assigned here or another provider's; list them that way in access lists. On: they count exactly as sent, the same as a group assigned here (media gets the applications of the assigned group media). Turn it on only for a provider where only administrators name groups, never one where any user can create a group or organisation (Forgejo, Gitea, GitHub)."
                />
                <DraftField
                    field=text!(settings.admin_claims)
                    label="Admin Claims"
                    hint="The same rules; a user signing in here becomes an administrator while they all hold and stops being one when they no longer do (never the last administrator who can sign in). Empty: this provider grants no admin role. The rules read this provider's claims as it sends them: at a provider where users create their own groups or organisations (Forgejo, Gitea), groups=admins holds for anyone who creates admins there."
                />
                <DraftField
                    field=text!(settings.auth_params)
                    label="Extra Authorization Parameters"
                    rows=3
                    placeholder="prompt=select_account"
                    hint="One name=value per line, added to the authorization request at every sign-in (values are encoded for you), e.g. prompt=select_account, domain_hint=example.com (Entra), hd=example.com (Google), kc_idp_hint=github (Keycloak), acr_values, login_hint, ui_locales. Parameters Portcullis sets or checks itself (state, nonce, scope, redirect_uri, max_age...) are refused."
                />
                <div class="field" class:invalid=move || token_auth_error.get().is_some()>
                    <label for="field-token_auth_method">"Client Authentication"</label>
                    <select
                        id="field-token_auth_method"
                        name="draft[token_auth_method]"
                        aria-describedby="field-token_auth_method-error"
                        on:change=move |ev| draft.update(|d| d.settings.token_auth_method = event_target_value(&ev))
                    >
                        {portcullis::provider::TOKEN_AUTH_METHODS
                            .iter()
                            .map(|m| {
                                let label = match *m {
                                    "auto" => "Automatic (from the provider's discovery)",
                                    "client_secret_basic" => "client_secret_basic (HTTP Basic)",
                                    _ => "client_secret_post (in the request body)",
                                };
                                view! { <option value=*m selected=initial.settings.token_auth_method == *m>{label}</option> }
                            })
                            .collect_view()}
                    </select>
                    <p class="hint">"How Portcullis authenticates at the token endpoint; match the client's setting at the provider."</p>
                    <p class="field-error" id="field-token_auth_method-error" role="alert">{move || token_auth_error.get()}</p>
                </div>
                <DraftCheck
                    draft
                    field=flag!(settings.allow_new_users)
                    label="Allow New Users"
                    hint="Create an account for someone who signs in with this provider and has none linked yet."
                />
                <DraftCheck
                    draft
                    field=flag!(settings.sign_out_at_provider)
                    label="Sign out at the provider too"
                    hint="Signing out here also ends the session at the provider, so the next sign-in asks again. Has effect only when the provider's discovery names an end_session_endpoint (Test connection says whether it does)."
                />
                <DraftCheck
                    draft
                    field=flag!(settings.link_by_email)
                    label="Link existing accounts by verified email"
                    hint="Warning: this trusts the provider to verify email addresses. The emails it sets are then trusted for linking and handed on to applications as Remote-Email. A first sign-in whose identity is not linked yet signs in to the local account with the same email, only when the provider says email_verified is true, that account has no identity from this provider yet, it is not an administrator (administrators link by hand), and its email is trusted: set by an administrator, by the user at an account with a password, or by a provider with this setting on. Off, the emails this provider sets link no account and are not sent as Remote-Email."
                />
                <DraftCheck draft field=flag!(settings.enabled) label="Enabled" hint="Shown on the login page."/>

                // Each provider has its own redirect URI: the login page, then its slug.
                <CopyValue
                    value=Signal::derive(move || {
                        let slug = draft.with(|d| {
                            if d.slug.trim().is_empty() { slugify(&d.name) } else { d.slug.trim().to_owned() }
                        });
                        if slug.is_empty() { redirect_uri.clone() } else { format!("{redirect_uri}/{slug}") }
                    })
                    label="Redirect URI (register this at the provider)"
                    id=ids::REDIRECT_URI
                />
                {
                    let base = logout_base;
                    let slug_now = move || draft.with(|d| {
                        if d.slug.trim().is_empty() { slugify(&d.name) } else { d.slug.trim().to_owned() }
                    });
                    let public = base.strip_suffix("/login").unwrap_or(&base).to_owned();
                    view! {
                        <CopyValue
                            value=Signal::derive(move || format!("{base}/{}/signed-out", slug_now()))
                            label="Post-logout redirect URI (register this for \"Sign out at the provider too\")"
                            id=ids::POST_LOGOUT_URI
                        />
                        <CopyValue
                            value=Signal::derive(move || format!("{public}/api/v1/oidc/{}/backchannel-logout", slug_now()))
                            label="Back-channel logout URI (register this so the provider can end sessions here)"
                            id=ids::BACKCHANNEL_LOGOUT_URI
                        />
                    }
                }
                <details class="help">
                    <summary>"Where do I find these at my provider?"</summary>
                    <dl>
                        <dt>"Keycloak"</dt>
                        <dd>"Clients → Create client (OpenID Connect), Client authentication on, Standard flow. Valid redirect URI: the one above. Issuer: Realm settings → OpenID Endpoint Configuration → \"issuer\" (https://host/realms/REALM). Secret: the client's Credentials tab."</dd>
                        <dt>"Authentik"</dt>
                        <dd>"Applications → Providers → OAuth2/OpenID Provider, confidential client, redirect URI above. Issuer: the provider's \"OpenID Configuration Issuer\" (https://host/application/o/SLUG/, trailing slash included)."</dd>
                        <dt>"Authelia"</dt>
                        <dd>"identity_providers.oidc.clients: client_id, a hashed client_secret, redirect_uris with the URI above, scopes openid profile email. Issuer: your Authelia URL."</dd>
                    </dl>
                </details>

                <div class="actions">
                    <a class="button" href="/settings/users/oidc">"Cancel"</a>
                    <button type="submit" name="confirm" value="false" class="primary" id=ids::SAVE_PROVIDER disabled=move || save.pending().get()>
                        {move || if save.pending().get() { "Saving…" } else { "Save" }}
                    </button>
                </div>
                {move || {
                    needs_confirmation()
                        .map(|msg| {
                            view! {
                                <div class="alert warn" role="alert" id=ids::SAVE_WARNING>
                                    <p>{msg}</p>
                                    <button type="submit" name="confirm" value="true" class="danger">
                                        "Save anyway"
                                    </button>
                                </div>
                            }
                        })
                }}
            </ActionForm>
        </section>
    }
}

#[component]
fn Report(result: Result<ConnectionReport, AppError>) -> impl IntoView {
    match result {
        Err(e) => view! {
            <div class="report bad" id=ids::CONNECTION_REPORT role="status">
                <p>{e.to_string()}</p>
                {e.field_errors().iter().map(|f: &FieldError| view! { <p>{f.message.clone()}</p> }).collect_view()}
            </div>
        }
            .into_any(),
        Ok(r) => {
            let row = |label: &'static str, value: Option<String>| {
                value.map(|v| view! { <dt>{label}</dt><dd>{v}</dd> })
            };
            let join = |v: &[String]| (!v.is_empty()).then(|| v.join(", "));
            view! {
                <div class="report" class:ok=r.ok class:bad=!r.ok id=ids::CONNECTION_REPORT role="status">
                    <p class="summary">{r.summary.clone()}</p>
                    <dl class="facts">
                        {row("Issuer", r.issuer.clone())}
                        {row("Authorization endpoint", r.authorization_endpoint.clone())}
                        {row("Token endpoint", r.token_endpoint.clone())}
                        {row("Userinfo endpoint", r.userinfo_endpoint.clone())}
                        {row("JWKS", r.jwks_uri.clone().map(|u| format!("{u} ({} keys)", r.signing_keys)))}
                        {row("Signing algorithms", join(&r.signing_algorithms))}
                        {row("Scopes supported", join(&r.scopes_supported))}
                        {row("Client authentication", join(&r.token_auth_methods))}
                        {row(
                            "End session endpoint",
                            Some(r.end_session_endpoint.clone().unwrap_or_else(|| {
                                "none (\"Sign out at the provider too\" has no effect)".to_owned()
                            })),
                        )}
                        {row(
                            "PKCE (S256)",
                            r.pkce_s256.map(|s| if s { "supported".to_owned() } else { "not listed".to_owned() }),
                        )}
                        <dt>"Time"</dt>
                        <dd>{format!("{} ms", r.elapsed_ms)}</dd>
                    </dl>
                    {(!r.warnings.is_empty()).then(|| view! {
                        <ul class="warnings">
                            {r.warnings.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view()}
                        </ul>
                    })}
                </div>
            }
                .into_any()
        }
    }
}

/// Test sign-in with JavaScript: the editor's form is an `ActionForm`, which would send any
/// submit to Save; this posts the same form natively to the test route instead (a page
/// navigation, as without JavaScript), then restores the form's action.
fn submit_test_sign_in(ev: leptos::ev::MouseEvent) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let Some(form) = ev
            .current_target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlButtonElement>().ok())
            .and_then(|b| b.form())
        else {
            return;
        };
        ev.prevent_default();
        let action = form.action();
        form.set_action(portcullis::test_sign_in::START_PATH);
        let _ = form.submit();
        form.set_action(&action);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}
