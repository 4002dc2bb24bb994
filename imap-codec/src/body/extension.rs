//! A body part's extension data: parameter lists, the disposition, languages, location and
//! `body-extension`s (parsed into the structure's [`Acc`]), with the fast paths for their usual
//! forms.

use super::{Acc, Ext, Node, Run, SIDE, more, nested, nstring, quick_string};
use crate::options::Quirk;
use crate::parse::{PResult, Parser, Span, class};

/// `body-fld-param`, appended to the lists. Lenient: `()`, NIL values.
pub(super) fn parse_params(p: &mut Parser<'_>, acc: &mut Acc) -> PResult<Run> {
    let start = acc.slots.len();
    // (`("`, the usual start, in one step)
    if !open_quote(p) {
        // (neither NIL nor `""` starts with `(`)
        // (an upper-case NIL inline, what `nil_or_empty_string` takes first)
        if p.peek() != Some(b'(') && (p.nil_upper() || p.nil_or_empty_string()) {
            return Ok(Run::default());
        }
        let open = p.pos;
        p.expect(b'(', "body-fld-param")?;
        // (a quoted string next: no space to skip, the list is not empty)
        if p.peek() != Some(b'"') {
            p.skip_trailing_sp();
            if p.peek() == Some(b')') {
                if !p.tolerate(Quirk::NilOrEmpty, open) {
                    return Err(p.fail("string"));
                }
                p.pos += 1;
                return Ok(Run::default());
            }
        }
    }
    let mut n = 0;
    loop {
        let (k, val) = match quick_pair(p, acc.start) {
            Some(kv) => kv,
            None => (
                quick_string(p, acc, false, b"")?,
                quick_string(p, acc, true, b"")?,
            ),
        };
        acc.slots.extend_from_slice(&[k, val]);
        n += 1;
        p.check_items(n)?;
        if !more(p)? {
            p.pos += 1;
            return Ok(acc.run(start, 2 * n));
        }
    }
}

/// `("`, a list opening on a quoted string, its `(` taken: what `expect(b'(')` takes there in
/// either profile, the list not empty (test `open_quote_matches_general`). `false` with nothing
/// consumed otherwise.
#[inline(always)]
fn open_quote(p: &mut Parser<'_>) -> bool {
    if p.bytes().get(p.pos..p.pos + 2) == Some(b"(\"") {
        p.pos += 1;
        return true;
    }
    false
}

/// The index of the closing DQUOTE of the quoted string whose opening DQUOTE is at `at`, when
/// its content is plain bytes (what `Parser::quick_string` takes) read in whole words of
/// eight: `None` when a word would pass the end of `b` or a byte other than DQUOTE ends the
/// run (the caller then takes the general path).
#[inline(always)]
fn plain_quoted_end(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at + 1..)?;
    let mut i = 0;
    while let Some(w) = s.get(i..i + 8) {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        let bad = class::quoted_specials(u64::from_le_bytes(a));
        if bad != 0 {
            // (below 8: a flag is set)
            let j = (bad.trailing_zeros() / 8) as usize & 7;
            return (a[j] == b'"').then_some(at + 1 + i + j);
        }
        i += 8;
    }
    None
}

/// A parameter's `"key" "value"`, both quoted strings of plain bytes, the value followed by
/// SP or `)`: what [`quick_string`] for the key and then for SP and the value take, read in
/// one step (test `quick_pair_matches_quick_strings`). Anything else is `None` with nothing
/// consumed.
#[inline(always)]
fn quick_pair(p: &mut Parser<'_>, base: usize) -> Option<(Span, Span)> {
    let b = p.bytes();
    let k = p.pos;
    if b.get(k) != Some(&b'"') {
        return None;
    }
    let ke = plain_quoted_end(b, k)?;
    // the key's closing DQUOTE, SP and the value's opening DQUOTE
    if b.get(ke + 1..ke + 3) != Some(b" \"") {
        return None;
    }
    let v = ke + 2;
    let ve = plain_quoted_end(b, v)?;
    if !matches!(b.get(ve + 1), Some(b' ' | b')')) || ve - base >= SIDE as usize {
        return None;
    }
    p.pos = ve + 1;
    Some((
        Span {
            off: (k + 1 - base) as u32,
            len: (ke - k - 1) as u32,
        },
        Span {
            off: (v + 1 - base) as u32,
            len: (ve - v - 1) as u32,
        },
    ))
}

/// `body-fld-dsp [SP body-fld-lang [SP body-fld-loc *(SP body-extension)]]` into `n`.
pub(super) fn parse_dsp_ext(p: &mut Parser<'_>, acc: &mut Acc, n: &mut Node) -> PResult<()> {
    if nil_tail(p, acc, n) {
        return Ok(());
    }
    dsp_ext_general(p, acc, n)
}

