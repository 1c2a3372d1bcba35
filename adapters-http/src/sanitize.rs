//! Text cleaning at the edge: HTML is stripped by [`viewing_app::text::plain_text`], then the domain's value objects
//! trim, drop control characters and enforce lengths (over-long input is refused, never cut).

use viewing_app::domain::values::ValidationError;
pub use viewing_app::text::{plain_field, plain_text};

use crate::error::{ApiError, FieldError};

/// Collects every refused field of a request, so one 422 names them all.
#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value, or records its error under `field` (the API's name for it).
    pub fn check<T>(&mut self, field: &str, result: Result<T, ValidationError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(FieldError {
                    field: field.to_owned(),
                    message: e.message,
                });
                None
            }
        }
    }

    /// An optional text field: HTML stripped, then parsed by the domain (`None` when blank).
    pub fn text<T>(
        &mut self,
        field: &str,
        raw: Option<&str>,
        parse: fn(&str) -> Result<Option<T>, ValidationError>,
    ) -> Option<T> {
        let raw = raw?;
        match plain_text(raw) {
            Some(text) => self.check(field, parse(&text)).flatten(),
            None => {
                self.push(field, "contains markup under too many layers of encoding");
                None
            }
        }
    }

    /// A required text field.
    pub fn required_text<T>(
        &mut self,
        field: &str,
        raw: &str,
        parse: fn(&str) -> Result<Option<T>, ValidationError>,
    ) -> Option<T> {
        let v = self.text(field, Some(raw), parse);
        if v.is_none() && !self.errors.iter().any(|e| e.field == field) {
            self.errors.push(FieldError {
                field: field.to_owned(),
                message: "must not be blank".to_owned(),
            });
        }
        v
    }

    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Adds the errors of a nested part under `prefix` (`seasons[0].`).
    pub fn absorb(&mut self, prefix: &str, other: Checker) {
        self.errors
            .extend(other.errors.into_iter().map(|e| FieldError {
                field: format!("{prefix}{}", e.field),
                message: e.message,
            }));
    }

    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Ok(value)` when nothing was refused; the value is only built then.
    pub fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, ApiError> {
        if !self.errors.is_empty() {
            return Err(ApiError::Validation(self.errors));
        }
        build().ok_or_else(|| ApiError::Internal("validated value missing".into()))
    }
}
