use super::request::{RequestUrl, judge};
use super::*;

fn draft(urls: &str, access: &str, users: &str, groups: &str) -> AppDraft {
    AppDraft {
        name: "Sonarr".into(),
        urls: urls.into(),
        access: access.into(),
        users: users.into(),
        groups: groups.into(),
        ..AppDraft::default()
    }
}

fn app(id: &str, urls: &[&str]) -> App {
    App::for_test(id, urls)
}

fn url(s: &str) -> url::Url {
    url::Url::parse(s).unwrap()
}

#[test]
fn parses_and_normalises_urls() {
    let cases = [
        (
            "https://Sonarr.Home.Example",
            "https://sonarr.home.example/",
        ),
        (
            "https://sonarr.home.example/",
            "https://sonarr.home.example/",
        ),
        ("http://app.test:8080/media/", "http://app.test:8080/media"),
        ("https://app.test:443/x", "https://app.test/x"),
        ("HTTPS://app.test/A/b", "https://app.test/A/b"),
        // Held decoded, shown encoded.
        ("https://app.test/%61dmin", "https://app.test/admin"),
        (
            "https://app.test/überwachung/",
            "https://app.test/%C3%BCberwachung",
        ),
        ("https://app.test/a b", "https://app.test/a%20b"),
        ("https://app.test/100%25", "https://app.test/100%25"),
    ];
    for (typed, shown) in cases {
        assert_eq!(AppUrl::parse(typed).unwrap().to_string(), shown, "{typed}");
    }
}

#[test]
fn refuses_bad_urls_with_the_fix() {
    let cases = [
        ("sonarr.home.example", "start the URL with https://"),
        ("ftp://x.test", "start the URL with https://"),
        ("javascript:alert(1)", "start the URL with https://"),
        ("https://u:p@x.test", "user name and password"),
        ("https://x.test/?a=1", "query"),
        ("https://x.test/#top", "fragment"),
        ("https://x.test\\y", "backslashes"),
        ("https://", "not a URL"),
        ("https://x.test/admin%2Fx", "more than one reading"),
        ("https://x.test/a;b", "more than one reading"),
        ("https://x.test/%2561dmin", "more than one reading"),
        ("https://x.test/a%3Fb", "encoded '?' or '#'"),
        ("https://x.test/ADMINI~1", "Windows short name"),
        ("https://x.test/tools/PROGRA~2/x", "Windows short name"),
    ];
    for (typed, hint) in cases {
        let e = AppUrl::parse(typed).unwrap_err();
        assert!(e.contains(hint), "{typed}: {e}");
    }
}

#[test]
fn validate_names_the_field_and_the_fix() {
    let cases: [(AppDraft, &str, &str); 6] = [
        (
            AppDraft {
                name: " ".into(),
                ..draft("https://a.test", "users", "", "")
            },
            "name",
            "Enter the name",
        ),
        (draft("", "users", "", ""), "urls", "at least one URL"),
        (draft("a.test", "users", "", ""), "urls", "https://"),
        (
            draft("https://a.test", "everyone", "", ""),
            "access",
            "Choose",
        ),
        (
            draft("https://a.test", "listed", "", ""),
            "users",
            "at least one user or group",
        ),
        (
            AppDraft {
                icon: "http://img.test/x.png".into(),
                ..draft("https://a.test", "users", "", "")
            },
            "icon",
            "https://",
        ),
    ];
    for (d, field, hint) in cases {
        let errors = d.validate().unwrap_err();
        let msg = crate::field::message_for(&errors, field)
            .unwrap_or_else(|| panic!("{field}: {errors:?}"));
        assert!(msg.contains(hint), "{field}: {msg}");
    }
}

#[test]
fn validate_keeps_lists_only_for_listed_access() {
    let v = draft(
        "https://a.test\nhttps://b.test/x, https://a.test/",
        "listed",
        "alice, bob alice",
        "media, home lab,media",
    )
    .validate()
    .unwrap();
    assert_eq!(v.settings.urls.len(), 2);
    assert_eq!(v.settings.users, ["alice", "bob"]);
    assert_eq!(v.settings.groups, ["media", "home lab"]);
    let v = draft("https://a.test", "admins", "alice", "media")
        .validate()
        .unwrap();
    assert_eq!(v.settings.access, Access::Admins);
    assert!(v.settings.users.is_empty() && v.settings.groups.is_empty());
    let v = draft("https://a.test", "", "", "").validate().unwrap();
    assert_eq!(v.settings.access, Access::Users);
}