/// [`parse_dsp_ext`] for every input.
#[inline(always)]
fn dsp_ext_general(p: &mut Parser<'_>, acc: &mut Acc, n: &mut Node) -> PResult<()> {
    n.ext = 2;
    // (neither NIL nor `""` starts with `(`)
    if p.peek() == Some(b'(') || !(p.nil_upper() || p.nil_or_empty_string()) {
        p.expect(b'(', "body-fld-dsp")?;
        n.dsp = match quick_plain(p, acc.start) {
            Some(s) => s,
            None => quick_string(p, acc, false, b"")?,
        };
        if nil_dsp_params(p) {
            n.dsp_params = Run::default();
        } else {
            p.sp()?;
            n.dsp_params = parse_params(p, acc)?;
            p.skip_trailing_sp();
            p.expect(b')', ")")?;
        }
    }
    if more(p)? {
        n.ext = 3;
        parse_lang_ext(p, acc, n)?;
    }
    Ok(())
}

/// `NIL NIL NIL` before the closing `)`: no disposition, language nor location and no
/// extensions, the usual tail of a part (after its md5) and of a multipart (after its
/// parameters), taken into `n` in one step as [`parse_dsp_ext`]'s general steps take it
/// (test `nil_tail_matches_general`), the `)` left. `false` with nothing done otherwise.
#[inline(always)]
fn nil_tail(p: &mut Parser<'_>, acc: &Acc, n: &mut Node) -> bool {
    if p.bytes().get(p.pos..p.pos + 12) != Some(b"NIL NIL NIL)") {
        return false;
    }
    p.pos += 11;
    n.ext = 4;
    n.langs = acc.run(acc.slots.len(), 0);
    n.loc = Span::NIL;
    n.exts = acc.run(acc.exts.len(), 0);
    true
}

/// `SP NIL)` after a disposition's type, the usual disposition without parameters
/// (`("INLINE" NIL)`), taken in one step as the general steps after the type take it in either
/// profile (test `nil_dsp_params_matches_general`). `false` with nothing consumed otherwise.
#[inline(always)]
fn nil_dsp_params(p: &mut Parser<'_>) -> bool {
    if p.bytes().get(p.pos..p.pos + 5) == Some(b" NIL)") {
        p.pos += 5;
        return true;
    }
    false
}

/// One language tag (`string`).
#[inline]
fn language(p: &mut Parser<'_>, acc: &mut Acc) -> PResult<()> {
    let s = match quick_plain(p, acc.start) {
        Some(s) => s,
        None => language_general(p, acc)?,
    };
    acc.slots.push(s);
    Ok(())
}

/// A quoted string of plain bytes followed by SP or `)`: what `Parser::quick_string` takes
/// for a `string` (not after SP), read as [`quick_pair`] reads each of its strings (test
/// `quick_plain_matches_quick_string`). `None` with nothing consumed otherwise.
#[inline(always)]
fn quick_plain(p: &mut Parser<'_>, base: usize) -> Option<Span> {
    let b = p.bytes();
    let at = p.pos;
    if b.get(at) != Some(&b'"') {
        return None;
    }
    let end = plain_quoted_end(b, at)?;
    if !matches!(b.get(end + 1), Some(b' ' | b')')) || end - base >= SIDE as usize {
        return None;
    }
    p.pos = end + 1;
    Some(Span {
        off: (at + 1 - base) as u32,
        len: (end - at - 1) as u32,
    })
}

/// SP and [`quick_plain`]'s string: what `Parser::quick_string` takes for them (test
/// `quick_sp_plain_matches_quick_string`). `None` with nothing consumed otherwise.
#[inline(always)]
fn quick_sp_plain(p: &mut Parser<'_>, base: usize) -> Option<Span> {
    if p.peek() != Some(b' ') {
        return None;
    }
    p.pos += 1;
    let s = quick_plain(p, base);
    if s.is_none() {
        p.pos -= 1;
    }
    s
}

/// [`language`]'s string for every input.
#[inline(never)]
fn language_general(p: &mut Parser<'_>, acc: &mut Acc) -> PResult<Span> {
    let at = p.string_at()?;
    acc.span(p, at)
}

