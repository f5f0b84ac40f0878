//! An application as an OpenID Connect client (issue 21, `docs/openid-provider.md` §3.1): the
//! editor's and the CLI's "OpenID Connect" fields ([`ClientDraft`]) and the one function that
//! decides whether they may be stored ([`ClientDraft::validate`] → [`ValidClient`]). Pure:
//! the browser's live check, the server and the CLI share it.

use crate::field::FieldErrors;
use crate::web_url::Url;
use serde::{Deserialize, Serialize};

/// At most this many redirect URIs (and as many post-logout ones).
pub const REDIRECT_URIS_MAX: usize = 20;
/// Longest redirect URI (as the application URLs).
pub const URI_MAX: usize = super::URL_MAX;
/// Longest client ID.
pub const CLIENT_ID_MAX: usize = 64;
/// The scopes a client may be allowed (`offline_access`: refresh tokens, slice 5).
pub const SCOPES: [&str; 5] = ["openid", "profile", "email", "groups", "offline_access"];
/// What a new client may ask for unless told otherwise.
pub const DEFAULT_SCOPES: &str = "openid profile email groups";
/// The ID token's signing algorithms (never `none`).
pub const ID_TOKEN_ALGS: [&str; 2] = ["RS256", "ES256"];

/// How a client authenticates at the token endpoint (RFC 6749 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthMethod {
    /// `client_secret_basic`: the secret in an `Authorization: Basic` header.
    Basic,
    /// `client_secret_post`: the secret in the form.
    Post,
    /// `none`: a public client (a browser or native app), PKCE required.
    None,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 3] = [AuthMethod::Basic, AuthMethod::Post, AuthMethod::None];

    /// The name discovery and the database use.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Basic => "client_secret_basic",
            AuthMethod::Post => "client_secret_post",
            AuthMethod::None => "none",
        }
    }

    /// The stored name, or the short one the CLI takes (`basic`, `post`, `none`).
    pub fn parse(s: &str) -> Option<AuthMethod> {
        let s = s.trim();
        AuthMethod::ALL
            .into_iter()
            .find(|m| m.as_str() == s || m.as_str().trim_start_matches("client_secret_") == s)
    }

    /// In words, for the editor.
    pub fn label(self) -> &'static str {
        match self {
            AuthMethod::Basic => "Client secret, HTTP Basic (client_secret_basic)",
            AuthMethod::Post => "Client secret in the form (client_secret_post)",
            AuthMethod::None => "None: a public client with PKCE (none)",
        }
    }

    /// Whether the client has a secret.
    pub fn confidential(self) -> bool {
        self != AuthMethod::None
    }

    /// Who uses it, for the editor.
    pub fn hint(self) -> &'static str {
        match self {
            AuthMethod::Basic => "What most server-side applications use.",
            AuthMethod::Post => {
                "For applications that send the secret in the token request's form."
            }
            AuthMethod::None => "No secret: a browser or mobile app. PKCE is required.",
        }
    }
}

/// The "OpenID Connect" fields of an application, as typed. Nested in
/// [`super::AppDraft`] flattened (posted as `draft[redirect_uris]`, ...; errors carry those
/// names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientDraft {
    /// The application is an OpenID Connect client.
    #[serde(deserialize_with = "crate::provider::settings::flag")]
    pub oidc: bool,
    /// Empty: one is made from the name. Editable until the client's first sign-in.
    pub client_id: String,
    /// One per line: where Portcullis may send the browser back with a code.
    pub redirect_uris: String,
    /// One per line: where the application may ask to land after sign-out.
    pub post_logout_redirect_uris: String,
    /// Where logout tokens go (empty: none).
    pub backchannel_logout_uri: String,
    /// `client_secret_basic`, `client_secret_post` or `none` (or `basic`, `post`).
    pub client_auth: String,
    /// The scopes it may receive, separated by spaces or commas.
    pub client_scopes: String,
    /// `RS256` or `ES256`.
    pub id_token_alg: String,
    #[serde(deserialize_with = "crate::provider::settings::flag")]
    pub device_flow: bool,
    #[serde(deserialize_with = "crate::provider::settings::flag")]
    pub consent: bool,
}

