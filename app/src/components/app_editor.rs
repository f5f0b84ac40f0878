//! The application editor: name, URLs, icon and who may open it, validated as the admin
//! types by the same function the server runs before saving (`AppDraft::validate`).
//! Without JavaScript it is a plain form: the server's errors come back beside the fields.

use crate::api::apps::SaveApp;
use crate::components::app_icon::AppIcon;
use crate::components::draft_editor::{
    Draft, DraftCheck, DraftField, DraftLogo, Editor, EditorActions, EditorCard, flag, text,
};
use crate::components::field::{Radio, RadioGroup};
use crate::components::island::island_form;
use crate::error::AppError;
use crate::ids;
use leptos::form::ActionForm;
use leptos::prelude::*;
use portcullis::apps::{Access, AppDraft};
use portcullis::field::FieldError;

/// The draft of this editor's `text!` fields.
type Edited = AppDraft;

impl Draft for AppDraft {
    type Context = ();

    fn errors(&self, _: &()) -> Vec<FieldError> {
        self.validate().err().unwrap_or_default()
    }

    /// Who may open it decides whether the users are needed.
    fn left_with(field: &str, _: &()) -> &'static [&'static str] {
        match field {
            "access" => &["users"],
            _ => &[],
        }
    }
}

/// The application editor, an island (`components::island`): its alert shows the last
/// save's error, or `flash`, the one a post without JavaScript left.
#[island]
pub fn AppEditor(
    draft: AppDraft,
    /// Empty for a new application.
    id: String,
    /// The plain-http image origin the server allows for icons (the icon mirror), if any,
    /// so that the live check agrees with the server's.
    http_image_origin: Option<String>,
    flash: Option<AppError>,
) -> impl IntoView {
    let (save, alert) = island_form::<SaveApp>(flash, ids::APP_EDITOR_ERROR);
    let creating = id.is_empty();
    let initial_access = Access::parse(&draft.access).unwrap_or_default();
    let editor = Editor::provide(
        AppDraft {
            http_image_origin,
            ..draft
        },
        (),
        alert,
    );
    let title = if creating {
        "Add Application"
    } else {
        "Edit Application"
    };
    let access_options = Access::ALL
        .into_iter()
        .map(|a| Radio {
            value: a.as_str(),
            label: a.label(),
            hint: match a {
                Access::Users => "Anyone who can sign in to Portcullis.",
                Access::Admins => "Portcullis administrators only.",
                Access::Listed => {
                    "The users and the members of the groups named below (groups assigned here or sent by a provider)."
                }
            },
        })
        .collect();
    view! {
        <EditorCard id=ids::APP_EDITOR title alert>
            <ActionForm action=save>
                <input type="hidden" name="id" value=id/>
                <DraftField field=text!(name) label="Name" hint="Shown on the start page." required=true/>
                <DraftField
                    field=text!(urls)
                    label="URLs"
                    rows=3
                    required=true
                    placeholder="https://sonarr.home.example"
                    hint="One per line: where the application is reached, as scheme and host, with a path prefix if it shares its host (https://home.example/media). The start page links to the first."
                    hint_describes=true
                />
                <DraftLogo field=text!(icon) label="Icon" preview=|icon| view! { <AppIcon icon size=32/> }.into_any()/>
                <RadioGroup
                    name="access"
                    group="draft"
                    legend="Who may open it"
                    options=access_options
                    selected=initial_access.as_str()
                    error=editor.error("access")
                    on_change=Callback::new(move |value: &'static str| {
                        editor.draft.update(|d| d.access = value.to_owned());
                        editor.touch("access");
                    })
                />
                <div class="grid-2">
                    <DraftField field=text!(users) label="Users" hint="For \"Listed users and groups\": usernames, comma-separated." autocomplete="off"/>
                    <DraftField field=text!(groups) label="Groups" hint="For \"Listed users and groups\": group names, comma-separated." autocomplete="off"/>
                </div>
                <DraftCheck field=flag!(allow_tokens) label="Allow personal access tokens" hint="Scripts and apps that cannot sign in may open it with a token its owner made under Profile → Tokens for this application (sent as Authorization: Bearer, or as the password of HTTP Basic), as that person and only while that person may open it."/>
                <EditorActions cancel="/settings/applications" save_id=ids::SAVE_APP pending=save.pending()/>
            </ActionForm>
        </EditorCard>
    }
}
