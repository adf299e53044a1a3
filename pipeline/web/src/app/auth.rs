//! Who is asking: the session cookie read into a [`Viewer`] (or a kiosk link for the wall), the
//! login form, logging in and out. An unauthenticated page request is sent to the login form
//! and back afterwards; anything else without a session is 401.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::Utc;

use haoqi_appdb::role::Grant;
use haoqi_appdb::{Actor, LoginError, Role, SessionUser};

use super::csrf;
use super::view::{self, Chrome, LoginPage};
use super::Ctx;

/// The session cookie.
pub(crate) const SESSION_COOKIE: &str = "haoqi_session";

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The address a request came from (the socket's peer; "unknown" where there is none, as in
/// tests that call the router directly).
pub(crate) fn address(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".into(), |c| c.0.ip().to_string())
}

/// The client's address as an extractor.
pub(crate) struct ClientAddr(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(address(parts)))
    }
}

/// A logged-in person, as the session says now (a disabled user or a changed password has
/// already ended it).
#[derive(Debug, Clone)]
pub(crate) struct Viewer {
    pub(crate) session: SessionUser,
    pub(crate) address: String,
}

impl Viewer {
    pub(crate) fn grant(&self) -> &Grant {
        &self.session.user.grant
    }

    pub(crate) fn role(&self) -> Role {
        self.session.user.grant.role
    }

    pub(crate) fn actor(&self) -> Actor {
        Actor::new(self.session.user.name.clone(), self.address.clone())
    }

    pub(crate) fn chrome(&self, title: &str) -> Chrome {
        Chrome::for_viewer(title, self)
    }

    /// The refusal (403) when the viewer's role is not one of `roles`.
    pub(crate) fn require(&self, roles: &[Role]) -> Option<Response> {
        if roles.contains(&self.role()) {
            None
        } else {
            Some(view::forbidden(self))
        }
    }

    /// The refusal of a state-changing request: a CSRF token that is not the session's, or a
    /// role that is not one of `roles`.
    pub(crate) fn refuse_write(&self, token: &str, roles: &[Role]) -> Option<Response> {
        self.check_csrf(token).or_else(|| self.require(roles))
    }

    /// The refusal when a form's CSRF token is not the session's.
    pub(crate) fn check_csrf(&self, token: &str) -> Option<Response> {
        if csrf::same(&self.session.csrf, token) {
            None
        } else {
            Some(view::message(
                StatusCode::FORBIDDEN,
                "表单已过期",
                "这个表单已过期或不是从本站提交的，没有做任何更改。请刷新页面后重试。",
            ))
        }
    }
}

async fn session_of(parts: &Parts, ctx: &Ctx) -> Result<Option<Viewer>, Response> {
    let Some(token) = cookie(&parts.headers, SESSION_COOKIE).map(str::to_string) else {
        return Ok(None);
    };
    let found = ctx
        .on_db(move |db| db.session(&token, Utc::now()))
        .await
        .map_err(|_| view::unavailable())?
        .map_err(|e| {
            tracing::error!(error = %e, "session lookup failed");
            view::unavailable()
        })?;
    Ok(found.map(|session| Viewer {
        session,
        address: address(parts),
    }))
}

impl FromRequestParts<Ctx> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> Result<Self, Self::Rejection> {
        match session_of(parts, ctx).await? {
            Some(v) => Ok(v),
            None if parts.method == Method::GET => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_string();
                let to = format!("/login?next={}", url_escape(&next));
                Err(Redirect::to(&to).into_response())
            }
            None => Err(view::message(
                StatusCode::UNAUTHORIZED,
                "请先登录",
                "登录已过期，没有做任何更改。请重新登录后再试。",
            )),
        }
    }
}

/// The wall's viewer: a login, or a kiosk link (`?kiosk=TOKEN`) for a screen without one.
pub(crate) enum WallViewer {
    Person(Viewer),
    Kiosk { label: String },
}

impl FromRequestParts<Ctx> for WallViewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, ctx: &Ctx) -> Result<Self, Self::Rejection> {
        let token = parts.uri.query().and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "kiosk")
                .map(|(_, v)| v.into_owned())
        });
        if let Some(token) = token {
            let link = ctx
                .on_db(move |db| db.kiosk(&token))
                .await
                .map_err(|_| view::unavailable())?
                .map_err(|_| view::unavailable())?;
            return match link {
                Some(l) => Ok(WallViewer::Kiosk { label: l.label }),
                None => Err(view::message(
                    StatusCode::FORBIDDEN,
                    "大屏链接已失效",
                    "这个大屏链接已被撤销或不存在。请向管理员索取新的链接。",
                )),
            };
        }
        Viewer::from_request_parts(parts, ctx)
            .await
            .map(WallViewer::Person)
    }
}

