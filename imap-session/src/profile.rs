//! Server profiles: named switches for the behaviours of real servers a client has to route
//! around (valid commands they reject or mishandle), recognised from the greeting and the
//! capabilities (RFC 9051 §7.1 greeting text, §7.2.2 CAPABILITY). The catalogue is
//! `shared/quirks/server-behaviour.jsonl`; each entry is listed below with its switch.
//!
//! | entry | servers | switch / rule |
//! | --- | --- | --- |
//! | `id-empty-list-rejected` | GMX/Web.de, Exchange | [`ServerProfile::id_nil_instead_of_empty`] |
//! | `descending-seqset-rejected` | Tencent Exmail, hMailServer | [`ServerProfile::no_descending_ranges`] |
//! | `namespace-drops-exchange2003` | Exchange 2003 | [`ServerProfile::skip_namespace`] |
//! | `list-specialuse-bad-protonmail` | Proton Mail Bridge | [`ServerProfile::list_special_use_fallback`] |
//! | `list-return-empty-strato` | strato.de | [`ServerProfile::no_list_extended`] |
//! | `select-tab-mailbox-o365` | Office 365 / Exchange | [`ServerProfile::rejects_tab_in_mailbox_names`] |
//! | `append-no-flags-gromox` | grommunio gromox | [`ServerProfile::append_always_flag_list`] |
//! | `lsub-rev2-exchange` | Exchange in IMAP4rev2 mode | [`ServerProfile::no_lsub`] |
//! | `annotate-select-icloud` | iCloud | [`ServerProfile::no_select_annotate_qresync`] |
//! | `create-trailing-delim-gmail` | Gmail | [`ServerProfile::create_without_trailing_delimiter`] |
//! | `bare-star-range` | unnamed | [`ServerProfile::no_bare_star`] (never detected; opt in) |
//! | (not in the catalogue) `scram-plus-tls-unique-only` | Cyrus IMAP up to 3.12 | [`ServerProfile::scram_plus_bindings`] |
//! | `changedsince-zero-iphone` | a client bug | not a switch: never send `CHANGEDSINCE 0` ([`changedsince`]) |
//! | `bare-lf-client` | clients | not a switch: a server-side decoding leniency (codec `DecodeOptions`) |
//!
//! # Recognition
//!
//! [`ServerProfile::detect`] looks at the greeting's human-readable text and the
//! capabilities; [`ServerProfile::detect_with_host`] also at the host name the caller
//! connected to, which is the most reliable signal for hosted services. The quirk catalogue
//! does not say how to recognise the servers, so the rules below use well-known greeting texts;
//! each is documented with its confidence in [`ServerKind`]. Greeting texts are configurable
//! on self-hosted servers (hMailServer, Exchange, gromox), so detection is a default, and every
//! switch is a public field the caller may override after detection.
//!
//! # SCRAM `-PLUS` and the channel-binding type
//!
//! SCRAM does not let a server say which channel-binding types it can verify (RFC 5802 §6;
//! RFC 5929, RFC 9266). Cyrus IMAP (seen with 3.6.1 from Debian 12) advertises
//! `SCRAM-SHA-256-PLUS` over TLS 1.3 but hands its SASL library only `tls-unique`, which
//! TLS 1.3 does not define; a client that sends `p=tls-exporter` (RFC 9266) or
//! `p=tls-server-end-point` gets `NO bad protocol / cancel` after the whole exchange. Support
//! for `tls-exporter` was proposed upstream (cyrus-imapd issue #4191, pull request #4772, both
//! still open in the material available), so no released version is known to verify it.
//! [`ServerProfile::scram_plus_bindings`] records the limit; the automatic mechanism choice
//! ([`crate::client::Client::sasl_transport`]) then treats the channel binding the TLS layer
//! offers as unusable with this server and picks plain SCRAM.
//!
//! That SCRAM then carries the GS2 flag `n`, not `y`. RFC 5802 §6 gives `y` the meaning "the
//! client supports channel binding but thinks the server does not" and makes a server that
//! does support it (it advertised `-PLUS`) fail the exchange as a downgrade; Cyrus does
//! (`NO authentication failure`). Here the client saw `-PLUS` and chose not to bind, because
//! no type both sides know exists on this connection: that is flag `n` ("client does not
//! use channel binding" for this exchange). The server is still authenticated by SCRAM's
//! signature and the channel by certificate verification. An explicitly requested `-PLUS`
//! mechanism is still attempted: the profile only steers the automatic choice. (A server that
//! offers no `-PLUS` at all gets `y` when the caller supplied binding data: see
//! [the flag's table](crate::sasl#the-scram-gs2-channel-binding-flag).)

