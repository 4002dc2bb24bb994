//! Values the async client returns (RFC 9051 §7.3 mailbox status, §7.5 message data, RFC 6154
//! special-use roles).

use bytes::Bytes;
use imapwire_codec::Encode;
use imapwire_codec::fetch::MessageDataItem;
use imapwire_codec::flag::{FetchFlags, Flag, FlagFetch};
use imapwire_codec::list::CodedIter;
use imapwire_codec::list::SmallList;
use imapwire_codec::mailbox::{Mailbox, decode_utf7};
use imapwire_codec::response::ListItem;
use imapwire_session::special_use::{Role, SpecialUse};

/// The wire form of a value, as text.
pub(crate) fn wire<T: Encode>(t: &T) -> String {
    String::from_utf8_lossy(&t.to_vec_inline_literals()).into_owned()
}

/// A mailbox name as Unicode: UTF-8 as sent when the server speaks UTF-8, else decoded from
/// modified UTF-7 (falling back to the raw bytes when that fails).
pub(crate) fn mailbox_name(m: &Mailbox, utf8: bool) -> String {
    match m {
        Mailbox::Inbox => "INBOX".into(),
        other => {
            let b = other.as_bytes();
            if !utf8 {
                if let Ok(s) = decode_utf7(b) {
                    return s;
                }
            }
            String::from_utf8_lossy(b).into_owned()
        }
    }
}

/// One mailbox from LIST.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MailboxEntry {
    /// The name, as Unicode.
    pub name: String,
    /// The hierarchy delimiter, if any.
    pub delimiter: Option<char>,
    /// The attributes as sent (`\HasNoChildren`, `\Sent`, ...).
    pub attributes: Vec<String>,
    /// The special-use role (RFC 6154), from the attributes.
    pub special_use: Option<Role>,
    /// The item as decoded.
    pub raw: ListItem,
}

impl MailboxEntry {
    pub(crate) fn new(item: ListItem, utf8: bool) -> Self {
        MailboxEntry {
            name: mailbox_name(&item.mailbox, utf8),
            delimiter: item.delimiter.map(|d| char::from(d.get())),
            attributes: item.attributes.iter().map(wire).collect(),
            special_use: item.attributes.iter().find_map(Role::from_attribute),
            raw: item,
        }
    }
}

/// The special-use roles of `entries` (a LIST's answer): those marked by the server
/// (RFC 6154 attributes), then, for roles marked nowhere, a guess from well-known names
/// ([`SpecialUse::guess_missing`]).
pub fn special_use(entries: &[MailboxEntry]) -> SpecialUse {
    let items = entries.iter().map(|e| &e.raw);
    let mut found = SpecialUse::from_list(items.clone());
    found.guess_missing(items);
    found
}

/// The attribute of a special-use role (`\Sent`, ...).
pub fn role_attribute(role: Role) -> &'static str {
    match role {
        Role::Sent => "\\Sent",
        Role::Drafts => "\\Drafts",
        Role::Trash => "\\Trash",
        Role::Junk => "\\Junk",
        Role::Archive => "\\Archive",
        Role::All => "\\All",
        Role::Flagged => "\\Flagged",
        _ => "\\Unknown",
    }
}

/// The selected mailbox's state after SELECT or EXAMINE (RFC 9051 §6.3.2; RFC 7162).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MailboxInfo {
    /// Messages in the mailbox.
    pub exists: u32,
    /// `UIDVALIDITY`, when sent.
    pub uidvalidity: Option<u32>,
    /// `UIDNEXT`, when sent.
    pub uidnext: Option<u32>,
    /// `HIGHESTMODSEQ`, when sent.
    pub highestmodseq: Option<u64>,
    /// Selected read-only (EXAMINE, or `[READ-ONLY]`).
    pub read_only: bool,
}

