use super::*;
use crate::field::message_for;

fn draft() -> ProviderDraft {
    ProviderDraft {
        name: "Keycloak".into(),
        logo: String::new(),
        issuer_url: "https://sso.example.com/realms/main".into(),
        client_id: "portcullis".into(),
        client_secret: "s3cret".into(),
        slug: String::new(),
        settings: ProviderSettings {
            scopes: DEFAULT_SCOPES.into(),
            required_claims: String::new(),
            admin_claims: String::new(),
            allow_new_users: false,
            enabled: true,
            token_auth_method: String::new(),
            groups_claim: "groups".into(),
            groups_authoritative: false,
            sign_out_at_provider: false,
            link_by_email: false,
            auth_params: String::new(),
            second_factor: String::new(),
        },
        http_image_origin: None,
    }
}

#[test]
fn groups_claim_is_one_claim_name_or_empty() {
    assert_eq!(ProviderDraft::new_default().settings.groups_claim, "groups");
    for ok in [
        "groups",
        "realm_access.roles",
        "https://example.com/groups",
        "",
    ] {
        let mut d = draft();
        d.settings.groups_claim = format!(" {ok} ");
        let v = d.validate(Mode::Create, IssuerPolicy::default()).unwrap();
        assert_eq!(v.settings.groups_claim, ok);
    }
    for bad in ["groups=admins", "a b", ".groups", "groups,roles"] {
        let mut d = draft();
        d.settings.groups_claim = bad.into();
        let errors = errors_of(&d, Mode::Create);
        let msg = message_for(&errors, "groups_claim").unwrap_or_else(|| panic!("{bad}"));
        assert!(msg.contains("realm_access.roles"), "{msg}");
    }
}

fn errors_of(d: &ProviderDraft, mode: Mode) -> Vec<FieldError> {
    d.validate(mode, IssuerPolicy::default()).unwrap_err()
}

fn only_field(d: &ProviderDraft, field: &str) -> String {
    let errors = errors_of(d, Mode::Create);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field, field);
    errors[0].message.clone()
}

#[test]
fn a_good_draft_is_normalised() {
    let mut d = draft();
    d.settings.scopes = " openid,profile ,, email  groups,openid".into();
    d.settings.required_claims = "is_admin, email_verified".into();
    let v = d.validate(Mode::Create, IssuerPolicy::default()).unwrap();
    assert_eq!(v.slug, "keycloak", "slug filled from the name");
    assert_eq!(v.settings.scopes, ["openid", "profile", "email", "groups"]);
    assert_eq!(v.settings.required_claims, ["is_admin", "email_verified"]);
    assert_eq!(v.client_secret.as_deref(), Some("s3cret"));
}

#[test]
fn slugs_from_names() {
    assert_eq!(slugify("Pocket ID"), "pocket-id");
    assert_eq!(slugify("  Zoë's  IdP!! "), "zoe-s-idp");
    assert_eq!(
        slugify("Microsoft Entra ID (work)"),
        "microsoft-entra-id-work"
    );
    assert_eq!(slugify("山田"), "");
    assert!(slugify(&"a b ".repeat(100)).len() <= SLUG_MAX);
    assert_eq!(slugify(&"ab".repeat(100)).len(), SLUG_MAX);
    assert!(!slugify(&"ab-".repeat(40)).ends_with('-'));
    assert!(check_slug(&slugify("Some --- Name")).is_ok());
}

/// `check` accepts every `good` value and refuses every `bad` one.
fn accepts_and_refuses(check: fn(&str) -> Result<(), FieldError>, good: &[&str], bad: &[&str]) {
    for value in good {
        assert!(check(value).is_ok(), "{value}");
    }
    for value in bad {
        assert!(check(value).is_err(), "{value:?}");
    }
}

