//! The notebook of the running request: whatever records a note while the request is handled
//! writes it here, with no recorder passed down through every call. Only development opens one
//! (see `web::dev_notes`); elsewhere [`record`] does nothing and builds nothing.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use super::{DevNote, Recorded};
use crate::clock::Clock;

tokio::task_local! {
    static NOTEBOOK: Notebook;
}

/// The notes one request makes. A handle: clones share the notes.
#[derive(Clone)]
pub struct Notebook {
    notes: Rc<RefCell<Vec<Recorded>>>,
    clock: Clock,
}

impl Notebook {
    pub fn new(clock: Clock) -> Self {
        Self { notes: Rc::default(), clock }
    }

    /// Runs `work` with this notebook open: what it records lands here.
    pub async fn open_during<T>(&self, work: impl Future<Output = T>) -> T {
        NOTEBOOK.scope(self.clone(), work).await
    }

    /// The notes recorded so far, oldest first, leaving none.
    pub fn take(&self) -> Vec<Recorded> {
        self.notes.take()
    }
}

/// Writes the note `make` builds into the running request's notebook, if one is open.
pub fn record(make: impl FnOnce() -> DevNote) {
    // Without an open notebook there is nothing to do: production never opens one.
    let _ = NOTEBOOK.try_with(|notebook| {
        let at = notebook.clock.now_ms();
        notebook.notes.borrow_mut().push(Recorded { at, note: make() });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn notes_land_in_the_open_notebook_only() {
        record(|| panic!("no notebook is open, so no note is built"));
        let notebook = Notebook::new(Clock::manual(7));

        notebook.open_during(async { record(|| DevNote::new("inside", "words")) }).await;
        record(|| panic!("the notebook is closed again"));

        let notes = notebook.take();
        assert_eq!(notes.iter().map(|r| (r.at, r.note.title.as_str())).collect::<Vec<_>>(), [(7, "inside")]);
        assert!(notebook.take().is_empty(), "taken once");
    }
}
