//! Finding the special-use mailboxes (RFC 6154 §2; RFC 9051 §7.3.1 LIST attributes) from LIST
//! responses: Sent, Drafts, Trash, Junk, Archive, All and Flagged.
//!
//! Attributes are the source of truth: RFC 6154's `\Sent \Drafts \Trash \Junk \Archive \All
//! \Flagged`, and the older XLIST/Gmail forms `\AllMail` (All), `\Spam` (Junk) and `\Starred`
//! (Flagged) that [`Role::from_attribute`] maps too. XLIST's `\Inbox` and Gmail's `\Important`
//! name no role here.
//!
//! When a server marks nothing (old servers, no SPECIAL-USE), [`SpecialUse::guess_missing`]
//! can fill the missing roles from well-known English names ([`WELL_KNOWN_NAMES`]), matched
//! case-insensitively against the last component of the mailbox name (so `INBOX.Sent` matches
//! `Sent`). Such a result is a **guess** and says so ([`Source::NameGuess`]): a folder called
//! "Archive" may be a user's folder and not the server's archive.
//!
//! ```
//! use imapwire_session::special_use::{Role, SpecialUse};
//! # use imapwire_codec::response::ListItem;
//! # fn items() -> Vec<ListItem> { Vec::new() }
//! let list: Vec<ListItem> = items(); // the LIST responses
//! let mut found = SpecialUse::from_list(&list);
//! found.guess_missing(&list);
//! let missing = found.missing(&[Role::Sent, Role::Trash]);
//! # assert_eq!(missing, [Role::Sent, Role::Trash]);
//! ```

use imapwire_codec::flag::MailboxAttribute;
use imapwire_codec::mailbox::Mailbox;
use imapwire_codec::response::ListItem;

/// A special-use role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Role {
    /// Sent messages (`\Sent`).
    Sent,
    /// Drafts (`\Drafts`).
    Drafts,
    /// Deleted messages (`\Trash`).
    Trash,
    /// Spam (`\Junk`, Gmail/XLIST `\Spam`).
    Junk,
    /// Archived messages (`\Archive`).
    Archive,
    /// A virtual mailbox with all messages (`\All`, Gmail/XLIST `\AllMail`).
    All,
    /// A virtual mailbox with flagged messages (`\Flagged`, Gmail/XLIST `\Starred`).
    Flagged,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 7] = [
        Role::Sent,
        Role::Drafts,
        Role::Trash,
        Role::Junk,
        Role::Archive,
        Role::All,
        Role::Flagged,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// The role an attribute declares, including the XLIST/Gmail names (case-insensitive).
    pub fn from_attribute(a: &MailboxAttribute) -> Option<Role> {
        use MailboxAttribute as A;
        Some(match a {
            A::Sent => Role::Sent,
            A::Drafts => Role::Drafts,
            A::Trash => Role::Trash,
            A::Junk => Role::Junk,
            A::Archive => Role::Archive,
            A::All => Role::All,
            A::Flagged => Role::Flagged,
            A::Extension(name) => {
                let n = name.as_bytes();
                if n.eq_ignore_ascii_case(b"AllMail") {
                    Role::All
                } else if n.eq_ignore_ascii_case(b"Spam") {
                    Role::Junk
                } else if n.eq_ignore_ascii_case(b"Starred") {
                    Role::Flagged
                } else {
                    return None;
                }
            }
            _ => return None,
        })
    }
}

/// Names tried by [`SpecialUse::guess_missing`], per role, most common first. Compared
/// case-insensitively with the last hierarchy component of each mailbox name.
pub const WELL_KNOWN_NAMES: &[(Role, &[&str])] = &[
    (
        Role::Sent,
        &[
            "Sent",
            "Sent Items",
            "Sent Messages",
            "Sent Mail",
            "Sent Mail Items",
        ],
    ),
    (Role::Drafts, &["Drafts", "Draft"]),
    (
        Role::Trash,
        &[
            "Trash",
            "Deleted Items",
            "Deleted Messages",
            "Deleted",
            "Bin",
        ],
    ),
    (
        Role::Junk,
        &["Junk", "Spam", "Junk E-mail", "Junk Email", "Bulk Mail"],
    ),
    (Role::Archive, &["Archive", "Archives"]),
    (Role::All, &["All Mail"]),
    (Role::Flagged, &["Flagged", "Starred"]),
];