#[test]
fn slug_rules() {
    let long = "a".repeat(64);
    let too_long = "a".repeat(65);
    accepts_and_refuses(
        check_slug,
        &["a", "keycloak", "pocket-id", "idp-2", &long],
        &[
            "",
            "Keycloak",
            "KEYCLOAK",
            "-lead",
            "trail-",
            "double--hyphen",
            "under_score",
            "spa ce",
            "ünï",
            "dot.ted",
            &too_long,
        ],
    );
}

#[test]
fn name_is_required_and_bounded() {
    let mut d = draft();
    d.name = "   ".into();
    d.slug = "kc".into();
    assert!(only_field(&d, "name").contains("Enter the name"));
    d.name = "x".repeat(101);
    assert!(only_field(&d, "name").contains("at most 100"));
    d.name = "Line\nbreak".into();
    assert!(only_field(&d, "name").contains("control"));
    d.name = "Ünïcödé 身份".into();
    assert!(d.validate(Mode::Create, IssuerPolicy::default()).is_ok());
}

#[test]
fn issuer_rules() {
    let strict = IssuerPolicy::default();
    let lax = IssuerPolicy {
        allow_insecure: true,
    };
    for good in [
        "https://sso.example.com",
        "https://sso.example.com/",
        "https://sso.example.com/realms/main",
        "http://127.0.0.1:9000",
        "http://localhost:8080/realms/x",
        "http://[::1]:5556/dex",
    ] {
        assert!(check_issuer_url(good, strict).is_ok(), "{good}");
    }
    for bad in [
        "",
        "sso.example.com",
        "ftp://sso.example.com",
        "http://sso.example.com",
        "https://sso.example.com/?x=1",
        "https://sso.example.com/#frag",
        "https://user:pw@sso.example.com",
        "https:// sso.example.com",
        "javascript:alert(1)",
        "https://",
    ] {
        assert!(check_issuer_url(bad, strict).is_err(), "{bad:?}");
    }
    assert!(check_issuer_url("http://sso.lan", lax).is_ok());
    let long = format!("https://e.com/{}", "a".repeat(3000));
    assert!(check_issuer_url(&long, strict).is_err());
    let msg = check_issuer_url("http://sso.example.com", strict)
        .unwrap_err()
        .message;
    assert!(
        msg.contains("https://") && msg.contains("--allow-insecure-issuers"),
        "{msg}"
    );
}

#[test]
fn trailing_slash_is_kept() {
    let mut d = draft();
    d.issuer_url = "https://auth.example.com/application/o/portcullis/".into();
    let v = d.validate(Mode::Create, IssuerPolicy::default()).unwrap();
    assert!(v.issuer_url.ends_with('/'));
}

#[test]
fn logo_rules() {
    accepts_and_refuses(
        check_logo,
        &[
            "",
            "https://cdn.jsdelivr.net/gh/selfhst/icons@main/svg/keycloak.svg",
            "data:image/png;base64,iVBORw0KGgo=",
            "data:image/svg+xml;base64,PHN2Zy8+",
            "data:image/webp;base64,UklGRg==",
        ],
        &[
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "data:text/html;base64,PHNjcmlwdD4=",
            "data:image/png,rawnotbase64",
            "data:image/png;base64,not base64!",
            "data:image/png;base64,",
            "data:application/octet-stream;base64,AAAA",
            "vbscript:x",
            "file:///etc/passwd",
            "//cdn.example.com/x.svg",
            "https://exa mple.com/x.png",
        ],
    );
    let big = format!("data:image/png;base64,{}", "A".repeat(LOGO_DATA_MAX));
    assert!(check_logo(&big).unwrap_err().message.contains("too large"));
}

