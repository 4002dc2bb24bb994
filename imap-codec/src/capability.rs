//! Capabilities (RFC 9051 §7.2.2 `capability`, RFC 3501 §7.2.1, and the capability names of
//! the extension RFCs: LITERAL+/- 7888, IDLE 2177, NAMESPACE 2342, UIDPLUS 4315, MOVE 6851,
//! ENABLE 5161, ESEARCH 4731, SEARCHRES 5182, LIST-EXTENDED 5258, LIST-STATUS 5819,
//! SPECIAL-USE 6154, CHILDREN 3348, UNSELECT 3691, BINARY 3516, SASL-IR 4959, STATUS=SIZE 8438,
//! ID 2971, UTF8= 6855, CONDSTORE/QRESYNC 7162, OBJECTID 8474, SAVEDATE 8514, UIDONLY 9586,
//! PARTIAL 9394, INPROGRESS 9585, MESSAGELIMIT 9738, SORT/THREAD 5256, ESORT/CONTEXT 5267,
//! WITHIN 5032, MULTISEARCH 7377, PREVIEW 8970, QUOTA 9208, ACL/RIGHTS= 4314, METADATA 5464,
//! LIST-METADATA 9590, LIST-MYRIGHTS 8440, NOTIFY 5465, APPENDLIMIT 7889, MULTIAPPEND 3502,
//! CATENATE 4469, REPLACE 8508, UNAUTHENTICATE 8437, COMPRESS 4978, referrals 2221/2193,
//! JMAPACCESS 9698, URLAUTH 4467).
//!
//! Parsing is case-insensitive. Encoding writes the canonical name. [`Capability::Other`]
//! never holds a name that would decode as a known variant: build values with
//! [`Capability::from_atom`] (the parser does), which normalises.

use bytes::Bytes;

use crate::core::Atom;
use crate::encode::{Encode, EncodeBuf, EncodeOptions, LiteralMode};
use crate::names::name_enum;
use crate::options::Quirk;
use crate::parse::{PResult, Parser};

name_enum! {
    /// A SASL mechanism (RFC 9051 §6.2.2 `auth-type`, RFC 4422 §3.1): the one type for the
    /// `AUTH=<mech>` capability and the AUTHENTICATE command.
    ///
    /// Names are case-insensitive; each encodes in its canonical (registered, upper-case)
    /// spelling. [`AuthMechanism::Other`] never holds one of the known names: build values with
    /// [`AuthMechanism::new`] or [`AuthMechanism::from_atom`], which normalise.
    #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    #[non_exhaustive]
    pub enum AuthMechanism {
        /// `PLAIN` (RFC 4616)
        Plain = b"PLAIN",
        /// `LOGIN` (draft-murchison-sasl-login)
        Login = b"LOGIN",
        /// `GSSAPI` (RFC 4752)
        Gssapi = b"GSSAPI",
        /// `EXTERNAL` (RFC 4422)
        External = b"EXTERNAL",
        /// `ANONYMOUS` (RFC 4505)
        Anonymous = b"ANONYMOUS",
        /// `CRAM-MD5` (RFC 2195)
        CramMd5 = b"CRAM-MD5",
        /// `DIGEST-MD5` (RFC 2831)
        DigestMd5 = b"DIGEST-MD5",
        /// `NTLM`
        Ntlm = b"NTLM",
        /// `XOAUTH2` (Google/Microsoft)
        XOAuth2 = b"XOAUTH2",
        /// `OAUTHBEARER` (RFC 7628)
        OAuthBearer = b"OAUTHBEARER",
        /// `SCRAM-SHA-1` (RFC 5802)
        ScramSha1 = b"SCRAM-SHA-1",
        /// `SCRAM-SHA-1-PLUS`
        ScramSha1Plus = b"SCRAM-SHA-1-PLUS",
        /// `SCRAM-SHA-256` (RFC 7677)
        ScramSha256 = b"SCRAM-SHA-256",
        /// `SCRAM-SHA-256-PLUS`
        ScramSha256Plus = b"SCRAM-SHA-256-PLUS",
    }
    others {
        /// Any other mechanism name (never one of the names above, in any case).
        Other(Atom),
    }
    name {
        AuthMechanism::Other(a) => a.as_str(),
    }
}

impl AuthMechanism {
    /// A mechanism from its name (case-insensitive); fails for a name that is not an `atom`.
    ///
    /// ```
    /// use imapwire_codec::capability::AuthMechanism;
    /// assert_eq!(AuthMechanism::new("plain").unwrap(), AuthMechanism::Plain);
    /// assert_eq!(AuthMechanism::new("X-FOO").unwrap().name(), b"X-FOO");
    /// assert!(AuthMechanism::new("A B").is_err());
    /// ```
    pub fn new(name: impl Into<Bytes>) -> Result<Self, crate::error::ValidationError> {
        Atom::new(name.into()).map(Self::from_atom)
    }

    /// Fails for an [`AuthMechanism::Other`] holding a known mechanism's name (in any case),
    /// which would decode as that mechanism.
    pub fn validate(&self) -> Result<(), crate::error::ValidationError> {
        match self {
            AuthMechanism::Other(a)
                if !matches!(Self::from_atom(a.clone()), AuthMechanism::Other(_)) =>
            {
                Err(crate::error::ValidationError::new(
                    crate::error::ValueKind::AuthMechanism,
                    crate::error::Rule::KnownName,
                ))
            }
            _ => Ok(()),
        }
    }

    /// Classifies a mechanism name (case-insensitive).
    pub fn from_atom(a: Atom) -> Self {
        Self::from_known_name(a.as_bytes()).unwrap_or(AuthMechanism::Other(a))
    }

    /// The canonical name.
    pub fn name(&self) -> &[u8] {
        self.as_str().as_bytes()
    }
}

