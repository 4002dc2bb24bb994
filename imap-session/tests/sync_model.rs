//! Model check of the synchronisation engine (imapwire_session::sync): a reference server
//! mailbox (UIDs, flags, MODSEQs, expunges, UIDVALIDITY resets, changes by other clients at
//! any time) answers the real client session over in-memory bytes, decoding its commands
//! with the codec. Random interleavings of server-side changes, local changes and
//! synchronisations, with disconnections in the middle of a sync and process kills (restart
//! from the persisted state), at the three levels (QRESYNC, CONDSTORE, RFC 4549).
//!
//! Invariant after every completed synchronisation during which no other client changed the
//! mailbox: the replica equals the server (UIDs, flags, contents); at the end, every local
//! change was resolved (applied, merged, already gone, or discarded by a UIDVALIDITY reset)
//! and none was applied twice (no message duplicated).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;
use std::time::Instant;

use bytes::Bytes;
use imapwire_codec::DecodeOptions;
use imapwire_codec::codec::{AnyMessage, Decoded, Receiver, StreamEvent};
use imapwire_codec::command::{
    AppendData, CommandBody, FetchModifier, SelectParam, StoreData, StoreModifier, StoreType,
};
use imapwire_codec::fetch::{FetchAttribute, FetchItems};
use imapwire_codec::mailbox::Mailbox;
use imapwire_codec::search::SearchKey;
use imapwire_codec::sequence::SequenceSet;
use imapwire_session::client::{Client, ClientConfig, Event};
use imapwire_session::sync::{
    ChangeSet, FlagSet, Journal, LocalChange, ReplicaState, Resolution, ServerInfo, SyncConfig,
    SyncEngine, SyncMode,
};
use proptest::prelude::*;

const FLAGS: [&str; 5] = ["\\Seen", "\\Answered", "\\Flagged", "\\Draft", "$Work"];

fn flagset(bits: u8) -> FlagSet {
    FlagSet::from_names(
        FLAGS
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, f)| *f),
    )
}

// ---- the reference server ----

#[derive(Debug, Clone, Copy)]
struct Caps {
    qresync: bool,
    condstore: bool,
    uidplus: bool,
    mv: bool,
    esearch: bool,
}

impl Caps {
    fn line(&self) -> String {
        let mut s = String::from("IMAP4rev1");
        for (on, name) in [
            (self.qresync, " QRESYNC ENABLE"),
            (self.condstore, " CONDSTORE"),
            (self.uidplus, " UIDPLUS"),
            (self.mv, " MOVE"),
            (self.esearch, " ESEARCH"),
        ] {
            if on {
                s.push_str(name);
            }
        }
        s
    }
}

#[derive(Debug, Clone)]
struct Msg {
    flags: FlagSet,
    modseq: u64,
    body: Bytes,
}

#[derive(Debug, Clone)]
struct ServerBox {
    uidvalidity: u32,
    uidnext: u32,
    hms: u64,
    msgs: BTreeMap<u32, Msg>,
    /// Expunged UIDs with the MODSEQ of their expunge.
    expunged: Vec<(u32, u64)>,
    /// Messages moved or copied to another mailbox.
    elsewhere: Vec<Bytes>,
    next_remote_id: u32,
}

impl ServerBox {
    fn new() -> Self {
        ServerBox {
            uidvalidity: 100,
            uidnext: 1,
            hms: 1,
            msgs: BTreeMap::new(),
            expunged: Vec::new(),
            elsewhere: Vec::new(),
            next_remote_id: 0,
        }
    }

    fn bump(&mut self) -> u64 {
        self.hms += 1;
        self.hms
    }

    fn add(&mut self, flags: FlagSet, body: Bytes) -> u32 {
        let uid = self.uidnext;
        self.uidnext += 1;
        let modseq = self.bump();
        self.msgs.insert(
            uid,
            Msg {
                flags,
                modseq,
                body,
            },
        );
        uid
    }

    fn set_flags(&mut self, uid: u32, flags: FlagSet) -> bool {
        let m = match self.msgs.get(&uid) {
            Some(m) if m.flags != flags => m.clone(),
            _ => return false,
        };
        let modseq = self.bump();
        self.msgs.insert(uid, Msg { flags, modseq, ..m });
        true
    }

    fn expunge(&mut self, uid: u32) -> Option<Msg> {
        let m = self.msgs.remove(&uid)?;
        let ms = self.bump();
        self.expunged.push((uid, ms));
        Some(m)
    }

