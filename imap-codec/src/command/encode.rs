//! Command encoding (RFC 9051 §9 `command` and the extension grammars).

use super::*;

pub(super) fn encode_mailbox_pair(buf: &mut EncodeBuf, kw: &[u8], a: &Mailbox, b: &Mailbox) {
    buf.raw(kw);
    buf.sp();
    a.encode(buf);
    buf.sp();
    b.encode(buf);
}

pub(super) fn encode_params<T: Encode>(buf: &mut EncodeBuf, v: &[T]) {
    if !v.is_empty() {
        buf.sp();
        buf.list(v, |b, x| x.encode(b));
    }
}

pub(super) fn encode_search_tail(
    buf: &mut EncodeBuf,
    return_opts: &Option<Vec<SearchReturnOption>>,
    charset: &Option<Charset>,
    criteria: &[SearchKey],
) {
    if let Some(r) = return_opts {
        buf.sp();
        SearchReturnOption::encode_return(r, buf);
    }
    buf.sp();
    if let Some(c) = charset {
        buf.raw(b"CHARSET ");
        c.encode(buf);
        buf.sp();
    }
    SearchKey::encode_many(criteria, buf);
}

impl Encode for CommandBody {
    fn encode(&self, buf: &mut EncodeBuf) {
        use CommandBody as C;
        let uid_prefix = |buf: &mut EncodeBuf, uid: bool| {
            if uid {
                buf.raw(b"UID ");
            }
        };
        match self {
            C::Capability => buf.raw(b"CAPABILITY"),
            C::Noop => buf.raw(b"NOOP"),
            C::Logout => buf.raw(b"LOGOUT"),
            C::Id(params) => {
                buf.raw(b"ID ");
                crate::ext::encode_id_params(buf, params);
            }
            C::StartTls => buf.raw(b"STARTTLS"),
            C::Authenticate {
                mechanism,
                initial_response,
            } => {
                buf.raw(b"AUTHENTICATE ");
                mechanism.encode(buf);
                if let Some(ir) = initial_response {
                    buf.sp();
                    if ir.expose().is_empty() {
                        buf.byte(b'=');
                    } else {
                        buf.raw(crate::base64::encode(ir.expose()).as_bytes());
                    }
                }
            }
            C::Login { username, password } => {
                buf.raw(b"LOGIN ");
                username.encode_astring(buf);
                buf.sp();
                password.expose().encode_astring(buf);
            }
            C::Enable(caps) => {
                buf.raw(b"ENABLE");
                for c in caps {
                    buf.sp();
                    c.encode(buf);
                }
            }
            C::Select { mailbox, params } | C::Examine { mailbox, params } => {
                buf.raw(if matches!(self, C::Select { .. }) {
                    b"SELECT "
                } else {
                    b"EXAMINE "
                });
                mailbox.encode(buf);
                encode_params(buf, params);
            }
            C::Create { mailbox, params } => {
                buf.raw(b"CREATE ");
                mailbox.encode(buf);
                encode_params(buf, params);
            }
            C::Delete(m) => {
                buf.raw(b"DELETE ");
                m.encode(buf);
            }
            C::Rename { from, to } => encode_mailbox_pair(buf, b"RENAME", from, to),
            C::Subscribe(m) => {
                buf.raw(b"SUBSCRIBE ");
                m.encode(buf);
            }
            C::Unsubscribe(m) => {
                buf.raw(b"UNSUBSCRIBE ");
                m.encode(buf);
            }
            C::List {
                selection,
                reference,
                patterns,
                return_opts,
            } => {
                buf.raw(b"LIST ");
                if let Some(s) = selection {
                    buf.list(s, |b, o| o.encode(b));
                    buf.sp();
                }
                reference.encode(buf);
                buf.sp();
                if patterns.len() == 1 {
                    patterns[0].encode(buf);
                } else {
                    buf.list(patterns, |b, m| m.encode(b));
                }
                if let Some(r) = return_opts {
                    buf.raw(b" RETURN ");
                    buf.list(r, |b, o| o.encode(b));
                }
            }
            C::Lsub { reference, pattern }
            | C::XList { reference, pattern }
            | C::RList { reference, pattern }
            | C::RLsub { reference, pattern } => {
                buf.raw(match self {
                    C::Lsub { .. } => b"LSUB ",
                    C::XList { .. } => b"XLIST ",
                    C::RList { .. } => b"RLIST ",
                    _ => b"RLSUB ",
                });
                reference.encode(buf);
                buf.sp();
                pattern.encode(buf);
            }
            C::Namespace => buf.raw(b"NAMESPACE"),
            C::Status {
                mailbox,
                attributes,
            } => {
                buf.raw(b"STATUS ");
                mailbox.encode(buf);
                buf.sp();
                buf.list(attributes, |b, a| a.encode(b));
            }
            C::Append { mailbox, messages } => {
                buf.raw(b"APPEND ");
                mailbox.encode(buf);
                for m in messages {
                    m.encode(buf);
                }
            }
            C::Idle => buf.raw(b"IDLE"),
            C::GetQuota(root) => {
                buf.raw(b"GETQUOTA ");
                root.encode_astring(buf);
            }
            C::GetQuotaRoot(m) => {
                buf.raw(b"GETQUOTAROOT ");
                m.encode(buf);
            }
            C::SetQuota { root, limits } => {
                buf.raw(b"SETQUOTA ");
                root.encode_astring(buf);
                buf.sp();
                buf.list(limits, |b, l| {
                    l.resource.encode(b);
                    b.sp();
                    b.num(l.limit);
                });
            }
            C::GetAcl(m) => {
                buf.raw(b"GETACL ");
                m.encode(buf);
            }
            C::SetAcl {
                mailbox,
                identifier,
                modification,
                rights,
            } => {
                buf.raw(b"SETACL ");
                mailbox.encode(buf);
                buf.sp();
                identifier.encode_astring(buf);
                buf.sp();
                let mut r = Vec::with_capacity(rights.as_bytes().len() + 1);
                match modification {
                    AclModification::Add => r.push(b'+'),
                    AclModification::Remove => r.push(b'-'),
                    AclModification::Replace => {}
                }
                r.extend_from_slice(rights.as_bytes());
                buf.astring(&r);
            }
            C::DeleteAcl {
                mailbox,
                identifier,
            }
            | C::ListRights {
                mailbox,
                identifier,
            } => {
                buf.raw(if matches!(self, C::DeleteAcl { .. }) {
                    b"DELETEACL "
                } else {
                    b"LISTRIGHTS "
                });
                mailbox.encode(buf);
                buf.sp();
                identifier.encode_astring(buf);
            }
            C::MyRights(m) => {
                buf.raw(b"MYRIGHTS ");
                m.encode(buf);
            }
            C::GetMetadata {
                options,
                mailbox,
                entries,
            } => {
                buf.raw(b"GETMETADATA ");
                if !options.is_empty() {
                    buf.list(options, |b, o| o.encode(b));
                    buf.sp();
                }
                mailbox.encode(buf);
                buf.sp();
                if entries.len() == 1 {
                    entries[0].encode_astring(buf);
                } else {
                    buf.list(entries, |b, e| e.encode_astring(b));
                }
            }
            C::SetMetadata { mailbox, entries } => {
                buf.raw(b"SETMETADATA ");
                mailbox.encode(buf);
                buf.sp();
                buf.list(entries, |b, (e, v)| {
                    e.encode_astring(b);
                    b.sp();
                    match v {
                        None => b.raw(b"NIL"),
                        Some(v) if memchr::memchr(0, v).is_some() => b.literal(v, true),
                        Some(v) => b.string(v),
                    }
                });
            }
            C::Notify(n) => match n {
                Notify::None => buf.raw(b"NOTIFY NONE"),
                Notify::Set { status, groups } => {
                    buf.raw(b"NOTIFY SET");
                    if *status {
                        buf.raw(b" STATUS");
                    }
                    for g in groups {
                        buf.sp();
                        g.encode(buf);
                    }
                }
            },
            C::Compress(a) => {
                buf.raw(b"COMPRESS ");
                a.encode(buf);
            }
            C::Unauthenticate => buf.raw(b"UNAUTHENTICATE"),
            C::GetJmapAccess => buf.raw(b"GETJMAPACCESS"),
            C::ESearch {
                source,
                return_opts,
                charset,
                criteria,
            } => {
                buf.raw(b"ESEARCH");
                if let Some(s) = source {
                    buf.raw(b" IN (");
                    buf.sep(&s.filters, b" ", &mut |b, f| f.encode(b));
                    if !s.scope_options.is_empty() {
                        buf.sp();
                        buf.list(&s.scope_options, |b, (n, v)| encode_named(b, n, v.as_ref()));
                    }
                    buf.byte(b')');
                }
                encode_search_tail(buf, return_opts, charset, criteria);
            }
            C::GenUrlAuth(v) => {
                buf.raw(b"GENURLAUTH");
                for (u, m) in v {
                    buf.sp();
                    u.encode_astring(buf);
                    buf.sp();
                    m.encode(buf);
                }
            }
            C::ResetKey(v) => {
                buf.raw(b"RESETKEY");
                if let Some((m, mechs)) = v {
                    buf.sp();
                    m.encode(buf);
                    for a in mechs {
                        buf.sp();
                        a.encode(buf);
                    }
                }
            }
            C::UrlFetch(v) => {
                buf.raw(b"URLFETCH");
                for u in v {
                    buf.sp();
                    u.encode_astring(buf);
                }
            }
            C::Check => buf.raw(b"CHECK"),
            C::Close => buf.raw(b"CLOSE"),
            C::Unselect => buf.raw(b"UNSELECT"),
            C::Expunge => buf.raw(b"EXPUNGE"),
            C::UidExpunge(s) => {
                buf.raw(b"UID EXPUNGE ");
                s.encode(buf);
            }
            C::Search {
                return_opts,
                charset,
                criteria,
                uid,
            } => {
                uid_prefix(buf, *uid);
                buf.raw(b"SEARCH");
                encode_search_tail(buf, return_opts, charset, criteria);
            }
            C::Fetch {
                sequence_set,
                items,
                modifiers,
                uid,
            } => {
                uid_prefix(buf, *uid);
                buf.raw(b"FETCH ");
                sequence_set.encode(buf);
                buf.sp();
                items.encode(buf);
                encode_params(buf, modifiers);
            }
            C::Store {
                sequence_set,
                modifiers,
                kind,
                silent,
                data,
                uid,
            } => {
                uid_prefix(buf, *uid);
                buf.raw(b"STORE ");
                sequence_set.encode(buf);
                encode_params(buf, modifiers);
                buf.sp();
                match kind {
                    StoreType::Replace => {}
                    StoreType::Add => buf.byte(b'+'),
                    StoreType::Remove => buf.byte(b'-'),
                }
                match data {
                    StoreData::Flags(_) => buf.raw(b"FLAGS"),
                    StoreData::GmailLabels(_) => buf.raw(b"X-GM-LABELS"),
                }
                if *silent {
                    buf.raw(b".SILENT");
                }
                buf.sp();
                match data {
                    StoreData::Flags(v) => buf.list(v, |b, f| f.encode(b)),
                    StoreData::GmailLabels(v) => buf.list(v, |b, l| l.encode(b)),
                }
            }
            C::Copy {
                sequence_set,
                mailbox,
                uid,
            }
            | C::Move {
                sequence_set,
                mailbox,
                uid,
            } => {
                uid_prefix(buf, *uid);
                buf.raw(if matches!(self, C::Copy { .. }) {
                    b"COPY "
                } else {
                    b"MOVE "
                });
                sequence_set.encode(buf);
                buf.sp();
                mailbox.encode(buf);
            }
            C::Sort {
                return_opts,
                criteria,
                charset,
                search,
                uid,
            } => {
                uid_prefix(buf, *uid);
                buf.raw(b"SORT");
                if let Some(r) = return_opts {
                    buf.sp();
                    SearchReturnOption::encode_return(r, buf);
                }
                buf.sp();
                buf.list(criteria, |b, c| c.encode(b));
                buf.sp();
                charset.encode(buf);
                buf.sp();
                SearchKey::encode_many(search, buf);
            }
            C::Thread {
                algorithm,
                charset,
                search,
                uid,
            } => {
                uid_prefix(buf, *uid);
                buf.raw(b"THREAD ");
                algorithm.encode(buf);
                buf.sp();
                charset.encode(buf);
                buf.sp();
                SearchKey::encode_many(search, buf);
            }
            C::CancelUpdate(tags) => {
                buf.raw(b"CANCELUPDATE");
                for t in tags {
                    buf.raw(b" \"");
                    t.encode(buf);
                    buf.byte(b'"');
                }
            }
            C::Replace {
                number,
                mailbox,
                message,
                uid,
            } => {
                uid_prefix(buf, *uid);
                buf.raw(b"REPLACE ");
                buf.num(number.get());
                buf.sp();
                mailbox.encode(buf);
                message.encode(buf);
            }
            C::Other { name, raw } => {
                name.encode(buf);
                if !raw.is_empty() {
                    buf.sp();
                    let at = buf.out.len();
                    buf.raw(raw);
                    // Literals inside the raw arguments, as announced there.
                    for l in scan_raw_args(raw, true).unwrap_or_default() {
                        buf.literals.push(crate::encode::LiteralMark {
                            start: at + l.start,
                            len: l.len,
                            mode: l.mode,
                        });
                    }
                }
            }
        }
    }
}

impl Encode for Command {
    fn encode(&self, buf: &mut EncodeBuf) {
        self.tag.encode(buf);
        buf.sp();
        self.body.encode(buf);
        buf.crlf();
    }
}
