//! The command line's help: each command lists its own options, and the server's options
//! only `serve`'s (issue 19 item 8).

use std::process::Command;

/// `portcullis <args> --help`, as printed.
fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?} --help failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_command_lists_its_own_options_and_not_the_servers() {
    let add = help(&["provider", "add"]);
    for own in [
        "--slug",
        "--issuer-url",
        "--client-secret-stdin",
        "--auth-param",
        "--allow-insecure-issuers",
        "--public-url",
        "--database-url",
        "--data-dir",
        "--secret-key",
    ] {
        assert!(add.contains(own), "provider add --help lacks {own}:\n{add}");
    }
    for servers in [
        "--listen",
        "--icon-index-ttl",
        "--cookie-domain",
        "--server-timing",
        "--trusted-proxies",
        "--site-root",
    ] {
        assert!(
            !add.contains(servers),
            "provider add --help lists {servers}:\n{add}"
        );
    }
    let users = help(&["user", "add"]);
    assert!(
        users.contains("--username") && users.contains("--data-dir"),
        "{users}"
    );
    assert!(
        !users.contains("--public-url") && !users.contains("--listen"),
        "{users}"
    );
    let serve = help(&["serve"]);
    for option in [
        "--listen",
        "--cookie-domain",
        "--public-url",
        "--database-url",
    ] {
        assert!(
            serve.contains(option),
            "serve --help lacks {option}:\n{serve}"
        );
    }
    assert!(help(&["healthcheck"]).contains("--listen"));
    let rotate = help(&["keys", "rotate"]);
    for own in ["--alg", "--after", "--now", "--secret-key"] {
        assert!(
            rotate.contains(own),
            "keys rotate --help lacks {own}:\n{rotate}"
        );
    }
    assert!(!rotate.contains("--listen"), "{rotate}");
}