    fn remote(&mut self, op: &RemoteOp) {
        match *op {
            RemoteOp::Append(bits) => {
                self.next_remote_id += 1;
                let body = Bytes::from(format!(
                    "Message-ID: <remote{}@model>\r\n\r\nremote body {}\r\n",
                    self.next_remote_id, self.next_remote_id
                ));
                self.add(flagset(bits), body);
            }
            RemoteOp::Flags(pick, bits) => {
                if let Some(uid) = pick_uid(self.msgs.keys().copied(), pick) {
                    self.set_flags(uid, flagset(bits));
                }
            }
            RemoteOp::Expunge(pick) => {
                if let Some(uid) = pick_uid(self.msgs.keys().copied(), pick) {
                    self.expunge(uid);
                }
            }
            RemoteOp::Reset => {
                // The mailbox is rebuilt: new UIDVALIDITY, messages renumbered from 1.
                let old: Vec<Msg> = std::mem::take(&mut self.msgs).into_values().collect();
                self.uidvalidity += 1;
                self.uidnext = 1;
                self.expunged.clear();
                for m in old {
                    self.add(m.flags, m.body);
                }
            }
        }
    }
}

fn pick_uid(uids: impl Iterator<Item = u32>, pick: u8) -> Option<u32> {
    let v: Vec<u32> = uids.collect();
    (!v.is_empty()).then(|| v[pick as usize % v.len()])
}

fn fmt_flags(f: &FlagSet) -> String {
    f.iter().collect::<Vec<_>>().join(" ")
}

fn fmt_set(uids: &[u32]) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while i < uids.len() {
        let a = uids[i];
        let mut b = a;
        while i + 1 < uids.len() && uids[i + 1] == b + 1 {
            b += 1;
            i += 1;
        }
        i += 1;
        out.push(if a == b {
            a.to_string()
        } else {
            format!("{a}:{b}")
        });
    }
    out.join(",")
}

/// One connection of the reference server.
struct Conn {
    mb: Rc<RefCell<ServerBox>>,
    caps: Caps,
    rx: Receiver,
    selected: bool,
    condstore: bool,
    qresync: bool,
    /// The session's view: UIDs by sequence number, and the MODSEQ last reported per UID.
    view: Vec<u32>,
    reported: HashMap<u32, u64>,
    commands: usize,
    /// Close the connection when this many commands were received.
    cut_at: Option<usize>,
    /// Another client changes the mailbox when this many commands were received.
    remote_at: Option<(usize, RemoteOp)>,
    closed: bool,
}

impl Conn {
    fn new(mb: Rc<RefCell<ServerBox>>, caps: Caps) -> Self {
        Conn {
            mb,
            caps,
            rx: Receiver::server(DecodeOptions::default()),
            selected: false,
            condstore: false,
            qresync: false,
            view: Vec::new(),
            reported: HashMap::new(),
            commands: 0,
            cut_at: None,
            remote_at: None,
            closed: false,
        }
    }

    fn exchange(&mut self, input: &[u8]) -> Option<Vec<u8>> {
        if self.closed {
            return None;
        }
        self.rx.push(input);
        let mut out = Vec::new();
        while let Some(ev) = self.rx.next() {
            match ev {
                StreamEvent::LiteralAnnounced(_) if self.rx.awaiting_decision() => {
                    self.rx.accept_literal().unwrap();
                    out.extend_from_slice(b"+ go\r\n");
                }
                StreamEvent::Message(Decoded {
                    message: AnyMessage::Command(cmd),
                    ..
                }) => {
                    self.commands += 1;
                    if self.cut_at == Some(self.commands) {
                        self.closed = true;
                        // What was answered before the cut still goes out.
                        return if out.is_empty() { None } else { Some(out) };
                    }
                    if let Some((at, op)) = self.remote_at.clone() {
                        if at == self.commands {
                            self.remote_at = None;
                            if matches!(op, RemoteOp::Reset) {
                                self.mb.borrow_mut().remote(&op);
                                self.closed = true;
                                out.extend_from_slice(b"* BYE mailbox rebuilt\r\n");
                                return Some(out);
                            }
                            self.mb.borrow_mut().remote(&op);
                        }
                    }
                    let (tag, body) = cmd.into_parts();
                    let tag = tag.as_str().to_owned();
                    self.command(&tag, body, &mut out);
                }
                StreamEvent::Error(e) => panic!("the client sent something undecodable: {e:?}"),
                _ => {}
            }
        }
        Some(out)
    }

    fn w(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(s.as_bytes());
    }

