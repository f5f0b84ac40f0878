//! The application URL rules: where an application is reached (`AppUrl`, as an
//! administrator types it), whether it covers a request URL (longest path prefix on a
//! segment boundary), and which application a request URL belongs to.

use super::{App, request};
use crate::web_url::Url;
use serde::{Deserialize, Serialize};
use std::fmt;

pub const URL_MAX: usize = crate::field::URL_MAX;

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
    /// A stored URL that no longer reads under today's rules (a rule tightened since it was
    /// saved), as stored ([`AppUrl::stored`]). It covers no request, and every request to
    /// its host is refused until an administrator edits it: dropping it would hand its
    /// requests to a wider application (fail closed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

/// How an application URL covers a request ([`AppUrl::covers_path`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cover {
    /// The path is the prefix or below it: `score` is longer for a longer prefix, and
    /// `same_origin` says whether the scheme and port are the request's too.
    Path { score: usize, same_origin: bool },
    /// An unreadable stored URL on the request's host.
    Unreadable,
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
        if let Some(short) = prefix.split('/').find(|s| request::short_name(s).is_some()) {
            return Err(format!(
                "\"{value}\": \"{short}\" looks like a Windows short name; type the folder's full name."
            ));
        }
        if prefix.contains(['?', '#']) {
            return Err(format!(
                "\"{value}\": the path has an encoded '?' or '#'; an application is a host and an optional path."
            ));
        }
        Ok(AppUrl {
            https,
            authority,
            prefix: prefix.trim_end_matches('/').to_owned(),
            unreadable: None,
        })
    }

    /// A URL as stored: parsed, or kept as an [`unreadable`](AppUrl::unreadable) one on its
    /// host (every host when not even that can be read), with why.
    pub fn stored(value: &str) -> Result<AppUrl, (AppUrl, String)> {
        AppUrl::parse(value).map_err(|why| {
            let host = url::Url::parse(value.trim())
                .ok()
                .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
                .unwrap_or_default();
            let kept = AppUrl {
                https: true,
                authority: host,
                prefix: String::new(),
                unreadable: Some(value.to_owned()),
            };
            (kept, why)
        })
    }

    /// Whether this names `url`'s host, whatever the scheme and port.
    pub fn on_host(&self, url: &url::Url) -> bool {
        self.unreadable.is_none()
            && url
                .host_str()
                .is_some_and(|h| self.host().eq_ignore_ascii_case(h))
    }

    /// The host without the port (IPv6 in brackets).
    fn host(&self) -> &str {
        match self.authority.rsplit_once(':') {
            Some((host, port))
                if port.bytes().all(|b| b.is_ascii_digit())
                    && (!host.starts_with('[') || host.ends_with(']')) =>
            {
                host
            }
            _ => &self.authority,
        }
    }

    /// Whether this covers `url`'s host with the path read as `path` (decoded: see
    /// [`request`]), on any scheme and port, and how: the path is the prefix or below it on
    /// a segment boundary (`/media` covers `/media` and `/media/x`, not `/mediaplayer`).
    /// Specificity is judged across the whole host (the same site may listen on several
    /// ports and schemes: [`request::judge`] refuses a request whose narrowest cover is on
    /// another origin).
    pub fn covers_path(&self, url: &url::Url, path: &str) -> Option<Cover> {
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return None,
        };
        if !url.username().is_empty() || url.password().is_some() {
            return None;
        }
        // The url crate lower-cases the host and drops the scheme's default port.
        let host = url.host_str()?;
        if self.unreadable.is_some() {
            return (self.authority.is_empty() || self.authority.eq_ignore_ascii_case(host))
                .then_some(Cover::Unreadable);
        }
        if !self.on_host(url) {
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
        let same_origin = https == self.https
            && match url.port() {
                Some(p) => {
                    self.authority[self.host().len()..]
                        .strip_prefix(':')
                        .and_then(|port| port.parse::<u16>().ok())
                        == Some(p)
                }
                None => self.authority.len() == self.host().len(),
            };
        // Depth as the path is compared: a prefix spelt in compatibility forms (fullwidth
        // letters) is no deeper than its folded reading.
        covered.then_some(Cover::Path {
            score: request::fold(&self.prefix).len() + 1,
            same_origin,
        })
    }

    /// Whether `other` names the same place as this URL, as the gate compares them (the
    /// origin, and the prefix with case and compatibility forms folded): two applications
    /// listing it could not be told apart (`request::best` refuses such a path).
    pub fn same_place(&self, other: &AppUrl) -> bool {
        // A stored URL that no longer reads names no place (it covers nothing).
        self.unreadable.is_none()
            && other.unreadable.is_none()
            && self.https == other.https
            && self.authority.eq_ignore_ascii_case(&other.authority)
            && request::fold(&self.prefix).eq_ignore_ascii_case(&request::fold(&other.prefix))
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
        // Shown as stored, so that the editor names what to fix in it.
        if let Some(stored) = &self.unreadable {
            return f.write_str(stored);
        }
        let prefix = percent_encoding::utf8_percent_encode(&self.prefix, PATH);
        write!(f, "{}{prefix}", self.origin())?;
        if self.prefix.is_empty() {
            f.write_str("/")?;
        }
        Ok(())
    }
}

/// The application `url` belongs to: the one whose URL covers it most specifically
/// (longest path prefix; two applications covering it alike leave it to neither), judged
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
