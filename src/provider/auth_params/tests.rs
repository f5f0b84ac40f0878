use super::*;

fn pairs(p: &AuthParams) -> Vec<(&str, &str)> {
    p.iter().collect()
}

/// The error for `text`, which must be refused.
fn refused(text: &str) -> String {
    let e = AuthParams::parse(text).expect_err(text);
    assert_eq!(e.field, FIELD, "{text:?}");
    e.message
}

#[test]
fn what_providers_ask_for_is_taken_as_typed() {
    let text = "prompt=select_account\n\
                domain_hint=example.com\r\n\
                \n\
                  hd = example.com  \n\
                acr_values=urn:mace:incommon:iap:silver phr\n\
                login_hint=zoë@example.com\n\
                ui_locales=de-CH fr\n\
                kc_idp_hint=github\n\
                claims_locales=en\n\
                x.vendor_param-2=a=b&c";
    let p = AuthParams::parse(text).unwrap();
    assert_eq!(
        pairs(&p),
        [
            ("prompt", "select_account"),
            ("domain_hint", "example.com"),
            ("hd", "example.com"),
            ("acr_values", "urn:mace:incommon:iap:silver phr"),
            ("login_hint", "zoë@example.com"),
            ("ui_locales", "de-CH fr"),
            ("kc_idp_hint", "github"),
            ("claims_locales", "en"),
            // Only the first '=' separates: the value is sent as typed, encoded.
            ("x.vendor_param-2", "a=b&c"),
        ]
    );
    // Stored and read back the same, in the order typed.
    assert_eq!(AuthParams::from_stored(&p.to_text()), p);
    assert_eq!(AuthParams::parse(&p.to_text()).unwrap(), p);
    assert!(AuthParams::parse("").unwrap().is_empty());
    assert!(AuthParams::parse(" \n\r\n ").unwrap().is_empty());
}

#[test]
fn every_reserved_parameter_is_refused_in_every_spelling() {
    assert_eq!(RESERVED.len(), 15);
    for (key, _) in RESERVED {
        let upper = key.to_ascii_uppercase();
        let mut title = key.to_owned();
        title[..1].make_ascii_uppercase();
        for spelling in [
            key.to_owned(),
            upper,
            title,
            format!("  {key}"),
            format!("{key} "),
            format!("\t{key}\t"),
        ] {
            let line = format!("prompt=login\n{spelling}=x");
            let msg = refused(&line);
            assert!(msg.starts_with("Line 2: "), "{line:?}: {msg}");
            assert!(msg.contains("cannot be set here"), "{line:?}: {msg}");
            assert!(msg.contains("Remove this line"), "{line:?}: {msg}");
        }
        assert!(reserved(key).is_some());
    }
    // Why, and what to do instead, where there is something.
    assert!(refused("scope=openid admin").contains("Scopes field"));
    assert!(refused("max_age=0").contains("auth_time"));
    assert!(refused("max_age=0").contains("prompt=login"));
    assert!(refused("STATE=abc").contains("sets it itself"));
}

#[test]
fn no_escape_or_padding_spells_a_reserved_name() {
    for line in [
        "sc%6Fpe=x",       // percent-encoded "scope"
        "%73tate=x",       // percent-encoded "state"
        "scope%20=x",      // an encoded space
        "sco pe=x",        // a space inside
        "scope\u{a0}=x",   // a no-break space: trimmed as white space, then refused by name
        "scope\u{200b}=x", // a zero-width space: not a name character
        "ſcope=x",         // a long s, which some case foldings turn into 's'
        "redirect_uri[]=x",
        "state;x=y",
        "&state=x",
        "state&x=y",
        "x&state=y",
        "#state=x",
        "?state=x",
        "ｓｔａｔｅ=x", // full-width letters
    ] {
        assert!(AuthParams::parse(line).is_err(), "{line:?}");
    }
    // A value cannot smuggle a parameter in either: it is one value, encoded when sent.
    let p = AuthParams::parse("login_hint=a&state=evil#x").unwrap();
    assert_eq!(pairs(&p), [("login_hint", "a&state=evil#x")]);
}

#[test]
fn bad_lines_say_which_line_and_what_to_do() {
    let msg = refused("prompt=login\nselect_account");
    assert!(
        msg.starts_with("Line 2: ") && msg.contains("name=value"),
        "{msg}"
    );
    let msg = refused("=select_account");
    assert!(msg.starts_with("Line 1: ") && msg.contains("name"), "{msg}");
    let msg = refused("prompt=");
    assert!(
        msg.contains("prompt has no value") && msg.contains("prompt=VALUE"),
        "{msg}"
    );
    let msg = refused("prompt=select\taccount");
    assert!(msg.contains("control characters"), "{msg}");
    let msg = refused("prompt=a\u{7}b");
    assert!(msg.contains("control characters"), "{msg}");
    let msg = refused("prompt=a\rb");
    assert!(msg.contains("control characters"), "{msg}");
    let msg = refused("pro/mpt=x");
    assert!(msg.contains("letters, digits"), "{msg}");
}

#[test]
fn lengths_are_bounded() {
    let key = "k".repeat(KEY_MAX);
    assert!(AuthParams::parse(&format!("{key}=v")).is_ok());
    assert!(refused(&format!("{key}k=v")).contains(&format!("at most {KEY_MAX}")));
    let value = "é".repeat(VALUE_MAX);
    assert!(AuthParams::parse(&format!("login_hint={value}")).is_ok());
    assert!(refused(&format!("login_hint={value}x")).contains(&format!("at most {VALUE_MAX}")));
    let many: Vec<String> = (0..AUTH_PARAMS_MAX).map(|i| format!("p{i}=v")).collect();
    assert!(AuthParams::parse(&many.join("\n")).is_ok());
    let msg = refused(&format!("{}\none=more", many.join("\n")));
    assert!(msg.contains(&format!("at most {AUTH_PARAMS_MAX}")), "{msg}");
}

#[test]
fn a_name_is_given_once() {
    let msg = refused("prompt=login\n\nhd=example.com\nprompt=consent");
    assert_eq!(
        msg,
        "Line 4: prompt is already set on line 1: keep one of the two lines."
    );
    let msg = refused("prompt=login\nPROMPT=consent");
    assert!(
        msg.starts_with("Line 2: PROMPT is already set on line 1"),
        "{msg}"
    );
}

#[test]
fn what_is_read_back_is_never_unsafe() {
    // A stored text that would not pass now (written by hand, or before a rule) keeps
    // only its good lines: a reserved or malformed one is never sent.
    let p = AuthParams::from_stored(
        "prompt=login\nstate=evil\nScope=admin\nbad line\nprompt=x\nhd=example.com",
    );
    assert_eq!(pairs(&p), [("prompt", "login"), ("hd", "example.com")]);
}

#[test]
fn json_is_an_object_in_the_order_typed() {
    let p = AuthParams::parse("prompt=select_account\nhd=example.com").unwrap();
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(json, r#"{"prompt":"select_account","hd":"example.com"}"#);
    let back: AuthParams = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);
    // Read as safely as the database: no reserved name, no line break into another line.
    let back: AuthParams =
        serde_json::from_str(r#"{"state":"x","hd":"a\nstate=b","prompt":"login"}"#).unwrap();
    assert_eq!(pairs(&back), [("prompt", "login")]);
}