    /// Untagged updates for everything that changed since the session last heard.
    fn notify(&mut self, out: &mut Vec<u8>) {
        if !self.selected {
            return;
        }
        let mb = self.mb.borrow();
        let gone: Vec<u32> = self
            .view
            .iter()
            .copied()
            .filter(|u| !mb.msgs.contains_key(u))
            .collect();
        if !gone.is_empty() {
            if self.qresync {
                Self::w(out, &format!("* VANISHED {}\r\n", fmt_set(&gone)));
                self.view.retain(|u| mb.msgs.contains_key(u));
            } else {
                for seq in (1..=self.view.len()).rev() {
                    if !mb.msgs.contains_key(&self.view[seq - 1]) {
                        Self::w(out, &format!("* {seq} EXPUNGE\r\n"));
                        self.view.remove(seq - 1);
                    }
                }
            }
        }
        for (i, uid) in self.view.iter().enumerate() {
            let m = &mb.msgs[uid];
            if self.reported.get(uid) != Some(&m.modseq) {
                self.reported.insert(*uid, m.modseq);
                let ms = if self.condstore {
                    format!(" MODSEQ ({})", m.modseq)
                } else {
                    String::new()
                };
                Self::w(
                    out,
                    &format!(
                        "* {} FETCH (UID {uid} FLAGS ({}){ms})\r\n",
                        i + 1,
                        fmt_flags(&m.flags)
                    ),
                );
            }
        }
        let top = self.view.last().copied().unwrap_or(0);
        let new: Vec<u32> = mb.msgs.range(top + 1..).map(|(u, _)| *u).collect();
        if !new.is_empty() {
            for u in new {
                self.view.push(u);
                self.reported.insert(u, mb.msgs[&u].modseq);
            }
            Self::w(out, &format!("* {} EXISTS\r\n", self.view.len()));
        }
    }

    fn uids_in(&self, set: &SequenceSet) -> Vec<u32> {
        let mb = self.mb.borrow();
        let max = mb.msgs.keys().next_back().copied().unwrap_or(0);
        if max == 0 {
            return Vec::new();
        }
        mb.msgs
            .keys()
            .copied()
            .filter(|u| set.contains(*u, max))
            .collect()
    }

