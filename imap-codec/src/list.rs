//! [`SmallList`]: the container for protocol lists that are short in practice (RFC 9051 §4.4
//! parenthesized lists such as `flag-list` or `mbx-list-flags`): up to `N` items are stored
//! inline, so decoding a typical list allocates nothing.
//!
//! It dereferences to a slice (`len`, `iter`, indexing, slice patterns) and converts from and
//! to `Vec`; longer lists move to the heap transparently.
//!
//! [`CodedList`]: the container for lists whose usual items are a few well-known values
//! (the system flags of a FETCH `FLAGS` list, the attributes of a LIST item): each of those
//! is held as a one-byte code, the rest in a side list.

use std::fmt;
use std::ops::{Deref, DerefMut};

use smallvec::SmallVec;

/// A list that keeps up to `N` items inline and spills to the heap beyond that.
///
/// ```
/// use imapwire_codec::list::SmallList;
///
/// let mut l: SmallList<u32, 2> = SmallList::new();
/// l.push(1);
/// l.push(2);
/// assert!(!l.spilled());
/// l.push(3);
/// assert!(l.spilled());
/// assert_eq!(l, [1, 2, 3]);
/// assert_eq!(l.iter().sum::<u32>(), 6);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SmallList<T, const N: usize>(SmallVec<[T; N]>);

impl<T, const N: usize> SmallList<T, N> {
    /// An empty list (no allocation).
    #[inline]
    pub fn new() -> Self {
        SmallList(SmallVec::new())
    }

    /// An empty list with room for `n` items (allocates only when `n > N`).
    pub fn with_capacity(n: usize) -> Self {
        SmallList(SmallVec::with_capacity(n))
    }

    /// Appends an item.
    #[inline]
    pub fn push(&mut self, item: T) {
        self.0.push(item);
    }

    /// Makes room for at least `additional` more items (on the heap when they do not fit
    /// inline).
    pub fn reserve(&mut self, additional: usize) {
        self.0.reserve(additional);
    }

    /// Removes and returns the last item.
    pub fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }

    /// Inserts an item at `index`; returns it back when `index > len`.
    pub fn insert(&mut self, index: usize, item: T) -> Result<(), T> {
        if index > self.0.len() {
            return Err(item);
        }
        self.0.insert(index, item);
        Ok(())
    }

    /// Removes and returns the item at `index`, if there is one.
    pub fn remove(&mut self, index: usize) -> Option<T> {
        (index < self.0.len()).then(|| self.0.remove(index))
    }

    /// Keeps the items for which `f` is true.
    pub fn retain(&mut self, mut f: impl FnMut(&T) -> bool) {
        self.0.retain(|x| f(x));
    }

    /// Shortens the list to `len` items.
    pub fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }

    /// Removes every item.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Whether the items live on the heap (more than `N` were stored at some point).
    pub fn spilled(&self) -> bool {
        self.0.spilled()
    }

    /// The items as a `Vec` (reuses the heap buffer when the list has spilled).
    pub fn into_vec(self) -> Vec<T> {
        self.0.into_vec()
    }

    /// The items as a slice.
    #[inline]
    pub fn as_slice(&self) -> &[T] {
        &self.0
    }
}

impl<T, const N: usize> Default for SmallList<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: fmt::Debug, const N: usize> fmt::Debug for SmallList<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl<T, const N: usize> Deref for SmallList<T, N> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T, const N: usize> DerefMut for SmallList<T, N> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}

impl<T, const N: usize> AsRef<[T]> for SmallList<T, N> {
    fn as_ref(&self) -> &[T] {
        &self.0
    }
}

impl<T, const N: usize> From<Vec<T>> for SmallList<T, N> {
    fn from(v: Vec<T>) -> Self {
        SmallList(SmallVec::from_vec(v))
    }
}

impl<T, const N: usize> From<SmallList<T, N>> for Vec<T> {
    fn from(l: SmallList<T, N>) -> Self {
        l.into_vec()
    }
}

impl<T, const N: usize, const M: usize> From<[T; M]> for SmallList<T, N> {
    fn from(a: [T; M]) -> Self {
        a.into_iter().collect()
    }
}

impl<T: Clone, const N: usize> From<&[T]> for SmallList<T, N> {
    fn from(s: &[T]) -> Self {
        s.iter().cloned().collect()
    }
}

impl<T, const N: usize> FromIterator<T> for SmallList<T, N> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        SmallList(iter.into_iter().collect())
    }
}

impl<T, const N: usize> Extend<T> for SmallList<T, N> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

/// Owning iterator of a [`SmallList`].
pub struct IntoIter<T, const N: usize>(smallvec::IntoIter<[T; N]>);

