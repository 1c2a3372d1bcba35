//! Text cleaning at the edge: HTML is stripped by `ammonia`, then the domain's value objects
//! trim, drop control characters and enforce lengths (over-long input is refused, never cut).

use std::sync::LazyLock;

use viewing_app::domain::values::ValidationError;

use crate::error::{ApiError, FieldError};

static STRIP_ALL: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::empty();
    // Keep the words of ordinary markup, drop what is never text.
    b.clean_content_tags(["script", "style", "template", "iframe", "noscript"].into());
    b
});

/// `raw` with every HTML tag and comment removed, as plain text.
///
/// ammonia answers serialized HTML (`&` as `&amp;`); the entities it writes are turned back into
/// characters, and the result cleaned again until it is stable, so that an escaped tag
/// (`&lt;b&gt;`) cannot come back as a real one.
pub fn strip_html(raw: &str) -> String {
    if !raw.contains(['<', '&']) {
        return raw.to_owned();
    }
    let mut text = raw.to_owned();
    for _ in 0..4 {
        let cleaned = STRIP_ALL.clean(&text).to_string();
        let decoded = cleaned
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&nbsp;", "\u{a0}")
            .replace("&amp;", "&");
        if decoded == text {
            break;
        }
        text = decoded;
    }
    text
}

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
        self.check(field, parse(&strip_html(raw))).flatten()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_go_and_text_stays() {
        assert_eq!(strip_html("<b>Sofa</b> & <i>TV</i>"), "Sofa & TV");
        assert_eq!(strip_html("a <script>alert(1)</script>b"), "a b");
        assert_eq!(strip_html("AT&T 5 < 6"), "AT&T 5 < 6");
        assert_eq!(strip_html("&lt;img src=x onerror=1&gt;hi"), "hi");
        assert_eq!(strip_html("plain"), "plain");
        assert_eq!(strip_html("<!-- c -->x"), "x");
    }
}
