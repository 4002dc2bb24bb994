//! An in-memory mailbox store answering the server's [`Request`]s (RFC 9051 §6.3–§6.4 mailbox
//! and message operations, RFC 4315 UIDPLUS codes, RFC 6851 MOVE, RFC 7162 MODSEQ), for
//! tests and examples.
//!
//! One [`MemoryStore`] serves many sessions: each [`Server`](super::Server) connection gets a
//! [`SessionId`] from [`MemoryStore::open_session`], and its requests are answered with
//! [`MemoryStore::handle`]. Changes a session makes are queued as notifications for the other
//! sessions ([`MemoryStore::take_notifications`]); the driver passes each to the session's
//! [`Server::notify`](super::Server::notify), which sends it where RFC 9051 §7.5.1 allows.
//!
//! Supported: SELECT/EXAMINE, LIST/LSUB (`*` and `%` patterns), STATUS, CREATE, DELETE,
//! RENAME, SUBSCRIBE, UNSUBSCRIBE, NAMESPACE, APPEND (literal data), FETCH of FLAGS, UID,
//! RFC822.SIZE, MODSEQ, RFC822 and BODY[]/BODY.PEEK[] (with a partial range), STORE (with
//! UNCHANGEDSINCE), SEARCH (ALL, UID, sequence sets, flag keys, NOT/OR/AND, LARGER/SMALLER),
//! COPY, MOVE, EXPUNGE, UID EXPUNGE, CLOSE. Anything else is answered with
//! `NO [CANNOT]`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bytes::Bytes;
use imapwire_codec::command::{AppendData, CommandBody, StoreData, StoreModifier, StoreType};
use imapwire_codec::core::IString;
use imapwire_codec::fetch::{FetchAttribute, FetchItems, MessageDataItem};
use imapwire_codec::flag::{Flag, FlagFetch, FlagPerm, MailboxAttribute};
use imapwire_codec::mailbox::{ListMailbox, Mailbox};
use imapwire_codec::response::{Data, Delimiter, ListItem, Namespace, NamespaceData, ResponseCode};
use imapwire_codec::search::SearchKey;
use imapwire_codec::sequence::{UidRange, UidSet, UidValidity};
use imapwire_codec::status::{StatusAttribute, StatusItem};

use super::event::{Reply, ReplyData, Request, Selected, Update};

/// A session of a [`MemoryStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(u32);

#[derive(Debug, Clone)]
struct Message {
    uid: u32,
    flags: Vec<Flag>,
    modseq: u64,
    data: Bytes,
}

#[derive(Debug, Clone)]
struct Folder {
    uid_validity: u32,
    uid_next: u32,
    highest_modseq: u64,
    messages: Vec<Message>,
}

impl Folder {
    fn new(uid_validity: u32) -> Self {
        Folder {
            uid_validity,
            uid_next: 1,
            highest_modseq: 1,
            messages: Vec::new(),
        }
    }

    fn index(&self, uid: u32) -> Option<usize> {
        self.messages.binary_search_by_key(&uid, |m| m.uid).ok()
    }

    fn add(&mut self, data: Bytes, flags: Vec<Flag>) -> u32 {
        let uid = self.uid_next;
        self.uid_next += 1;
        self.highest_modseq += 1;
        self.messages.push(Message {
            uid,
            flags,
            modseq: self.highest_modseq,
            data,
        });
        uid
    }
}

/// Mailboxes, messages and subscriptions in memory, shared by sessions.
#[derive(Debug, Default)]
pub struct MemoryStore {
    /// By the mailbox's wire name (`INBOX` upper case).
    folders: BTreeMap<Vec<u8>, Folder>,
    subscribed: BTreeSet<Vec<u8>>,
    next_validity: u32,
    next_session: u32,
    selected: HashMap<SessionId, (Vec<u8>, bool)>,
    notifications: Vec<(Option<SessionId>, Mailbox, Update)>,
}

const DELIM: u8 = b'/';

