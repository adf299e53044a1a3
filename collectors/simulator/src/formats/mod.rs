//! Each polled platform's paths and answers in its real format (reference §1.6, §2.5, §3.5),
//! so the real parsers are exercised: one file per platform. Numbers come from
//! [`crate::growth::Curve`].

use axum::http::HeaderMap;
use axum::response::Response;
use axum::Router;
use haoqi_platform::Platform;

use crate::Simulator;

mod bilibili;
mod douyin;
mod kuaishou;

/// What the simulator needs of a platform beyond its happy answers.
pub(crate) trait Format: Sync {
    /// Adds the platform's paths to the simulator's router.
    fn routes(&self, r: Router<Simulator>) -> Router<Simulator>;
    /// The platform's answer to too many requests; `headers` carry a `Retry-After`.
    fn rate_limited(&self, headers: HeaderMap) -> Response;
    /// The platform's captcha or risk-control answer.
    fn captcha(&self) -> Response;
    /// The answer for an account that does not exist.
    fn not_found(&self) -> &'static str;
    /// A well-formed answer in a layout the parser does not know.
    fn changed_layout(&self) -> &'static str;
}

/// The format of `platform`, `None` for a platform with no public counters.
pub(crate) fn of(platform: Platform) -> Option<&'static dyn Format> {
    match platform {
        Platform::Bilibili => Some(&bilibili::Bilibili),
        Platform::Douyin => Some(&douyin::Douyin),
        Platform::Kuaishou => Some(&kuaishou::Kuaishou),
        Platform::WechatChannels | Platform::WechatOfficial => None,
    }
}
