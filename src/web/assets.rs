//! The stylesheet, scripts and icon, built into the binary so the app runs from any folder.
//!
//! Each is served at a URL that holds a hash of its bytes (`/static/app.3f2a9c1e.css`), so a
//! browser may keep it for a year without asking again: a build that changes a file links a new
//! URL. A URL with any other hash, such as one from an earlier build, is not found. Redirecting
//! it to today's file would run a new script against an old page's markup, while a reload gets
//! the page with today's URLs.

use std::sync::LazyLock;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, web};
use sha2::{Digest, Sha256};

/// The files pages link to.
#[derive(Clone, Copy)]
pub enum Asset {
    Stylesheet,
    Script,
    PasskeyScript,
    Favicon,
}

struct Embedded {
    stem: &'static str,
    extension: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

impl Asset {
    const ALL: [Asset; 4] = [Asset::Stylesheet, Asset::Script, Asset::PasskeyScript, Asset::Favicon];

    fn embedded(self) -> Embedded {
        let (stem, extension, content_type, bytes): (_, _, _, &'static [u8]) = match self {
            Asset::Stylesheet => ("app", "css", "text/css; charset=utf-8", include_bytes!("../../static/app.css")),
            Asset::Script => ("app", "js", "text/javascript; charset=utf-8", include_bytes!("../../static/app.js")),
            Asset::PasskeyScript => {
                ("passkeys", "js", "text/javascript; charset=utf-8", include_bytes!("../../static/passkeys.js"))
            }
            Asset::Favicon => ("favicon", "svg", "image/svg+xml", include_bytes!("../../static/favicon.svg")),
        };
        Embedded { stem, extension, content_type, bytes }
    }

    /// The URL pages link it by, with the hash of its content.
    pub fn url(self) -> &'static str {
        &FILE_URLS[self as usize]
    }
}

/// Hashed once, on first use, from the bytes built into the binary.
static FILE_URLS: LazyLock<[String; 4]> = LazyLock::new(|| {
    Asset::ALL.map(|asset| {
        let Embedded { stem, extension, bytes, .. } = asset.embedded();
        let hash: String = Sha256::digest(bytes)[..4].iter().map(|byte| format!("{byte:02x}")).collect();
        format!("/static/{stem}.{hash}.{extension}")
    })
});

/// `GET /static/{file}`: the asset whose hashed name this is, cached for good; else not found.
pub async fn serve(file: web::Path<String>) -> HttpResponse {
    let requested = format!("/static/{file}");
    let Some(asset) = Asset::ALL.into_iter().find(|asset| asset.url() == requested) else {
        return super::not_found().await;
    };
    let Embedded { content_type, bytes, .. } = asset.embedded();
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, content_type))
        .insert_header((CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(bytes)
}