fn key(m: &Mailbox) -> Vec<u8> {
    match m {
        Mailbox::Inbox => b"INBOX".to_vec(),
        other => other.as_bytes().to_vec(),
    }
}

fn mailbox_of(k: &[u8]) -> Mailbox {
    Mailbox::new(Bytes::copy_from_slice(k)).unwrap_or(Mailbox::Inbox)
}

fn cannot(what: &str) -> Reply {
    Reply::no(Some(ResponseCode::Cannot), what)
}

fn nonexistent() -> Reply {
    Reply::no(Some(ResponseCode::NonExistent), "no such mailbox")
}

fn uid_set(uids: &[u32]) -> Option<UidSet> {
    let mut v: Vec<UidRange> = Vec::new();
    for &u in uids {
        let Some(n) = std::num::NonZeroU32::new(u) else {
            continue;
        };
        match v.last_mut() {
            Some(r) if r.end().get().checked_add(1) == Some(u) => {
                *r = UidRange::from_nonzero(r.start(), n)
            }
            _ => v.push(UidRange::from_nonzero(n, n)),
        }
    }
    UidSet::new(v).ok()
}

/// `*` matches anything, `%` anything but the delimiter.
fn glob(pat: &[u8], name: &[u8]) -> bool {
    match pat.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|i| glob(rest, &name[i..])),
        Some((b'%', rest)) => (0..=name.len())
            .take_while(|&i| i == 0 || name[i - 1] != DELIM)
            .any(|i| glob(rest, &name[i..])),
        Some((c, rest)) => name
            .split_first()
            .is_some_and(|(n, nr)| n.eq_ignore_ascii_case(c) && glob(rest, nr)),
    }
}

impl MemoryStore {
    /// A store with an empty `INBOX`.
    pub fn new() -> Self {
        let mut s = MemoryStore {
            next_validity: 1,
            ..MemoryStore::default()
        };
        s.create(&Mailbox::Inbox);
        s
    }

    fn create(&mut self, m: &Mailbox) -> bool {
        let k = key(m);
        if self.folders.contains_key(&k) {
            return false;
        }
        self.folders.insert(k, Folder::new(self.next_validity));
        self.next_validity += 1;
        true
    }

    /// A new session.
    pub fn open_session(&mut self) -> SessionId {
        self.next_session += 1;
        SessionId(self.next_session)
    }

    /// Delivers a message (from outside any session); returns its UID, or `None` when the
    /// mailbox does not exist. Every session is notified.
    pub fn deliver(&mut self, mailbox: &Mailbox, data: Bytes, flags: Vec<Flag>) -> Option<u32> {
        let f = self.folders.get_mut(&key(mailbox))?;
        let uid = f.add(data, flags);
        self.notifications
            .push((None, mailbox.clone(), Update::Exists { uid }));
        Some(uid)
    }

    /// Changes queued for sessions since the last call: `(origin, mailbox, update)`; deliver
    /// each to every session except `origin` (`None`: to all).
    pub fn take_notifications(&mut self) -> Vec<(Option<SessionId>, Mailbox, Update)> {
        std::mem::take(&mut self.notifications)
    }

