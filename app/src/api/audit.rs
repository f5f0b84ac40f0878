//! Settings → Audit log: a page of events by the filters in the page's URL.

use crate::error::AppError;
use leptos::prelude::*;
use portcullis::audit::AuditEvent;
use portcullis::field::FieldError;
use serde::{Deserialize, Serialize};

/// The filters as the page's GET form sends them (all text, empty when not given).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub event: String,
    /// YYYY-MM-DD, from the start of that day (UTC).
    #[serde(default)]
    pub since: String,
    /// YYYY-MM-DD, to the end of that day (UTC).
    #[serde(default)]
    pub until: String,
    /// The page: events older than this id.
    #[serde(default)]
    pub before: String,
    /// The page: events newer than this id.
    #[serde(default)]
    pub after: String,
}

impl AuditQuery {
    /// The query string of these filters with `page` (`before=<id>` or `after=<id>`), for
    /// the Older and Newer links and the export.
    pub fn link(&self, page: Option<(&str, &str)>) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("user", &self.user),
            ("event", &self.event),
            ("since", &self.since),
            ("until", &self.until),
        ] {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
        if let Some((k, v)) = page {
            q.append_pair(k, v);
        }
        q.finish()
    }

    /// The core's filter, or the fields whose values cannot be read.
    pub fn filter(&self, limit: u32) -> Result<portcullis::audit::AuditFilter, Vec<FieldError>> {
        use portcullis::audit::{AuditFilter, EventKind, Page};
        use portcullis::sessions::parse_utc_date;
        let mut errors = Vec::new();
        let mut day = |field: &'static str, v: &str| {
            let v = v.trim();
            if v.is_empty() {
                return None;
            }
            let day = parse_utc_date(v);
            if day.is_none() {
                errors.push(FieldError::new(field, "Enter a date as YYYY-MM-DD."));
            }
            day
        };
        let since = day("since", &self.since);
        let until = day("until", &self.until).map(|d| d + 86_400);
        let event = match self.event.trim() {
            "" => None,
            name => {
                let kind = EventKind::parse(name);
                if kind.is_none() {
                    errors.push(FieldError::new("event", "Choose an event from the list."));
                }
                kind
            }
        };
        let page = match (self.before.trim(), self.after.trim()) {
            ("", "") => None,
            (before, "") => Some(Page::Before(before.to_owned())),
            (_, after) => Some(Page::After(after.to_owned())),
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let user = Some(self.user.trim().to_owned()).filter(|u| !u.is_empty());
        Ok(AuditFilter {
            user,
            event,
            since,
            until,
            page,
            limit,
        })
    }
}

/// What the page shows: the events, where the pages beside it start, and the filters'
/// errors (the list is then unfiltered by them: nothing is shown as if it matched).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditLogData {
    pub events: Vec<AuditEvent>,
    pub older: Option<String>,
    pub newer: Option<String>,
    pub errors: Vec<FieldError>,
}

#[server(endpoint = "admin/audit_log")]
pub async fn audit_log(query: AuditQuery) -> Result<AuditLogData, AppError> {
    use crate::auth::*;
    as_admin(async move |cx, _admin| {
        let filter = match query.filter(portcullis::audit::PAGE_SIZE) {
            Ok(filter) => filter,
            Err(errors) => {
                return Ok(AuditLogData {
                    events: Vec::new(),
                    older: None,
                    newer: None,
                    errors,
                });
            }
        };
        let listed = portcullis::ssr::audit::list(&cx.state.db, &filter).await?;
        Ok(AuditLogData {
            events: listed.events,
            older: listed.older,
            newer: listed.newer,
            errors: Vec::new(),
        })
    })
    .await
}