/// The attributes of one message from a FETCH or STORE response.
///
/// Built without a copy of what was decoded: `UID`, `MODSEQ` and `RFC822.SIZE` become fields,
/// every other item stays as the codec produced it (the first without an allocation of its
/// own: the usual `(UID FLAGS MODSEQ)` answer keeps only its `FLAGS` item, inline), and
/// [`flags`](Self::flags) reads the `FLAGS` item in place. Kept small (160 bytes) because it
/// is moved several times on its way from the connection to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageData {
    /// Its sequence number (0 in a `UID FETCH` answer that a server sent without one).
    pub seq: u32,
    /// Its UID, when sent.
    pub uid: Option<u32>,
    /// `RFC822.SIZE`, when sent.
    pub size: Option<u64>,
    /// `MODSEQ`, when sent.
    pub modseq: Option<u64>,
    /// The other items as decoded (all but `UID`, `MODSEQ` and `RFC822.SIZE`, which are the
    /// fields above), in the order sent (streamed bodies empty there: they came as chunks).
    /// A [`SmallList`] dereferences to a slice: `data.items.iter()`.
    pub items: SmallList<MessageDataItem, 1>,
}

impl MessageData {
    /// The data of message `seq` from the decoded FETCH items, taken out of `items` where
    /// they lie (the driver reads them in the session's event queue): each item is moved
    /// once, into the fields or into [`items`](Self::items); a list that had spilled to the
    /// heap keeps its allocation. What is left in `items` is to be dropped.
    pub(crate) fn take_items(seq: u32, items: &mut SmallList<MessageDataItem, 3>) -> Self {
        let mut d = MessageData {
            seq,
            uid: None,
            size: None,
            modseq: None,
            items: SmallList::new(),
        };
        if items.spilled() {
            // More than three items (`fetch-headers`-like answers): keep the heap buffer.
            let mut v = std::mem::take(items).into_vec();
            v.retain(|it| !d.field(it));
            d.items = v.into();
            return d;
        }
        for it in items.iter_mut() {
            if !d.field(it) {
                // A placeholder without a destructor of its own takes the item's place.
                d.items
                    .push(std::mem::replace(it, MessageDataItem::ModSeq(0)));
            }
        }
        d
    }

    /// Stores `it` in its field when it has one (true), else leaves it (false).
    fn field(&mut self, it: &MessageDataItem) -> bool {
        match it {
            MessageDataItem::Uid(u) => self.uid = Some(u.get()),
            MessageDataItem::Rfc822Size(n) => self.size = Some(*n),
            MessageDataItem::ModSeq(m) => self.modseq = Some(*m),
            _ => return false,
        }
        true
    }

    #[cfg(test)]
    fn new(seq: u32, mut items: SmallList<MessageDataItem, 3>) -> Self {
        Self::take_items(seq, &mut items)
    }

    /// Its flags as sent (`\Recent` left out: IMAP4rev2 dropped it); `None` when the
    /// response had no `FLAGS` item. A view of the decoded item: nothing is copied.
    pub fn flags(&self) -> Option<Flags<'_>> {
        self.items.iter().find_map(|it| match it {
            MessageDataItem::Flags(f) => Some(Flags(f)),
            _ => None,
        })
    }

    /// Its flags as text ([`Flags::to_strings`]); empty when the response had no `FLAGS`
    /// item (use [`flags`](Self::flags) to tell that from an empty one).
    pub fn flag_strings(&self) -> Vec<String> {
        self.flags().map(|f| f.to_strings()).unwrap_or_default()
    }

    /// The total length of the inline (not streamed) body values.
    pub(crate) fn inline_body_len(&self) -> usize {
        self.items
            .iter()
            .map(|it| match it {
                MessageDataItem::BodySection { data, .. }
                | MessageDataItem::Rfc822(data)
                | MessageDataItem::Rfc822Header(data)
                | MessageDataItem::Rfc822Text(data) => {
                    data.as_ref().map_or(0, |s| s.as_bytes().len())
                }
                MessageDataItem::Binary { data: Some(b), .. } => b.len(),
                _ => 0,
            })
            .sum()
    }

    /// The inline (not streamed) body values, in order: `BODY[...]`, `BINARY[...]`, `RFC822`.
    pub(crate) fn take_inline_bodies(&mut self) -> Vec<Bytes> {
        let mut out = Vec::new();
        for it in &mut self.items {
            match it {
                MessageDataItem::BodySection { data, .. }
                | MessageDataItem::Rfc822(data)
                | MessageDataItem::Rfc822Header(data)
                | MessageDataItem::Rfc822Text(data) => {
                    if let Some(s) = data.as_ref().filter(|s| !s.as_bytes().is_empty()) {
                        out.push(share_or_copy(s.as_bytes(), || s.to_bytes()));
                    }
                }
                MessageDataItem::Binary { data: Some(b), .. } if !b.is_empty() => {
                    out.push(share_or_copy(b, || b.clone()));
                }
                _ => {}
            }
        }
        out
    }
}