    /// Answers a request of session `sid`.
    pub fn handle(&mut self, sid: SessionId, request: Request) -> Reply {
        match request {
            Request::Select {
                mailbox, read_only, ..
            } => {
                let k = key(&mailbox);
                let Some(f) = self.folders.get(&k) else {
                    self.selected.remove(&sid);
                    return nonexistent();
                };
                let mut s = Selected::new(
                    f.messages.iter().map(|m| m.uid).collect(),
                    f.uid_validity,
                    f.uid_next,
                );
                s.flags = vec![
                    Flag::Answered,
                    Flag::Flagged,
                    Flag::Deleted,
                    Flag::Seen,
                    Flag::Draft,
                ];
                s.permanent_flags = s
                    .flags
                    .iter()
                    .cloned()
                    .map(FlagPerm::Flag)
                    .chain([FlagPerm::Asterisk])
                    .collect();
                s.highest_modseq = Some(f.highest_modseq);
                s.read_only = read_only;
                self.selected.insert(sid, (k, read_only));
                Reply::ok(vec![ReplyData::Selected(s)])
            }
            Request::Fetch {
                uids,
                items,
                modifiers,
            } => self.fetch(sid, &uids, &items, &modifiers),
            Request::Store {
                uids,
                kind,
                silent,
                data,
                modifiers,
            } => self.store(sid, &uids, kind, silent, data, &modifiers),
            Request::Search { criteria, view, .. } => {
                let Some(f) = self.selected_folder(sid) else {
                    return nonexistent();
                };
                let mut out = Vec::new();
                let mut modseq = 0;
                for (i, &uid) in view.iter().enumerate() {
                    let Some(ix) = f.index(uid) else { continue };
                    let m = &f.messages[ix];
                    let ctx = Ctx {
                        seq: i as u32 + 1,
                        max_seq: view.len() as u32,
                        max_uid: view.last().copied().unwrap_or(0),
                    };
                    match criteria
                        .iter()
                        .try_fold(true, |acc, k| Ok::<_, ()>(acc && matches(k, m, &ctx)?))
                    {
                        Ok(true) => {
                            modseq = modseq.max(m.modseq);
                            out.push(uid);
                        }
                        Ok(false) => {}
                        Err(()) => return cannot("search key not supported by the memory store"),
                    }
                }
                Reply::ok(vec![ReplyData::Matches {
                    uids: out,
                    modseq: (modseq > 0).then_some(modseq),
                }])
            }
            Request::Copy { uids, mailbox } => self.copy(sid, &uids, &mailbox, false),
            Request::Move { uids, mailbox } => self.copy(sid, &uids, &mailbox, true),
            Request::Expunge { uids } => {
                let data = self
                    .expunge(sid, uids.as_deref())
                    .into_iter()
                    .map(ReplyData::Expunged)
                    .collect();
                Reply::ok(data)
            }
            Request::Close => {
                if let Some((_, false)) = self.selected.get(&sid) {
                    let _ = self.expunge(sid, None);
                }
                self.selected.remove(&sid);
                Reply::ok(vec![])
            }
            Request::Command(body) => self.command(sid, body),
        }
    }

    fn selected_folder(&self, sid: SessionId) -> Option<&Folder> {
        self.folders.get(&self.selected.get(&sid)?.0)
    }

