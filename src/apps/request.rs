//! How a request URL is read before it is judged: the forward-auth check and the return-URL
//! rule ask "which application is this?" of a URL a reverse proxy forwarded, and the answer
//! must be the application the app behind the proxy will serve.
//!
//! Attacker model: a signed-in user who may open a wide application (`https://h/`) but not a
//! narrower one (`https://h/admin`) sends raw HTTP/1.1 to the proxy. The proxy forwards the
//! path as sent (Caddy's `X-Forwarded-Uri`, nginx's `$request_uri`), and the app decodes it,
//! perhaps normalises it further (trims whitespace or trailing dots, folds case or
//! compatibility characters, decodes twice, splits at a decoded `?` or `;`), then routes. The
//! check must therefore never judge a request under a wider application than the narrowest
//! one the app could read it as.
//!
//! The rule, for every spelling rather than a list of known ones:
//! 1. Refuse what has no single reading: malformed escapes, fragments, control characters,
//!    backslashes, empty segments, `;` parameters, dot segments, encoded `/ \ .` and NUL
//!    (raw or decoded), text that is not UTF-8 once decoded, and an escape that decodes to
//!    another escape (`%2561`: an app that decodes twice reads `a`).
//!    Refuse too the segments a Windows server reads as another name (file streams,
//!    ASP.NET cookieless sessions), and an 8.3 short name that may stand for a segment of
//!    an application's path.
//! 2. Decode once and judge the decoded path.
//! 3. Compute the other readings an app may make of it (cut at a decoded `?`/`#`, Unicode
//!    compatibility and case folding, whitespace, invisible characters and trailing dots
//!    trimmed from segments, a format suffix dropped from the last segment, a script segment
//!    that routes on the path after it (PHP, ASP.NET, CGI) dropped), each applied to the others' results until
//!    nothing new comes, and refuse when any of them belongs to another application than the
//!    decoded path does. A path whose readings all fall under one application (the usual
//!    case: `/files/a%20b` under `/`) is judged by it.
//! 4. Judge specificity across the host: a narrower application on another scheme or port
//!    of the same host refuses the request (the same site may listen on both).

use super::App;
use super::urls::Cover;
use std::borrow::Cow;
use std::fmt;
use unicode_normalization::UnicodeNormalization;

/// Longest URL judged at all.
const URL_MAX: usize = 8192;

/// Why a request URL was refused; logged by the caller (the page says only "ambiguous").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub Cow<'static, str>);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn refuse<T>(why: impl Into<Cow<'static, str>>) -> Result<T, Refused> {
    Err(Refused(why.into()))
}

/// A request URL read strictly: the parsed URL (for redirects and logs) and the path as the
/// app will read it (decoded once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestUrl {
    pub url: url::Url,
    /// The path, percent-decoded once.
    path: String,
    /// The other readings an app may make of `path` ([`readings`]).
    readings: Vec<String>,
}