/// Where a role's mailbox came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Source {
    /// The server marked it with a special-use (or XLIST) attribute.
    Attribute,
    /// A guess from the mailbox name, which matched this well-known name.
    NameGuess {
        /// The well-known name that matched.
        matched: &'static str,
    },
}

/// A role's mailbox and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The mailbox (as named on the wire).
    pub mailbox: Mailbox,
    /// Where it came from.
    pub source: Source,
}

impl Found {
    /// Whether this is only a guess from the name.
    pub fn is_guess(&self) -> bool {
        matches!(self.source, Source::NameGuess { .. })
    }
}

/// The mailbox per role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpecialUse {
    found: [Option<Found>; 7],
}

/// Whether the mailbox can hold messages (not `\Noselect` / `\NonExistent`).
fn selectable(item: &ListItem) -> bool {
    !item.attributes.iter().any(|a| {
        matches!(
            a,
            MailboxAttribute::NoSelect | MailboxAttribute::NonExistent
        )
    })
}

/// The last hierarchy component of the name.
fn leaf(item: &ListItem) -> &[u8] {
    let name = item.mailbox.as_bytes();
    match item.delimiter {
        Some(d) => name.rsplit(|&b| b == d.get()).next().unwrap_or(name),
        None => name,
    }
}

impl SpecialUse {
    /// The roles the attributes in `items` (LIST, LSUB or XLIST responses) declare. When
    /// several mailboxes claim one role, the first in LIST order wins. Mailboxes marked
    /// `\Noselect` or `\NonExistent` are skipped.
    pub fn from_list<'a>(items: impl IntoIterator<Item = &'a ListItem>) -> Self {
        let mut s = SpecialUse::default();
        for item in items.into_iter().filter(|i| selectable(i)) {
            for role in item.attributes.iter().filter_map(Role::from_attribute) {
                let slot = &mut s.found[role.index()];
                if slot.is_none() {
                    *slot = Some(Found {
                        mailbox: item.mailbox.clone(),
                        source: Source::Attribute,
                    });
                }
            }
        }
        s
    }

    /// Fills each role still missing with a mailbox whose name is one of the
    /// [`WELL_KNOWN_NAMES`] of that role (earlier names first, then LIST order), flagged as
    /// [`Source::NameGuess`]. INBOX and mailboxes already holding a role are never guessed.
    pub fn guess_missing<'a>(&mut self, items: impl IntoIterator<Item = &'a ListItem> + Clone) {
        for (role, names) in WELL_KNOWN_NAMES {
            if self.found[role.index()].is_some() {
                continue;
            }
            'names: for name in names.iter() {
                for item in items.clone() {
                    if !selectable(item)
                        || item.mailbox.is_inbox()
                        || self.holds_any_role(&item.mailbox)
                    {
                        continue;
                    }
                    if leaf(item).eq_ignore_ascii_case(name.as_bytes()) {
                        self.found[role.index()] = Some(Found {
                            mailbox: item.mailbox.clone(),
                            source: Source::NameGuess { matched: name },
                        });
                        break 'names;
                    }
                }
            }
        }
    }

    fn holds_any_role(&self, m: &Mailbox) -> bool {
        self.found.iter().flatten().any(|f| &f.mailbox == m)
    }

    /// The role's mailbox and its source.
    pub fn get(&self, role: Role) -> Option<&Found> {
        self.found[role.index()].as_ref()
    }

    /// The role's mailbox.
    pub fn mailbox(&self, role: Role) -> Option<&Mailbox> {
        self.get(role).map(|f| &f.mailbox)
    }

    /// The roles of `required` that have no mailbox (neither by attribute nor by guess), in
    /// the order given.
    pub fn missing(&self, required: &[Role]) -> Vec<Role> {
        required
            .iter()
            .copied()
            .filter(|r| self.get(*r).is_none())
            .collect()
    }

    /// The roles of `required` whose mailbox is only a name guess.
    pub fn guessed(&self, required: &[Role]) -> Vec<Role> {
        required
            .iter()
            .copied()
            .filter(|r| self.get(*r).is_some_and(Found::is_guess))
            .collect()
    }

    /// Every role found, in [`Role::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Role, &Found)> {
        Role::ALL
            .into_iter()
            .filter_map(|r| self.get(r).map(|f| (r, f)))
    }
}

