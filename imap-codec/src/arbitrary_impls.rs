//! `arbitrary::Arbitrary` for the leaf value types (feature `arbitrary`), generating only
//! values the constructors accept, so that fuzzers can check that every value the API lets
//! you build encodes to valid protocol that decodes to the same value.

use arbitrary::{Arbitrary, Result, Unstructured};
use bytes::Bytes;

use crate::core::{Atom, Charset, IString, Secret, Tag, Text};
use crate::datetime::{Date, DateTime};
use crate::mailbox::{ListMailbox, Mailbox};
use crate::sequence::{SeqNum, Uid, UidValidity};

fn bytes_from(
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

impl<'a> Arbitrary<'a> for Atom {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut v = bytes_from(u, 16, crate::parse::class::is_atom_char, b'x')?;
        if v.is_empty() {
            v.push(b'a');
        }
        Ok(Atom::new(Bytes::from(v)).expect("valid atom"))
    }
}

impl<'a> Arbitrary<'a> for Tag {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut v = bytes_from(u, 8, crate::parse::class::is_tag_char, b't')?;
        if v.is_empty() {
            v.push(b'A');
        }
        Ok(Tag::new(Bytes::from(v)).expect("valid tag"))
    }
}

impl<'a> Arbitrary<'a> for IString {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let v = bytes_from(u, 40, |b| b != 0, b'_')?;
        Ok(IString::new(Bytes::from(v)).expect("valid string"))
    }
}

impl<'a> Arbitrary<'a> for Text {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut v = bytes_from(u, 40, crate::parse::class::is_text_char, b' ')?;
        // Text right after a status keyword must not look like a response code.
        if v.first() == Some(&b'[') {
            v[0] = b'T';
        }
        Ok(Text::new(Bytes::from(v)).expect("valid text"))
    }
}

impl<'a> Arbitrary<'a> for Charset {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut v = bytes_from(
            u,
            12,
            |b| crate::parse::class::is_text_char(b) && b < 0x80,
            b'8',
        )?;
        if v.is_empty() {
            v.extend_from_slice(b"UTF-8");
        }
        Ok(Charset::new(Bytes::from(v)).expect("valid charset"))
    }
}

impl<'a, T: Arbitrary<'a>> Arbitrary<'a> for Secret<T> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(Secret::new(T::arbitrary(u)?))
    }
}

impl<'a> Arbitrary<'a> for Mailbox {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let s = IString::arbitrary(u)?;
        Ok(Mailbox::new(s.to_bytes()).expect("valid mailbox"))
    }
}

impl<'a> Arbitrary<'a> for ListMailbox {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let v = bytes_from(u, 20, |b| b != 0, b'%')?;
        Ok(ListMailbox::new(Bytes::from(v)).expect("valid pattern"))
    }
}

macro_rules! nz_arbitrary {
    ($($t:ty),*) => {$(
        impl<'a> Arbitrary<'a> for $t {
            fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
                let v: u32 = u.arbitrary()?;
                Ok(<$t>::new(v.max(1)).expect("non-zero"))
            }
        }
    )*};
}
nz_arbitrary!(SeqNum, Uid, UidValidity);

impl<'a> Arbitrary<'a> for Date {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let y = u.int_in_range(0..=9999)?;
        let m = u.int_in_range(1..=12)?;
        let d = u.int_in_range(1..=28)?;
        Ok(Date::new(y, m, d).expect("valid date"))
    }
}

impl<'a> Arbitrary<'a> for DateTime {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let d = Date::arbitrary(u)?;
        let h = u.int_in_range(0..=23)?;
        let mi = u.int_in_range(0..=59)?;
        let s = u.int_in_range(0..=60)?;
        let z = u.int_in_range(-5999..=5999)?;
        Ok(DateTime::new(d, h, mi, s, z).expect("valid date-time"))
    }
}
