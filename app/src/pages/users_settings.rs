//! `/settings/users` (administrators): login methods and the user list.

use crate::api::admin::{
    PasskeyLink, RevokeUserTokens, SetSecondFactorRequirement, UnlinkUser, UsersSettingsData,
    users_settings,
};
use crate::api::providers::SetLoginMethod;
use crate::api::sessions::AdminEndSession;
use crate::components::assigned_groups::{AssignedGroups, GroupActions};
use crate::components::button_form::{Ask, ButtonForm};
use crate::components::copy_button::CopyValue;
use crate::components::field::{Radio, RadioGroup, SubmitButton};
use crate::components::forms::forms;
use crate::components::page::{Loaded, SettingsPage};
use crate::components::switch::LoginMethodSwitch;
use crate::ids;
use leptos::form::ActionForm;
use leptos::prelude::*;
use portcullis::second_factor::Requirement;
use portcullis::sessions::utc_minute;

forms! {
    /// The forms whose changes the page's data shows (the assigned groups load their own).
    struct Actions {
        set_method: SetLoginMethod,
        unlink: UnlinkUser,
        end_session: AdminEndSession,
        passkey_link: PasskeyLink,
        revoke_tokens: RevokeUserTokens,
        second_factor: SetSecondFactorRequirement,
    }
}

#[component]
pub fn UsersSettingsPage() -> impl IntoView {
    let groups = GroupActions::new();
    view! {
        <SettingsPage
            title="Users"
            load=users_settings
            errors=move || groups.failed()
            error_id=ids::LOGIN_METHODS_ERROR
            page=move |page, actions| users_view(page, actions, groups)
        />
    }
}