    fn fetch(
        &mut self,
        sid: SessionId,
        uids: &[u32],
        items: &FetchItems,
        modifiers: &[imapwire_codec::command::FetchModifier],
    ) -> Reply {
        use imapwire_codec::command::FetchModifier;
        let attrs: Vec<FetchAttribute> = match items {
            FetchItems::Attributes(a) => a.as_slice().to_vec(),
            FetchItems::Fast => vec![FetchAttribute::Flags, FetchAttribute::Rfc822Size],
            _ => return cannot("ALL/FULL need ENVELOPE, not supported by the memory store"),
        };
        let changed_since = modifiers.iter().find_map(|m| match m {
            FetchModifier::ChangedSince(n) => Some(*n),
            _ => None,
        });
        let Some((k, read_only)) = self.selected.get(&sid).cloned() else {
            return nonexistent();
        };
        let Some(f) = self.folders.get_mut(&k) else {
            return nonexistent();
        };
        let mut data = Vec::new();
        let mut changed = Vec::new();
        for &uid in uids {
            let Some(ix) = f.index(uid) else { continue };
            if changed_since.is_some_and(|c| f.messages[ix].modseq <= c) {
                continue;
            }
            let mut out = Vec::new();
            let mut set_seen = false;
            for a in &attrs {
                let m = &f.messages[ix];
                match a {
                    FetchAttribute::Flags => out.push(flags_item(&m.flags)),
                    FetchAttribute::Uid => {
                        if let Ok(u) = imapwire_codec::sequence::Uid::new(m.uid) {
                            out.push(MessageDataItem::Uid(u));
                        }
                    }
                    FetchAttribute::Rfc822Size => {
                        out.push(MessageDataItem::Rfc822Size(m.data.len() as u64))
                    }
                    FetchAttribute::ModSeq => out.push(MessageDataItem::ModSeq(m.modseq)),
                    FetchAttribute::Rfc822 => {
                        set_seen = true;
                        out.push(MessageDataItem::Rfc822(IString::new(m.data.clone()).ok()));
                    }
                    FetchAttribute::BodySection {
                        section: None,
                        partial,
                        peek,
                    } => {
                        set_seen |= !peek;
                        let (origin, bytes) = match partial {
                            Some(p) => {
                                let start = (p.offset as usize).min(m.data.len());
                                let end = start
                                    .saturating_add(p.length.get() as usize)
                                    .min(m.data.len());
                                (u32::try_from(p.offset).ok(), m.data.slice(start..end))
                            }
                            None => (None, m.data.clone()),
                        };
                        out.push(MessageDataItem::BodySection {
                            section: None,
                            origin,
                            data: IString::new(bytes).ok(),
                        });
                    }
                    _ => return cannot("fetch item not supported by the memory store"),
                }
            }
            if set_seen && !read_only && !f.messages[ix].flags.contains(&Flag::Seen) {
                f.highest_modseq += 1;
                let m = &mut f.messages[ix];
                m.flags.push(Flag::Seen);
                m.modseq = f.highest_modseq;
                if !attrs.contains(&FetchAttribute::Flags) {
                    out.push(flags_item(&m.flags));
                }
                changed.push((m.uid, m.flags.clone(), m.modseq));
            }
            data.push(ReplyData::Message { uid, items: out });
        }
        let mailbox = mailbox_of(&k);
        for (uid, flags, modseq) in changed {
            self.notifications.push((
                Some(sid),
                mailbox.clone(),
                Update::Flags {
                    uid,
                    flags,
                    modseq: Some(modseq),
                },
            ));
        }
        Reply::ok(data)
    }

    fn store(
        &mut self,
        sid: SessionId,
        uids: &[u32],
        kind: StoreType,
        silent: bool,
        data: StoreData,
        modifiers: &[StoreModifier],
    ) -> Reply {
        let StoreData::Flags(flags) = data else {
            return cannot("labels not supported by the memory store");
        };
        let unchanged_since = modifiers.iter().find_map(|m| match m {
            StoreModifier::UnchangedSince(n) => Some(*n),
            _ => None,
        });
        let Some((k, _)) = self.selected.get(&sid).cloned() else {
            return nonexistent();
        };
        let Some(f) = self.folders.get_mut(&k) else {
            return nonexistent();
        };
        let mut out = Vec::new();
        let mut modified = Vec::new();
        let mut changed = Vec::new();
        for &uid in uids {
            let Some(ix) = f.index(uid) else { continue };
            if unchanged_since.is_some_and(|u| f.messages[ix].modseq > u) {
                modified.push(uid);
                continue;
            }
            let m = &mut f.messages[ix];
            let before = m.flags.clone();
            match kind {
                StoreType::Replace => m.flags = flags.clone(),
                StoreType::Add => {
                    for fl in &flags {
                        if !m.flags.contains(fl) {
                            m.flags.push(fl.clone());
                        }
                    }
                }
                StoreType::Remove => m.flags.retain(|fl| !flags.contains(fl)),
            }
            if m.flags != before {
                f.highest_modseq += 1;
                m.modseq = f.highest_modseq;
                changed.push((uid, m.flags.clone(), m.modseq));
            }
            if !silent {
                out.push(ReplyData::Message {
                    uid,
                    items: vec![flags_item(&m.flags), MessageDataItem::ModSeq(m.modseq)],
                });
            }
        }
        if !modified.is_empty() {
            out.push(ReplyData::Modified(modified));
        }
        let mailbox = mailbox_of(&k);
        for (uid, flags, modseq) in changed {
            self.notifications.push((
                Some(sid),
                mailbox.clone(),
                Update::Flags {
                    uid,
                    flags,
                    modseq: Some(modseq),
                },
            ));
        }
        Reply::ok(out)
    }

