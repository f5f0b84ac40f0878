//! The provider editor: every field of the reference, validated as the admin types by the
//! same function the server runs before saving. Rendered on the server; in the browser the
//! editor's script (`components::live_form`) checks it live, fills the slug from the name
//! and the URLs to register from the slug, and runs Test connection ([`attach`]), whose
//! report is a component fetched with its first use.

use crate::components::copy_button::CopyValue;
use crate::components::draft_editor::{
    DraftCheck, DraftField, DraftLogo, DraftRadio, Editor, flag, text,
};
use crate::components::field::{Radio, Select};
use crate::components::live_form::{EditorKind, LiveForm};
use crate::components::logo_field::LogoKind;
use crate::error::AppError;
use crate::ids;
use leptos::prelude::*;
#[cfg(feature = "hydrate")]
use portcullis::provider::ConnectionReport;
use portcullis::provider::{IssuerPolicy, Mode, ProviderDraft, slugify};
use portcullis::second_factor::ProviderFactors;
use serde::{Deserialize, Serialize};
use std::cell::Cell;

/// The editor's data: nothing secret (the secret's presence only).
#[derive(Clone)]
pub struct EditorProps {
    pub draft: ProviderDraft,
    /// The plain-http image origin the server allows for logos, if any (not part of the
    /// draft's JSON: the server sets it, never a form).
    pub http_image_origin: Option<String>,
    /// Empty for a new provider.
    pub original_slug: String,
    pub has_secret: bool,
    pub redirect_uri: String,
    pub policy: IssuerPolicy,
}

/// The draft of this editor's `text!` and `flag!` fields.
type Edited = ProviderDraft;

/// What the form's script knows besides the form, handed to it in the page as JSON.
#[derive(Clone, Serialize, Deserialize)]
pub struct ProviderRules {
    updating: bool,
    policy: IssuerPolicy,
    http_image_origin: Option<String>,
    /// The issuer and client ID the stored secret was saved with (when editing).
    stored: (String, String),
    /// The slug was typed (or the provider exists): the name no longer fills it.
    slug_typed: Cell<bool>,
    /// The login page's URL: each provider's redirect URI is it and the slug.
    redirect_uri: String,
}

impl ProviderRules {
    #[cfg(feature = "hydrate")]
    fn mode(&self) -> Mode {
        if self.updating {
            Mode::Update
        } else {
            Mode::Create
        }
    }

    /// The URLs the provider is told to register, for `slug`: redirect, post-logout and
    /// back-channel logout.
    fn urls(&self, slug: &str) -> [(&'static str, String); 3] {
        let base = &self.redirect_uri;
        let public = base.strip_suffix("/login").unwrap_or(base);
        [
            (
                ids::REDIRECT_URI,
                if slug.is_empty() {
                    base.clone()
                } else {
                    format!("{base}/{slug}")
                },
            ),
            (ids::POST_LOGOUT_URI, format!("{base}/{slug}/signed-out")),
            (
                ids::BACKCHANNEL_LOGOUT_URI,
                format!("{public}/api/v1/oidc/{slug}/backchannel-logout"),
            ),
        ]
    }
}

/// The slug as it will be saved: typed, or made from the name.
fn slug_of(slug: &str, name: &str) -> String {
    if slug.trim().is_empty() {
        slugify(name)
    } else {
        slug.trim().to_owned()
    }
}

/// The form in the browser (`components::live_form`).
#[cfg(feature = "hydrate")]
mod live {
    use super::{ProviderRules, slug_of};
    use crate::components::live_form::{Draft, FormFields};
    use portcullis::field::FieldError;
    use portcullis::provider::{Mode, ProviderDraft, slugify};

    impl Draft for ProviderDraft {
        type Context = ProviderRules;

        fn errors(mut self, rules: &ProviderRules) -> Vec<FieldError> {
            self.http_image_origin = rules.http_image_origin.clone();
            let mode = rules.mode();
            let mut errors = self.validate(mode, rules.policy).err().unwrap_or_default();
            // The server's rule for a stored secret (`providers::update` runs it too).
            if mode == Mode::Update
                && !errors.iter().any(|e| e.field == "client_secret")
                && let Err(e) = portcullis::provider::check_stored_secret(
                    (&rules.stored.0, &rules.stored.1),
                    &self.issuer_url,
                    &self.client_id,
                    &self.client_secret,
                )
            {
                errors.push(e);
            }
            errors
        }