use std::num::NonZeroU64;

use imapwire_codec::capability::Capability;
use imapwire_codec::sequence::{SeqOrUid, Sequence, SequenceSet};

use crate::sasl::scram::ChannelBindingType;

/// A recognised server family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServerKind {
    /// Gmail. Greeting `Gimap ready for requests from ...` (high confidence: fixed text) or the
    /// `X-GM-EXT-1` capability (high: Gmail-only extension) or host `imap.gmail.com` /
    /// `imap.googlemail.com`.
    Gmail,
    /// Exchange Server 2003. Greeting `Microsoft Exchange Server 2003 IMAP4rev1 server version
    /// 6.5...` (high: the version banner MailKit also keys on).
    Exchange2003,
    /// Exchange 2007 and later, and Office 365 / Exchange Online. Greeting `The Microsoft
    /// Exchange IMAP4 service is ready.` (high for "some Exchange"; on-premises and Office 365
    /// send the same text) or host `outlook.office365.com` / `*.outlook.com`.
    Exchange,
    /// GMX / Web.de / mail.com ("Nemesis" servers). Host `*.gmx.net`, `*.gmx.com`, `*.gmx.de`,
    /// `*.web.de`, `*.mail.com` (high); greeting containing `Nemesis`, `GMX` or `WEB.DE`
    /// (low: from memory of banners, not verified).
    Gmx,
    /// hMailServer. Greeting exactly `IMAPrev1`, hMailServer's default welcome message
    /// (medium: administrators can change it, and the text is unusual enough not to collide).
    HMailServer,
    /// Tencent Exmail / QQ Mail. Greeting containing `XMIMAP4Server` or `QQMail` (medium: from
    /// memory of QQ banners) or host `*.exmail.qq.com` / `*.qq.com` (high).
    TencentExmail,
    /// Proton Mail Bridge. Greeting containing `Proton` (medium: Bridge names itself in its
    /// banner, `ProtonMail Bridge` or `Proton Mail Bridge` by version).
    ProtonBridge,
    /// Strato. Host `*.strato.de` / `*.strato.com` (high); greeting containing `strato` (low).
    Strato,
    /// grommunio gromox. Greeting containing `gromox` or `grommunio` (low: the banner is
    /// configurable and its default was not verified).
    Gromox,
    /// Apple iCloud. Host `imap.mail.me.com` / `*.mail.me.com` (high); greeting containing
    /// `iSCREAM` or `iCloud` (medium: iCloud's banner names its `iSCREAM` server).
    ICloud,
    /// Cyrus IMAP. Greeting containing `Cyrus IMAP` (high while the administrator leaves
    /// Cyrus's `serverinfo` on, which is the default: the text names the server and its
    /// version, for example `localhost Cyrus IMAP 3.6.1-Debian-3.6.1-4+deb12u5 server ready`).
    Cyrus,
}

/// The last Cyrus IMAP series known not to verify `tls-exporter` or `tls-server-end-point`
/// (no released version is known to; 3.12 is the newest series in the material available).
const CYRUS_LAST_TLS_UNIQUE_ONLY: (u32, u32) = (3, 12);

