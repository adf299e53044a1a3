//! The vendored files, served from the binary: no page loads anything from another origin.
//! htmx 2.0.8 (`assets/htmx.min.js`, Zero-Clause BSD, licence in `assets/htmx.LICENSE`,
//! SHA-256 in `assets/htmx.min.js.sha256`), the stylesheet and the pages' own script.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::Ctx;

const FILES: &[(&str, &str, &str)] = &[
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/htmx.min.js"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/app.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/style.css"),
    ),
];

pub(crate) fn routes() -> Router<Ctx> {
    Router::new().route("/assets/{file}", get(asset))
}

async fn asset(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, mime, body)) => (
            [
                (header::CONTENT_TYPE, *mime),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    #[test]
    fn the_vendored_htmx_is_the_pinned_one() {
        let want = include_str!("../../assets/htmx.min.js.sha256");
        let got = hex::encode(Sha256::digest(super::FILES[0].2.as_bytes()));
        assert_eq!(want.split_whitespace().next(), Some(got.as_str()));
    }
}
