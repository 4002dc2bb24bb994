//! One JSON object per line on stdout, flushed line by line (tools read it as it comes).

use std::io::Write;

use serde_json::{Value, json};

/// Writes `v` and a newline, and flushes.
pub fn line(v: Value) -> Result<(), crate::Failure> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &v).map_err(|e| crate::Failure::Failed(e.to_string()))?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// `{"uid", "flags", "size", "sha256"}` of `fetch` and `local`.
pub fn message(uid: u32, flags: &[String], size: u64, sha256: &[u8; 32]) -> Value {
    json!({ "uid": uid, "flags": self::flags(flags), "size": size, "sha256": hex(sha256) })
}

/// The flags as printed: `\Recent` never appears.
pub fn flags(flags: &[String]) -> Vec<&str> {
    flags
        .iter()
        .map(String::as_str)
        .filter(|f| !f.eq_ignore_ascii_case("\\Recent"))
        .collect()
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
