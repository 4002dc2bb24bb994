//! Command decoding (RFC 9051 §9 `command` and the extension grammars).

use super::*;

pub(super) fn sp_mailbox(p: &mut Parser<'_>) -> PResult<Mailbox> {
    p.sp()?;
    Mailbox::parse(p)
}

pub(super) fn sp_astring(p: &mut Parser<'_>) -> PResult<AString> {
    p.sp()?;
    IString::parse_astring(p)
}

pub(super) fn sp_seq(p: &mut Parser<'_>) -> PResult<SequenceSet> {
    p.sp()?;
    SequenceSet::parse(p)
}

/// `[SP "(" item *(SP item) ")"]`.
pub(super) fn opt_params<T>(
    p: &mut Parser<'_>,
    item: impl FnMut(&mut Parser<'_>) -> PResult<T>,
) -> PResult<Vec<T>> {
    if p.peek() == Some(b' ') && p.peek_at(1) == Some(b'(') {
        p.sp()?;
        paren_list(p, false, item)
    } else {
        Ok(Vec::new())
    }
}

/// `[SP "RETURN" SP "(" ... ")"]`.
pub(super) fn opt_return(p: &mut Parser<'_>) -> PResult<Option<Vec<SearchReturnOption>>> {
    if p.peek() != Some(b' ') {
        return Ok(None);
    }
    let found = p.opt(|p| {
        p.sp()?;
        if p.looking_at_ci(b"RETURN ") {
            Ok(())
        } else {
            Err(Fail)
        }
    });
    match found {
        Some(()) => SearchReturnOption::parse_return(p).map(Some),
        None => Ok(None),
    }
}

/// `[CHARSET charset SP] search-key *(SP search-key)` after the SP.
pub(super) fn search_program(p: &mut Parser<'_>) -> PResult<(Option<Charset>, Vec<SearchKey>)> {
    let charset = if p.keyword(b"CHARSET") {
        p.sp()?;
        let c = Charset::parse(p)?;
        p.sp()?;
        Some(c)
    } else {
        None
    };
    Ok((charset, SearchKey::parse_many(p)?))
}

pub(super) fn store_args(p: &mut Parser<'_>) -> PResult<(StoreType, bool, StoreData)> {
    let kind = if p.eat(b'+') {
        StoreType::Add
    } else if p.eat(b'-') {
        StoreType::Remove
    } else {
        StoreType::Replace
    };
    let labels = if p.keyword(b"FLAGS") {
        false
    } else if p.keyword(b"X-GM-LABELS") {
        true
    } else {
        return Err(p.fail("FLAGS"));
    };
    let silent = p.eat_ci(b".SILENT");
    p.sp()?;
    let data = if labels {
        if p.peek() == Some(b'(') {
            StoreData::GmailLabels(paren_list(p, true, GmailLabel::parse)?)
        } else {
            let mut v = vec![GmailLabel::parse(p)?];
            v.extend(sp_items(p, true, GmailLabel::parse)?);
            StoreData::GmailLabels(v)
        }
    } else if p.peek() == Some(b'(') {
        let mut v = crate::flag::FlagList::new();
        crate::flag::parse_flags_into(p, &mut v)?;
        StoreData::Flags(v)
    } else {
        let mut v = crate::flag::FlagList::new();
        v.push(Flag::parse(p)?);
        v.extend(sp_items(p, true, Flag::parse)?);
        StoreData::Flags(v)
    };
    Ok((kind, silent, data))
}

/// The arguments of `[UID] REPLACE`.
pub(super) fn replace_args(p: &mut Parser<'_>, uid: bool) -> PResult<CommandBody> {
    p.sp()?;
    let number = nz(p)?;
    let mailbox = sp_mailbox(p)?;
    let message = AppendMessage::parse(p)?;
    Ok(CommandBody::Replace {
        number,
        mailbox,
        message,
        uid,
    })
}

/// Writes `v` into `out`. The stream decoder hands in `out` set to its placeholder `Noop`,
/// which owns nothing: it is then overwritten without the call to `CommandBody`'s drop
/// glue (~20 instructions a command); anything else is dropped as by `*out = v`.
#[inline(always)]
fn put(out: &mut CommandBody, v: CommandBody) {
    if matches!(out, CommandBody::Noop) {
        std::mem::forget(std::mem::replace(out, v));
    } else {
        *out = v;
    }
}

/// Commands that exist with and without `UID`, written into `out` in place (no move of the
/// value); `false`, with `out` untouched, for any other word.
pub(super) fn uid_capable(
    p: &mut Parser<'_>,
    w: Word,
    uid: bool,
    out: &mut CommandBody,
) -> PResult<bool> {
    use CommandBody as C;
    if w.is(p, b"SEARCH") {
        let return_opts = opt_return(p)?;
        p.sp()?;
        let (charset, criteria) = search_program(p)?;
        put(
            out,
            C::Search {
                return_opts,
                charset,
                criteria,
                uid,
            },
        );
    } else if w.is(p, b"FETCH") {
        let sequence_set = sp_seq(p)?;
        p.sp()?;
        let items = FetchItems::parse(p)?;
        let modifiers = opt_params(p, FetchModifier::parse)?;
        put(
            out,
            C::Fetch {
                sequence_set,
                items,
                modifiers,
                uid,
            },
        );
    } else if w.is(p, b"STORE") {
        let sequence_set = sp_seq(p)?;
        let modifiers = opt_params(p, StoreModifier::parse)?;
        p.sp()?;
        let (kind, silent, data) = store_args(p)?;
        put(
            out,
            C::Store {
                sequence_set,
                modifiers,
                kind,
                silent,
                data,
                uid,
            },
        );
    } else if w.is(p, b"COPY") {
        let sequence_set = sp_seq(p)?;
        put(
            out,
            C::Copy {
                sequence_set,
                mailbox: sp_mailbox(p)?,
                uid,
            },
        );
    } else if w.is(p, b"MOVE") {
        let sequence_set = sp_seq(p)?;
        put(
            out,
            C::Move {
                sequence_set,
                mailbox: sp_mailbox(p)?,
                uid,
            },
        );
    } else if w.is(p, b"SORT") {
        let return_opts = opt_return(p)?;
        p.sp()?;
        let criteria = SortCriterion::parse_list(p)?;
        p.sp()?;
        let charset = Charset::parse(p)?;
        p.sp()?;
        let search = SearchKey::parse_many(p)?;
        put(
            out,
            C::Sort {
                return_opts,
                criteria,
                charset,
                search,
                uid,
            },
        );
    } else if w.is(p, b"THREAD") {
        p.sp()?;
        let algorithm = ThreadAlgorithm::parse(p)?;
        p.sp()?;
        let charset = Charset::parse(p)?;
        p.sp()?;
        let search = SearchKey::parse_many(p)?;
        put(
            out,
            C::Thread {
                algorithm,
                charset,
                search,
                uid,
            },
        );
    } else if w.is(p, b"REPLACE") {
        put(out, replace_args(p, uid)?);
    } else {
        return Ok(false);
    }
    Ok(true)
}

pub(super) fn initial_response(p: &mut Parser<'_>) -> PResult<Bytes> {
    if p.eat(b'=') {
        return Ok(Bytes::new());
    }
    base64_data(p, false)
}

/// Base64 data up to the line end (empty allowed when `allow_empty`).
pub(super) fn base64_data(p: &mut Parser<'_>, allow_empty: bool) -> PResult<Bytes> {
    let start = p.pos;
    let s = p.take_while(|c| crate::base64::is_base64_char(c) || c == b'=');
    if s.is_empty() && !allow_empty {
        return Err(p.fail("base64"));
    }
    match crate::base64::decode(&s) {
        Ok(v) => Ok(Bytes::from(v)),
        Err(e) => Err(p.fail_at(start + e.offset, "base64")),
    }
}

pub(super) fn metadata_value(p: &mut Parser<'_>) -> PResult<MetadataValue> {
    if p.peek() == Some(b'~') {
        return p.literal_any(true).map(|(b, _)| Some(b));
    }
    p.nstring()
}

pub(super) fn url_mechanism(p: &mut Parser<'_>) -> PResult<Atom> {
    let b = p.take_while(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.');
    if b.is_empty() {
        return Err(p.fail("URLAUTH mechanism"));
    }
    Ok(Atom::unchecked(b))
}

pub(super) fn esearch_source(p: &mut Parser<'_>) -> PResult<ESearchSource> {
    p.expect(b'(', "(")?;
    let mut filters = vec![MailboxFilter::parse(p)?];
    let mut scope_options = Vec::new();
    loop {
        if p.eat(b')') {
            break;
        }
        p.sp()?;
        if p.eat(b'(') {
            loop {
                let name = tagged_label(p)?;
                let value = TaggedExtVal::parse_opt_param(p)?;
                scope_options.push((name, value));
                p.check_items(scope_options.len())?;
                if p.eat(b')') {
                    break;
                }
                p.sp()?;
            }
            p.expect(b')', ")")?;
            break;
        }
        filters.push(MailboxFilter::parse(p)?);
        p.check_items(filters.len())?;
    }
    Ok(ESearchSource {
        filters,
        scope_options,
    })
}

impl CommandBody {
    /// Parses the command after `tag SP`, up to (excluding) the final CRLF.
    pub(super) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        let mut out = CommandBody::Noop;
        Self::parse_into(p, &mut out)?;
        Ok(out)
    }

    /// Like [`parse`](Self::parse), writing the body into `out` (one move of the value fewer
    /// for the stream decoder). On failure `out` holds some value that the caller discards.
    pub(super) fn parse_into(p: &mut Parser<'_>, out: &mut Self) -> PResult<()> {
        use CommandBody as C;
        let w = Word::peek(p);
        if w.is(p, b"UID") {
            p.sp()?;
            // the word after `UID` read once: `EXPUNGE` tested on it as `keyword` would
            let w = Word::peek(p);
            if w.is(p, b"EXPUNGE") {
                put(out, C::UidExpunge(sp_seq(p)?));
                return Ok(());
            }
            return match uid_capable(p, w, true, out)? {
                true => Ok(()),
                false => Err(p.fail("UID command")),
            };
        }
        if uid_capable(p, w, false, out)? {
            return Ok(());
        }
        Self::parse_rest(p, w, out)
    }

    /// The commands [`uid_capable`] does not know, named by the word `w` at the cursor,
    /// written into `out` (one move of the value fewer than returning it).
    pub(super) fn parse_rest(p: &mut Parser<'_>, w: Word, out: &mut Self) -> PResult<()> {
        use CommandBody as C;
        let v = if w.is(p, b"SELECT") {
            let mailbox = sp_mailbox(p)?;
            let params = opt_params(p, SelectParam::parse)?;
            C::Select { mailbox, params }
        } else if w.is(p, b"LIST") {
            p.sp()?;
            let selection = if p.peek() == Some(b'(') {
                let v = paren_list(p, true, ListSelectOption::parse)?;
                p.sp()?;
                Some(v)
            } else {
                None
            };
            let reference = Mailbox::parse(p)?;
            p.sp()?;
            let patterns = if p.peek() == Some(b'(') {
                paren_list(p, false, ListMailbox::parse)?
            } else {
                vec![ListMailbox::parse(p)?]
            };
            let return_opts = if end_ahead(p, false) {
                None
            } else {
                p.sp()?;
                p.expect_keyword(b"RETURN", "RETURN")?;
                p.sp()?;
                Some(paren_list(p, true, ListReturnOption::parse)?)
            };
            C::List {
                selection,
                reference,
                patterns,
                return_opts,
            }
        } else if w.is(p, b"NOOP") {
            C::Noop
        } else if w.is(p, b"STATUS") {
            let mailbox = sp_mailbox(p)?;
            p.sp()?;
            C::Status {
                mailbox,
                attributes: paren_list(p, false, StatusAttribute::parse)?,
            }
        } else if w.is(p, b"EXAMINE") {
            let mailbox = sp_mailbox(p)?;
            let params = opt_params(p, SelectParam::parse)?;
            C::Examine { mailbox, params }
        } else if w.is(p, b"APPEND") {
            let mailbox = sp_mailbox(p)?;
            let mut messages = vec![AppendMessage::parse(p)?];
            while !end_ahead(p, false) {
                messages.push(AppendMessage::parse(p)?);
                p.check_items(messages.len())?;
            }
            C::Append { mailbox, messages }
        } else if w.is(p, b"CAPABILITY") {
            C::Capability
        } else if w.is(p, b"LOGOUT") {
            C::Logout
        } else if w.is(p, b"ID") {
            p.sp()?;
            C::Id(crate::ext::parse_id_params(p)?)
        } else if w.is(p, b"STARTTLS") {
            C::StartTls
        } else if w.is(p, b"AUTHENTICATE") {
            p.sp()?;
            let mechanism = AuthMechanism::from_atom(Atom::parse(p)?);
            let initial_response = if end_ahead(p, false) {
                None
            } else {
                p.sp()?;
                Some(Secret::new(initial_response(p)?))
            };
            C::Authenticate {
                mechanism,
                initial_response,
            }
        } else if w.is(p, b"LOGIN") {
            let username = sp_astring(p)?;
            let password = Secret::new(sp_astring(p)?);
            C::Login { username, password }
        } else if w.is(p, b"ENABLE") {
            C::Enable(sp_items(p, false, Capability::parse)?)
        } else if w.is(p, b"CREATE") {
            let mailbox = sp_mailbox(p)?;
            let params = opt_params(p, CreateParam::parse)?;
            C::Create { mailbox, params }
        } else if w.is(p, b"DELETE") {
            C::Delete(sp_mailbox(p)?)
        } else if w.is(p, b"RENAME") {
            let from = sp_mailbox(p)?;
            C::Rename {
                from,
                to: sp_mailbox(p)?,
            }
        } else if w.is(p, b"SUBSCRIBE") {
            C::Subscribe(sp_mailbox(p)?)
        } else if w.is(p, b"UNSUBSCRIBE") {
            C::Unsubscribe(sp_mailbox(p)?)
        } else if w.is(p, b"LSUB") {
            let reference = sp_mailbox(p)?;
            p.sp()?;
            C::Lsub {
                reference,
                pattern: ListMailbox::parse(p)?,
            }
        } else if w.is(p, b"XLIST") {
            let reference = sp_mailbox(p)?;
            p.sp()?;
            C::XList {
                reference,
                pattern: ListMailbox::parse(p)?,
            }
        } else if w.is(p, b"RLIST") {
            let reference = sp_mailbox(p)?;
            p.sp()?;
            C::RList {
                reference,
                pattern: ListMailbox::parse(p)?,
            }
        } else if w.is(p, b"RLSUB") {
            let reference = sp_mailbox(p)?;
            p.sp()?;
            C::RLsub {
                reference,
                pattern: ListMailbox::parse(p)?,
            }
        } else if w.is(p, b"NAMESPACE") {
            C::Namespace
        } else if w.is(p, b"IDLE") {
            C::Idle
        } else if w.is(p, b"GETQUOTA") {
            C::GetQuota(sp_astring(p)?)
        } else if w.is(p, b"GETQUOTAROOT") {
            C::GetQuotaRoot(sp_mailbox(p)?)
        } else if w.is(p, b"SETQUOTA") {
            let root = sp_astring(p)?;
            p.sp()?;
            let limits = paren_list(p, true, |p| {
                let resource = QuotaResourceName::parse(p)?;
                p.sp()?;
                let limit = p.number64()?;
                Ok(QuotaLimit { resource, limit })
            })?;
            C::SetQuota { root, limits }
        } else if w.is(p, b"GETACL") {
            C::GetAcl(sp_mailbox(p)?)
        } else if w.is(p, b"SETACL") {
            let mailbox = sp_mailbox(p)?;
            let identifier = sp_astring(p)?;
            let r = sp_astring(p)?;
            let (modification, rights) = match r.as_bytes().first() {
                Some(b'+') => (
                    AclModification::Add,
                    IString::unchecked(r.to_bytes().slice(1..)),
                ),
                Some(b'-') => (
                    AclModification::Remove,
                    IString::unchecked(r.to_bytes().slice(1..)),
                ),
                _ => (AclModification::Replace, r),
            };
            C::SetAcl {
                mailbox,
                identifier,
                modification,
                rights,
            }
        } else if w.is(p, b"DELETEACL") {
            let mailbox = sp_mailbox(p)?;
            C::DeleteAcl {
                mailbox,
                identifier: sp_astring(p)?,
            }
        } else if w.is(p, b"LISTRIGHTS") {
            let mailbox = sp_mailbox(p)?;
            C::ListRights {
                mailbox,
                identifier: sp_astring(p)?,
            }
        } else if w.is(p, b"MYRIGHTS") {
            C::MyRights(sp_mailbox(p)?)
        } else if w.is(p, b"GETMETADATA") {
            p.sp()?;
            let options = if p.peek() == Some(b'(') {
                let v = paren_list(p, false, GetMetadataOption::parse)?;
                p.sp()?;
                v
            } else {
                Vec::new()
            };
            let mailbox = Mailbox::parse(p)?;
            p.sp()?;
            let entries = if p.peek() == Some(b'(') {
                paren_list(p, false, IString::parse_astring)?
            } else {
                vec![IString::parse_astring(p)?]
            };
            C::GetMetadata {
                options,
                mailbox,
                entries,
            }
        } else if w.is(p, b"SETMETADATA") {
            let mailbox = sp_mailbox(p)?;
            p.sp()?;
            let entries = paren_list(p, false, |p| {
                let e = IString::parse_astring(p)?;
                p.sp()?;
                Ok((e, metadata_value(p)?))
            })?;
            C::SetMetadata { mailbox, entries }
        } else if w.is(p, b"NOTIFY") {
            p.sp()?;
            if p.keyword(b"NONE") {
                C::Notify(Notify::None)
            } else {
                p.expect_keyword(b"SET", "SET or NONE")?;
                p.sp()?;
                let status = if p.keyword(b"STATUS") {
                    p.sp()?;
                    true
                } else {
                    false
                };
                let mut groups = vec![EventGroup::parse(p)?];
                groups.extend(sp_items(p, true, EventGroup::parse)?);
                C::Notify(Notify::Set { status, groups })
            }
        } else if w.is(p, b"COMPRESS") {
            p.sp()?;
            C::Compress(Atom::parse(p)?)
        } else if w.is(p, b"UNAUTHENTICATE") {
            C::Unauthenticate
        } else if w.is(p, b"GETJMAPACCESS") {
            C::GetJmapAccess
        } else if w.is(p, b"ESEARCH") {
            p.sp()?;
            let source = if p.keyword(b"IN") {
                p.sp()?;
                let s = esearch_source(p)?;
                p.sp()?;
                Some(s)
            } else {
                None
            };
            let return_opts = if p.looking_at_ci(b"RETURN ") {
                let r = SearchReturnOption::parse_return(p)?;
                p.sp()?;
                Some(r)
            } else {
                None
            };
            let (charset, criteria) = search_program(p)?;
            C::ESearch {
                source,
                return_opts,
                charset,
                criteria,
            }
        } else if w.is(p, b"GENURLAUTH") {
            C::GenUrlAuth(sp_items(p, false, |p| {
                let url = IString::parse_astring(p)?;
                p.sp()?;
                Ok((url, url_mechanism(p)?))
            })?)
        } else if w.is(p, b"RESETKEY") {
            if end_ahead(p, false) {
                C::ResetKey(None)
            } else {
                let mailbox = sp_mailbox(p)?;
                let mechs = sp_items(p, true, url_mechanism)?;
                C::ResetKey(Some((mailbox, mechs)))
            }
        } else if w.is(p, b"URLFETCH") {
            C::UrlFetch(sp_items(p, false, IString::parse_astring)?)
        } else if w.is(p, b"CHECK") {
            C::Check
        } else if w.is(p, b"CLOSE") {
            C::Close
        } else if w.is(p, b"UNSELECT") {
            C::Unselect
        } else if w.is(p, b"EXPUNGE") {
            C::Expunge
        } else if w.is(p, b"CANCELUPDATE") {
            C::CancelUpdate(sp_items(p, false, |p| {
                let start = p.pos;
                let q = p.quoted()?;
                Tag::new(q).map_err(|_| p.fail_at(start, "quoted tag"))
            })?)
        } else {
            let start = p.pos;
            let name = Atom::parse(p)?;
            if KNOWN.iter().any(|k| name.eq_ignore_case(k)) {
                return Err(p.fail_at(start, "command"));
            }
            let raw = if p.at_crlf() {
                Bytes::new()
            } else {
                p.sp()?;
                let rest = p.rest();
                let end = if rest.ends_with(b"\r\n") {
                    rest.len() - 2
                } else if rest.ends_with(b"\n") {
                    rest.len() - 1
                } else {
                    return Err(p.fail_at(p.pos + rest.len(), "CRLF"));
                };
                let mut raw = p.slice(p.pos, p.pos + end);
                if raw.is_empty() && !p.tolerate(Quirk::ExtraSpaces, p.pos) {
                    return Err(p.fail("command arguments"));
                }
                if let Err((at, what)) = scan_raw_args(&raw, false) {
                    // Lenient: NUL in the lines is dropped and bare LFs become CRLF (the
                    // nearest valid value).
                    let quirk = if memchr::memchr(0, &raw).is_some() {
                        Quirk::EightBit
                    } else {
                        Quirk::BareLf
                    };
                    match normalise_raw_args(&raw) {
                        Some(c) if p.tolerate(quirk, p.pos + at) => raw = c,
                        _ => return Err(p.fail_at(p.pos + at, what)),
                    }
                }
                p.pos += end;
                raw
            };
            C::Other { name, raw }
        };
        put(out, v);
        Ok(())
    }
}

impl Command {
    /// Parses a whole command message including its final CRLF.
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        let tag = Tag::parse(p)?;
        p.sp()?;
        let body = CommandBody::parse(p)?;
        p.crlf_end()?;
        Ok(Command { tag, body })
    }

    /// A value for [`parse_into`](Self::parse_into) to overwrite.
    pub(crate) fn placeholder() -> Command {
        Command {
            tag: Tag::placeholder(),
            body: CommandBody::Noop,
        }
    }

    /// Like [`parse`](Self::parse), writing the command into `out` (what the stream decoder
    /// returns) instead of moving it through the `Result`/`Decoded`/event wrappers.
    /// On failure `out` holds some value that the caller discards.
    pub(crate) fn parse_into(p: &mut Parser<'_>, out: &mut Self) -> PResult<()> {
        out.tag.put(Tag::parse_inline(p)?);
        p.sp()?;
        CommandBody::parse_into(p, &mut out.body)?;
        p.crlf_end()
    }
}
