//! Ranking for the icon picker, run in the browser on every keystroke.
//!
//! Tiers, best first: exact name, name prefix, word prefix, substring, then a typo match
//! (optimal string alignment distance from `strsim`, at most 1 edit for short queries and 2
//! for longer ones). Within a tier: fewer edits, identity providers, shorter names.

use super::{IDENTITY_PROVIDERS, Icon};

/// Precomputed, lower-cased keys for every icon, so a keystroke only compares strings.
pub struct IconSearch {
    keys: Vec<Key>,
}

struct Key {
    /// Lower-cased display name.
    name: String,
    /// Letters and digits only (`Pocket ID` and `pocket-id` both give `pocketid`).
    squashed: String,
    reference: String,
    /// Which of a-z and 0-9 occur: a cheap way to skip icons a typo match cannot reach.
    chars: u64,
    /// Position in [`IDENTITY_PROVIDERS`], if listed.
    idp: Option<u8>,
}

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn char_mask(s: &str) -> u64 {
    s.bytes().fold(0, |m, b| match b {
        b'a'..=b'z' => m | 1 << (b - b'a'),
        b'0'..=b'9' => m | 1 << (26 + b - b'0'),
        _ => m,
    })
}

/// Edits a typo match may need: none below three characters.
fn allowed_edits(query_chars: usize) -> usize {
    match query_chars {
        0..=2 => 0,
        3..=5 => 1,
        _ => 2,
    }
}

impl IconSearch {
    pub fn new(icons: &[Icon]) -> Self {
        let keys = icons
            .iter()
            .map(|icon| {
                let squashed = squash(icon.name());
                Key {
                    name: icon.name().to_lowercase(),
                    chars: char_mask(&squashed),
                    squashed,
                    reference: icon.reference().to_owned(),
                    idp: IDENTITY_PROVIDERS
                        .iter()
                        .position(|r| *r == icon.reference())
                        .map(|p| p as u8),
                }
            })
            .collect();
        Self { keys }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Indices of the matching icons, best first. An empty query lists identity providers
    /// first, then everything in catalogue order.
    pub fn search(&self, query: &str) -> Vec<usize> {
        let q = query.trim().to_lowercase();
        let q_sq = squash(&q);
        if q_sq.is_empty() {
            let mut all: Vec<usize> = (0..self.keys.len()).collect();
            all.sort_by_key(|&i| self.keys[i].idp.unwrap_or(u8::MAX));
            return all;
        }
        let q_len = q_sq.chars().count();
        let edits = allowed_edits(q_len);
        let q_mask = char_mask(&q_sq);
        let mut hits: Vec<(u8, usize, u8, usize, usize)> = Vec::new();
        for (i, k) in self.keys.iter().enumerate() {
            let tier = if k.name == q || k.squashed == q_sq || k.reference == q {
                Some((0, 0))
            } else if k.name.starts_with(&q) || k.squashed.starts_with(&q_sq) {
                Some((1, 0))
            } else if k
                .name
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| w.starts_with(&q_sq))
            {
                Some((2, 0))
            } else if k.squashed.contains(&q_sq) {
                Some((3, 0))
            } else if edits > 0 && (q_mask & !k.chars).count_ones() as usize <= edits {
                typo_distance(&q_sq, q_len, &k.squashed, edits).map(|d| (4, d))
            } else {
                None
            };
            if let Some((tier, distance)) = tier {
                let idp = k.idp.unwrap_or(u8::MAX);
                hits.push((tier, distance, idp, k.name.len(), i));
            }
        }
        hits.sort_unstable();
        hits.into_iter().map(|h| h.4).collect()
    }
}

/// Edits between the query and the start of the name (the whole name, or a prefix one
/// character shorter or longer than the query), if within `edits`.
fn typo_distance(q: &str, q_len: usize, name: &str, edits: usize) -> Option<usize> {
    let name_len = name.chars().count();
    if name_len + edits < q_len {
        return None;
    }
    let prefix = |n: usize| match name.char_indices().nth(n) {
        Some((at, _)) => &name[..at],
        None => name,
    };
    (q_len.saturating_sub(1)..=q_len + 1)
        .map(|n| strsim::osa_distance(q, prefix(n)))
        .min()
        .filter(|d| *d <= edits)
}
