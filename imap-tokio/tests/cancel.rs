//! Cancel safety: futures dropped at pseudo-random points (commands, fetch streams in the
//! middle of a body, IDLE streams) never corrupt the connection.

mod common;

use std::time::Duration;

use common::{Mode, TestServer, ca_signed};
use imapwire_tokio::{Connection, Error};
use sha2::{Digest, Sha256};

/// Polls `fut` up to `n` times, letting the other tasks (driver, server) run between polls,
/// then drops it: `None` when it was dropped before completing.
async fn cancel_after<F: std::future::Future>(n: u64, fut: F) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    for _ in 0..n {
        let r = std::future::poll_fn(|cx| std::task::Poll::Ready(fut.as_mut().poll(cx))).await;
        if let std::task::Poll::Ready(v) = r {
            return Some(v);
        }
        tokio::task::yield_now().await;
    }
    None
}

fn lcg(s: &mut u64) -> u64 {
    *s = s
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *s >> 33
}

async fn hashes(conn: &Connection) -> Vec<(u32, u64, [u8; 32])> {
    let mut out = Vec::new();
    let mut s = conn
        .fetch("1:*", "(UID RFC822.SIZE BODY.PEEK[])", true)
        .await
        .unwrap();
    while let Some(mut m) = s.next().await.unwrap() {
        let mut h = Sha256::new();
        let mut n = 0;
        while let Some(c) = m.next_chunk().await.unwrap() {
            n += c.len() as u64;
            h.update(&c);
        }
        let d = m.finish().await.unwrap();
        assert_eq!(d.size, Some(n));
        out.push((d.uid.unwrap(), n, h.finalize().into()));
    }
    out
}

#[tokio::test]
async fn futures_dropped_at_random_points_leave_the_connection_usable() {
    common::log();
    let cert = ca_signed(&["127.0.0.1"]);
    let server = TestServer::start(Mode::Implicit, cert.clone()).await;
    let conn = common::connect_joe(&server, &cert).await;
    conn.select("INBOX").await.unwrap();
    // A message large enough to be streamed in pieces (over the 256 KiB threshold).
    let big: Vec<u8> = (0..400_000u32)
        .map(|i| {
            if i % 78 == 77 {
                b'\n'
            } else {
                b'a' + (i % 26) as u8
            }
        })
        .collect();
    let mut big_msg = b"Subject: big\r\n\r\n".to_vec();
    big_msg.extend_from_slice(&big);
    let uid = conn
        .append(
            "INBOX",
            &[],
            big_msg.len() as u64,
            std::io::Cursor::new(big_msg.clone()),
        )
        .await
        .unwrap();
    assert_eq!(uid, Some(4));
    assert_eq!(conn.select("INBOX").await.unwrap().exists, 4);
    let before = hashes(&conn).await;
    assert_eq!(before.len(), 4);

    let mut seed = 0x5eed_u64;
    let mut cancelled = 0;
    for round in 0..80 {
        let r = lcg(&mut seed);
        let budget = 1 + (r >> 3) % 24;
        let c = &conn;
        let res: Option<Result<(), Error>> = match r % 7 {
            0 => cancel_after(budget, c.noop()).await,
            1 => cancel_after(budget, async { c.select("INBOX").await.map(|_| ()) }).await,
            2 => {
                cancel_after(budget, async {
                    let mut s = c.fetch("1:*", "(UID BODY.PEEK[])", true).await?;
                    // Read a piece of the first message, then drop everything.
                    if let Some(mut m) = s.next().await? {
                        let _ = m.next_chunk().await?;
                    }
                    Ok(())
                })
                .await
            }
            3 => cancel_after(budget, async { c.search("ALL", true).await.map(|_| ()) }).await,
            4 => cancel_after(budget, async { c.list("", "*").await.map(|_| ()) }).await,
            5 => {
                cancel_after(budget, async {
                    let idle = c.idle().await?;
                    tokio::time::sleep(Duration::from_micros(500)).await;
                    drop(idle);
                    Ok(())
                })
                .await
            }
            _ => {
                let action = if round % 2 == 0 {
                    "+FLAGS (\\Flagged)"
                } else {
                    "-FLAGS (\\Flagged)"
                };
                cancel_after(budget, async {
                    c.store("1", action, true).await.map(|_| ())
                })
                .await
            }
        };
        match res {
            Some(r) => r.unwrap_or_else(|e| panic!("round {round}: {e}")),
            None => cancelled += 1,
        }
    }
    eprintln!("{cancelled} of 80 futures dropped before completing");
    assert!(
        cancelled >= 10,
        "too few futures were cancelled ({cancelled}) to test anything"
    );

    // Everything still works, and the data is intact.
    conn.noop().await.unwrap();
    assert_eq!(conn.select("INBOX").await.unwrap().exists, 4);
    let after = hashes(&conn).await;
    assert_eq!(before, after);
    let big_hash: [u8; 32] = Sha256::digest(&big_msg).into();
    assert_eq!(after[3].2, big_hash);
    assert_eq!(
        conn.search("ALL", true).await.unwrap().ids,
        vec![1, 2, 3, 4]
    );
    // An IDLE after all that still ends cleanly.
    let idle = conn.idle().await.unwrap();
    idle.done().await.unwrap();
    conn.logout().await.unwrap();
}

/// A message dropped before `finish` (its body read or not), or whose `finish` was dropped
/// half-way through a streamed body, is skipped: the next `FetchStream::next` returns the
/// next message, and every message comes once, in order.
#[tokio::test]
async fn unfinished_messages_are_skipped_in_order() {
    let cert = ca_signed(&["127.0.0.1"]);
    let server = TestServer::start(Mode::Implicit, cert.clone()).await;
    let conn = common::connect_joe(&server, &cert).await;
    // Streamed in pieces (over the 256 KiB threshold), behind the three small messages.
    let mut big = b"Subject: big\r\n\r\n".to_vec();
    big.extend((0..400_000u32).map(|i| if i % 78 == 77 { b'\n' } else { b'x' }));
    let len = big.len() as u64;
    let uid = conn
        .append("INBOX", &[], len, std::io::Cursor::new(big))
        .await;
    assert_eq!(uid.unwrap(), Some(4));
    conn.select("INBOX").await.unwrap();

    let mut s = conn.fetch("1:*", "(UID BODY.PEEK[])", true).await.unwrap();
    // 1: dropped at once.
    drop(s.next().await.unwrap().expect("message 1"));
    // 2: its body read, then dropped.
    let mut m = s.next().await.unwrap().expect("message 2");
    let body = m.next_chunk().await.unwrap().expect("a body");
    assert!(
        String::from_utf8_lossy(&body).contains("message 2"),
        "{body:?}"
    );
    drop(m);
    // 3: finished.
    let m = s.next().await.unwrap().expect("message 3");
    assert_eq!(m.finish().await.unwrap().uid, Some(3));
    // 4: a piece read, then `finish` dropped after one poll (the rest of the 400 kB body
    // cannot be in the stream's channel yet).
    let mut m = s.next().await.unwrap().expect("message 4");
    assert!(m.next_chunk().await.unwrap().is_some());
    assert!(cancel_after(1, m.finish()).await.is_none());
    assert!(s.next().await.unwrap().is_none(), "four messages");
    drop(s);
    let all: Vec<u32> = hashes(&conn).await.iter().map(|h| h.0).collect();
    assert_eq!(all, [1, 2, 3, 4]);
    conn.logout().await.unwrap();
}
