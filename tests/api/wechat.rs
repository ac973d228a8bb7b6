//! WeChat sign-in against the local stand-in: silent inside WeChat, an invite code asked for
//! once to bind a new openid, the callback safe to call twice, the state bound to the browser.

use reqwest::blocking::{Client, Response};
use reqwest::redirect::Policy;

use crate::pages::csrf_of;
use crate::support::TestApp;
use crate::wechat_standin::{APPID, SECRET, WeChat};

const WECHAT_UA: &str = "Mozilla/5.0 (Linux; Android 10; V2001A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230202 MicroMessenger/8.0.33.2320(0x28002151) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64";

pub fn start_with_wechat() -> (TestApp, WeChat) {
    let wechat = WeChat::start();
    let base = wechat.base.clone();
    let app = TestApp::start_with(|s| {
        s.wechat_appid = Some(APPID.into());
        s.wechat_secret = Some(SECRET.into());
        s.wechat_open_base = base.clone();
        s.wechat_api_base = base;
    });
    (app, wechat)
}

fn phone() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .user_agent(WECHAT_UA)
        .build()
        .unwrap()
}

fn location(r: &Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// Follows redirects by hand (so each hop can be checked) until a page answers.
fn follow(b: &Client, app: &TestApp, mut url: String, hops: &mut Vec<String>) -> Response {
    loop {
        let r = b.get(&url).send().unwrap();
        if !r.status().is_redirection() {
            return r;
        }
        let to = location(&r);
        hops.push(to.clone());
        url = if to.starts_with('/') {
            app.url(&to)
        } else {
            to
        };
    }
}

/// Sends the invite-code form of the page `html`, asking to go on to `next`.
fn type_invite(b: &Client, app: &TestApp, html: &str, code: &str, next: &str) -> Response {
    b.post(app.url("/h5/login"))
        .form(&[
            ("csrf", csrf_of(html).as_str()),
            ("invite_code", code),
            ("next", next),
        ])
        .send()
        .unwrap()
}

/// Binds the phone WeChat holds now to the head of `household`, through the invite page.
pub fn bind_phone(app: &TestApp, committee: &str, household: i64) {
    let b = phone();
    let page = follow(&b, app, app.url("/h5/"), &mut Vec::new());
    let html = page.text().unwrap();
    assert!(html.contains("第一次使用"), "{html}");
    let code = app.invite(committee, household);
    let bound = type_invite(&b, app, &html, &code, "/h5/");
    assert_eq!(bound.status().as_u16(), 303);
}

/// Where a fresh browser on the phone lands when it opens `/h5/`.
pub fn phone_lands_on(app: &TestApp) -> String {
    let mut hops = Vec::new();
    follow(&phone(), app, app.url("/h5/"), &mut hops);
    hops.last().cloned().unwrap_or_default()
}

#[test]
fn inside_wechat_a_bound_villager_lands_on_the_page_without_pressing_anything() {
    let (app, wechat) = start_with_wechat();
    let w = app.world();
    wechat.hold_phone("o-zhang-xiaoming");

    // First visit: WeChat knows the phone, jifen does not know the openid yet.
    let b = phone();
    let mut hops = Vec::new();
    let page = follow(&b, &app, app.url("/h5/"), &mut hops);
    assert!(
        hops[0].starts_with("/auth/wechat/start?next=%2Fh5%2F"),
        "{hops:?}"
    );
    assert!(
        hops[1].starts_with(&format!(
            "{}/connect/oauth2/authorize?appid={APPID}",
            wechat.base
        )) && hops[1].contains("scope=snsapi_base")
            && hops[1].contains("response_type=code")
            && hops[1].ends_with("#wechat_redirect"),
        "{hops:?}"
    );
    assert!(hops[2].contains("/auth/wechat/callback?code="), "{hops:?}");
    assert_eq!(hops[3], "/h5/login?next=%2Fh5%2F");
    assert_eq!(page.status(), 200);
    let html = page.text().unwrap();
    assert!(html.contains("第一次使用，请输入邀请码"), "{html}");

    let code = app.invite(&w.committee, w.households[0]);
    let bound = type_invite(&b, &app, &html, &code, "/h5/");
    assert_eq!(
        (bound.status().as_u16(), location(&bound)),
        (303, "/h5/".into())
    );

    // Another day, a fresh browser on the same phone: straight to the points.
    let b = phone();
    let mut hops = Vec::new();
    let home = follow(&b, &app, app.url("/h5/"), &mut hops);
    assert_eq!(home.status(), 200, "{hops:?}");
    assert_eq!(
        hops.last().unwrap(),
        "/h5/",
        "a clean redirect without the code"
    );
    assert!(home.text().unwrap().contains("分可用"));

    // WeChat calls the callback a second time with the same single-use code.
    let callback = hops
        .iter()
        .find(|h| h.contains("/auth/wechat/callback"))
        .unwrap()
        .clone();
    let exchanged = wechat.exchanges();
    let twice = b.get(&callback).send().unwrap();
    assert_eq!(
        (twice.status().as_u16(), location(&twice)),
        (303, "/h5/".into())
    );
    assert_eq!(
        wechat.exchanges(),
        exchanged,
        "the code is not traded twice"
    );

    // Someone else in the household binds a second openid with their own invite.
    wechat.hold_phone("o-zhang-daughter");
    let b = phone();
    let page = follow(&b, &app, app.url("/h5/code"), &mut Vec::new());
    let html = page.text().unwrap();
    assert!(html.contains("第一次使用"), "{html}");
    let code = app.invite(&w.committee, w.households[0]);
    let bound = type_invite(&b, &app, &html, &code, "/h5/code");
    assert_eq!(location(&bound), "/h5/code", "back to the page asked for");
}

#[test]
fn the_callback_only_accepts_the_browser_that_started() {
    let (app, wechat) = start_with_wechat();
    app.world();
    wechat.hold_phone("o-victim");
    let attacker = phone();
    let start = attacker
        .get(app.url("/auth/wechat/start?next=/h5/"))
        .send()
        .unwrap();
    assert_eq!(start.status(), 302);
    let authorize = attacker.get(location(&start)).send().unwrap();
    let callback = location(&authorize);

    let victim = phone();
    let refused = victim.get(&callback).send().unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused.text().unwrap().contains("微信登录没有完成"));

    let forged_state = callback.replace("state=", "state=x");
    let refused = attacker.get(&forged_state).send().unwrap();
    assert_eq!(refused.status(), 400);
    assert_eq!(
        wechat.exchanges(),
        0,
        "nothing was traded for a foreign browser"
    );

    let next_elsewhere = attacker
        .get(app.url("/auth/wechat/start?next=https://evil.example/"))
        .send()
        .unwrap();
    let authorize = attacker.get(location(&next_elsewhere)).send().unwrap();
    let landed = attacker.get(location(&authorize)).send().unwrap();
    assert_eq!(
        location(&landed),
        "/h5/login?next=%2Fh5%2F",
        "never sent to another site"
    );
}