    fn command(&mut self, tag: &str, body: CommandBody, out: &mut Vec<u8>) {
        let ok = |out: &mut Vec<u8>, code: &str| {
            Self::w(out, &format!("{tag} OK {code}done\r\n"));
        };
        match body {
            CommandBody::Noop | CommandBody::Capability => {
                if matches!(body, CommandBody::Capability) {
                    Self::w(out, &format!("* CAPABILITY {}\r\n", self.caps.line()));
                }
                self.notify(out);
                ok(out, "");
            }
            CommandBody::Enable(caps) => {
                let q = caps.contains(&imapwire_codec::capability::Capability::QResync);
                if q && self.caps.qresync {
                    self.qresync = true;
                    self.condstore = true;
                    Self::w(out, "* ENABLED QRESYNC\r\n");
                } else {
                    Self::w(out, "* ENABLED\r\n");
                }
                ok(out, "");
            }
            CommandBody::Select { params, .. } => {
                self.selected = true;
                let mb = self.mb.borrow().clone();
                self.view = mb.msgs.keys().copied().collect();
                self.reported = mb.msgs.iter().map(|(u, m)| (*u, m.modseq)).collect();
                if params.iter().any(|p| matches!(p, SelectParam::CondStore)) {
                    assert!(self.caps.condstore, "CONDSTORE sent to a server without it");
                    self.condstore = true;
                }
                Self::w(out, &format!("* FLAGS ({})\r\n", FLAGS.join(" ")));
                Self::w(out, &format!("* {} EXISTS\r\n", self.view.len()));
                Self::w(out, &format!("* OK [UIDVALIDITY {}] v\r\n", mb.uidvalidity));
                Self::w(out, &format!("* OK [UIDNEXT {}] n\r\n", mb.uidnext));
                if self.caps.condstore {
                    Self::w(out, &format!("* OK [HIGHESTMODSEQ {}] m\r\n", mb.hms));
                }
                for p in &params {
                    if let SelectParam::QResync {
                        uidvalidity,
                        modseq,
                        known_uids,
                        ..
                    } = p
                    {
                        assert!(self.qresync, "QRESYNC parameters before ENABLED QRESYNC");
                        assert!(*modseq > 0, "a MODSEQ of 0 was sent");
                        if uidvalidity.get() != mb.uidvalidity {
                            continue;
                        }
                        let gone: Vec<u32> = mb
                            .expunged
                            .iter()
                            .filter(|(u, ms)| {
                                *ms > *modseq
                                    && known_uids.as_ref().is_none_or(|k| k.contains(*u, u32::MAX))
                            })
                            .map(|(u, _)| *u)
                            .collect::<BTreeSet<_>>()
                            .into_iter()
                            .collect();
                        if !gone.is_empty() {
                            Self::w(out, &format!("* VANISHED (EARLIER) {}\r\n", fmt_set(&gone)));
                        }
                        for (i, (u, m)) in mb.msgs.iter().enumerate() {
                            if m.modseq > *modseq {
                                Self::w(
                                    out,
                                    &format!(
                                        "* {} FETCH (UID {u} FLAGS ({}) MODSEQ ({}))\r\n",
                                        i + 1,
                                        fmt_flags(&m.flags),
                                        m.modseq
                                    ),
                                );
                            }
                        }
                    }
                }
                ok(out, "[READ-WRITE] ");
            }
            CommandBody::Fetch {
                sequence_set,
                items,
                modifiers,
                uid: true,
            } => {
                self.notify(out);
                let attrs: Vec<FetchAttribute> = match &items {
                    FetchItems::Attributes(a) => a.as_slice().to_vec(),
                    _ => vec![FetchAttribute::Flags],
                };
                let mut since = None;
                let mut vanished = false;
                for m in &modifiers {
                    match m {
                        FetchModifier::ChangedSince(s) => {
                            assert!(*s > 0, "CHANGEDSINCE 0");
                            assert!(self.caps.condstore);
                            self.condstore = true;
                            since = Some(*s);
                        }
                        FetchModifier::Vanished => vanished = true,
                        _ => {}
                    }
                }
                let mb = self.mb.borrow().clone();
                if vanished {
                    let max = mb.uidnext;
                    let gone: Vec<u32> = mb
                        .expunged
                        .iter()
                        .filter(|(u, ms)| Some(*ms) > since && sequence_set.contains(*u, max))
                        .map(|(u, _)| *u)
                        .collect();
                    if !gone.is_empty() {
                        Self::w(out, &format!("* VANISHED (EARLIER) {}\r\n", fmt_set(&gone)));
                    }
                }
                for uid in self.uids_in(&sequence_set) {
                    let m = &mb.msgs[&uid];
                    if since.is_some_and(|s| m.modseq <= s) {
                        continue;
                    }
                    let seq = self.view.iter().position(|u| *u == uid).unwrap() + 1;
                    let mut s = format!("* {seq} FETCH (UID {uid}");
                    let mut lit = None;
                    for a in &attrs {
                        match a {
                            FetchAttribute::Flags => {
                                s.push_str(&format!(" FLAGS ({})", fmt_flags(&m.flags)))
                            }
                            FetchAttribute::ModSeq => {
                                s.push_str(&format!(" MODSEQ ({})", m.modseq))
                            }
                            FetchAttribute::BodySection { section: None, .. } => {
                                lit = Some(m.body.clone())
                            }
                            _ => {}
                        }
                    }
                    if since.is_some() && !attrs.contains(&FetchAttribute::ModSeq) {
                        s.push_str(&format!(" MODSEQ ({})", m.modseq));
                    }
                    self.reported.insert(uid, m.modseq);
                    Self::w(out, &s);
                    if let Some(b) = lit {
                        Self::w(out, &format!(" BODY[] {{{}}}\r\n", b.len()));
                        out.extend_from_slice(&b);
                    }
                    Self::w(out, ")\r\n");
                }
                ok(out, "");
            }
            CommandBody::Store {
                sequence_set,
                modifiers,
                kind,
                data: StoreData::Flags(flags),
                uid: true,
                ..
            } => {
                let mut unchanged = None;
                for m in &modifiers {
                    if let StoreModifier::UnchangedSince(s) = m {
                        assert!(self.caps.condstore);
                        self.condstore = true;
                        unchanged = Some(*s);
                    }
                }
                let mut f = FlagSet::new();
                for x in &flags {
                    f.insert_flag(x);
                }
                let mut modified = Vec::new();
                for uid in self.uids_in(&sequence_set) {
                    let mut mb = self.mb.borrow_mut();
                    let cur = mb.msgs[&uid].clone();
                    if unchanged.is_some_and(|s| cur.modseq > s) {
                        modified.push(uid);
                        continue;
                    }
                    let mut new = cur.flags.clone();
                    match kind {
                        StoreType::Replace => new = f.clone(),
                        StoreType::Add => new.union_with(&f),
                        StoreType::Remove => new.subtract(&f),
                    }
                    if !mb.set_flags(uid, new) {
                        // Unchanged: a non-silent STORE still reports the flags.
                        self.reported.remove(&uid);
                    }
                }
                self.notify(out);
                if modified.is_empty() {
                    ok(out, "");
                } else {
                    ok(out, &format!("[MODIFIED {}] ", fmt_set(&modified)));
                }
            }
            CommandBody::Search {
                return_opts,
                criteria,
                uid: true,
                ..
            } => {
                self.notify(out);
                let mb = self.mb.borrow().clone();
                let hits: Vec<u32> = match criteria.as_slice() {
                    [SearchKey::Header(name, value)] => {
                        let needle = format!(
                            "{}: {}",
                            String::from_utf8_lossy(name.as_bytes()),
                            String::from_utf8_lossy(value.as_bytes())
                        );
                        mb.msgs
                            .iter()
                            .filter(|(_, m)| {
                                String::from_utf8_lossy(&m.body).contains(needle.as_str())
                            })
                            .map(|(u, _)| *u)
                            .collect()
                    }
                    [SearchKey::Uid(set)] => self.uids_in(set),
                    other => panic!("unexpected search {other:?}"),
                };
                if return_opts.is_some() {
                    assert!(self.caps.esearch, "ESEARCH used without the capability");
                    if hits.is_empty() {
                        Self::w(out, &format!("* ESEARCH (TAG \"{tag}\") UID\r\n"));
                    } else {
                        Self::w(
                            out,
                            &format!("* ESEARCH (TAG \"{tag}\") UID ALL {}\r\n", fmt_set(&hits)),
                        );
                    }
                } else {
                    let list: Vec<String> = hits.iter().map(|u| u.to_string()).collect();
                    let sp = if list.is_empty() { "" } else { " " };
                    Self::w(out, &format!("* SEARCH{sp}{}\r\n", list.join(" ")));
                }
                ok(out, "");
            }
            CommandBody::UidExpunge(set) => {
                assert!(self.caps.uidplus, "UID EXPUNGE without UIDPLUS");
                for uid in self.uids_in(&set) {
                    let mut mb = self.mb.borrow_mut();
                    if mb.msgs[&uid].flags.contains("\\Deleted") {
                        mb.expunge(uid);
                    }
                }
                self.notify(out);
                ok(out, "");
            }
            CommandBody::Move {
                sequence_set,
                uid: true,
                ..
            } => {
                assert!(self.caps.mv, "MOVE without the capability");
                for uid in self.uids_in(&sequence_set) {
                    let mut mb = self.mb.borrow_mut();
                    if let Some(m) = mb.expunge(uid) {
                        mb.elsewhere.push(m.body);
                    }
                }
                self.notify(out);
                ok(out, "");
            }
            CommandBody::Copy {
                sequence_set,
                uid: true,
                ..
            } => {
                for uid in self.uids_in(&sequence_set) {
                    let mut mb = self.mb.borrow_mut();
                    let b = mb.msgs[&uid].body.clone();
                    mb.elsewhere.push(b);
                }
                self.notify(out);
                ok(out, "");
            }
            CommandBody::Append { messages, .. } => {
                let mut uids = Vec::new();
                for m in messages {
                    let AppendData::Literal { data, .. } = m.data else {
                        panic!("unexpected append data");
                    };
                    let mut f = FlagSet::new();
                    for x in &m.flags {
                        f.insert_flag(x);
                    }
                    uids.push(self.mb.borrow_mut().add(f, data));
                }
                self.notify(out);
                if self.caps.uidplus {
                    let uv = self.mb.borrow().uidvalidity;
                    ok(out, &format!("[APPENDUID {uv} {}] ", fmt_set(&uids)));
                } else {
                    ok(out, "");
                }
            }
            CommandBody::Logout => {
                Self::w(out, "* BYE bye\r\n");
                ok(out, "");
            }
            other => {
                Self::w(out, &format!("{tag} BAD unexpected {other:?}\r\n"));
            }
        }
    }
}