impl Default for ClientDraft {
    fn default() -> Self {
        Self {
            oidc: false,
            client_id: String::new(),
            redirect_uris: String::new(),
            post_logout_redirect_uris: String::new(),
            backchannel_logout_uri: String::new(),
            client_auth: AuthMethod::Basic.as_str().to_owned(),
            client_scopes: DEFAULT_SCOPES.to_owned(),
            id_token_alg: ID_TOKEN_ALGS[0].to_owned(),
            device_flow: false,
            consent: false,
        }
    }
}

/// A draft that passed [`ClientDraft::validate`]: trimmed, safe to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidClient {
    /// `None`: make one (a new client given no ID).
    pub client_id: Option<String>,
    pub settings: ClientSettings,
}

/// A client's settings, valid: what a save stores ([`ValidClient`]) and what a stored client
/// shows ([`ClientView`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSettings {
    /// Where it is sent: after sign-in, after sign-out, and logout tokens.
    #[serde(flatten)]
    pub uris: ClientUris,
    pub auth_method: AuthMethod,
    /// A subset of [`SCOPES`], `openid` always among them, in [`SCOPES`]' order.
    pub scopes: Vec<String>,
    pub id_token_alg: String,
    pub device_flow: bool,
    pub consent: bool,
}

/// The URIs a client registers, each as typed (trimmed): compared byte for byte with what a
/// request names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientUris {
    /// Where the sign-in code goes (a request's `redirect_uri`).
    pub redirect_uris: Vec<String>,
    /// Where it may send people after sign-out (RP-Initiated Logout).
    pub post_logout_redirect_uris: Vec<String>,
    /// Where logout tokens go (Back-Channel Logout).
    pub backchannel_logout_uri: Option<String>,
}

impl ClientDraft {
    /// The client's errors, named by field, added to `errors`; the valid client
    /// when there were none.
    pub fn validate(&self, errors: &mut FieldErrors) -> Option<ValidClient> {
        let before = errors.len();
        let client_id = self.client_id.trim();
        if let Err(e) = check_client_id(client_id) {
            errors.push("client_id", e);
        }
        let redirect_uris = uri_list(
            errors,
            "redirect_uris",
            &self.redirect_uris,
            "Enter at least one redirect URI, e.g. https://grafana.home.example/login/generic_oauth (the application's documentation names it).",
        );
        let post_logout_redirect_uris = uri_list(
            errors,
            "post_logout_redirect_uris",
            &self.post_logout_redirect_uris,
            "",
        );
        let backchannel = self.backchannel_logout_uri.trim();
        if !backchannel.is_empty()
            && let Err(e) = check_uri(backchannel)
        {
            errors.push("backchannel_logout_uri", e);
        }
        let auth_method = AuthMethod::parse(&self.client_auth);
        if auth_method.is_none() {
            errors.push(
                "client_auth",
                "Choose how the application authenticates: client_secret_basic, client_secret_post or none (a public client).",
            );
        }
        let mut scopes: Vec<String> = Vec::new();
        for s in self.client_scopes.split([' ', ',', '\n', '\t', '\r']) {
            let s = s.trim();
            if s.is_empty() {
                continue;
            }
            if !SCOPES.contains(&s) {
                errors.push(
                    "client_scopes",
                    format!(
                        "\"{}\" is not a scope Portcullis grants: use {}.",
                        s.chars().take(64).collect::<String>(),
                        SCOPES.join(", ")
                    ),
                );
                break;
            }
            if !scopes.iter().any(|x| x == s) {
                scopes.push(s.to_owned());
            }
        }
        if !scopes.iter().any(|s| s == "openid") {
            errors.push(
                "client_scopes",
                "Include openid: without it no sign-in can be asked for (e.g. \"openid profile email groups\").",
            );
        }
        scopes.sort_by_key(|s| SCOPES.iter().position(|x| x == s));
        let alg = self.id_token_alg.trim();
        let id_token_alg = match alg {
            "" => Some(ID_TOKEN_ALGS[0]),
            a => ID_TOKEN_ALGS
                .into_iter()
                .find(|x| x.eq_ignore_ascii_case(a)),
        };
        if id_token_alg.is_none() {
            errors.push(
                "id_token_alg",
                "Sign ID tokens with RS256 (what most applications expect) or ES256.",
            );
        }
        if errors.len() > before {
            return None;
        }
        Some(ValidClient {
            client_id: (!client_id.is_empty()).then(|| client_id.to_owned()),
            settings: ClientSettings {
                uris: ClientUris {
                    redirect_uris,
                    post_logout_redirect_uris,
                    backchannel_logout_uri: (!backchannel.is_empty())
                        .then(|| backchannel.to_owned()),
                },
                auth_method: auth_method?,
                scopes,
                id_token_alg: id_token_alg?.to_owned(),
                device_flow: self.device_flow,
                consent: self.consent,
            },
        })
    }
}

