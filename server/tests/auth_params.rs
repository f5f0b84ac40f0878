//! Extra authorization parameters (issue 19 item 3), on SQLite and PostgreSQL: the real
//! test provider receives them in the authorization request of a sign-in (each once, as
//! typed, beside Portcullis's own parameters, which they never replace); the editor's Save
//! refuses one that would touch the protocol on their field and stores nothing; the CLI
//! stores them and `provider list --json` shows them; the editor shows their textarea.

use crate::common;

use common::TestApp;
use common::flow::*;
use reqwest::StatusCode;
use serde_json::Value;

const EXTRAS: &str = "prompt=login\n\
                      login_hint=alice@idp.example\n\
                      ui_locales=de-CH fr\n\
                      kc_idp_hint=a&state=evil #x";

async fn the_provider_receives_them_at_sign_in(app: &TestApp) {
    let (idp, _) = idp_provider(app, |d| d.settings.auth_params = EXTRAS.into()).await;

    let b = app.browser();
    let started = start(app, &b, "idp").await;
    // As Portcullis sends it: every parameter once, the extras encoded (the `&state=` in
    // a value stays inside that value).
    let url = url::Url::parse(&location(&started)).unwrap();
    let names: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    for own in [
        "response_type",
        "client_id",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "redirect_uri",
        "scope",
        "prompt",
        "login_hint",
        "ui_locales",
        "kc_idp_hint",
    ] {
        assert_eq!(
            names.iter().filter(|n| *n == own).count(),
            1,
            "{own} once in {url}"
        );
    }
    assert!(
        url.query()
            .unwrap()
            .contains("kc_idp_hint=a%26state%3Devil+%23x"),
        "{url}"
    );

    let done = finish(app, &b, started, "alice").await;
    assert_eq!(raw_location(&done), "/", "alice signs in");
    assert!(me(app, &b).await.is_some());

    let got = idp.last_authorization().await;
    assert_eq!(got["prompt"], "login", "{got}");
    assert_eq!(got["login_hint"], "alice@idp.example", "{got}");
    assert_eq!(got["ui_locales"], "de-CH fr", "{got}");
    assert_eq!(got["kc_idp_hint"], "a&state=evil #x", "{got}");
    // Portcullis's own, untouched (one value each, not a list).
    assert_eq!(got["scope"], "openid profile email portcullis", "{got}");
    assert_eq!(got["response_type"], "code", "{got}");
    assert!(got["state"].is_string() && got["state"] != "evil", "{got}");
}
both_backends!(the_provider_receives_them_at_sign_in);