impl RequestUrl {
    /// Reads an absolute URL: `http://` or `https://` literally (so `https:evil` or
    /// `https:/\evil` never count), no user name or password, and a path with one reading
    /// (module docs). A fragment is allowed (return URLs carry them).
    pub fn parse(candidate: &str) -> Result<RequestUrl, Refused> {
        if candidate.len() > URL_MAX {
            return refuse("longer than 8192 bytes");
        }
        if candidate
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
        {
            return refuse("control character, white space or backslash");
        }
        let lower = candidate.get(..8).unwrap_or("").to_ascii_lowercase();
        if !(lower.starts_with("https://") || lower.starts_with("http://")) {
            return refuse("not an absolute http(s) URL");
        }
        let url = url::Url::parse(candidate).or_else(|_| refuse("not a URL"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return refuse("user name or password in the URL");
        }
        if url.host_str().is_none_or(str::is_empty) {
            return refuse("no host");
        }
        let path = read_path(raw_path(candidate))?;
        let readings = readings(&path)?;
        // A reading is held to the same rules as the decoded path: `／..／` folds to `/../`.
        for r in &readings {
            if r.contains('\\') || check_segments(r).is_err() {
                return Err(Refused(
                    format!("the path may be read as {r:?}, which has no single reading").into(),
                ));
            }
        }
        Ok(RequestUrl {
            url,
            path,
            readings,
        })
    }

    /// As [`RequestUrl::parse`], for what a proxy forwarded: browsers never send a
    /// fragment, so a `#` is a spelling an app may read either way, and is refused.
    pub fn forwarded(candidate: &str) -> Result<RequestUrl, Refused> {
        if candidate.contains('#') {
            return refuse("a '#' in the forwarded URL");
        }
        RequestUrl::parse(candidate)
    }
}

/// The application a request belongs to (longest prefix, module docs), or `None` when no
/// application lists its origin; refused when the app could read the path as belonging to
/// another.
pub fn judge<'a>(apps: &'a [App], req: &RequestUrl) -> Result<Option<&'a App>, Refused> {
    for path in std::iter::once(&req.path).chain(&req.readings) {
        short_names(apps, &req.url, path)?;
    }
    let decoded = best(apps, &req.url, &req.path)?;
    for reading in &req.readings {
        let other = best(apps, &req.url, reading)?;
        if other.map(|a| &a.id) != decoded.map(|a| &a.id) {
            return Err(Refused(
                format!(
                    "the path may be read as {reading:?}, which belongs to {}, not {}",
                    name(other),
                    name(decoded)
                )
                .into(),
            ));
        }
    }
    Ok(decoded)
}

fn name(app: Option<&App>) -> String {
    app.map_or_else(
        || "no application".to_owned(),
        |a| format!("{:?}", a.settings.name),
    )
}

/// The application whose URL covers (`url`'s origin, `path`) most specifically; refused when
/// another application covers it as specifically (the list's order decides nothing).
///
/// Specificity is judged across the host, not the origin: a proxy may serve one site on
/// several ports or on both schemes (`listen 80` added beside 443), and Portcullis cannot
/// know that another port is another site. So when a narrower application covers the path
/// on another scheme or port than the request's, the request is refused (the
/// administrator lists that origin on the application meant to judge it). Refused too: any
/// request to a host one of whose stored URLs no longer reads ([`AppUrl::stored`]).
fn best<'a>(apps: &'a [App], url: &url::Url, path: &str) -> Result<Option<&'a App>, Refused> {
    let mut best: Option<(&App, usize)> = None;
    // Another application covers the path as deeply as the best: which one is meant
    // cannot depend on the start page's order.
    let mut tied = false;
    let mut narrowest = 0;
    for app in apps {
        for u in &app.settings.urls {
            match u.covers_path(url, path) {
                None => {}
                Some(Cover::Unreadable) => {
                    return Err(Refused(
                        format!(
                            "{} has a stored URL that no longer reads ({:?}); an administrator must edit it",
                            name(Some(app)),
                            u.unreadable.as_deref().unwrap_or_default()
                        )
                        .into(),
                    ));
                }
                Some(Cover::Path { score, same_origin }) => {
                    narrowest = narrowest.max(score);
                    if !same_origin {
                        continue;
                    }
                    match best {
                        Some((b, s)) if score == s => tied |= b.id != app.id,
                        Some((_, s)) if score < s => {}
                        _ => {
                            best = Some((app, score));
                            tied = false;
                        }
                    }
                }
            }
        }
    }
    match best {
        Some((app, _)) if tied => Err(Refused(
            format!(
                "another application lists this path as {} does (case and compatibility forms aside); an administrator must remove one",
                name(Some(app))
            )
            .into(),
        )),
        Some((app, score)) if score < narrowest => Err(Refused(
            format!(
                "a narrower application than {} covers the path on another scheme or port",
                name(Some(app))
            )
            .into(),
        )),
        best => Ok(best.map(|(a, _)| a)),
    }
}