#[test]
fn a_request_belongs_to_the_most_specific_app() {
    let apps = [
        app("root", &["https://h.test"]),
        app("media", &["https://h.test/media"]),
        app("deep", &["https://h.test/media/tv"]),
        app("other", &["http://o.test:8080/"]),
    ];
    let cases = [
        ("https://h.test/", Some("root")),
        ("https://h.test/mediaplayer", Some("root")),
        ("https://h.test/media", Some("media")),
        ("https://h.test/media/", Some("media")),
        ("https://h.test/media/tvx", Some("media")),
        ("https://h.test/media/tv/show?x=1", Some("deep")),
        ("https://H.TEST/media", Some("media")),
        ("http://h.test/media", None),
        ("https://h.test:8443/", None),
        ("http://o.test:8080/a", Some("other")),
        ("http://o.test/a", None),
        ("https://evil.test/", None),
        ("https://h.test.evil.test/", None),
    ];
    for (u, want) in cases {
        assert_eq!(matching(&apps, &url(u)).map(|a| a.id.as_str()), want, "{u}");
    }
}

#[test]
fn access_rule() {
    let groups = |g: &[&str]| g.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let listed = (Access::Listed, groups(&["Alice"]), groups(&["media"]));
    let cases = [
        (Access::Users, false, "x", &[][..], true),
        (Access::Admins, false, "x", &[][..], false),
        (Access::Admins, true, "x", &[][..], true),
        (Access::Listed, false, "alice", &[][..], true),
        (Access::Listed, false, "bob", &["media"][..], true),
        (Access::Listed, false, "bob", &["Media"][..], false),
        (Access::Listed, true, "root", &["admins"][..], false),
    ];
    for (access, admin, user, user_groups, want) in cases {
        let got = allows(
            access,
            &listed.1,
            &listed.2,
            admin,
            user,
            &groups(user_groups),
        );
        assert_eq!(got, want, "{access} {admin} {user} {user_groups:?}");
    }
}

#[test]
fn request_urls_are_judged_strictly() {
    let ok = ["https://a.test/x?y=1#z", "HTTP://a.test:81/"];
    let bad = [
        "//a.test/",
        "https:a.test",
        "https:/\\a.test",
        "https://u@a.test/",
        "https://a.test:x@b.test/",
        "javascript:alert(1)",
        "https://a.test/ x",
        "https://a.test/\\x",
        "data:text/html,x",
    ];
    for (urls, valid) in [(&ok[..], true), (&bad[..], false)] {
        for u in urls {
            assert_eq!(parse_request_url(u).is_some(), valid, "{u}");
        }
    }
}

#[test]
fn group_names() {
    assert!(check_group("media").is_ok());
    assert!(check_group("a,b").unwrap_err().contains("commas"));
    assert!(check_group("").is_err());
}

#[test]
fn views_round_trip_to_drafts() {
    let v = draft(
        "https://a.test/x\nhttps://b.test",
        "listed",
        "alice",
        "media",
    )
    .validate()
    .unwrap();
    let a = App {
        id: "1".into(),
        settings: AppSettings {
            icon: "data:image/png;base64,AAAA".into(),
            ..v.settings
        },
        position: 0,
        updated_at: 7,
    };
    let again = a.view().draft().validate().unwrap();
    assert_eq!(again.settings.urls, a.settings.urls);
    assert_eq!(a.tile().icon, "/api/v1/apps/1/icon?v=7");
    assert_eq!(a.tile().url, "https://a.test/x");
}

#[test]
fn groups_from_a_claim() {
    let v = serde_json::json!(["media", "a,b", "media", " ops ", 3, ""]);
    assert_eq!(claim_groups(Some(&v)), ["media", "ops"]);
    assert_eq!(claim_groups(Some(&serde_json::json!("one"))), ["one"]);
    assert!(claim_groups(Some(&serde_json::json!({"x": 1}))).is_empty());
    assert!(claim_groups(None).is_empty());
}