impl<T: fmt::Debug, const N: usize> fmt::Debug for IntoIter<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.as_slice().iter()).finish()
    }
}

impl<T, const N: usize> Iterator for IntoIter<T, N> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.0.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<T, const N: usize> DoubleEndedIterator for IntoIter<T, N> {
    fn next_back(&mut self) -> Option<T> {
        self.0.next_back()
    }
}

impl<T, const N: usize> ExactSizeIterator for IntoIter<T, N> {}

impl<T, const N: usize> IntoIterator for SmallList<T, N> {
    type Item = T;
    type IntoIter = IntoIter<T, N>;
    fn into_iter(self) -> IntoIter<T, N> {
        IntoIter(self.0.into_iter())
    }
}

impl<'a, T, const N: usize> IntoIterator for &'a SmallList<T, N> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'a, T, const N: usize> IntoIterator for &'a mut SmallList<T, N> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter_mut()
    }
}

impl<T: PartialEq, const N: usize> PartialEq<Vec<T>> for SmallList<T, N> {
    fn eq(&self, other: &Vec<T>) -> bool {
        self.0[..] == other[..]
    }
}

impl<T: PartialEq, const N: usize> PartialEq<[T]> for SmallList<T, N> {
    fn eq(&self, other: &[T]) -> bool {
        self.0[..] == *other
    }
}

impl<T: PartialEq, const N: usize, const M: usize> PartialEq<[T; M]> for SmallList<T, N> {
    fn eq(&self, other: &[T; M]) -> bool {
        self.0[..] == other[..]
    }
}

/// Codes held inline by a [`CodedList`].
const CODES: usize = 7;
/// The code of an item held in a [`CodedList`]'s side list.
pub(crate) const OTHER_CODE: u8 = u8::MAX;
/// A [`CodedList`]'s length byte when every item is in its side list.
const SPILLED: u8 = u8::MAX;

pub(crate) mod private {
    /// The table behind a [`CodedList`](super::CodedList)'s codes (sealed: implemented by
    /// the crate's item types only).
    pub trait Known: Sized + Clone + 'static {
        /// The well-known values, in code order (fewer than 255).
        fn known() -> &'static [Self];
        /// The code of a well-known value: its place in [`known`](Self::known).
        fn code(&self) -> Option<u8>;
    }
}

/// An item type of [`CodedList`]: [`MailboxAttribute`](crate::flag::MailboxAttribute) (the
/// known attributes have codes) and [`FlagFetch`](crate::flag::FlagFetch) (the five system
/// flags and `\Recent` have codes). Sealed.
pub trait Coded: private::Known {}

/// A list of items in order whose well-known values (see [`Coded`]) are held as one-byte
/// codes: up to seven items as codes, every other item in a side list (up to `K` of those
/// inline, then on the heap); a longer list keeps every item in the side list. So the usual
/// list (a few system flags, a few known attributes) moves and drops as a few words and
/// decodes without allocating.
///
/// Read it like a slice: [`iter`](Self::iter) (`&T` in order; a coded item is a reference
/// into a static table), [`len`](Self::len), [`get`](Self::get), [`contains`](Self::contains);
/// build it with [`push`](Self::push), `From<Vec<_>>`, `From<[_; N]>` or `collect()`.
/// Equality and hashing are by the items in order, whichever way they are held; `Debug`
/// prints the list. Used as [`MailboxAttributes`](crate::flag::MailboxAttributes) and
/// [`FetchFlags`](crate::flag::FetchFlags).
#[derive(Clone)]
pub struct CodedList<T, const K: usize> {
    /// `len` codes in order: a known item's place in `T::known()`, or `OTHER_CODE` for the
    /// next item of `other`.
    codes: [u8; CODES],
    /// The number of codes, or `SPILLED`: every item is in `other`.
    len: u8,
    /// The items coded `OTHER_CODE`, in order; all of them when `len` is `SPILLED`.
    other: SmallVec<[T; K]>,
}

impl<T: Coded, const K: usize> CodedList<T, K> {
    /// No items (no allocation).
    pub const fn new() -> Self {
        CodedList {
            codes: [0; CODES],
            len: 0,
            other: SmallVec::new_const(),
        }
    }

    /// The number of items.
    #[inline]
    pub fn len(&self) -> usize {
        if self.len == SPILLED {
            self.other.len()
        } else {
            self.len as usize
        }
    }

