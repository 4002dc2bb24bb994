//! A minimal reader of stored messages for FETCH (RFC 9051 §6.4.5 ENVELOPE, BODYSTRUCTURE and
//! `BODY[section]`; RFC 5322 header fields, RFC 2045/2046 MIME parts).
//!
//! It reads what a server must answer and no more: header fields (unfolded for ENVELOPE,
//! raw for `HEADER.FIELDS`), `Content-Type` with its parameters, the parts of a multipart by
//! boundary, and the message inside a `message/rfc822` part. Malformed input never fails:
//! a header without an end is all header, a multipart without its boundaries has no
//! children, and nesting deeper than [`MAX_DEPTH`] is read as a leaf.

use std::num::NonZeroU32;
use std::ops::Range;

use bytes::Bytes;
use imapwire_codec::body::{
    BodyFields, BodyParams, BodyStructure, MediaType, MessageSubtype, MultiPart,
    MultiPartExtension, SinglePart, SinglePartExtension, SinglePartKind,
};
use imapwire_codec::core::{IString, NString};
use imapwire_codec::datetime::{Date, DateTime};
use imapwire_codec::envelope::{Address, Envelope, EnvelopeFields};
use imapwire_codec::error::ValidationError;
use imapwire_codec::fetch::{HeaderList, Part, Section};

/// Deepest nesting of multiparts and encapsulated messages that is read as such.
pub const MAX_DEPTH: usize = 16;
/// Most parts of one multipart that are read (the rest are ignored).
const MAX_CHILDREN: usize = 1000;

/// One MIME entity: its header and body as ranges of the message.
#[derive(Debug, Clone)]
struct Entity {
    header: Range<usize>,
    body: Range<usize>,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Leaf,
    Multi(Vec<Entity>),
    /// `message/rfc822` (or `message/global`): the encapsulated message.
    Message(Box<Entity>),
}

/// A parsed message: answers ENVELOPE, BODYSTRUCTURE and sections of `data`.
#[derive(Debug, Clone)]
pub struct ParsedMessage {
    data: Bytes,
    root: Entity,
}

impl ParsedMessage {
    /// Parses `data` (never fails; see the module docs).
    pub fn new(data: Bytes) -> Self {
        let root = parse_entity(&data, 0..data.len(), None, 0);
        ParsedMessage { data, root }
    }

    /// The whole message.
    pub fn data(&self) -> &Bytes {
        &self.data
    }

    /// The ENVELOPE of the message.
    pub fn envelope(&self) -> Envelope {
        envelope(&self.data, &self.root)
    }

    /// BODYSTRUCTURE (`extensions`) or BODY.
    pub fn body_structure(&self, extensions: bool) -> BodyStructure {
        structure(&self.data, &self.root, None, extensions)
    }

    /// The content of `BODY[section]` (`None`: the whole message); `None` when the part does
    /// not exist (answered as an empty string by the caller).
    pub fn section(&self, section: Option<&Section>) -> Option<Bytes> {
        let Some(section) = section else {
            return Some(self.data.clone());
        };
        let d = &self.data;
        let (part, what) = match section {
            Section::Part(p) => (Some(p), What::Body),
            Section::Header(p) => (p.as_ref(), What::Header),
            Section::HeaderFields(p, l) => (p.as_ref(), What::Fields(l, false)),
            Section::HeaderFieldsNot(p, l) => (p.as_ref(), What::Fields(l, true)),
            Section::Text(p) => (p.as_ref(), What::Text),
            Section::Mime(p) => (Some(p), What::Mime),
            _ => return None,
        };
        let e = match part {
            Some(p) => find_part(&self.root, p)?,
            None => &self.root,
        };
        let msg = match what {
            What::Body => return Some(d.slice(e.body.clone())),
            What::Mime => return Some(d.slice(e.header.clone())),
            // HEADER/TEXT of a part refer to its encapsulated message.
            _ if part.is_some() => match &e.kind {
                Kind::Message(m) => m,
                _ => return None,
            },
            _ => e,
        };
        Some(match what {
            What::Header => d.slice(msg.header.clone()),
            What::Text => d.slice(msg.body.clone()),
            What::Fields(list, not) => Bytes::from(header_fields(d, &msg.header, list, not)),
            What::Body | What::Mime => return None,
        })
    }
}

