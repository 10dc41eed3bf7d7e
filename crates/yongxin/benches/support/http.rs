//! The benchmarks' lean HTTP/1.1 client.

/// A keep-alive HTTP/1.1 connection that sends one request at a time: a load generator as lean
/// as `wrk`, since it shares the two cores with the server it measures.
pub struct Connection {
    stream: tokio::net::TcpStream,
    buffer: Vec<u8>,
}

impl Connection {
    pub async fn open(address: std::net::SocketAddr) -> Self {
        let stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Self {
            stream,
            buffer: Vec::with_capacity(4096),
        }
    }

    /// Posts JSON; answers the status and the body.
    pub async fn post(
        &mut self,
        path: &str,
        token: &str,
        body: &str,
    ) -> std::io::Result<(u16, Vec<u8>)> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.stream.write_all(request.as_bytes()).await?;
        self.buffer.clear();
        let broken = || std::io::Error::new(std::io::ErrorKind::InvalidData, "bad response");
        loop {
            if let Some(end) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buffer[..end]).map_err(|_| broken())?;
                let status: u16 = head
                    .get(9..12)
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(broken)?;
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse().ok())?
                    })
                    .ok_or_else(broken)?;
                let start = end + 4;
                while self.buffer.len() < start + length {
                    if self.stream.read_buf(&mut self.buffer).await? == 0 {
                        return Err(broken());
                    }
                }
                return Ok((status, self.buffer[start..start + length].to_vec()));
            }
            if self.stream.read_buf(&mut self.buffer).await? == 0 {
                return Err(broken());
            }
        }
    }
}
