//! Profile → Sessions: where the user is signed in, with "Sign out" per session and "Sign
//! out everywhere else". Plain forms: it works without JavaScript.

use crate::api::sessions::{EndOtherSessions, EndSession, SessionsData};
use crate::components::button_form::ButtonForm;
use crate::components::moment::Moment;
use crate::components::page::Alert;
use crate::ids;
use leptos::form::ActionForm;
use leptos::prelude::*;
use portcullis::sessions::{SessionView, utc_minute};

/// The user's sessions, each with "Sign out", and "Sign out everywhere else" when there are
/// others.
pub fn sessions_list(
    d: SessionsData,
    alert: Alert,
    (end, end_others): (ServerAction<EndSession>, ServerAction<EndOtherSessions>),
) -> impl IntoView {
    let others = d.sessions.iter().filter(|s| !s.current).count();
    view! {
        <div id=ids::SESSIONS>
            {alert.view()}
            <ul class="session-list">
                {d.sessions.into_iter().map(|s| session_item(s, end)).collect_view()}
            </ul>
            {(others > 0).then(|| view! {
                <ActionForm action=end_others>
                    <button type="submit" class="danger" id=ids::END_OTHER_SESSIONS>
                        "Sign out everywhere else"
                    </button>
                </ActionForm>
            })}
        </div>
    }
}

/// What is known of a session, as a list of facts (the sessions page and the users page):
/// when, how, and the applications it signed in to through Portcullis.
pub fn session_facts(s: &SessionView) -> impl IntoView + use<> {
    let apps = (!s.apps.is_empty()).then(|| {
        view! {
            <dt>"Signed in to"</dt>
            <dd class="session-apps">{s.apps.join(", ")}</dd>
        }
    });
    view! {
        <dl class="facts compact">
            <dt>"Signed in"</dt>
            <dd>
                <Moment at=s.signed_in_at/>
            </dd>
            <dt>"Last seen"</dt>
            <dd>
                <Moment at=s.last_seen_at/>
            </dd>
            <dt>"With"</dt>
            <dd>{s.how.label()}</dd>
            {apps}
        </dl>
    }
}

fn session_item(s: SessionView, end: ServerAction<EndSession>) -> impl IntoView {
    let label = format!(
        "Sign out {} (signed in {})",
        s.browser,
        utc_minute(s.signed_in_at)
    );
    let handle = s.handle.clone();
    view! {
        <li class="session" data-handle=s.handle.clone() data-current=s.current.then_some("true")>
            <div class="session-head">
                <strong>{s.browser.clone()}</strong>
                {s.current.then(|| view! { <span class="badge">"This session"</span> })}
            </div>
            {session_facts(&s)}
            {(!s.current).then(|| view! {
                <ButtonForm action=end values=vec![("handle", handle)] button="Sign out" class="button" label/>
            })}
        </li>
    }
}