#[test]
fn a_leaked_callback_address_signs_nobody_in() {
    let (app, wechat) = start_with_wechat();
    let w = app.world();
    wechat.hold_phone("o-victim");
    let victim = phone();
    let page = follow(&victim, &app, app.url("/h5/"), &mut Vec::new());
    let html = page.text().unwrap();
    let code = app.invite(&w.committee, w.households[0]);
    type_invite(&victim, &app, &html, &code, "/h5/");
    let shared_phone = phone();
    let mut hops = Vec::new();
    let home = follow(&shared_phone, &app, app.url("/h5/"), &mut hops);
    assert_eq!(home.status(), 200, "{hops:?}");
    let leaked = hops
        .iter()
        .find(|h| h.contains("/auth/wechat/callback"))
        .unwrap()
        .clone();
    let state = leaked.split("state=").nth(1).unwrap().to_owned();

    // From another browser, even with a state cookie made up to match the address.
    let stranger = Client::builder()
        .redirect(Policy::none())
        .user_agent(WECHAT_UA)
        .build()
        .unwrap();
    for cookie in [format!("jifen_wx_state={state}~%2Fh5%2F"), String::new()] {
        let replay = stranger
            .get(&leaked)
            .header("cookie", cookie.as_str())
            .send()
            .unwrap();
        assert_eq!(replay.status(), 400, "{cookie}");
        assert!(
            replay
                .headers()
                .get("set-cookie")
                .is_none_or(|c| !c.to_str().unwrap().starts_with("jifen_session")),
            "no session for a stranger"
        );
    }

    // A minute later not even the browser that started can use it again (a shared
    // phone's history): the code is forgotten, and WeChat will not trade it twice.
    app.advance(chrono::Duration::seconds(61));
    let history = shared_phone.get(&leaked).send().unwrap();
    assert_eq!(
        history.status(),
        502,
        "an old address in the history signs nobody in"
    );
}

#[test]
fn outside_wechat_or_without_settings_the_invite_code_page_answers() {
    let (app, _wechat) = start_with_wechat();
    let plain = crate::pages::browser();
    let r = plain.get(app.url("/h5/")).send().unwrap();
    assert_eq!(
        location(&r),
        "/h5/login?next=%2Fh5%2F",
        "a desktop browser gets the code form"
    );

    let unconfigured = TestApp::start();
    let r = phone().get(unconfigured.url("/h5/")).send().unwrap();
    assert_eq!(location(&r), "/h5/login?next=%2Fh5%2F");
    let r = phone()
        .get(unconfigured.url("/auth/wechat/start?next=/h5/code"))
        .send()
        .unwrap();
    assert_eq!(location(&r), "/h5/login?next=%2Fh5%2Fcode");
}
