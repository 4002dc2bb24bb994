//! COMPRESS=DEFLATE (RFC 4978): raw DEFLATE both ways, with a sync flush after every transmit
//! so that nothing stays stuck in the compressor. Shared by the client and the server.
//!
//! Received bytes are inflated by one mechanism for both sessions, [`feed`]: in steps of at
//! most [`INFLATE_PIECE`] output bytes, each handed to the session (framed and processed)
//! before the next is inflated, stopping as soon as the session cannot take more. What the
//! session holds of the inflated data is then bounded by its own limits and a window, not by
//! the read size times DEFLATE's ratio (about 1032:1: a 64 KiB read can inflate to 66 MB).

use bytes::Bytes;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The most inflated bytes one step produces: the piece handed to the session at a time.
pub(crate) const INFLATE_PIECE: usize = 16 * 1024;

/// The compressor and inflater of one COMPRESS=DEFLATE connection, with what is kept between
/// calls of [`feed`].
pub(crate) struct Deflate {
    tx: Compress,
    rx: Decompress,
    /// Compressed bytes that followed the COMPRESS OK in the read that carried it (taken from
    /// the receiver when compression took effect): inflated before any new input.
    backlog: Bytes,
    /// The last step filled its piece: the inflater may hold more output of input it has
    /// already consumed (at most its 32 KiB window), to be taken with empty input.
    pending: bool,
    /// Inflated bytes handed to the session since its event queue was last seen empty: what
    /// the queued events can hold of them.
    unread: usize,
    /// The output buffer of one step ([`INFLATE_PIECE`] bytes, reused).
    piece: Box<[u8]>,
    /// The peer ended the DEFLATE stream (a final block): later input is an error.
    ended: bool,
}

impl std::fmt::Debug for Deflate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflate")
            .field("in", &self.rx.total_in())
            .field("out", &self.tx.total_out())
            .field("backlog", &self.backlog.len())
            .field("pending", &self.pending)
            .finish()
    }
}

/// A session that takes inflated input piece by piece (the client and the server).
pub(crate) trait Inflating {
    /// The inflater, while compression is active.
    fn inflater(&mut self) -> Option<&mut Deflate>;
    /// Whether the session takes input now (not closed, handed off, waiting for the
    /// application or holding as many events as it may).
    fn takes_input(&self) -> bool;
    /// Whether events wait for the caller.
    fn holds_events(&self) -> bool;
    /// The most inflated bytes handed over while events wait for the caller; past it the
    /// session stops until they are taken.
    fn inflate_window(&self) -> usize;
    /// Frames and processes one inflated piece.
    fn take_piece(&mut self, piece: &[u8]);
    /// The compressed data was invalid: the session ends.
    fn inflate_failed(&mut self, error: String);
}

/// Inflates compressed `input` into the session `s`, after what was kept from earlier calls
/// (the backlog, output still inside the inflater): one piece of at most [`INFLATE_PIECE`]
/// bytes at a time, each framed and processed before the next is inflated. Stops when all
/// is inflated, when `s` takes no input, or when events wait and at least
/// [`Inflating::inflate_window`] bytes were handed over since the event queue was last empty.
/// Returns how many bytes of `input` were consumed: the rest must be offered again after the
/// caller has taken the events. Consumed input may still hold output inside the inflater
/// ([`Deflate::has_input`]): the session takes it with an empty `input` when its events are
/// drained. On invalid data the session is ended and all of `input` counts as consumed.
///
/// What the session holds of inflated data is then at most: the unfinished message in its
/// receiver (bounded by its framing limits), plus less than the window and one piece in
/// queued events, plus this piece buffer.
pub(crate) fn feed<S: Inflating + ?Sized>(s: &mut S, input: &[u8]) -> usize {
    let mut taken = 0;
    loop {
        if !s.takes_input() {
            return taken;
        }
        let window = s.inflate_window();
        let holds = s.holds_events();
        let Some(d) = s.inflater() else {
            return taken;
        };
        if !holds {
            d.unread = 0;
        } else if d.unread >= window {
            return taken;
        }
        let mut piece = std::mem::take(&mut d.piece);
        let step = if !d.backlog.is_empty() {
            let backlog = std::mem::take(&mut d.backlog);
            let r = d.inflate_step(&backlog, &mut piece);
            if let Ok((used, _)) = r {
                d.backlog = backlog.slice(used..);
            }
            r
        } else if taken < input.len() || d.pending {
            let r = d.inflate_step(&input[taken..], &mut piece);
            if let Ok((used, _)) = r {
                taken += used;
            }
            r
        } else {
            d.piece = piece;
            return taken;
        };
        match step {
            Ok((_, n)) => {
                d.unread = d.unread.saturating_add(n);
                if n > 0 {
                    s.take_piece(&piece[..n]);
                }
                if let Some(d) = s.inflater() {
                    d.piece = piece;
                }
            }
            Err(e) => {
                d.piece = piece;
                s.inflate_failed(e);
                return input.len();
            }
        }
    }
}

