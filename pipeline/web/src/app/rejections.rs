//! What a person sees when a request is refused before a page handler runs: a form too large,
//! a form with fields missing or malformed, a path that is not a number where one is expected.
//! axum answers those in plain English text; on the pages they become a page in Chinese that
//! says what happened and that nothing changed.

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::view;

pub(crate) async fn in_chinese(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let plain = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !plain {
        return res;
    }
    match res.status() {
        StatusCode::PAYLOAD_TOO_LARGE => view::message(
            StatusCode::PAYLOAD_TOO_LARGE,
            "提交的内容过大",
            "表单内容超过了 64 KB 的上限，没有做任何更改。请缩短内容后重试。",
        ),
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => view::message(
            StatusCode::BAD_REQUEST,
            "表单内容无法识别",
            "提交的表单缺少内容或格式不对（例如日期不是 YYYY-MM-DD），没有做任何更改。请返回上一页重试。",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => view::message(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "表单内容无法识别",
            "请通过页面上的表单提交，没有做任何更改。",
        ),
        _ => res,
    }
}
