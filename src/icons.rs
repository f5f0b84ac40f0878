//! The selfh.st icon catalogue: reading its public `index.json`, the compact form the browser
//! downloads, image URLs, and the search behind the logo picker.
//!
//! The server turns the upstream index into a [`Catalogue`] (a few dozen KB compressed instead
//! of ~830 KB of JSON); the browser searches it on every keystroke with [`IconSearch`].

use serde::{Deserialize, Serialize};

mod search;
#[cfg(test)]
mod tests;

pub use search::IconSearch;

/// Where the public catalogue lives; both are configuration, these are the defaults.
pub const DEFAULT_INDEX_URL: &str = "https://cdn.jsdelivr.net/gh/selfhst/icons@main/index.json";
pub const DEFAULT_BASE_URL: &str = "https://cdn.jsdelivr.net/gh/selfhst/icons@main";

/// Icons of identity providers, shown first when the search box is empty.
pub const IDENTITY_PROVIDERS: &[&str] = &[
    "keycloak",
    "authentik",
    "authelia",
    "pocket-id",
    "zitadel",
    "kanidm",
    "lldap",
    "google",
    "microsoft",
    "okta",
    "auth0",
    "github",
    "gitlab",
    "gitea",
    "forgejo",
    "nextcloud",
    "tinyauth",
    "voidauth",
];

/// One availability bit per format and variant.
pub mod flags {
    pub const SVG: u8 = 1;
    pub const PNG: u8 = 1 << 1;
    pub const WEBP: u8 = 1 << 2;
    pub const LIGHT: u8 = 1 << 3;
    pub const DARK: u8 = 1 << 4;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Format {
    #[default]
    Svg,
    Png,
    Webp,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Svg, Format::Png, Format::Webp];

    pub fn ext(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Png => "png",
            Format::Webp => "webp",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Format::Svg => "SVG",
            Format::Png => "PNG",
            Format::Webp => "WebP",
        }
    }

    fn flag(self) -> u8 {
        match self {
            Format::Svg => flags::SVG,
            Format::Png => flags::PNG,
            Format::Webp => flags::WEBP,
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.ext() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Variant {
    #[default]
    Default,
    Light,
    Dark,
}

impl Variant {
    pub const ALL: [Variant; 3] = [Variant::Default, Variant::Light, Variant::Dark];

    pub fn key(self) -> &'static str {
        match self {
            Variant::Default => "default",
            Variant::Light => "light",
            Variant::Dark => "dark",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Variant::Default => "Default",
            Variant::Light => "Light",
            Variant::Dark => "Dark",
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Variant::Default => "",
            Variant::Light => "-light",
            Variant::Dark => "-dark",
        }
    }

    fn flag(self) -> u8 {
        match self {
            Variant::Default => 0,
            Variant::Light => flags::LIGHT,
            Variant::Dark => flags::DARK,
        }
    }

    pub fn parse(s: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.key() == s)
    }
}

/// One icon: display name, file stem (`Reference`) and availability [`flags`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Icon(pub String, pub String, pub u8);

impl Icon {
    pub fn name(&self) -> &str {
        &self.0
    }

    pub fn reference(&self) -> &str {
        &self.1
    }

    pub fn has_format(&self, f: Format) -> bool {
        self.2 & f.flag() != 0
    }

    pub fn has_variant(&self, v: Variant) -> bool {
        v == Variant::Default || self.2 & v.flag() != 0
    }

    pub fn variants(&self) -> impl Iterator<Item = Variant> + '_ {
        Variant::ALL.into_iter().filter(|v| self.has_variant(*v))
    }

    pub fn formats(&self) -> impl Iterator<Item = Format> + '_ {
        Format::ALL.into_iter().filter(|f| self.has_format(*f))
    }

    /// The wanted format and variant where this icon has them; otherwise SVG, then PNG, then
    /// WebP, and the default variant.
    pub fn resolve(&self, format: Format, variant: Variant) -> (Format, Variant) {
        let format = if self.has_format(format) {
            format
        } else {
            self.formats().next().unwrap_or(Format::Png)
        };
        let variant = if self.has_variant(variant) {
            variant
        } else {
            Variant::Default
        };
        (format, variant)
    }
}

