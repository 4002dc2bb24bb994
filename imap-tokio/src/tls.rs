//! TLS for IMAP (RFC 8314 §2.1 implicit TLS, RFC 9051 §6.2.1 STARTTLS, RFC 7817 certificate
//! checks): rustls with verification always on, extra roots, certificate pinning behind a
//! `dangerous` name, typed certificate refusals, and SCRAM channel binding (RFC 9266
//! `tls-exporter`, RFC 5929 `tls-server-end-point`).

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use imapwire_session::sasl::scram::{ChannelBinding, ChannelBindingType};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::error::{CertificateError, CertificateReason, Error};

/// A certificate's SHA-256 fingerprint (of its DER encoding), written `sha256:` followed by
/// 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of a DER-encoded certificate.
    pub fn of_der(der: &[u8]) -> Self {
        Fingerprint(Sha256::digest(der).into())
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sha256:")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a fingerprint could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected `sha256:` followed by 64 hex digits, got {0:?}")]
pub struct FingerprintParseError(pub String);

impl FromStr for Fingerprint {
    type Err = FingerprintParseError;

    /// Reads `sha256:` + 64 hex digits (either case; colons between bytes are allowed).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || FingerprintParseError(s.to_owned());
        let hex = s
            .strip_prefix("sha256:")
            .or_else(|| s.strip_prefix("SHA256:"))
            .ok_or_else(err)?;
        let digits: Vec<u8> = hex.bytes().filter(|&b| b != b':').collect();
        if digits.len() != 64 {
            return Err(err());
        }
        let mut out = [0u8; 32];
        for (i, pair) in digits.chunks(2).enumerate() {
            let hi = (pair[0] as char).to_digit(16).ok_or_else(err)?;
            let lo = (pair[1] as char).to_digit(16).ok_or_else(err)?;
            out[i] = (hi * 16 + lo) as u8;
        }
        Ok(Fingerprint(out))
    }
}

/// Which built-in trust anchors to use besides the extra roots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Roots {
    /// The Mozilla root store compiled into the program (feature `webpki-roots`, default).
    #[cfg(feature = "webpki-roots")]
    Webpki,
    /// The operating system's root store (feature `native-roots`).
    #[cfg(feature = "native-roots")]
    Native,
    /// None: only the extra roots (and pins).
    None,
}

impl Default for Roots {
    fn default() -> Self {
        #[cfg(feature = "webpki-roots")]
        return Roots::Webpki;
        #[cfg(all(not(feature = "webpki-roots"), feature = "native-roots"))]
        return Roots::Native;
        #[cfg(not(any(feature = "webpki-roots", feature = "native-roots")))]
        return Roots::None;
    }
}

/// TLS settings: TLS 1.2 or newer, certificates verified against the roots, plus pins.
#[derive(Debug, Clone, Default)]
pub struct TlsConfig {
    /// Built-in trust anchors.
    pub roots: Roots,
    extra_roots: Vec<CertificateDer<'static>>,
    pins: Vec<Fingerprint>,
}

impl TlsConfig {
    /// Adds a trust anchor (DER).
    pub fn add_root_der(&mut self, der: impl Into<Vec<u8>>) {
        self.extra_roots.push(CertificateDer::from(der.into()));
    }

    /// Adds every certificate of a PEM file as a trust anchor; returns how many.
    pub fn add_roots_pem(&mut self, pem: &[u8]) -> Result<usize, Error> {
        let ders = pem_certificates(pem)?;
        let n = ders.len();
        for d in ders {
            self.add_root_der(d);
        }
        Ok(n)
    }

    /// The extra trust anchors.
    pub fn extra_roots(&self) -> &[CertificateDer<'static>] {
        &self.extra_roots
    }

    /// Settings that weaken verification; see [`DangerousTlsConfig`].
    pub fn dangerous(&mut self) -> DangerousTlsConfig<'_> {
        DangerousTlsConfig { cfg: self }
    }

    /// The pinned fingerprints.
    pub fn pins(&self) -> &[Fingerprint] {
        &self.pins
    }

    /// The rustls client configuration these settings make (TLS 1.2 and 1.3, the *ring*
    /// provider, the verifier with the pins), for callers that run TLS themselves.
    pub fn rustls_client_config(&self) -> Result<Arc<rustls::ClientConfig>, Error> {
        client_config(self).map(|(c, _)| c)
    }
}