enum What<'a> {
    Body,
    Mime,
    Header,
    Text,
    Fields(&'a HeaderList, bool),
}

fn find_part<'e>(root: &'e Entity, part: &Part) -> Option<&'e Entity> {
    let mut e = root;
    for n in part.numbers() {
        let i = n.get() as usize - 1;
        // The children of an encapsulated message are those of its body.
        if let Kind::Message(m) = &e.kind {
            e = m;
        }
        e = match &e.kind {
            Kind::Multi(children) => children.get(i)?,
            _ if i == 0 => e,
            _ => return None,
        };
    }
    Some(e)
}

/// Where the header ends: the index after the blank line (or the end of `r`).
fn split_header(d: &[u8], r: Range<usize>) -> (Range<usize>, Range<usize>) {
    let s = &d[r.clone()];
    let mut i = 0;
    // A header that starts with the blank line is empty.
    if s.starts_with(b"\r\n") {
        return (r.start..r.start + 2, r.start + 2..r.end);
    }
    if s.starts_with(b"\n") {
        return (r.start..r.start + 1, r.start + 1..r.end);
    }
    while let Some(p) = memchr::memchr(b'\n', &s[i..]) {
        let nl = i + p;
        let next = nl + 1;
        if s[next..].starts_with(b"\r\n") {
            let end = r.start + next + 2;
            return (r.start..end, end..r.end);
        }
        if s[next..].starts_with(b"\n") {
            let end = r.start + next + 1;
            return (r.start..end, end..r.end);
        }
        i = next;
    }
    (r.clone(), r.end..r.end)
}

/// The top-level header of message `d` (with the blank line after it) and the body.
pub(crate) fn split_header_of(d: &[u8]) -> (&[u8], &[u8]) {
    let (h, b) = split_header(d, 0..d.len());
    (&d[h], &d[b])
}

/// Whether the top-level header of message `d` has a field `name` whose value (after the
/// colon, line ends of folding left out) contains `needle`, both compared ASCII
/// case-insensitively; an empty `needle` asks whether the field is there. For SEARCH's header
/// keys (RFC 9051 §6.4.4): scans the header in place, without parsing the message.
pub(crate) fn header_contains(d: &[u8], name: &[u8], needle: &[u8]) -> bool {
    let (h, _) = split_header(d, 0..d.len());
    let s = &d[h];
    let mut i = 0;
    while i < s.len() {
        let end = field_end(s, i);
        let field = &s[i..end];
        i = end;
        let named = field.len() > name.len()
            && field[name.len()] == b':'
            && field[..name.len()].eq_ignore_ascii_case(name);
        if !named {
            continue;
        }
        let value = &field[name.len() + 1..];
        if needle.is_empty() {
            return true;
        }
        let found = if value[..value.len().saturating_sub(2)].contains(&b'\n') {
            let unfolded: Vec<u8> = value
                .iter()
                .copied()
                .filter(|&c| c != b'\r' && c != b'\n')
                .collect();
            contains_ci(&unfolded, needle)
        } else {
            contains_ci(value, needle)
        };
        if found {
            return true;
        }
    }
    false
}

/// Where the header field starting at `i` in `s` ends: after the first line end not
/// followed by whitespace (folding), or at the end of `s`.
fn field_end(s: &[u8], i: usize) -> usize {
    let mut j = i;
    while let Some(p) = memchr::memchr(b'\n', &s[j..]) {
        let nl = j + p + 1;
        if nl >= s.len() || !matches!(s[nl], b' ' | b'\t') {
            return nl;
        }
        j = nl;
    }
    s.len()
}

/// Whether `hay` contains `needle`, ASCII case-insensitively.
pub(crate) fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let (lo, up) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let mut at = 0;
    while let Some(p) = memchr::memchr2(lo, up, &hay[at..]) {
        let start = at + p + 1;
        match hay.get(start..start + rest.len()) {
            Some(w) if w.eq_ignore_ascii_case(rest) => return true,
            Some(_) => at = start,
            None => return false,
        }
    }
    false
}