#[cfg(test)]
mod tests {
    use imapwire_codec::codec::{ResponseDecoder, StreamEvent};
    use imapwire_codec::response::{Data, Response};

    use super::*;

    /// Decodes LIST/XLIST responses with the codec, as the session will receive them.
    fn list(lines: &str) -> Vec<ListItem> {
        let mut dec = ResponseDecoder::default();
        dec.push(lines.as_bytes());
        let mut out = Vec::new();
        while let Some(ev) = dec.next() {
            let StreamEvent::Message(m) = ev else {
                panic!("{ev:?}")
            };
            match m.message {
                Response::Data(Data::List(i) | Data::XList(i) | Data::Lsub(i)) => out.push(i),
                other => panic!("not a LIST: {other:?}"),
            }
        }
        out
    }

    fn name(s: &SpecialUse, r: Role) -> Option<String> {
        s.mailbox(r)
            .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
    }

    const GMAIL: &str = concat!(
        "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n",
        "* LIST (\\HasChildren \\Noselect) \"/\" \"[Gmail]\"\r\n",
        "* LIST (\\All \\HasNoChildren) \"/\" \"[Gmail]/All Mail\"\r\n",
        "* LIST (\\Drafts \\HasNoChildren) \"/\" \"[Gmail]/Drafts\"\r\n",
        "* LIST (\\HasNoChildren \\Important) \"/\" \"[Gmail]/Important\"\r\n",
        "* LIST (\\HasNoChildren \\Sent) \"/\" \"[Gmail]/Sent Mail\"\r\n",
        "* LIST (\\HasNoChildren \\Junk) \"/\" \"[Gmail]/Spam\"\r\n",
        "* LIST (\\Flagged \\HasNoChildren) \"/\" \"[Gmail]/Starred\"\r\n",
        "* LIST (\\HasNoChildren \\Trash) \"/\" \"[Gmail]/Trash\"\r\n",
    );

    #[test]
    fn gmail_special_use() {
        let items = list(GMAIL);
        let s = SpecialUse::from_list(&items);
        assert_eq!(name(&s, Role::Sent).as_deref(), Some("[Gmail]/Sent Mail"));
        assert_eq!(name(&s, Role::Drafts).as_deref(), Some("[Gmail]/Drafts"));
        assert_eq!(name(&s, Role::Trash).as_deref(), Some("[Gmail]/Trash"));
        assert_eq!(name(&s, Role::Junk).as_deref(), Some("[Gmail]/Spam"));
        assert_eq!(name(&s, Role::All).as_deref(), Some("[Gmail]/All Mail"));
        assert_eq!(name(&s, Role::Flagged).as_deref(), Some("[Gmail]/Starred"));
        assert_eq!(s.missing(&Role::ALL), [Role::Archive]);
        assert!(s.iter().all(|(_, f)| f.source == Source::Attribute));
    }

