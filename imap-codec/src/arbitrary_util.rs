//! Generators shared by the `arbitrary::Arbitrary` impls (feature `arbitrary`): bytes, and a
//! bound on recursion depth (RFC 9051 §9 lets lists and search keys nest without limit; the
//! generated values stay well inside the decoder's nesting limit).

use std::cell::Cell;

use arbitrary::{Result, Unstructured};
use bytes::Bytes;

/// Up to `max` bytes, each replaced by `fallback` unless `ok`.
pub(crate) fn bytes_from(
    u: &mut Unstructured<'_>,
    max: usize,
    ok: impl Fn(u8) -> bool,
    fallback: u8,
) -> Result<Vec<u8>> {
    let n = u.int_in_range(0..=max)?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let b: u8 = u.arbitrary()?;
        v.push(if ok(b) { b } else { fallback });
    }
    Ok(v)
}

/// Deepest nesting the generated recursive values (search keys, `tagged-ext-comp` lists,
/// body structures, body extensions) reach. Well below the decoder's default nesting limit
/// (64), and small enough that generating, encoding, comparing and dropping a value never
/// comes close to exhausting the stack, however long the fuzzer's input.
pub(crate) const MAX_DEPTH: u32 = 16;

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// One level of nesting for as long as it lives; `None` past [`MAX_DEPTH`].
struct Level;

impl Level {
    fn enter() -> Option<Level> {
        DEPTH.with(|d| {
            if d.get() >= MAX_DEPTH {
                None
            } else {
                d.set(d.get() + 1);
                Some(Level)
            }
        })
    }
}

impl Drop for Level {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Runs `deeper` one nesting level down, or returns `leaf` at the depth bound.
pub(crate) fn nested<'a, T>(
    u: &mut Unstructured<'a>,
    leaf: impl FnOnce() -> T,
    deeper: impl FnOnce(&mut Unstructured<'a>) -> Result<T>,
) -> Result<T> {
    match Level::enter() {
        Some(_level) => deeper(u),
        None => Ok(leaf()),
    }
}

/// Any bytes (up to 64).
pub(crate) fn bytes(u: &mut Unstructured<'_>) -> Result<Bytes> {
    let n = u.int_in_range(0..=64)?;
    Ok(Bytes::copy_from_slice(u.bytes(n)?))
}

/// Any bytes or none.
pub(crate) fn opt_bytes(u: &mut Unstructured<'_>) -> Result<Option<Bytes>> {
    Ok(if u.arbitrary()? {
        Some(bytes(u)?)
    } else {
        None
    })
}

/// Raw arguments of an unknown command: any bytes, or (half the time) lines joined by
/// literals as announced in them (`{n}`, `{n+}`, `~{n}`), sometimes with a wrong length.
pub(crate) fn raw_args(u: &mut Unstructured<'_>) -> Result<Bytes> {
    if u.arbitrary()? {
        return bytes(u);
    }
    let mut out = Vec::new();
    for _ in 0..u.int_in_range(0..=3)? {
        out.extend_from_slice(&bytes_from(
            u,
            8,
            |c| !matches!(c, b'\r' | b'\n' | 0),
            b' ',
        )?);
        let data = bytes(u)?;
        let binary: bool = u.arbitrary()?;
        let len = if u.ratio(1u8, 16u8)? {
            data.len() + 1
        } else {
            data.len()
        };
        let plus = if u.arbitrary()? { "+" } else { "" };
        let tilde = if binary { "~" } else { "" };
        out.extend_from_slice(format!("{tilde}{{{len}{plus}}}\r\n").as_bytes());
        out.extend_from_slice(&data);
    }
    out.extend_from_slice(&bytes_from(
        u,
        8,
        |c| !matches!(c, b'\r' | b'\n' | 0),
        b' ',
    )?);
    Ok(Bytes::from(out))
}
