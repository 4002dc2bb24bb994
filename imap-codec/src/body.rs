//! BODY / BODYSTRUCTURE (RFC 9051 §7.5.2 `body`). STUB: replaced by the fetch/body/envelope work.
