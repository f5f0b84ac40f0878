//! Stable element ids and test hooks, shared by the pages and the end-to-end tests.
//! Change one here and `end2end/` must follow (it reads the same strings).

pub const LOGIN_FORM: &str = "login-form";
pub const LOGIN_ERROR: &str = "login-error";
pub const SETUP_FORM: &str = "setup-form";
pub const SETUP_ERROR: &str = "setup-error";
pub const LOGOUT_BUTTON: &str = "logout-button";
pub const WHOAMI: &str = "whoami";
pub const FORBIDDEN: &str = "forbidden";
pub const LOGIN_METHODS: &str = "login-methods";
pub const USER_LIST: &str = "user-list";
pub const LINKED_ACCOUNTS_TAB: &str = "linked-accounts-tab";
pub const LOCAL_LOGIN_SWITCH: &str = "local-login-switch";
pub const OIDC_SWITCH: &str = "oidc-switch";
pub const OIDC_SETTINGS_LINK: &str = "oidc-settings-link";
pub const LOGIN_METHODS_ERROR: &str = "login-methods-error";
pub const PROVIDER_LIST: &str = "provider-list";
pub const ADD_PROVIDER: &str = "add-provider";
pub const PROVIDER_EDITOR: &str = "provider-editor";
pub const EDITOR_ERROR: &str = "editor-error";
pub const LOGO_PREVIEW: &str = "logo-preview";
pub const LOGO_SEARCH: &str = "logo-search";
pub const TEST_CONNECTION: &str = "test-connection";
pub const CONNECTION_REPORT: &str = "connection-report";
pub const REDIRECT_URI: &str = "redirect-uri";
pub const SAVE_PROVIDER: &str = "save-provider";
pub const SAVE_WARNING: &str = "save-warning";
pub const OIDC_ERROR: &str = "oidc-error";
pub const LOGIN_PROVIDERS: &str = "login-providers";
pub const LINKED_ACCOUNTS: &str = "linked-accounts";
pub const LINKED_NOTICE: &str = "linked-notice";
pub const LINKED_ERROR: &str = "linked-error";
