//! Applies the connection's [`ServerProfile`] to a command before it is encoded: each switch
//! of the profile (the behaviours of `shared/quirks/server-behaviour.jsonl`) rewrites the
//! command into an equivalent one the server handles, or refuses it before it is sent.

use imapwire_codec::command::{CommandBody, ListSelectOption, SelectParam};
use imapwire_codec::mailbox::Mailbox;

use super::SubmitError;
use crate::profile::ServerProfile;

/// What the session knows that the rewrites need.
pub(crate) struct Known {
    /// Messages in the selected mailbox (for a lone `*` in sequence sets).
    pub(crate) exists: Option<u32>,
    /// The highest known UID (for a lone `*` in UID sets).
    pub(crate) last_uid: Option<u32>,
    /// The hierarchy delimiter from LIST responses.
    pub(crate) delimiter: Option<u8>,
}

/// The command as this server should receive it, or why it is not sent.
pub(crate) fn apply(
    p: &ServerProfile,
    body: CommandBody,
    k: &Known,
) -> Result<CommandBody, SubmitError> {
    use CommandBody as C;
    let refuse = |what: &str| Err(SubmitError::AvoidedByProfile(what.to_owned()));
    Ok(match body {
        // `id-empty-list-rejected`: `ID ()` -> `ID NIL` (same meaning, RFC 2971 §3.1).
        C::Id(Some(v)) if v.is_empty() && p.id_nil_instead_of_empty => C::Id(None),
        // `namespace-drops-exchange2003`: the server drops the connection.
        C::Namespace if p.skip_namespace => return refuse("NAMESPACE"),
        // `lsub-rev2-exchange`: no LSUB in IMAP4rev2 mode; LIST (SUBSCRIBED) says the same.
        C::Lsub { .. } if p.no_lsub => return refuse("LSUB (use LIST (SUBSCRIBED))"),
        // `list-specialuse-bad-protonmail` / `list-return-empty-strato`.
        C::List {
            selection,
            reference,
            patterns,
            return_opts,
        } => {
            let mut selection = selection;
            let mut return_opts = return_opts;
            if p.list_special_use_fallback {
                if let Some(s) = &mut selection {
                    s.retain(|o| *o != ListSelectOption::SpecialUse);
                }
                if selection.as_ref().is_some_and(Vec::is_empty) {
                    selection = None;
                }
            }
            if p.no_list_extended {
                if patterns.len() > 1 {
                    return refuse("LIST with several patterns (LIST-EXTENDED)");
                }
                selection = None;
                return_opts = None;
            }
            C::List {
                selection,
                reference,
                patterns,
                return_opts,
            }
        }
        // `create-trailing-delim-gmail`.
        C::Create { mailbox, params } => {
            let name = p.create_name(mailbox.as_bytes(), k.delimiter);
            let mailbox = if name.len() == mailbox.as_bytes().len() {
                mailbox
            } else {
                Mailbox::new(bytes::Bytes::copy_from_slice(name))
                    .map_err(|e| SubmitError::Invalid(e.to_string()))?
            };
            check_name(p, &mailbox)?;
            C::Create { mailbox, params }
        }
        // `select-tab-mailbox-o365`; `annotate-select-icloud`.
        C::Select { mailbox, params } => {
            check_name(p, &mailbox)?;
            C::Select {
                mailbox,
                params: select_params(p, params)?,
            }
        }
        C::Examine { mailbox, params } => {
            check_name(p, &mailbox)?;
            C::Examine {
                mailbox,
                params: select_params(p, params)?,
            }
        }
        // `descending-seqset-rejected` / `bare-star-range`.
        C::Fetch {
            sequence_set,
            items,
            modifiers,
            uid,
        } => C::Fetch {
            sequence_set: p.rewrite_sequence_set(&sequence_set, largest(k, uid)),
            items,
            modifiers,
            uid,
        },
        C::Store {
            sequence_set,
            modifiers,
            kind,
            silent,
            data,
            uid,
        } => C::Store {
            sequence_set: p.rewrite_sequence_set(&sequence_set, largest(k, uid)),
            modifiers,
            kind,
            silent,
            data,
            uid,
        },
        C::Copy {
            sequence_set,
            mailbox,
            uid,
        } => C::Copy {
            sequence_set: p.rewrite_sequence_set(&sequence_set, largest(k, uid)),
            mailbox,
            uid,
        },
        C::Move {
            sequence_set,
            mailbox,
            uid,
        } => C::Move {
            sequence_set: p.rewrite_sequence_set(&sequence_set, largest(k, uid)),
            mailbox,
            uid,
        },
        other => other,
    })
}

/// iCloud: ANNOTATE is dropped (it only adds annotation data); QRESYNC is refused rather than
/// dropped, because a caller that asked for it relies on its VANISHED (EARLIER) answer.
fn select_params(
    p: &ServerProfile,
    mut params: Vec<SelectParam>,
) -> Result<Vec<SelectParam>, SubmitError> {
    if p.no_select_annotate_qresync {
        if params
            .iter()
            .any(|x| matches!(x, SelectParam::QResync { .. }))
        {
            return Err(SubmitError::AvoidedByProfile(
                "SELECT with QRESYNC (use CONDSTORE)".into(),
            ));
        }
        params.retain(
            |x| !matches!(x, SelectParam::Other { name, .. } if name.as_str().eq_ignore_ascii_case("ANNOTATE")),
        );
    }
    Ok(params)
}

fn largest(k: &Known, uid: bool) -> Option<u32> {
    if uid { k.last_uid } else { k.exists }
}

fn check_name(p: &ServerProfile, m: &Mailbox) -> Result<(), SubmitError> {
    p.check_mailbox_name(m.as_bytes())
        .map_err(|e| SubmitError::AvoidedByProfile(e.to_string()))
}