/// One switch per server behaviour a client can route around. All `false` by default; set by
/// [`ServerProfile::detect`] and free to override.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerProfile {
    /// The server family recognised, if any.
    pub server: Option<ServerKind>,
    /// Send `ID NIL` instead of the empty list `ID ()` (GMX/Web.de and Exchange reject the
    /// RFC-valid empty list).
    pub id_nil_instead_of_empty: bool,
    /// Never send a descending range `10:1`; write `1:10` (Tencent Exmail and hMailServer
    /// answer BAD). See [`rewrite_sequence_set`](Self::rewrite_sequence_set).
    pub no_descending_ranges: bool,
    /// Never send NAMESPACE (some Exchange 2003 builds drop the connection).
    pub skip_namespace: bool,
    /// Do not use the LIST-EXTENDED selection option `LIST (SPECIAL-USE) "" "*"`; list
    /// everything with a plain LIST and read the special-use attributes from it (Proton Mail
    /// Bridge answers BAD).
    pub list_special_use_fallback: bool,
    /// Treat LIST-EXTENDED, LIST-STATUS and SPECIAL-USE as not advertised (strato.de
    /// advertises LIST-EXTENDED but returns nothing for RETURN options). Implies
    /// [`list_special_use_fallback`](Self::list_special_use_fallback) in effect. See
    /// [`may_use`](Self::may_use).
    pub no_list_extended: bool,
    /// Mailbox names containing TAB cannot be selected (Office 365 answers BAD in every
    /// encoding); refuse locally with [`check_mailbox_name`](Self::check_mailbox_name).
    pub rejects_tab_in_mailbox_names: bool,
    /// Always send a flag list in APPEND, `()` when there are no flags (gromox rejects an
    /// APPEND of more than 64 kB without one).
    pub append_always_flag_list: bool,
    /// Never send LSUB; use `LIST "" "*" RETURN (SUBSCRIBED)` or `LIST (SUBSCRIBED)` (Exchange
    /// in IMAP4rev2 mode answers BAD).
    pub no_lsub: bool,
    /// Never add the ANNOTATE or QRESYNC parameters to SELECT/EXAMINE (iCloud).
    pub no_select_annotate_qresync: bool,
    /// Strip a trailing hierarchy delimiter from the name in CREATE (Gmail). See
    /// [`create_name`](Self::create_name).
    pub create_without_trailing_delimiter: bool,
    /// Replace a bare `*` in a sequence set by the largest number when it is known (some
    /// unnamed servers reject it; imapflow substitutes the EXISTS count). Never detected.
    pub no_bare_star: bool,
    /// The channel-binding types the server's SCRAM `-PLUS` mechanisms can verify, when it is
    /// known to be limited; `None` (the default) when nothing is known against a type, and
    /// then any binding the TLS layer supplies is used. Cyrus IMAP up to 3.12 verifies only
    /// `tls-unique` (see the [module docs](self)).
    /// See [`can_verify_binding`](Self::can_verify_binding).
    pub scram_plus_bindings: Option<Vec<ChannelBindingType>>,
}

/// A command the profile says the server will not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileRefusal {
    /// The mailbox name contains TAB and this server cannot select such names.
    #[error("this server ({server:?}) cannot handle mailbox names containing TAB")]
    TabInMailboxName {
        /// The server family, if recognised.
        server: Option<ServerKind>,
    },
}

/// The `(major, minor)` version after `Cyrus IMAP` in a greeting (`3.6.1-Debian-...`, or
/// `v2.4.17-...` in older releases), if there is one.
fn cyrus_version(greeting_text: &str) -> Option<(u32, u32)> {
    let (_, rest) = greeting_text.split_once("Cyrus IMAP")?;
    let word = rest.split_whitespace().next()?;
    let word = word.strip_prefix('v').unwrap_or(word);
    let mut parts = word.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.to_ascii_lowercase()
        .contains(&needle.to_ascii_lowercase())
}

fn host_is(host: &str, domains: &[&str]) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    domains
        .iter()
        .any(|d| h == *d || h.ends_with(&format!(".{d}")))
}

impl ServerProfile {
    /// No switches set (the RFC behaviour).
    pub fn standard() -> Self {
        Self::default()
    }

