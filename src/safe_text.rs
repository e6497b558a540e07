//! Free text from files and people reaches terminals, documents and record
//! systems. A control character in it could clear the screen (and the crisis
//! numbers with it), retitle the window, hide a link target, or reorder what a
//! clinician reads (bidi overrides). Input is checked where it is read
//! ([`check_field`]); every output escapes what is left ([`printable`],
//! [`escape_strings`], [`SafeJsonFormatter`]) as a second line of defence.
use std::borrow::Cow;

/// The most characters one free-text field (a session-plan answer) may hold.
pub const MAX_FIELD_CHARS: usize = 500;

/// Bidirectional formatting characters: they reorder how text is displayed.
const BIDI_CONTROLS: [char; 12] = [
    '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}',
    '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
];

/// True for what must never reach an output as it is: C0 controls other than
/// newline and tab, DEL, C1 controls (U+0080–U+009F, e.g. the 8-bit CSI
/// U+009B) and bidi controls.
pub fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || BIDI_CONTROLS.contains(&c) || is_invisible(c)
}

/// Characters that are not controls to Unicode but still break or hide what
/// is shown: line and paragraph separators (a new line where none was
/// typed, and one JavaScript and some Markdown tools treat differently),
/// the byte order mark and zero-width space (invisible), the interlinear
/// annotation marks (hidden text) and the noncharacters U+FFFE and U+FFFF.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{2028}' | '\u{2029}' | '\u{FEFF}' | '\u{200B}' | '\u{FFF9}'
            ..='\u{FFFB}' | '\u{FFFE}' | '\u{FFFF}'
    )
}

/// `text` with every unsafe character written visibly as `\u{…}`; borrowed
/// when there is nothing to escape.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Check one free-text field as read from a file: no control characters
/// (newline only where `multiline`), no bidi controls, at most
/// [`MAX_FIELD_CHARS`]. The problem names the field and says what to do.
pub fn check_field(field: &str, text: &str, multiline: bool) -> Result<(), String> {
    if let Some(c) = text.chars().find(|&c| {
        (c.is_control() && !(multiline && c == '\n'))
            || BIDI_CONTROLS.contains(&c)
            || is_invisible(c)
    }) {
        return Err(format!(
            "{field} contains an invisible control character (U+{:04X}), which could change \
             how the report looks on screen; retype the text without it.",
            u32::from(c)
        ));
    }
    let count = text.chars().count();
    if count > MAX_FIELD_CHARS {
        return Err(format!(
            "{field} is {count} characters long; the limit is {MAX_FIELD_CHARS}. Shorten it."
        ));
    }
    Ok(())
}

/// A copy of `value` with every string in it (map keys too) made
/// [`printable`]; what each document renderer draws from.
pub fn escape_strings<T>(value: &T) -> T
where
    T: serde::Serialize + serde::de::DeserializeOwned + Clone,
{
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) => {
                if let Cow::Owned(clean) = printable(s) {
                    *s = clean;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            serde_json::Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut item) in entries {
                    walk(&mut item);
                    map.insert(printable(&key).into_owned(), item);
                }
            }
            _ => {}
        }
    }
    let Ok(mut tree) = serde_json::to_value(value) else {
        return value.clone();
    };
    walk(&mut tree);
    // Escaping only ever replaces free text, which every field that holds it
    // accepts, so this reads back; the original is kept if it ever did not.
    serde_json::from_value(tree).unwrap_or_else(|_| value.clone())
}