// ---- the application ----

#[derive(Debug, Clone, PartialEq, Eq)]
enum RemoteOp {
    Append(u8),
    Flags(u8, u8),
    Expunge(u8),
    Reset,
}

#[derive(Debug, Clone)]
enum LocalOp {
    Flag { pick: u8, flag: u8, add: bool },
    Delete(u8),
    Move(u8),
    Append(u8),
}

#[derive(Debug, Clone, Copy)]
enum Kill {
    /// The process dies when the connection is cut (nothing saved from this sync).
    DuringSync,
    /// The process dies after applying the change set, before saving the state.
    AfterApply,
}

#[derive(Debug, Clone)]
enum Op {
    Remote(RemoteOp),
    Local(LocalOp),
    Sync {
        cut: Option<u8>,
        kill: Option<Kill>,
        concurrent: Option<(u8, RemoteOp)>,
    },
}

/// The application: what it persisted, and its local copy of the contents.
struct App {
    state: ReplicaState,
    journal: Journal,
    contents: BTreeMap<u32, Bytes>,
    /// The UIDVALIDITY the local contents belong to.
    contents_uv: Option<u32>,
    next_local: u32,
    /// Every journal entry ever recorded, and those reported resolved or discarded.
    recorded: BTreeSet<u64>,
    resolved: BTreeSet<u64>,
    appended_ids: Vec<String>,
}