/// Bodies from this size on are handed out sharing the receive buffer they were decoded
/// from; smaller ones are copied, so that keeping a small body does not keep a whole read
/// buffer alive.
const SHARE_BODIES_FROM: usize = 16 * 1024;

/// `b` itself (`share()`, no copy) when it is large, else a copy of it.
fn share_or_copy(b: &[u8], share: impl FnOnce() -> Bytes) -> Bytes {
    if b.len() >= SHARE_BODIES_FROM {
        share()
    } else {
        Bytes::copy_from_slice(b)
    }
}

/// A flag as sent (`\Seen`, `$Forwarded`, `\Foo`): what its `Display` writes, without the
/// formatting machinery (this runs for every flag of every fetched message).
pub(crate) fn flag_text(f: &Flag) -> String {
    match f {
        Flag::Keyword(a) => a.as_str().to_owned(),
        Flag::Extension(a) => {
            let mut s = String::with_capacity(a.as_str().len() + 1);
            s.push('\\');
            s.push_str(a.as_str());
            s
        }
        other => match other.known_name() {
            Some(n) => n.to_owned(),
            None => other.to_string(),
        },
    }
}

/// A message's flags (RFC 9051 §2.3.2) as a FETCH response sent them, `\Recent` left out:
/// a view of the decoded `FLAGS` item inside [`MessageData::items`], from
/// [`MessageData::flags`]. Names compare without regard to ASCII case, as IMAP's flags do;
/// [`to_strings`](Self::to_strings) gives owned text.
#[derive(Clone, Copy)]
pub struct Flags<'a>(&'a FetchFlags);

impl<'a> Flags<'a> {
    /// The flags in the order sent.
    pub fn iter(&self) -> FlagIter<'a> {
        FlagIter(self.0.iter())
    }

    /// How many flags there are.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Whether the flag named `name` is set: a system flag with its backslash (`\Seen`,
    /// `\Foo`) or a keyword (`$Forwarded`), without regard to ASCII case.
    pub fn contains(&self, name: &str) -> bool {
        self.iter().any(|f| flag_is(f, name))
    }

    /// The flags as text, as sent (what each flag's `Display` writes: `\Seen`,
    /// `$Forwarded`).
    pub fn to_strings(&self) -> Vec<String> {
        self.iter().map(flag_text).collect()
    }
}

impl std::fmt::Debug for Flags<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter().map(flag_text)).finish()
    }
}

/// Equal when the same flags were sent in the same order (names compared as sent).
impl PartialEq for Flags<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Flags<'_> {}

impl<'a> IntoIterator for Flags<'a> {
    type Item = &'a Flag;
    type IntoIter = FlagIter<'a>;
    fn into_iter(self) -> FlagIter<'a> {
        self.iter()
    }
}

/// The flags of a [`Flags`], in the order sent.
#[derive(Debug, Clone)]
pub struct FlagIter<'a>(CodedIter<'a, FlagFetch>);