    #[test]
    fn gmail_xlist_forms() {
        let items = list(concat!(
            "* XLIST (\\HasNoChildren \\Inbox) \"/\" \"Inbox\"\r\n",
            "* XLIST (\\HasNoChildren \\AllMail) \"/\" \"[Gmail]/All Mail\"\r\n",
            "* XLIST (\\HasNoChildren \\Spam) \"/\" \"[Gmail]/Spam\"\r\n",
            "* XLIST (\\HasNoChildren \\Starred) \"/\" \"[Gmail]/Starred\"\r\n",
            "* XLIST (\\HasNoChildren \\Sent) \"/\" \"[Gmail]/Sent Mail\"\r\n",
            "* XLIST (\\HasNoChildren \\Trash) \"/\" \"[Gmail]/Bin\"\r\n",
            "* XLIST (\\HasNoChildren \\Drafts) \"/\" \"[Gmail]/Drafts\"\r\n",
            "* XLIST (\\HasNoChildren \\Important) \"/\" \"[Gmail]/Important\"\r\n",
        ));
        let s = SpecialUse::from_list(&items);
        assert_eq!(name(&s, Role::All).as_deref(), Some("[Gmail]/All Mail"));
        assert_eq!(name(&s, Role::Junk).as_deref(), Some("[Gmail]/Spam"));
        assert_eq!(name(&s, Role::Flagged).as_deref(), Some("[Gmail]/Starred"));
        assert_eq!(name(&s, Role::Trash).as_deref(), Some("[Gmail]/Bin"));
        assert_eq!(
            s.missing(&[Role::Sent, Role::Drafts, Role::Archive]),
            [Role::Archive]
        );
    }

    #[test]
    fn dovecot_special_use() {
        let items = list(concat!(
            "* LIST (\\HasNoChildren) \".\" INBOX\r\n",
            "* LIST (\\HasNoChildren \\Archive) \".\" Archive\r\n",
            "* LIST (\\HasNoChildren \\Drafts) \".\" Drafts\r\n",
            "* LIST (\\HasNoChildren \\Junk) \".\" Junk\r\n",
            "* LIST (\\HasNoChildren \\Sent) \".\" Sent\r\n",
            "* LIST (\\HasNoChildren \\Trash) \".\" Trash\r\n",
            "* LIST (\\HasNoChildren) \".\" Sent.Old\r\n",
        ));
        let s = SpecialUse::from_list(&items);
        assert_eq!(
            s.missing(&[
                Role::Sent,
                Role::Drafts,
                Role::Trash,
                Role::Junk,
                Role::Archive
            ]),
            []
        );
        assert_eq!(name(&s, Role::Archive).as_deref(), Some("Archive"));
        assert_eq!(
            s.missing(&[Role::All, Role::Flagged]),
            [Role::All, Role::Flagged]
        );
    }

    /// Exchange / Office 365 marks the folders but older versions do not; names are the
    /// Outlook ones.
    const EXCHANGE_UNMARKED: &str = concat!(
        "* LIST (\\HasNoChildren) \"/\" Archive\r\n",
        "* LIST (\\HasNoChildren) \"/\" Calendar\r\n",
        "* LIST (\\HasNoChildren) \"/\" \"Deleted Items\"\r\n",
        "* LIST (\\HasNoChildren) \"/\" Drafts\r\n",
        "* LIST (\\Marked \\HasNoChildren) \"/\" INBOX\r\n",
        "* LIST (\\HasNoChildren) \"/\" \"Junk Email\"\r\n",
        "* LIST (\\HasNoChildren) \"/\" Outbox\r\n",
        "* LIST (\\HasNoChildren) \"/\" \"Sent Items\"\r\n",
    );

    #[test]
    fn exchange_without_attributes_needs_guesses_flagged_as_such() {
        let items = list(EXCHANGE_UNMARKED);
        let mut s = SpecialUse::from_list(&items);
        assert_eq!(s.missing(&Role::ALL), Role::ALL);
        s.guess_missing(&items);
        assert_eq!(name(&s, Role::Sent).as_deref(), Some("Sent Items"));
        assert_eq!(name(&s, Role::Trash).as_deref(), Some("Deleted Items"));
        assert_eq!(name(&s, Role::Junk).as_deref(), Some("Junk Email"));
        assert_eq!(name(&s, Role::Drafts).as_deref(), Some("Drafts"));
        assert_eq!(name(&s, Role::Archive).as_deref(), Some("Archive"));
        assert_eq!(
            s.get(Role::Sent).unwrap().source,
            Source::NameGuess {
                matched: "Sent Items"
            }
        );
        assert_eq!(s.missing(&Role::ALL), [Role::All, Role::Flagged]);
        assert_eq!(
            s.guessed(&[Role::Sent, Role::Trash]),
            [Role::Sent, Role::Trash]
        );
    }

