//! What every page shares: the frame around it ([`Chrome`]: title, the viewer's navigation,
//! the logout form), rendering a template into a response, and the pages that say no.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use haoqi_appdb::Role;

use super::auth::Viewer;

pub(crate) struct NavItem {
    pub(crate) href: String,
    pub(crate) label: &'static str,
}

/// The frame of a page.
pub(crate) struct Chrome {
    pub(crate) title: String,
    pub(crate) user: Option<String>,
    pub(crate) role: &'static str,
    pub(crate) csrf: String,
    pub(crate) nav: Vec<NavItem>,
}

impl Chrome {
    pub(crate) fn anonymous(title: &str) -> Self {
        Chrome {
            title: title.into(),
            user: None,
            role: "",
            csrf: String::new(),
            nav: Vec::new(),
        }
    }

    pub(crate) fn for_viewer(title: &str, v: &Viewer) -> Self {
        Chrome {
            title: title.into(),
            user: Some(v.session.user.name.clone()),
            role: v.role().chinese_name(),
            csrf: v.session.csrf.clone(),
            nav: nav(v),
        }
    }
}

/// The areas a viewer may open: links follow the server's checks, they do not replace them.
fn nav(v: &Viewer) -> Vec<NavItem> {
    let item = |href: &str, label| NavItem {
        href: href.into(),
        label,
    };
    let g = v.grant();
    let mut items = Vec::new();
    if g.role.sees_totals() {
        items.push(item("/wall", "大屏"));
    }
    match (g.role, &g.unit_id, g.prefecture) {
        (Role::Unit, Some(u), _) => items.push(item(&format!("/unit/{u}"), "本单位")),
        (Role::Liaison, _, Some(p)) => items.push(item(&format!("/prefecture/{p}"), "本地州")),
        _ => {}
    }
    if matches!(g.role, Role::Admin | Role::Committee) {
        items.push(item("/committee", "评审"));
    }
    if matches!(g.role, Role::Admin | Role::Ops) {
        items.push(item("/ops", "运维"));
    }
    if g.role == Role::Admin {
        items.push(item("/admin", "管理"));
    }
    items
}

pub(crate) fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "页面生成失败").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    chrome: Chrome,
    heading: String,
    text: String,
}

/// A page that says what happened and what to do.
pub(crate) fn message(status: StatusCode, heading: &str, text: &str) -> Response {
    message_in(Chrome::anonymous(heading), status, heading, text)
}

fn message_in(chrome: Chrome, status: StatusCode, heading: &str, text: &str) -> Response {
    render(
        status,
        &MessagePage {
            chrome,
            heading: heading.into(),
            text: text.into(),
        },
    )
}

pub(crate) fn forbidden(v: &Viewer) -> Response {
    let text = format!(
        "{}账号不能打开这个页面。如需查看，请联系省科协管理员。",
        v.role().chinese_name()
    );
    message_in(
        v.chrome("无权访问"),
        StatusCode::FORBIDDEN,
        "无权访问",
        &text,
    )
}

/// What a viewer gets for something outside its scope: the same as for something that does
/// not exist, so the answer tells nothing about others.
pub(crate) fn not_found(v: &Viewer) -> Response {
    let text = "没有这个页面，或者您的账号不能查看它。";
    message_in(v.chrome("未找到"), StatusCode::NOT_FOUND, "未找到", text)
}

pub(crate) fn unavailable() -> Response {
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        "暂时无法访问",
        "服务器暂时无法回答，请稍后刷新。",
    )
}

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage {
    pub(crate) chrome: Chrome,
    pub(crate) next: String,
    pub(crate) name: String,
    pub(crate) error: Option<String>,
    pub(crate) csrf: String,
}