impl App {
    fn new() -> Self {
        App {
            state: ReplicaState::default(),
            journal: Journal::new(),
            contents: BTreeMap::new(),
            contents_uv: None,
            next_local: 0,
            recorded: BTreeSet::new(),
            resolved: BTreeSet::new(),
            appended_ids: Vec::new(),
        }
    }

    fn local(&mut self, op: &LocalOp) {
        let pick = |p: u8| pick_uid(self.state.messages.keys().copied(), p);
        let change = match *op {
            LocalOp::Flag { pick: p, flag, add } => pick(p).map(|uid| {
                let f = FlagSet::from_names([FLAGS[flag as usize % FLAGS.len()]]);
                if add {
                    LocalChange::Flags {
                        uid,
                        add: f,
                        remove: FlagSet::new(),
                    }
                } else {
                    LocalChange::Flags {
                        uid,
                        add: FlagSet::new(),
                        remove: f,
                    }
                }
            }),
            LocalOp::Delete(p) => pick(p).map(|uid| LocalChange::Delete { uid }),
            LocalOp::Move(p) => pick(p).map(|uid| LocalChange::Move {
                uid,
                to: "Archive".into(),
            }),
            LocalOp::Append(bits) => {
                self.next_local += 1;
                let mid = format!("<local{}@model>", self.next_local);
                self.appended_ids.push(mid.clone());
                Some(LocalChange::Append {
                    message: Bytes::from(format!(
                        "Message-ID: {mid}\r\n\r\nlocal body {}\r\n",
                        self.next_local
                    )),
                    flags: flagset(bits),
                    message_id: mid,
                })
            }
        };
        if let Some(c) = change {
            let id = self.journal.record(c);
            self.recorded.insert(id);
        }
    }

    /// A restart: the persisted state is the truth; local contents it does not list came
    /// from a change set whose state was never saved (the documented rule).
    fn restart(&mut self) {
        if self.contents_uv != self.state.uidvalidity {
            self.contents.clear();
            self.contents_uv = self.state.uidvalidity;
        }
        let known = &self.state.messages;
        self.contents.retain(|u, _| known.contains_key(u));
    }

    fn apply(&mut self, ch: &ChangeSet) {
        if let Some(r) = &ch.uidvalidity_reset {
            self.contents.clear();
            self.contents_uv = Some(r.new);
            self.resolved.extend(r.discarded.iter().map(|e| e.id));
        }
        for u in &ch.expunged {
            self.contents.remove(u);
        }
        if self.contents_uv.is_none() {
            self.contents_uv = ch.uidvalidity;
        }
        for n in &ch.new_messages {
            let body = n.body.clone().expect("bodies are fetched");
            self.contents.insert(n.uid, body);
        }
        self.resolved.extend(ch.resolved.iter().map(|(id, _)| *id));
    }
}

struct Outcome {
    reset: bool,
    before: Vec<imapwire_session::sync::JournalEntry>,
    completed: bool,
    changes: Option<ChangeSet>,
    mode: Option<SyncMode>,
    resolved: Vec<(u64, Resolution)>,
}

fn sync_once(
    app: &mut App,
    mb: &Rc<RefCell<ServerBox>>,
    caps: Caps,
    cut: Option<u8>,
    kill: Option<Kill>,
    concurrent: Option<(u8, RemoteOp)>,
) -> Outcome {
    let now = Instant::now();
    let mut conn = Conn::new(mb.clone(), caps);
    conn.cut_at = cut.map(|c| c as usize + 1);
    conn.remote_at = concurrent.map(|(at, op)| (at as usize + 1, op));
    let mut client = Client::new(ClientConfig::default().with_encrypted(true), now).unwrap();
    let greeting = format!("* PREAUTH [CAPABILITY {}] ready\r\n", caps.line());
    assert_eq!(
        client.handle_input(now, greeting.as_bytes()),
        greeting.len()
    );
    while client.poll_event().is_some() {}
    let engine = SyncEngine::new(
        SyncConfig::new(Mailbox::try_from("INBOX").unwrap()),
        ServerInfo::from_client(&client),
        app.state.clone(),
        app.journal.clone(),
    );
    let mut persisted: Option<Journal> = None;
    let before = app.journal.entries().to_vec();
    let result = imapwire_session::sync::run(
        engine,
        &mut client,
        now,
        &mut |out| conn.exchange(out),
        &mut |j| persisted = Some(j.clone()),
        &mut |_: &Event| {},
    );
    match result {
        Ok(out) => {
            let changes = out.changes.clone();
            app.apply(&changes);
            if matches!(kill, Some(Kill::AfterApply)) {
                // Killed before saving: the state stays; the journal as last persisted.
                if let Some(j) = persisted {
                    app.journal = j;
                }
                app.restart();
                return Outcome {
                    reset: false,
                    before,
                    completed: false,
                    changes: None,
                    mode: out.report.mode,
                    resolved: Vec::new(),
                };
            }
            app.state = out.state;
            app.journal = out.journal;
            Outcome {
                reset: changes.uidvalidity_reset.is_some(),
                before,
                completed: true,
                changes: Some(changes),
                mode: out.report.mode,
                resolved: out.changes.resolved,
            }
        }
        Err(fail) => {
            match kill {
                Some(_) => {
                    if let Some(j) = persisted {
                        app.journal = j;
                    }
                    app.restart();
                }
                None => app.journal = fail.journal,
            }
            assert_eq!(
                fail.state, app.state,
                "a failed sync hands back the same state"
            );
            Outcome {
                reset: false,
                before,
                completed: false,
                changes: None,
                mode: None,
                resolved: Vec::new(),
            }
        }
    }
}

