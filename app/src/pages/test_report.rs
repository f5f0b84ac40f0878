//! `/settings/users/oidc/test-report?id=` (administrators): what a test sign-in found,
//! shown once. Plain HTML that reads the same without JavaScript; the Copy buttons need it.

use crate::api::test_sign_in::test_sign_in_report;
use crate::components::copy_button::CopyButton;
use crate::components::page::{DataPage, PageData};
use crate::error::AppError;
use crate::ids;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use portcullis::test_sign_in::{
    ProviderGroups, RuleVerdict, Status, Step, TestReport, TokenHeader, WouldDo,
};
use serde_json::{Map, Value};

impl PageData for TestReport {}

#[component]
pub fn TestReportPage() -> impl IntoView {
    let query = use_query_map();
    // Built once, outside the guard (`guard::AdminSection`): the report is shown once.
    let report = Resource::new(
        move || query.with(|q| q.get("id")).unwrap_or_default(),
        |id| async move {
            if id.is_empty() {
                return Err(AppError::NotFound(
                    "No test report named. Run Test sign-in from the provider editor.".into(),
                ));
            }
            test_sign_in_report(id).await
        },
    );
    view! {
        <Title text="Test sign-in report"/>
            <DataPage resource=report let:page>
                {report_view(page.data)}
            </DataPage>
    }
}

fn editor_link(r: &TestReport) -> String {
    if r.provider.saved {
        format!("/settings/users/oidc/edit/{}", r.provider.slug)
    } else {
        "/settings/users/oidc/new".to_owned()
    }
}

fn report_view(r: TestReport) -> impl IntoView {
    let ok = r.ok();
    let summary = match (ok, r.failure()) {
        (true, _) => "The test sign-in worked: every step passed.".to_owned(),
        (false, Some(step)) => format!("The test sign-in failed at: {}.", step.name),
        (false, None) => "The test sign-in did not finish.".to_owned(),
    };
    let whole = serde_json::to_string_pretty(&r).unwrap_or_default();
    let back = editor_link(&r);
    view! {
        <section class="card test-report" id=ids::TEST_REPORT>
            <p class="crumbs">
                <a href="/settings/users">"Users"</a>" › "
                <a href="/settings/users/oidc">"OpenID Connect"</a>
            </p>
            <h1>"Test sign-in: " {r.provider.name.clone()}</h1>
            <p class="report" class:ok=ok class:bad=!ok id=ids::TEST_REPORT_SUMMARY role="status">
                <strong>{summary}</strong>
                " Nothing was written: no account, no link, and your session is unchanged."
            </p>
            <dl class="facts">
                <dt>"Issuer URL"</dt><dd>{r.provider.issuer_url.clone()}</dd>
                <dt>"Client ID"</dt><dd>{r.provider.client_id.clone()}</dd>
                <dt>"Redirect URI"</dt><dd>{r.provider.redirect_uri.clone()}</dd>
                <dt>"Provider"</dt>
                <dd>{if r.provider.saved { "saved (the test used the editor's values)" } else { "not saved yet" }}</dd>
            </dl>
            {(!r.notes.is_empty()).then(|| view! {
                <ul class="warnings" id=ids::TEST_REPORT_NOTES>
                    {r.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}
                </ul>
            })}

            <h2>"1. Steps"</h2>
            <ol class="steps" id=ids::TEST_REPORT_STEPS>
                {r.steps.iter().cloned().map(step_view).collect_view()}
            </ol>

            <h2>"2. Tokens and claims"</h2>
            <p class="hint">"Access and refresh tokens are never shown."</p>
            {r.id_token_header.clone().map(header_view)}
            {claims_block(
                if r.id_token_verified { "ID token claims" } else { "ID token claims (as sent; NOT verified)" },
                r.id_token_claims.as_ref(),
                ids::TEST_REPORT_ID_CLAIMS,
            )}
            {claims_block("Userinfo claims", r.userinfo_claims.as_ref(), ids::TEST_REPORT_USERINFO)}
            {claims_block(
                "Merged claims (ID token, then userinfo over it: what sign-in reads)",
                r.merged_claims.as_ref(),
                ids::TEST_REPORT_CLAIMS,
            )}
            {(r.id_token_claims.is_none() && r.userinfo_claims.is_none())
                .then(|| view! { <p>"No claims: the exchange stopped before the provider sent any."</p> })}

            <h2>"3. Claim rules"</h2>
            {rules_view(&r.rules, r.merged_claims.is_some())}

            <h2>"4. What a real sign-in would do now"</h2>
            <div id=ids::TEST_REPORT_OUTCOME>{would_view(r.would.clone(), ok)}</div>
            {groups_view(r.groups.clone(), &r.provider.slug)}

            <div class="actions">
                <a class="button" href=back>"Back to the editor"</a>
            </div>
            <CopyBlock label="Whole report (JSON)" text=whole id="test-report-json"/>
        </section>
    }
}

fn step_view(s: Step) -> impl IntoView {
    let (class, word) = match s.status {
        Status::Passed => ("ok", "passed"),
        Status::Failed => ("bad", "failed"),
        Status::Skipped => ("", "skipped"),
    };
    view! {
        <li class=format!("report step {class}") data-step=s.name.clone() data-status=word>
            <p class="summary">{s.name.clone()} ": " {word}</p>
            <p>{s.summary.clone()}</p>
            {s.cause.clone().map(|c| view! { <p class="cause"><strong>"Cause: "</strong>{c}</p> })}
            {s.fix.clone().map(|f| view! { <p class="fix"><strong>"Fix: "</strong>{f}</p> })}
            {(!s.facts.is_empty()).then(|| view! {
                <dl class="facts">
                    {s.facts.iter().map(|(k, v)| view! { <dt>{k.clone()}</dt><dd>{v.clone()}</dd> }).collect_view()}
                </dl>
            })}
        </li>
    }
}

