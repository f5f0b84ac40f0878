//! The application URL rules: where an application is reached (`AppUrl`, as an
//! administrator types it), whether it covers a request URL (longest path prefix on a
//! segment boundary), and which application a request URL belongs to.

use super::{App, request};
use crate::web_url::Url;
use serde::{Deserialize, Serialize};
use std::fmt;

pub const URL_MAX: usize = 2048;

/// Where an application is reached: scheme, host (lowercase) with a port unless it is the
/// scheme's default, and an optional path prefix (no trailing slash; empty for the whole
/// host), percent-decoded: request paths are judged decoded ([`request`]), so a prefix
/// kept encoded (`/%C3%BCberwachung`, what the `url` crate makes of `/überwachung`) would
/// never cover one, and every request to it would be judged by a wider application.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AppUrl {
    pub https: bool,
    /// `host` or `host:port`, lowercase; IPv6 in brackets.
    pub authority: String,
    /// `""` or `/segment[/segment...]`, decoded.
    pub prefix: String,
}

impl AppUrl {
    /// Parses what an administrator typed: `http(s)://host[:port][/path]`, no query,
    /// fragment, user name or password. Says what to fix otherwise.
    pub fn parse(value: &str) -> Result<AppUrl, String> {
        let value = value.trim();
        if value.len() > URL_MAX || value.chars().any(|c| c.is_control() || c == '\\') {
            return Err(format!(
                "\"{value}\" is not a URL: remove backslashes and control characters."
            ));
        }
        let lower = value.to_ascii_lowercase();
        if !(lower.starts_with("https://") || lower.starts_with("http://")) {
            return Err(format!(
                "\"{value}\": start the URL with https:// or http://, e.g. https://sonarr.home.example."
            ));
        }
        let url = Url::parse(value)
            .map_err(|_| format!("\"{value}\" is not a URL, e.g. https://sonarr.home.example."))?;
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("\"{value}\" needs a host name."));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!(
                "\"{value}\": remove the user name and password from the URL."
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "\"{value}\": remove the query (?...) and fragment (#...); an application is a host and an optional path."
            ));
        }
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err(format!("\"{value}\" is not an http or https URL.")),
        };
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host,
        };
        // The path is held to the rules a request's is judged by, so that one reading of
        // it is the one a request is compared with.
        let prefix = request::read_path(url.path()).map_err(|why| {
            format!(
                "\"{value}\": the path has more than one reading ({why}); type it as the application's address bar shows it."
            )
        })?;
        if prefix.contains(['?', '#']) {
            return Err(format!(
                "\"{value}\": the path has an encoded '?' or '#'; an application is a host and an optional path."
            ));
        }
        Ok(AppUrl {
            https,
            authority,
            prefix: prefix.trim_end_matches('/').to_owned(),
        })
    }

    /// How specifically this covers `url`'s origin with the path read as `path` (decoded:
    /// see [`request`]; a longer prefix is more specific), or `None` when it does not: same
    /// scheme, same host and port, and the path is the prefix or below it on a segment
    /// boundary (`/media` covers `/media` and `/media/x`, not `/mediaplayer`).
    pub fn covers_path(&self, url: &url::Url, path: &str) -> Option<usize> {
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return None,
        };
        if https != self.https || !url.username().is_empty() || url.password().is_some() {
            return None;
        }
        // The url crate lower-cases the host and drops the scheme's default port.
        let host = url.host_str()?;
        let same_host = match url.port() {
            Some(p) => {
                self.authority.len() > host.len()
                    && self.authority[..host.len()].eq_ignore_ascii_case(host)
                    && self.authority[host.len()..] == format!(":{p}")
            }
            None => self.authority.eq_ignore_ascii_case(host),
        };
        if !same_host {
            return None;
        }
        // Case-insensitive: proxies (Caddy's `path` matcher) may route `/ADMIN` where
        // `/admin` goes, and the more specific application must then still be the one judged.
        // Beyond ASCII, the prefix folded as a request's readings are (`/Überwachung` covers
        // the reading `/überwachung`).
        let under = |prefix: &str| {
            prefix.is_empty()
                || path.eq_ignore_ascii_case(prefix)
                || path
                    .get(..prefix.len())
                    .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
                    && path[prefix.len()..].starts_with('/')
        };
        let covered =
            under(&self.prefix) || (!self.prefix.is_ascii() && under(&request::fold(&self.prefix)));
        covered.then_some(self.prefix.len() + 1)
    }

    pub fn origin(&self) -> String {
        format!(
            "{}://{}",
            if self.https { "https" } else { "http" },
            self.authority
        )
    }
}

/// What a path keeps encoded (the `url` crate's path set, and `%` itself): the prefix is
/// shown and stored as a URL again.
const PATH: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

impl fmt::Display for AppUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = percent_encoding::utf8_percent_encode(&self.prefix, PATH);
        write!(f, "{}{prefix}", self.origin())?;
        if self.prefix.is_empty() {
            f.write_str("/")?;
        }
        Ok(())
    }
}

/// The application `url` belongs to: the one whose URL covers it most specifically
/// (longest path prefix; ties go to the earlier application in the list's order), judged
/// on the path as the app will read it ([`request::judge`]); `None` when no application
/// lists it or the path is ambiguous.
pub fn matching<'a>(apps: &'a [App], url: &url::Url) -> Option<&'a App> {
    let req = request::RequestUrl::parse(url.as_str()).ok()?;
    request::judge(apps, &req).ok().flatten()
}

/// Parses a request's absolute URL the way the check endpoint and the return rule judge
/// it ([`request::RequestUrl::parse`]): `None` for anything with more than one reading.
pub fn parse_request_url(candidate: &str) -> Option<url::Url> {
    request::RequestUrl::parse(candidate).ok().map(|r| r.url)
}