    /// The profile of a server family, with the switches the catalogue names for it.
    /// `capabilities` matter for [`ServerKind::Exchange`] (`no_lsub` only when it advertises
    /// IMAP4rev2).
    pub fn for_server(kind: ServerKind, capabilities: &[Capability]) -> Self {
        let mut p = ServerProfile {
            server: Some(kind),
            ..Self::default()
        };
        match kind {
            ServerKind::Gmail => p.create_without_trailing_delimiter = true,
            ServerKind::Exchange2003 => {
                p.skip_namespace = true;
                p.id_nil_instead_of_empty = true;
            }
            ServerKind::Exchange => {
                p.id_nil_instead_of_empty = true;
                p.rejects_tab_in_mailbox_names = true;
                p.no_lsub = capabilities.contains(&Capability::Imap4Rev2);
            }
            ServerKind::Gmx => p.id_nil_instead_of_empty = true,
            ServerKind::HMailServer | ServerKind::TencentExmail => p.no_descending_ranges = true,
            ServerKind::ProtonBridge => p.list_special_use_fallback = true,
            ServerKind::Strato => {
                p.no_list_extended = true;
                p.list_special_use_fallback = true;
            }
            ServerKind::Gromox => p.append_always_flag_list = true,
            ServerKind::ICloud => p.no_select_annotate_qresync = true,
            // Without the greeting's version: use `detect`, which reads it.
            ServerKind::Cyrus => {
                p.scram_plus_bindings = Some(vec![ChannelBindingType::TlsUnique]);
            }
        }
        p
    }

    /// Whether the server's SCRAM `-PLUS` mechanisms can verify a binding of type `kind`:
    /// true unless [`scram_plus_bindings`](Self::scram_plus_bindings) is known and lacks it.
    pub fn can_verify_binding(&self, kind: ChannelBindingType) -> bool {
        self.scram_plus_bindings
            .as_ref()
            .is_none_or(|types| types.contains(&kind))
    }

    /// The profile for a recognised server, refined by the greeting (versions).
    fn for_greeting(kind: ServerKind, greeting_text: &str, capabilities: &[Capability]) -> Self {
        let mut p = Self::for_server(kind, capabilities);
        if kind == ServerKind::Cyrus {
            // A version newer than the last known tls-unique-only series is not known to be
            // limited; without a version (serverinfo reduced) every known release is.
            let limited =
                cyrus_version(greeting_text).is_none_or(|v| v <= CYRUS_LAST_TLS_UNIQUE_ONLY);
            if !limited {
                p.scram_plus_bindings = None;
            }
        }
        p
    }

    /// Recognises the server from the greeting's human-readable text (without the status and
    /// response code) and the capabilities (from the greeting's CAPABILITY code or a
    /// CAPABILITY response), and returns its profile; [`standard`](Self::standard) when
    /// nothing is recognised. The rules per server are documented on [`ServerKind`].
    pub fn detect(greeting_text: &str, capabilities: &[Capability]) -> Self {
        Self::recognise(None, greeting_text, capabilities)
            .map(|k| Self::for_greeting(k, greeting_text, capabilities))
            .unwrap_or_default()
    }

    /// Like [`detect`](Self::detect), but the host name the caller connected to is checked
    /// first (the most reliable signal for hosted services).
    pub fn detect_with_host(host: &str, greeting_text: &str, capabilities: &[Capability]) -> Self {
        Self::recognise(Some(host), greeting_text, capabilities)
            .map(|k| Self::for_greeting(k, greeting_text, capabilities))
            .unwrap_or_default()
    }

    /// The recognition rules, most specific first.
    pub fn recognise(
        host: Option<&str>,
        greeting_text: &str,
        capabilities: &[Capability],
    ) -> Option<ServerKind> {
        use ServerKind as K;
        if let Some(h) = host {
            let by_host: &[(&[&str], K)] = &[
                (&["imap.gmail.com", "imap.googlemail.com"], K::Gmail),
                (&["outlook.office365.com", "outlook.com"], K::Exchange),
                (
                    &["gmx.net", "gmx.com", "gmx.de", "web.de", "mail.com"],
                    K::Gmx,
                ),
                (&["exmail.qq.com", "qq.com"], K::TencentExmail),
                (&["strato.de", "strato.com"], K::Strato),
                (&["mail.me.com"], K::ICloud),
            ];
            if let Some((_, k)) = by_host.iter().find(|(d, _)| host_is(h, d)) {
                return Some(*k);
            }
        }
        let g = greeting_text.trim();
        if g.starts_with("Gimap ready") || capabilities.contains(&Capability::XGmExt1) {
            return Some(K::Gmail);
        }
        if contains_ci(g, "Microsoft Exchange Server 2003") {
            return Some(K::Exchange2003);
        }
        if contains_ci(g, "Microsoft Exchange") {
            return Some(K::Exchange);
        }
        if g == "IMAPrev1" {
            return Some(K::HMailServer);
        }
        if g.contains("XMIMAP4Server") || g.contains("QQMail") {
            return Some(K::TencentExmail);
        }
        if contains_ci(g, "proton") {
            return Some(K::ProtonBridge);
        }
        if g.contains("iSCREAM") || contains_ci(g, "icloud") {
            return Some(K::ICloud);
        }
        if contains_ci(g, "gromox") || contains_ci(g, "grommunio") {
            return Some(K::Gromox);
        }
        if contains_ci(g, "nemesis") || g.contains("GMX") || contains_ci(g, "web.de") {
            return Some(K::Gmx);
        }
        if contains_ci(g, "strato") {
            return Some(K::Strato);
        }
        if g.contains("Cyrus IMAP") {
            return Some(K::Cyrus);
        }
        // XAPPLEPUSHSERVICE alone is not enough for iCloud: Dovecot with Apple's push plugin
        // advertises it too.
        None
    }