    fn copy(&mut self, sid: SessionId, uids: &[u32], target: &Mailbox, remove: bool) -> Reply {
        let Some((k, _)) = self.selected.get(&sid).cloned() else {
            return nonexistent();
        };
        let tk = key(target);
        if !self.folders.contains_key(&tk) {
            return Reply::no(Some(ResponseCode::TryCreate), "no such target mailbox");
        }
        let Some(src) = self.folders.get(&k) else {
            return nonexistent();
        };
        let msgs: Vec<Message> = uids
            .iter()
            .filter_map(|&u| src.index(u).map(|i| src.messages[i].clone()))
            .collect();
        let Some(dst) = self.folders.get_mut(&tk) else {
            return nonexistent();
        };
        let mut source = Vec::new();
        let mut new = Vec::new();
        for m in &msgs {
            source.push(m.uid);
            new.push(dst.add(m.data.clone(), m.flags.clone()));
        }
        let validity = dst.uid_validity;
        for &uid in &new {
            self.notifications
                .push((None, target.clone(), Update::Exists { uid }));
        }
        let mut data = Vec::new();
        if !source.is_empty() {
            data.push(ReplyData::Copied {
                uid_validity: validity,
                source: source.clone(),
                target: new,
            });
        }
        if remove {
            let gone = self.remove(sid, &k, &source);
            data.extend(gone.into_iter().map(ReplyData::Expunged));
        }
        Reply::ok(data)
    }

    /// Removes `\Deleted` messages (among `only` when given) of the session's mailbox.
    fn expunge(&mut self, sid: SessionId, only: Option<&[u32]>) -> Vec<u32> {
        let Some((k, _)) = self.selected.get(&sid).cloned() else {
            return Vec::new();
        };
        let Some(f) = self.folders.get(&k) else {
            return Vec::new();
        };
        let victims: Vec<u32> = f
            .messages
            .iter()
            .filter(|m| m.flags.contains(&Flag::Deleted))
            .filter(|m| only.is_none_or(|o| o.binary_search(&m.uid).is_ok()))
            .map(|m| m.uid)
            .collect();
        self.remove(sid, &k, &victims)
    }

    fn remove(&mut self, sid: SessionId, k: &[u8], uids: &[u32]) -> Vec<u32> {
        let Some(f) = self.folders.get_mut(k) else {
            return Vec::new();
        };
        let mut gone = Vec::new();
        f.messages.retain(|m| {
            let hit = uids.contains(&m.uid);
            if hit {
                gone.push(m.uid);
            }
            !hit
        });
        if !gone.is_empty() {
            f.highest_modseq += 1;
        }
        let mailbox = mailbox_of(k);
        for &uid in &gone {
            self.notifications
                .push((Some(sid), mailbox.clone(), Update::Expunged { uid }));
        }
        gone
    }

