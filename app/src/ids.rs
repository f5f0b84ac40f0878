//! Stable element ids and test hooks, shared by the pages and the end-to-end tests.
//!
//! `end2end/tests/ids.ts` reads this file: `pub const LOGIN_FORM: &str = "login-form";` is
//! `ids.loginForm == "#login-form"` there. Keep every id one such line.

pub const LOGIN_FORM: &str = "login-form";
pub const LOGIN_ERROR: &str = "login-error";
pub const LOGIN_NOTICE: &str = "login-notice";
pub const SETUP_FORM: &str = "setup-form";
pub const SETUP_ERROR: &str = "setup-error";
pub const LOGOUT: &str = "logout-button";
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
/// The Logo text field (a `TextField` is `field-<name>`).
pub const LOGO_FIELD: &str = "field-logo";
pub const LOGO_UPLOAD: &str = "logo-upload";
pub const LOGO_UPLOAD_ERROR: &str = "logo-upload-error";
/// Where the icon picker opens (the editor's script fills it).
pub const LOGO_PICKER_ROOT: &str = "logo-picker-root";
pub const ICON_PICKER: &str = "icon-picker";
pub const ICON_SEARCH: &str = "icon-search";
pub const ICON_RESULTS: &str = "icon-results";
pub const ICON_FORMAT: &str = "icon-format";
pub const ICON_VARIANT: &str = "icon-variant";
/// The picker's paste-a-URL text field (`field-<name>`).
pub const ICON_PASTE: &str = "field-icon_paste_url";
pub const TEST_CONNECTION: &str = "test-connection";
pub const CONNECTION_REPORT: &str = "connection-report";
/// Where Test connection's report shows (the editor's script fills it).
pub const CONNECTION_REPORT_SLOT: &str = "connection-report-slot";
pub const REDIRECT_URI: &str = "redirect-uri";
pub const POST_LOGOUT_URI: &str = "post-logout-uri";
pub const BACKCHANNEL_LOGOUT_URI: &str = "backchannel-logout-uri";
pub const SAVE_PROVIDER: &str = "save-provider";
pub const SAVE_WARNING: &str = "save-warning";
pub const OIDC_ERROR: &str = "oidc-error";
pub const LOGIN_PROVIDERS: &str = "login-providers";
pub const LINKED_ACCOUNTS: &str = "linked-accounts";
pub const LINKED_NOTICE: &str = "linked-notice";
pub const LINKED_ERROR: &str = "linked-error";
pub const SESSIONS_TAB: &str = "sessions-tab";
pub const SESSIONS: &str = "sessions";
pub const SESSIONS_NOTICE: &str = "sessions-notice";
pub const SESSIONS_ERROR: &str = "sessions-error";
pub const END_OTHER_SESSIONS: &str = "end-other-sessions";
pub const USER_SESSIONS: &str = "user-sessions";
pub const APP_LIST: &str = "app-list";
pub const ADD_APP: &str = "add-app";
pub const APPS_ERROR: &str = "apps-error";
pub const APP_EDITOR: &str = "app-editor";
pub const APP_EDITOR_ERROR: &str = "app-editor-error";
pub const SAVE_APP: &str = "save-app";
/// The application editor's Icon text field (a `TextField` is `field-<name>`).
pub const ICON_FIELD: &str = "field-icon";
/// The start page's application tiles, and what it says when there are none.
pub const APP_TILES: &str = "app-tiles";
pub const APP_TILES_EMPTY: &str = "app-tiles-empty";
/// The users page's assigned groups section.
pub const USER_GROUPS: &str = "user-groups";
pub const TEST_SIGN_IN: &str = "test-sign-in";
pub const TEST_REPORT: &str = "test-report";
pub const TEST_REPORT_SUMMARY: &str = "test-report-summary";
pub const TEST_REPORT_NOTES: &str = "test-report-notes";
pub const TEST_REPORT_STEPS: &str = "test-report-steps";
pub const TEST_REPORT_HEADER: &str = "test-report-header";
pub const TEST_REPORT_ID_CLAIMS: &str = "test-report-id-claims";
pub const TEST_REPORT_USERINFO: &str = "test-report-userinfo";
pub const TEST_REPORT_CLAIMS: &str = "test-report-claims";
pub const TEST_REPORT_RULES: &str = "test-report-rules";
pub const TEST_REPORT_OUTCOME: &str = "test-report-outcome";
pub const TEST_REPORT_GROUPS: &str = "test-report-groups";
/// The OpenID Connect settings' auto-redirect provider select.
pub const AUTO_REDIRECT: &str = "auto-redirect";
pub const SECOND_FACTOR_FORM: &str = "second-factor-form";
pub const SECOND_FACTOR_ERROR: &str = "second-factor-error";
pub const STEP_UP: &str = "step-up";
pub const SECOND_FACTOR_POLICY: &str = "second-factor-policy";
pub const STEP_UP_NEEDED: &str = "step-up-needed";
pub const SECURITY_TAB: &str = "security-tab";
pub const SECURITY: &str = "security";
pub const SECURITY_NOTICE: &str = "security-notice";
pub const SECURITY_ERROR: &str = "security-error";
pub const TOTP_START: &str = "totp-start";
pub const TOTP_QR: &str = "totp-qr";
pub const TOTP_SECRET: &str = "totp-secret";
pub const TOTP_CONFIRM: &str = "totp-confirm";
pub const TOTP_STATUS: &str = "totp-status";
pub const TOTP_REMOVE: &str = "totp-remove";
pub const RECOVERY_CODES: &str = "recovery-codes";
pub const PASSKEYS: &str = "passkeys";
pub const PASSKEY_ADD: &str = "passkey-add";
pub const PASSKEY_ERROR: &str = "passkey-error";
pub const PASSKEY_NO_SCRIPT: &str = "passkey-no-script";
pub const PASSKEY_SIGN_IN: &str = "passkey-sign-in";
pub const PASSKEY_SETUP: &str = "passkey-setup";
pub const PASSKEY_LINK: &str = "passkey-link";
pub const TOKENS_TAB: &str = "tokens-tab";
pub const TOKENS: &str = "tokens";
pub const TOKENS_NOTICE: &str = "tokens-notice";
pub const TOKENS_ERROR: &str = "tokens-error";
pub const TOKEN_FORM: &str = "token-form";
pub const NEW_TOKEN: &str = "new-token";
pub const TOKEN_LIST: &str = "token-list";
pub const AUDIT_LOG: &str = "audit-log";
pub const AUDIT_FILTER: &str = "audit-filter";
pub const AUDIT_EVENTS: &str = "audit-events";
pub const AUDIT_OLDER: &str = "audit-older";
pub const AUDIT_NEWER: &str = "audit-newer";
pub const AUDIT_ERROR: &str = "audit-error";
pub const AUDIT_EXPORT: &str = "audit-export";