#[test]
fn provider_groups_are_kept_apart_from_assigned_ones() {
    // Not authoritative (the default): the provider's slug in front, so a group a user
    // names at the provider ("media") never matches the assigned group "media".
    assert_eq!(provider_group("gitea", "media", false), "gitea:media");
    assert_eq!(provider_group("gitea", "org:team", false), "gitea:org:team");
    assert_eq!(provider_group("kc", "media", true), "media");
    let app_groups = vec!["media".to_owned()];
    let from_gitea = vec![provider_group("gitea", "media", false)];
    assert!(!allows(
        Access::Listed,
        &[],
        &app_groups,
        false,
        "eve",
        &from_gitea
    ));
    let listed = vec!["gitea:media".to_owned()];
    assert!(allows(
        Access::Listed,
        &[],
        &listed,
        false,
        "eve",
        &from_gitea
    ));
    // The longest group a provider can send still fits an access list under its prefix.
    let slug = "s".repeat(crate::provider::SLUG_MAX);
    let longest = provider_group(&slug, &"g".repeat(ENTRY_MAX), false);
    let d = draft("https://a.test", "listed", "", &longest);
    assert_eq!(d.validate().unwrap().settings.groups, vec![longest.clone()]);
    let d = draft("https://a.test", "listed", "", &format!("{longest}x"));
    assert!(d.validate().is_err());
}

#[test]
fn groups_named_by_a_providers_groups_claim() {
    let claims = serde_json::json!({
        "groups": ["media", "a,b"],
        "realm_access": {"roles": ["ops"]},
    });
    let claims = claims.as_object().unwrap();
    assert_eq!(groups_in_claims("groups", claims), ["media"]);
    assert_eq!(groups_in_claims(" realm_access.roles ", claims), ["ops"]);
    assert!(groups_in_claims("", claims).is_empty());
    assert!(groups_in_claims("missing", claims).is_empty());
}

#[test]
fn paths_spelt_to_slip_past_a_narrower_app_are_judged_by_it_or_refused() {
    let apps = [
        app("everyone", &["https://h.test"]),
        app("admin", &["https://h.test/admin"]),
    ];
    // Another case still belongs to the narrower application.
    for u in ["https://h.test/ADMIN", "https://h.test/Admin/users"] {
        let parsed = parse_request_url(u).unwrap();
        assert_eq!(
            matching(&apps, &parsed).map(|a| a.id.as_str()),
            Some("admin"),
            "{u}"
        );
    }
    // Spellings a proxy may route to /admin but that do not start with it are refused.
    for u in [
        "https://h.test//admin/",
        "https://h.test/x//admin",
        "https://h.test/admin;x",
        "https://h.test/admin%2F..",
        "https://h.test/%2e%2e/admin",
        "https://h.test/admin%5cx",
    ] {
        assert_eq!(parse_request_url(u), None, "{u}");
    }
    assert!(parse_request_url("https://h.test/admin/a%20b?q=%2F").is_some());
}

/// The application that judges a forwarded request for `path` at `https://h.test`, or why
/// the request is refused.
fn judged(apps: &[App], path: &str) -> Result<Option<String>, String> {
    let req =
        RequestUrl::forwarded(&format!("https://h.test{path}")).map_err(|e| e.0.into_owned())?;
    judge(apps, &req)
        .map(|a| a.map(|a| a.id.clone()))
        .map_err(|e| e.0.into_owned())
}