/// The replica equals the server: UIDs, flags, contents.
fn check_replica(app: &App, mb: &ServerBox, ctx: &str) {
    assert_eq!(
        app.state.uidvalidity,
        Some(mb.uidvalidity),
        "{ctx}: UIDVALIDITY"
    );
    let server: BTreeMap<u32, FlagSet> =
        mb.msgs.iter().map(|(u, m)| (*u, m.flags.clone())).collect();
    let replica: BTreeMap<u32, FlagSet> = app
        .state
        .messages
        .iter()
        .map(|(u, m)| (*u, m.flags.clone()))
        .collect();
    assert_eq!(replica, server, "{ctx}: UIDs and flags");
    let contents: BTreeMap<u32, Bytes> =
        mb.msgs.iter().map(|(u, m)| (*u, m.body.clone())).collect();
    assert_eq!(app.contents, contents, "{ctx}: contents");
    for (u, m) in &app.state.messages {
        assert!(
            m.modseq <= mb.msgs[u].modseq,
            "{ctx}: MODSEQ of {u} from the future"
        );
    }
}

/// No local append is on the server (or in the replica) twice.
fn check_no_duplicates(app: &App, mb: &ServerBox) {
    for mid in &app.appended_ids {
        let needle = format!("Message-ID: {mid}\r\n");
        let n = mb
            .msgs
            .values()
            .filter(|m| String::from_utf8_lossy(&m.body).contains(&needle))
            .count();
        assert!(n <= 1, "{mid} is on the server {n} times");
        let local = app
            .contents
            .values()
            .filter(|b| String::from_utf8_lossy(b).contains(&needle))
            .count();
        assert!(local <= 1, "{mid} is in the replica {local} times");
    }
}

fn caps_for(level: u8, extras: u8) -> Caps {
    Caps {
        qresync: level == 0,
        condstore: level <= 1,
        uidplus: extras & 1 != 0 || level == 0,
        mv: extras & 2 != 0,
        esearch: extras & 4 != 0,
    }
}

fn remote_op() -> impl Strategy<Value = RemoteOp> {
    prop_oneof![
        4 => (0u8..32).prop_map(RemoteOp::Append),
        4 => (any::<u8>(), 0u8..32).prop_map(|(p, b)| RemoteOp::Flags(p, b)),
        3 => any::<u8>().prop_map(RemoteOp::Expunge),
        1 => Just(RemoteOp::Reset),
    ]
}

fn local_op() -> impl Strategy<Value = LocalOp> {
    prop_oneof![
        5 => (any::<u8>(), 0u8..5, any::<bool>()).prop_map(|(pick, flag, add)| LocalOp::Flag { pick, flag, add }),
        2 => any::<u8>().prop_map(LocalOp::Delete),
        1 => any::<u8>().prop_map(LocalOp::Move),
        2 => (0u8..32).prop_map(LocalOp::Append),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => remote_op().prop_map(Op::Remote),
        4 => local_op().prop_map(Op::Local),
        3 => (
            prop::option::weighted(0.3, 0u8..12),
            prop::option::weighted(0.3, prop_oneof![Just(Kill::DuringSync), Just(Kill::AfterApply)]),
            prop::option::weighted(0.2, (0u8..8, remote_op())),
        )
            .prop_map(|(cut, kill, concurrent)| Op::Sync { cut, kill, concurrent }),
    ]
}