    /// Whether there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The items in order.
    #[inline]
    pub fn iter(&self) -> CodedIter<'_, T> {
        let codes = if self.len == SPILLED {
            &[][..]
        } else {
            &self.codes[..(self.len as usize).min(CODES)]
        };
        CodedIter {
            codes: codes.iter(),
            other: self.other.iter(),
        }
    }

    /// The item at `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<&T> {
        self.iter().nth(index)
    }

    /// Whether `x` is one of the items.
    pub fn contains(&self, x: &T) -> bool
    where
        T: PartialEq,
    {
        self.iter().any(|y| y == x)
    }

    /// Appends an item.
    pub fn push(&mut self, x: T) {
        match x.code() {
            Some(c) => self.push_known(c),
            None => self.push_code(OTHER_CODE, Some(x)),
        }
    }

    /// Drops the side list's items in place (the list is to be dropped next: its codes may
    /// then name items that are gone) and returns whether what is left owns nothing (the
    /// side list is not on the heap), so that forgetting it leaks nothing.
    #[inline]
    pub(crate) fn shed(&mut self) -> bool {
        if !self.other.is_empty() {
            self.other.clear();
        }
        !self.other.spilled()
    }

    /// The items as a `Vec`.
    pub fn to_vec(&self) -> Vec<T>
    where
        T: Clone,
    {
        self.iter().cloned().collect()
    }

    /// Appends the known item of code `c` (a place in `T::known()`).
    #[inline]
    pub(crate) fn push_known(&mut self, c: u8) {
        if (self.len as usize) < CODES {
            self.codes[self.len as usize] = c;
            self.len += 1;
        } else {
            self.push_code(c, None);
        }
    }

    /// Appends `code` (`other`: the item of `OTHER_CODE`), moving every item to the side
    /// list when the codes are full.
    #[inline(never)]
    fn push_code(&mut self, code: u8, other: Option<T>) {
        let x = match other {
            Some(x) => x,
            None => match T::known().get(code as usize) {
                Some(k) => k.clone(),
                None => return,
            },
        };
        if (self.len as usize) < CODES {
            self.codes[self.len as usize] = OTHER_CODE;
            self.len += 1;
        } else if self.len != SPILLED {
            let mut all = SmallVec::with_capacity(CODES * 2);
            all.extend(self.iter().cloned());
            self.other = all;
            self.len = SPILLED;
        }
        self.other.push(x);
    }
}

/// The iterator of [`CodedList::iter`].
#[derive(Debug)]
pub struct CodedIter<'a, T> {
    codes: std::slice::Iter<'a, u8>,
    /// The side list's items not yet read (every item when the list has spilled: then
    /// `codes` is empty; otherwise each is read at its `OTHER_CODE`, so it is empty once
    /// `codes` is).
    other: std::slice::Iter<'a, T>,
}

impl<T> Clone for CodedIter<'_, T> {
    fn clone(&self) -> Self {
        CodedIter {
            codes: self.codes.clone(),
            other: self.other.clone(),
        }
    }
}

impl<'a, T: Coded> Iterator for CodedIter<'a, T> {
    type Item = &'a T;
    #[inline]
    fn next(&mut self) -> Option<&'a T> {
        match self.codes.next() {
            None | Some(&OTHER_CODE) => self.other.next(),
            Some(&c) => T::known().get(c as usize),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = if self.codes.len() == 0 {
            self.other.len()
        } else {
            self.codes.len()
        };
        (n, Some(n))
    }
}

impl<T: Coded> DoubleEndedIterator for CodedIter<'_, T> {
    fn next_back(&mut self) -> Option<Self::Item> {
        match self.codes.next_back() {
            None | Some(&OTHER_CODE) => self.other.next_back(),
            Some(&c) => T::known().get(c as usize),
        }
    }
}

impl<T: Coded> ExactSizeIterator for CodedIter<'_, T> {}

impl<'a, T: Coded, const K: usize> IntoIterator for &'a CodedList<T, K> {
    type Item = &'a T;
    type IntoIter = CodedIter<'a, T>;
    fn into_iter(self) -> CodedIter<'a, T> {
        self.iter()
    }
}

impl<T: Coded, const K: usize> Default for CodedList<T, K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Coded + PartialEq, const K: usize> PartialEq for CodedList<T, K> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<T: Coded + Eq, const K: usize> Eq for CodedList<T, K> {}

impl<T: Coded + std::hash::Hash, const K: usize> std::hash::Hash for CodedList<T, K> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_usize(self.len());
        for x in self {
            x.hash(state);
        }
    }
}

impl<T: Coded + PartialEq, const K: usize> PartialEq<[T]> for CodedList<T, K> {
    fn eq(&self, other: &[T]) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<T: Coded + PartialEq, const K: usize> PartialEq<Vec<T>> for CodedList<T, K> {
    fn eq(&self, other: &Vec<T>) -> bool {
        *self == other[..]
    }
}

impl<T: Coded + PartialEq, const K: usize, const M: usize> PartialEq<[T; M]> for CodedList<T, K> {
    fn eq(&self, other: &[T; M]) -> bool {
        *self == other[..]
    }
}

impl<T: Coded + fmt::Debug, const K: usize> fmt::Debug for CodedList<T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: Coded, const K: usize> FromIterator<T> for CodedList<T, K> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut v = CodedList::new();
        v.extend(iter);
        v
    }
}

