//! CSRF: every state-changing form carries the session's token, compared in constant time.
//! The login form, which has no session yet, carries a token that must equal the one in a
//! short-lived cookie set with the form (double submit): another site can make a browser post,
//! but cannot read or set that cookie.

/// The cookie that carries the login form's token.
pub(crate) const LOGIN_COOKIE: &str = "haoqi_login_csrf";

pub(crate) fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len()
        && !a.is_empty()
        && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_must_match_exactly() {
        assert!(super::same("abc", "abc"));
        assert!(!super::same("abc", "abd"));
        assert!(!super::same("abc", "ab"));
        assert!(!super::same("", ""));
    }
}