/// Every other reading an app may make of a decoded path, without repeats: everything
/// [`cut`], [`fold`], [`trim`], [`unformat`] and [`unscript`] make of it and of each other's
/// results, in any order, until nothing new comes (an app may apply any of them, in any
/// order, so no fixed order closes the class). A step that changes nothing allocates
/// nothing: forward auth reads every request of every guarded app, and the usual path
/// has no other reading at all.
fn readings(path: &str) -> Result<Vec<String>, Refused> {
    const STEPS: [fn(&str) -> Cow<'_, str>; 5] = [cut, fold, trim, unformat, unscript];
    let mut out: Vec<String> = Vec::new();
    let mut from: Cow<'_, str> = Cow::Borrowed(path);
    let mut next = 0;
    loop {
        for step in STEPS {
            if let Cow::Owned(r) = step(&from)
                && r != path
                && !out.contains(&r)
            {
                if out.len() == READINGS_MAX {
                    return refuse("too many readings");
                }
                out.push(r);
            }
        }
        let Some(r) = out.get(next) else {
            return Ok(out);
        };
        from = Cow::Owned(r.clone());
        next += 1;
    }
}

/// More readings than any real path has (each step shortens or folds the path, so the
/// closure is small): a path that makes more is refused rather than read further.
const READINGS_MAX: usize = 64;

/// The path as sent, before URL parsing normalises it.
fn raw_path(candidate: &str) -> &str {
    let rest = candidate.split_once("://").map_or("", |(_, r)| r);
    let path = rest.find(['/', '?', '#']).map_or("", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or("")
}

/// Checks the raw path and decodes it once (module docs, 1 and 2).
pub(super) fn read_path(raw: &str) -> Result<String, Refused> {
    if raw.is_empty() {
        return Ok("/".to_owned());
    }
    if !raw.starts_with('/') {
        return refuse("the path does not start with '/'");
    }
    let bytes = raw.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return refuse("a '%' that starts no escape");
        }
    }
    let lower = raw.to_ascii_lowercase();
    if let Some(e) = ["%2f", "%5c", "%2e", "%00"]
        .iter()
        .find(|e| lower.contains(*e))
    {
        return Err(Refused(
            format!("an encoded '/', '\\', '.' or NUL ({e})").into(),
        ));
    }
    check_segments(raw)?;
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .or_else(|_| refuse("not UTF-8 once decoded"))?
        .into_owned();
    if decoded.chars().any(|c| c.is_control() || c == '\\') {
        return refuse("a control character or backslash once decoded");
    }
    let db = decoded.as_bytes();
    if db
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
    {
        return refuse("an escape that decodes to another escape (double encoding)");
    }
    check_segments(&decoded)?;
    Ok(decoded)
}

/// No empty segments (`//`: proxies merge slashes when they route), no `;` parameters (some
/// servers drop them when they route), no dot segments (`.`/`..`: browsers resolve them
/// before sending, so only a crafted request has them).
fn check_segments(path: &str) -> Result<(), Refused> {
    if path.contains("//") {
        return refuse("an empty path segment ('//')");
    }
    if path.contains(';') {
        return refuse("a ';' in the path");
    }
    if path.split('/').any(|s| s == "." || s == "..") {
        return refuse("a dot segment ('.' or '..')");
    }
    if path.split('/').any(windows_alias) {
        return refuse("a Windows file stream or cookieless-session segment");
    }
    Ok(())
}

/// A segment a Windows server reads as another: a file stream (`admin::$DATA` is `admin`)
/// or an ASP.NET cookieless-session segment (`/(S(x))/admin` is `/admin`).
fn windows_alias(segment: &str) -> bool {
    let cookieless = segment.starts_with('(')
        && segment.as_bytes().get(2) == Some(&b'(')
        && segment.ends_with("))");
    cookieless || segment.contains(":$")
}

/// The long name's start an 8.3 short name stands for (`ADMINI~1` may be `administrator`
/// on NTFS: `admini`), if `segment` has that shape: at most 8 characters before its first
/// dot, ending in `~` and digits.
pub(super) fn short_name(segment: &str) -> Option<&str> {
    let base = segment.split('.').next().unwrap_or_default();
    let (start, n) = base.rsplit_once('~')?;
    (base.chars().count() <= 8
        && !start.is_empty()
        && !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit()))
    .then_some(start)
}

