//! A `multipart/form-data` body (RFC 7578) read whole from memory: the parts' names, file
//! names and contents. Pure and small, for the one page that uploads files (`/admin/import`):
//! the authorisation middleware finds the form's `csrf` part here before any handler runs,
//! and the handler reads the same buffered body again for its fields and files.
//!
//! Rules:
//! - The boundary comes from the `Content-Type` header's `boundary` parameter (quoted or
//!   not, 1 to 70 characters as RFC 2046 allows).
//! - Each part starts after a `--boundary` line and ends at the CRLF before the next; the
//!   body ends at `--boundary--`. A body without its closing delimiter, or a part without
//!   the blank line after its headers, is malformed: nothing of it is trusted.
//! - A part's name and file name come from its `Content-Disposition: form-data` header,
//!   quoted (browsers escape `"` as `%22` and line breaks as `%0D`/`%0A` in them) or bare.
//! - Contents are bytes as sent; a text field is read as UTF-8 by [`Multipart::text`].

/// One part of the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    pub name: String,
    /// Present for a file input (empty when the user chose no file).
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: &'a [u8],
}

/// A parsed body: its parts in the order sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Multipart<'a> {
    pub parts: Vec<Part<'a>>,
}

/// Why a body is not a well-formed multipart form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl<'a> Multipart<'a> {
    /// The first text field called `name` (not a file), as UTF-8.
    pub fn text(&self, name: &str) -> Option<&'a str> {
        self.parts
            .iter()
            .find(|p| p.name == name && p.filename.is_none())
            .and_then(|p| std::str::from_utf8(p.data).ok())
    }

    /// Every file part called `name`, chosen or not.
    pub fn files(&self, name: &str) -> impl Iterator<Item = &Part<'a>> {
        let name = name.to_string();
        self.parts
            .iter()
            .filter(move |p| p.name == name && p.filename.is_some())
    }
}

/// The boundary of a `multipart/form-data` content type, or None for any other type.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let essence = params.next()?.trim();
    if !essence.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .filter(|b| (1..=70).contains(&b.len()))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Parses `body` with this boundary.
pub fn parse<'a>(body: &'a [u8], boundary: &str) -> Result<Multipart<'a>, Malformed> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    // The preamble (usually nothing) runs to the first delimiter.
    let first = find(body, delimiter).ok_or(Malformed("no boundary in the body"))?;
    if first != 0 && !body[..first].ends_with(b"\r\n") {
        return Err(Malformed("the first boundary is not at the start of a line"));
    }
    let mut rest = &body[first + delimiter.len()..];
    let closing = {
        let mut c = b"\r\n".to_vec();
        c.extend_from_slice(delimiter);
        c
    };
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Ok(Multipart { parts });
        }
        // Transport padding, then the line break that ends the delimiter line.
        let line_end = find(rest, b"\r\n").ok_or(Malformed("a boundary line does not end"))?;
        if !rest[..line_end].iter().all(|b| *b == b' ' || *b == b'\t') {
            return Err(Malformed("text after a boundary"));
        }
        rest = &rest[line_end + 2..];
        let end = find(rest, &closing).ok_or(Malformed("the body does not end with its boundary"))?;
        let part = &rest[..end];
        rest = &rest[end + closing.len()..];
        let (head, data) = match find(part, b"\r\n\r\n") {
            Some(at) => (&part[..at], &part[at + 4..]),
            // A part with no headers at all starts with the blank line.
            None if part.starts_with(b"\r\n") => (&part[..0], &part[2..]),
            None => return Err(Malformed("a part's headers do not end")),
        };
        parts.push(read_part(head, data)?);
    }
}

fn read_part<'a>(head: &[u8], data: &'a [u8]) -> Result<Part<'a>, Malformed> {
    let head = std::str::from_utf8(head).map_err(|_| Malformed("a part's headers are not UTF-8"))?;
    let mut disposition = None;
    let mut content_type = None;
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').ok_or(Malformed("a part's header has no colon"))?;
        if name.trim().eq_ignore_ascii_case("content-disposition") {
            disposition = Some(value.trim());
        } else if name.trim().eq_ignore_ascii_case("content-type") {
            content_type = Some(value.trim().to_string());
        }
    }
    let disposition = disposition.ok_or(Malformed("a part has no Content-Disposition"))?;
    let params = disposition_params(disposition)?;
    let name = params
        .iter()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.clone())
        .ok_or(Malformed("a part has no name"))?;
    let filename = params.iter().find(|(k, _)| k == "filename").map(|(_, v)| v.clone());
    Ok(Part {
        name,
        filename,
        content_type,
        data,
    })
}

