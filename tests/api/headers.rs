//! What every answer says about itself: never framed, loaded only from its own origin,
//! with no inline script; addresses and `next` values that could split a header go nowhere.

use crate::pages::{DESK_PAGES, staff_signed_in};
use crate::support::TestApp;

fn staff_sign_in(app: &TestApp, username: &str, next: &str) -> (u16, String) {
    let (_, status, to) = staff_signed_in(app, username, next);
    (status, to)
}

#[test]
fn a_next_that_could_leave_or_split_the_header_goes_to_the_own_home() {
    let app = TestApp::start();
    app.world();
    assert_eq!(
        staff_sign_in(&app, "qingle-committee", "/admin/claims"),
        (303, "/admin/claims".to_owned())
    );
    for next in [
        "/admin/\r\nSet-Cookie: jifen_session=x",
        "/admin/\nx",
        "https://evil.example/admin/",
        "//evil.example/",
        "/admin//evil.example",
        "/admin/\\evil",
        "/admin/ 空格",
        "javascript:alert(1)",
    ] {
        assert_eq!(
            staff_sign_in(&app, "qingle-committee", next),
            (303, "/admin/".to_owned()),
            "{next:?}"
        );
    }
}

#[test]
fn an_address_with_control_characters_is_not_found() {
    let app = TestApp::start();
    app.world();
    for path in ["/h5/board/%0d%0a", "/h5/board/qingle%00", "/admin/%0aX"] {
        let resp = app.get(path, None);
        assert_eq!(resp.status, 404, "{path}");
        assert!(resp.text.contains("没有这个页面"), "{path}: {}", resp.text);
    }
    let resp = app.post(
        "/h5/board/%0d%0aSet-Cookie:x/objections",
        None,
        serde_json::json!({}),
    );
    assert_eq!(resp.status, 404);
    for path in [
        "/api/v1/villages/%00/notice-board",
        "/api/v1/villages/qingle%0d%0a/ledger/head",
    ] {
        let resp = app.get(path, None);
        assert_eq!((resp.status, resp.code()), (404, "not_found"), "{path}");
    }
}

fn assert_guarded(resp: &crate::support::Resp, what: &str) {
    assert_eq!(resp.header("x-frame-options"), Some("DENY"), "{what}");
    let csp = resp.header("content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{what}: {csp}"
    );
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("http"),
        "{what}: {csp}"
    );
}

/// No inline script or style: the policy would block it, so a page that had one is broken.
fn assert_no_inline_code(html: &str, what: &str) {
    let lower = html.to_lowercase();
    for (at, _) in lower.match_indices("<script") {
        let tag = &lower[at..at + lower[at..].find('>').unwrap()];
        assert!(tag.contains(" src="), "{what} has an inline script: {tag}");
    }
    for attribute in [
        " onclick=",
        " onchange=",
        " onsubmit=",
        " onload=",
        " style=",
        "<style",
    ] {
        assert!(!lower.contains(attribute), "{what} has {attribute}");
    }
}

#[test]
fn every_page_is_never_framed_and_loads_only_from_its_own_origin() {
    let app = TestApp::start();
    let w = app.world();
    let pages = [
        "/",
        "/h5/login",
        "/staff/login",
        "/h5/board/qingle",
        "/h5/nothing",
        "/swagger-ui/",
    ];
    for page in pages {
        let resp = app.get(page, None);
        assert_guarded(&resp, page);
        assert_no_inline_code(&resp.text, page);
    }
    // Signed in at the desk: every tab.
    let (desk, _, _) = staff_signed_in(&app, "qingle-committee", "/admin/");
    for page in DESK_PAGES {
        let resp = desk.get(app.url(page)).send().unwrap();
        assert_eq!(resp.headers()["x-frame-options"], "DENY", "{page}");
        assert!(
            resp.headers().contains_key("content-security-policy"),
            "{page}"
        );
        assert_no_inline_code(&resp.text().unwrap(), page);
    }
    // The API's answers carry the same headers; plain http sends no HSTS.
    let api = app.get(
        &format!("/api/v1/villages/{}", w.qingle),
        Some(&w.committee),
    );
    assert_guarded(&api, "the API");
    assert_eq!(api.header("strict-transport-security"), None);
}

#[test]
fn behind_https_browsers_are_told_to_stay_on_https() {
    let app = TestApp::start_with(|s| s.public_url = Some("https://jifen.example.cn".into()));
    let resp = app.get("/h5/login", None);
    assert_eq!(
        resp.header("strict-transport-security"),
        Some("max-age=31536000")
    );
}
