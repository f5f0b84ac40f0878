//! The provider editor: every field of the reference, validated as the admin types by the
//! same function the server runs before saving.

use crate::api::providers::{SaveProvider, TestConnection};
use crate::components::copy_button::CopyValue;
use crate::components::draft_editor::{
    Draft, DraftCheck, DraftField, DraftLogo, DraftRadio, DraftText, Editor, EditorActions,
    EditorCard, flag, text,
};
use crate::components::field::{Radio, Select};
use crate::components::island::{FormPost, island_form};
use crate::components::provider_logo::ProviderLogo;
use crate::error::AppError;
use crate::ids;
use leptos::prelude::*;
use portcullis::field::FieldError;
use portcullis::provider::{ConnectionReport, IssuerPolicy, Mode, ProviderDraft, slugify};
use portcullis::second_factor::ProviderFactors;
use serde::{Deserialize, Serialize};

/// The editor's data, handed to the island in the page as JSON: nothing secret (the
/// secret's presence only).
#[derive(Clone, Serialize, Deserialize)]
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

/// What the provider editor knows besides the draft.
pub struct ProviderContext {
    mode: Mode,
    policy: IssuerPolicy,
    /// The issuer and client ID the stored secret was saved with (when editing).
    stored: (String, String),
    /// The name fills the slug until the slug is typed by hand (or the provider exists).
    slug_typed: RwSignal<bool>,
}

impl Draft for ProviderDraft {
    type Context = ProviderContext;

    fn errors(&self, cx: &ProviderContext) -> Vec<FieldError> {
        let mut errors = self.validate(cx.mode, cx.policy).err().unwrap_or_default();
        // The server's rule for a stored secret (`providers::update` runs it too).
        if cx.mode == Mode::Update
            && !errors.iter().any(|e| e.field == "client_secret")
            && let Err(e) = portcullis::provider::check_stored_secret(
                (&cx.stored.0, &cx.stored.1),
                &self.issuer_url,
                &self.client_id,
                &self.client_secret,
            )
        {
            errors.push(e);
        }
        errors
    }

    fn set(&mut self, field: DraftText<Self>, value: String, cx: &ProviderContext) {
        if field.name == "slug" {
            cx.slug_typed.set(true);
        } else if field.name == "name" && !cx.slug_typed.get_untracked() {
            self.slug = slugify(&value);
        }
        *(field.get_mut)(self) = value;
    }

    /// A new issuer or client ID needs the secret again: say so beside the secret as soon
    /// as either is left (an empty secret is otherwise fine when editing).
    fn left_with(field: &str, cx: &ProviderContext) -> &'static [&'static str] {
        match field {
            "issuer_url" | "client_id" if cx.mode == Mode::Update => &["client_secret"],
            _ => &[],
        }
    }
}