#[test]
fn client_fields() {
    let mut d = draft();
    d.client_id = " ".into();
    assert!(only_field(&d, "client_id").contains("client ID"));
    let mut d = draft();
    d.slug = "keycloak".into();
    d.client_secret = String::new();
    assert!(only_field(&d, "client_secret").contains("client secret"));
    assert!(
        d.validate(Mode::Update, IssuerPolicy::default())
            .unwrap()
            .client_secret
            .is_none()
    );
    d.client_secret = "x".repeat(2000);
    assert!(errors_of(&d, Mode::Update)[0].field == "client_secret");
    d.client_secret = "tab\tsecret".into();
    assert!(errors_of(&d, Mode::Update)[0].field == "client_secret");
}

/// `field`'s value (through `set`) is refused with a message containing what each `bad`
/// entry names, and `good` passes.
fn list_field_rules(
    field: &str,
    set: fn(&mut ProviderDraft, &str),
    bad: &[(&str, &str)],
    good: &str,
) {
    let mut d = draft();
    for (value, says) in bad {
        set(&mut d, value);
        assert!(only_field(&d, field).contains(says), "{value}");
    }
    set(&mut d, good);
    assert!(d.validate(Mode::Create, IssuerPolicy::default()).is_ok());
}

#[test]
fn scopes_must_include_openid() {
    list_field_rules(
        "scopes",
        |d, v| d.settings.scopes = v.into(),
        &[
            ("profile, email", "openid"),
            ("openid, \"quoted\"", "not a valid scope"),
        ],
        "openid",
    );
}

#[test]
fn required_claims_are_names() {
    list_field_rules(
        "required_claims",
        |d, v| d.settings.required_claims = v.into(),
        &[("is_admin, <script>", "<script>")],
        "https://example.com/claims/allowed, groups.admin",
    );
}

#[test]
fn admin_claims_take_the_same_rules() {
    list_field_rules(
        "admin_claims",
        |d, v| d.settings.admin_claims = v.into(),
        &[
            ("groups=admins, <script>", "<script>"),
            ("groups=", "groups="),
        ],
        "groups=admins, realm_access.roles=portcullis-admin",
    );
    let mut d = draft();
    d.settings.admin_claims = String::new();
    let v = d.validate(Mode::Create, IssuerPolicy::default()).unwrap();
    assert!(
        v.settings.admin_claims.is_empty(),
        "empty: the provider grants no admin role"
    );
}

#[test]
fn every_bad_field_is_reported_at_once() {
    let d = ProviderDraft::default();
    let errors = errors_of(&d, Mode::Create);
    for field in [
        "name",
        "issuer_url",
        "client_id",
        "client_secret",
        "slug",
        "scopes",
    ] {
        assert!(message_for(&errors, field).is_some(), "{field}: {errors:?}");
    }
}

#[test]
fn editing_keeps_the_typed_slug() {
    let mut d = draft();
    d.slug = String::new();
    let errs = errors_of(&d, Mode::Update);
    assert_eq!(errs[0].field, "slug", "no auto-fill when editing");
}

#[test]
fn redirect_uri_is_the_login_page() {
    assert_eq!(
        redirect_uri_base("https://p.example.com/"),
        "https://p.example.com/login"
    );
    assert_eq!(
        redirect_uri_base("http://127.0.0.1:3000"),
        "http://127.0.0.1:3000/login"
    );
}

#[test]
fn each_provider_has_its_own_redirect_uri_under_the_login_page() {
    assert_eq!(
        redirect_uri("https://p.example.com/", "keycloak"),
        "https://p.example.com/login/keycloak"
    );
    assert_ne!(
        redirect_uri("https://p.example.com", "a"),
        redirect_uri("https://p.example.com", "b")
    );
}