/// Pretty JSON that writes unsafe characters as `\uXXXX` escapes: the data is
/// unchanged for any JSON reader, and the bytes are safe to `cat`.
/// (serde_json already escapes C0 controls; C1, DEL and bidi it writes raw.)
pub struct SafeJsonFormatter(serde_json::ser::PrettyFormatter<'static>);

impl SafeJsonFormatter {
    pub fn new() -> Self {
        SafeJsonFormatter(serde_json::ser::PrettyFormatter::new())
    }
}

impl Default for SafeJsonFormatter {
    fn default() -> Self {
        Self::new()
    }
}

impl serde_json::ser::Formatter for SafeJsonFormatter {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_unsafe(c) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                write!(writer, "\\u{:04x}", u32::from(c))?;
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Parse JSON, refusing an object that names the same key twice: serde_json
/// keeps the last silently, so a file could say one thing to a person reading
/// the top and another to the program.
pub fn parse_json_strict(bytes: &[u8]) -> serde_json::Result<serde_json::Value> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

struct StrictValue;

impl<'de> serde::de::DeserializeSeed<'de> for StrictValue {
    type Value = serde_json::Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        serde::de::DeserializeSeed::deserialize(StrictValue, d)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(serde_json::Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "the key \"{}\" appears twice in one object; keep one",
                    printable(&key)
                )));
            }
            let value = map.next_value_seed(StrictValue)?;
            out.insert(key, value);
        }
        Ok(serde_json::Value::Object(out))
    }
}

/// Longest client reference accepted, in characters: enough for a file
/// number or initials, short enough for a page header.
pub const CLIENT_REF_MAX: usize = 40;

/// A client reference as given (`--client-ref` or an answers file's
/// `client_ref`), trimmed; `Err` says what is wrong, for a message naming
/// where it came from.
pub fn client_ref(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(
            "it is empty; give the clinic's reference for the client, such as a file \
                    number, or leave it out"
                .into(),
        );
    }
    if text.chars().count() > CLIENT_REF_MAX {
        return Err(format!(
            "it is {} characters long; at most {CLIENT_REF_MAX} fit in a page header",
            text.chars().count()
        ));
    }
    // Control and bidi characters could hide or reorder what is printed.
    if text.chars().any(|c| c.is_control() || is_unsafe(c)) {
        return Err(
            "it holds a control or text-direction character; use letters, digits and \
                    punctuation only"
                .into(),
        );
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_characters_are_escaped_visibly() {
        let hostile = "a\x1b[2Jb\x1b]0;t\x07c\rd\u{9b}e\u{202e}f\x7f\tg\nh";
        let shown = printable(hostile);
        assert_eq!(
            shown,
            "a\\u{1b}[2Jb\\u{1b}]0;t\\u{7}c\\u{d}d\\u{9b}e\\u{202e}f\\u{7f}\tg\nh"
        );
        assert!(matches!(printable("plain text é"), Cow::Borrowed(_)));
    }

    #[test]
    fn fields_with_controls_or_too_long_are_named() {
        assert!(check_field("x", "two\nlines", true).is_ok());
        let e = check_field("session_plan.place", "two\nlines", false).unwrap_err();
        assert!(
            e.contains("session_plan.place") && e.contains("U+000A"),
            "{e}"
        );
        let e = check_field("f", "a\u{202e}b", true).unwrap_err();
        assert!(e.contains("U+202E"), "{e}");
        let e = check_field("f", &"x".repeat(501), true).unwrap_err();
        assert!(e.contains("501") && e.contains("500"), "{e}");
        assert!(check_field("f", &"é".repeat(500), false).is_ok());
    }

    #[test]
    fn json_output_escapes_c1_and_bidi_but_keeps_the_data() {
        let value = serde_json::json!({"t": "a\u{9b}b\u{202e}c\x1bd\u{7f}é"});
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, SafeJsonFormatter::new());
        serde::Serialize::serialize(&value, &mut ser).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.chars().any(is_unsafe), "{text:?}");
        assert!(
            text.contains("\\u009b") && text.contains("\\u202e"),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        assert!(parse_json_strict(br#"{"a": 1, "b": {"c": [1, {"d": 2}]}}"#).is_ok());
        let e = parse_json_strict(br#"{"a": {"x": 1, "x": 2}}"#).unwrap_err();
        assert!(e.to_string().contains("\"x\" appears twice"), "{e}");
        assert!(parse_json_strict(br#"{"a": 1} trailing"#).is_err());
    }
}