    fn command(&mut self, sid: SessionId, body: CommandBody) -> Reply {
        use CommandBody as C;
        match body {
            C::Namespace => Reply::ok(vec![ReplyData::Data(Data::Namespace(NamespaceData {
                personal: vec![Namespace {
                    prefix: IString::new(Bytes::new()).unwrap_or_else(|_| unreachable_istring()),
                    delimiter: Delimiter::new(DELIM).ok(),
                    extensions: vec![],
                }],
                other: vec![],
                shared: vec![],
            }))]),
            C::Create { mailbox, .. } => {
                if self.create(&mailbox) {
                    Reply::ok(vec![])
                } else {
                    Reply::no(Some(ResponseCode::AlreadyExists), "mailbox exists")
                }
            }
            C::Delete(m) => {
                if m == Mailbox::Inbox {
                    return Reply::no(Some(ResponseCode::Cannot), "INBOX cannot be deleted");
                }
                if self.folders.remove(&key(&m)).is_some() {
                    Reply::ok(vec![])
                } else {
                    nonexistent()
                }
            }
            C::Rename { from, to } => {
                let (fk, tk) = (key(&from), key(&to));
                if self.folders.contains_key(&tk) {
                    return Reply::no(Some(ResponseCode::AlreadyExists), "target exists");
                }
                if from == Mailbox::Inbox {
                    // RFC 9051 §6.3.6: INBOX's messages move, INBOX stays (empty).
                    let Some(f) = self.folders.get_mut(&fk) else {
                        return nonexistent();
                    };
                    let mut moved = Folder::new(self.next_validity);
                    self.next_validity += 1;
                    moved.messages = std::mem::take(&mut f.messages);
                    moved.uid_next = f.uid_next;
                    self.folders.insert(tk, moved);
                    return Reply::ok(vec![]);
                }
                match self.folders.remove(&fk) {
                    Some(f) => {
                        self.folders.insert(tk, f);
                        Reply::ok(vec![])
                    }
                    None => nonexistent(),
                }
            }
            C::Subscribe(m) => {
                self.subscribed.insert(key(&m));
                Reply::ok(vec![])
            }
            C::Unsubscribe(m) => {
                self.subscribed.remove(&key(&m));
                Reply::ok(vec![])
            }
            C::List {
                reference,
                patterns,
                ..
            } => Reply::ok(self.list(&reference, &patterns, false)),
            C::Lsub { reference, pattern } => {
                Reply::ok(self.list(&reference, std::slice::from_ref(&pattern), true))
            }
            C::Status {
                mailbox,
                attributes,
            } => {
                let Some(f) = self.folders.get(&key(&mailbox)) else {
                    return nonexistent();
                };
                let mut items = Vec::new();
                for a in attributes {
                    items.push(match a {
                        StatusAttribute::Messages => StatusItem::Messages(f.messages.len() as u32),
                        StatusAttribute::UidNext => StatusItem::UidNext(f.uid_next),
                        StatusAttribute::UidValidity => StatusItem::UidValidity(f.uid_validity),
                        StatusAttribute::Unseen => StatusItem::Unseen(
                            f.messages
                                .iter()
                                .filter(|m| !m.flags.contains(&Flag::Seen))
                                .count() as u32,
                        ),
                        StatusAttribute::Deleted => StatusItem::Deleted(
                            f.messages
                                .iter()
                                .filter(|m| m.flags.contains(&Flag::Deleted))
                                .count() as u32,
                        ),
                        StatusAttribute::Size => {
                            StatusItem::Size(f.messages.iter().map(|m| m.data.len() as u64).sum())
                        }
                        StatusAttribute::HighestModSeq => {
                            StatusItem::HighestModSeq(f.highest_modseq)
                        }
                        StatusAttribute::Recent => StatusItem::Recent(0),
                        _ => return cannot("status item not supported by the memory store"),
                    });
                }
                Reply::ok(vec![ReplyData::Data(Data::Status { mailbox, items })])
            }
            C::Append { mailbox, messages } => {
                let k = key(&mailbox);
                if !self.folders.contains_key(&k) {
                    return Reply::no(Some(ResponseCode::TryCreate), "no such mailbox");
                }
                let mut bodies = Vec::new();
                for m in messages {
                    match m.data {
                        AppendData::Literal { data, .. } => bodies.push((data, m.flags)),
                        _ => return cannot("CATENATE/UTF8 not supported by the memory store"),
                    }
                }
                let Some(f) = self.folders.get_mut(&k) else {
                    return nonexistent();
                };
                let validity = f.uid_validity;
                let uids: Vec<u32> = bodies.into_iter().map(|(d, fl)| f.add(d, fl)).collect();
                for &uid in &uids {
                    self.notifications
                        .push((None, mailbox.clone(), Update::Exists { uid }));
                }
                let _ = sid;
                let mut r = Reply::ok(vec![]);
                if let (Ok(v), Some(set)) = (UidValidity::new(validity), uid_set(&uids)) {
                    r.code = Some(ResponseCode::AppendUid {
                        uid_validity: v,
                        uids: set,
                    });
                }
                r
            }
            _ => cannot("not supported by the memory store"),
        }
    }

