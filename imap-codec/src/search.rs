//! SEARCH keys (RFC 9051 §6.4.4). STUB: replaced by the command/search work.