async fn a_protocol_parameter_is_refused_on_its_field_and_nothing_is_saved(app: &TestApp) {
    let admin = add_signed_in(app, "root", true).await;
    let save = |d: portcullis::provider::ProviderDraft, original: &'static str| {
        let admin = admin.clone();
        async move { app.save_provider(&admin, original, &d).await }
    };
    let stored = || async {
        portcullis::ssr::providers::list(&app.running.db)
            .await
            .unwrap()
    };
    let mut d = draft("https://sso.corp.example", "corp", false);
    for (extras, says) in [
        ("STATE=mine", "Line 1: STATE cannot be set here"),
        (
            "prompt=login\n Scope = openid admin",
            "Line 2: Scope cannot be set here",
        ),
        (
            "redirect_uri=https://evil.example/",
            "Line 1: redirect_uri cannot be set here",
        ),
        ("max_age=0", "auth_time"),
        ("sc%6Fpe=admin", "no spaces or %-escapes"),
        (
            "prompt=login\nprompt=none",
            "Line 2: prompt is already set on line 1",
        ),
    ] {
        d.settings.auth_params = extras.into();
        let (status, body) = save(d.clone(), "").await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{extras:?}: {body}"
        );
        let errors = body["Validation"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{body}");
        assert_eq!(errors[0]["field"], "auth_params", "{body}");
        let msg = errors[0]["message"].as_str().unwrap();
        assert!(msg.contains(says), "{extras:?}: {msg}");
        assert!(stored().await.is_empty(), "{extras:?}: nothing saved");
    }

    // Good ones are saved, shown as stored, and an edit that adds a bad one keeps them.
    d.settings.auth_params = "prompt=select_account\ndomain_hint=corp.example".into();
    let (status, view) = save(d.clone(), "").await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let expected = serde_json::json!({"prompt": "select_account", "domain_hint": "corp.example"});
    assert_eq!(view["auth_params"], expected);
    d.client_secret = String::new();
    d.settings.auth_params = "prompt=select_account\nnonce=fixed".into();
    let (status, body) = save(d, "corp").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let list = stored().await;
    assert_eq!(
        list[0].settings.auth_params.to_text(),
        "prompt=select_account\ndomain_hint=corp.example",
        "unchanged"
    );

    // The editor: the textarea, labelled, with what is stored.
    let html = page_text(app, &admin, "/settings/users/oidc/edit/corp").await;
    assert!(
        html.contains("<label for=\"field-auth_params\">Extra Authorization Parameters"),
        "the label: {}",
        &html[html
            .find("field-auth_params")
            .unwrap_or(0)
            .saturating_sub(300)..][..1200]
    );
    let at = html.find("name=\"draft[auth_params]\"").expect("the field");
    let tag = &html[html[..at].rfind('<').unwrap()..];
    assert!(tag.starts_with("<textarea"), "{}", &tag[..80]);
    assert!(
        tag.contains(">prompt=select_account\ndomain_hint=corp.example</textarea>"),
        "{}",
        &tag[..tag.find("</textarea>").unwrap_or(200) + 11]
    );
}
both_backends!(a_protocol_parameter_is_refused_on_its_field_and_nothing_is_saved);

async fn the_cli_stores_and_lists_them(app: &TestApp) {
    let cli = |args: &[&str], input: &str| {
        app.cli_with_input(&[args, &["--allow-insecure-issuers"]].concat(), input)
    };
    let update = |args: &[&str]| {
        cli(
            &[&["provider", "update", "--slug", "entra"], args].concat(),
            "",
        )
    };
    let stored = || async {
        let view = portcullis::ssr::providers::get_view(&app.running.db, "entra").await;
        view.unwrap().unwrap().settings.auth_params.to_text()
    };
    let add = [
        "provider",
        "add",
        "--name",
        "Entra",
        "--issuer-url",
        "https://login.microsoftonline.example/tenant/v2.0",
        "--client-id",
        "portcullis",
        "--client-secret-stdin",
        "--auth-param",
        "prompt=select_account",
        "--auth-param",
        "domain_hint=corp.example",
    ];
    let run = cli(&add, "secret\n");
    assert!(run.ok, "{}", run.text());
    let listed = cli(&["provider", "list", "--json"], "");
    assert!(listed.ok, "{}", listed.text());
    let list: Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(
        list[0]["auth_params"],
        serde_json::json!({"prompt": "select_account", "domain_hint": "corp.example"})
    );
    let both = "prompt=select_account\ndomain_hint=corp.example";

    // Refused with the field's message, as a flag; nothing changes.
    let run = update(&["--auth-param", "Client_ID=other"]);
    assert!(!run.ok);
    let says = "--auth-params: Line 1: Client_ID cannot be set here";
    assert!(run.text().contains(says), "{}", run.text());
    assert_eq!(stored().await, both);
    // Other flags keep them; an empty one clears them.
    let run = update(&["--enabled", "false"]);
    assert!(run.ok, "{}", run.text());
    assert_eq!(stored().await, both);
    let run = update(&["--auth-param", ""]);
    assert!(run.ok, "{}", run.text());
    assert_eq!(stored().await, "");
}
both_backends!(the_cli_stores_and_lists_them);