impl Encode for AuthMechanism {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.raw(self.name());
    }
}

impl std::fmt::Display for AuthMechanism {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.name()))
    }
}

impl TryFrom<&str> for AuthMechanism {
    type Error = crate::error::ValidationError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::new(Bytes::copy_from_slice(s.as_bytes()))
    }
}

pub use crate::vocab::{QuotaResourceName, ThreadAlgorithm};

name_enum! {
    /// A capability name (`capability`).
    #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    #[non_exhaustive]
    pub enum Capability {
        /// `IMAP4rev1` (RFC 3501)
        Imap4Rev1 = b"IMAP4rev1",
        /// `IMAP4rev2` (RFC 9051)
        Imap4Rev2 = b"IMAP4rev2",
        /// `IMAP4` (RFC 1730 compatibility)
        Imap4 = b"IMAP4",
        /// `STARTTLS`
        StartTls = b"STARTTLS",
        /// `LOGINDISABLED`
        LoginDisabled = b"LOGINDISABLED",
        /// `LITERAL+` (RFC 7888)
        LiteralPlus = b"LITERAL+",
        /// `LITERAL-` (RFC 7888)
        LiteralMinus = b"LITERAL-",
        /// `IDLE` (RFC 2177)
        Idle = b"IDLE",
        /// `NAMESPACE` (RFC 2342)
        Namespace = b"NAMESPACE",
        /// `UIDPLUS` (RFC 4315)
        UidPlus = b"UIDPLUS",
        /// `MOVE` (RFC 6851)
        Move = b"MOVE",
        /// `ENABLE` (RFC 5161)
        Enable = b"ENABLE",
        /// `ESEARCH` (RFC 4731)
        ESearch = b"ESEARCH",
        /// `SEARCHRES` (RFC 5182)
        SearchRes = b"SEARCHRES",
        /// `LIST-EXTENDED` (RFC 5258)
        ListExtended = b"LIST-EXTENDED",
        /// `LIST-STATUS` (RFC 5819)
        ListStatus = b"LIST-STATUS",
        /// `SPECIAL-USE` (RFC 6154)
        SpecialUse = b"SPECIAL-USE",
        /// `CREATE-SPECIAL-USE` (RFC 6154)
        CreateSpecialUse = b"CREATE-SPECIAL-USE",
        /// `CHILDREN` (RFC 3348)
        Children = b"CHILDREN",
        /// `UNSELECT` (RFC 3691)
        Unselect = b"UNSELECT",
        /// `BINARY` (RFC 3516)
        Binary = b"BINARY",
        /// `SASL-IR` (RFC 4959)
        SaslIr = b"SASL-IR",
        /// `STATUS=SIZE` (RFC 8438)
        StatusSize = b"STATUS=SIZE",
        /// `ID` (RFC 2971)
        Id = b"ID",
        /// `UTF8=ACCEPT` (RFC 6855)
        Utf8Accept = b"UTF8=ACCEPT",
        /// `UTF8=ONLY` (RFC 6855)
        Utf8Only = b"UTF8=ONLY",
        /// `CONDSTORE` (RFC 7162)
        CondStore = b"CONDSTORE",
        /// `QRESYNC` (RFC 7162)
        QResync = b"QRESYNC",
        /// `OBJECTID` (RFC 8474)
        ObjectId = b"OBJECTID",
        /// `SAVEDATE` (RFC 8514)
        SaveDate = b"SAVEDATE",
        /// `UIDONLY` (RFC 9586)
        UidOnly = b"UIDONLY",
        /// `PARTIAL` (RFC 9394)
        Partial = b"PARTIAL",
        /// `INPROGRESS` (RFC 9585)
        InProgress = b"INPROGRESS",
        /// `SORT` (RFC 5256)
        Sort = b"SORT",
        /// `SORT=DISPLAY` (RFC 5957)
        SortDisplay = b"SORT=DISPLAY",
        /// `ESORT` (RFC 5267)
        ESort = b"ESORT",
        /// `CONTEXT=SEARCH` (RFC 5267)
        ContextSearch = b"CONTEXT=SEARCH",
        /// `CONTEXT=SORT` (RFC 5267)
        ContextSort = b"CONTEXT=SORT",
        /// `WITHIN` (RFC 5032)
        Within = b"WITHIN",
        /// `MULTISEARCH` (RFC 7377)
        MultiSearch = b"MULTISEARCH",
        /// `PREVIEW` (RFC 8970)
        Preview = b"PREVIEW",
        /// `QUOTA` (RFC 9208 / 2087)
        Quota = b"QUOTA",
        /// `QUOTASET` (RFC 9208)
        QuotaSet = b"QUOTASET",
        /// `ACL` (RFC 4314)
        Acl = b"ACL",
        /// `METADATA` (RFC 5464)
        Metadata = b"METADATA",
        /// `METADATA-SERVER` (RFC 5464)
        MetadataServer = b"METADATA-SERVER",
        /// `LIST-METADATA` (RFC 9590)
        ListMetadata = b"LIST-METADATA",
        /// `LIST-MYRIGHTS` (RFC 8440)
        ListMyRights = b"LIST-MYRIGHTS",
        /// `NOTIFY` (RFC 5465)
        Notify = b"NOTIFY",
        /// `MULTIAPPEND` (RFC 3502)
        MultiAppend = b"MULTIAPPEND",
        /// `CATENATE` (RFC 4469)
        Catenate = b"CATENATE",
        /// `REPLACE` (RFC 8508)
        Replace = b"REPLACE",
        /// `UNAUTHENTICATE` (RFC 8437)
        Unauthenticate = b"UNAUTHENTICATE",
        /// `COMPRESS=DEFLATE` (RFC 4978)
        CompressDeflate = b"COMPRESS=DEFLATE",
        /// `LOGIN-REFERRALS` (RFC 2221)
        LoginReferrals = b"LOGIN-REFERRALS",
        /// `MAILBOX-REFERRALS` (RFC 2193)
        MailboxReferrals = b"MAILBOX-REFERRALS",
        /// `JMAPACCESS` (RFC 9698)
        JmapAccess = b"JMAPACCESS",
        /// `X-GM-EXT-1` (Gmail)
        XGmExt1 = b"X-GM-EXT-1",
        /// `XLIST` (Gmail, pre SPECIAL-USE)
        XList = b"XLIST",
        /// `URLAUTH` (RFC 4467)
        UrlAuth = b"URLAUTH",
        /// `URLAUTH=BINARY` (RFC 5524)
        UrlAuthBinary = b"URLAUTH=BINARY",
        /// `CONVERT` (RFC 5259)
        Convert = b"CONVERT",
        /// `ANNOTATE-EXPERIMENT-1` (RFC 5257)
        AnnotateExperiment1 = b"ANNOTATE-EXPERIMENT-1",
        /// `SEARCH=FUZZY` (RFC 6203)
        SearchFuzzy = b"SEARCH=FUZZY",
        /// `FILTERS` (RFC 5466)
        Filters = b"FILTERS",
        /// `LANGUAGE` (RFC 5255)
        Language = b"LANGUAGE",
        /// `I18NLEVEL=1` (RFC 5255)
        I18nLevel1 = b"I18NLEVEL=1",
        /// `I18NLEVEL=2` (RFC 5255)
        I18nLevel2 = b"I18NLEVEL=2",
    }
    others {
        /// `AUTH=<mechanism>`
        Auth(AuthMechanism),
        /// `MESSAGELIMIT=<n>` (RFC 9738)
        MessageLimit(u32),
        /// `THREAD=<algorithm>` (RFC 5256)
        Thread(ThreadAlgorithm),
        /// `QUOTA=RES-<resource>` (RFC 9208)
        QuotaRes(QuotaResourceName),
        /// `RIGHTS=<chars>` (RFC 4314)
        Rights(Atom),
        /// `APPENDLIMIT` or `APPENDLIMIT=<n>` (RFC 7889)
        AppendLimit(Option<u64>),
        /// Any other capability (never a name that decodes as one of the variants above).
        Other(Atom),
    }
    encode(buf) {
        Capability::Auth(m) => {
            buf.raw(b"AUTH=");
            m.encode(buf);
        }
        Capability::MessageLimit(n) => {
            buf.raw(b"MESSAGELIMIT=");
            buf.num(*n);
        }
        Capability::AppendLimit(None) => buf.raw(b"APPENDLIMIT"),
        Capability::AppendLimit(Some(n)) => {
            buf.raw(b"APPENDLIMIT=");
            buf.num(*n);
        }
        Capability::Thread(t) => {
            buf.raw(b"THREAD=");
            t.encode(buf);
        }
        Capability::QuotaRes(r) => {
            buf.raw(b"QUOTA=RES-");
            r.encode(buf);
        }
        Capability::Rights(r) => {
            buf.raw(b"RIGHTS=");
            buf.raw(r.as_bytes());
        }
        Capability::Other(a) => buf.raw(a.as_bytes()),
    }
}

