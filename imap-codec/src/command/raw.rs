//! Raw arguments of unknown commands: lines joined by literals (RFC 9051 §4.3 `literal`).

use super::*;

/// A literal inside the raw arguments of an unknown command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RawLiteral {
    /// Offset of the payload in the raw arguments.
    pub(super) start: usize,
    /// Payload length.
    pub(super) len: usize,
    /// `{n}` or `{n+}`.
    pub(super) mode: LiteralMode,
}

/// A defect of raw arguments: offset and what was expected.
pub(super) type RawDefect = (usize, &'static str);

/// Checks the raw arguments of an unknown command, which may carry literals: lines without
/// CR, LF or NUL, each but the last ending in a literal announcement (`{n}`, `{n+}`,
/// `~{n}`, `~{n+}`) followed by CRLF (or a bare LF when `bare_lf`) and the `n` payload
/// bytes (NUL only in `literal8`); the last line does not end in an announcement (a
/// receiver would wait for literal data). Returns the literals.
pub(super) fn scan_raw_args(raw: &[u8], bare_lf: bool) -> Result<Vec<RawLiteral>, RawDefect> {
    let mut lits = Vec::new();
    let mut pos = 0;
    loop {
        let rest = &raw[pos..];
        let lf = memchr::memchr(b'\n', rest);
        let line_end = match lf {
            Some(i) if i > 0 && rest[i - 1] == b'\r' => i - 1,
            Some(i) if bare_lf => i,
            Some(i) => return Err((pos + i, "CRLF")),
            None => rest.len(),
        };
        let line = &rest[..line_end];
        if let Some(i) = line.iter().position(|&c| matches!(c, b'\r' | b'\n' | 0)) {
            return Err((pos + i, "a byte other than CR, LF or NUL"));
        }
        let announced = literal_announcement(line);
        let Some(lf) = lf else {
            return match announced {
                Some(_) => Err((pos + line.len(), "no literal announcement at the end")),
                None => Ok(lits),
            };
        };
        let Some((len, mode, binary)) = announced else {
            return Err((
                pos + line_end,
                "a literal announcement before the line break",
            ));
        };
        let start = pos + lf + 1;
        let end = usize::try_from(len)
            .ok()
            .and_then(|n| start.checked_add(n))
            .filter(|&e| e <= raw.len())
            .ok_or((start, "literal data"))?;
        if !binary {
            if let Some(i) = memchr::memchr(0, &raw[start..end]) {
                return Err((start + i, "a literal without NUL (or literal8)"));
            }
        }
        lits.push(RawLiteral {
            start,
            len: end - start,
            mode,
        });
        pos = end;
    }
}

/// The literal announced at the end of `line`: length, mode, literal8.
pub(super) fn literal_announcement(line: &[u8]) -> Option<(u64, LiteralMode, bool)> {
    let r = line.strip_suffix(b"}")?;
    let (r, mode) = match r.strip_suffix(b"+") {
        Some(r) => (r, LiteralMode::NonSync),
        None => (r, LiteralMode::Sync),
    };
    let digits = r.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    let r = r[..r.len() - digits].strip_suffix(b"{")?;
    if digits == 0 || digits > 19 {
        return None;
    }
    let n = line[r.len() + 1..r.len() + 1 + digits]
        .iter()
        .fold(0u64, |n, &c| n * 10 + u64::from(c - b'0'));
    Some((n, mode, r.ends_with(b"~")))
}

/// `raw` with the NUL bytes of its lines removed and its line breaks made CRLF (the nearest
/// valid value, for the lenient profile), when that makes it well-formed.
pub(super) fn normalise_raw_args(raw: &Bytes) -> Option<Bytes> {
    let mut out = Vec::with_capacity(raw.len() + 4);
    let mut pos = 0;
    loop {
        let rest = &raw[pos..];
        let lf = memchr::memchr(b'\n', rest);
        let line = &rest[..lf.unwrap_or(rest.len())];
        let line = line
            .strip_suffix(b"\r")
            .filter(|_| lf.is_some())
            .unwrap_or(line);
        let start_line = out.len();
        out.extend(line.iter().copied().filter(|&c| c != 0));
        let Some(lf) = lf else { break };
        let (n, _, _) = literal_announcement(&out[start_line..])?;
        out.extend_from_slice(b"\r\n");
        let start = pos + lf + 1;
        let end = start.checked_add(usize::try_from(n).ok()?)?.min(raw.len());
        out.extend_from_slice(&raw[start..end]);
        pos = end;
    }
    let out = Bytes::from(out);
    scan_raw_args(&out, false).ok().map(|_| out)
}

pub(super) fn check_raw_args(raw: &[u8]) -> Result<(), ValidationError> {
    scan_raw_args(raw, false)
        .map(|_| ())
        .map_err(|(position, expected)| {
            ValidationError::new(
                crate::error::ValueKind::CommandArguments,
                crate::error::Rule::Expected { expected, position },
            )
        })
}