fn header_view(h: TokenHeader) -> impl IntoView {
    view! {
        <h3>"ID token header"</h3>
        <dl class="facts" id=ids::TEST_REPORT_HEADER>
            <dt>"Algorithm (alg)"</dt><dd>{h.alg}</dd>
            <dt>"Key id (kid)"</dt><dd>{h.kid.unwrap_or_else(|| "none".into())}</dd>
            <dt>"Type (typ)"</dt><dd>{h.typ.unwrap_or_else(|| "none".into())}</dd>
            <dt>"Verified by"</dt><dd>{h.verified_by.unwrap_or_else(|| "no key: not verified".into())}</dd>
        </dl>
    }
}

fn claims_block(
    label: &'static str,
    claims: Option<&Map<String, Value>>,
    id: &'static str,
) -> Option<impl IntoView> {
    let text = serde_json::to_string_pretty(claims?).unwrap_or_default();
    Some(view! { <CopyBlock label text id/> })
}

fn rules_view(rules: &[RuleVerdict], have_claims: bool) -> impl IntoView {
    if rules.is_empty() {
        let words = if have_claims {
            "This provider has no claim rules: anyone the provider signs in passes."
        } else {
            "Not evaluated: the exchange stopped before the claims arrived."
        };
        return view! { <p id=ids::TEST_REPORT_RULES>{words}</p> }.into_any();
    }
    view! {
        <table class="rules" id=ids::TEST_REPORT_RULES>
            <thead>
                <tr><th scope="col">"Field"</th><th scope="col">"Rule"</th><th scope="col">"Verdict"</th><th scope="col">"Value seen"</th></tr>
            </thead>
            <tbody>
                {rules.iter().map(|v| view! {
                    <tr data-rule=v.rule.clone() data-holds=v.holds.to_string()>
                        <td>{v.field.clone()}</td>
                        <td><code>{v.rule.clone()}</code></td>
                        <td>{if v.holds { "holds" } else { "fails" }}</td>
                        <td><code>{v.seen.clone().unwrap_or_else(|| "(absent)".into())}</code></td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// The groups the sign-in would bring from the provider, as applications will see them.
fn groups_view(groups: Option<ProviderGroups>, slug: &str) -> Option<impl IntoView> {
    let g = groups?;
    let how = if g.authoritative {
        "Groups are authoritative: applications see them as the provider sent them, like groups assigned here.".to_owned()
    } else {
        format!(
            "Applications see them as {slug}:<group>, apart from groups assigned here (list them that way in an application's access list, or mark this provider's groups as authoritative)."
        )
    };
    let words = if g.claim.is_empty() {
        "No groups from this provider: its Groups Claim is empty.".to_owned()
    } else if g.seen.is_empty() {
        format!("No groups: the claim {} is absent or names none.", g.claim)
    } else {
        format!(
            "Groups from the claim {} (in Remote-Groups and access lists): {}",
            g.claim,
            g.seen.join(", ")
        )
    };
    Some(view! {
        <div id=ids::TEST_REPORT_GROUPS data-groups=g.seen.join(",")>
            <p>{words}</p>
            {(!g.claim.is_empty()).then(|| view! { <p class="hint">{how}</p> })}
        </div>
    })
}

fn would_view(would: Option<WouldDo>, ok: bool) -> impl IntoView {
    match would {
        Some(WouldDo::SignIn { username, display_name, admin_change }) => view! {
            <p class="report ok">{format!("Sign in as the linked account {username} ({display_name}).")}</p>
            {admin_change.map(|c| view! { <p>{c}</p> })}
        }
        .into_any(),
        Some(WouldDo::LinkByEmail { username, email, admin_change }) => view! {
            <p class="report ok">
                {format!("Link this identity by its verified email {email} to the existing account {username}, and sign in as {username}.")}
            </p>
            {admin_change.map(|c| view! { <p>{c}</p> })}
        }
        .into_any(),
        Some(WouldDo::Create { username, email, display_name, admin }) => view! {
            <p class="report ok">"Create a new account and link this identity to it:"</p>
            <dl class="facts">
                <dt>"Username"</dt><dd>{username}</dd>
                <dt>"Email"</dt><dd>{email.unwrap_or_else(|| "none (no verified email)".into())}</dd>
                <dt>"Display name"</dt><dd>{display_name}</dd>
                <dt>"Administrator"</dt><dd>{if admin { "yes" } else { "no" }}</dd>
            </dl>
        }
        .into_any(),
        Some(WouldDo::Refuse { reason }) => view! {
            <p class="report bad">"Refuse the sign-in: " {reason}</p>
        }
        .into_any(),
        None => view! {
            <p class="report bad">
                {if ok { "Unknown." } else { "Refuse the sign-in: the exchange failed (see the failed step above)." }}
            </p>
        }
        .into_any(),
    }
}

/// A block of text with a Copy button (`CopyButton`; the text can always be selected by
/// hand).
#[component]
fn CopyBlock(label: &'static str, text: String, id: &'static str) -> impl IntoView {
    let heading = format!("{id}-label");
    view! {
        <div class="copy-block">
            <div class="copy-row">
                <h3 id=heading.clone()>{label}</h3>
                <CopyButton source=id described_by=heading.clone()/>
            </div>
            <pre id=id tabindex="0" aria-labelledby=heading>{text}</pre>
        </div>
    }
}
