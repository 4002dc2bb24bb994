//! LIST with special-use roles (RFC 6154) and the check that names missing roles.

mod common;

use bytes::Bytes;
use common::{Mode, TestServer, ca_signed};
use imapwire_codec::flag::MailboxAttribute;
use imapwire_codec::mailbox::Mailbox;
use imapwire_tokio::Role;

#[tokio::test]
async fn list_roles_and_missing_roles() {
    let cert = ca_signed(&["127.0.0.1"]);
    let server = TestServer::start(Mode::Implicit, cert.clone()).await;
    {
        let mut st = server.store.lock().unwrap();
        let mb = |n: &str| Mailbox::new(Bytes::copy_from_slice(n.as_bytes())).unwrap();
        assert!(st.create_special(&mb("Sent Items"), Some(MailboxAttribute::Sent)));
        assert!(st.create_special(&mb("Spam"), Some(MailboxAttribute::Junk)));
        // Named like a Trash folder but not marked: a guess.
        assert!(st.create_special(&mb("Trash"), None));
        assert!(st.create_special(&mb("Projects"), None));
    }
    let conn = common::connect_joe(&server, &cert).await;

    let list = conn.list("", "*").await.unwrap();
    let role = |name: &str| {
        list.iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("{name} not listed: {list:?}"))
            .special_use
    };
    assert_eq!(role("Sent Items"), Some(Role::Sent));
    assert_eq!(role("Spam"), Some(Role::Junk));
    assert_eq!(role("Trash"), None);
    assert_eq!(role("INBOX"), None);

    let found = conn.special_use().await.unwrap();
    assert_eq!(
        found.mailbox(Role::Sent).map(|m| m.as_bytes().to_vec()),
        Some(b"Sent Items".to_vec())
    );
    let required = [
        Role::Sent,
        Role::Drafts,
        Role::Trash,
        Role::Junk,
        Role::Archive,
    ];
    assert_eq!(found.missing(&required), [Role::Drafts, Role::Archive]);
    assert_eq!(found.guessed(&required), [Role::Trash]);
    assert_eq!(
        conn.missing_roles(&required).await.unwrap(),
        [Role::Drafts, Role::Archive]
    );
    assert!(
        conn.missing_roles(&[Role::Sent, Role::Junk])
            .await
            .unwrap()
            .is_empty()
    );
    conn.logout().await.unwrap();
}