/// Forward auth's reading of request paths (`request.rs`): the decoded path is judged; a
/// spelling an app could read as a narrower application than the decoded path is refused.
#[test]
fn paths_are_judged_as_the_app_reads_them() {
    let apps = [
        app("everyone", &["https://h.test", "http://h.test:8080"]),
        app("admin", &["https://h.test/admin"]),
        app("secret", &["https://h.test/secret"]),
        app("kiosk", &["https://h.test/kiosk"]),
    ];
    let read = |path: &str| judged(&apps, path);
    // Judged by the narrower application, once decoded.
    let admin = [
        "/admin",
        "/admin/",
        "/Admin/x",
        "/ADMIN",
        "/%61dmin",
        "/adm%69n/x",
        "/%41DMIN",
        "/%61%64%6d%69%6e/users",
        "/admin/a%20b",
        "/admin/x%20",
        "/admin?x=%2F",
        "/admin/users.json",
    ];
    // Refused: another reading belongs elsewhere, or there is no single reading.
    for p in [
        "/admin%3bx",
        "/admin;x",
        "/admin%20",
        "/admin%09",
        "/admin%0b",
        "/admin%0c",
        "/admin%c2%a0",
        "/%20admin",
        "/admin%e3%80%80",
        "/%2561dmin",
        "/%25%36%31dmin",
        "/admin%2F..",
        "/admin%2f",
        "/%2fadmin",
        "//admin",
        "/x//admin",
        "/admin%5cx",
        "/%5cadmin",
        "/%2e%2e/admin",
        "/x/%2e%2e/admin",
        "/x/../admin",
        "/x/./admin",
        "/./admin",
        "/admin%00",
        "/admin%00x",
        "/admin.",
        "/admin..",
        "/admin%2e",
        "/admin%3f",
        "/admin%3fx",
        "/admin%23",
        "/admin#x",
        "/%ef%bd%81dmin",
        "/%ef%bc%a1%ef%bc%a4MIN",
        "/%c5%bfecret",
        "/%e2%84%aaiosk",
        "/ad%e2%80%8bmin",
        "/%e2%80%8badmin",
        "/admin%c2%ad",
        "/admin%ef%bb%bf",
        "/%c0%af",
        "/%c0%aeadmin",
        "/%u0061dmin",
        "/admin%",
        "/admin%4",
        "/admin%zz",
        "/admin%7f",
        "/admin%1b",
        "/admin%c2%85",
        "/admin\\x",
        "/a\tb",
        "/x/%ef%bc%8e%ef%bc%8e/admin",
        "/x%ef%bc%8f..%ef%bc%8fadmin",
        "/x/%e2%80%a5/admin",
        "/x/%20../admin",
        "/x/..%20/admin",
        "/x/%e2%80%8b../admin",
        "/x%ef%bc%bcadmin",
        "/x/%ef%b9%92/admin",
        "/adm%c4%b0n",
        "/ADM%C4%B0N",
        "/admin.json",
        "/Admin.html",
        "/secret.xml",
    ] {
        assert!(read(p).is_err(), "{p} was judged as {:?}", read(p));
    }
    // Spellings that mean the same application whichever way they are read pass.
    let everyone = [
        "/",
        "",
        "/files/a%20b",
        "/adminx",
        "/admin-panel%20",
        "/mediaplayer",
        "/x%2Cy",
        "/caf%c3%a9",
        "/files/report.pdf",
        "/admin-panel.json",
        "/.well-known/x",
        "/%e2%84%aa",
        "/100%25",
        "/x?next=/admin",
        "/x?a=%2e%2e%2f",
    ];
    for (id, paths) in [("admin", &admin[..]), ("everyone", &everyone[..])] {
        for p in paths {
            assert_eq!(read(p), Ok(Some(id.to_owned())), "{p}");
        }
    }
    // Hosts: case-insensitive, the scheme's default port dropped, other ports distinct.
    for (u, want) in [
        ("https://H.TEST/admin", Some("admin")),
        ("http://h.test/", None),
        ("https://h.test:443/admin", Some("admin")),
        ("https://h.test:8443/", None),
        ("https://h.test./", None),
        ("http://H.test:8080/", Some("everyone")),
    ] {
        let req = RequestUrl::forwarded(u).unwrap();
        assert_eq!(
            judge(&apps, &req).unwrap().map(|a| a.id.as_str()),
            want,
            "{u}"
        );
    }
    // But the narrowest application on the host decides, whatever the port: `admin` is
    // listed on 443 only, and the site on 8080 may be the same one (`listen 8080` beside
    // 443), so `/admin` there is refused, not judged by `everyone`.
    let req = RequestUrl::forwarded("http://h.test:8080/admin").unwrap();
    assert!(judge(&apps, &req).is_err());
}

/// Each of `refused` is refused by `judge`, each of `judged_as` judged by that application.
fn holds(
    judge: impl Fn(&str) -> Result<Option<String>, String>,
    refused: &[&str],
    judged_as: &[(&str, &str)],
) {
    for u in refused {
        assert!(judge(u).is_err(), "{u} was judged as {:?}", judge(u));
    }
    for (u, id) in judged_as {
        assert_eq!(judge(u), Ok(Some((*id).to_owned())), "{u}");
    }
}