/// What the browser downloads: the image base URL and every usable icon.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalogue {
    pub base: String,
    pub icons: Vec<Icon>,
}

impl Catalogue {
    /// `<base>/<fmt>/<reference>[-light|-dark].<fmt>`, after [`Icon::resolve`].
    pub fn image_url(&self, icon: &Icon, format: Format, variant: Variant) -> String {
        let (format, variant) = icon.resolve(format, variant);
        format!(
            "{}/{}/{}{}.{}",
            self.base.trim_end_matches('/'),
            format.ext(),
            icon.reference(),
            variant.suffix(),
            format.ext()
        )
    }
}

/// The upstream index with the entries that could not be used counted, not fatal.
#[derive(Debug, PartialEq)]
pub struct Parsed {
    pub icons: Vec<Icon>,
    pub skipped: usize,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IndexError {
    #[error("the icon index is not a JSON array: {0}")]
    NotAnArray(String),
    #[error("the icon index holds no usable icon")]
    Empty,
}

/// The origin of an icon host that serves plain http (a LAN mirror of the catalogue), which
/// the pages' CSP and the editors' logo check must allow by name; `None` for https.
pub fn http_origin(base: &url::Url) -> Option<String> {
    (base.scheme() == "http").then(|| base.origin().ascii_serialization())
}

/// Reads the upstream `index.json` (an array of `{Name, Reference, SVG, PNG, WebP, Light,
/// Dark, ...}`, flags as "Yes"/"No"). Entries without a name, with a reference that is not a
/// safe file stem, or with no image format are skipped; duplicates keep the first.
pub fn parse_index(json: &str) -> Result<Parsed, IndexError> {
    #[derive(Deserialize)]
    struct Entry {
        #[serde(rename = "Name")]
        name: Option<String>,
        #[serde(rename = "Reference")]
        reference: Option<String>,
        #[serde(rename = "SVG")]
        svg: Option<String>,
        #[serde(rename = "PNG")]
        png: Option<String>,
        #[serde(rename = "WebP")]
        webp: Option<String>,
        #[serde(rename = "Light")]
        light: Option<String>,
        #[serde(rename = "Dark")]
        dark: Option<String>,
    }
    let raw: Vec<serde_json::Value> =
        serde_json::from_str(json).map_err(|e| IndexError::NotAnArray(e.to_string()))?;
    let mut seen = std::collections::HashSet::new();
    let mut icons = Vec::with_capacity(raw.len());
    let mut skipped = 0;
    for value in raw {
        let Ok(e) = serde_json::from_value::<Entry>(value) else {
            skipped += 1;
            continue;
        };
        let yes = |v: &Option<String>, bit: u8| {
            if v.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("yes")) {
                bit
            } else {
                0
            }
        };
        let bits = yes(&e.svg, flags::SVG)
            | yes(&e.png, flags::PNG)
            | yes(&e.webp, flags::WEBP)
            | yes(&e.light, flags::LIGHT)
            | yes(&e.dark, flags::DARK);
        let name = e.name.as_deref().map(str::trim).unwrap_or_default();
        let reference = e.reference.unwrap_or_default();
        let usable = !name.is_empty()
            && name.chars().count() <= 100
            && !name.chars().any(char::is_control)
            && is_file_stem(&reference)
            && bits & (flags::SVG | flags::PNG | flags::WEBP) != 0;
        if !usable || !seen.insert(reference.clone()) {
            skipped += 1;
            continue;
        }
        icons.push(Icon(name.to_owned(), reference, bits));
    }
    if icons.is_empty() {
        return Err(IndexError::Empty);
    }
    Ok(Parsed { icons, skipped })
}

/// Lower-case ASCII letters, digits and inner dashes/dots: safe inside a URL path segment.
fn is_file_stem(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && !s.starts_with(['-', '.'])
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.' || b == b'_'
        })
}