/// Strips `prefix` (case-insensitive) from `a`, returning the rest if non-empty.
fn strip_ci(a: &Atom, prefix: &[u8]) -> Option<Bytes> {
    let b = a.as_bytes();
    if b.len() > prefix.len() && b[..prefix.len()].eq_ignore_ascii_case(prefix) {
        Some(a.to_bytes().slice(prefix.len()..))
    } else {
        None
    }
}

/// A canonical decimal (no leading zero unless "0") within `max`.
fn canonical_number(b: &[u8], max: u64) -> Option<u64> {
    if b.is_empty() || b.len() > 19 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if b.len() > 1 && b[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        v = v * 10 + (c - b'0') as u64;
    }
    (v <= max).then_some(v)
}

impl Capability {
    /// Fails for a capability that does not decode as itself: [`Capability::Other`] (or an
    /// `Other` mechanism, thread algorithm or quota resource) holding the name of a typed
    /// capability, or a typed capability whose argument the grammar cannot carry (e.g.
    /// `APPENDLIMIT=` above 2^63-1, a `RIGHTS=` value that is not an atom continuation).
    /// Build capabilities with [`Capability::from_atom`], which normalises.
    pub fn validate(&self) -> Result<(), crate::error::ValidationError> {
        let enc = crate::Encode::to_bytes_inline_literals(self);
        let same = Atom::new(enc)
            .map(|a| Capability::from_atom(a) == *self)
            .unwrap_or(false);
        if !same {
            // a typed capability's name in Other, or an argument out of range; use
            // Capability::from_atom
            return Err(crate::error::ValidationError::new(
                crate::error::ValueKind::Capability,
                crate::error::Rule::Constraint("does not decode as itself"),
            ));
        }
        Ok(())
    }

    /// Classifies a capability atom (case-insensitive); unknown names become
    /// [`Capability::Other`]. This is the only way `Other` should be built.
    pub fn from_atom(a: Atom) -> Self {
        if let Some(c) = Self::from_known_name(a.as_bytes()) {
            return c;
        }
        if a.eq_ignore_case(b"APPENDLIMIT") {
            return Capability::AppendLimit(None);
        }
        if let Some(m) = strip_ci(&a, b"AUTH=") {
            return Capability::Auth(AuthMechanism::from_atom(Atom::unchecked(m)));
        }
        if let Some(m) = strip_ci(&a, b"THREAD=") {
            return Capability::Thread(ThreadAlgorithm::from_atom(Atom::unchecked(m)));
        }
        if let Some(m) = strip_ci(&a, b"QUOTA=RES-") {
            return Capability::QuotaRes(QuotaResourceName::from_atom(Atom::unchecked(m)));
        }
        if let Some(m) = strip_ci(&a, b"RIGHTS=") {
            return Capability::Rights(Atom::unchecked(m));
        }
        if let Some(m) = strip_ci(&a, b"MESSAGELIMIT=") {
            if let Some(v) = canonical_number(&m, u32::MAX as u64) {
                return Capability::MessageLimit(v as u32);
            }
        }
        if let Some(m) = strip_ci(&a, b"APPENDLIMIT=") {
            if let Some(v) = canonical_number(&m, i64::MAX as u64) {
                return Capability::AppendLimit(Some(v));
            }
        }
        Capability::Other(a)
    }