    fn list(&self, reference: &Mailbox, patterns: &[ListMailbox], lsub: bool) -> Vec<ReplyData> {
        let mut out = Vec::new();
        let r = key(reference);
        let r = if reference.as_bytes().is_empty() {
            Vec::new()
        } else {
            r
        };
        for p in patterns {
            let full = [r.as_slice(), p.as_bytes()].concat();
            if full.is_empty() {
                out.push(ReplyData::Data(Data::List(ListItem {
                    attributes: vec![MailboxAttribute::NoSelect].into(),
                    delimiter: Delimiter::new(DELIM).ok(),
                    mailbox: Mailbox::new(Bytes::new()).unwrap_or(Mailbox::Inbox),
                    extended: vec![],
                })));
                continue;
            }
            for name in self.folders.keys() {
                if lsub && !self.subscribed.contains(name) {
                    continue;
                }
                if !glob(&full, name) {
                    continue;
                }
                let item = ListItem {
                    attributes: Vec::<MailboxAttribute>::new().into(),
                    delimiter: Delimiter::new(DELIM).ok(),
                    mailbox: mailbox_of(name),
                    extended: vec![],
                };
                out.push(ReplyData::Data(if lsub {
                    Data::Lsub(item)
                } else {
                    Data::List(item)
                }));
            }
        }
        out
    }
}

fn unreachable_istring() -> IString {
    IString::new(Bytes::from_static(b"x")).unwrap_or_else(|_| unreachable_istring())
}

fn flags_item(flags: &[Flag]) -> MessageDataItem {
    MessageDataItem::Flags(
        flags
            .iter()
            .cloned()
            .map(FlagFetch::Flag)
            .collect::<Vec<_>>()
            .into(),
    )
}

struct Ctx {
    seq: u32,
    max_seq: u32,
    max_uid: u32,
}

/// Whether `m` matches `k`; `Err` for a key the store does not evaluate.
fn matches(k: &SearchKey, m: &Message, c: &Ctx) -> Result<bool, ()> {
    let has = |f: Flag| m.flags.contains(&f);
    Ok(match k {
        SearchKey::All => true,
        SearchKey::Uid(set) => set.contains(m.uid, c.max_uid),
        SearchKey::SequenceSet(set) => set.contains(c.seq, c.max_seq),
        SearchKey::Seen => has(Flag::Seen),
        SearchKey::Unseen => !has(Flag::Seen),
        SearchKey::Flagged => has(Flag::Flagged),
        SearchKey::Unflagged => !has(Flag::Flagged),
        SearchKey::Deleted => has(Flag::Deleted),
        SearchKey::Undeleted => !has(Flag::Deleted),
        SearchKey::Answered => has(Flag::Answered),
        SearchKey::Unanswered => !has(Flag::Answered),
        SearchKey::Draft => has(Flag::Draft),
        SearchKey::Undraft => !has(Flag::Draft),
        SearchKey::Keyword(a) => has(Flag::Keyword(a.clone())),
        SearchKey::Unkeyword(a) => !has(Flag::Keyword(a.clone())),
        SearchKey::Larger(n) => m.data.len() as u64 > *n,
        SearchKey::Smaller(n) => (m.data.len() as u64) < *n,
        SearchKey::Not(k) => !matches(k, m, c)?,
        SearchKey::Or(a, b) => matches(a, m, c)? || matches(b, m, c)?,
        SearchKey::And(v) => {
            let mut all = true;
            for k in v {
                all &= matches(k, m, c)?;
            }
            all
        }
        _ => return Err(()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_patterns() {
        assert!(glob(b"*", b"a/b"));
        assert!(!glob(b"%", b"a/b"));
        assert!(glob(b"a/%", b"a/b"));
        assert!(glob(b"inbox", b"INBOX"));
        assert!(!glob(b"a", b"ab"));
    }
}
