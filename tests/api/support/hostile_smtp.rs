//! An SMTP server that misbehaves on purpose: it takes the first messages up to their end and
//! then stalls without an answer, or drops the connection in the middle of one. After those, it
//! accepts mail like a healthy server, so a test can tell whether the sender recovered.

// Each test binary uses only part of this helper.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

#[derive(Clone, Copy, Debug)]
pub enum Misbehaviour {
    /// Answers `354` to `DATA`, reads the whole message, then never answers and never closes.
    HangAfterData,
    /// Answers `354` to `DATA`, reads one line of the message, then closes the connection.
    DropMidMessage,
}

pub struct HostileSmtp {
    addr: SocketAddr,
    /// The envelope recipients of the messages accepted with `250`.
    delivered: Arc<Mutex<Vec<String>>>,
    accept_loop: JoinHandle<()>,
}

impl HostileSmtp {
    /// Listens on a free port of 127.0.0.1; the first `times` messages meet `misbehaviour`.
    pub async fn start(misbehaviour: Misbehaviour, times: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the hostile SMTP server");
        let addr = listener.local_addr().expect("the hostile SMTP server's address");
        let delivered = Arc::<Mutex<Vec<String>>>::default();
        let left = Arc::new(AtomicUsize::new(times));
        let accept_loop = tokio::spawn(accept_loop(listener, misbehaviour, left, delivered.clone()));
        Self { addr, delivered, accept_loop }
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn delivered(&self) -> Vec<String> {
        self.delivered.lock().unwrap().clone()
    }
}

/// Stops listening and closes every connection, the stalled ones included.
impl Drop for HostileSmtp {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    misbehaviour: Misbehaviour,
    left: Arc<AtomicUsize>,
    delivered: Arc<Mutex<Vec<String>>>,
) {
    // Owned here, so that aborting this task aborts the sessions too.
    let mut sessions = JoinSet::new();
    while let Ok((stream, _)) = listener.accept().await {
        let (left, delivered) = (left.clone(), delivered.clone());
        sessions.spawn(async move {
            let _ = session(stream, misbehaviour, left, delivered).await;
        });
        while sessions.try_join_next().is_some() {}
    }
}

async fn session(
    stream: TcpStream,
    misbehaviour: Misbehaviour,
    left: Arc<AtomicUsize>,
    delivered: Arc<Mutex<Vec<String>>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 hostile ESMTP\r\n").await?;
    let mut recipients = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
        let answer = match verb.as_str() {
            "EHLO" => "250-localhost\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "RCPT" => {
                recipients.push(line.trim_end().to_owned());
                "250 2.1.5 OK\r\n"
            }
            "DATA" => {
                write.write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n").await?;
                let misbehave = left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
                match (misbehave, misbehaviour) {
                    (true, Misbehaviour::DropMidMessage) => {
                        line.clear();
                        lines.read_line(&mut line).await?;
                        return Ok(());
                    }
                    (true, Misbehaviour::HangAfterData) => {
                        read_to_end_of_message(&mut lines).await?;
                        // Holds the connection open, unanswered, until the server is dropped.
                        std::future::pending::<()>().await;
                    }
                    (false, _) => {
                        read_to_end_of_message(&mut lines).await?;
                        delivered.lock().unwrap().append(&mut recipients);
                    }
                }
                "250 2.0.0 OK queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            "RSET" => {
                recipients.clear();
                "250 2.0.0 OK\r\n"
            }
            _ => "250 2.0.0 OK\r\n",
        };
        write.write_all(answer.as_bytes()).await?;
    }
}

async fn read_to_end_of_message<R: AsyncBufReadExt + Unpin>(lines: &mut R) -> std::io::Result<()> {
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 || line == ".\r\n" {
            return Ok(());
        }
    }
}