/// `body-fld-lang [SP body-fld-loc *(SP body-extension)]` into `n`.
fn parse_lang_ext(p: &mut Parser<'_>, acc: &mut Acc, n: &mut Node) -> PResult<()> {
    let start = acc.slots.len();
    if p.peek() == Some(b'(') {
        let open = p.pos;
        p.pos += 1;
        p.skip_trailing_sp();
        if p.peek() == Some(b')') {
            if !p.tolerate(Quirk::NilOrEmpty, open) {
                return Err(p.fail("string"));
            }
        } else {
            loop {
                language(p, acc)?;
                p.check_items(acc.slots.len() - start)?;
                if !more(p)? {
                    break;
                }
            }
        }
        p.pos += 1;
    } else if p.peek() == Some(b'"') {
        language(p, acc)?;
    } else {
        let s = nstring(p, acc)?;
        if s != Span::NIL {
            acc.slots.push(s);
        }
    }
    n.langs = acc.run(start, acc.slots.len() - start);
    let loc = match quick_sp_plain(p, acc.start) {
        Some(s) => Some(s),
        None => p.quick_string(acc.start, SIDE as usize, true, false),
    };
    if loc.is_some() || more(p)? {
        n.ext = 4;
        n.loc = match loc {
            Some(s) => s,
            None => nstring(p, acc)?,
        };
        let start = acc.exts.len();
        let mut count = 0;
        while more(p)? {
            parse_ext(p, acc)?;
            count += 1;
            p.check_items(count)?;
        }
        n.exts = acc.run(start, acc.exts.len() - start);
    }
    Ok(())
}