    /// Parses one `capability`. The lenient profile maps `QUOTA=SET` (Stalwart) to
    /// [`Capability::QuotaSet`].
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        let start = p.pos;
        let a = Atom::parse(p)?;
        if a.eq_ignore_case(b"QUOTA=SET") && p.tolerate(Quirk::BadAtoms, start) {
            return Ok(Capability::QuotaSet);
        }
        Ok(Self::from_atom(a))
    }

    /// Parses `*(SP capability)` (the list after `CAPABILITY` / `ENABLED`), stopping before
    /// `]` or the line end. The lenient profile tolerates a trailing SP and `LITERAL +`.
    pub(crate) fn parse_list(p: &mut Parser<'_>, out: &mut Vec<Capability>) -> PResult<()> {
        while p.peek() == Some(b' ') {
            // trailing spaces before the line end / `]`: left to the caller's crlf_end or
            // skip_trailing_sp (lenient), an error otherwise
            let mut q = p.pos;
            let b = p.bytes();
            while b.get(q) == Some(&b' ') {
                q += 1;
            }
            if matches!(b.get(q), None | Some(b'\r') | Some(b'\n') | Some(b']')) {
                break;
            }
            p.sp()?;
            let at = p.pos;
            if matches!(p.peek(), Some(b'+') | Some(b'-'))
                && matches!(out.last(), Some(Capability::Other(a)) if a.eq_ignore_case(b"LITERAL"))
                && matches!(
                    p.peek_at(1),
                    None | Some(b' ') | Some(b'\r') | Some(b'\n') | Some(b']')
                )
                && p.tolerate(Quirk::BadAtoms, at)
            {
                let plus = p.peek() == Some(b'+');
                p.pos += 1;
                out.pop();
                out.push(if plus {
                    Capability::LiteralPlus
                } else {
                    Capability::LiteralMinus
                });
                continue;
            }
            out.push(Self::parse(p)?);
            p.check_items(out.len())?;
        }
        Ok(())
    }
}

/// The capabilities that IMAP4rev2 folds in (RFC 9051 Appendix E items 2 and 3): NAMESPACE,
/// UNSELECT, UIDPLUS, ESEARCH, SEARCHRES, ENABLE, IDLE, SASL-IR, LIST-EXTENDED, LIST-STATUS,
/// MOVE and LITERAL- (item 2), and STATUS=SIZE (item 3).
///
/// Not included, because Appendix E folds in only part of them: BINARY (only its FETCH side,
/// not `literal8` in APPEND) and SPECIAL-USE (only its mailbox attributes, not the LIST
/// selection option or CREATE-SPECIAL-USE).
pub const IMAP4REV2_IMPLIED: &[Capability] = &[
    Capability::Namespace,
    Capability::Unselect,
    Capability::UidPlus,
    Capability::ESearch,
    Capability::SearchRes,
    Capability::Enable,
    Capability::Idle,
    Capability::SaslIr,
    Capability::ListExtended,
    Capability::ListStatus,
    Capability::Move,
    Capability::LiteralMinus,
    Capability::StatusSize,
];

/// What a server advertised, as a set that also answers for what the advertised names imply.
///
/// Build it from a `CAPABILITY` response's list or a `[CAPABILITY ...]` response code
/// ([`CapabilitySet::from_data`], [`CapabilitySet::from_code`], or any iterator of
/// [`Capability`]). [`CapabilitySet::has`] is true for a capability that was advertised or
/// that an advertised one implies:
///
/// - `IMAP4rev2` implies each of [`IMAP4REV2_IMPLIED`] (RFC 9051 Appendix E);
/// - `LITERAL+` implies `LITERAL-` (RFC 7888 §5: LITERAL- is the restricted LITERAL+);
/// - `UTF8=ONLY` implies `UTF8=ACCEPT` (RFC 6855 §3);
/// - `QRESYNC` implies `CONDSTORE` and `ENABLE` (RFC 7162 §3.2.3).
///
/// Implied means the server implements the extension; behaviour that RFC 9051 §6.1.1 ties to
/// an explicit client action (e.g. `ENABLE IMAP4rev2` when both revisions are advertised)
/// still needs that action. The set keeps the advertised names in the order first seen,
/// without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapabilitySet {
    advertised: Vec<Capability>,
}

impl CapabilitySet {
    /// An empty set.
    pub const fn new() -> Self {
        CapabilitySet {
            advertised: Vec::new(),
        }
    }

    /// Adds an advertised capability (no effect if it is already there).
    pub fn insert(&mut self, c: Capability) {
        if !self.advertised.contains(&c) {
            self.advertised.push(c);
        }
    }

    /// The capabilities as advertised (without the implied ones), in the order first seen.
    pub fn advertised(&self) -> &[Capability] {
        &self.advertised
    }

    /// Whether `c` was advertised exactly (no implications).
    pub fn advertises(&self, c: &Capability) -> bool {
        self.advertised.contains(c)
    }