fn users_view(
    page: Loaded<UsersSettingsData>,
    actions: Actions,
    groups: GroupActions,
) -> impl IntoView {
    let Actions {
        set_method,
        unlink,
        end_session,
        passkey_link,
        revoke_tokens,
        second_factor,
    } = actions;
    let Loaded { data: s, alert } = page;
    let users = s.users.clone();
    let links = s.links.clone();
    let sessions = s.sessions.clone();
    let kept = s.admins_kept.clone();
    let groups_of = s.groups.clone();
    let with_codes = s.one_time_codes.clone();
    let with_passkeys = s.passkeys.clone();
    let passkeys_on = s.passkeys_available;
    let token_counts = s.tokens.clone();
    view! {
        <section class="card" id=ids::LOGIN_METHODS>
            <h1>"Users"</h1>
            <h2>"Login Methods"</h2>
            {alert.view()}
            <div class="method">
                <LoginMethodSwitch
                    action=set_method
                    method="local"
                    label="Enable Local Sign-In"
                    on=s.local_login
                    id=ids::LOCAL_LOGIN_SWITCH
                />
                <p class="hint">"Username (or email) and password."</p>
            </div>
            <div class="method">
                <div class="method-row">
                    <LoginMethodSwitch
                        action=set_method
                        method="oidc"
                        label="Enable OpenID Connect Sign-In"
                        on=s.oidc_enabled
                        id=ids::OIDC_SWITCH
                    />
                    {s.oidc_enabled.then(|| view! {
                        <a
                            class="icon-button"
                            href="/settings/users/oidc"
                            id=ids::OIDC_SETTINGS_LINK
                            aria-label="OpenID Connect settings"
                            title="OpenID Connect settings"
                        >
                            <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                                <path fill="currentColor" d="M19.4 13a7.6 7.6 0 0 0 0-2l2.1-1.6-2-3.5-2.5 1a7.3 7.3 0 0 0-1.7-1L15 3h-4l-.4 2.9a7.3 7.3 0 0 0-1.7 1l-2.5-1-2 3.5L6.5 11a7.6 7.6 0 0 0 0 2l-2.1 1.6 2 3.5 2.5-1a7.3 7.3 0 0 0 1.7 1L11 21h4l.4-2.9a7.3 7.3 0 0 0 1.7-1l2.5 1 2-3.5zM13 15.5A3.5 3.5 0 1 1 13 8.5a3.5 3.5 0 0 1 0 7z"></path>
                            </svg>
                        </a>
                    })}
                </div>
                <p class="hint">
                    "One-click sign-in with identity providers such as Keycloak, Authentik, Authelia or Pocket ID. "
                    {format!(
                        "{} enabled provider{}.",
                        s.enabled_providers,
                        if s.enabled_providers == 1 { "" } else { "s" },
                    )}
                </p>
            </div>
            <p class="hint">"At least one login method must stay enabled."</p>
        </section>
        <section class="card" id=ids::SECOND_FACTOR_POLICY>
            <h2>"Second factor"</h2>
            <ActionForm action=second_factor>
                <RadioGroup
                    name="requirement"
                    legend="Require a second factor"
                    options=Radio::each(Requirement::ALL, Requirement::as_str, Requirement::label, Requirement::hint)
                    selected=s.second_factor.as_str()
                    error=Signal::derive(|| None)
                />
                <p class="hint">"A second factor is a passkey, or a one-time code after the password (Profile → Security), or a provider's sign-in that counts as two (its setting). Someone signed in with one factor gives the second when an application needs it, then lands where they were going. Personal access tokens open such applications only when made in a session with two factors."</p>
                <SubmitButton pending=second_factor.pending() label="Save"/>
            </ActionForm>
        </section>
        {s.passkey_link.clone().map(|(username, link)| view! {
            <section class="card" id=ids::PASSKEY_LINK>
                <h2>{format!("Passkey enrolment link for {username}")}</h2>
                <p>"Send it to them over a channel you trust: it adds a passkey to the account and signs in with it, once, within 24 hours. It is shown only now."</p>
                <CopyValue value=link label="Enrolment link" id="passkey-link-value"/>
            </section>
        })}
        <section class="card">
            <h2>"Accounts"</h2>
            <table id=ids::USER_LIST>
                <thead>
                    <tr>
                        <th scope="col">"Username"</th>
                        <th scope="col">"Display name"</th>
                        <th scope="col">"Email"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col" title="As applications see them: a provider's groups as provider:group unless its groups are authoritative">"Groups"</th>
                        <th scope="col">"Linked accounts"</th>
                        <th scope="col" title="One-time codes: asked for at password sign-in besides the password. Passkeys: sign in by themselves, as two factors">"Second factor"</th>
                        <th scope="col">"Sessions"</th>
                        <th scope="col" title="Personal access tokens: for scripts, at applications that allow them">"Tokens"</th>
                        {passkeys_on.then(|| view! {
                            <th scope="col" title="A one-time link (24 hours) that adds a passkey to the account">"Passkey enrolment"</th>
                        })}
                    </tr>
                </thead>
                <tbody>
                    {s
                        .users
                        .into_iter()
                        .map(|u| {
                            let cells = links
                                .iter()
                                .filter(|(owner, _)| *owner == u.id)
                                .map(|(_, l)| {
                                    let text = format!("{} ({})", l.provider_name, l.label);
                                    let label = format!("Unlink {} from {}", l.provider_name, u.username);
                                    let values = vec![("user_id", u.id.clone()), ("slug", l.provider_slug.clone())];
                                    view! { <ButtonForm action=unlink values text button="Unlink" class="link" label/> }
                                })
                                .collect_view();
                            let sessions_cell = user_sessions(&u.id, &u.username, &sessions, end_session);
                            let groups_cell = groups_of
                                .iter()
                                .find(|(id, _)| *id == u.id)
                                .map(|(_, g)| g.join(", "))
                                .unwrap_or_default();
                            let groups_user = u.username.clone();
                            let factors: Vec<&str> = [
                                (with_codes.contains(&u.id), "One-time codes"),
                                (with_passkeys.contains(&u.id), "Passkeys"),
                            ]
                            .into_iter()
                            .filter_map(|(has, name)| has.then_some(name))
                            .collect();
                            let second_factor = if factors.is_empty() {
                                "None".to_owned()
                            } else {
                                factors.join(", ")
                            };
                            let second_factor_user = u.username.clone();
                            let link_values = vec![("user_id", u.id.clone())];
                            let link_label = format!("Make link for {}", u.username);
                            let tokens_cell = user_tokens(&u.id, &u.username, &token_counts, revoke_tokens);
                            let tokens_user = u.username.clone();
                            view! {
                                <tr>
                                    <td>{u.username}</td>
                                    <td>{u.display_name}</td>
                                    <td>{u.email.unwrap_or_default()}</td>
                                    <td>
                                        {if u.admin { "Administrator" } else { "User" }}
                                        {kept
                                            .iter()
                                            .find(|(id, _)| *id == u.id)
                                            .map(|(_, why)| view! { <p class="hint admin-kept">{why.clone()}</p> })}
                                    </td>
                                    <td class="user-groups" data-user=groups_user>{groups_cell}</td>
                                    <td>{cells}</td>
                                    <td class="second-factor" data-user=second_factor_user>{second_factor}</td>
                                    <td>{sessions_cell}</td>
                                    <td class="user-tokens" data-user=tokens_user>{tokens_cell}</td>
                                    {passkeys_on.then(|| view! {
                                        <td>
                                            <ButtonForm
                                                action=passkey_link
                                                values=link_values
                                                button="Make link"
                                                label=link_label
                                            />
                                        </td>
                                    })}
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
        <AssignedGroups users actions=groups errors=alert.field_errors()/>
    }
}

/// How many personal access tokens a user holds, with a button that revokes them all.
fn user_tokens(
    user_id: &str,
    username: &str,
    counts: &[(String, i64)],
    revoke: ServerAction<RevokeUserTokens>,
) -> impl IntoView + use<> {
    let n = counts
        .iter()
        .find(|(id, _)| id == user_id)
        .map_or(0, |(_, n)| *n);
    if n == 0 {
        return view! { <span class="hint">"None"</span> }.into_any();
    }
    let text = format!("{n} token{}", if n == 1 { "" } else { "s" });
    let question = format!(
        "Revoke all of {username}'s personal access tokens? Scripts that use them stop working at once."
    );
    let label = format!("Revoke all of {username}'s tokens");
    view! {
        <span>{text}</span>
        " "
        <ButtonForm
            action=revoke
            values=vec![("user_id", user_id.to_owned())]
            button="Revoke all"
            class="danger"
            label
            ask=Ask { summary: "Revoke all", question, danger: true }
        />
    }
    .into_any()
}

/// A user's signed-in sessions on the users page, each with a button that ends it.
fn user_sessions(
    user_id: &str,
    username: &str,
    sessions: &[portcullis::sessions::SessionView],
    end: ServerAction<AdminEndSession>,
) -> impl IntoView + use<> {
    let mine: Vec<_> = sessions
        .iter()
        .filter(|s| s.user_id == user_id)
        .cloned()
        .collect();
    if mine.is_empty() {
        return view! { <span class="hint">"None"</span> }.into_any();
    }
    let username = username.to_owned();
    view! {
        <ul class="user-sessions" id=format!("{}-{}", crate::ids::USER_SESSIONS, username)>
            {mine
                .into_iter()
                .map(|s| {
                    let apps = if s.apps.is_empty() {
                        String::new()
                    } else {
                        format!(" · signed in to {}", s.apps.join(", "))
                    };
                    let text = format!(
                        "{} · {} · last seen {}{}{}",
                        s.browser,
                        s.how.label(),
                        utc_minute(s.last_seen_at),
                        apps,
                        if s.current { " (this session)" } else { "" },
                    );
                    let label = format!("End {}'s session: {}", username, s.browser);
                    let values = vec![("user_id", s.user_id.clone()), ("handle", s.handle.clone())];
                    view! {
                        <li data-handle=s.handle.clone()>
                            <ButtonForm action=end values text button="End" class="link" label/>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}