/// `body-extension`, appended to the extensions.
fn parse_ext(p: &mut Parser<'_>, acc: &mut Acc) -> PResult<()> {
    match p.peek() {
        Some(b'(') => nested(p, |p| {
            p.pos += 1;
            let at = acc.exts.len();
            acc.exts.push(Ext::List(0));
            p.skip_trailing_sp();
            if p.peek() == Some(b')') {
                let at = p.pos;
                if !p.tolerate(Quirk::NilOrEmpty, at) {
                    return Err(p.fail("body-extension"));
                }
            } else {
                let mut count = 0;
                loop {
                    parse_ext(p, acc)?;
                    count += 1;
                    p.check_items(count)?;
                    if !more(p)? {
                        break;
                    }
                }
            }
            p.pos += 1;
            acc.exts[at] = Ext::List((acc.exts.len() - at - 1) as u32);
            Ok(())
        }),
        Some(b'0'..=b'9') | Some(b'-') => {
            let v = p.number64()?;
            acc.exts.push(Ext::Num(v));
            Ok(())
        }
        _ => {
            let s = nstring(p, acc)?;
            acc.exts.push(Ext::Str(s));
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use bytes::Bytes;

    use super::*;
    use crate::options::DecodeOptions;
    use crate::parse::Fail;

    /// Inputs for the extension data's fast readers: pieces of the usual forms, specials and
    /// ends joined at random (a fixed xorshift sequence), each byte of the usual forms
    /// replaced by each special byte, and the usual forms whole.
    fn ext_inputs() -> Vec<Vec<u8>> {
        const PIECES: &[&[u8]] = &[
            b"\"",
            b" ",
            b")",
            b"(",
            b"\\",
            b"a",
            b"utf-8",
            b"charset",
            b"NIL",
            b"nil",
            b"\x01",
            b"\x80",
            b"{1}\r\nz",
            b"\r\n",
            b"\"\"",
            b" NIL",
            b"\"en\"",
            b"12345678",
            b"\"ab\" ",
            b"\"abcdefghijk\"",
            b"\"x\" \"",
            b"\" \"",
        ];
        let mut out: Vec<Vec<u8>> = [
            &br#""charset" "utf-8")"#[..],
            br#""charset" "utf-8" "format" "flowed")"#,
            br#""filename" "screenshot_971.png" "size" "1838777"))"#,
            br#""a" "b" "#,
            br#""a" "b""#,
            br#""" "")"#,
            br#""a" NIL)"#,
            br#""a"  "b")"#,
            b"NIL NIL NIL)",
            b"NIL NIL NIL) ",
            b"NIL NIL NIL",
            b"NIL NIL NIL (1))",
            b"NIL NIL NIL 1)",
            b"NIL NIL NIL  )",
            b"NIL NIL nil)",
            b"NIL NIL NIL)\r\n",
            b" NIL)",
            b" NIL) ",
            b" NIL))",
            b" NIL )",
            b"  NIL)",
            b" nil)",
            b" NIL",
        ]
        .iter()
        .map(|s| s.to_vec())
        .collect();
        for t in out.clone() {
            for i in 0..t.len() {
                for c in *b"\" )(\\\r\x01\x80N" {
                    let mut s = t.clone();
                    s[i] = c;
                    out.push(s);
                }
            }
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..60_000 {
            let mut s = Vec::new();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = 1 + (x % 9) as usize;
            for i in 0..n {
                s.extend_from_slice(PIECES[((x >> (8 + 5 * i)) % PIECES.len() as u64) as usize]);
            }
            // (and with the rest of a message after it: the word reads have room)
            let mut t = s.clone();
            t.extend_from_slice(b" NIL)\r\n* 2 FETCH");
            out.push(s);
            out.push(t);
        }
        out
    }

    fn test_acc(start: usize) -> Acc {
        Acc {
            start,
            slots: vec![Span::EMPTY; 3],
            exts: vec![Ext::Num(1)],
            envelopes: Vec::new(),
            side: Vec::new(),
            escapes: false,
        }
    }

    /// Runs `fast` and `general` on each of [`ext_inputs`] (after a few bytes, as in a
    /// structure), in either profile: where `fast` takes the input, `general` succeeds with
    /// the same state (what `f` gives) and position. Returns how many `fast` took.
    fn fast_matches_general<T: PartialEq + fmt::Debug>(
        fast: impl Fn(&mut Parser<'_>, &mut Acc) -> Option<T>,
        general: impl Fn(&mut Parser<'_>, &mut Acc) -> PResult<T>,
    ) -> usize {
        let mut taken = 0;
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            for s in ext_inputs() {
                let mut m = b"(x ".to_vec();
                m.extend_from_slice(&s);
                let m = Bytes::from(m);
                let mut p = Parser::new(&m, &o);
                p.pos = 3;
                let mut acc = test_acc(1);
                let Some(v) = fast(&mut p, &mut acc) else {
                    assert_eq!(p.pos, 3, "{s:?}");
                    continue;
                };
                taken += 1;
                let mut q = Parser::new(&m, &o);
                q.pos = 3;
                let mut acc2 = test_acc(1);
                let w = general(&mut q, &mut acc2);
                assert_eq!(Ok(&v), w.as_ref().map_err(|_| s.clone()), "{s:?}");
                assert_eq!(p.pos, q.pos, "{s:?}");
                assert_eq!(acc.slots, acc2.slots, "{s:?}");
                assert_eq!(
                    format!("{:?}", acc.exts),
                    format!("{:?}", acc2.exts),
                    "{s:?}"
                );
                assert_eq!(acc.side, acc2.side, "{s:?}");
                assert_eq!(p.warnings.len(), q.warnings.len(), "{s:?}");
            }
        }
        taken
    }

    /// [`nil_tail`] fills the node as [`dsp_ext_general`] does, where it takes the input.
    #[test]
    fn nil_tail_matches_general() {
        let node = |n: Node| format!("{n:?}");
        let taken = fast_matches_general(
            |p, acc| {
                let mut n = Node::EMPTY;
                nil_tail(p, acc, &mut n).then(|| node(n))
            },
            |p, acc| {
                let mut n = Node::EMPTY;
                dsp_ext_general(p, acc, &mut n).map(|()| node(n))
            },
        );
        assert!(taken > 100, "{taken}");
    }

    /// [`nil_dsp_params`] takes what the general steps after a disposition's type take,
    /// where it takes the input, for the empty parameter list.
    #[test]
    fn nil_dsp_params_matches_general() {
        let taken = fast_matches_general(
            |p, _| nil_dsp_params(p).then_some(Run::default()),
            |p, acc| {
                p.sp()?;
                let r = parse_params(p, acc)?;
                p.skip_trailing_sp();
                p.expect(b')', ")")?;
                Ok(r)
            },
        );
        assert!(taken > 100, "{taken}");
    }

    /// [`quick_pair`] takes what the two [`quick_string`]s it stands for (key, then SP and
    /// value) take, with the same spans, where it takes the input.
    #[test]
    fn quick_pair_matches_quick_strings() {
        let taken = fast_matches_general(
            |p, acc| quick_pair(p, acc.start),
            |p, acc| {
                Ok((
                    quick_string(p, acc, false, b"")?,
                    quick_string(p, acc, true, b"")?,
                ))
            },
        );
        assert!(taken > 1000, "{taken}");
    }

    /// [`open_quote`] takes what `expect(b'(')` takes before a quoted string.
    #[test]
    fn open_quote_matches_general() {
        let taken = fast_matches_general(
            |p, _| open_quote(p).then_some(()),
            |p, _| {
                p.expect(b'(', "(")?;
                match p.peek() {
                    Some(b'"') => Ok(()),
                    _ => Err(p.fail("string")),
                }
            },
        );
        assert!(taken > 100, "{taken}");
    }

    /// [`quick_plain`] takes what `Parser::quick_string` takes for a `string`.
    #[test]
    fn quick_plain_matches_quick_string() {
        let taken = fast_matches_general(
            |p, acc| quick_plain(p, acc.start),
            |p, acc| {
                p.quick_string(acc.start, SIDE as usize, false, true)
                    .ok_or(Fail)
            },
        );
        assert!(taken > 1000, "{taken}");
    }

    /// [`quick_sp_plain`] takes what `Parser::quick_string` takes for SP and a `string`.
    #[test]
    fn quick_sp_plain_matches_quick_string() {
        let taken = fast_matches_general(
            |p, acc| quick_sp_plain(p, acc.start),
            |p, acc| {
                p.quick_string(acc.start, SIDE as usize, true, true)
                    .ok_or(Fail)
            },
        );
        assert!(taken > 500, "{taken}");
    }
}
