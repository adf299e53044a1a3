//! The vendored files, served from the binary: no page loads anything from another origin.
//! htmx 2.0.8 (`assets/htmx.min.js`, Zero-Clause BSD, licence in `assets/htmx.LICENSE`),
//! Apache ECharts 6.1.0's simple build (`assets/echarts.simple.min.js`: line, bar, pie, grid,
//! tooltip; Apache-2.0, `assets/echarts.LICENSE` and `assets/echarts.NOTICE`), each pinned by
//! the SHA-256 beside it; the stylesheet and the pages' own script.

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
        "echarts.simple.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/echarts.simple.min.js"),
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
    fn the_vendored_files_are_the_pinned_ones() {
        for (file, pinned) in [
            (
                "htmx.min.js",
                include_str!("../../assets/htmx.min.js.sha256"),
            ),
            (
                "echarts.simple.min.js",
                include_str!("../../assets/echarts.simple.min.js.sha256"),
            ),
        ] {
            let (_, _, body) = super::FILES
                .iter()
                .find(|(name, _, _)| *name == file)
                .expect("served");
            let got = hex::encode(Sha256::digest(body.as_bytes()));
            assert_eq!(
                pinned.split_whitespace().next(),
                Some(got.as_str()),
                "{file}"
            );
        }
    }
}
