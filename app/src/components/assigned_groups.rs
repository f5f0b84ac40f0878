//! The users page's "Assigned groups": the groups administrators give users in Portcullis
//! (for applications' access lists), with assign and remove as plain forms. Groups that
//! providers send in their groups claim are refreshed at each sign-in and not edited here.

use crate::api::apps::{AssignGroup, UnassignGroup, group_assignments};
use crate::components::button_form::ButtonForm;
use crate::components::field::{Select, SubmitButton, TextField};
use crate::components::forms::Forms;
use crate::components::page::{DataPage, PageData};
use crate::error::AppError;
use crate::ids;
use leptos::form::ActionForm;
use leptos::prelude::*;
use portcullis::apps::GroupAssignment;
use portcullis::field::FieldError;
use portcullis::user::UserView;

impl PageData for Vec<GroupAssignment> {}

/// The section's actions and data; create it in the page component (see `guard::authed`).
#[derive(Clone, Copy)]
pub struct GroupActions {
    pub assign: ServerAction<AssignGroup>,
    pub unassign: ServerAction<UnassignGroup>,
    assignments: Resource<Result<Vec<GroupAssignment>, AppError>>,
}

impl GroupActions {
    pub fn new() -> Self {
        let assign = ServerAction::<AssignGroup>::new();
        let unassign = ServerAction::<UnassignGroup>::new();
        let assignments = Resource::new(
            move || (assign, unassign).runs(),
            |_| group_assignments(String::new()),
        );
        GroupActions {
            assign,
            unassign,
            assignments,
        }
    }

    /// The error of the last assign or remove, if it failed (tracked).
    pub fn failed(self) -> Option<AppError> {
        (self.assign, self.unassign).failed()
    }
}

impl Default for GroupActions {
    fn default() -> Self {
        Self::new()
    }
}

/// The section: who has which assigned group, and a form to assign one. `errors` are the
/// page's field errors (the group name's, from a post with or without JavaScript).
#[component]
pub fn AssignedGroups(
    users: Vec<UserView>,
    actions: GroupActions,
    #[prop(into)] errors: Signal<Vec<FieldError>>,
) -> impl IntoView {
    let names: Vec<(String, String)> = users
        .iter()
        .map(|u| (u.id.clone(), u.username.clone()))
        .collect();
    view! {
        <section class="card" id=ids::USER_GROUPS>
            <h2>"Assigned groups"</h2>
            <p class="hint">
                "Groups given here count for applications' access lists, together with the groups a provider sends at sign-in (its groups claim), which are refreshed there and not edited here. The Groups column above shows each account's groups as applications see them: a provider's as slug:group (gitea:media), apart from these, unless that provider's groups are marked authoritative."
            </p>
            <DataPage resource=actions.assignments let:page>
                {assignment_list(page.data, actions.unassign)}
            </DataPage>
            <ActionForm action=actions.assign attr:class="assign-group">
                <div class="grid-2">
                    <Select id="field-group-user" name="user_id" label="User" options=names/>
                    <TextField name="group" label="Group" autocomplete="off" placeholder="media" errors/>
                </div>
                <SubmitButton pending=actions.assign.pending() label="Assign group"/>
            </ActionForm>
        </section>
    }
}

fn assignment_list(list: Vec<GroupAssignment>, unassign: ServerAction<UnassignGroup>) -> AnyView {
    if list.is_empty() {
        return view! { <p class="empty">"No groups assigned yet."</p> }.into_any();
    }
    view! {
        <ul class="plain group-list">
            {list
                .into_iter()
                .map(|a| {
                    let text = format!("{}: {}", a.username, a.group);
                    let label = format!("Remove {} from {}", a.username, a.group);
                    let values = vec![("user_id", a.user_id.clone()), ("group", a.group.clone())];
                    view! {
                        <li data-user=a.username.clone() data-group=a.group.clone()>
                            <ButtonForm action=unassign values text button="Remove" class="link" label/>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}