fn url_escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Only a path on this site is a place to return to after the login.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/",
    }
}

pub(crate) fn routes() -> Router<Ctx> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
}

#[derive(Debug, serde::Deserialize)]
struct NextParam {
    next: Option<String>,
}

fn login_page(status: StatusCode, next: &str, name: &str, error: Option<String>) -> Response {
    let token = match haoqi_appdb::new_token() {
        Ok(t) => t,
        Err(_) => return view::unavailable(),
    };
    let page = LoginPage {
        chrome: Chrome::anonymous("登录"),
        next: next.to_string(),
        name: name.to_string(),
        error,
        csrf: token.clone(),
    };
    let cookie = format!(
        "{}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600",
        csrf::LOGIN_COOKIE
    );
    let mut res = view::render(status, &page);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

async fn login_form(Query(q): Query<NextParam>) -> Response {
    login_page(StatusCode::OK, safe_next(q.next.as_deref()), "", None)
}

#[derive(Debug, serde::Deserialize)]
struct LoginForm {
    name: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

async fn login(
    State(ctx): State<Ctx>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = safe_next(f.next.as_deref()).to_string();
    let sent = cookie(&headers, csrf::LOGIN_COOKIE).unwrap_or("");
    if !csrf::same(sent, &f.csrf) {
        return login_page(
            StatusCode::FORBIDDEN,
            &next,
            &f.name,
            Some("登录表单已过期，请重新输入。".into()),
        );
    }
    if f.name.chars().count() > 64 || f.password.chars().count() > 256 {
        return login_page(
            StatusCode::BAD_REQUEST,
            &next,
            "",
            Some("用户名最多 64 个字符，密码最多 256 个字符。".into()),
        );
    }
    let (name, password) = (f.name.trim().to_string(), f.password);
    let name2 = name.clone();
    let outcome = ctx
        .on_db(move |db| db.login(&name2, &password, &addr, Utc::now()))
        .await;
    let error = match outcome {
        Ok(Ok(login)) => {
            // Behind an HTTPS proxy the cookie is Secure even without the setting.
            let https = headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("https"));
            let secure = if ctx.secure_cookies || https {
                "; Secure"
            } else {
                ""
            };
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax{secure}",
                login.token
            );
            let mut res = Redirect::to(&next).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            return res;
        }
        Ok(Err(LoginError::Wrong)) => "用户名或密码错误。".to_string(),
        Ok(Err(LoginError::Locked { until })) => format!(
            "这个账号连续登录失败次数过多，已锁定到 {}（北京时间）。",
            super::fmt::beijing(until)
        ),
        Ok(Err(LoginError::AddressBlocked { until })) => format!(
            "从这个地址登录失败次数过多，已暂停到 {}（北京时间）。",
            super::fmt::beijing(until)
        ),
        Ok(Err(LoginError::Disabled)) => "这个账号已停用，请联系管理员。".to_string(),
        Ok(Err(LoginError::Db(e))) => {
            tracing::error!(error = %e, "login failed in the application database");
            return view::unavailable();
        }
        Err(_) => return view::unavailable(),
    };
    login_page(StatusCode::UNAUTHORIZED, &next, &name, Some(error))
}

#[derive(Debug, serde::Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(ctx): State<Ctx>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Some(r) = viewer.check_csrf(&f.csrf) {
        return r;
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE).map(str::to_string) {
        let actor = viewer.actor();
        // The cookie is cleared either way; a session left behind still ends at its timeout.
        if !matches!(
            ctx.on_db(move |db| db.logout(&token, &actor)).await,
            Ok(Ok(()))
        ) {
            tracing::warn!("a session could not be ended in the application database");
        }
    }
    let mut res = Redirect::to("/login").into_response();
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    if let Ok(v) = HeaderValue::from_str(&clear) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; haoqi_session=tok; b=2"),
        );
        assert_eq!(cookie(&h, "haoqi_session"), Some("tok"));
        assert_eq!(cookie(&h, "haoqi"), None);
    }

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(safe_next(Some("/unit/u1")), "/unit/u1");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
