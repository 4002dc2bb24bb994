//! ENVELOPE (RFC 9051 §7.5.2 `envelope`). STUB: replaced by the fetch/body/envelope work.