#[test]
fn view_to_draft_never_carries_a_secret() {
    let v = ProviderView {
        slug: "kc".into(),
        name: "KC".into(),
        logo: String::new(),
        issuer_url: "https://kc".into(),
        client_id: "id".into(),
        has_client_secret: true,
        settings: ProviderSettings {
            scopes: vec!["openid".into(), "email".into()],
            required_claims: vec![],
            admin_claims: vec!["groups=admins".into()],
            allow_new_users: true,
            enabled: true,
            token_auth_method: "auto".into(),
            groups_claim: "realm_access.roles".into(),
            groups_authoritative: true,
            sign_out_at_provider: true,
            link_by_email: true,
            auth_params: AuthParams::parse("prompt=select_account").unwrap(),
            second_factor: "never".into(),
        },
        position: 0,
        linked_accounts: 0,
        unmatched_links: 0,
        redirect_uri: String::new(),
        post_logout_redirect_uri: String::new(),
        backchannel_logout_uri: String::new(),
    };
    let d = v.draft();
    assert_eq!(d.client_secret, "");
    assert_eq!(d.settings.scopes, "openid, email");
    assert!(
        d.settings.link_by_email,
        "the editor starts from the stored choice"
    );
    assert!(
        d.settings.groups_authoritative,
        "so does Groups are authoritative"
    );
}

/// A yes/no setting is stored as chosen, off and on: `set` sets it in a draft, `get` reads
/// it from the validated provider.
fn kept_as_chosen(set: fn(&mut ProviderSettings<Typed>, bool), get: fn(&ProviderSettings) -> bool) {
    for on in [false, true] {
        let mut d = draft();
        set(&mut d.settings, on);
        let v = d.validate(Mode::Create, IssuerPolicy::default()).unwrap();
        assert_eq!(get(&v.settings), on);
    }
}

#[test]
fn groups_are_kept_apart_unless_the_administrator_says_otherwise() {
    assert!(!ProviderDraft::new_default().settings.groups_authoritative);
    kept_as_chosen(
        |s, on| s.groups_authoritative = on,
        |s| s.groups_authoritative,
    );
}

#[test]
fn a_stored_secret_never_follows_a_new_issuer_or_client() {
    let stored = ("https://sso.example.com/realms/main", "portcullis");
    let (issuer, client) = stored;
    // Same issuer and client: an empty field keeps the stored secret (spaces as typed).
    assert!(check_stored_secret(stored, issuer, client, "").is_ok());
    assert!(check_stored_secret(stored, &format!(" {issuer} "), client, " ").is_ok());
    assert!(keeps_stored_secret(stored, issuer, client));
    for (i, c) in [
        ("https://sso.example.com/realms/other", client),
        ("https://sso.example.com/realms/main/", client),
        (issuer, "another-client"),
        ("https://elsewhere.example", "another-client"),
    ] {
        assert!(!keeps_stored_secret(stored, i, c), "{i} {c}");
        let e = check_stored_secret(stored, i, c, "").unwrap_err();
        assert_eq!(e.field, "client_secret");
        assert_eq!(e.message, SECRET_AGAIN);
        // A typed secret goes with the new values.
        assert!(
            check_stored_secret(stored, i, c, "new-secret").is_ok(),
            "{i} {c}"
        );
    }
}

#[test]
fn token_auth_methods() {
    let mut d = draft();
    for (typed, stored) in [("", "auto"), ("client_secret_post", "client_secret_post")] {
        d.settings.token_auth_method = typed.into();
        let valid = d.validate(Mode::Create, IssuerPolicy::default()).unwrap();
        assert_eq!(valid.settings.token_auth_method, stored, "{typed:?}");
    }
    d.settings.token_auth_method = "private_key_jwt".into();
    assert!(only_field(&d, "token_auth_method").contains("client_secret_post"));
}

#[test]
fn plain_http_logos_only_where_the_pages_may_load_them() {
    let mirror = Some("http://icons.lan:8080");
    assert!(check_logo_for("http://icons.lan:8080/svg/keycloak.svg", mirror).is_ok());
    let elsewhere = check_logo_for("http://other.lan/x.svg", mirror).unwrap_err();
    assert!(
        elsewhere.message.contains("http://icons.lan:8080"),
        "{}",
        elsewhere.message
    );
    let none = check_logo("http://icons.lan:8080/svg/keycloak.svg").unwrap_err();
    assert!(none.message.contains("https://"), "{}", none.message);
    let mut d = draft();
    d.logo = "http://icons.lan:8080/svg/keycloak.svg".into();
    assert!(d.validate(Mode::Create, IssuerPolicy::default()).is_err());
    d.http_image_origin = mirror.map(str::to_owned);
    assert!(d.validate(Mode::Create, IssuerPolicy::default()).is_ok());
}

