//! A real, minimal SMTP server for integration tests: it listens on 127.0.0.1, speaks enough
//! ESMTP for lettre (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, several messages per
//! connection) and keeps every message it accepts, parsed, for the test to read.

// Each test binary uses only part of this helper.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// One accepted message: its envelope and its parsed content.
#[derive(Debug, Clone)]
pub struct ReceivedEmail {
    pub envelope_from: String,
    pub envelope_to: Vec<String>,
    /// The addresses of the `To` header.
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The message as received, dot-stuffing undone.
    pub raw: String,
}

type Inbox = Arc<Mutex<Vec<ReceivedEmail>>>;

pub struct SmtpServer {
    addr: SocketAddr,
    inbox: Inbox,
    refusing: Arc<AtomicBool>,
    accept_loop: Option<JoinHandle<()>>,
}

impl SmtpServer {
    /// Listens on a free port of 127.0.0.1 and serves until stopped or dropped.
    pub async fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the test SMTP server");
        let addr = listener.local_addr().expect("the test SMTP server's address");
        let (inbox, refusing) = (Inbox::default(), Arc::<AtomicBool>::default());
        let accept_loop = tokio::spawn(accept_loop(listener, inbox.clone(), refusing.clone()));
        SmtpServer { addr, inbox, refusing, accept_loop: Some(accept_loop) }
    }

    /// While `refusing`, every message is answered `451` (try again later), as a server that is
    /// overloaded or being restarted does; the port stays open.
    pub fn refuse_mail(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::SeqCst);
    }

    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// A URL where nothing listens: a port that was bound and then released, to simulate
    /// an SMTP server that is down.
    pub fn unreachable_url() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port to release");
        let addr = listener.local_addr().expect("the released port's address");
        drop(listener);
        format!("smtp://{addr}")
    }

    /// Every message accepted so far, oldest first.
    pub fn received(&self) -> Vec<ReceivedEmail> {
        self.inbox.lock().unwrap().clone()
    }

    /// The newest message to `recipient` (any case), waiting for one up to `timeout`.
    pub async fn wait_for(&self, recipient: &str, timeout: Duration) -> Option<ReceivedEmail> {
        let wanted = recipient.trim().to_lowercase();
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(email) = self.newest_to(&wanted) {
                return Some(email);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn newest_to(&self, wanted: &str) -> Option<ReceivedEmail> {
        let inbox = self.inbox.lock().unwrap();
        inbox.iter().rev().find(|email| email.envelope_to.iter().any(|to| to.to_lowercase() == wanted)).cloned()
    }

    /// Closes the port and every open connection (lettre's pool keeps some), so later sends
    /// fail as they would with the server down. Returns once the port is closed.
    pub async fn stop(mut self) {
        if let Some(task) = self.accept_loop.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        if let Some(task) = self.accept_loop.take() {
            task.abort();
        }
    }
}

/// Serves each connection in a task owned by a `JoinSet`, so aborting this loop also ends them.
async fn accept_loop(listener: TcpListener, inbox: Inbox, refusing: Arc<AtomicBool>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Such as too many open files: wait for connections to close instead of spinning.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        while connections.try_join_next().is_some() {}
        connections.spawn(serve(stream, inbox.clone(), refusing.clone()));
    }
}

/// What the current mail transaction has gathered.
#[derive(Default)]
struct Transaction {
    from: Option<String>,
    to: Vec<String>,
}

async fn serve(stream: TcpStream, inbox: Inbox, refusing: Arc<AtomicBool>) {
    // An I/O error only means the client went away; the test sees it through its own result.
    let _ = session(stream, inbox, refusing).await;
}