/// Spellings found in the second review of the gate: each reading applied to the others'
/// (a format suffix behind a trailing slash, whitespace before a suffix, a fullwidth `?`),
/// any format suffix, PHP and ASP.NET script segments, Windows aliases.
#[test]
fn readings_are_closed_under_every_step_and_script_segments_are_read_through() {
    let apps = [
        ("everyone", ""),
        ("admin", "/admin"),
        ("users", "/app/users"),
        ("app", "/app"),
        ("tools", "/administrator"),
        ("watch", "/Überwachung"),
        ("mine", "/my admin"),
        ("spaced", "/my app"),
        ("plus", "/a+b"),
    ]
    .map(|(id, path)| app(id, &[&format!("https://h.test{path}")]));
    let refused = [
        "/admin.json/",
        "/admin.json//",
        "/admin.x-y",
        "/admin.a_b",
        "/admin.x~",
        "/admin.a.b",
        "/Admin.JSON/",
        "/admin%20.json",
        "/admin%ef%bc%9fx",
        "/index.php/admin",
        "/index.php/admin/x",
        "/Index.PHP/admin",
        "/default.aspx/admin",
        "/x.cgi/admin",
        "/x.pl/admin",
        "/x.PHTML/admin/y",
        "/app/index.php/users",
        "/app/users.json/",
        "/ADMINI~1/x",
        "/admini~1.php",
        "/AD3F2A~1/x",
        "/%C3%9CBERWA~1/x",
        "/%C3%BCberwa~1",
        "/MYADMI~1/x",
        "/MYAPP~1/x",
        "/A_B~1",
        "/x~1.ASH/admin",
        "/x.phar/admin",
        "/admin~12",
        "/%ef%bc%a1DMINI%ef%bd%9e1/x",
        "/admin::$DATA/x",
        "/admin::$INDEX_ALLOCATION",
        "/(S(x))/admin",
        "/(A(abc))/x",
    ];
    let judged_as = [
        ("/index.php", "everyone"),
        ("/index.php/", "everyone"),
        ("/index.php/files", "everyone"),
        ("/x/index.php/admin", "everyone"),
        ("/cgi-bin/x.cgi/admin", "everyone"),
        ("/files/report.final.pdf", "everyone"),
        ("/files.d/", "everyone"),
        ("/~alice/x", "everyone"),
        ("/files/backup~x", "everyone"),
        ("/commit/HEAD~1", "everyone"),
        ("/files/Report~1.docx", "everyone"),
        ("/HEAD~1", "everyone"),
        ("/admin/index.php/x", "admin"),
        ("/admin/users.json/", "admin"),
        ("/app/x.json/", "app"),
        ("/app/users/index.php/x", "users"),
    ];
    holds(|path| judged(&apps, path), &refused, &judged_as);
}

/// The narrowest application on a host decides on every scheme and port: a wide
/// application listed on http and https, a narrow one on https only.
#[test]
fn a_narrower_application_on_another_scheme_or_port_refuses_the_request() {
    let apps = [
        app(
            "everyone",
            &["https://h.test", "http://h.test", "https://h.test:8443"],
        ),
        app("admin", &["https://h.test/admin"]),
        app("both", &["https://h.test/both", "http://h.test/both"]),
    ];
    let at = |u: &str| {
        judge(&apps, &RequestUrl::forwarded(u).unwrap())
            .map(|a| a.map(|a| a.id.clone()))
            .map_err(|e| e.0.into_owned())
    };
    let refused = [
        "http://h.test/admin",
        "http://h.test/admin/x",
        "https://h.test:8443/admin",
        "http://h.test/ADMIN.json",
    ];
    let judged_as = [
        ("https://h.test/admin", "admin"),
        ("http://h.test/x", "everyone"),
        ("https://h.test:8443/adminx", "everyone"),
        ("http://h.test/both/x", "both"),
        ("https://h.test/both", "both"),
    ];
    holds(at, &refused, &judged_as);
    // An origin no application lists is unknown, as before.
    assert_eq!(at("https://h.test:9000/admin"), Ok(None));
}

/// A stored URL that today's rules refuse (saved before a rule was tightened) is kept,
/// shown as stored, and refuses every request to its host; other hosts are judged as
/// before.
#[test]
fn a_stored_url_that_no_longer_reads_refuses_its_host() {
    let (kept, why) = AppUrl::stored("https://h.test/tools;v=2").unwrap_err();
    assert!(why.contains("more than one reading"), "{why}");
    assert_eq!(kept.to_string(), "https://h.test/tools;v=2");
    let mut tools = app("tools", &["https://o.test"]);
    tools.settings.urls.push(kept);
    let apps = [
        app("everyone", &["https://h.test", "https://o.test/x"]),
        tools,
    ];
    for u in [
        "https://h.test/",
        "https://h.test/tools",
        "https://h.test/x",
    ] {
        let req = RequestUrl::forwarded(u).unwrap();
        assert!(judge(&apps, &req).is_err(), "{u}");
    }
    let req = RequestUrl::forwarded("https://o.test/x/y").unwrap();
    assert_eq!(
        judge(&apps, &req).unwrap().map(|a| a.id.as_str()),
        Some("everyone")
    );
    assert!(AppUrl::stored("https://h.test/tools").is_ok());
    // What the editor shows is refused again with the fix, so nothing unreadable is saved.
    let d = draft(&kept_view(&apps[1]), "users", "", "");
    assert!(d.validate().is_err());
}