/// The fields of a header: `(name, whole field with its line end, value unfolded)`.
fn fields(d: &[u8], h: &Range<usize>) -> Vec<(Range<usize>, Range<usize>, Vec<u8>)> {
    let s = &d[h.clone()];
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let start = i;
        let end = field_end(s, i);
        let field = &s[start..end];
        i = end;
        let Some(colon) = memchr::memchr(b':', field) else {
            continue;
        };
        let name = &field[..colon];
        if name.is_empty() || name.iter().any(|c| c.is_ascii_whitespace()) {
            continue;
        }
        let mut value = Vec::with_capacity(field.len() - colon);
        for &c in &field[colon + 1..] {
            if c != b'\r' && c != b'\n' {
                value.push(c);
            }
        }
        let v = trim(&value).to_vec();
        out.push((
            h.start + start..h.start + colon + start,
            h.start + start..h.start + end,
            v,
        ));
    }
    out
}

fn trim(v: &[u8]) -> &[u8] {
    let a = v
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(v.len());
    let b = v
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(a, |p| p + 1);
    &v[a..b.max(a)]
}

fn field<'a>(
    d: &[u8],
    fs: &'a [(Range<usize>, Range<usize>, Vec<u8>)],
    name: &str,
) -> Option<&'a [u8]> {
    fs.iter()
        .find(|(n, _, _)| d[n.clone()].eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, _, v)| v.as_slice())
}