impl Deflate {
    /// Compression with nothing received yet (for tests playing the peer).
    #[cfg(test)]
    pub(crate) fn new() -> Self {
        Self::with_backlog(Bytes::new())
    }

    /// Compression taking effect with `backlog`, the compressed bytes already received.
    pub(crate) fn with_backlog(backlog: Bytes) -> Self {
        Deflate {
            tx: Compress::new(Compression::default(), false),
            rx: Decompress::new(false),
            backlog,
            pending: false,
            unread: 0,
            piece: vec![0; INFLATE_PIECE].into_boxed_slice(),
            ended: false,
        }
    }

    /// Whether received bytes wait to be inflated or handed over (the backlog, or output
    /// still inside the inflater).
    /// Compressed octets the inflater consumed so far.
    pub(crate) fn compressed_in(&self) -> u64 {
        self.rx.total_in()
    }

    /// Octets given to the compressor so far (before compression).
    pub(crate) fn plain_out(&self) -> u64 {
        self.tx.total_in()
    }

    pub(crate) fn has_input(&self) -> bool {
        !self.backlog.is_empty() || self.pending
    }

    /// Compresses `data` and ends with a sync flush.
    pub(crate) fn compress(&mut self, data: &[u8]) -> Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let mut input = data;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(256));
            }
            let before_in = self.tx.total_in();
            // The status says nothing the lengths do not: `BufError` (no room) is met by the
            // next round's larger buffer, and a raw stream never ends here.
            self.tx
                .compress_vec(input, &mut out, FlushCompress::Sync)
                .map_err(|e| e.to_string())?;
            let used = (self.tx.total_in() - before_in) as usize;
            input = &input[used..];
            // Done when all input is taken and the flush fitted (room left over).
            if input.is_empty() && out.len() < out.capacity() {
                return Ok(out);
            }
        }
    }

    /// One inflate step: at most `out.len()` bytes into `out` from `input`. Returns the input
    /// bytes consumed and the output bytes written; notes whether more output may be pending.
    fn inflate_step(&mut self, input: &[u8], out: &mut [u8]) -> Result<(usize, usize), String> {
        let before_in = self.rx.total_in();
        let before_out = self.rx.total_out();
        let status = self
            .rx
            .decompress(input, out, FlushDecompress::None)
            .map_err(|e| e.to_string())?;
        let used = (self.rx.total_in() - before_in) as usize;
        let produced = (self.rx.total_out() - before_out) as usize;
        self.pending = produced == out.len();
        if status == Status::StreamEnd {
            // A final block: COMPRESS streams never end (RFC 4978 §4), so whatever follows
            // cannot be inflated. The output of this step is still handed over; the next
            // step with input fails below.
            self.ended = true;
        }
        if used == 0 && produced == 0 && !input.is_empty() {
            return Err(if self.ended {
                "data after the end of the compressed stream (a final DEFLATE block)".into()
            } else {
                "inflater made no progress".into()
            });
        }
        Ok((used, produced))
    }

    /// Inflates all of `data` (and what is pending), appending to `out`: for tests playing
    /// the peer.
    #[cfg(test)]
    pub(crate) fn decompress(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        let mut input = data;
        let mut piece = std::mem::take(&mut self.piece);
        while !input.is_empty() || self.pending {
            let (used, n) = self.inflate_step(input, &mut piece)?;
            input = &input[used..];
            out.extend_from_slice(&piece[..n]);
        }
        self.piece = piece;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_sync_flush_in_pieces() {
        let mut a = Deflate::new();
        let mut b = Deflate::new();
        let mut got = Vec::new();
        let mut want = Vec::new();
        for i in 0..50 {
            let line = format!("A{i:04} FETCH 1:* (UID FLAGS)\r\n").repeat(i % 7 + 1);
            want.extend_from_slice(line.as_bytes());
            let c = a.compress(line.as_bytes()).unwrap();
            // Every transmit is complete on its own: the peer can inflate it at once.
            let before = got.len();
            b.decompress(&c, &mut got).unwrap();
            assert_eq!(&got[before..], line.as_bytes());
        }
        assert_eq!(got, want);
    }

    #[test]
    fn byte_by_byte_input_inflates_the_same() {
        let mut a = Deflate::new();
        let data: Vec<u8> = (0..20_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let c = a.compress(&data).unwrap();
        let mut b = Deflate::new();
        let mut got = Vec::new();
        for byte in &c {
            b.decompress(std::slice::from_ref(byte), &mut got).unwrap();
        }
        assert_eq!(got, data);
    }

    /// A session that keeps every piece as one queued event until told to drain.
    struct Sink {
        d: Option<Deflate>,
        queued: Vec<Vec<u8>>,
        got: Vec<u8>,
        window: usize,
        failed: Option<String>,
    }

    impl Inflating for Sink {
        fn inflater(&mut self) -> Option<&mut Deflate> {
            self.d.as_mut()
        }
        fn takes_input(&self) -> bool {
            self.failed.is_none()
        }
        fn holds_events(&self) -> bool {
            !self.queued.is_empty()
        }
        fn inflate_window(&self) -> usize {
            self.window
        }
        fn take_piece(&mut self, piece: &[u8]) {
            assert!(!piece.is_empty() && piece.len() <= INFLATE_PIECE);
            self.queued.push(piece.to_vec());
        }
        fn inflate_failed(&mut self, error: String) {
            self.failed = Some(error);
        }
    }

    #[test]
    fn feed_stops_at_the_window_and_resumes_where_it_stopped() {
        // 4 MiB from a few kB: the output of one call is bounded by the window and a piece,
        // whatever the input's ratio.
        let data: Vec<u8> = b"abcdefgh".repeat(512 * 1024);
        let wire = Deflate::new().compress(&data).unwrap();
        assert!(wire.len() < 16 * 1024, "{}", wire.len());
        let mut s = Sink {
            d: Some(Deflate::with_backlog(Bytes::copy_from_slice(&wire[..100]))),
            queued: Vec::new(),
            got: Vec::new(),
            window: 40_000,
            failed: None,
        };
        let mut rest = &wire[100..];
        let mut calls = 0;
        loop {
            calls += 1;
            let n = feed(&mut s, rest);
            rest = &rest[n..];
            let held: usize = s.queued.iter().map(Vec::len).sum();
            assert!(held < 40_000 + INFLATE_PIECE, "{held}");
            if s.queued.is_empty() && rest.is_empty() {
                break;
            }
            for p in s.queued.drain(..) {
                s.got.extend_from_slice(&p);
            }
        }
        assert_eq!(s.got, data);
        assert!(
            calls > data.len() / (40_000 + INFLATE_PIECE),
            "{calls} calls"
        );
        assert!(s.failed.is_none());
        assert!(!s.d.as_ref().unwrap().has_input());
        // Invalid data: the session is told, and the input counts as consumed.
        let mut bad = Sink {
            d: Some(Deflate::new()),
            queued: Vec::new(),
            got: Vec::new(),
            window: 1,
            failed: None,
        };
        assert_eq!(feed(&mut bad, &[0xff; 64]), 64);
        assert!(bad.failed.is_some());
    }

    /// A final block ends a DEFLATE stream, which COMPRESS never does: what it holds is
    /// inflated, and input after it is an error that says so.
    #[test]
    fn data_after_a_final_block_is_an_error_that_says_so() {
        let mut z = Compress::new(Compression::default(), false);
        let mut wire = Vec::with_capacity(1024);
        z.compress_vec(b"* OK last\r\n", &mut wire, FlushCompress::Finish)
            .unwrap();
        wire.extend_from_slice(b"\x07more");
        let mut b = Deflate::new();
        let mut got = Vec::new();
        let e = b.decompress(&wire, &mut got).unwrap_err();
        assert_eq!(got, b"* OK last\r\n");
        assert!(e.contains("final DEFLATE block"), "{e}");
    }

    #[test]
    fn garbage_is_an_error() {
        let mut b = Deflate::new();
        let mut got = Vec::new();
        assert!(b.decompress(&[0xff; 64], &mut got).is_err());
    }
}