async fn session(stream: TcpStream, inbox: Inbox, refusing: Arc<AtomicBool>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut transaction = Transaction::default();
    reply(&mut write, "220 localhost ESMTP test server").await?;
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        let (verb, argument) = line.split_once(' ').unwrap_or((line, ""));
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                transaction = Transaction::default();
                reply(&mut write, "250-localhost\r\n250-8BITMIME\r\n250 SMTPUTF8").await?;
            }
            "HELO" => {
                transaction = Transaction::default();
                reply(&mut write, "250 localhost").await?;
            }
            "MAIL" if refusing.load(Ordering::SeqCst) => {
                reply(&mut write, "451 4.3.2 not accepting mail right now, try again later").await?
            }
            "MAIL" => match path_after(argument, "FROM:") {
                Some(from) => {
                    transaction = Transaction { from: Some(from), to: Vec::new() };
                    reply(&mut write, "250 2.1.0 OK").await?;
                }
                None => reply(&mut write, "501 5.5.4 expected MAIL FROM:<address>").await?,
            },
            "RCPT" => match (&transaction.from, path_after(argument, "TO:")) {
                (None, _) => reply(&mut write, "503 5.5.1 MAIL first").await?,
                (Some(_), None) => reply(&mut write, "501 5.5.4 expected RCPT TO:<address>").await?,
                (Some(_), Some(to)) => {
                    transaction.to.push(to);
                    reply(&mut write, "250 2.1.5 OK").await?;
                }
            },
            "DATA" => {
                if transaction.to.is_empty() {
                    reply(&mut write, "503 5.5.1 RCPT first").await?;
                    continue;
                }
                reply(&mut write, "354 end data with <CR><LF>.<CR><LF>").await?;
                let raw = read_data(&mut reader).await?;
                let done = std::mem::take(&mut transaction);
                let email = parse(done.from.unwrap_or_default(), done.to, raw);
                inbox.lock().unwrap().push(email);
                reply(&mut write, "250 2.0.0 OK queued").await?;
            }
            "RSET" => {
                transaction = Transaction::default();
                reply(&mut write, "250 2.0.0 OK").await?;
            }
            "NOOP" => reply(&mut write, "250 2.0.0 OK").await?,
            "QUIT" => {
                reply(&mut write, "221 2.0.0 bye").await?;
                return write.shutdown().await;
            }
            _ => reply(&mut write, "500 5.5.2 command not recognized").await?,
        }
    }
}

async fn reply(write: &mut OwnedWriteHalf, text: &str) -> std::io::Result<()> {
    write.write_all(format!("{text}\r\n").as_bytes()).await?;
    write.flush().await
}

/// The address of `FROM:<a@b> PARAMS` (or without brackets); the null path `<>` is `""`.
fn path_after(argument: &str, keyword: &str) -> Option<String> {
    let argument = argument.trim_start();
    let head = argument.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = argument[keyword.len()..].trim_start();
    let path = match rest.strip_prefix('<') {
        Some(bracketed) => bracketed.split_once('>')?.0,
        None => rest.split_whitespace().next()?,
    };
    Some(path.to_owned())
}

/// Reads the message up to the line holding a single `.`, undoing dot-stuffing.
async fn read_data<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> std::io::Result<Vec<u8>> {
    let mut message = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(message);
        }
        let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
        message.extend_from_slice(unstuffed);
    }
}

fn parse(envelope_from: String, envelope_to: Vec<String>, raw: Vec<u8>) -> ReceivedEmail {
    let parsed = mail_parser::MessageParser::default().parse(&raw);
    let (to, subject, text, html) = match &parsed {
        Some(message) => (
            message
                .to()
                .map(|list| list.iter().filter_map(|a| a.address()).map(str::to_owned).collect())
                .unwrap_or_default(),
            message.subject().unwrap_or_default().to_owned(),
            message.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
            message.body_html(0).map(|h| h.into_owned()).unwrap_or_default(),
        ),
        None => Default::default(),
    };
    ReceivedEmail {
        envelope_from,
        envelope_to,
        to,
        subject,
        text,
        html,
        raw: String::from_utf8_lossy(&raw).into_owned(),
    }
}
