// SPDX-License-Identifier: Apache-2.0
//! A tiny JSON scanner: just enough to read a few top-level members of the documents the
//! library returns (an event's `type` and `content`, an error event's `code`, `message`, ...).
//!
//! Requests and responses are typed with serde (`request`, `response`, `embedding`); this
//! scanner stays for the documents still handed out as JSON text (stats, health, a model
//! management result, a progress event's members) where reading one member should not need a
//! tree, and for `Error::from_event_json`. It does not build a tree. It walks the top-level object member by member, skipping values by their
//! syntax (strings with escapes, nested objects and arrays by bracket depth, literals), and
//! decodes only the value you ask for. It assumes well-formed input (the library's own output)
//! and returns `None` rather than guessing when something does not fit.

/// The raw JSON text of the top-level member `key` of the object `json`, e.g.
/// `field(r#"{"a":{"b":1},"c":2}"#, "a") == Some(r#"{"b":1}"#)`. The first match wins.
pub fn field<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let b = json.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(b, i);
        match b.get(i)? {
            b'}' => return None,
            b'"' => {}
            _ => return None,
        }
        let key_start = i;
        i = skip_string(b, i)?;
        let raw_key = &json[key_start..i];
        i = skip_ws(b, i);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        let value_start = i;
        i = skip_value(b, i)?;
        if key_matches(raw_key, key) {
            return Some(&json[value_start..i]);
        }
        i = skip_ws(b, i);
        match b.get(i)? {
            b',' => i += 1,
            _ => return None,
        }
    }
}

/// The top-level member `key` decoded as a string (`None` when absent or not a string).
pub fn string_field(json: &str, key: &str) -> Option<String> {
    decode_string(field(json, key)?)
}

/// The top-level member `key` as an integer (`None` when absent or not an integer).
pub fn int_field(json: &str, key: &str) -> Option<i64> {
    field(json, key)?.parse().ok()
}

/// The top-level member `key` as a number (integer or fraction).
pub fn number_field(json: &str, key: &str) -> Option<f64> {
    let raw = field(json, key)?;
    if raw.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        raw.parse().ok()
    } else {
        None
    }
}

/// The top-level member `key` as a boolean.
pub fn bool_field(json: &str, key: &str) -> Option<bool> {
    match field(json, key)? {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// Number of elements of a raw JSON array (`None` when `raw` is not an array).
pub fn array_len(raw: &str) -> Option<usize> {
    let b = raw.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'[') {
        return None;
    }
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b']') {
        return Some(0);
    }
    let mut n = 0;
    loop {
        i = skip_value(b, i)?;
        n += 1;
        i = skip_ws(b, i);
        match b.get(i)? {
            b',' => i = skip_ws(b, i + 1),
            b']' => return Some(n),
            _ => return None,
        }
    }
}

/// Decodes a raw JSON string literal (with its quotes), escapes included.
pub fn decode_string(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains('\\') {
        return Some(inner.to_string());
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            '/' => out.push('/'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'u' => {
                let hi = hex4(&mut chars)?;
                let code = if (0xD800..0xDC00).contains(&hi) {
                    // A high surrogate must be followed by \u and a low surrogate.
                    let mut look = chars.clone();
                    if look.next() == Some('\\') && look.next() == Some('u') {
                        let lo = hex4(&mut look)?;
                        if (0xDC00..0xE000).contains(&lo) {
                            chars = look;
                            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                        } else {
                            0xFFFD
                        }
                    } else {
                        0xFFFD
                    }
                } else {
                    hi
                };
                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            _ => return None,
        }
    }
    Some(out)
}

/// `s` as a JSON string literal, quotes included: for building requests by hand, e.g.
/// `format!(r#"{{"messages":[{{"role":"user","content":{}}}]}}"#, json::quote(text))`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn hex4(chars: &mut std::str::Chars<'_>) -> Option<u32> {
    let mut v = 0;
    for _ in 0..4 {
        v = v * 16 + chars.next()?.to_digit(16)?;
    }
    Some(v)
}

fn key_matches(raw_key: &str, key: &str) -> bool {
    let inner = &raw_key[1..raw_key.len() - 1];
    if inner.contains('\\') {
        decode_string(raw_key).as_deref() == Some(key)
    } else {
        inner == key
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// `b[i]` is the opening quote; returns the index just past the closing one.
fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Returns the index just past the value starting at `b[i]`.
fn skip_value(b: &[u8], mut i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = skip_string(b, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        b',' | b'}' | b']' | b':' => None,
        _ => {
            let start = i;
            while i < b.len() && !matches!(b[i], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                i += 1;
            }
            (i > start).then_some(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        let doc = r#" { "type" : "delta", "n": -3, "x": {"type":"no", "a":[1,"]",{"}":2}]},
                       "content":"a\"b\\c\n\u00e9\ud83d\ude00", "f": 1.5e2, "t": true, "z": null } "#;
        assert_eq!(string_field(doc, "type").as_deref(), Some("delta"));
        assert_eq!(int_field(doc, "n"), Some(-3));
        assert_eq!(
            field(doc, "x"),
            Some(r#"{"type":"no", "a":[1,"]",{"}":2}]}"#)
        );
        assert_eq!(
            string_field(doc, "content").as_deref(),
            Some("a\"b\\c\né😀")
        );
        assert_eq!(number_field(doc, "f"), Some(150.0));
        assert_eq!(bool_field(doc, "t"), Some(true));
        assert_eq!(field(doc, "z"), Some("null"));
        assert_eq!(string_field(doc, "z"), None);
        assert_eq!(field(doc, "missing"), None);
        assert_eq!(field("[1]", "a"), None);
        assert_eq!(field("{}", "a"), None);
        assert_eq!(array_len("[]"), Some(0));
        assert_eq!(array_len(r#"[{"a":[1,2]}, "x,y", 3]"#), Some(3));
        assert_eq!(array_len("{}"), None);
    }

    #[test]
    fn quote_round_trip() {
        let s = "he said \"hi\"\n\t\\ \u{1} é";
        assert_eq!(decode_string(&quote(s)).as_deref(), Some(s));
    }
}