#[test]
fn sign_out_at_provider_is_on_for_new_providers_and_kept_as_chosen() {
    assert!(ProviderDraft::new_default().settings.sign_out_at_provider);
    kept_as_chosen(
        |s, on| s.sign_out_at_provider = on,
        |s| s.sign_out_at_provider,
    );
    assert_eq!(
        post_logout_redirect_uri("https://p.example.com/", "kc"),
        "https://p.example.com/login/kc/signed-out"
    );
    assert_eq!(
        backchannel_logout_uri("https://p.example.com/", "kc"),
        "https://p.example.com/api/v1/oidc/kc/backchannel-logout"
    );
}

#[test]
fn link_by_email_is_off_for_new_providers_and_kept_as_chosen() {
    assert!(!ProviderDraft::new_default().settings.link_by_email);
    kept_as_chosen(|s, on| s.link_by_email = on, |s| s.link_by_email);
}

#[test]
fn extra_authorization_parameters_are_a_setting_checked_on_their_field() {
    let mut d = draft();
    d.settings.auth_params = "prompt=select_account\ndomain_hint=example.com".into();
    let v = d.validate(Mode::Create, IssuerPolicy::default()).unwrap();
    assert_eq!(
        v.settings.auth_params.iter().collect::<Vec<_>>(),
        [("prompt", "select_account"), ("domain_hint", "example.com")]
    );
    assert_eq!(v.settings.typed().auth_params, d.settings.auth_params);
    d.settings.auth_params = "prompt=login\nScope=openid admin".into();
    let msg = only_field(&d, "auth_params");
    assert!(msg.starts_with("Line 2: Scope cannot be set here"), "{msg}");
}

/// A form posts every value as text, and a flattened struct reads it through serde's
/// buffer: every setting must come through that way (a `bool` needs `flag`).
#[test]
fn every_setting_arrives_from_a_form_as_text() {
    let typed = ProviderSettings::<Typed> {
        scopes: "openid, email".into(),
        required_claims: "a".into(),
        admin_claims: "b".into(),
        allow_new_users: true,
        enabled: true,
        groups_claim: "groups".into(),
        groups_authoritative: true,
        token_auth_method: "client_secret_post".into(),
        sign_out_at_provider: true,
        link_by_email: true,
        auth_params: "prompt=login".into(),
        second_factor: "always".into(),
    };
    let d = ProviderDraft {
        settings: typed,
        ..draft()
    };
    let serde_json::Value::Object(fields) = serde_json::to_value(&d).unwrap() else {
        unreachable!()
    };
    let as_text: serde_json::Map<String, serde_json::Value> = fields
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, serde_json::Value::String(text))
        })
        .collect();
    let back: ProviderDraft = serde_json::from_value(as_text.into()).unwrap();
    assert_eq!(back, d);
    // An unticked checkbox is absent.
    let back: ProviderDraft = serde_json::from_str(r#"{"name":"x"}"#).unwrap();
    assert!(!back.settings.enabled);
}

/// `NAMES` (the columns, CLI flags, form fields) is the settings' serialised names.
#[test]
fn the_names_are_the_settings() {
    let serde_json::Value::Object(fields) =
        serde_json::to_value(ProviderSettings::<Typed>::default()).unwrap()
    else {
        unreachable!()
    };
    let mut keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    let mut names = ProviderSettings::<Typed>::NAMES.to_vec();
    keys.sort_unstable();
    names.sort_unstable();
    assert_eq!(keys, names);
    assert!(names.contains(&"auth_params"));
}
