//! The server's listener queues a burst of connections instead of dropping them.

use std::time::Duration;

/// Three hundred clients connect at once while nothing accepts: with the usual queue of 128
/// the kernel drops the attempts beyond it, and each is retried only after a second, so a
/// connection that takes 900 ms (ample on a loaded machine) was dropped.
#[tokio::test]
async fn a_burst_of_connections_waits_in_the_queue() {
    let listener = chunlei_http::listen("127.0.0.1:0").await.expect("listen");
    let address = listener.local_addr().expect("address");
    let connects: Vec<_> = (0..300)
        .map(|_| {
            tokio::spawn(async move {
                tokio::time::timeout(
                    Duration::from_millis(900),
                    tokio::net::TcpStream::connect(address),
                )
                .await
            })
        })
        .collect();
    let mut connected = Vec::new();
    for connect in connects {
        let stream = connect
            .await
            .expect("task")
            .expect("connected within 900 ms")
            .expect("connected");
        connected.push(stream);
    }
    assert_eq!(connected.len(), 300);
    drop(listener);
}

#[tokio::test]
async fn an_address_that_cannot_be_bound_is_an_error() {
    let taken = chunlei_http::listen("127.0.0.1:0").await.expect("listen");
    let address = taken.local_addr().expect("address").to_string();
    // SO_REUSEADDR does not let a second listener take a port that is listening.
    assert!(chunlei_http::listen(&address).await.is_err());
    assert!(
        chunlei_http::listen("no-such-host.invalid:80")
            .await
            .is_err()
    );
}