impl<'a> Iterator for FlagIter<'a> {
    type Item = &'a Flag;
    fn next(&mut self) -> Option<&'a Flag> {
        self.0.find_map(|f| match f {
            FlagFetch::Flag(f) => Some(f),
            FlagFetch::Recent => None,
        })
    }
}

/// Whether `f` is the flag named `name` (its text as sent, ASCII case ignored).
fn flag_is(f: &Flag, name: &str) -> bool {
    match f {
        Flag::Keyword(a) => a.eq_ignore_case(name.as_bytes()),
        Flag::Extension(a) => name
            .strip_prefix('\\')
            .is_some_and(|n| a.eq_ignore_case(n.as_bytes())),
        other => match other.known_name() {
            Some(k) => k.eq_ignore_ascii_case(name),
            None => other.to_string().eq_ignore_ascii_case(name),
        },
    }
}

/// An event of the selected mailbox while IDLE runs (RFC 9051 §7.4, RFC 7162 §3.2.10).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdleEvent {
    /// The mailbox has `exists` messages now.
    Exists {
        /// The new count.
        exists: u32,
    },
    /// Message `seq` was expunged.
    Expunge {
        /// Its sequence number before the removal.
        seq: u32,
    },
    /// Messages removed, by UID (QRESYNC).
    Vanished {
        /// The UID set as sent (`3:5,9`).
        uids: String,
        /// `(EARLIER)`.
        earlier: bool,
    },
    /// Flags of a message changed.
    Flags {
        /// Its sequence number.
        seq: u32,
        /// Its UID, when sent.
        uid: Option<u32>,
        /// Its flags now (`\Recent` left out).
        flags: Vec<String>,
    },
}

