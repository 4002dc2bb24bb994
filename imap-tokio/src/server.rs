//! The accept side: serving IMAP (RFC 9051) over tokio sockets with the sans-IO
//! [`imapwire_session::server::Server`]. (Owned by the server helper; placeholder until it
//! lands.)