/// A stored client as administrators see it (never its secret; the secret's first
/// characters as a hint).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientView {
    pub client_id: String,
    /// `pc_cs_` and four characters of the secret; `None` for a public client.
    pub secret_hint: Option<String>,
    pub settings: ClientSettings,
    /// The first code exchange (Unix seconds): the client ID is frozen from then on.
    pub first_used_at: Option<i64>,
}

impl ClientView {
    /// The editor's starting point for this client.
    pub fn draft(&self) -> ClientDraft {
        let s = &self.settings;
        ClientDraft {
            oidc: true,
            client_id: self.client_id.clone(),
            redirect_uris: s.uris.redirect_uris.join("\n"),
            post_logout_redirect_uris: s.uris.post_logout_redirect_uris.join("\n"),
            backchannel_logout_uri: s.uris.backchannel_logout_uri.clone().unwrap_or_default(),
            client_auth: s.auth_method.as_str().to_owned(),
            client_scopes: s.scopes.join(" "),
            id_token_alg: s.id_token_alg.clone(),
            device_flow: s.device_flow,
            consent: s.consent,
        }
    }
}

/// A client ID as typed: empty (one is made), or 1 to [`CLIENT_ID_MAX`] of `A-Z a-z 0-9 . _
/// ~ -` (unreserved: the same in a URL, a form and a Basic header).
pub fn check_client_id(id: &str) -> Result<(), String> {
    if id.len() > CLIENT_ID_MAX
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '~' | '-'))
    {
        return Err(format!(
            "Use at most {CLIENT_ID_MAX} letters, digits, dots, dashes, underscores or tildes for the client ID (or leave it empty to have one made)."
        ));
    }
    Ok(())
}

/// Non-empty lines (or space-separated items) of `raw`, each a valid URI, without
/// duplicates; `missing` is the error for none (empty: none is fine).
fn uri_list(errors: &mut FieldErrors, field: &str, raw: &str, missing: &str) -> Vec<String> {
    let items: Vec<&str> = raw
        .split(['\n', ' ', '\t', '\r', ','])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .collect();
    if items.is_empty() {
        if !missing.is_empty() {
            errors.push(field, missing);
        }
        return Vec::new();
    }
    if items.len() > REDIRECT_URIS_MAX {
        errors.push(field, format!("Use at most {REDIRECT_URIS_MAX} URIs."));
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if let Err(e) = check_uri(item) {
            errors.push(field, e);
            return Vec::new();
        }
        if !out.iter().any(|x| x == item) {
            out.push(item.to_owned());
        }
    }
    out
}