/// What SEARCH returned (RFC 9051 §6.4.4; ESEARCH RFC 4731 when the server offers it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SearchResult {
    /// The matching message numbers (UIDs for a UID SEARCH), ascending.
    pub ids: Vec<u32>,
    /// The highest MODSEQ of the matches (CONDSTORE), when sent.
    pub modseq: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path writes what `Display` writes, for every kind of flag.
    #[test]
    fn flag_text_is_the_display_form() {
        let mut flags = vec![
            Flag::Answered,
            Flag::Flagged,
            Flag::Deleted,
            Flag::Seen,
            Flag::Draft,
            Flag::keyword("$Forwarded").unwrap(),
            Flag::keyword("$label1").unwrap(),
        ];
        flags.push(Flag::Extension(
            imapwire_codec::core::Atom::try_from("Foo").unwrap(),
        ));
        for f in &flags {
            assert_eq!(flag_text(f), f.to_string(), "{f:?}");
        }
        assert_eq!(flag_text(&Flag::Seen), "\\Seen");
        assert_eq!(flag_text(&flags[7]), "\\Foo");
    }

    fn item_flags(list: Vec<FlagFetch>) -> MessageDataItem {
        MessageDataItem::Flags(list.into())
    }

    /// UID, MODSEQ and RFC822.SIZE become the fields (the last one sent wins); every other
    /// item stays in `items` in the order sent, spilling past the first.
    #[test]
    fn fields_taken_out_other_items_kept_in_order() {
        let uid = |n| MessageDataItem::Uid(imapwire_codec::sequence::Uid::new(n).unwrap());
        let flags = item_flags(vec![FlagFetch::Flag(Flag::Seen)]);
        let gm = MessageDataItem::GmailMsgId(9);
        let bs = MessageDataItem::BinarySize {
            section: None,
            size: 5,
        };
        let d = MessageData::new(
            4,
            vec![
                MessageDataItem::ModSeq(12),
                gm.clone(),
                uid(3),
                MessageDataItem::Rfc822Size(2048),
                flags.clone(),
                bs.clone(),
            ]
            .into(),
        );
        assert_eq!(
            (d.seq, d.uid, d.size, d.modseq),
            (4, Some(3), Some(2048), Some(12))
        );
        assert_eq!(d.items, [gm, flags.clone(), bs]);
        assert!(d.items.spilled(), "the spilled list's heap buffer is kept");
        assert!(d.flags().unwrap().contains("\\Seen"));

        let usual = MessageData::new(
            1,
            vec![uid(1), flags.clone(), MessageDataItem::ModSeq(5)].into(),
        );
        assert_eq!(usual.items, [flags]);
        assert!(
            !usual.items.spilled(),
            "the usual answer's one item is inline"
        );
        let only = MessageData::new(2, vec![uid(2)].into());
        assert!(only.items.is_empty());
        assert_eq!(only.uid, Some(2));
    }

    /// The value is moved several times per fetched message: keep it small.
    #[test]
    fn message_data_stays_small() {
        assert!(std::mem::size_of::<MessageData>() <= 160);
    }

    /// `flags` reads the FLAGS item in place: `\Recent` left out, names as sent, compared
    /// without regard to case; no FLAGS item is `None`, an empty one is empty.
    #[test]
    fn flags_view_of_the_decoded_item() {
        let ext = Flag::Extension(imapwire_codec::core::Atom::try_from("Foo").unwrap());
        let list = vec![
            FlagFetch::Flag(Flag::Seen),
            FlagFetch::Recent,
            FlagFetch::Flag(Flag::keyword("$Forwarded").unwrap()),
            FlagFetch::Flag(ext.clone()),
            FlagFetch::Flag(Flag::Draft),
        ];
        let uid = MessageDataItem::Uid(imapwire_codec::sequence::Uid::new(7).unwrap());
        let d = MessageData::new(3, vec![uid.clone(), item_flags(list.clone())].into());
        assert_eq!(d.uid, Some(7));
        assert_eq!(d.items.len(), 1, "the items without a field of their own");
        assert!(matches!(d.items[0], MessageDataItem::Flags(_)));
        let f = d.flags().unwrap();
        assert_eq!(f.len(), 4);
        assert!(!f.is_empty());
        assert_eq!(f.to_strings(), ["\\Seen", "$Forwarded", "\\Foo", "\\Draft"]);
        let want: Vec<&Flag> = list
            .iter()
            .filter_map(|x| match x {
                FlagFetch::Flag(f) => Some(f),
                FlagFetch::Recent => None,
            })
            .collect();
        assert_eq!(f.iter().collect::<Vec<_>>(), want);
        assert_eq!(f.into_iter().count(), 4);
        for name in ["\\Seen", "\\SEEN", "$forwarded", "\\foo", "\\Draft"] {
            assert!(f.contains(name), "{name}");
        }
        for name in [
            "\\Recent",
            "Seen",
            "\\Flagged",
            "$Forward",
            "Foo",
            "\\$Forwarded",
            "",
        ] {
            assert!(!f.contains(name), "{name}");
        }
        assert_eq!(
            format!("{f:?}"),
            r#"["\\Seen", "$Forwarded", "\\Foo", "\\Draft"]"#
        );
        assert_eq!(f, f.clone());
        let other = MessageData::new(
            1,
            vec![item_flags(vec![FlagFetch::Flag(Flag::Seen)])].into(),
        );
        assert_ne!(f, other.flags().unwrap());

        let none = MessageData::new(1, vec![uid].into());
        assert!(none.flags().is_none());
        let recent_only = MessageData::new(1, vec![item_flags(vec![FlagFetch::Recent])].into());
        let empty = recent_only.flags().unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.len(), 0);
        assert!(empty.to_strings().is_empty());
        assert!(recent_only.flag_strings().is_empty());
        assert!(none.flag_strings().is_empty());
        assert_eq!(
            d.flag_strings(),
            ["\\Seen", "$Forwarded", "\\Foo", "\\Draft"]
        );
    }
}
