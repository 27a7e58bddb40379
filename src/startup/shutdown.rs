//! How the application stops: at SIGTERM (what service managers send) or Ctrl-C, the listeners
//! stop accepting, requests in flight get a grace period to finish, background tasks finish the
//! round they are in, and the database commits what is queued and is closed.

use std::future::Future;

use tokio::signal::unix::{SignalKind, signal};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Listens for SIGTERM and SIGINT from now on, so that one arriving while the application starts
/// is not lost to the default action, which ends the process at once. The future completes at
/// the first of them.
pub fn stop_signal() -> std::io::Result<impl Future<Output = ()>> {
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        let name = tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        };
        tracing::info!("{name} received");
    })
}

/// The application's background tasks.
#[derive(Default)]
pub struct Background {
    stop: CancellationToken,
    /// Tasks that end once `stop` is cancelled and their round is done.
    stoppable: Vec<JoinHandle<()>>,
    /// Tasks that keep only memory tidy: nothing is lost when they are cut off anywhere.
    in_memory: Vec<JoinHandle<()>>,
}

impl Background {
    /// What a stoppable task watches.
    pub fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Adds a task started with [`stop_token`](Self::stop_token).
    pub fn stoppable(&mut self, task: JoinHandle<()>) {
        self.stoppable.push(task);
    }

    /// Adds a task that touches nothing but memory.
    pub fn in_memory(&mut self, task: JoinHandle<()>) {
        self.in_memory.push(task);
    }

    /// Asks every task to stop after its current round.
    pub fn request_stop(&self) {
        self.stop.cancel();
    }

    /// Stops every task: the stoppable ones finish their round, unless that lasts past
    /// `deadline` (a mail server that hangs), when they are cut off like the others.
    pub async fn stop(self, deadline: Instant) {
        self.request_stop();
        for task in &self.in_memory {
            task.abort();
        }
        for mut task in self.stoppable {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                tracing::warn!("a background task was still busy at the end of the grace period; stopped it");
                task.abort();
            }
        }
    }
}
