//! `/settings/audit` (administrators): the audit log, newest first, a page at a time. The
//! filters are a GET form and the pages plain links, so it reads the same without
//! JavaScript; the export is the same filters as JSON Lines.

use crate::api::audit::{AuditLogData, AuditQuery, audit_log};
use crate::components::field::{Bound, Select, TextField};
use crate::components::moment::Moment;
use crate::components::page::{DataPage, PageData};
use crate::ids;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use portcullis::audit::{AuditEvent, EventKind};

/// The table's columns, one cell of each per event ([`row`]).
const COLUMNS: [&str; 6] = ["Time", "Event", "Actor", "Client", "Target", "Details"];

/// Where the page lives.
pub const AUDIT_PAGE: &str = "/settings/audit";

impl PageData for AuditLogData {}

#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query = use_query_map();
    let asked = move || {
        query.with(|q| {
            let get = |k: &str| q.get(k).unwrap_or_default();
            AuditQuery {
                user: get("user"),
                event: get("event"),
                since: get("since"),
                until: get("until"),
                before: get("before"),
                after: get("after"),
            }
        })
    };
    let data = Resource::new(asked, audit_log);
    view! {
        <Title text="Audit log"/>
        <DataPage resource=data error_id=ids::AUDIT_ERROR let:page>
            {log_view(page.data, asked())}
        </DataPage>
    }
}

/// A field's value as typed, for a form that is not bound to anything but its own post.
fn typed(value: &str) -> Bound {
    Bound {
        value: Signal::stored(value.to_owned()),
        set: Callback::new(|_| {}),
        touch: Callback::new(|_| {}),
    }
}

fn log_view(data: AuditLogData, q: AuditQuery) -> impl IntoView {
    let AuditLogData {
        events,
        older,
        newer,
        errors,
    } = data;
    let errors = Signal::stored(errors);
    let mut options = vec![(String::new(), "All events".to_owned())];
    options.extend(
        EventKind::ALL
            .iter()
            .map(|k| (k.name().to_owned(), k.label().to_owned())),
    );
    let link = |page: Option<(&str, &str)>| format!("{AUDIT_PAGE}?{}", q.link(page));
    let older = older.map(|id| link(Some(("before", &id))));
    let newer = newer.map(|id| link(Some(("after", &id))));
    let export = format!("/api/v1/audit.jsonl?{}", q.link(None));
    let shown = events.len();
    view! {
        <section class="card" id=ids::AUDIT_LOG>
            <h1>"Audit log"</h1>
            <p class="hint">
                "Sign-ins, sign-outs and every change to providers, applications, users, groups, "
                "links, one-time codes and tokens, newest first. Forward-auth refusals are counted "
                "per minute, application, user and reason."
            </p>
            <form method="get" action=AUDIT_PAGE class="filters" id=ids::AUDIT_FILTER role="search" aria-label="Filter events">
                <TextField name="user" label="User" hint="A username, email or id." bound=typed(&q.user) errors=errors/>
                <Select id="field-event" name="event" label="Event" options=options selected=q.event.clone()/>
                <TextField name="since" label="From" kind="date" bound=typed(&q.since) errors=errors/>
                <TextField name="until" label="To" kind="date" bound=typed(&q.until) errors=errors/>
                <button type="submit">"Filter"</button>
                <a href=AUDIT_PAGE>"Clear"</a>
            </form>
            {(shown == 0).then(|| view! { <p>"No events match."</p> })}
            {(shown > 0).then(|| view! {
                <div class="table-scroll" tabindex="0" role="region" aria-label="Events">
                    <table id=ids::AUDIT_EVENTS>
                        <caption>{format!("{shown} events, newest first")}</caption>
                        <thead>
                            <tr>
                                {COLUMNS.map(|c| view! { <th scope="col">{c}</th> }).collect_view()}
                            </tr>
                        </thead>
                        <tbody>{events.into_iter().map(row).collect_view()}</tbody>
                    </table>
                </div>
            })}
            <nav class="pager" aria-label="Pages of events">
                {newer.map(|href| view! { <a href=href rel="prev" id=ids::AUDIT_NEWER>"Newer"</a> })}
                {older.map(|href| view! { <a href=href rel="next" id=ids::AUDIT_OLDER>"Older"</a> })}
            </nav>
            <p>
                <a href=export id=ids::AUDIT_EXPORT download="audit.jsonl">"Export these events as JSON Lines"</a>
            </p>
        </section>
    }
}

fn row(e: AuditEvent) -> impl IntoView {
    let details = e.details_line();
    let target = match (&e.target_type, &e.target) {
        (Some(kind), Some(name)) => format!("{kind}: {name}"),
        (_, Some(name)) => name.clone(),
        _ => String::new(),
    };
    view! {
        <tr data-event=e.event.name()>
            <td><Moment at=e.at/></td>
            <td><code>{e.event.name()}</code></td>
            <td>{e.by.actor}</td>
            <td>{e.by.client.unwrap_or_default()}</td>
            <td>{target}</td>
            <td>{details}</td>
        </tr>
    }
}