    /// Whether `c` was advertised or is implied by an advertised capability (see the type's
    /// documentation for the implications).
    pub fn has(&self, c: &Capability) -> bool {
        if self.advertises(c) {
            return true;
        }
        let rev2 = || self.advertises(&Capability::Imap4Rev2);
        match c {
            Capability::LiteralMinus => self.advertises(&Capability::LiteralPlus) || rev2(),
            Capability::Utf8Accept => self.advertises(&Capability::Utf8Only),
            Capability::CondStore => self.advertises(&Capability::QResync),
            Capability::Enable => self.advertises(&Capability::QResync) || rev2(),
            c => IMAP4REV2_IMPLIED.contains(c) && rev2(),
        }
    }

    /// Whether `AUTH=<mech>` was advertised.
    pub fn has_auth(&self, mech: &AuthMechanism) -> bool {
        self.advertised
            .iter()
            .any(|c| matches!(c, Capability::Auth(m) if m == mech))
    }

    /// The advertised SASL mechanisms, in the order advertised.
    pub fn auth_mechanisms(&self) -> impl Iterator<Item = &AuthMechanism> + '_ {
        self.advertised.iter().filter_map(|c| match c {
            Capability::Auth(m) => Some(m),
            _ => None,
        })
    }

    /// `IMAP4rev2` advertised (RFC 9051).
    pub fn imap4rev2(&self) -> bool {
        self.advertises(&Capability::Imap4Rev2)
    }

    /// `IMAP4rev1` advertised (RFC 3501).
    pub fn imap4rev1(&self) -> bool {
        self.advertises(&Capability::Imap4Rev1)
    }

    /// Non-synchronizing literals of any size (`LITERAL+`, RFC 7888 §3).
    pub fn literal_plus(&self) -> bool {
        self.has(&Capability::LiteralPlus)
    }

    /// Non-synchronizing literals of up to 4096 bytes (`LITERAL-`, RFC 7888 §5; implied by
    /// `LITERAL+` and `IMAP4rev2`).
    pub fn literal_minus(&self) -> bool {
        self.has(&Capability::LiteralMinus)
    }

    /// `LOGINDISABLED` advertised: the client must not send LOGIN (RFC 9051 §6.2.3).
    pub fn login_disabled(&self) -> bool {
        self.advertises(&Capability::LoginDisabled)
    }

    /// `STARTTLS` advertised (RFC 9051 §6.2.1).
    pub fn starttls(&self) -> bool {
        self.advertises(&Capability::StartTls)
    }

    /// The server accepts UTF-8 in quoted strings once it is enabled (`UTF8=ACCEPT` or
    /// `UTF8=ONLY`, RFC 6855 §3).
    pub fn utf8_accept(&self) -> bool {
        self.has(&Capability::Utf8Accept)
    }

    /// The `APPENDLIMIT=<n>` value, if advertised with one (RFC 7889).
    pub fn append_limit(&self) -> Option<u64> {
        self.advertised.iter().find_map(|c| match c {
            Capability::AppendLimit(n) => *n,
            _ => None,
        })
    }

    /// Whether a client may send UTF-8 in quoted strings: after the server answered an
    /// `ENABLE` with `UTF8=ACCEPT` (RFC 6855 §3) or `IMAP4rev2` (RFC 9051 Appendix A), or when
    /// the server advertises `IMAP4rev2` without `IMAP4rev1` (RFC 9051 §4.3.1: IMAP4rev2
    /// implementations accept UTF-8 in quoted strings; a server that also advertises
    /// IMAP4rev1 speaks IMAP4rev1 until `ENABLE IMAP4rev2`).
    ///
    /// `enabled_utf8`: the server's `ENABLED` response listed `UTF8=ACCEPT` or `IMAP4rev2`
    /// (see [`CapabilitySet::enables_utf8`]).
    pub fn utf8_quoted(&self, enabled_utf8: bool) -> bool {
        enabled_utf8 || (self.imap4rev2() && !self.imap4rev1())
    }

    /// Whether an `ENABLED` response's list turns on UTF-8 in quoted strings (it lists
    /// `UTF8=ACCEPT` or `IMAP4rev2`).
    pub fn enables_utf8<'a>(enabled: impl IntoIterator<Item = &'a Capability>) -> bool {
        enabled
            .into_iter()
            .any(|c| matches!(c, Capability::Utf8Accept | Capability::Imap4Rev2))
    }

    /// The encoder settings a client can use with this server:
    ///
    /// - literals: non-synchronizing of any size with `LITERAL+`; non-synchronizing up to
    ///   4096 bytes with `LITERAL-` or `IMAP4rev2` (RFC 7888 §5, RFC 9051 Appendix E);
    ///   synchronizing otherwise;
    /// - UTF-8 in quoted strings as [`CapabilitySet::utf8_quoted`] decides.
    ///
    /// The other settings keep their defaults.
    #[must_use]
    pub fn encode_options(&self, enabled_utf8: bool) -> EncodeOptions {
        let base = EncodeOptions::default().with_utf8_quoted(self.utf8_quoted(enabled_utf8));
        if self.literal_plus() {
            base.with_literal_mode(LiteralMode::NonSync)
                .with_max_non_sync(None)
        } else if self.literal_minus() {
            base.with_literal_mode(LiteralMode::NonSync)
                .with_max_non_sync(Some(EncodeOptions::LITERAL_MINUS_MAX))
        } else {
            base.with_literal_mode(LiteralMode::Sync)
                .with_max_non_sync(None)
        }
    }
}

impl FromIterator<Capability> for CapabilitySet {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        let mut s = CapabilitySet::new();
        s.extend(iter);
        s
    }
}

impl Extend<Capability> for CapabilitySet {
    fn extend<I: IntoIterator<Item = Capability>>(&mut self, iter: I) {
        for c in iter {
            self.insert(c);
        }
    }
}

