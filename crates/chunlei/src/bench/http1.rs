//! The benchmarks' HTTP/1.1 client: one kept-alive TCP connection, one request at a time,
//! answers framed by `Content-Length` (as the server always frames them).
//!
//! The client runs on the same two cores as the server it measures, so it does only what a
//! client must: write the request, read the answer. It runs in its caller's task, with no
//! connection task, pool or channel between them.

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Headers an answer may carry at most.
const HEADERS_MAX: usize = 32;
/// The longest answer read, head and body.
const ANSWER_BYTES_MAX: usize = 1 << 20;

/// An answer: its status code and body.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

pub struct Connection {
    stream: TcpStream,
    /// The request being written: kept to reuse its allocation.
    request: Vec<u8>,
    /// What was read and not yet taken as an answer.
    read: Vec<u8>,
}

impl Connection {
    pub async fn open(address: std::net::SocketAddr) -> anyhow::Result<Connection> {
        let stream = TcpStream::connect(address)
            .await
            .with_context(|| format!("connecting to {address}"))?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            request: Vec::with_capacity(1_024),
            read: Vec::with_capacity(8_192),
        })
    }

    /// Sends `POST path` with a JSON `body` and the `authorization` header, and reads the
    /// answer.
    pub async fn post_json(
        &mut self,
        path: &str,
        authorization: &str,
        body: &str,
    ) -> anyhow::Result<Answer> {
        self.send("POST", path, authorization, Some(body)).await
    }

    /// Sends `GET path` with the `authorization` header, and reads the answer.
    pub async fn get(&mut self, path: &str, authorization: &str) -> anyhow::Result<Answer> {
        self.send("GET", path, authorization, None).await
    }

    async fn send(
        &mut self,
        method: &str,
        path: &str,
        authorization: &str,
        json: Option<&str>,
    ) -> anyhow::Result<Answer> {
        self.request.clear();
        self.request.extend_from_slice(method.as_bytes());
        self.request.push(b' ');
        self.request.extend_from_slice(path.as_bytes());
        self.request
            .extend_from_slice(b" HTTP/1.1\r\nhost: chunlei\r\n");
        self.request.extend_from_slice(b"authorization: ");
        self.request.extend_from_slice(authorization.as_bytes());
        if let Some(body) = json {
            self.request
                .extend_from_slice(b"\r\ncontent-type: application/json\r\ncontent-length: ");
            self.request
                .extend_from_slice(body.len().to_string().as_bytes());
        }
        self.request.extend_from_slice(b"\r\n\r\n");
        if let Some(body) = json {
            self.request.extend_from_slice(body.as_bytes());
        }
        self.stream.write_all(&self.request).await?;
        self.answer().await
    }

    /// Reads one answer: its head, then as many body bytes as its `Content-Length` says.
    async fn answer(&mut self) -> anyhow::Result<Answer> {
        loop {
            if let Some((head, length, status)) = parse_head(&self.read)? {
                let end = head
                    .checked_add(length)
                    .filter(|end| *end <= ANSWER_BYTES_MAX)
                    .context("an answer longer than the client reads")?;
                while self.read.len() < end {
                    self.fill().await?;
                }
                let body = self.read[head..end].to_vec();
                self.read.drain(..end);
                return Ok(Answer { status, body });
            }
            if self.read.len() >= ANSWER_BYTES_MAX {
                bail!("an answer head longer than the client reads");
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> anyhow::Result<()> {
        if self.read.capacity() - self.read.len() < 4_096 {
            self.read.reserve(8_192);
        }
        if self.stream.read_buf(&mut self.read).await? == 0 {
            bail!("the server closed the connection");
        }
        Ok(())
    }
}

/// The length of an answer's head, its body's length and its status, once `bytes` hold the
/// whole head.
fn parse_head(bytes: &[u8]) -> anyhow::Result<Option<(usize, usize, u16)>> {
    let mut headers = [httparse::EMPTY_HEADER; HEADERS_MAX];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response
        .parse(bytes)
        .context("an answer that is not HTTP/1.1")?
    {
        httparse::Status::Complete(head) => head,
        httparse::Status::Partial => return Ok(None),
    };
    let status = response.code.context("an answer without a status")?;
    let length = response
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .context("an answer without Content-Length")?;
    let length = std::str::from_utf8(length.value)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .context("an answer with a Content-Length that is not a number")?;
    Ok(Some((head, length, status)))
}

#[cfg(test)]
mod tests {
    use super::{Answer, Connection, parse_head};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn heads_are_parsed_once_complete() {
        let answer = b"HTTP/1.1 201 Created\r\nContent-Length: 5\r\nx: y\r\n\r\nhello";
        assert_eq!(
            parse_head(answer).expect("parses"),
            Some((answer.len() - 5, 5, 201))
        );
        assert_eq!(parse_head(&answer[..30]).expect("parses"), None);
        assert!(parse_head(b"HTTP/1.1 200 OK\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n").is_err());
        assert!(parse_head(b"SMTP ready\r\n\r\n").is_err());
    }

    /// Two requests on one connection, the answers arriving in pieces, the second's head
    /// together with the first's body.
    #[tokio::test]
    async fn answers_are_read_whole_and_in_order_on_one_connection() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut seen = Vec::new();
            let mut buffer = [0u8; 4_096];
            while !seen.ends_with(b"{\"n\":1}") {
                let n = socket.read(&mut buffer).await.expect("read");
                seen.extend_from_slice(&buffer[..n]);
            }
            for piece in [
                &b"HTTP/1.1 200 OK\r\ncontent-le"[..],
                b"ngth: 3\r\n\r\nab",
                b"cHTTP/1.1 409 Conflict\r\nContent-Length: 2\r\n\r\n",
            ] {
                socket.write_all(piece).await.expect("write");
                socket.flush().await.expect("flush");
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            seen.clear();
            while !seen.ends_with(b"{\"n\":2}") {
                let n = socket.read(&mut buffer).await.expect("read");
                seen.extend_from_slice(&buffer[..n]);
            }
            socket.write_all(b"no").await.expect("write");
            String::from_utf8(seen).expect("text")
        });
        let mut connection = Connection::open(address).await.expect("connect");
        for (path, body, status, answer) in [
            ("/a", r#"{"n":1}"#, 200, &b"abc"[..]),
            ("/b", r#"{"n":2}"#, 409, b"no"),
        ] {
            let got = connection
                .post_json(path, "Bearer k", body)
                .await
                .expect(path);
            let want = Answer {
                status,
                body: answer.to_vec(),
            };
            assert_eq!(got, want, "{path}");
        }
        let request = server.await.expect("server");
        assert!(
            request.starts_with("POST /b HTTP/1.1\r\n")
                && request.contains("\r\nauthorization: Bearer k\r\n")
                && request.contains("\r\ncontent-length: 7\r\n\r\n"),
            "{request}"
        );
    }
}