/// Options that accept certificates the roots do not vouch for. Each is a decision the user
/// must take for one account, knowingly.
#[derive(Debug)]
pub struct DangerousTlsConfig<'a> {
    cfg: &'a mut TlsConfig,
}

impl DangerousTlsConfig<'_> {
    /// Accepts the server certificate whose SHA-256 fingerprint is `pin`, even if it does not
    /// chain to a trusted root, has expired or names another host (a self-signed server
    /// certificate, typically). Pin several for rotation. The handshake signatures are still
    /// verified with that certificate's key, and every other certificate is still verified
    /// against the roots as usual.
    pub fn pin(&mut self, pin: Fingerprint) -> &mut Self {
        if !self.cfg.pins.contains(&pin) {
            self.cfg.pins.push(pin);
        }
        self
    }

    /// Removes every pin.
    pub fn clear_pins(&mut self) -> &mut Self {
        self.cfg.pins.clear();
        self
    }
}

/// The certificates of a PEM document, as DER.
pub fn pem_certificates(pem: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    use base64::Engine as _;
    let text = std::str::from_utf8(pem).map_err(|_| Error::Config("PEM is not text".into()))?;
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line == "-----BEGIN CERTIFICATE-----" {
            cur = Some(String::new());
        } else if line == "-----END CERTIFICATE-----" {
            let b64 = cur
                .take()
                .ok_or_else(|| Error::Config("PEM END without BEGIN".into()))?;
            let der = base64::engine::general_purpose::STANDARD
                .decode(b64.as_bytes())
                .map_err(|e| Error::Config(format!("PEM base64: {e}")))?;
            out.push(der);
        } else if let Some(c) = cur.as_mut() {
            c.push_str(line);
        }
    }
    if out.is_empty() {
        return Err(Error::Config("no CERTIFICATE in PEM".into()));
    }
    Ok(out)
}

/// The *ring* provider: it builds with a C compiler alone (aws-lc-rs needs more tooling).
/// rustls marks it deprecated for lacking post-quantum key exchange; X25519 and the NIST
/// curves remain.
#[allow(deprecated)]
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The verifier: pins first, then the roots; a refusal is recorded with its details.
#[derive(Debug)]
pub(crate) struct Verifier {
    inner: Option<Arc<WebPkiServerVerifier>>,
    pins: Vec<Fingerprint>,
    provider: Arc<CryptoProvider>,
    refused: Mutex<Option<CertificateError>>,
}

impl Verifier {
    pub(crate) fn new(cfg: &TlsConfig) -> Result<Self, Error> {
        let provider = provider();
        let mut store = RootCertStore::empty();
        match cfg.roots {
            #[cfg(feature = "webpki-roots")]
            Roots::Webpki => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            #[cfg(feature = "native-roots")]
            Roots::Native => {
                let found = rustls_native_certs::load_native_certs();
                for c in found.certs {
                    let _ = store.add(c);
                }
            }
            Roots::None => {}
        }
        for r in &cfg.extra_roots {
            store
                .add(r.clone())
                .map_err(|e| Error::Config(format!("extra root: {e}")))?;
        }
        let inner = if store.is_empty() {
            None
        } else {
            Some(
                WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
                    .build()
                    .map_err(|e| Error::Config(format!("verifier: {e}")))?,
            )
        };
        Ok(Verifier {
            inner,
            pins: cfg.pins.clone(),
            provider,
            refused: Mutex::new(None),
        })
    }

