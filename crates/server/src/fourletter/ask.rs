//! Asking a server a four-letter word over TCP: what the console, Exhibitor's
//! `cluster/status` and `corral supervise` do to learn another member's state.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The most of an answer read: mntr is a few kB, `wchc` on a big server more.
const ANSWER_MAX: u64 = 1 << 20;

/// `word` sent to `address` (host:port); `None` when it cannot be reached or does not
/// answer within `timeout`.
pub async fn ask(address: &str, word: &str, timeout: Duration) -> Option<String> {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(address).await.ok()?;
        stream.write_all(word.as_bytes()).await.ok()?;
        let mut text = Vec::new();
        (&mut stream)
            .take(ANSWER_MAX)
            .read_to_end(&mut text)
            .await
            .ok()?;
        Some(String::from_utf8_lossy(&text).into_owned())
    };
    tokio::time::timeout(timeout, exchange).await.ok().flatten()
}