        /// A new issuer or client ID needs the secret again: say so beside the secret as soon
        /// as either is left (an empty secret is otherwise fine when editing).
        fn left_with(field: &str, rules: &ProviderRules) -> &'static [&'static str] {
            match field {
                "issuer_url" | "client_id" if rules.updating => &["client_secret"],
                _ => &[],
            }
        }

        /// The name fills the slug until the slug is typed; the URLs to register follow it.
        fn typed(form: &FormFields, field: Option<&str>, rules: &ProviderRules) {
            match field {
                Some("slug") => rules.slug_typed.set(true),
                // What was typed before the script ran: a slug is the admin's own.
                None if !form.value("slug").trim().is_empty() => rules.slug_typed.set(true),
                Some("name") | None if !rules.slug_typed.get() => {
                    form.set_value("slug", &slugify(&form.value("name")));
                }
                _ => {}
            }
            for (id, url) in rules.urls(&slug_of(&form.value("slug"), &form.value("name"))) {
                form.show(id, &url);
            }
        }
    }
}

/// The provider editor: its form, with its alert (the last save's error, or `flash`, the one
/// a post without JavaScript left), and "Save anyway" when the server asks.
#[component]
pub fn ProviderEditor(props: EditorProps, flash: Option<AppError>) -> impl IntoView {
    let EditorProps {
        draft,
        http_image_origin,
        original_slug,
        has_secret,
        redirect_uri,
        policy,
    } = props;
    let mode = if original_slug.is_empty() {
        Mode::Create
    } else {
        Mode::Update
    };
    let rules = ProviderRules {
        updating: mode == Mode::Update,
        policy,
        http_image_origin,
        stored: (draft.issuer_url.clone(), draft.client_id.clone()),
        slug_typed: Cell::new(mode == Mode::Update || !draft.slug.is_empty()),
        redirect_uri,
    };
    let urls = rules.urls(&slug_of(&draft.slug, &draft.name));
    let initial_auth_method = draft.settings.token_auth_method.clone();
    let editor = Editor::provide(draft, &flash);
    let title = if mode == Mode::Create {
        "Add Provider"
    } else {
        "Edit Provider"
    };
    view! {
        <LiveForm kind=EditorKind::Provider title cx=rules flash>
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
                <DraftLogo field=text!(logo) kind=LogoKind::Provider/>
                <DraftField
                    field=text!(issuer_url)
                    label="Issuer URL"
                    kind="url"
                    required=true
                    placeholder="https://sso.example.com/realms/main"
                    hint="Exactly as in the provider's discovery document; a trailing slash matters."
                    after=|| view! {
                        // Test connection is the editors' script's ([`attach`]). Test sign-in
                        // is a submit of the form to the test route: the values as typed,
                        // saved or not, with or without JavaScript (the script leaves a submit
                        // with its own `formaction` to the browser).
                        <button type="button" id=ids::TEST_CONNECTION>"Test connection"</button>
                        <button
                            type="submit"
                            id=ids::TEST_SIGN_IN
                            formaction=portcullis::test_sign_in::START_PATH
                            formmethod="post"
                            formnovalidate=true
                        >
                            "Test sign-in"
                        </button>
                    }
                >
                    <div id=ids::CONNECTION_REPORT_SLOT></div>
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
                <DraftCheck field=flag!(settings.groups_authoritative) label="Groups are authoritative" hint="Off (recommended): applications see this provider's groups with its slug in front, e.g. gitea:media for the group media, so they never stand in for a group assigned here or another provider's; list them that way in access lists. On: they count exactly as sent, the same as a group assigned here (media gets the applications of the assigned group media). Turn it on only for a provider where only administrators name groups, never one where any user can create a group or organisation (Forgejo, Gitea, GitHub)."/>
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
                <Select
                    id="field-token_auth_method"
                    name="draft[token_auth_method]"
                    label="Client Authentication"
                    options=portcullis::provider::TOKEN_AUTH_METHODS
                        .iter()
                        .map(|m| {
                            let label = match *m {
                                "auto" => "Automatic (from the provider's discovery)",
                                "client_secret_basic" => "client_secret_basic (HTTP Basic)",
                                _ => "client_secret_post (in the request body)",
                            };
                            ((*m).to_owned(), label.to_owned())
                        })
                        .collect()
                    selected=initial_auth_method
                    error=editor.error("token_auth_method")
                >
                    "How Portcullis authenticates at the token endpoint; match the client's setting at the provider."
                </Select>
                <DraftRadio field=text!(settings.second_factor) legend="Counts as a second factor" options=Radio::each(ProviderFactors::ALL, ProviderFactors::as_str, ProviderFactors::label, ProviderFactors::hint)/>
                <DraftCheck field=flag!(settings.allow_new_users) label="Allow New Users" hint="Create an account for someone who signs in with this provider and has none linked yet."/>
                <DraftCheck field=flag!(settings.sign_out_at_provider) label="Sign out at the provider too" hint="Signing out here also ends the session at the provider, so the next sign-in asks again. Has effect only when the provider's discovery names an end_session_endpoint (Test connection says whether it does)."/>
                <DraftCheck field=flag!(settings.link_by_email) label="Link existing accounts by verified email" hint="Warning: this trusts the provider to verify email addresses. The emails it sets are then trusted for linking and handed on to applications as Remote-Email. A first sign-in whose identity is not linked yet signs in to the local account with the same email, only when the provider says email_verified is true, that account has no identity from this provider yet, it is not an administrator (administrators link by hand), and its email is trusted: set by an administrator, by the user at an account with a password, or by a provider with this setting on. Off, the emails this provider sets link no account and are not sent as Remote-Email."/>
                <DraftCheck field=flag!(settings.enabled) label="Enabled" hint="Shown on the login page."/>

                // Each provider has its own redirect URI: the login page, then its slug (the
                // form's script follows the slug as it is typed).
                {
                    let [(_, redirect), (_, post_logout), (_, backchannel)] = urls;
                    view! {
                        <CopyValue value=redirect label="Redirect URI (register this at the provider)" id=ids::REDIRECT_URI/>
                        <CopyValue
                            value=post_logout
                            label="Post-logout redirect URI (register this for \"Sign out at the provider too\")"
                            id=ids::POST_LOGOUT_URI
                        />
                        <CopyValue
                            value=backchannel
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

        </LiveForm>
    }
}

/// Test connection in the browser, when the page has the button: the issuer and the scopes
/// as typed, posted as a form would post them; the report shows below the issuer.
#[cfg(feature = "hydrate")]
pub fn attach() {
    use crate::components::live_form::browser::{busy, by_id, on};
    use web_sys::{HtmlButtonElement, HtmlElement, HtmlInputElement};
    let Some(button) = by_id::<HtmlButtonElement>(ids::TEST_CONNECTION) else {
        return;
    };
    on(&button, "pointerenter", |_| {
        let _ = lazy_preload!(show_report);
    });
    on(&button.clone(), "click", move |_| {
        let value = |id: &str| {
            by_id::<HtmlInputElement>(id)
                .map(|i| i.value())
                .unwrap_or_default()
        };
        let fields = web_sys::UrlSearchParams::new().expect("URLSearchParams");
        fields.append("issuer_url", &value("field-issuer_url"));
        fields.append("scopes", &value("field-scopes"));
        let body = fields.to_string().as_string().unwrap_or_default();
        let button = button.clone();
        busy(&button, Some("Testing…"));
        wasm_bindgen_futures::spawn_local(async move {
            let path = <crate::api::providers::TestConnection as leptos::server_fn::ServerFn>::PATH;
            let result = crate::components::form_post::post::<ConnectionReport>(path, body)
                .await
                .and_then(|r| {
                    r.ok_or_else(|| {
                        AppError::Transport("Test connection answered with a redirect.".into())
                    })
                });
            busy(&button, None);
            if let Some(slot) = by_id::<HtmlElement>(ids::CONNECTION_REPORT_SLOT) {
                show_report(slot, result).await;
            }
        });
    });
}

/// Shows Test connection's report in `slot`.
#[cfg(feature = "hydrate")]
#[lazy]
fn show_report(slot: web_sys::HtmlElement, result: Result<ConnectionReport, AppError>) {
    thread_local! {
        static SHOWN: std::cell::RefCell<Option<Box<dyn std::any::Any>>> = Default::default();
    }
    crate::components::live_form::browser::mount_in(
        &SHOWN,
        slot,
        move || view! { <Report result/> },
    );
}

#[cfg(feature = "hydrate")]
#[component]
fn Report(result: Result<ConnectionReport, AppError>) -> impl IntoView {
    match result {
        Err(e) => view! {
            <div class="report bad" id=ids::CONNECTION_REPORT role="status">
                <p>{e.to_string()}</p>
                {e.field_errors().iter().map(|f: &portcullis::field::FieldError| view! { <p>{f.message.clone()}</p> }).collect_view()}
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