fn kept_view(app: &App) -> String {
    app.view().settings.urls.join("\n")
}

/// An application's path beyond ASCII, or typed encoded, covers the requests a browser
/// sends for it (encoded) and their other spellings; none is judged by the wider one.
#[test]
fn a_path_beyond_ascii_or_typed_encoded_is_the_narrower_application() {
    // Typed as an administrator might: beyond ASCII, or percent-encoded.
    let apps = [
        ("everyone", "https://h.test"),
        ("watch", "https://h.test/Überwachung"),
        ("admin", "https://h.test/%61dmin"),
    ]
    .map(|(id, typed)| app(id, &[typed]));
    let read = |path: &str| judged(&apps, path);
    for p in [
        "/%C3%9Cberwachung",
        "/%C3%9Cberwachung/x",
        "/%c3%bcberwachung/x",
        "/U%CC%88berwachung",
        "/%C3%9CBERWACHUNG",
    ] {
        let got = read(p);
        assert!(
            got.is_err() || got == Ok(Some("watch".into())),
            "{p} was judged as {got:?}"
        );
    }
    assert_eq!(read("/%C3%9Cberwachung/x"), Ok(Some("watch".into())));
    assert_eq!(read("/admin/x"), Ok(Some("admin".into())));
    assert_eq!(read("/%61dmin"), Ok(Some("admin".into())));
    assert_eq!(read("/uberwachung"), Ok(Some("everyone".into())));
}

/// A group reaches an app in `Remote-Groups` only if no app can read it as more than one:
/// white space, `;`, `|`, quotes, brackets and anything beyond ASCII split it somewhere.
#[test]
fn only_groups_that_read_as_one_travel_in_the_header() {
    for one in ["media", "kc:media-users", "entra:a.b_c@x/y+z=w~", "G1"] {
        assert!(travels_in_header(one), "{one}");
    }
    for many in [
        "kc:media admins",
        "kc:media\tadmins",
        "x;admins",
        "x|admins",
        "q\"admins\"",
        "[\"admins\"]",
        "a\u{2020}admins",
        "a\u{a0}admins",
        "a,admins",
        "",
    ] {
        assert!(!travels_in_header(many), "{many:?}");
    }
}

/// Two applications that list the same path (as the gate compares paths: case and
/// compatibility forms folded) are not told apart by their order on the start page: a path
/// both cover at the same depth is refused; and depth is the folded prefix's, not its
/// spelling's (a prefix in fullwidth letters is no deeper than in ASCII).
#[test]
fn applications_that_list_the_same_path_leave_it_to_neither() {
    // Applications of one URL each: (id, URL).
    let each = |list: &[(&str, &str)]| list.iter().map(|(id, u)| app(id, &[u])).collect::<Vec<_>>();
    let apps = each(&[
        ("users", "https://h.test/Admin"),
        ("admins", "https://h.test/admin"),
        ("home", "https://h.test"),
    ]);
    for path in ["/admin", "/admin/x", "/ADMIN/x"] {
        assert!(
            judged(&apps, path).is_err(),
            "{path}: {:?}",
            judged(&apps, path)
        );
    }
    assert_eq!(judged(&apps, "/other").unwrap().as_deref(), Some("home"));
    // One application listing a path twice is no tie.
    let apps = [app(
        "one",
        &["https://h.test/admin", "https://h.test/Admin"],
    )];
    assert_eq!(judged(&apps, "/admin/x").unwrap().as_deref(), Some("one"));
    // Depth by the folded prefix.
    let apps = each(&[
        (
            "wide",
            "https://h.test/\u{ff41}\u{ff44}\u{ff4d}\u{ff49}\u{ff4e}",
        ),
        ("narrow", "https://h.test/admin/secret"),
    ]);
    assert_eq!(
        judged(&apps, "/admin/secret/x").unwrap().as_deref(),
        Some("narrow")
    );
    assert_eq!(judged(&apps, "/admin/x").unwrap().as_deref(), Some("wide"));
}