impl<T: Coded, const K: usize> Extend<T> for CodedList<T, K> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for x in iter {
            self.push(x);
        }
    }
}

impl<T: Coded, const K: usize> From<Vec<T>> for CodedList<T, K> {
    fn from(v: Vec<T>) -> Self {
        v.into_iter().collect()
    }
}

impl<T: Coded, const K: usize, const M: usize> From<[T; M]> for CodedList<T, K> {
    fn from(a: [T; M]) -> Self {
        a.into_iter().collect()
    }
}

impl<T: Coded + Clone, const K: usize> From<&[T]> for CodedList<T, K> {
    fn from(s: &[T]) -> Self {
        s.iter().cloned().collect()
    }
}

impl<T: Coded, const K: usize> From<CodedList<T, K>> for Vec<T> {
    fn from(a: CodedList<T, K>) -> Self {
        if a.len == SPILLED {
            a.other.into_vec()
        } else {
            a.iter().cloned().collect()
        }
    }
}

impl<T: Coded, const K: usize> ListSink<T> for CodedList<T, K> {
    #[inline]
    fn reserve_short_list(&mut self) {}
    #[inline]
    fn push_item(&mut self, item: T) {
        self.push(item);
    }
    #[inline]
    fn item_count(&self) -> usize {
        self.len()
    }
}

#[cfg(feature = "arbitrary")]
impl<'a, T: Coded + arbitrary::Arbitrary<'a>, const K: usize> arbitrary::Arbitrary<'a>
    for CodedList<T, K>
{
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        u.arbitrary_iter()?.collect()
    }
}

/// A list the decoders fill item by item: `Vec` or [`SmallList`].
pub(crate) trait ListSink<T>: Sized {
    /// Makes room for a short protocol list in an empty list (`Vec`: room for 4, one
    /// allocation for the usual lists instead of growing from 0; `SmallList`: nothing, the
    /// items go inline).
    fn reserve_short_list(&mut self);
    /// Appends an item.
    fn push_item(&mut self, item: T);
    /// The number of items.
    fn item_count(&self) -> usize;
}

impl<T> ListSink<T> for Vec<T> {
    #[inline]
    fn reserve_short_list(&mut self) {
        self.reserve(4);
    }
    #[inline]
    fn push_item(&mut self, item: T) {
        self.push(item);
    }
    #[inline]
    fn item_count(&self) -> usize {
        self.len()
    }
}

impl<T, const N: usize> ListSink<T> for SmallList<T, N> {
    #[inline]
    fn reserve_short_list(&mut self) {}
    #[inline]
    fn push_item(&mut self, item: T) {
        self.0.push(item);
    }
    #[inline]
    fn item_count(&self) -> usize {
        self.0.len()
    }
}

#[cfg(feature = "arbitrary")]
impl<'a, T: arbitrary::Arbitrary<'a>, const N: usize> arbitrary::Arbitrary<'a> for SmallList<T, N> {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        u.arbitrary_iter()?.collect()
    }
}

#[cfg(test)]
mod tests {
    use super::SmallList;

    #[test]
    fn inline_then_spilled_keeps_order() {
        let mut l: SmallList<String, 2> = SmallList::new();
        assert!(l.is_empty());
        l.push("a".into());
        l.push("b".into());
        assert!(!l.spilled());
        l.push("c".into());
        assert!(l.spilled());
        assert_eq!(l.len(), 3);
        assert_eq!(l[2], "c");
        assert_eq!(l.clone().into_vec(), vec!["a", "b", "c"]);
        assert_eq!(l.remove(0).as_deref(), Some("a"));
        assert_eq!(l.remove(5), None);
        assert_eq!(l.insert(9, "x".into()), Err("x".to_string()));
        assert_eq!(l.into_iter().rev().collect::<Vec<_>>(), vec!["c", "b"]);
    }

    #[test]
    fn conversions_and_equality() {
        let a: SmallList<u8, 4> = vec![1, 2, 3].into();
        let b: SmallList<u8, 4> = [1, 2, 3].into();
        let c: SmallList<u8, 4> = (1..=3).collect();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(a, vec![1, 2, 3]);
        assert_ne!(a, [1, 2]);
        assert_eq!(format!("{a:?}"), "[1, 2, 3]");
        assert!(!a.spilled());
        let v: Vec<u8> = a.into();
        assert_eq!(v, [1, 2, 3]);
    }
}
