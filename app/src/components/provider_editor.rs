//! The provider editor: every field of the reference, validated as the admin types by the
//! same function the server runs before saving.

use crate::api::providers::{SaveProvider, test_connection};
use crate::components::copy_button::CopyValue;
use crate::components::icon_picker::{CatalogueState, IconPicker};
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
    pub flash: Option<AppError>,
}

#[component]
pub fn ProviderEditor(props: EditorProps) -> impl IntoView {
    let EditorProps {
        draft,
        original_slug,
        has_secret,
        redirect_uri,
        policy,
        flash,
    } = props;
    let mode = if original_slug.is_empty() {
        Mode::Create
    } else {
        Mode::Update
    };
    let save = ServerAction::<SaveProvider>::new();

    let name = RwSignal::new(draft.name.clone());
    let logo = RwSignal::new(draft.logo.clone());
    let logo_field = NodeRef::<leptos::html::Input>::new();
    let picker_open = RwSignal::new(false);
    let catalogue = RwSignal::new(CatalogueState::default());
    let upload_error = RwSignal::new(None::<String>);
    let issuer_url = RwSignal::new(draft.issuer_url.clone());
    let client_id = RwSignal::new(draft.client_id.clone());
    let client_secret = RwSignal::new(String::new());
    let slug = RwSignal::new(draft.slug.clone());
    let scopes = RwSignal::new(draft.scopes.clone());
    let required_claims = RwSignal::new(draft.required_claims.clone());
    let allow_new_users = RwSignal::new(draft.allow_new_users);
    let enabled = RwSignal::new(draft.enabled);
    // The name fills the slug until the slug is typed by hand (or the provider exists).
    let slug_typed = RwSignal::new(mode == Mode::Update || !draft.slug.is_empty());
    let touched = RwSignal::new(Vec::<&'static str>::new());
    let touch = move |field: &'static str| {
        touched.update(|t| {
            if !t.contains(&field) {
                t.push(field);
            }
        })
    };

    let current = move || ProviderDraft {
        name: name.get(),
        logo: logo.get(),
        issuer_url: issuer_url.get(),
        client_id: client_id.get(),
        client_secret: client_secret.get(),
        slug: slug.get(),
        scopes: scopes.get(),
        required_claims: required_claims.get(),
        allow_new_users: allow_new_users.get(),
        enabled: enabled.get(),
        token_auth_method: String::new(),
    };
    let live_errors =
        Memo::new(move |_| current().validate(mode, policy).err().unwrap_or_default());
    let server_error = Signal::derive(move || {
        save.value()
            .get()
            .and_then(Result::err)
            .or_else(|| flash.clone())
    });
    let error_for = move |field: &'static str| {
        Signal::derive(move || {
            let server = server_error
                .get()
                .and_then(|e| message_for(e.field_errors(), field).map(str::to_owned));
            server.or_else(|| {
                touched
                    .get()
                    .contains(&field)
                    .then(|| live_errors.with(|e| message_for(e, field).map(str::to_owned)))
                    .flatten()
            })
        })
    };
    let needs_confirmation = move || match server_error.get() {
        Some(AppError::NeedsConfirmation(msg)) => Some(msg),
        _ => None,
    };

    let test = Action::new(move |(issuer, scopes): &(String, String)| {
        test_connection(issuer.clone(), scopes.clone())
    });

    let title = if mode == Mode::Create {
        "Add Provider"
    } else {
        "Edit Provider"
    };
    view! {
        <section class="card editor" id=ids::PROVIDER_EDITOR>
            <h1>{title}</h1>
            {move || {
                server_error
                    .get()
                    .filter(|e| !matches!(e, AppError::NeedsConfirmation(_)))
                    .map(|e| view! { <p class="alert error" role="alert" id=ids::EDITOR_ERROR>{e.to_string()}</p> })
            }}
            <ActionForm action=save>
                <input type="hidden" name="original_slug" value=original_slug.clone()/>
                <div class="grid-2">
                    <TextField
                        name="name"
                        label="Provider Name"
                        hint="Shown on the login button."
                        value=name
                        error=error_for("name")
                        on_input=Callback::new(move |v: String| {
                            if !slug_typed.get_untracked() {
                                slug.set(slugify(&v));
                            }
                        })
                        on_blur=Callback::new(move |_| touch("name"))
                        required=true
                    />
                    <TextField
                        name="slug"
                        label="Provider Slug"
                        hint=if mode == Mode::Create {
                            "Unique id: lowercase letters, digits, single hyphens. Cannot change later."
                        } else {
                            "Cannot change after creation: linked accounts refer to it."
                        }
                        value=slug
                        error=error_for("slug")
                        on_input=Callback::new(move |_| slug_typed.set(true))
                        on_blur=Callback::new(move |_| touch("slug"))
                        readonly=mode == Mode::Update
                        required=true
                    />
                </div>
                <div class="field logo-field" class:invalid=move || error_for("logo").get().is_some()>
                    <label for="field-logo">"Logo"</label>
                    <div class="logo-row">
                        <span class="logo-preview" id=ids::LOGO_PREVIEW>
                            {move || view! { <ProviderLogo logo=logo.get() size=32/> }}
                        </span>
                        <input
                            id=ids::LOGO_FIELD
                            node_ref=logo_field
                            name="draft[logo]"
                            type="text"
                            placeholder="https://... or data:image/...;base64,..."
                            value=draft.logo.clone()
                            bind:value=logo
                            on:blur=move |_| touch("logo")
                            aria-describedby="field-logo-error"
                        />
                        <button
                            type="button"
                            id=ids::LOGO_SEARCH
                            aria-label="Search the selfh.st icon catalogue"
                            aria-haspopup="dialog"
                            on:click=move |_| picker_open.set(true)
                        >
                            "Search icons"
                        </button>
                        <label class="button" for=ids::LOGO_UPLOAD>"Upload…"</label>
                        <input
                            type="file"
                            id=ids::LOGO_UPLOAD
                            class="visually-hidden"
                            accept="image/png,image/jpeg,image/webp,image/gif,image/svg+xml"
                            on:change=move |ev| upload_logo(ev, logo, upload_error)
                        />
                    </div>
                    <p class="hint">
                        "Optional. An image URL, a small uploaded image (stored as a data: URI), or an icon from "
                        <a href="https://selfh.st/icons/" target="_blank" rel="noopener noreferrer">"selfh.st/icons"</a>
                        "."
                    </p>
                    <p class="field-error" id=ids::LOGO_UPLOAD_ERROR role="alert">{move || upload_error.get()}</p>
                    <p class="field-error" id="field-logo-error" role="alert">{move || error_for("logo").get()}</p>
                    <IconPicker open=picker_open logo logo_field catalogue/>
                </div>
                <div class="field" class:invalid=move || error_for("issuer_url").get().is_some()>
                    <label for="field-issuer_url">"Issuer URL"</label>
                    <div class="copy-row">
                        <input
                            id="field-issuer_url"
                            name="draft[issuer_url]"
                            type="url"
                            required=true
                            placeholder="https://sso.example.com/realms/main"
                            value=draft.issuer_url.clone()
                            bind:value=issuer_url
                            on:blur=move |_| touch("issuer_url")
                            aria-describedby="field-issuer_url-error"
                        />
                        <button
                            type="button"
                            id=ids::TEST_CONNECTION
                            disabled=move || test.pending().get()
                            on:click=move |_| {
                                test.dispatch((issuer_url.get_untracked(), scopes.get_untracked()));
                            }
                        >
                            {move || if test.pending().get() { "Testing…" } else { "Test connection" }}
                        </button>
                    </div>
                    <p class="hint">"Exactly as in the provider's discovery document; a trailing slash matters."</p>
                    <p class="field-error" id="field-issuer_url-error" role="alert">{move || error_for("issuer_url").get()}</p>
                    {move || test.value().get().map(|r| view! { <Report result=r/> })}
                </div>
                <div class="grid-2">
                    <TextField
                        name="client_id"
                        label="Client ID"
                        value=client_id
                        error=error_for("client_id")
                        on_blur=Callback::new(move |_| touch("client_id"))
                        required=true
                    />
                    <div class="field" class:invalid=move || error_for("client_secret").get().is_some()>
                        <label for="field-client_secret">"Client Secret"</label>
                        <input
                            id="field-client_secret"
                            name="draft[client_secret]"
                            type="password"
                            autocomplete="off"
                            required=mode == Mode::Create
                            placeholder=if has_secret { "Set. Type a new one to replace it." } else { "" }
                            bind:value=client_secret
                            on:blur=move |_| touch("client_secret")
                            aria-describedby="field-client_secret-error"
                        />
                        <p class="hint">
                            {if has_secret {
                                "A secret is set and is never shown. Leave empty to keep it; type to replace it."
                            } else {
                                "Stored encrypted; never shown again."
                            }}
                        </p>
                        <p class="field-error" id="field-client_secret-error" role="alert">{move || error_for("client_secret").get()}</p>
                    </div>
                </div>
                <div class="grid-2">
                    <TextField
                        name="scopes"
                        label="Scopes"
                        hint="Comma-separated; must include openid."
                        value=scopes
                        error=error_for("scopes")
                        on_blur=Callback::new(move |_| touch("scopes"))
                    />
                    <TextField
                        name="required_claims"
                        label="Required Claims"
                        hint="Comma-separated claims that must be boolean true to sign in, e.g. portcullis_user."
                        value=required_claims
                        error=error_for("required_claims")
                        on_blur=Callback::new(move |_| touch("required_claims"))
                    />
                </div>
                <div class="field" class:invalid=move || error_for("token_auth_method").get().is_some()>
                    <label for="field-token_auth_method">"Client Authentication"</label>
                    <select id="field-token_auth_method" name="draft[token_auth_method]">
                        {portcullis::provider::TOKEN_AUTH_METHODS
                            .iter()
                            .map(|m| {
                                let label = match *m {
                                    "auto" => "Automatic (from the provider's discovery)",
                                    "client_secret_basic" => "client_secret_basic (HTTP Basic)",
                                    _ => "client_secret_post (in the request body)",
                                };
                                view! { <option value=*m selected=draft.token_auth_method == *m>{label}</option> }
                            })
                            .collect_view()}
                    </select>
                    <p class="hint">"How Portcullis authenticates at the token endpoint; match the client's setting at the provider."</p>
                    <p class="field-error" role="alert">{move || error_for("token_auth_method").get()}</p>
                </div>
                <label class="check">
                    <input
                        type="checkbox"
                        name="draft[allow_new_users]"
                        value="true"
                        checked=draft.allow_new_users
                        bind:checked=allow_new_users
                    />
                    <span>"Allow New Users"</span>
                </label>
                <p class="hint">"Create an account for someone who signs in with this provider and has none linked yet."</p>
                <label class="check">
                    <input
                        type="checkbox"
                        name="draft[enabled]"
                        value="true"
                        checked=draft.enabled
                        bind:checked=enabled
                    />
                    <span>"Enabled"</span>
                </label>
                <p class="hint">"Shown on the login page."</p>

                <CopyValue value=redirect_uri label="Redirect URI (register this at the provider)" id=ids::REDIRECT_URI/>
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
fn TextField(
    name: &'static str,
    label: &'static str,
    #[prop(optional)] hint: &'static str,
    value: RwSignal<String>,
    error: Signal<Option<String>>,
    #[prop(optional)] on_input: Option<Callback<String>>,
    #[prop(optional)] on_blur: Option<Callback<()>>,
    #[prop(optional)] readonly: bool,
    #[prop(optional)] required: bool,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=format!("draft[{name}]")
                type="text"
                readonly=readonly
                required=required
                value=value.get_untracked()
                bind:value=value
                on:input=move |ev| {
                    if let Some(cb) = on_input {
                        cb.run(event_target_value(&ev));
                    }
                }
                on:blur=move |_| {
                    if let Some(cb) = on_blur {
                        cb.run(());
                    }
                }
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=error_id.clone()
            />
            {(!hint.is_empty()).then(|| view! { <p class="hint">{hint}</p> })}
            <p class="field-error" id=error_id role="alert">{move || error.get()}</p>
        </div>
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

/// Reads the chosen image into a base64 data URI for the Logo field, refusing files that
/// would be too large to save.
fn upload_logo(ev: leptos::ev::Event, logo: RwSignal<String>, error: RwSignal<Option<String>>) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        use portcullis::provider::LOGO_DATA_MAX;
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        input.set_value("");
        // base64 grows data by a third; the prefix is small.
        let limit = (LOGO_DATA_MAX - 64) / 4 * 3;
        let size = file.size() as usize;
        if size > limit {
            error.set(Some(format!(
                "{} is {} KB; an uploaded logo can be at most {} KB. Use a smaller image, or an image URL.",
                file.name(),
                size.div_ceil(1024),
                limit / 1024
            )));
            return;
        }
        error.set(None);
        leptos::task::spawn_local(async move {
            let file = gloo_file::File::from(file);
            match gloo_file::futures::read_as_data_url(&file).await {
                Ok(data_url) => logo.set(data_url),
                Err(e) => error.set(Some(format!("The file could not be read ({e})."))),
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, logo, error);
}
