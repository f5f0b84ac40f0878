//! Field-level validation errors, shown beside the input they concern.

use serde::{Deserialize, Serialize};

/// One problem with one input field: which field, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The form field's name (the same string as the input's `name`).
    pub field: String,
    /// A sentence that names the problem and the fix.
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Collects field errors; `finish` turns them into a `Result`.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    pub fn check(&mut self, result: Result<(), FieldError>) {
        if let Err(e) = result {
            self.0.push(e);
        }
    }

    /// How many errors so far.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

/// The message for `field` in a list of errors, if any.
pub fn message_for<'a>(errors: &'a [FieldError], field: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message.as_str())
}

/// Longest URL a field takes (issuer, logo, application and redirect URLs).
pub const URL_MAX: usize = 2048;

/// Longest name of a provider or an application (what a login button or a tile shows).
pub const NAME_MAX: usize = 100;

/// The rule for the `name` field of a provider or an application: not empty (`hint` says
/// what to enter), at most [`NAME_MAX`] characters, no control characters.
pub fn check_name(name: &str, hint: &str) -> Result<(), FieldError> {
    let f = "name";
    if name.is_empty() {
        return Err(FieldError::new(f, hint));
    }
    if name.chars().count() > NAME_MAX {
        return Err(FieldError::new(
            f,
            format!("Use at most {NAME_MAX} characters for the name."),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            f,
            "Remove control characters (tabs, line breaks) from the name.",
        ));
    }
    Ok(())
}
