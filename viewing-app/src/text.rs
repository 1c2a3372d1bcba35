//! Plain text (SPEC §9): what every text a user or a catalog file sends becomes before the
//! domain's value objects see it. HTML is stripped here, in the app crate, so the HTTP edge and
//! the catalog file parser clean text with one cleaner.

use std::sync::LazyLock;

use viewing_domain::values::ValidationError;

static STRIP_ALL: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::empty();
    // Keep the words of ordinary markup, drop what is never text.
    b.clean_content_tags(["script", "style", "template", "iframe", "noscript"].into());
    b
});

/// How many rounds of "decode entities, strip markup" a text may need before it is plain.
/// Each round peels at least two layers of entity encoding, so markup hidden under 8 layers
/// (SPEC §9) is found in a few rounds; text that is still changing after this many is refused.
const MAX_ROUNDS: usize = 16;

/// `raw` without control characters (PostgreSQL's text refuses U+0000): for texts that are
/// kept as given, such as an import row's source key or a reason quoting a file.
pub fn without_controls(raw: &str) -> String {
    raw.chars().filter(|c| !c.is_control()).collect()
}

/// `raw` as plain text: control characters removed, entities decoded and every HTML element
/// and comment removed, again and again until nothing changes, so that no entity-decoding of the
/// result, however often repeated, yields markup (SPEC §9). Ordinary text stays as typed:
/// `Tom & Jerry`, `a < b`, `5 > 3`, emoji, accents, right-to-left scripts.
///
/// `None` when the text is still changing after 16 rounds (markup buried under dozens of layers
/// of encoding): such input is refused, never stored.
pub fn plain_text(raw: &str) -> Option<String> {
    let mut text: String = raw.chars().filter(|c| !c.is_control()).collect();
    for _ in 0..MAX_ROUNDS {
        if !text.contains(['<', '&']) {
            return Some(text);
        }
        let decoded = html_escape::decode_html_entities(&text);
        // ammonia parses HTML (decoding one more layer of entities), keeps the text content
        // and serialises it as HTML; its escapes are turned back into characters.
        let serialized = STRIP_ALL.clean(&decoded).to_string();
        let next = serialized
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&nbsp;", "\u{a0}")
            .replace("&amp;", "&");
        if next == text {
            return Some(text);
        }
        text = next;
    }
    None
}

/// [`plain_text`] for the field `field`, with the refusal as a validation error.
pub fn plain_field(field: &'static str, raw: &str) -> Result<String, ValidationError> {
    plain_text(raw).ok_or_else(|| {
        ValidationError::new(field, "contains markup under too many layers of encoding")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_go_and_text_stays() {
        let plain = |s: &str| plain_text(s).unwrap_or_else(|| panic!("{s:?} refused"));
        assert_eq!(plain("<b>Sofa</b> & <i>TV</i>"), "Sofa & TV");
        assert_eq!(plain("a <script>alert(1)</script>b"), "a b");
        assert_eq!(plain("AT&T 5 < 6"), "AT&T 5 < 6");
        assert_eq!(plain("&lt;img src=x onerror=1&gt;hi"), "hi");
        assert_eq!(plain("plain"), "plain");
        assert_eq!(plain("<!-- c -->x"), "x");
        assert_eq!(plain("Tom &amp; Jerry"), "Tom & Jerry");
        // Joining the halves of an entity around a removed tag does not smuggle one in.
        assert_eq!(
            plain("&l<b></b>t;script&g<i></i>t;x"),
            plain("&lt;script&gt;x")
        );
    }
}
