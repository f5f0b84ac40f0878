//! The application editor: name, URLs, icon and who may open it, validated as the admin
//! types by the same function the server runs before saving (`AppDraft::validate`). Rendered
//! on the server; in the browser the editor's script (`components::live_form`) checks it
//! live. Without JavaScript it is a plain form: the server's errors come back beside the
//! fields.

use crate::components::draft_editor::{
    DraftCheck, DraftField, DraftLogo, DraftRadio, Editor, flag, text,
};
use crate::components::field::Radio;
use crate::components::live_form::{EditorKind, LiveForm};
use crate::components::logo_field::LogoKind;
use crate::error::AppError;
use leptos::prelude::*;
use portcullis::apps::client::AuthMethod;
use portcullis::apps::{Access, AppDraft};

/// The draft of this editor's `text!` fields.
type Edited = AppDraft;

/// The form in the browser (`components::live_form`).
#[cfg(feature = "hydrate")]
mod live {
    use crate::components::live_form::Draft;
    use portcullis::apps::AppDraft;
    use portcullis::field::FieldError;

    impl Draft for AppDraft {
        /// The plain-http image origin the server allows for icons (the icon mirror), if any.
        type Context = Option<String>;

        fn errors(mut self, http_image_origin: &Option<String>) -> Vec<FieldError> {
            self.http_image_origin = http_image_origin.clone();
            self.validate().err().unwrap_or_default()
        }

        /// Who may open it decides whether the users are needed.
        fn left_with(field: &str, _: &Option<String>) -> &'static [&'static str] {
            match field {
                "access" => &["users"],
                _ => &[],
            }
        }
    }
}

/// The application editor: its form, with its alert (the last save's error, or `flash`, the
/// one a post without JavaScript left).
#[component]
pub fn AppEditor(
    draft: AppDraft,
    /// Empty for a new application.
    id: String,
    /// The plain-http image origin the server allows for icons (the icon mirror), if any.
    http_image_origin: Option<String>,
    flash: Option<AppError>,
    /// The stored client secret's first characters (`None`: none, or not a client).
    secret_hint: Option<String>,
    /// The client has signed someone in: its ID can no longer change.
    client_id_frozen: bool,
    /// What the application is given as its provider's discovery URL.
    discovery_url: String,
) -> impl IntoView {
    let creating = id.is_empty();
    // Settings of later slices the form does not show yet: posted back as they are.
    let kept = [(
        "draft[backchannel_logout_uri]",
        draft.client.backchannel_logout_uri.clone(),
    )];
    Editor::provide(draft, &flash);
    let title = if creating {
        "Add Application"
    } else {
        "Edit Application"
    };
    let access_options = Radio::each(Access::ALL, Access::as_str, Access::label, Access::hint);
    let auth_options = Radio::each(
        AuthMethod::ALL,
        AuthMethod::as_str,
        AuthMethod::label,
        AuthMethod::hint,
    );
    let secret_text = match secret_hint {
        Some(hint) => format!("Client secret: {hint}… (stored hashed; a new one can be made from the applications list, and is shown once)."),
        None => "A client secret is made when a client that uses one is saved, and shown once on the applications list.".to_owned(),
    };
    view! {
        <LiveForm kind=EditorKind::App title cx=http_image_origin flash>
                <input type="hidden" name="id" value=id/>
                <DraftField field=text!(name) label="Name" hint="Shown on the start page." required=true/>
                <DraftField
                    field=text!(urls)
                    label="URLs"
                    rows=3
                    required=true
                    placeholder="https://sonarr.home.example"
                    hint="One per line: where the application is reached, as scheme and host, with a path prefix if it shares its host (https://home.example/media). The start page links to the first."
                    hint_describes=true
                />
                <DraftLogo field=text!(icon) kind=LogoKind::App/>
                <DraftRadio field=text!(access) legend="Who may open it" options=access_options/>
                <div class="grid-2">
                    <DraftField field=text!(users) label="Users" hint="For \"Listed users and groups\": usernames, comma-separated." autocomplete="off"/>
                    <DraftField field=text!(groups) label="Groups" hint="For \"Listed users and groups\": group names, comma-separated." autocomplete="off"/>
                </div>
                <DraftCheck field=flag!(allow_tokens) label="Allow personal access tokens" hint="Scripts and apps that cannot sign in may open it with a token its owner made under Profile → Tokens for this application (sent as Authorization: Bearer, or as the password of HTTP Basic), as that person and only while that person may open it."/>
                <DraftCheck field=flag!(require_second_factor) label="Require a second factor" hint="Everyone who opens it must have signed in with a passkey, or a password and a one-time code (or through a provider whose sign-in counts as two factors). Someone signed in with a password alone gives the second factor first, then lands where they were going."/>
                <fieldset class="oidc-client">
                    <legend>"OpenID Connect"</legend>
                    <DraftCheck
                        field=flag!(client.oidc)
                        label="Sign in with Portcullis (OpenID Connect)"
                        hint="For applications that sign people in themselves through an OpenID Connect provider (Grafana, Immich, Forgejo, …). Who may open it (above) decides who may sign in."
                    />
                    <p class="hint">"Discovery URL: "<code>{discovery_url}</code></p>
                    <DraftField
                        field=text!(client.client_id)
                        label="Client ID"
                        hint="Empty: one is made from the name. It cannot change once the application has signed someone in."
                        readonly=client_id_frozen
                        autocomplete="off"
                    />
                    <DraftField
                        field=text!(client.redirect_uris)
                        label="Redirect URIs"
                        rows=2
                        placeholder="https://grafana.home.example/login/generic_oauth"
                        hint="One per line, exactly as the application sends it: https, or http on 127.0.0.1, [::1] or localhost."
                    />
                    <DraftRadio field=text!(client.client_auth) legend="Client authentication" options=auth_options/>
                    <p class="hint">{secret_text}</p>
                    <div class="grid-2">
                        <DraftField field=text!(client.client_scopes) label="Scopes" hint="What it may receive: openid, profile, email, groups; offline_access for refresh tokens." autocomplete="off"/>
                        <DraftField field=text!(client.id_token_alg) label="ID token signature" hint="RS256 (most applications) or ES256." autocomplete="off"/>
                    </div>
                    <DraftField
                        field=text!(client.post_logout_redirect_uris)
                        label="Post-logout redirect URIs"
                        rows=2
                        hint="Optional, one per line: where the application may send people after signing out."
                    />
                    <DraftCheck
                        field=flag!(client.consent)
                        label="Ask people before sharing"
                        hint="The first time someone signs in to it, a page says what it will receive (name, email, groups) and asks them to allow it; asked again when it wants more. Off: applications you add here are trusted."
                    />
                    <DraftCheck field=flag!(client.device_flow) label="Devices without a browser" hint="TV apps and command-line tools may sign in with a code typed at /device (the device authorization grant)."/>
                    {kept.into_iter().map(|(name, value)| view! { <input type="hidden" name=name value=value/> }).collect_view()}
                </fieldset>
        </LiveForm>
    }
}
