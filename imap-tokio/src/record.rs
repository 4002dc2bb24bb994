//! Recording what a connection receives into a file: [`FileTap`], the writer behind
//! [`ClientConfig::received_tap`](imapwire_session::client::ClientConfig::received_tap).
//!
//! The file holds exactly the bytes the session consumed from the server, after TLS and after
//! COMPRESS=DEFLATE is undone, in order: the input of `dissect --server` and of the recording
//! decoders. It includes everything the server sends (message contents, mailbox names, SASL
//! challenges); nothing the client sends passes through it.
//!
//! # Failure policy
//!
//! A recording must never take the connection down with it. When a write fails (disk full,
//! the directory removed, a read-only file), the tap:
//!
//! 1. stops recording: later input is not written (a recording with a hole in it would decode
//!    as a different session), and the file is closed;
//! 2. removes the partial file if asked to ([`FileTap::remove_on_failure`]), otherwise leaves
//!    it as it was at the failure;
//! 3. reports the failure **once**: a `tracing` warning, the caller's
//!    [`FileTap::on_failure`] function if there is one, and [`FileTap::failure`] from then on.
//!
//! The connection itself never sees the failure: the tap neither panics nor returns an error
//! into the session. Writes happen on the thread that hands the session its input (the
//! connection's driver task), one `write_all` per piece of input, unbuffered, so the file is
//! complete up to the last byte consumed at any moment (a crashed test leaves a usable
//! recording). A write to a local file is short; a file system that stalls (a hung network
//! mount) would stall that connection's driver, so record to local disk.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use imapwire_session::client::ReceivedTap;

/// Writes what a connection receives to a file (see the [module docs](self) for the failure
/// policy).
///
/// ```no_run
/// # fn demo() -> std::io::Result<()> {
/// use imapwire_tokio::{record::FileTap, Config, Security};
///
/// let rec = FileTap::create("session.imap")?;
/// let mut cfg = Config::new("imap.example.org", 993).with_security(Security::ImplicitTls);
/// cfg.session.received_tap = Some(rec.tap());
/// // ... connect and use the connection; afterwards:
/// if let Some(e) = rec.failure() {
///     eprintln!("the recording is incomplete: {e}");
/// }
/// # Ok(()) }
/// ```
///
/// Cloning gives another handle on the same recording.
#[derive(Clone)]
pub struct FileTap {
    inner: Arc<Inner>,
}

/// Called once with the file's path and the error when a write fails.
type FailureFn = dyn Fn(&Path, &io::Error) + Send + Sync;

struct Inner {
    path: PathBuf,
    /// `None` once a write failed: recording stopped.
    file: Mutex<Option<File>>,
    failure: OnceLock<io::Error>,
    remove_on_failure: AtomicBool,
    on_failure: Mutex<Option<Box<FailureFn>>>,
}

impl FileTap {
    /// Creates (or truncates) the file at `path` to record into. Opening is the only step
    /// whose failure is returned; later write failures follow the failure policy.
    pub fn create(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_owned();
        let file = File::create(&path)?;
        Ok(FileTap {
            inner: Arc::new(Inner {
                path,
                file: Mutex::new(Some(file)),
                failure: OnceLock::new(),
                remove_on_failure: AtomicBool::new(false),
                on_failure: Mutex::new(None),
            }),
        })
    }

    /// With `true`, a failed write also removes the partial file, so that only complete
    /// recordings exist (for collections of recordings that are decoded later). Default:
    /// `false`, the file is left as it was at the failure. Applies to every handle and tap of
    /// this recording, from the next failure on.
    #[must_use]
    pub fn remove_on_failure(self, remove: bool) -> Self {
        self.inner
            .remove_on_failure
            .store(remove, Ordering::Relaxed);
        self
    }

    /// `f` is called once, with the path and the error, when a write fails (besides the
    /// `tracing` warning): for programs that report on stderr or fail a test. It runs on the
    /// connection's driver task, so it must not block. Replaces an earlier function; applies
    /// to every handle and tap of this recording.
    #[must_use]
    pub fn on_failure(self, f: impl Fn(&Path, &io::Error) + Send + Sync + 'static) -> Self {
        *lock(&self.inner.on_failure) = Some(Box::new(f));
        self
    }

    /// The tap to put in
    /// [`ClientConfig::received_tap`](imapwire_session::client::ClientConfig::received_tap).
    /// Several taps of one `FileTap` write to the same file (interleaved if two connections
    /// run at once, which makes no usable recording: use one file per connection).
    pub fn tap(&self) -> ReceivedTap {
        let inner = Arc::clone(&self.inner);
        ReceivedTap::new(move |bytes| inner.write(bytes))
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The error that stopped the recording, if a write failed. The file then holds at most
    /// the bytes before the failed write (nothing, if it was removed).
    pub fn failure(&self) -> Option<&io::Error> {
        self.inner.failure.get()
    }

    /// Whether a write failed and the recording stopped.
    pub fn failed(&self) -> bool {
        self.failure().is_some()
    }
}

impl Inner {
    fn write(&self, bytes: &[u8]) {
        let mut file = lock(&self.file);
        let Some(f) = file.as_mut() else {
            return;
        };
        let Err(e) = f.write_all(bytes) else {
            return;
        };
        // Stop first (the file closes), then report: only the first failure gets here,
        // since the file is gone for every later call.
        *file = None;
        drop(file);
        let remove = self.remove_on_failure.load(Ordering::Relaxed);
        if remove {
            // Best effort: a file that cannot be removed (its directory is gone) is gone.
            let _ = std::fs::remove_file(&self.path);
        }
        tracing::warn!(
            path = %self.path.display(),
            error = %e,
            removed = remove,
            "recording what the server sends failed; recording stopped"
        );
        let _ = self.failure.set(e);
        let report = lock(&self.on_failure);
        if let (Some(f), Some(e)) = (report.as_ref(), self.failure.get()) {
            f(&self.path, e);
        }
    }
}

/// The mutex's contents even if a holder panicked (the file handle is still usable or
/// already `None`; the failure function is replaced whole).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl std::fmt::Debug for FileTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileTap")
            .field("path", &self.inner.path)
            .field("failure", &self.failure())
            .field(
                "remove_on_failure",
                &self.inner.remove_on_failure.load(Ordering::Relaxed),
            )
            .finish_non_exhaustive()
    }
}