/// The provider editor, an island (`components::island`): its alert shows the last save's
/// error, or `flash`, the one a post without JavaScript left.
#[island(lazy)]
pub fn ProviderEditor(props: EditorProps, flash: Option<AppError>) -> impl IntoView {
    let (save, alert) = island_form::<SaveProvider>(flash, ids::EDITOR_ERROR);
    let EditorProps {
        mut draft,
        http_image_origin,
        original_slug,
        has_secret,
        redirect_uri,
        policy,
    } = props;
    draft.http_image_origin = http_image_origin;
    let logout_base = redirect_uri.clone();
    let mode = if original_slug.is_empty() {
        Mode::Create
    } else {
        Mode::Update
    };
    let initial_auth_method = draft.settings.token_auth_method.clone();
    let cx = ProviderContext {
        mode,
        policy,
        stored: (draft.issuer_url.clone(), draft.client_id.clone()),
        slug_typed: RwSignal::new(mode == Mode::Update || !draft.slug.is_empty()),
    };
    let editor = Editor::provide(draft, cx, alert);
    let draft = editor.draft;
    // The slug as it will be saved: typed, or made from the name.
    let slug_now = move || {
        draft.with(|d| {
            if d.slug.trim().is_empty() {
                slugify(&d.name)
            } else {
                d.slug.trim().to_owned()
            }
        })
    };

    let needs_confirmation = move || match alert.error().get() {
        Some(AppError::NeedsConfirmation(msg)) => Some(msg),
        _ => None,
    };
    let test = Action::new_local(move |(issuer, scopes): &(String, String)| {
        test_connection_from_browser(issuer.clone(), scopes.clone())
    });

    let title = if mode == Mode::Create {
        "Add Provider"
    } else {
        "Edit Provider"
    };
    view! {
        <EditorCard id=ids::PROVIDER_EDITOR title alert>
            <FormPost form=save>
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
                <DraftLogo field=text!(logo) label="Logo" preview=|logo| view! { <ProviderLogo logo size=32/> }.into_any()/>
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
                        // saved or not, with or without JavaScript (the island leaves a submit
                        // with its own `formaction` to the browser: `IslandForm::submit`).
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
                    on_change=Callback::new(move |m| draft.update(|d| d.settings.token_auth_method = m))
                    error=editor.error("token_auth_method")
                >
                    "How Portcullis authenticates at the token endpoint; match the client's setting at the provider."
                </Select>
                <DraftRadio field=text!(settings.second_factor) legend="Counts as a second factor" options=Radio::each(ProviderFactors::ALL, ProviderFactors::as_str, ProviderFactors::label, ProviderFactors::hint)/>
                <DraftCheck field=flag!(settings.allow_new_users) label="Allow New Users" hint="Create an account for someone who signs in with this provider and has none linked yet."/>
                <DraftCheck field=flag!(settings.sign_out_at_provider) label="Sign out at the provider too" hint="Signing out here also ends the session at the provider, so the next sign-in asks again. Has effect only when the provider's discovery names an end_session_endpoint (Test connection says whether it does)."/>
                <DraftCheck field=flag!(settings.link_by_email) label="Link existing accounts by verified email" hint="Warning: this trusts the provider to verify email addresses. The emails it sets are then trusted for linking and handed on to applications as Remote-Email. A first sign-in whose identity is not linked yet signs in to the local account with the same email, only when the provider says email_verified is true, that account has no identity from this provider yet, it is not an administrator (administrators link by hand), and its email is trusted: set by an administrator, by the user at an account with a password, or by a provider with this setting on. Off, the emails this provider sets link no account and are not sent as Remote-Email."/>
                <DraftCheck field=flag!(settings.enabled) label="Enabled" hint="Shown on the login page."/>

                // Each provider has its own redirect URI: the login page, then its slug.
                <CopyValue
                    value=Signal::derive(move || {
                        let slug = slug_now();
                        if slug.is_empty() { redirect_uri.clone() } else { format!("{redirect_uri}/{slug}") }
                    })
                    label="Redirect URI (register this at the provider)"
                    id=ids::REDIRECT_URI
                />
                {
                    let base = logout_base;
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

                <EditorActions cancel="/settings/users/oidc" save_id=ids::SAVE_PROVIDER pending=save.pending() confirm=true/>
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
            </FormPost>
        </EditorCard>
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

/// Test connection: the server function, posted as a form would post its two fields
/// (`components::island::post`).
async fn test_connection_from_browser(
    issuer_url: String,
    scopes: String,
) -> Result<ConnectionReport, AppError> {
    #[cfg(feature = "hydrate")]
    {
        let fields = web_sys::UrlSearchParams::new()
            .map_err(|_| AppError::Transport("URLSearchParams".into()))?;
        fields.append("issuer_url", &issuer_url);
        fields.append("scopes", &scopes);
        let body = fields.to_string().as_string().unwrap_or_default();
        crate::components::island::post(<TestConnection as leptos::server_fn::ServerFn>::PATH, body)
            .await?
            .ok_or_else(|| AppError::Transport("Test connection answered with a redirect.".into()))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (
            issuer_url,
            scopes,
            <TestConnection as leptos::server_fn::ServerFn>::PATH,
        );
        Err(AppError::Transport(
            "Test connection runs in the browser.".into(),
        ))
    }
}
