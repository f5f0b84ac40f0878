//! The URL parser the field checks use (issuer, logo and application URLs): the `url` crate
//! on the server, the browser's own `URL` in the wasm bundle. Both implement the WHATWG URL
//! Standard; the browser's keeps the `url` crate and its Unicode (IDNA) tables out of the
//! editors' bundle (issue 20, `docs/light-pages.md`). In the browser a check only advises as
//! the administrator types; the server parses again with the `url` crate before it saves, so
//! a difference between the two can only show a message early or late, never let a value
//! in. Server code that judges requests (forward auth, return paths) uses `url::Url`
//! directly.

#[cfg(not(target_arch = "wasm32"))]
pub use url::{Host, Url};

#[cfg(target_arch = "wasm32")]
pub use browser::{Host, Url};

#[cfg(target_arch = "wasm32")]
mod browser {
    use std::net::{Ipv4Addr, Ipv6Addr};

    /// A URL as the browser parsed it, with the accessors of `url::Url` the checks call.
    #[derive(Debug, Clone)]
    pub struct Url {
        href: String,
        scheme: String,
        host: String,
        port: Option<u16>,
        path: String,
        username: String,
        password: String,
        origin: String,
    }

    /// As `url::Host`.
    pub enum Host<'a> {
        Domain(&'a str),
        Ipv4(Ipv4Addr),
        Ipv6(Ipv6Addr),
    }

    /// The browser could not parse the input (it says no more than that).
    #[derive(Debug)]
    pub struct ParseError;

    /// As `url::Origin`, for its serialisation.
    pub struct Origin(String);

    impl Origin {
        pub fn ascii_serialization(&self) -> String {
            self.0.clone()
        }
    }

    impl Url {
        pub fn parse(input: &str) -> Result<Url, ParseError> {
            let u = web_sys::Url::new(input).map_err(|_| ParseError)?;
            let protocol = u.protocol();
            Ok(Url {
                href: u.href(),
                scheme: protocol.trim_end_matches(':').to_owned(),
                host: u.hostname(),
                port: u.port().parse().ok(),
                path: u.pathname(),
                username: u.username(),
                password: u.password(),
                origin: u.origin(),
            })
        }

        pub fn scheme(&self) -> &str {
            &self.scheme
        }

        pub fn host_str(&self) -> Option<&str> {
            Some(self.host.as_str()).filter(|h| !h.is_empty())
        }

        pub fn host(&self) -> Option<Host<'_>> {
            let host = self.host_str()?;
            Some(
                if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
                    v6.parse().map_or(Host::Domain(host), Host::Ipv6)
                } else {
                    host.parse().map_or(Host::Domain(host), Host::Ipv4)
                },
            )
        }

        /// The port unless it is the scheme's default (the browser leaves that out).
        pub fn port(&self) -> Option<u16> {
            self.port
        }

        pub fn path(&self) -> &str {
            &self.path
        }

        /// As `url::Url::query`: `Some("")` for a bare `?` (the browser's `search` says "").
        pub fn query(&self) -> Option<&str> {
            let before_fragment = self.href.split('#').next().unwrap_or_default();
            before_fragment.split_once('?').map(|(_, q)| q)
        }

        pub fn fragment(&self) -> Option<&str> {
            self.href.split_once('#').map(|(_, f)| f)
        }

        pub fn username(&self) -> &str {
            &self.username
        }

        pub fn password(&self) -> Option<&str> {
            Some(self.password.as_str()).filter(|p| !p.is_empty())
        }

        pub fn origin(&self) -> Origin {
            Origin(self.origin.clone())
        }
    }
}