/// `form-data; name="x"; filename="y"` as lower-cased keys and unquoted values.
fn disposition_params(value: &str) -> Result<Vec<(String, String)>, Malformed> {
    let (kind, mut rest) = value.split_once(';').unwrap_or((value, ""));
    if !kind.trim().eq_ignore_ascii_case("form-data") {
        return Err(Malformed("a part is not form-data"));
    }
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        if rest.is_empty() {
            return Ok(out);
        }
        let eq = rest
            .find('=')
            .ok_or(Malformed("a Content-Disposition parameter has no value"))?;
        let key = rest[..eq].trim().to_ascii_lowercase();
        rest = rest[eq + 1..].trim_start();
        let value = if let Some(quoted) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let end = loop {
                match chars.next() {
                    Some((i, '"')) => break i,
                    Some((_, '\\')) => {
                        if let Some((_, c)) = chars.next() {
                            value.push(c);
                        }
                    }
                    Some((_, c)) => value.push(c),
                    None => return Err(Malformed("a quoted Content-Disposition value does not end")),
                }
            };
            rest = &quoted[end + 1..];
            value.replace("%22", "\"").replace("%0D", "\r").replace("%0A", "\n")
        } else {
            let end = rest.find(';').unwrap_or(rest.len());
            let value = rest[..end].trim().to_string();
            rest = &rest[end..];
            value
        };
        out.push((key, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: &str = "----formdata-b0und4ry";

    fn body(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, filename, data) in parts {
            out.extend_from_slice(format!("--{B}\r\n").as_bytes());
            match filename {
                Some(f) => out.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/csv\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => out.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
            }
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{B}--\r\n").as_bytes());
        out
    }

    #[test]
    fn the_boundary_comes_from_a_multipart_form_data_type_only() {
        assert_eq!(
            boundary(&format!("multipart/form-data; boundary={B}")).as_deref(),
            Some(B)
        );
        assert_eq!(
            boundary("Multipart/Form-Data; charset=utf-8; BOUNDARY=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
        assert_eq!(boundary("multipart/form-data"), None, "no boundary");
        assert_eq!(
            boundary(&format!("multipart/form-data; boundary={}", "x".repeat(71))),
            None
        );
        assert_eq!(boundary("multipart/mixed; boundary=x"), None);
    }

    #[test]
    fn fields_and_files_are_read_in_order_with_their_bytes() {
        let header = b"CHILD,SEX\r\nA1,1\r\n";
        let raw = body(&[
            ("csrf", None, b"tok3n"),
            ("la", None, b"SOM"),
            ("files", Some("header.csv"), header),
            ("files", Some("episodes.csv"), b"CHILD,DECOM\n"),
            ("files", Some(""), b""),
        ]);
        let form = parse(&raw, B).expect("well formed");
        assert_eq!(form.parts.len(), 5);
        assert_eq!(form.text("csrf"), Some("tok3n"));
        assert_eq!(form.text("la"), Some("SOM"));
        assert_eq!(form.text("files"), None, "files are not text fields");
        let files: Vec<_> = form.files("files").collect();
        assert_eq!(files.len(), 3);
        assert_eq!(files[0].filename.as_deref(), Some("header.csv"));
        assert_eq!(files[0].data, header, "line breaks inside a file are kept");
        assert_eq!(files[0].content_type.as_deref(), Some("text/csv"));
        assert_eq!(files[2].filename.as_deref(), Some(""), "no file chosen");
        assert!(files[2].data.is_empty());
    }

    #[test]
    fn a_file_holding_something_like_the_boundary_is_kept_whole() {
        let tricky = format!("a--{B}x is not the boundary\r\n-- {B}\r\n");
        let raw = body(&[("files", Some("a.csv"), tricky.as_bytes()), ("csrf", None, b"t")]);
        let form = parse(&raw, B).expect("well formed");
        assert_eq!(form.files("files").next().map(|p| p.data), Some(tricky.as_bytes()));
        assert_eq!(form.text("csrf"), Some("t"));
    }

    #[test]
    fn quoted_names_are_unescaped_and_bare_ones_read() {
        let raw = format!(
            "--{B}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"my %22903%22 file.csv\"\r\n\r\nx\r\n\
             --{B}\r\ncontent-disposition: FORM-DATA;name=csrf\r\n\r\nabc\r\n--{B}--"
        );
        let form = parse(raw.as_bytes(), B).expect("well formed");
        assert_eq!(
            form.files("files").next().and_then(|p| p.filename.clone()).as_deref(),
            Some("my \"903\" file.csv")
        );
        assert_eq!(form.text("csrf"), Some("abc"), "no trailing line break is needed");
    }

    #[test]
    fn a_preamble_is_skipped() {
        let raw =
            format!("ignored preamble\r\n--{B}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--{B}--\r\n");
        assert_eq!(parse(raw.as_bytes(), B).expect("well formed").text("a"), Some("1"));
    }

    #[test]
    fn malformed_bodies_are_refused() {
        let whole = body(&[("csrf", None, b"t")]);
        let cut = &whole[..whole.len() - 12];
        assert!(parse(cut, B).is_err(), "no closing boundary");
        assert!(parse(b"csrf=t", B).is_err(), "not multipart at all");
        let no_blank = format!("--{B}\r\nContent-Disposition: form-data; name=\"a\"\r\n1\r\n--{B}--");
        assert!(parse(no_blank.as_bytes(), B).is_err(), "headers never end");
        let no_name = format!("--{B}\r\nContent-Disposition: form-data\r\n\r\n1\r\n--{B}--");
        assert!(parse(no_name.as_bytes(), B).is_err(), "a part without a name");
        let unquoted = format!("--{B}\r\nContent-Disposition: form-data; name=\"a\r\n\r\n1\r\n--{B}--");
        assert!(parse(unquoted.as_bytes(), B).is_err(), "an unterminated quote");
        let glued = format!("x--{B}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--{B}--");
        assert!(parse(glued.as_bytes(), B).is_err(), "a boundary not at a line start");
    }

    #[test]
    fn an_empty_form_has_no_parts() {
        let raw = format!("--{B}--\r\n");
        assert_eq!(parse(raw.as_bytes(), B).expect("well formed").parts, Vec::new());
    }
}