    /// The details of the last refusal.
    #[allow(dead_code)] // read by the connection driver
    pub(crate) fn take_refusal(&self) -> Option<CertificateError> {
        self.refused.lock().ok().and_then(|mut g| g.take())
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let fp = Fingerprint::of_der(end_entity);
        if self.pins.contains(&fp) {
            tracing::debug!(fingerprint = %fp, "certificate accepted by pin");
            return Ok(ServerCertVerified::assertion());
        }
        let result = match &self.inner {
            Some(v) => {
                v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            )),
        };
        if let Err(rustls::Error::InvalidCertificate(e)) = &result {
            let details = CertificateError::describe(end_entity, reason_of(e), fp);
            if let Ok(mut g) = self.refused.lock() {
                *g = Some(details);
            }
        }
        result
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn reason_of(e: &rustls::CertificateError) -> CertificateReason {
    use rustls::CertificateError as C;
    match e {
        C::UnknownIssuer => CertificateReason::UnknownIssuer,
        C::Expired | C::ExpiredContext { .. } => CertificateReason::Expired,
        C::NotValidYet | C::NotValidYetContext { .. } => CertificateReason::NotValidYet,
        C::NotValidForName | C::NotValidForNameContext { .. } => CertificateReason::WrongHostName,
        C::Revoked => CertificateReason::Revoked,
        other => CertificateReason::Other(format!("{other:?}")),
    }
}

/// A rustls client configuration for `cfg`, and the verifier (to read refusals from).
pub(crate) fn client_config(
    cfg: &TlsConfig,
) -> Result<(Arc<rustls::ClientConfig>, Arc<Verifier>), Error> {
    let verifier = Arc::new(Verifier::new(cfg)?);
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Error::Config(format!("TLS versions: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier.clone())
        .with_no_client_auth();
    Ok((Arc::new(config), verifier))
}

/// The SCRAM channel binding of an established TLS client connection: `tls-exporter`
/// (RFC 9266) on TLS 1.3, `tls-server-end-point` (RFC 5929 §4) on TLS 1.2.
pub fn channel_binding(conn: &rustls::ClientConnection) -> Option<ChannelBinding> {
    if conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3) {
        return tls_exporter(conn);
    }
    let leaf = conn.peer_certificates()?.first()?;
    Some(ChannelBinding {
        kind: ChannelBindingType::TlsServerEndPoint,
        data: server_end_point(leaf),
    })
}

/// The RFC 9266 `tls-exporter` channel binding of an established connection, either side
/// (meant for TLS 1.3 only: on TLS 1.2 it is unsafe without extended master secret).
pub(crate) fn tls_exporter<D>(conn: &rustls::ConnectionCommon<D>) -> Option<ChannelBinding> {
    let out = conn
        .export_keying_material([0u8; 32], b"EXPORTER-Channel-Binding", Some(b""))
        .ok()?;
    Some(ChannelBinding {
        kind: ChannelBindingType::TlsExporter,
        data: Bytes::copy_from_slice(&out),
    })
}

/// `tls-server-end-point` data: the certificate hashed with its signature's hash function
/// (SHA-256 when that is MD5 or SHA-1, or not a hash-and-sign algorithm).
pub fn server_end_point(der: &[u8]) -> Bytes {
    use x509_parser::prelude::*;
    let oid = X509Certificate::from_der(der)
        .ok()
        .map(|(_, c)| c.signature_algorithm.algorithm.to_id_string());
    match oid.as_deref() {
        // sha384WithRSAEncryption, ecdsa-with-SHA384
        Some("1.2.840.113549.1.1.12") | Some("1.2.840.10045.4.3.3") => {
            Bytes::copy_from_slice(&Sha384::digest(der))
        }
        // sha512WithRSAEncryption, ecdsa-with-SHA512
        Some("1.2.840.113549.1.1.13") | Some("1.2.840.10045.4.3.4") => {
            Bytes::copy_from_slice(&Sha512::digest(der))
        }
        _ => Bytes::copy_from_slice(&Sha256::digest(der)),
    }
}

/// How much one read of the socket under TLS takes at most ([`ReadAhead`]).
pub(crate) const READ_AHEAD: usize = 256 * 1024;

/// The socket under the TLS layer, read ahead: one `recv` takes up to [`READ_AHEAD`] bytes of
/// ciphertext, which the TLS layer then takes in the pieces it asks for. rustls reads at most
/// one record's worth (about 16.7 KiB) into its own buffer per call, so without this the
/// kernel sees one `recv` per record; with it, one per [`READ_AHEAD`] bytes received
/// (whatever the socket holds when read). Reads as large as the buffer, and every write, go
/// straight to the socket. The buffer is allocated at the first read (not zeroed: the socket
/// reads into its spare capacity) and reused once its bytes are taken; it is released when the
/// socket has nothing more to give after a read of less than [`QUIET_FILL`] bytes (an idle
/// connection, or one receiving little, holds no read-ahead buffer: what thousands of idle
/// accounts would otherwise pin at [`READ_AHEAD`] bytes each).
pub(crate) struct ReadAhead<S> {
    inner: S,
    /// The bytes read and not yet taken (its spare capacity is where the next read goes).
    buf: BytesMut,
    /// How many bytes the last read of the socket gave.
    last: usize,
}

/// A read of the socket smaller than this, followed by a socket with nothing more ready,
/// releases the read-ahead buffer (one TLS record's worth: the connection is not streaming).
pub(crate) const QUIET_FILL: usize = 16 * 1024;

impl<S> ReadAhead<S> {
    /// `inner`, read ahead.
    pub(crate) fn new(inner: S) -> Self {
        ReadAhead {
            inner,
            buf: BytesMut::new(),
            last: 0,
        }
    }
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for ReadAhead<S> {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        out: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::future::Future as _;
        use std::task::Poll;
        use tokio::io::AsyncReadExt as _;
        let this = self.get_mut();
        if this.buf.is_empty() {
            if out.remaining() >= READ_AHEAD {
                return std::pin::Pin::new(&mut this.inner).poll_read(cx, out);
            }
            // Every byte of the buffer was taken: this takes its whole allocation back (no
            // allocation, no copy) once there is one.
            this.buf.reserve(READ_AHEAD);
            let read = std::pin::pin!(this.inner.read_buf(&mut this.buf));
            match read.poll(cx) {
                // 0 bytes: the end of the stream, reported as such (nothing is put into `out`)
                Poll::Ready(Ok(n)) => this.last = n,
                Poll::Pending => {
                    if this.last < QUIET_FILL {
                        this.buf = BytesMut::new();
                    }
                    return Poll::Pending;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            }
        }
        let n = out.remaining().min(this.buf.len());
        out.put_slice(&this.buf[..n]);
        bytes::Buf::advance(&mut this.buf, n);
        Poll::Ready(Ok(()))
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for ReadAhead<S> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A byte source that counts how often it is read and how large the reads asked for are.
    struct Source {
        data: Vec<u8>,
        pos: usize,
        reads: Vec<usize>,
    }

    impl tokio::io::AsyncRead for Source {
        fn poll_read(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            out: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            let this = self.get_mut();
            this.reads.push(out.remaining());
            let n = out.remaining().min(this.data.len() - this.pos);
            out.put_slice(&this.data[this.pos..this.pos + n]);
            this.pos += n;
            std::task::Poll::Ready(Ok(()))
        }
    }

    /// Small reads (rustls's, about one record each) are served from one read of the socket
    /// per `READ_AHEAD` bytes, in order and complete, and the end of the stream comes
    /// through; a read as large as the buffer goes straight to the socket.
    #[tokio::test]
    async fn read_ahead_reads_the_socket_in_large_pieces() {
        use tokio::io::AsyncReadExt;
        let data: Vec<u8> = (0..READ_AHEAD * 3 + 1000)
            .map(|i| (i % 251) as u8)
            .collect();
        let mut r = ReadAhead::new(Source {
            data: data.clone(),
            pos: 0,
            reads: Vec::new(),
        });
        let mut got = Vec::new();
        let mut piece = vec![0u8; 16 * 1024 + 5];
        // Where each read of the socket went: one allocation, reused (every refill starts at
        // its beginning).
        let mut starts = std::collections::BTreeSet::new();
        loop {
            let socket_reads = r.inner.reads.len();
            let n = r.read(&mut piece).await.unwrap();
            if n == 0 {
                break;
            }
            if r.inner.reads.len() > socket_reads {
                starts.insert(r.buf.as_ptr().wrapping_sub(n) as usize);
            }
            got.extend_from_slice(&piece[..n]);
        }
        assert_eq!(got, data);
        assert_eq!(starts.len(), 1, "one buffer for the whole stream");
        // 3 full buffers, the last 1000 bytes, the end
        assert_eq!(r.inner.reads, vec![READ_AHEAD; 5]);
        assert_eq!(r.read(&mut piece).await.unwrap(), 0);

        let mut r = ReadAhead::new(Source {
            data: data.clone(),
            pos: 0,
            reads: Vec::new(),
        });
        let mut big = vec![0u8; READ_AHEAD + 1];
        let n = r.read(&mut big).await.unwrap();
        assert_eq!(&big[..n], &data[..READ_AHEAD + 1]);
        assert_eq!(r.inner.reads, vec![READ_AHEAD + 1]);
        assert_eq!(r.buf.capacity(), 0, "no buffer for reads that bypass it");
    }

    /// A socket with nothing ready (`Pending`) after a read smaller than `QUIET_FILL` releases
    /// the buffer; after a large read (a stream in progress) the buffer is kept.
    #[test]
    fn read_ahead_buffer_is_released_when_the_socket_goes_quiet() {
        struct Trickle {
            pieces: Vec<Vec<u8>>,
        }
        impl tokio::io::AsyncRead for Trickle {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
                out: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let this = self.get_mut();
                if this.pieces.is_empty() {
                    return std::task::Poll::Pending;
                }
                out.put_slice(&this.pieces.remove(0));
                std::task::Poll::Ready(Ok(()))
            }
        }
        use std::pin::Pin;
        use std::task::{Context, Poll, Waker};
        use tokio::io::AsyncRead;
        let mut cx = Context::from_waker(Waker::noop());
        let mut r = ReadAhead::new(Trickle {
            pieces: vec![vec![1; QUIET_FILL], vec![2; QUIET_FILL - 1]],
        });
        let mut piece = vec![0u8; 20 * 1024];
        let mut read = |r: &mut ReadAhead<Trickle>| {
            let mut out = tokio::io::ReadBuf::new(&mut piece);
            match Pin::new(r).poll_read(&mut cx, &mut out) {
                Poll::Ready(Ok(())) => Some(out.filled().to_vec()),
                Poll::Pending => None,
                Poll::Ready(Err(e)) => panic!("{e}"),
            }
        };
        assert_eq!(read(&mut r), Some(vec![1; QUIET_FILL]));
        assert!(r.buf.capacity() > 0);
        assert_eq!(read(&mut r), Some(vec![2; QUIET_FILL - 1]));
        assert_eq!(read(&mut r), None);
        assert_eq!(
            r.buf.capacity(),
            0,
            "released after a small read and nothing ready"
        );
        // nothing lost across the release, and the buffer comes back for the next read
        r.inner.pieces.push(vec![3; 10]);
        assert_eq!(read(&mut r), Some(vec![3; 10]));
        assert!(r.buf.capacity() > 0);

        let mut r = ReadAhead::new(Trickle {
            pieces: vec![vec![4; QUIET_FILL]],
        });
        assert_eq!(read(&mut r), Some(vec![4; QUIET_FILL]));
        assert_eq!(read(&mut r), None);
        assert!(r.buf.capacity() > 0, "kept while a stream is in progress");
    }

    #[test]
    fn fingerprint_round_trip() {
        let fp = Fingerprint::of_der(b"abc");
        let s = fp.to_string();
        assert_eq!(
            s,
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(s.parse::<Fingerprint>().unwrap(), fp);
        assert_eq!(
            s.to_uppercase()
                .replace("SHA256", "sha256")
                .parse::<Fingerprint>()
                .unwrap(),
            fp
        );
        assert!("sha1:00".parse::<Fingerprint>().is_err());
        assert!("sha256:zz".parse::<Fingerprint>().is_err());
        assert!(format!("{s}0").parse::<Fingerprint>().is_err());
    }

    /// Self-signed certificates are refused as `SelfSigned` with or without CA:TRUE (webpki
    /// names the CA:TRUE case differently), and accepted once pinned.
    #[test]
    fn self_signed_with_and_without_ca_true() {
        for is_ca in [
            rcgen::IsCa::NoCa,
            rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained),
        ] {
            let key = rcgen::KeyPair::generate().unwrap();
            let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
            params.is_ca = is_ca;
            let cert = params.self_signed(&key).unwrap();
            let der = cert.der().clone();
            let name = ServerName::try_from("localhost").unwrap();
            // A root store that is not empty, so webpki runs.
            let other_key = rcgen::KeyPair::generate().unwrap();
            let other = rcgen::CertificateParams::new(vec!["other".to_owned()])
                .unwrap()
                .self_signed(&other_key)
                .unwrap();
            let mut cfg = TlsConfig::default();
            cfg.add_root_der(other.der().to_vec());
            let v = Verifier::new(&cfg).unwrap();
            assert!(
                v.verify_server_cert(&der, &[], &name, &[], UnixTime::now())
                    .is_err()
            );
            let refusal = v.take_refusal().expect("the refusal's details");
            assert_eq!(refusal.reason, CertificateReason::SelfSigned, "{is_ca:?}");
            assert_eq!(refusal.fingerprint, Fingerprint::of_der(&der));
            cfg.dangerous().pin(Fingerprint::of_der(&der));
            let v = Verifier::new(&cfg).unwrap();
            v.verify_server_cert(&der, &[], &name, &[], UnixTime::now())
                .unwrap_or_else(|e| panic!("pinned {is_ca:?}: {e}"));
        }
    }
}
