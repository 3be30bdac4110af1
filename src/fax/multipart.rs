//! A small, pure multipart/form-data reader (RFC 7578 over RFC 2046 §5.1.1) for Sinch's
//! webhooks, which arrive as a JSON `fax` part plus a PDF `file` part. Parts borrow from the raw
//! body, so a 50 MB fax is not copied to be read.

/// One form field.
#[derive(Debug, PartialEq, Eq)]
pub struct FormPart<'a> {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub body: &'a [u8],
}

/// The `boundary` parameter of a `multipart/form-data` Content-Type, or `None` for any other type.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let mime = params.next()?.trim();
    if !mime.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("boundary").then(|| v.trim().trim_matches('"').to_string())
    })
}

/// Splits `body` into its parts.
pub fn parse<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<FormPart<'a>>, String> {
    if boundary.is_empty() || boundary.len() > 70 {
        return Err("bad multipart boundary".into());
    }
    let delimiter = format!("--{boundary}").into_bytes();
    let inner = format!("\r\n--{boundary}").into_bytes();
    // the first delimiter opens the body or follows the preamble's CRLF
    let mut at = if body.starts_with(&delimiter) {
        delimiter.len()
    } else {
        find(body, &inner).ok_or("no multipart delimiter in the body")? + inner.len()
    };
    let mut parts = Vec::new();
    loop {
        let rest = &body[at..];
        if rest.starts_with(b"--") {
            return Ok(parts); // the close delimiter; the epilogue is ignored
        }
        // transport padding, then CRLF, then the part's headers up to an empty line
        let line_end = find(rest, b"\r\n").ok_or("truncated multipart body")?;
        if !rest[..line_end].iter().all(|b| *b == b' ' || *b == b'\t') {
            return Err("garbage after a multipart delimiter".into());
        }
        let rest = &rest[line_end + 2..];
        let (head, content) = match rest.strip_prefix(b"\r\n") {
            Some(content) => (&b""[..], content), // a part without headers
            None => {
                let end = find(rest, b"\r\n\r\n").ok_or("multipart part headers never end")?;
                (&rest[..end], &rest[end + 4..])
            }
        };
        let len = find(content, &inner).ok_or("multipart body ends without a close delimiter")?;
        parts.push(part(head, &content[..len])?);
        at = body.len() - content.len() + len + inner.len();
    }
}

fn part<'a>(head: &[u8], body: &'a [u8]) -> Result<FormPart<'a>, String> {
    let head = std::str::from_utf8(head).map_err(|_| "multipart part headers are not UTF-8")?;
    let (mut name, mut filename, mut content_type) = (None, None, None);
    for line in head.split("\r\n") {
        let Some((key, value)) = line.split_once(':') else { continue };
        match key.trim().to_ascii_lowercase().as_str() {
            "content-disposition" => {
                for param in value.split(';').skip(1) {
                    if let Some((k, v)) = param.split_once('=') {
                        let v = v.trim().trim_matches('"').to_string();
                        match k.trim().to_ascii_lowercase().as_str() {
                            "name" => name = Some(v),
                            "filename" => filename = Some(v),
                            _ => {}
                        }
                    }
                }
            }
            "content-type" => content_type = Some(value.trim().to_string()),
            _ => {}
        }
    }
    let name = name.ok_or("a multipart part has no name")?;
    Ok(FormPart { name, filename, content_type, body })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_boundary() {
        assert_eq!(boundary("multipart/form-data; boundary=abc").as_deref(), Some("abc"));
        assert_eq!(boundary("Multipart/Form-Data;boundary=\"a b\"").as_deref(), Some("a b"));
        assert_eq!(boundary("application/json"), None);
    }

    #[test]
    fn splits_fields_and_files() {
        let body = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"event\"\r\n\r\nINCOMING_FAX\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"fax.pdf\"\r\nContent-Type: application/pdf\r\n\r\n\
%PDF-1.4\r\n--not-the-boundary\r\n\r\n--XyZ--\r\nepilogue";
        let parts = parse(body, "XyZ").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!((parts[0].name.as_str(), parts[0].body), ("event", &b"INCOMING_FAX"[..]));
        assert_eq!(parts[1].filename.as_deref(), Some("fax.pdf"));
        assert_eq!(parts[1].content_type.as_deref(), Some("application/pdf"));
        assert_eq!(parts[1].body, b"%PDF-1.4\r\n--not-the-boundary\r\n");
    }

    #[test]
    fn rejects_broken_bodies() {
        assert!(parse(b"--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nno end", "b").is_err());
        assert!(parse(b"no delimiter", "b").is_err());
        assert!(parse(b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--", "b").is_err(), "no name");
    }
}