/// Whether the short name's `start` may stand for the long name `segment`, by the rules
/// Windows makes them with: spaces and dots dropped, `+ , ; = [ ]` made `_`, compared
/// folded; past four clashes the start is two characters and a hash (`AD3F2A~1`).
fn may_stand_for(start: &str, segment: &str) -> bool {
    let folded = fold(segment).to_lowercase();
    let made: String = folded
        .chars()
        .filter(|c| *c != ' ' && *c != '.')
        .map(|c| if "+,;=[]".contains(c) { '_' } else { c })
        .collect();
    let start = fold(start).to_lowercase();
    let hashed = start.chars().count() == 6
        && start.chars().skip(2).all(|c| c.is_ascii_hexdigit())
        && made.chars().take(2).eq(start.chars().take(2));
    // A name Windows had to change (`my app`, `a+b`) gets a short name even when short.
    let shortened = made.chars().count() > start.chars().count() || made != folded;
    (shortened && made.starts_with(&start)) || hashed
}

/// Refuses a path with an 8.3 short name that may stand for a segment of an application's
/// path on the request's host, at the same depth (`/ADMINI~1/x` where an application is at
/// `/administrator`): no reading can tell which long name a short one stands for, and IIS
/// (and Node or PHP reading files on NTFS) resolves it. Other `~1` segments
/// (`/commit/HEAD~1` in a forge) pass: they can name no application.
fn short_names(apps: &[App], url: &url::Url, path: &str) -> Result<(), Refused> {
    for (depth, segment) in path.split('/').enumerate() {
        let Some(start) = short_name(segment) else {
            continue;
        };
        let names_an_app = apps.iter().flat_map(|a| &a.settings.urls).any(|u| {
            u.on_host(url)
                && u.prefix
                    .split('/')
                    .nth(depth)
                    .is_some_and(|s| may_stand_for(start, s))
        });
        if names_an_app {
            return Err(Refused(
                format!("{segment:?} may be a Windows short name for an application's path").into(),
            ));
        }
    }
    Ok(())
}

/// The path up to a decoded `?` or `#` (an app that decodes, then parses again).
fn cut(path: &str) -> Cow<'_, str> {
    match path.find(['?', '#']) {
        Some(i) => Cow::Owned(path[..i].to_owned()),
        None => Cow::Borrowed(path),
    }
}

/// Unicode compatibility and case folding (`ａｄｍｉｎ`, the Kelvin sign, the long s, the
/// dotted capital I: apps that normalise NFKC or compare case-insensitively beyond ASCII
/// read them as ASCII), and invisible characters dropped. Upper case first, then each
/// character's simple lower case: what an app that compares either way reads (`ı` and `ſ`
/// upper-case to `I` and `S`; `İ` lower-cases to `i` in Go's `strings.ToLower` and Java's
/// `equalsIgnoreCase`, where the full mapping's `i` and combining dot would match nothing).
pub(super) fn fold(path: &str) -> Cow<'_, str> {
    if path.is_ascii() {
        return Cow::Borrowed(path);
    }
    Cow::Owned(
        path.nfkc()
            .filter(|c| !invisible(*c))
            .flat_map(char::to_uppercase)
            .map(|c| c.to_lowercase().next().unwrap_or(c))
            .collect(),
    )
}

/// The path without a format suffix on its last segment, trailing slashes aside
/// (`/admin.json` and `/admin.json/` are `/admin`): Rails routes `/admin(.:format)` to the
/// same action whatever the format's characters (and drops a trailing slash first), Spring's
/// suffix patterns took `/admin.a.b` as `/admin`; so the segment is cut at its first dot.
fn unformat(path: &str) -> Cow<'_, str> {
    let body = path.trim_end_matches('/');
    let last = body.rfind('/').map_or(0, |i| i + 1);
    match body[last..].find('.') {
        Some(dot) if dot > 0 => Cow::Owned(body[..last + dot].to_owned()),
        _ => Cow::Borrowed(path),
    }
}

