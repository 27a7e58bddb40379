//! The app as any HTTP client sees it, apart from its flows: the static assets, `HEAD`.

mod assets;
mod head;