/// `HEADER.FIELDS` (or `.NOT`): the matching fields as they are, then the blank line.
fn header_fields(d: &[u8], h: &Range<usize>, list: &HeaderList, not: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (n, whole, _) in fields(d, h) {
        let name = &d[n];
        let listed = list
            .names()
            .iter()
            .any(|l| l.as_bytes().eq_ignore_ascii_case(name));
        if listed != not {
            out.extend_from_slice(&d[whole]);
            if !out.ends_with(b"\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// A Content-Type: type, subtype (both lower case) and parameters.
struct ContentType {
    kind: Vec<u8>,
    subtype: Vec<u8>,
    params: Vec<(Vec<u8>, Vec<u8>)>,
}

impl ContentType {
    fn default_for(parent: Option<&ContentType>) -> ContentType {
        // RFC 2046 §5.1.5: in multipart/digest the default is message/rfc822.
        let digest = parent.is_some_and(|p| p.kind == b"multipart" && p.subtype == b"digest");
        ContentType {
            kind: if digest {
                b"message".to_vec()
            } else {
                b"text".to_vec()
            },
            subtype: if digest {
                b"rfc822".to_vec()
            } else {
                b"plain".to_vec()
            },
            params: if digest {
                vec![]
            } else {
                vec![(b"charset".to_vec(), b"us-ascii".to_vec())]
            },
        }
    }

    fn parse(v: &[u8]) -> Option<ContentType> {
        let mut parts = split_unquoted(v, b';').into_iter();
        let ty = parts.next()?;
        let ty = trim(&ty);
        let slash = memchr::memchr(b'/', ty)?;
        let kind = trim(&ty[..slash]).to_ascii_lowercase();
        let subtype = trim(&ty[slash + 1..]).to_ascii_lowercase();
        if kind.is_empty() || subtype.is_empty() {
            return None;
        }
        Some(ContentType {
            kind,
            subtype,
            params: parts.filter_map(|p| param(&p)).collect(),
        })
    }

    fn param(&self, name: &str) -> Option<&[u8]> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }
}

fn param(p: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let eq = memchr::memchr(b'=', p)?;
    let name = trim(&p[..eq]).to_vec();
    let v = trim(&p[eq + 1..]);
    let value = if v.len() >= 2 && v[0] == b'"' && v[v.len() - 1] == b'"' {
        let mut out = Vec::new();
        let mut esc = false;
        for &c in &v[1..v.len() - 1] {
            if esc || c != b'\\' {
                out.push(c);
                esc = false;
            } else {
                esc = true;
            }
        }
        out
    } else {
        v.to_vec()
    };
    (!name.is_empty()).then_some((name, value))
}

/// Splits at `sep` outside double quotes, comments and angle brackets.
fn split_unquoted(v: &[u8], sep: u8) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let (mut quoted, mut esc, mut depth, mut angle) = (false, false, 0u32, false);
    for &c in v {
        if esc {
            esc = false;
            cur.push(c);
            continue;
        }
        // The separator is judged by the state before it.
        let split = c == sep && !quoted && depth == 0 && !angle;
        match c {
            b'\\' if quoted || depth > 0 => esc = true,
            b'"' if depth == 0 => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth = depth.saturating_sub(1),
            b'<' if !quoted && depth == 0 => angle = true,
            b'>' if !quoted && depth == 0 => angle = false,
            _ => {}
        }
        if split {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

fn parse_entity(d: &[u8], r: Range<usize>, parent: Option<&ContentType>, depth: usize) -> Entity {
    let (header, body) = split_header(d, r);
    let fs = fields(d, &header);
    let ct = field(d, &fs, "content-type")
        .and_then(ContentType::parse)
        .unwrap_or_else(|| ContentType::default_for(parent));
    let kind = if depth >= MAX_DEPTH {
        Kind::Leaf
    } else if ct.kind == b"multipart" {
        match ct.param("boundary") {
            Some(b) if !b.is_empty() => Kind::Multi(
                split_multipart(d, body.clone(), b)
                    .into_iter()
                    .map(|p| parse_entity(d, p, Some(&ct), depth + 1))
                    .collect(),
            ),
            _ => Kind::Multi(Vec::new()),
        }
    } else if ct.kind == b"message" && (ct.subtype == b"rfc822" || ct.subtype == b"global") {
        Kind::Message(Box::new(parse_entity(d, body.clone(), None, depth + 1)))
    } else {
        Kind::Leaf
    };
    Entity { header, body, kind }
}

/// The body parts of a multipart: the ranges between `--boundary` lines (each without the
/// line end that belongs to the delimiter).
fn split_multipart(d: &[u8], r: Range<usize>, boundary: &[u8]) -> Vec<Range<usize>> {
    let mut delim = b"--".to_vec();
    delim.extend_from_slice(boundary);
    let s = &d[r.clone()];
    let mut parts = Vec::new();
    let mut open: Option<usize> = None;
    let mut line_start = 0;
    while line_start < s.len() && parts.len() < MAX_CHILDREN {
        let nl = memchr::memchr(b'\n', &s[line_start..]).map(|p| line_start + p + 1);
        let line_end = nl.unwrap_or(s.len());
        let line = &s[line_start..line_end];
        if line.starts_with(&delim) {
            let rest = trim(&line[delim.len()..]);
            let close = rest.starts_with(b"--");
            if rest.is_empty() || close {
                if let Some(o) = open.take() {
                    // The CRLF before the delimiter belongs to it.
                    let mut end = line_start;
                    if end > o && s[end - 1] == b'\n' {
                        end -= 1;
                        if end > o && s[end - 1] == b'\r' {
                            end -= 1;
                        }
                    }
                    parts.push(r.start + o..r.start + end.max(o));
                }
                if close {
                    break;
                }
                open = Some(line_end);
            }
        }
        line_start = line_end;
    }
    if let Some(o) = open {
        // No closing delimiter: the last part runs to the end.
        parts.push(r.start + o..r.end);
    }
    parts
}

fn istring(v: &[u8]) -> IString {
    IString::new(Bytes::copy_from_slice(v)).unwrap_or_else(|_| {
        let clean: Vec<u8> = v.iter().copied().filter(|&c| c != 0).collect();
        IString::new(Bytes::from(clean)).unwrap_or_default()
    })
}

fn nstring(v: Option<&[u8]>) -> NString {
    v.map(istring)
}

fn upper(v: &[u8]) -> IString {
    istring(&v.to_ascii_uppercase())
}

fn params_of(ct: &ContentType) -> BodyParams {
    ct.params
        .iter()
        .map(|(n, v)| (upper(n), istring(v)))
        .collect::<Vec<_>>()
        .into()
}

fn lines(b: &[u8]) -> u64 {
    let n = memchr::memchr_iter(b'\n', b).count() as u64;
    if b.last().is_some_and(|&c| c != b'\n') {
        n + 1
    } else {
        n
    }
}

fn structure(d: &[u8], e: &Entity, parent: Option<&ContentType>, ext: bool) -> BodyStructure {
    let fs = fields(d, &e.header);
    let ct = field(d, &fs, "content-type")
        .and_then(ContentType::parse)
        .unwrap_or_else(|| ContentType::default_for(parent));
    if let Kind::Multi(children) = &e.kind {
        let kids: Vec<BodyStructure> = children
            .iter()
            .map(|c| structure(d, c, Some(&ct), ext))
            .collect();
        let mp = MultiPart {
            subtype: upper(&ct.subtype),
            extension: ext.then(|| MultiPartExtension {
                params: params_of(&ct),
                disposition: None,
            }),
        };
        if kids.is_empty() {
            // A multipart needs at least one part: an empty text part stands in.
            let empty = BodyStructure::single(SinglePart {
                kind: SinglePartKind::Text {
                    subtype: upper(b"plain"),
                    lines: 0,
                },
                fields: BodyFields {
                    encoding: upper(b"7bit"),
                    ..BodyFields::default()
                },
                extension: None,
            });
            return built(empty.and_then(|e| BodyStructure::multi(mp, [e])));
        }
        return built(BodyStructure::multi(mp, kids));
    }
    let body = &d[e.body.clone()];
    let fields_ = BodyFields {
        params: params_of(&ct),
        id: nstring(field(d, &fs, "content-id")),
        description: nstring(field(d, &fs, "content-description")),
        encoding: upper(field(d, &fs, "content-transfer-encoding").unwrap_or(b"7bit")),
        octets: u32::try_from(body.len()).unwrap_or(u32::MAX),
    };
    let kind = match &e.kind {
        Kind::Message(m) => SinglePartKind::Message {
            subtype: if ct.subtype == b"global" {
                MessageSubtype::Global
            } else {
                MessageSubtype::Rfc822
            },
            envelope: Box::new(envelope(d, m)),
            body: structure(d, m, None, ext),
            lines: lines(body),
        },
        _ if ct.kind == b"text" => SinglePartKind::Text {
            subtype: upper(&ct.subtype),
            lines: lines(body),
        },
        _ => match MediaType::new(upper(&ct.kind), upper(&ct.subtype)) {
            Ok(m) => SinglePartKind::Basic(m),
            Err(_) => SinglePartKind::Basic(
                MediaType::new(upper(b"application"), upper(b"octet-stream"))
                    .unwrap_or_else(|_| unreachable_media()),
            ),
        },
    };
    built(BodyStructure::single(SinglePart {
        kind,
        fields: fields_,
        extension: ext.then(|| SinglePartExtension {
            md5: nstring(field(d, &fs, "content-md5")),
            disposition: None,
        }),
    }))
}

/// A built structure; one whose strings come to 4 GiB (the only failure, for a message of
/// more than that) is sent as the minimal valid structure.
fn built(b: Result<BodyStructure, ValidationError>) -> BodyStructure {
    b.or_else(|_| BodyStructure::invalid(Bytes::new()))
        .unwrap_or_else(|_| unreachable_structure())
}

fn unreachable_structure() -> BodyStructure {
    // an empty raw structure always fits; this is never reached
    BodyStructure::invalid(Bytes::new()).unwrap_or_else(|_| unreachable_structure())
}

fn unreachable_media() -> MediaType {
    // APPLICATION/OCTET-STREAM is a valid basic type; this is never reached.
    MediaType::new(upper(b"x"), upper(b"y")).unwrap_or_else(|_| unreachable_media())
}

fn envelope(d: &[u8], e: &Entity) -> Envelope {
    let fs = fields(d, &e.header);
    let from = field(d, &fs, "from").map(addresses).unwrap_or_default();
    // RFC 9051 §7.5.2: Sender and Reply-To default to From.
    let sender = field(d, &fs, "sender")
        .map(addresses)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| from.clone());
    let reply_to = field(d, &fs, "reply-to")
        .map(addresses)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| from.clone());
    let list = |name| field(d, &fs, name).map(addresses).unwrap_or_default();
    let env = EnvelopeFields {
        date: nstring(field(d, &fs, "date")),
        subject: nstring(field(d, &fs, "subject")),
        from,
        sender,
        reply_to,
        to: list("to"),
        cc: list("cc"),
        bcc: list("bcc"),
        in_reply_to: nstring(field(d, &fs, "in-reply-to")),
        message_id: nstring(field(d, &fs, "message-id")),
    };
    // Fails only for 4 GiB of header strings, which no message within the limits holds.
    Envelope::try_from(env).unwrap_or_default()
}

/// An RFC 5322 address list, read leniently: `Name <local@host>`, `local@host`, and groups
/// (`name: a, b;`).
fn addresses(v: &[u8]) -> Vec<Address> {
    let mut out = Vec::new();
    let mut rest = v;
    while !trim(rest).is_empty() && out.len() < 1000 {
        // A group: a colon before any `<`, `@` or `,`.
        let colon = find_unquoted(rest, b':');
        let stop = [b'<', b'@', b',']
            .iter()
            .filter_map(|&c| find_unquoted(rest, c))
            .min();
        if let Some(c) = colon.filter(|&c| stop.is_none_or(|s| c < s)) {
            let end = find_unquoted(&rest[c + 1..], b';').map(|e| c + 1 + e);
            let inner = &rest[c + 1..end.unwrap_or(rest.len())];
            out.push(Address {
                mailbox: Some(istring(&phrase(&rest[..c]))),
                ..Address::default()
            });
            for a in split_unquoted(inner, b',') {
                if let Some(a) = address(&a) {
                    out.push(a);
                }
            }
            out.push(Address::default());
            rest = match end {
                Some(e) => {
                    let r = &rest[e + 1..];
                    let t = trim(r);
                    t.strip_prefix(b",").unwrap_or(t)
                }
                None => &[],
            };
            continue;
        }
        let (one, next) = match find_unquoted(rest, b',') {
            Some(p) => (&rest[..p], &rest[p + 1..]),
            None => (rest, &[][..]),
        };
        if let Some(a) = address(one) {
            out.push(a);
        }
        rest = next;
    }
    out
}

fn find_unquoted(v: &[u8], c: u8) -> Option<usize> {
    let parts = split_unquoted(v, c);
    (parts.len() > 1).then(|| parts[0].len())
}

/// A display name without quotes and comments.
fn phrase(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut quoted, mut esc, mut depth) = (false, false, 0u32);
    for &c in trim(v) {
        if esc {
            out.push(c);
            esc = false;
            continue;
        }
        match c {
            b'\\' if quoted => esc = true,
            b'"' if depth == 0 => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted && depth > 0 => depth -= 1,
            _ if depth > 0 => {}
            _ => out.push(c),
        }
    }
    trim(&out).to_vec()
}

fn address(v: &[u8]) -> Option<Address> {
    let v = trim(v);
    if v.is_empty() {
        return None;
    }
    let (name, spec) = match (find_unquoted(v, b'<'), v.iter().rposition(|&c| c == b'>')) {
        (Some(a), Some(b)) if b > a => (Some(phrase(&v[..a])), &v[a + 1..b]),
        _ => (None, v),
    };
    let spec = phrase(spec);
    let (mailbox, host) = match spec.iter().rposition(|&c| c == b'@') {
        Some(at) => (spec[..at].to_vec(), Some(spec[at + 1..].to_vec())),
        None => (spec.clone(), None),
    };
    Some(Address {
        name: name.filter(|n| !n.is_empty()).map(|n| istring(&n)),
        adl: None,
        mailbox: Some(istring(&mailbox)),
        // A missing host would read as a group marker: an empty host stands in.
        host: Some(istring(host.as_deref().unwrap_or(b""))),
    })
}

/// `seconds` since the Unix epoch as an INTERNALDATE in UTC.
pub fn internal_date(seconds: i64) -> DateTime {
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (if month <= 2 { y + 1 } else { y }).clamp(1, 9999) as u16;
    let date = Date::new(year, month, day)
        .or_else(|_| Date::new(1970, 1, 1))
        .unwrap_or_else(|_| unreachable_date());
    DateTime::new(
        date,
        (secs / 3600) as u8,
        (secs % 3600 / 60) as u8,
        (secs % 60) as u8,
        0,
    )
    .unwrap_or_else(|_| unreachable_datetime(date))
}

fn unreachable_date() -> Date {
    Date::new(1970, 1, 1).unwrap_or_else(|_| unreachable_date())
}

fn unreachable_datetime(d: Date) -> DateTime {
    DateTime::new(d, 0, 0, 0, 0).unwrap_or_else(|_| unreachable_datetime(d))
}

/// Seconds since the Unix epoch of an INTERNALDATE.
pub fn epoch_seconds(dt: &DateTime) -> i64 {
    let d = dt.date();
    let (y, m, day) = (
        i64::from(d.year()),
        i64::from(d.month()),
        i64::from(d.day()),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400
        + i64::from(dt.hour()) * 3600
        + i64::from(dt.minute()) * 60
        + i64::from(dt.second())
        - i64::from(dt.zone_minutes()) * 60
}

/// A part path from numbers (for tests and callers building sections).
pub fn part(numbers: &[u32]) -> Option<Part> {
    let n: Option<Vec<NonZeroU32>> = numbers.iter().map(|&n| NonZeroU32::new(n)).collect();
    Part::new(&n?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use imapwire_codec::body::BodyPart;
    use imapwire_codec::encode::Encode;

    const MIXED: &[u8] = b"From: \"Gray, Al\" <al@example.com>\r\n\
To: bo@example.org, Team: c@x.org, d@y.org;\r\n\
Subject: hello\r\n world\r\n\
Message-ID: <1@x>\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
\r\n\
preamble\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
line one\r\n\
line two\r\n\
--b1\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
Subject: inner\r\n\
\r\n\
inner body\r\n\
--b1--\r\n\
epilogue\r\n";

    #[test]
    fn envelope_fields_and_addresses() {
        let m = ParsedMessage::new(Bytes::from_static(MIXED));
        let e = m.envelope();
        assert_eq!(e.subject(), Some(&b"hello world"[..]));
        assert_eq!(e.message_id(), Some(&b"<1@x>"[..]));
        let from = e.from();
        assert_eq!(from.len(), 1);
        let first = from.get(0).unwrap();
        assert_eq!(first.name(), Some(&b"Gray, Al"[..]));
        assert_eq!(first.mailbox(), Some(&b"al"[..]));
        assert_eq!(e.sender(), from);
        let to = e.to();
        // bo, group start, c, d, group end
        assert_eq!(to.len(), 5);
        assert!(to.get(1).unwrap().is_group_start());
        assert!(to.get(4).unwrap().is_group_end());
        assert_eq!(to.get(3).unwrap().host(), Some(&b"y.org"[..]));
        // what FETCH ENVELOPE sends
        let al = r#"(("Gray, Al" NIL "al" "example.com"))"#;
        let want = format!(
            "(NIL \"hello world\" {al} {al} {al} ((NIL NIL \"bo\" \"example.org\")\
             (NIL NIL \"Team\" NIL)(NIL NIL \"c\" \"x.org\")(NIL NIL \"d\" \"y.org\")\
             (NIL NIL NIL NIL)) NIL NIL NIL \"<1@x>\")"
        );
        assert_eq!(String::from_utf8(e.to_vec_inline_literals()).unwrap(), want);
    }

    /// SEARCH's header scan: the field's value only, folding undone, case-insensitive, the
    /// top-level header only; an empty needle asks for presence.
    #[test]
    fn header_contains_scans_the_top_level_header() {
        let m =
            b"X-Subjects: nope\r\nsubject: Hello\r\n World\r\nFrom: a@b\r\n\r\nSubject: body\r\n";
        assert!(header_contains(m, b"Subject", b"hello world"));
        assert!(header_contains(m, b"SUBJECT", b"LO WO"));
        assert!(!header_contains(m, b"Subject", b"body"));
        assert!(!header_contains(m, b"Subject", b"nope"));
        assert!(!header_contains(m, b"Subject", b"subject"));
        assert!(header_contains(m, b"From", b""));
        assert!(!header_contains(m, b"To", b""));
        assert!(header_contains(b"To: x\n\nbody", b"to", b"X"));
        assert!(!header_contains(b"", b"To", b""));
        // A needle longer than the value, and one that starts near its end.
        assert!(!header_contains(b"To: ab\r\n\r\n", b"To", b"abc"));
        assert!(contains_ci(b"aaAB", b"ab") && !contains_ci(b"aaa", b"ab"));
    }

    #[test]
    fn sections_and_structure() {
        let m = ParsedMessage::new(Bytes::from_static(MIXED));
        let p1 = Section::Part(part(&[1]).unwrap());
        assert_eq!(&m.section(Some(&p1)).unwrap()[..], b"line one\r\nline two");
        let p2 = Section::Text(Some(part(&[2]).unwrap()));
        assert_eq!(&m.section(Some(&p2)).unwrap()[..], b"inner body");
        let h2 = Section::Header(Some(part(&[2]).unwrap()));
        assert_eq!(
            &m.section(Some(&h2)).unwrap()[..],
            b"Subject: inner\r\n\r\n"
        );
        let mime = Section::Mime(part(&[1]).unwrap());
        assert_eq!(
            &m.section(Some(&mime)).unwrap()[..],
            b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        );
        let names = HeaderList::new(vec![istring(b"subject"), istring(b"X-None")]).unwrap();
        let hf = Section::HeaderFields(None, names.clone());
        assert_eq!(
            &m.section(Some(&hf)).unwrap()[..],
            b"Subject: hello\r\n world\r\n\r\n"
        );
        let not = Section::HeaderFieldsNot(None, names);
        let got = m.section(Some(&not)).unwrap();
        assert!(got.starts_with(b"From:") && !got.windows(8).any(|w| w == b"Subject:"));
        assert!(
            m.section(Some(&Section::Part(part(&[3]).unwrap())))
                .is_none()
        );

        let b = m.body_structure(true);
        assert!(matches!(b.to_part(), BodyPart::Multi(mp) if mp.subtype.as_bytes() == b"MIXED"));
        let kids: Vec<_> = b.children().collect();
        assert_eq!(kids.len(), 2);
        match &kids[0].to_part() {
            BodyPart::Single(SinglePart {
                kind: SinglePartKind::Text { subtype, lines },
                fields,
                ..
            }) => {
                assert_eq!(subtype.as_bytes(), b"PLAIN");
                assert_eq!(*lines, 2);
                assert_eq!(fields.octets, 18);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            kids[1].to_part(),
            BodyPart::Single(SinglePart {
                kind: SinglePartKind::Message { .. },
                ..
            })
        ));
    }

    #[test]
    fn plain_message_part_one_is_the_body() {
        let m = ParsedMessage::new(Bytes::from_static(b"Subject: x\n\nbody\n"));
        let p1 = Section::Part(part(&[1]).unwrap());
        assert_eq!(&m.section(Some(&p1)).unwrap()[..], b"body\n");
        assert_eq!(
            &m.section(Some(&Section::Header(None))).unwrap()[..],
            b"Subject: x\n\n"
        );
    }

    #[test]
    fn malformed_input_does_not_panic() {
        for d in [
            &b""[..],
            b"\r\n",
            b"no header end",
            b"Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n",
            b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n--x\r\n",
            b"From: <<<@@@,,,;;;:::\"\r\n\r\n",
            b"To: g: a@b\r\n\r\n",
        ] {
            let m = ParsedMessage::new(Bytes::copy_from_slice(d));
            let _ = m.envelope();
            let _ = m.body_structure(true);
            let _ = m.section(Some(&Section::Part(part(&[1, 2]).unwrap())));
        }
        // Deep nesting stops at MAX_DEPTH.
        let mut deep = Vec::new();
        for _ in 0..100 {
            deep.extend_from_slice(b"Content-Type: message/rfc822\r\n\r\n");
        }
        let m = ParsedMessage::new(Bytes::from(deep));
        let _ = m.body_structure(true);
    }

    #[test]
    fn dates_round_trip() {
        for s in [0i64, 951_782_400, 1_700_000_000, 4_102_444_799] {
            assert_eq!(epoch_seconds(&internal_date(s)), s);
        }
        let d = internal_date(951_782_400); // 2000-02-29
        assert_eq!(
            (d.date().year(), d.date().month(), d.date().day()),
            (2000, 2, 29)
        );
    }
}