/// Whether `segment` names a script that routes on the path after it (`PATH_INFO`): PHP
/// front controllers (Laravel, Symfony, Nextcloud, WordPress), ASP and ASP.NET handlers on
/// IIS, CGI and Perl scripts.
fn script(segment: &str) -> bool {
    // With the three-letter forms 8.3 names cut them to (`X~1.ASH`).
    const EXTENSIONS: [&str; 20] = [
        ".php", ".php3", ".php4", ".php5", ".php7", ".phtml", ".pht", ".phar", ".asp", ".aspx",
        ".asmx", ".ashx", ".ash", ".asm", ".svc", ".cgi", ".fcgi", ".pl", ".dll", ".exe",
    ];
    let s = segment.as_bytes();
    EXTENSIONS.iter().any(|ext| {
        s.len() > ext.len() && s[s.len() - ext.len()..].eq_ignore_ascii_case(ext.as_bytes())
    })
}

/// The path split around its first script segment before the last segment (what comes
/// before it, what comes after): `None` when there is none (the usual path, read without
/// allocating).
fn script_split(path: &str) -> Option<(&str, &str)> {
    let body = path.trim_end_matches('/');
    let last = body.rfind('/')?;
    let mut at = 0;
    for segment in body[..last].split('/') {
        if !segment.is_empty() && script(segment) {
            let after = at + segment.len();
            return Some((&path[..at], &path[after..]));
        }
        at += segment.len() + 1;
    }
    None
}

/// The path without the script segments before its end, as an application mounted where
/// the script is reads it (`/index.php/admin` is `/admin`, `/app/index.php/admin` is
/// `/app/admin`: Nextcloud at `/app`). Not the path after the script alone (`/admin`): that
/// would refuse every application mounted below a path whose links carry its script, as
/// Nextcloud's do, and a script below another application's path is that application's.
fn unscript(path: &str) -> Cow<'_, str> {
    let Some((before, after)) = script_split(path) else {
        return Cow::Borrowed(path);
    };
    let mut out = String::with_capacity(path.len());
    out.push_str(before.trim_end_matches('/'));
    out.push_str(after);
    // Later script segments go at the next step of the closure.
    Cow::Owned(out)
}

/// Characters with no width of their own, which some apps strip.
fn invisible(c: char) -> bool {
    matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}

/// Each segment without surrounding white space, invisible characters and trailing dots
/// (Windows servers drop them), and the segments left empty merged away (as proxies merge
/// slashes).
fn trim(path: &str) -> Cow<'_, str> {
    // The usual path trims to itself: said without allocating (forward auth's hot path).
    let body = path
        .strip_suffix('/')
        .filter(|b| !b.is_empty())
        .unwrap_or(path);
    let untouched = body.split('/').skip(1).all(|s| {
        !s.is_empty()
            && !s.starts_with(|c: char| c.is_whitespace() || invisible(c))
            && !s.ends_with(|c: char| c == '.' || c.is_whitespace() || invisible(c))
    });
    if untouched {
        return Cow::Borrowed(path);
    }
    let trimmed: Vec<&str> = path
        .split('/')
        .map(|s| {
            let s = s.trim_matches(|c: char| c.is_whitespace() || invisible(c));
            // A segment that trims to a dot segment stays one (and is refused): an app that
            // trims only white space resolves it.
            if s == "." || s == ".." {
                return s;
            }
            s.trim_end_matches(|c: char| c == '.' || c.is_whitespace() || invisible(c))
        })
        .filter(|s| !s.is_empty())
        .collect();
    let mut out = String::with_capacity(path.len());
    for s in &trimmed {
        out.push('/');
        out.push_str(s);
    }
    if out.is_empty() || (path.ends_with('/') && path.len() > 1) {
        out.push('/');
    }
    if out == path {
        Cow::Borrowed(path)
    } else {
        Cow::Owned(out)
    }
}