    /// Whether the session may rely on an advertised capability under this profile (false for
    /// LIST-EXTENDED, LIST-STATUS and SPECIAL-USE with
    /// [`no_list_extended`](Self::no_list_extended); true otherwise).
    pub fn may_use(&self, capability: &Capability) -> bool {
        !(self.no_list_extended
            && matches!(
                capability,
                Capability::ListExtended | Capability::ListStatus | Capability::SpecialUse
            ))
    }

    /// The sequence set to send instead of `set`: with
    /// [`no_descending_ranges`](Self::no_descending_ranges) every range is written low to high
    /// (`10:1` → `1:10`, `*:5` → `5:*`); with [`no_bare_star`](Self::no_bare_star) and a known
    /// `largest` number (EXISTS for sequence numbers; the highest known UID for UID sets), a
    /// lone `*` element becomes that number. Equivalent to `set` for the server; `$` is kept.
    pub fn rewrite_sequence_set(&self, set: &SequenceSet, largest: Option<u32>) -> SequenceSet {
        let SequenceSet::Set(items) = set else {
            return set.clone();
        };
        let star = largest
            .filter(|_| self.no_bare_star)
            .and_then(|n| SeqOrUid::value(n).ok());
        let rewritten = items
            .iter()
            .map(|s| match *s {
                Sequence::Single(SeqOrUid::Asterisk) => match star {
                    Some(v) => Sequence::Single(v),
                    None => *s,
                },
                Sequence::Range(a, b) if self.no_descending_ranges => match (a, b) {
                    (SeqOrUid::Asterisk, SeqOrUid::Value(_)) => {
                        Sequence::Range(b, SeqOrUid::Asterisk)
                    }
                    (SeqOrUid::Value(x), SeqOrUid::Value(y)) if x > y => Sequence::Range(b, a),
                    _ => *s,
                },
                other => other,
            })
            .collect();
        SequenceSet::Set(rewritten)
    }

    /// The mailbox name to send in CREATE: without its trailing `delimiter` when
    /// [`create_without_trailing_delimiter`](Self::create_without_trailing_delimiter) is set
    /// (RFC 9051 §6.3.4 allows the trailing delimiter to declare a parent-to-be).
    pub fn create_name<'a>(&self, name: &'a [u8], delimiter: Option<u8>) -> &'a [u8] {
        match (self.create_without_trailing_delimiter, delimiter) {
            (true, Some(d)) if name.len() > 1 && name.last() == Some(&d) => {
                name.get(..name.len() - 1).unwrap_or(name)
            }
            _ => name,
        }
    }

    /// Refuses, before sending, a mailbox name this server is known not to handle.
    pub fn check_mailbox_name(&self, name: &[u8]) -> Result<(), ProfileRefusal> {
        if self.rejects_tab_in_mailbox_names && name.contains(&b'\t') {
            return Err(ProfileRefusal::TabInMailboxName {
                server: self.server,
            });
        }
        Ok(())
    }
}