    #[test]
    fn exchange_with_attributes() {
        let items = list(concat!(
            "* LIST (\\HasNoChildren \\Trash) \"/\" \"Deleted Items\"\r\n",
            "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Items\"\r\n",
            "* LIST (\\HasNoChildren \\Junk) \"/\" \"Junk Email\"\r\n",
            "* LIST (\\HasNoChildren \\Drafts) \"/\" Drafts\r\n",
            "* LIST (\\HasNoChildren) \"/\" Trash\r\n",
        ));
        let mut s = SpecialUse::from_list(&items);
        s.guess_missing(&items);
        // The attribute wins over a folder named like the guess.
        assert_eq!(name(&s, Role::Trash).as_deref(), Some("Deleted Items"));
        assert!(!s.get(Role::Trash).unwrap().is_guess());
        assert_eq!(s.guessed(&Role::ALL), []);
    }

    #[test]
    fn guesses_use_the_last_component_and_skip_noselect_and_inbox() {
        let items = list(concat!(
            "* LIST (\\Noselect \\HasChildren) \".\" Trash\r\n",
            "* LIST (\\HasNoChildren) \".\" INBOX.Trash\r\n",
            "* LIST (\\HasNoChildren) \".\" INBOX.sent-mail\r\n",
            "* LIST (\\HasNoChildren) \".\" \"INBOX.Sent Messages\"\r\n",
            "* LIST (\\HasNoChildren) NIL spam\r\n",
        ));
        let mut s = SpecialUse::from_list(&items);
        s.guess_missing(&items);
        assert_eq!(name(&s, Role::Trash).as_deref(), Some("INBOX.Trash"));
        assert_eq!(name(&s, Role::Sent).as_deref(), Some("INBOX.Sent Messages"));
        assert_eq!(name(&s, Role::Junk).as_deref(), Some("spam"));
        assert_eq!(s.missing(&[Role::Drafts]), [Role::Drafts]);
    }

    #[test]
    fn earlier_well_known_names_win_and_one_mailbox_has_one_role() {
        let items = list(concat!(
            "* LIST () \"/\" \"Sent Messages\"\r\n",
            "* LIST () \"/\" Sent\r\n",
            "* LIST () \"/\" Spam\r\n",
            "* LIST () \"/\" Junk\r\n",
        ));
        let mut s = SpecialUse::from_list(&items);
        s.guess_missing(&items);
        assert_eq!(name(&s, Role::Sent).as_deref(), Some("Sent"));
        assert_eq!(name(&s, Role::Junk).as_deref(), Some("Junk"));

        // A mailbox that already has a role by attribute is not guessed for another.
        let items = list("* LIST (\\Archive) \"/\" Trash\r\n");
        let mut s = SpecialUse::from_list(&items);
        s.guess_missing(&items);
        assert_eq!(name(&s, Role::Archive).as_deref(), Some("Trash"));
        assert_eq!(s.get(Role::Trash), None);
    }

    #[test]
    fn first_attribute_wins_and_nonexistent_is_skipped() {
        let items = list(concat!(
            "* LIST (\\NonExistent \\Sent) \"/\" Gone\r\n",
            "* LIST (\\Sent) \"/\" First\r\n",
            "* LIST (\\Sent) \"/\" Second\r\n",
        ));
        let s = SpecialUse::from_list(&items);
        assert_eq!(name(&s, Role::Sent).as_deref(), Some("First"));
    }

    #[test]
    fn attribute_mapping() {
        use imapwire_codec::core::Atom;
        let ext = |n: &str| MailboxAttribute::Extension(Atom::try_from(n).unwrap());
        assert_eq!(Role::from_attribute(&ext("allmail")), Some(Role::All));
        assert_eq!(Role::from_attribute(&ext("Spam")), Some(Role::Junk));
        assert_eq!(Role::from_attribute(&ext("Starred")), Some(Role::Flagged));
        assert_eq!(Role::from_attribute(&ext("Inbox")), None);
        assert_eq!(Role::from_attribute(&MailboxAttribute::Important), None);
        assert_eq!(Role::from_attribute(&MailboxAttribute::HasChildren), None);
    }
}
