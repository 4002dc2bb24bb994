//! COMPRESS=DEFLATE (RFC 4978): raw DEFLATE both ways, with a sync flush after every transmit
//! so that nothing stays stuck in the compressor. Shared by the client and the server.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// Most output one input byte can inflate to before the session stops and asks for room
/// again (DEFLATE's maximum ratio is about 1032:1).
const INFLATE_STEP: usize = 64 * 1024;

pub(crate) struct Deflate {
    tx: Compress,
    rx: Decompress,
}

impl std::fmt::Debug for Deflate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflate")
            .field("in", &self.rx.total_in())
            .field("out", &self.tx.total_out())
            .finish()
    }
}

impl Deflate {
    pub(crate) fn new() -> Self {
        Deflate {
            tx: Compress::new(Compression::default(), false),
            rx: Decompress::new(false),
        }
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
            let st = self
                .tx
                .compress_vec(input, &mut out, FlushCompress::Sync)
                .map_err(|e| e.to_string())?;
            let used = (self.tx.total_in() - before_in) as usize;
            input = &input[used..];
            match st {
                Status::Ok | Status::BufError | Status::StreamEnd => {
                    // Done when all input is taken and the flush fitted (room left over).
                    if input.is_empty() && out.len() < out.capacity() {
                        return Ok(out);
                    }
                }
            }
        }
    }

    /// Inflates `data`, appending to `out`. The result is bounded by the input size times
    /// DEFLATE's ratio; the framer's limits bound what is kept of it.
    pub(crate) fn decompress(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        let mut input = data;
        loop {
            if out.capacity() - out.len() < INFLATE_STEP / 4 {
                out.reserve(INFLATE_STEP);
            }
            let before_in = self.rx.total_in();
            let before_out = self.rx.total_out();
            let st = self
                .rx
                .decompress_vec(input, out, FlushDecompress::Sync)
                .map_err(|e| e.to_string())?;
            let used = (self.rx.total_in() - before_in) as usize;
            let produced = self.rx.total_out() - before_out;
            input = &input[used..];
            match st {
                Status::StreamEnd => return Ok(()),
                _ if input.is_empty() && out.len() < out.capacity() => return Ok(()),
                _ if used == 0 && produced == 0 && out.len() < out.capacity() => {
                    return Err("inflater made no progress".into());
                }
                _ => {}
            }
        }
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

    #[test]
    fn garbage_is_an_error() {
        let mut b = Deflate::new();
        let mut got = Vec::new();
        assert!(b.decompress(&[0xff; 64], &mut got).is_err());
    }
}