/// The `CHANGEDSINCE` value to send for a known mod-sequence, or `None` to leave the modifier
/// out: `mod-sequence-value` must be at least 1 (RFC 7162 §3.1.4.1; the catalogue's
/// `changedsince-zero-iphone` entry is a client that sent 0). A client that knows no
/// mod-sequence yet (0) must fetch without CHANGEDSINCE.
pub fn changedsince(known_modseq: u64) -> Option<NonZeroU64> {
    NonZeroU64::new(known_modseq)
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use imapwire_codec::core::Atom;

    use super::*;

    fn v(n: u32) -> SeqOrUid {
        SeqOrUid::Value(NonZeroU32::new(n).unwrap())
    }

    fn other(name: &str) -> Capability {
        Capability::Other(Atom::try_from(name).unwrap())
    }

    #[test]
    fn unknown_server_gets_the_standard_profile() {
        let p = ServerProfile::detect("Dovecot ready.", &[Capability::Imap4Rev1, Capability::Idle]);
        assert_eq!(p, ServerProfile::standard());
        // XAPPLEPUSHSERVICE alone does not mean iCloud.
        let p = ServerProfile::detect("Dovecot ready.", &[other("XAPPLEPUSHSERVICE")]);
        assert_eq!(p.server, None);
    }

    /// id-empty-list-rejected
    #[test]
    fn id_nil_for_gmx_and_exchange() {
        for (host, greeting) in [
            (None, "The Microsoft Exchange IMAP4 service is ready."),
            (Some("imap.gmx.net"), "IMAP server ready"),
            (Some("imap.web.de"), "IMAP server ready"),
            (None, "IMAP server ready H migmx004 (Nemesis)"),
        ] {
            let p = match host {
                Some(h) => ServerProfile::detect_with_host(h, greeting, &[]),
                None => ServerProfile::detect(greeting, &[]),
            };
            assert!(p.id_nil_instead_of_empty, "{host:?} {greeting}");
        }
        assert!(!ServerProfile::standard().id_nil_instead_of_empty);
    }

    /// descending-seqset-rejected
    #[test]
    fn no_descending_ranges_for_hmailserver_and_tencent() {
        let h = ServerProfile::detect("IMAPrev1", &[]);
        assert_eq!(h.server, Some(ServerKind::HMailServer));
        let t = ServerProfile::detect_with_host("imap.exmail.qq.com", "whatever", &[]);
        assert_eq!(t.server, Some(ServerKind::TencentExmail));
        let q = ServerProfile::detect("QQMail XMIMAP4Server ready", &[]);
        for p in [&h, &t, &q] {
            assert!(p.no_descending_ranges);
        }
        let set = SequenceSet::Set(
            vec![
                Sequence::Range(v(10), v(1)),
                Sequence::Range(SeqOrUid::Asterisk, v(5)),
                Sequence::Range(v(2), v(3)),
                Sequence::Single(v(7)),
            ]
            .into(),
        );
        let want = SequenceSet::Set(
            vec![
                Sequence::Range(v(1), v(10)),
                Sequence::Range(v(5), SeqOrUid::Asterisk),
                Sequence::Range(v(2), v(3)),
                Sequence::Single(v(7)),
            ]
            .into(),
        );
        assert_eq!(h.rewrite_sequence_set(&set, Some(100)), want);
        // Same members for every largest number.
        for largest in [1, 4, 6, 12, 100] {
            for n in 1..=largest + 2 {
                assert_eq!(
                    set.contains(n, largest),
                    want.contains(n, largest),
                    "{n} of {largest}"
                );
            }
        }
        // The standard profile leaves it alone; `$` is kept.
        assert_eq!(
            ServerProfile::standard().rewrite_sequence_set(&set, None),
            set
        );
        assert_eq!(
            h.rewrite_sequence_set(&SequenceSet::LastResult, None),
            SequenceSet::LastResult
        );
    }

    /// namespace-drops-exchange2003
    #[test]
    fn skip_namespace_for_exchange_2003_only() {
        let p = ServerProfile::detect(
            "Microsoft Exchange Server 2003 IMAP4rev1 server version 6.5.7638.1 (mail.example.com) ready.",
            &[],
        );
        assert_eq!(p.server, Some(ServerKind::Exchange2003));
        assert!(p.skip_namespace);
        let p = ServerProfile::detect("The Microsoft Exchange IMAP4 service is ready.", &[]);
        assert!(!p.skip_namespace);
    }

    /// list-specialuse-bad-protonmail
    #[test]
    fn special_use_fallback_for_proton_bridge() {
        for g in [
            "ProtonMail Bridge ready",
            "Proton Mail Bridge 03.10.0 ready.",
        ] {
            let p = ServerProfile::detect(g, &[Capability::SpecialUse]);
            assert_eq!(p.server, Some(ServerKind::ProtonBridge));
            assert!(p.list_special_use_fallback);
            assert!(!p.no_list_extended);
            assert!(p.may_use(&Capability::SpecialUse));
        }
    }

    /// list-return-empty-strato
    #[test]
    fn no_list_extended_for_strato() {
        let p = ServerProfile::detect_with_host(
            "imap.strato.de",
            "IMAP4rev1 server ready",
            &[Capability::ListExtended],
        );
        assert_eq!(p.server, Some(ServerKind::Strato));
        assert!(p.no_list_extended && p.list_special_use_fallback);
        for c in [
            Capability::ListExtended,
            Capability::ListStatus,
            Capability::SpecialUse,
        ] {
            assert!(!p.may_use(&c), "{c:?}");
            assert!(ServerProfile::standard().may_use(&c));
        }
        assert!(p.may_use(&Capability::Idle));
    }

    /// select-tab-mailbox-o365
    #[test]
    fn tab_in_mailbox_names_refused_for_office365() {
        let p = ServerProfile::detect_with_host("outlook.office365.com", "", &[]);
        assert_eq!(p.server, Some(ServerKind::Exchange));
        assert_eq!(
            p.check_mailbox_name(b"INBOX/\tExample "),
            Err(ProfileRefusal::TabInMailboxName {
                server: Some(ServerKind::Exchange)
            })
        );
        assert_eq!(p.check_mailbox_name(b"INBOX/Example"), Ok(()));
        assert_eq!(
            ServerProfile::standard().check_mailbox_name(b"a\tb"),
            Ok(())
        );
    }

    /// append-no-flags-gromox
    #[test]
    fn append_flag_list_for_gromox() {
        let p = ServerProfile::detect("gromox-imap ready", &[]);
        assert_eq!(p.server, Some(ServerKind::Gromox));
        assert!(p.append_always_flag_list);
        assert!(!ServerProfile::detect("Dovecot ready.", &[]).append_always_flag_list);
    }

    /// lsub-rev2-exchange
    #[test]
    fn no_lsub_for_exchange_in_rev2_mode() {
        let g = "The Microsoft Exchange IMAP4 service is ready.";
        let rev2 = ServerProfile::detect(g, &[Capability::Imap4Rev1, Capability::Imap4Rev2]);
        assert!(rev2.no_lsub);
        let rev1 = ServerProfile::detect(g, &[Capability::Imap4Rev1]);
        assert!(!rev1.no_lsub);
    }

    /// annotate-select-icloud
    #[test]
    fn plain_select_for_icloud() {
        for p in [
            ServerProfile::detect_with_host("imap.mail.me.com", "", &[]),
            ServerProfile::detect("iSCREAM ready to rumble (1A2B3C:4) host", &[]),
        ] {
            assert_eq!(p.server, Some(ServerKind::ICloud));
            assert!(p.no_select_annotate_qresync);
        }
    }

    /// create-trailing-delim-gmail
    #[test]
    fn create_without_trailing_delimiter_for_gmail() {
        for p in [
            ServerProfile::detect("Gimap ready for requests from 192.0.2.1 abc123", &[]),
            ServerProfile::detect("hello", &[Capability::XGmExt1]),
            ServerProfile::detect_with_host("imap.gmail.com", "", &[]),
        ] {
            assert_eq!(p.server, Some(ServerKind::Gmail));
            assert_eq!(p.create_name(b"Parent/", Some(b'/')), b"Parent");
            assert_eq!(p.create_name(b"Parent", Some(b'/')), b"Parent");
            assert_eq!(p.create_name(b"/", Some(b'/')), b"/");
            assert_eq!(p.create_name(b"Parent/", None), b"Parent/");
        }
        assert_eq!(
            ServerProfile::standard().create_name(b"Parent/", Some(b'/')),
            b"Parent/"
        );
    }

    /// bare-star-range
    #[test]
    fn bare_star_replaced_when_opted_in_and_known() {
        let mut p = ServerProfile::standard();
        let set = SequenceSet::Set(vec![Sequence::Single(SeqOrUid::Asterisk)].into());
        assert_eq!(p.rewrite_sequence_set(&set, Some(42)), set);
        p.no_bare_star = true;
        assert_eq!(
            p.rewrite_sequence_set(&set, Some(42)),
            SequenceSet::Set(vec![Sequence::Single(v(42))].into())
        );
        // Unknown, or an empty mailbox: keep `*`.
        assert_eq!(p.rewrite_sequence_set(&set, None), set);
        assert_eq!(p.rewrite_sequence_set(&set, Some(0)), set);
        // Ranges with `*` are not "bare".
        let r = SequenceSet::Set(vec![Sequence::Range(v(1), SeqOrUid::Asterisk)].into());
        assert_eq!(p.rewrite_sequence_set(&r, Some(42)), r);
        // Never detected.
        assert!(!ServerProfile::detect("anything", &[]).no_bare_star);
    }

    /// Not in the catalogue: Cyrus IMAP's SCRAM -PLUS verifies only tls-unique (observed on
    /// 3.6.1; cyrus-imapd #4191 / #4772 still open).
    #[test]
    fn cyrus_36_greeting_limits_plus_to_tls_unique() {
        use ChannelBindingType as B;
        let caps = [
            Capability::Imap4Rev1,
            other("AUTH=SCRAM-SHA-256-PLUS"),
            other("SASL-IR"),
        ];
        let g = "localhost Cyrus IMAP 3.6.1-Debian-3.6.1-4+deb12u5 server ready";
        assert_eq!(cyrus_version(g), Some((3, 6)));
        let p = ServerProfile::detect(g, &caps);
        assert_eq!(p.server, Some(ServerKind::Cyrus));
        assert_eq!(p.scram_plus_bindings, Some(vec![B::TlsUnique]));
        assert!(p.can_verify_binding(B::TlsUnique));
        assert!(!p.can_verify_binding(B::TlsExporter));
        assert!(!p.can_verify_binding(B::TlsServerEndPoint));
        // Nothing else changes for Cyrus.
        assert_eq!(
            p,
            ServerProfile {
                server: Some(ServerKind::Cyrus),
                scram_plus_bindings: Some(vec![B::TlsUnique]),
                ..ServerProfile::default()
            }
        );
        // Older banners, the last known series, and no version at all: limited too.
        for g in [
            "mail.example.org Cyrus IMAP v2.4.17-Invoca-RPM-2.4.17-15.el7 server ready",
            "Cyrus IMAP 3.12.1 server ready",
            "Cyrus IMAP server ready",
        ] {
            let p = ServerProfile::detect(g, &[]);
            assert_eq!(p.server, Some(ServerKind::Cyrus), "{g}");
            assert!(!p.can_verify_binding(B::TlsExporter), "{g}");
        }
        // A later series is not known to be limited: -PLUS with any binding.
        let p = ServerProfile::detect("Cyrus IMAP 3.14.0 server ready", &[]);
        assert_eq!(p.server, Some(ServerKind::Cyrus));
        assert_eq!(p.scram_plus_bindings, None);
        assert!(p.can_verify_binding(B::TlsExporter));
        // Other servers: nothing known against any type.
        for p in [
            ServerProfile::standard(),
            ServerProfile::detect("Dovecot ready.", &caps),
        ] {
            for b in [B::TlsExporter, B::TlsServerEndPoint, B::TlsUnique] {
                assert!(p.can_verify_binding(b));
            }
        }
    }

    /// changedsince-zero-iphone
    #[test]
    fn changedsince_zero_is_never_sent() {
        assert_eq!(changedsince(0), None);
        assert_eq!(changedsince(7).map(NonZeroU64::get), Some(7));
    }

    #[test]
    fn overrides_are_plain_field_writes() {
        let mut p = ServerProfile::detect("Gimap ready", &[]);
        p.create_without_trailing_delimiter = false;
        assert_eq!(p.create_name(b"Parent/", Some(b'/')), b"Parent/");
    }

    #[test]
    fn host_matching_is_by_domain_suffix() {
        assert!(host_is("IMAP.GMX.NET.", &["gmx.net"]));
        assert!(!host_is("notgmx.net", &["gmx.net"]));
        assert!(!host_is("gmx.net.evil.example", &["gmx.net"]));
    }
}