/// A redirect, post-logout or back-channel URI: absolute, no fragment, no user name or
/// password, `https`, or `http` on a loopback host (`127.0.0.1`, `[::1]`, `localhost`):
/// codes and tokens never travel in the clear across a network.
pub fn check_uri(value: &str) -> Result<(), String> {
    let shown: String = value.chars().take(80).collect();
    if value.len() > URI_MAX || value.chars().any(|c| c.is_control() || c == '\\') {
        return Err(format!(
            "\"{shown}\" is not a URI: use at most {URI_MAX} characters, without backslashes or control characters."
        ));
    }
    let lower = value.to_ascii_lowercase();
    let https = lower.starts_with("https://");
    if !https && !lower.starts_with("http://") {
        return Err(format!(
            "\"{shown}\": start the URI with https:// (or http:// on 127.0.0.1, [::1] or localhost)."
        ));
    }
    let url = Url::parse(value).map_err(|_| {
        format!("\"{shown}\" is not a URI, e.g. https://app.home.example/oauth/callback.")
    })?;
    let host = url.host_str().unwrap_or_default();
    if host.is_empty() {
        return Err(format!("\"{shown}\" needs a host name."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "\"{shown}\": remove the user name and password from the URI."
        ));
    }
    if url.fragment().is_some() || value.contains('#') {
        return Err(format!(
            "\"{shown}\": remove the fragment (#...); a redirect URI cannot have one."
        ));
    }
    let loopback = matches!(
        host.to_ascii_lowercase().as_str(),
        "127.0.0.1" | "[::1]" | "::1" | "localhost"
    );
    if !https && !loopback {
        return Err(format!(
            "\"{shown}\": use https:// (plain http only on 127.0.0.1, [::1] or localhost): codes and tokens must not cross a network in the clear."
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(redirect: &str) -> ClientDraft {
        ClientDraft {
            oidc: true,
            redirect_uris: redirect.into(),
            ..ClientDraft::default()
        }
    }

    fn errors_of(d: &ClientDraft) -> Vec<(String, String)> {
        let mut errors = FieldErrors::default();
        let valid = d.validate(&mut errors);
        let list: Vec<(String, String)> = errors
            .finish()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect();
        assert_eq!(valid.is_some(), list.is_empty());
        list
    }

    fn valid(d: &ClientDraft) -> ValidClient {
        let mut errors = FieldErrors::default();
        let v = d.validate(&mut errors);
        errors.finish().unwrap();
        v.unwrap()
    }

    fn uri_error(uri: &str) -> String {
        let e = errors_of(&draft(uri));
        assert_eq!(e.len(), 1, "{uri}: {e:?}");
        assert_eq!(e[0].0, "redirect_uris");
        e[0].1.clone()
    }

    #[test]
    fn defaults_are_a_basic_client_with_the_usual_scopes() {
        let v = valid(&draft("https://grafana.example/login/generic_oauth"));
        assert_eq!(v.client_id, None);
        assert_eq!(v.settings.auth_method, AuthMethod::Basic);
        assert_eq!(v.settings.scopes, ["openid", "profile", "email", "groups"]);
        assert_eq!(v.settings.id_token_alg, "RS256");
        assert_eq!(v.settings.uris.backchannel_logout_uri, None);
    }

    #[test]
    fn redirect_uris_are_kept_as_typed_and_compared_exactly() {
        let v = valid(&draft(
            " https://App.example/cb?x=1 \nhttp://127.0.0.1:8080/cb\nhttps://App.example/cb?x=1\nhttp://[::1]/cb\nhttp://localhost:3000/",
        ));
        assert_eq!(
            v.settings.uris.redirect_uris,
            [
                "https://App.example/cb?x=1",
                "http://127.0.0.1:8080/cb",
                "http://[::1]/cb",
                "http://localhost:3000/"
            ]
        );
    }

    #[test]
    fn at_least_one_redirect_uri() {
        assert!(uri_error("").contains("at least one redirect URI"));
        assert!(uri_error("  \n ").contains("at least one redirect URI"));
    }

    /// Each URI is refused with an error that says the given words.
    fn refused(cases: &[(&str, &str)]) {
        for (uri, says) in cases {
            let error = uri_error(uri);
            assert!(
                error.contains(says),
                "{uri:?}: {error:?} should say {says:?}"
            );
        }
    }

    #[test]
    fn redirect_uris_must_be_absolute_https_or_loopback_http() {
        refused(&[
            ("/callback", "start the URI with https://"),
            ("app.example/cb", "start the URI with https://"),
            ("ftp://app.example/cb", "start the URI with https://"),
            ("com.example.app:/cb", "start the URI with https://"),
            ("http://app.example/cb", "plain http only on"),
            ("http://10.0.0.2/cb", "plain http only on"),
            ("http://127.0.0.1.example/cb", "plain http only on"),
        ]);
        assert!(
            uri_error("https://").contains("not a URI") || uri_error("https://").contains("host")
        );
    }

    #[test]
    fn redirect_uris_have_no_fragment_user_or_odd_characters() {
        let long = format!("https://app.example/{}", "a".repeat(URI_MAX));
        refused(&[
            ("https://app.example/cb#x", "fragment"),
            ("https://app.example/cb#", "fragment"),
            ("https://u:p@app.example/cb", "user name and password"),
            ("https://u@app.example/cb", "user name and password"),
            ("https://app.example\\cb", "backslashes"),
            ("https://app.example/c\u{7}b", "control characters"),
            (&long, "at most"),
        ]);
    }

    #[test]
    fn at_most_twenty_redirect_uris() {
        let many: Vec<String> = (0..=REDIRECT_URIS_MAX)
            .map(|i| format!("https://app.example/{i}"))
            .collect();
        assert!(uri_error(&many.join("\n")).contains("at most 20"));
        valid(&draft(&many[..REDIRECT_URIS_MAX].join("\n")));
    }

    #[test]
    fn post_logout_and_backchannel_uris_follow_the_same_rules() {
        let mut d = draft("https://app.example/cb");
        d.post_logout_redirect_uris = "http://app.example/bye".into();
        d.backchannel_logout_uri = "https://app.example/bc#f".into();
        let e = errors_of(&d);
        assert_eq!(e[0].0, "post_logout_redirect_uris");
        assert_eq!(e[1].0, "backchannel_logout_uri");
        d.post_logout_redirect_uris = "https://app.example/bye".into();
        d.backchannel_logout_uri = "http://127.0.0.1:9000/bc".into();
        let v = valid(&d);
        assert_eq!(
            v.settings.uris.post_logout_redirect_uris,
            ["https://app.example/bye"]
        );
        assert_eq!(
            v.settings.uris.backchannel_logout_uri.as_deref(),
            Some("http://127.0.0.1:9000/bc")
        );
    }

    #[test]
    fn auth_methods_by_either_name() {
        for (typed, want) in [
            ("client_secret_basic", AuthMethod::Basic),
            ("basic", AuthMethod::Basic),
            ("post", AuthMethod::Post),
            ("client_secret_post", AuthMethod::Post),
            ("none", AuthMethod::None),
        ] {
            let mut d = draft("https://app.example/cb");
            d.client_auth = typed.into();
            assert_eq!(valid(&d).settings.auth_method, want);
        }
        let mut d = draft("https://app.example/cb");
        d.client_auth = "private_key_jwt".into();
        assert_eq!(errors_of(&d)[0].0, "client_auth");
        assert!(!AuthMethod::None.confidential());
    }

    #[test]
    fn scopes_are_a_known_subset_with_openid() {
        let mut d = draft("https://app.example/cb");
        d.client_scopes = "email, openid email\noffline_access".into();
        assert_eq!(
            valid(&d).settings.scopes,
            ["openid", "email", "offline_access"]
        );
        d.client_scopes = "openid address".into();
        let e = errors_of(&d);
        assert!(e[0].1.contains("\"address\" is not a scope"), "{e:?}");
        d.client_scopes = "profile email".into();
        assert!(errors_of(&d)[0].1.contains("Include openid"));
    }

    #[test]
    fn id_token_algorithms_are_rs256_or_es256_never_none() {
        let mut d = draft("https://app.example/cb");
        d.id_token_alg = "es256".into();
        assert_eq!(valid(&d).settings.id_token_alg, "ES256");
        for bad in ["none", "HS256", "PS256"] {
            d.id_token_alg = bad.into();
            assert_eq!(errors_of(&d)[0].0, "id_token_alg");
        }
    }

    #[test]
    fn client_ids_are_unreserved_characters() {
        let mut d = draft("https://app.example/cb");
        d.client_id = " grafana-1.x_y~ ".into();
        assert_eq!(valid(&d).client_id.as_deref(), Some("grafana-1.x_y~"));
        for bad in ["a b", "a:b", "a/b", "é", &"a".repeat(CLIENT_ID_MAX + 1)] {
            d.client_id = bad.into();
            assert_eq!(errors_of(&d)[0].0, "client_id", "{bad}");
        }
    }
}