fn run_case(level: u8, extras: u8, ops: &[Op]) {
    let caps = caps_for(level, extras);
    let mb = Rc::new(RefCell::new(ServerBox::new()));
    let mut app = App::new();
    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::Remote(r) => mb.borrow_mut().remote(r),
            Op::Local(l) => app.local(l),
            Op::Sync {
                cut,
                kill,
                concurrent,
            } => {
                let (cut, kill) = match kill {
                    Some(Kill::DuringSync) => (Some(cut.unwrap_or(3)), *kill),
                    _ => (*cut, *kill),
                };
                let o = sync_once(&mut app, &mb, caps, cut, kill, concurrent.clone());
                check_no_duplicates(&app, &mb.borrow());
                if o.completed && concurrent.is_none() {
                    check_replica(&app, &mb.borrow(), &format!("after op {i}"));
                    check_local_changes(
                        caps,
                        &o.before,
                        &mb.borrow(),
                        &o.resolved,
                        &format!("op {i}"),
                    );
                }
                let _ = o.changes;
            }
        }
    }
    // A clean synchronisation converges...
    let had_position = app.state.highestmodseq.is_some();
    let o = sync_once(&mut app, &mb, caps, None, None, None);
    assert!(o.completed, "the final sync completes");
    check_replica(&app, &mb.borrow(), "final");
    check_no_duplicates(&app, &mb.borrow());
    assert!(
        app.journal.is_empty(),
        "every local change uploaded: {:?}",
        app.journal
    );
    let missing: Vec<&u64> = app.recorded.difference(&app.resolved).collect();
    assert!(
        missing.is_empty(),
        "local changes never reported resolved: {missing:?}"
    );
    if had_position && level < 2 && !o.reset {
        assert_ne!(o.mode, Some(SyncMode::Full), "a known position is used");
    }
    // ...and a second one finds nothing to do (nothing duplicated, nothing re-reported).
    let o = sync_once(&mut app, &mb, caps, None, None, None);
    let ch = o.changes.expect("completed");
    assert!(
        ch.expunged.is_empty() && ch.new_messages.is_empty() && ch.flags_changed.is_empty(),
        "a second sync changed something: {ch:?}"
    );
    let want_mode = match level {
        0 => SyncMode::Qresync,
        1 => SyncMode::Condstore,
        _ => SyncMode::Full,
    };
    assert_eq!(o.mode, Some(want_mode), "level {level}");
    check_replica(&app, &mb.borrow(), "idle");
}

/// The local changes this sync reports applied are on the server (no other client changed
/// the mailbox during it; changes made before it were merged): flag additions set and
/// removals cleared, deletions and moves gone (or, without UIDPLUS, marked `\Deleted`).
fn check_local_changes(
    caps: Caps,
    before: &[imapwire_session::sync::JournalEntry],
    mb: &ServerBox,
    resolved: &[(u64, Resolution)],
    ctx: &str,
) {
    let applied: BTreeSet<u64> = resolved
        .iter()
        .filter(|(_, r)| matches!(r, Resolution::Applied | Resolution::Merged))
        .map(|(id, _)| *id)
        .collect();
    let mut net: BTreeMap<u32, (FlagSet, FlagSet)> = BTreeMap::new();
    let mut removed: BTreeMap<u32, bool> = BTreeMap::new();
    for e in before.iter().filter(|e| applied.contains(&e.id)) {
        match &e.change {
            LocalChange::Flags { uid, add, remove } => {
                let n = net.entry(*uid).or_default();
                n.0.subtract(remove);
                n.1.subtract(add);
                n.0.union_with(add);
                n.1.union_with(remove);
            }
            LocalChange::Delete { uid } => {
                removed.insert(*uid, false);
            }
            LocalChange::Move { uid, .. } => {
                removed.insert(*uid, true);
            }
            _ => {}
        }
    }
    for (uid, (add, remove)) in net {
        if removed.contains_key(&uid) {
            continue;
        }
        let Some(m) = mb.msgs.get(&uid) else { continue };
        for f in add.iter() {
            assert!(
                m.flags.contains(f),
                "{ctx}: local +{f} on {uid} lost: {:?}",
                m.flags
            );
        }
        for f in remove.iter() {
            assert!(
                !m.flags.contains(f),
                "{ctx}: local -{f} on {uid} lost: {:?}",
                m.flags
            );
        }
    }
    for (uid, is_move) in removed {
        let gone = if is_move {
            caps.mv || caps.uidplus
        } else {
            caps.uidplus
        };
        match mb.msgs.get(&uid) {
            None => {}
            Some(_) if gone => panic!("{ctx}: {uid} deleted or moved locally is still there"),
            Some(m) => {
                assert!(
                    m.flags.contains("\\Deleted"),
                    "{ctx}: {uid} not marked \\Deleted"
                );
            }
        }
    }
}

proptest! {
    #[test]
    fn model_check_all_levels(
        level in 0u8..3,
        extras in 0u8..8,
        ops in prop::collection::vec(op(), 1..40),
    ) {
        run_case(level, extras, &ops);
    }
}
