use super::*;

fn icon(name: &str, reference: &str) -> Icon {
    Icon(name.into(), reference.into(), flags::SVG | flags::PNG)
}

fn names(icons: &[Icon], hits: &[usize]) -> Vec<String> {
    hits.iter().map(|&i| icons[i].name().to_owned()).collect()
}

fn sample() -> Vec<Icon> {
    vec![
        icon("Authelia", "authelia"),
        icon("Authentik", "authentik"),
        icon("Keycloak", "keycloak"),
        icon("Keycloak Admin", "keycloak-admin"),
        icon("Key Vault", "key-vault"),
        icon("MyKeycloakFork", "mykeycloakfork"),
        icon("Pocket ID", "pocket-id"),
        icon("Google", "google"),
        icon("Zürich Transit", "zurich-transit"),
        icon("Monkey", "monkey"),
    ]
}

#[test]
fn exact_beats_prefix_beats_word_prefix_beats_substring() {
    let icons = sample();
    let s = IconSearch::new(&icons);
    assert_eq!(
        names(&icons, &s.search("keycloak")),
        ["Keycloak", "Keycloak Admin", "MyKeycloakFork"]
    );
    // "key": prefixes first (the identity provider, then shortest first), then substrings.
    assert_eq!(
        names(&icons, &s.search("Key")),
        [
            "Keycloak",
            "Key Vault",
            "Keycloak Admin",
            "Monkey",
            "MyKeycloakFork"
        ]
    );
    // A word prefix inside the name.
    assert_eq!(names(&icons, &s.search("admin")), ["Keycloak Admin"]);
    // Exact on the reference or on letters and digits only.
    assert_eq!(names(&icons, &s.search("pocket-id"))[0], "Pocket ID");
    assert_eq!(names(&icons, &s.search("pocketid"))[0], "Pocket ID");
    assert_eq!(names(&icons, &s.search("  GOOGLE "))[0], "Google");
}

#[test]
fn typos_still_find_the_icon() {
    let icons = sample();
    let s = IconSearch::new(&icons);
    for typo in [
        "keycloack",
        "keyclaok",
        "kecloak",
        "autheila",
        "gogle",
        "pocketdi",
    ] {
        let hits = names(&icons, &s.search(typo));
        assert!(!hits.is_empty(), "{typo} finds something");
        assert!(
            ["Keycloak", "Authelia", "Google", "Pocket ID"].contains(&hits[0].as_str()),
            "{typo}: {hits:?}"
        );
    }
    // Short queries get no typo allowance, and far-off words match nothing.
    assert!(s.search("zz").is_empty());
    assert!(s.search("xylophone").is_empty());
}

#[test]
fn unicode_and_empty_queries() {
    let icons = sample();
    let s = IconSearch::new(&icons);
    assert_eq!(names(&icons, &s.search("zürich")), ["Zürich Transit"]);
    assert_eq!(names(&icons, &s.search("ZÜRICH"))[0], "Zürich Transit");
    assert!(
        s.search("🔑").len() == icons.len(),
        "no letters: like an empty query"
    );
    // Empty: identity providers first (in their listed order), then the rest in order.
    let all = names(&icons, &s.search(""));
    assert_eq!(all.len(), icons.len());
    assert_eq!(
        &all[..5],
        ["Keycloak", "Authentik", "Authelia", "Pocket ID", "Google"]
    );
    assert_eq!(&all[5..7], ["Keycloak Admin", "Key Vault"]);
}

#[test]
fn parses_the_upstream_index_and_skips_malformed_entries() {
    let json = r#"[
        {"Name":"Keycloak","Reference":"keycloak","SVG":"Yes","PNG":"Yes","WebP":"No","Light":"No","Dark":"Yes","Category":"Self-Hosted","Tags":"","CreatedAt":"x"},
        {"Name":"","Reference":"empty-name","SVG":"Yes"},
        {"Name":"No ref","SVG":"Yes"},
        {"Name":"Traversal","Reference":"../etc/passwd","SVG":"Yes"},
        {"Name":"Upper","Reference":"Upper","SVG":"Yes"},
        {"Name":"No formats","Reference":"noformats","SVG":"No","PNG":"No","WebP":"No"},
        {"Name":42,"Reference":"numeric-name","SVG":"Yes"},
        "not an object",
        {"Name":"Keycloak again","Reference":"keycloak","SVG":"Yes"},
        {"Name":" Google ","Reference":"google","PNG":"Yes","Light":"yes"}
    ]"#;
    let parsed = parse_index(json).unwrap();
    assert_eq!(
        parsed.icons,
        [
            Icon(
                "Keycloak".into(),
                "keycloak".into(),
                flags::SVG | flags::PNG | flags::DARK
            ),
            Icon("Google".into(), "google".into(), flags::PNG | flags::LIGHT),
        ]
    );
    assert_eq!(parsed.skipped, 8);
    assert!(matches!(parse_index("{}"), Err(IndexError::NotAnArray(_))));
    assert!(matches!(
        parse_index("<html>"),
        Err(IndexError::NotAnArray(_))
    ));
    assert_eq!(parse_index("[]"), Err(IndexError::Empty));
    assert_eq!(parse_index(r#"[{"Name":"x"}]"#), Err(IndexError::Empty));
}

#[test]
fn image_urls_follow_what_each_icon_has() {
    let cat = Catalogue {
        base: "https://cdn.example/icons@main/".into(),
        icons: vec![],
    };
    let keycloak = Icon(
        "Keycloak".into(),
        "keycloak".into(),
        flags::SVG | flags::PNG | flags::WEBP | flags::DARK,
    );
    assert_eq!(
        cat.image_url(&keycloak, Format::Svg, Variant::Dark),
        "https://cdn.example/icons@main/svg/keycloak-dark.svg"
    );
    // No light variant: the default one.
    assert_eq!(
        cat.image_url(&keycloak, Format::Webp, Variant::Light),
        "https://cdn.example/icons@main/webp/keycloak.webp"
    );
    // No SVG: PNG.
    let png_only = Icon("Old".into(), "old".into(), flags::PNG);
    assert_eq!(
        cat.image_url(&png_only, Format::Svg, Variant::Default),
        "https://cdn.example/icons@main/png/old.png"
    );
    assert_eq!(
        keycloak.variants().collect::<Vec<_>>(),
        [Variant::Default, Variant::Dark]
    );
}

/// A sample of the real catalogue (fixtures/selfhst: every identity provider, their
/// neighbours, every 10th entry): every entry parses, and the picker's own examples hold.
#[test]
fn the_selfhst_snapshot() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/selfhst/index.json");
    let json = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let parsed = parse_index(&json).unwrap();
    assert_eq!(parsed.icons.len() + parsed.skipped, 326);
    assert_eq!(parsed.skipped, 0);
    let s = IconSearch::new(&parsed.icons);
    let first = |q: &str| parsed.icons[s.search(q)[0]].reference().to_owned();
    assert_eq!(first("keycl"), "keycloak");
    assert_eq!(first("keycloack"), "keycloak");
    assert_eq!(first("authentik"), "authentik");
    assert_eq!(first("pocket id"), "pocket-id");
    assert_eq!(first(""), "keycloak");
    // The compact form is what the browser downloads: keep it small.
    let compact = serde_json::to_string(&Catalogue {
        base: DEFAULT_BASE_URL.into(),
        icons: parsed.icons,
    })
    .unwrap();
    assert!(compact.len() < 150_000, "{}", compact.len());
}