impl<'a> IntoIterator for &'a CapabilitySet {
    type Item = &'a Capability;
    type IntoIter = std::slice::Iter<'a, Capability>;
    fn into_iter(self) -> Self::IntoIter {
        self.advertised.iter()
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies.
    use super::*;
    use proptest::prelude::*;

    fn norm(s: String) -> Capability {
        Capability::from_atom(Atom::try_from(s).unwrap())
    }

    /// Capabilities: every simple name, every parameterised form and unknown names.
    pub(crate) fn capability() -> impl Strategy<Value = Capability> {
        prop_oneof![
            proptest::sample::select(Capability::named()),
            proptest::sample::select(AuthMechanism::named()).prop_map(Capability::Auth),
            "AUTH=[A-Z0-9-]{1,10}".prop_map(norm),
            any::<u32>().prop_map(Capability::MessageLimit),
            (0u64..=i64::MAX as u64).prop_map(|n| Capability::AppendLimit(Some(n))),
            "THREAD=(ORDEREDSUBJECT|REFERENCES|REFS|X[A-Z]{1,6})".prop_map(norm),
            "QUOTA=RES-(STORAGE|MESSAGE|MAILBOX|ANNOTATION-STORAGE|X[A-Z]{1,6})".prop_map(norm),
            "RIGHTS=[a-z0-9]{1,6}".prop_map(norm),
            "[A-Za-z][A-Za-z0-9=+.-]{0,12}".prop_map(norm),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every capability name without a parameter goes name -> value -> name, in any case.
    #[test]
    fn capability_names_round_trip() {
        crate::names::check_names(crate::names::Table {
            named: Capability::named(),
            names: &Capability::NAMES,
            known_name: Capability::known_name,
            from_known_name: Capability::from_known_name,
            parse: &|b: &[u8]| crate::names::parse_whole(b, Capability::parse),
            encode: &|v: &Capability| crate::encode::Encode::to_bytes_inline_literals(v).to_vec(),
            wire: |n: &[u8]| n.to_vec(),
        });
        let c = crate::names::parse_whole(b"appendlimit", Capability::parse);
        assert_eq!(c, Some(Capability::AppendLimit(None)));
    }

    /// Every SASL mechanism name goes name -> value -> name, in any case, alone and in
    /// `AUTH=`.
    #[test]
    fn mechanism_names_round_trip() {
        crate::names::check_names(crate::names::Table {
            named: AuthMechanism::named(),
            names: &AuthMechanism::NAMES,
            known_name: AuthMechanism::known_name,
            from_known_name: AuthMechanism::from_known_name,
            parse: &|b: &[u8]| {
                crate::names::parse_whole(b, |p| Atom::parse(p).map(AuthMechanism::from_atom))
            },
            encode: &|v: &AuthMechanism| {
                crate::encode::Encode::to_bytes_inline_literals(v).to_vec()
            },
            wire: |n: &[u8]| n.to_vec(),
        });
        for m in AuthMechanism::named() {
            let n = format!("auth={}", m.as_str().to_ascii_lowercase());
            assert_eq!(
                crate::names::parse_whole(n.as_bytes(), Capability::parse),
                Some(Capability::Auth(m))
            );
        }
    }
    use crate::options::DecodeOptions;
    use proptest::prelude::*;

    fn one(s: &str) -> Capability {
        let b = Bytes::copy_from_slice(s.as_bytes());
        let o = DecodeOptions::strict();
        let mut p = Parser::new(&b, &o);
        let c = Capability::parse(&mut p).unwrap();
        assert!(p.at_end());
        c
    }

    #[test]
    fn known_names() {
        assert_eq!(one("imap4REV1"), Capability::Imap4Rev1);
        assert_eq!(one("auth=plain"), Capability::Auth(AuthMechanism::Plain));
        assert_eq!(
            one("AUTH=SCRAM-SHA-256-PLUS").to_vec_inline_literals(),
            b"AUTH=SCRAM-SHA-256-PLUS"
        );
        assert_eq!(one("literal+"), Capability::LiteralPlus);
        assert_eq!(one("MESSAGELIMIT=1000"), Capability::MessageLimit(1000));
        assert!(matches!(one("MESSAGELIMIT=01"), Capability::Other(_)));
        assert_eq!(one("APPENDLIMIT"), Capability::AppendLimit(None));
        assert_eq!(
            one("appendlimit=35651584"),
            Capability::AppendLimit(Some(35651584))
        );
        assert_eq!(
            one("THREAD=references"),
            Capability::Thread(ThreadAlgorithm::References)
        );
        assert_eq!(
            one("QUOTA=RES-STORAGE"),
            Capability::QuotaRes(QuotaResourceName::Storage)
        );
        assert_eq!(one("RIGHTS=texk").to_vec_inline_literals(), b"RIGHTS=texk");
        assert_eq!(
            one("compress=deflate").to_vec_inline_literals(),
            b"COMPRESS=DEFLATE"
        );
        assert!(matches!(one("XAPPLEPUSHSERVICE"), Capability::Other(_)));
    }

    #[test]
    fn quota_set_lenient() {
        let b = Bytes::from_static(b"QUOTA=SET");
        let o = DecodeOptions::lenient();
        let mut p = Parser::new(&b, &o);
        assert_eq!(Capability::parse(&mut p).unwrap(), Capability::QuotaSet);
        assert_eq!(p.warnings.len(), 1);
        assert!(matches!(one("QUOTA=SET"), Capability::Other(_)));
    }

    fn resp(line: &'static [u8]) -> crate::response::Response {
        use crate::codec::Message;
        crate::response::Response::decode(&Bytes::from_static(line), &DecodeOptions::strict())
            .unwrap()
            .message
    }

    fn set(names: &str) -> CapabilitySet {
        names.split(' ').map(one).collect()
    }

    #[test]
    fn set_from_capability_data_and_code() {
        let crate::response::Response::Data(d) =
            resp(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN auth=xoauth2 LITERAL+ IDLE\r\n")
        else {
            panic!()
        };
        let s = CapabilitySet::from_data(&d).unwrap();
        assert!(s.has(&Capability::Imap4Rev1));
        assert!(s.has(&Capability::Idle));
        assert!(!s.has(&Capability::Move));
        assert!(s.has_auth(&AuthMechanism::Plain));
        assert!(s.has_auth(&AuthMechanism::XOAuth2));
        assert!(!s.has_auth(&AuthMechanism::Login));
        assert_eq!(
            s.auth_mechanisms().cloned().collect::<Vec<_>>(),
            vec![AuthMechanism::Plain, AuthMechanism::XOAuth2]
        );

        let crate::response::Response::Status(st) =
            resp(b"a1 OK [CAPABILITY IMAP4rev2 AUTH=SCRAM-SHA-256] done\r\n")
        else {
            panic!()
        };
        let s = CapabilitySet::from_code(st.code().unwrap()).unwrap();
        assert!(s.imap4rev2());
        assert!(s.has_auth(&AuthMechanism::ScramSha256));
        assert!(s.has(&Capability::Move));

        let crate::response::Response::Data(d) = resp(b"* 3 EXISTS\r\n") else {
            panic!()
        };
        assert!(CapabilitySet::from_data(&d).is_none());
        let crate::response::Response::Status(st) = resp(b"a1 OK [READ-WRITE] done\r\n") else {
            panic!()
        };
        assert!(CapabilitySet::from_code(st.code().unwrap()).is_none());
    }

    /// AUTHENTICATE and `AUTH=` share one mechanism type: names decode case-insensitively to
    /// the same value and encode canonically; `Other` holding a known name is rejected.
    #[test]
    fn authenticate_uses_the_capability_mechanism() {
        use crate::codec::Message;
        use crate::command::{Command, CommandBody};
        use crate::core::Tag;
        let cmd = |line: &[u8]| {
            Command::decode(&Bytes::copy_from_slice(line), &DecodeOptions::strict())
                .unwrap()
                .message
        };
        for (line, mech) in [
            (&b"a AUTHENTICATE plain\r\n"[..], AuthMechanism::Plain),
            (
                b"a AUTHENTICATE Scram-Sha-256-Plus\r\n",
                AuthMechanism::ScramSha256Plus,
            ),
            (b"a AUTHENTICATE xoauth2 =\r\n", AuthMechanism::XOAuth2),
        ] {
            let c = cmd(line);
            let CommandBody::Authenticate { mechanism, .. } = c.body() else {
                panic!("{c:?}")
            };
            assert_eq!(*mechanism, mech);
            // the capability names the same value
            assert_eq!(
                one(&format!("AUTH={mech}")),
                Capability::Auth(mechanism.clone())
            );
        }
        let c = cmd(b"a AUTHENTICATE plain\r\n");
        assert_eq!(c.to_vec_inline_literals(), b"a AUTHENTICATE PLAIN\r\n");
        let c = cmd(b"a AUTHENTICATE X-Custom\r\n");
        assert!(matches!(
            c.body(),
            CommandBody::Authenticate { mechanism: AuthMechanism::Other(a), .. } if a.as_bytes() == b"X-Custom"
        ));
        assert_eq!(c.to_vec_inline_literals(), b"a AUTHENTICATE X-Custom\r\n");

        let tag = Tag::try_from("a").unwrap();
        let body = |mechanism| CommandBody::Authenticate {
            mechanism,
            initial_response: None,
        };
        let shadow = AuthMechanism::Other(Atom::try_from("Plain").unwrap());
        assert!(Command::new(tag.clone(), body(shadow)).is_err());
        assert!(Command::new(tag.clone(), body(AuthMechanism::new("Plain").unwrap())).is_ok());
        assert!(Command::new(tag, body(AuthMechanism::new("X-FOO").unwrap())).is_ok());
        assert_eq!(
            AuthMechanism::try_from("login").unwrap(),
            AuthMechanism::Login
        );
        assert_eq!(AuthMechanism::Login.to_string(), "LOGIN");
        assert_eq!(
            AuthMechanism::new("scram-sha-1").unwrap().as_str(),
            "SCRAM-SHA-1"
        );
        assert_eq!(AuthMechanism::new("X-Foo").unwrap().as_str(), "X-Foo");
        let e = AuthMechanism::new("a b").unwrap_err();
        assert_eq!(e.kind(), crate::error::ValueKind::Atom);
    }

    #[test]
    fn set_deduplicates_and_keeps_order() {
        let s = set("IDLE imap4rev1 idle IMAP4rev1 MOVE");
        assert_eq!(
            s.advertised(),
            &[Capability::Idle, Capability::Imap4Rev1, Capability::Move]
        );
        assert_eq!((&s).into_iter().count(), 3);
    }

    /// Every capability RFC 9051 Appendix E folds in is implied by IMAP4rev2 and by nothing
    /// else; what it folds in only partly is not implied.
    #[test]
    fn imap4rev2_implications() {
        let rev2 = set("IMAP4rev2");
        let rev1 = set("IMAP4rev1");
        for c in [
            "NAMESPACE",
            "UNSELECT",
            "UIDPLUS",
            "ESEARCH",
            "SEARCHRES",
            "ENABLE",
            "IDLE",
            "SASL-IR",
            "LIST-EXTENDED",
            "LIST-STATUS",
            "MOVE",
            "LITERAL-",
            "STATUS=SIZE",
        ] {
            let c = one(c);
            assert!(rev2.has(&c), "{c:?}");
            assert!(!rev2.advertises(&c), "{c:?}");
            assert!(!rev1.has(&c), "{c:?}");
        }
        assert_eq!(IMAP4REV2_IMPLIED.len(), 13);
        for c in [
            "BINARY",
            "SPECIAL-USE",
            "CREATE-SPECIAL-USE",
            "LITERAL+",
            "CONDSTORE",
            "UTF8=ACCEPT",
            "CHILDREN",
        ] {
            assert!(!rev2.has(&one(c)), "{c}");
        }
        assert!(!rev2.has_auth(&AuthMechanism::Plain));
    }

    #[test]
    fn other_implications() {
        let s = set("LITERAL+");
        assert!(s.has(&Capability::LiteralMinus) && s.literal_minus() && s.literal_plus());
        assert!(!set("LITERAL-").literal_plus());
        assert!(set("LITERAL-").literal_minus());
        let s = set("UTF8=ONLY");
        assert!(s.has(&Capability::Utf8Accept) && s.utf8_accept());
        assert!(!set("UTF8=ACCEPT").has(&Capability::Utf8Only));
        let s = set("QRESYNC");
        assert!(s.has(&Capability::CondStore) && s.has(&Capability::Enable));
        assert!(!set("CONDSTORE").has(&Capability::QResync));
        assert!(!set("IMAP4rev1").literal_minus());
        assert!(!CapabilitySet::new().has(&Capability::Enable));
    }

    #[test]
    fn simple_queries() {
        let s = set("IMAP4rev1 STARTTLS LOGINDISABLED APPENDLIMIT=1000");
        assert!(s.starttls() && s.login_disabled() && s.imap4rev1() && !s.imap4rev2());
        assert_eq!(s.append_limit(), Some(1000));
        assert_eq!(set("APPENDLIMIT").append_limit(), None);
        assert!(!set("IMAP4rev1").starttls());
    }

    #[test]
    fn derived_literal_options() {
        let o = set("IMAP4rev1").encode_options(false);
        assert_eq!((o.literal_mode, o.max_non_sync), (LiteralMode::Sync, None));
        let o = set("IMAP4rev1 LITERAL+").encode_options(false);
        assert_eq!(
            (o.literal_mode, o.max_non_sync),
            (LiteralMode::NonSync, None)
        );
        let o = set("IMAP4rev1 LITERAL-").encode_options(false);
        assert_eq!(
            (o.literal_mode, o.max_non_sync),
            (LiteralMode::NonSync, Some(4096))
        );
        // IMAP4rev2 folds in LITERAL- (RFC 9051 Appendix E)
        let o = set("IMAP4rev2").encode_options(false);
        assert_eq!(
            (o.literal_mode, o.max_non_sync),
            (LiteralMode::NonSync, Some(4096))
        );
        let o = set("IMAP4rev2 LITERAL+").encode_options(false);
        assert_eq!(
            (o.literal_mode, o.max_non_sync),
            (LiteralMode::NonSync, None)
        );
        assert_eq!(o.max_quoted, EncodeOptions::default().max_quoted);

        // the derived options do what they say: a 5000-byte literal is sent synchronizing
        // under LITERAL-, non-synchronizing under LITERAL+
        let big = vec![b'x'; 5000];
        for (caps, mode) in [
            ("LITERAL-", LiteralMode::Sync),
            ("LITERAL+", LiteralMode::NonSync),
            ("IMAP4rev1", LiteralMode::Sync),
        ] {
            let mut b = EncodeBuf::with_options(set(caps).encode_options(false));
            b.string(&big);
            assert_eq!(b.literals.len(), 1, "{caps}");
            assert_eq!(b.literals[0].mode, mode, "{caps}");
        }
        let mut b = EncodeBuf::with_options(set("LITERAL-").encode_options(false));
        b.string(&vec![b'x'; 2000]);
        assert_eq!(b.literals[0].mode, LiteralMode::NonSync);
    }

    #[test]
    fn derived_utf8_quoted() {
        // IMAP4rev1 only: after ENABLE UTF8=ACCEPT only
        assert!(
            !set("IMAP4rev1 UTF8=ACCEPT")
                .encode_options(false)
                .utf8_quoted
        );
        assert!(
            set("IMAP4rev1 UTF8=ACCEPT")
                .encode_options(true)
                .utf8_quoted
        );
        // IMAP4rev2 only: always (RFC 9051 §4.3.1)
        assert!(set("IMAP4rev2").encode_options(false).utf8_quoted);
        // both advertised: IMAP4rev1 until ENABLE IMAP4rev2 (RFC 9051 Appendix A)
        assert!(!set("IMAP4rev1 IMAP4rev2").encode_options(false).utf8_quoted);
        assert!(set("IMAP4rev1 IMAP4rev2").encode_options(true).utf8_quoted);

        assert!(CapabilitySet::enables_utf8(&[Capability::Utf8Accept]));
        assert!(CapabilitySet::enables_utf8(&[
            Capability::CondStore,
            Capability::Imap4Rev2
        ]));
        assert!(!CapabilitySet::enables_utf8(&[Capability::CondStore]));
        assert!(!CapabilitySet::enables_utf8(&[]));

        let mut b = EncodeBuf::with_options(set("IMAP4rev2").encode_options(false));
        b.string("é".as_bytes());
        assert_eq!(b.out, "\"é\"".as_bytes());
        let mut b = EncodeBuf::with_options(set("IMAP4rev1").encode_options(false));
        b.string("é".as_bytes());
        assert_eq!(b.literals.len(), 1);
    }

    proptest! {
        #[test]
        fn roundtrip(c in strategies::capability()) {
            let enc = c.to_bytes_inline_literals();
            let o = DecodeOptions::strict();
            let mut p = Parser::new(&enc, &o);
            prop_assert_eq!(Capability::parse(&mut p).unwrap(), c);
            prop_assert!(p.at_end());
        }
    }
}
