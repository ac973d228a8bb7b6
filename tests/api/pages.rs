//! The villager's pages over plain HTTP: sign-in by invite code, the home page, cookies,
//! CSRF and caching. (Browser tests come with the rest of the pages.)

use reqwest::blocking::Client;
use reqwest::redirect::Policy;
use serde_json::json;

use crate::ledger::{add_item, award, ledger_world};
use crate::support::TestApp;

pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// The HTML of a page the browser `b` opens.
pub fn page_text(app: &TestApp, b: &Client, path: &str) -> String {
    b.get(app.url(path)).send().unwrap().text().unwrap()
}

pub fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[start..].split('"').next().unwrap().to_owned()
}

fn open_login(app: &TestApp, b: &Client) -> String {
    let page = b.get(app.url("/h5/login")).send().unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    csrf_of(&page.text().unwrap())
}

fn sign_in(app: &TestApp, b: &Client, csrf: &str, code: &str) -> reqwest::blocking::Response {
    b.post(app.url("/h5/login"))
        .form(&[("csrf", csrf), ("invite_code", code)])
        .send()
        .unwrap()
}

#[test]
fn a_villager_signs_in_with_an_invite_and_sees_the_household_points() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let item = add_item(&app, &w, "A01", "10");
    award(
        &app,
        &w,
        "k",
        json!({"item_id": item, "household_ids": [w.households[0]], "occurred_on": "2026-11-27"}),
    );
    let code = app.invite(&w.committee, w.households[0]);
    let b = browser();
    let csrf = open_login(&app, &b);
    let signed_in = sign_in(&app, &b, &csrf, &code);
    assert_eq!(signed_in.status(), 303);
    assert_eq!(signed_in.headers()["location"], "/h5/");
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.starts_with("jifen_session=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    let home = b.get(app.url("/h5/")).send().unwrap();
    assert_eq!(home.status(), 200);
    assert_eq!(home.headers()["cache-control"], "no-store");
    let html = home.text().unwrap();
    assert!(html.len() < 30 * 1024, "home is {} bytes", html.len());
    assert!(html.contains("10 <small>分可用"), "{html}");
    assert!(
        html.contains("张小明") && html.contains("事项A01") && html.contains("+10 分"),
        "{html}"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page loads nothing from other hosts"
    );

    let css_path = html
        .split("href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert!(css_path.starts_with("/static/app.") && css_path.ends_with(".css"));
    let css = b.get(app.url(&css_path)).send().unwrap();
    assert_eq!(
        css.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let css = css.text().unwrap();
    assert!(css.contains("font-size: 112.5%"), "body text is 18px");
    assert!(
        css.contains("min-height: 3.5rem"),
        "main buttons are at least 60px tall"
    );
    assert_eq!(
        b.get(app.url("/static/app.0000.css"))
            .send()
            .unwrap()
            .status(),
        404
    );

    let logout = b
        .post(app.url("/h5/logout"))
        .form(&[("csrf", csrf_of(&html))])
        .send()
        .unwrap();
    assert_eq!(logout.status(), 303);
    let after = b.get(app.url("/h5/")).send().unwrap();
    assert_eq!(
        (
            after.status().as_u16(),
            after.headers()["location"].to_str().unwrap()
        ),
        (303, "/h5/login?next=%2Fh5%2F")
    );
}

#[test]
fn sign_in_refusals_are_in_words_and_forms_need_their_token() {
    let app = TestApp::start();
    let w = app.world();
    let code = app.invite(&w.committee, w.households[0]);
    let b = browser();
    assert_eq!(
        b.get(app.url("/h5/ledger")).send().unwrap().headers()["location"],
        "/h5/login?next=%2Fh5%2Fledger",
        "the visitor is sent to sign in, and will come back to the page asked for"
    );
    let csrf = open_login(&app, &b);

    let forged = sign_in(&app, &b, "not-the-token", &code);
    assert_eq!(forged.status(), 403);
    assert!(forged.text().unwrap().contains("页面已过期"));
    let stranger = browser();
    let cross_site = stranger
        .post(app.url("/h5/login"))
        .form(&[("csrf", csrf.as_str()), ("invite_code", code.as_str())])
        .send()
        .unwrap();
    assert_eq!(
        cross_site.status(),
        403,
        "a token without its cookie is refused"
    );

    let short = sign_in(&app, &b, &csrf, "123");
    assert_eq!(short.status(), 422);
    assert!(short.text().unwrap().contains("邀请码是 10 位数字"));
    let wrong = sign_in(&app, &b, &csrf, "0000000000");
    assert_eq!(wrong.status(), 401);
    assert!(wrong.text().unwrap().contains("请向村委会要一张新的"));
    assert_eq!(sign_in(&app, &b, &csrf, &code).status(), 303);
    let again = browser();
    let csrf = open_login(&app, &again);
    assert_eq!(
        sign_in(&app, &again, &csrf, &code).status(),
        401,
        "an invite works once"
    );
}

pub fn signed_in_browser(app: &TestApp, committee: &str, household: i64) -> Client {
    let code = app.invite(committee, household);
    let b = browser();
    let csrf = open_login(app, &b);
    assert_eq!(sign_in(app, &b, &csrf, &code).status(), 303);
    b
}

#[test]
fn the_code_page_shows_a_fresh_code_and_then_the_receipt() {
    let app = TestApp::start();
    let s = crate::shop::shop_world(&app, "100");
    let b = signed_in_browser(&app, &s.w.committee, s.w.households[0]);
    let page = b.get(app.url("/h5/code")).send().unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().unwrap();
    assert!(html.contains("<svg"), "the QR is inline");
    let groups: Vec<&str> = html
        .split("<span class=\"group\">")
        .skip(1)
        .map(|g| g.split('<').next().unwrap())
        .collect();
    let code: String = groups.concat();
    assert_eq!(
        (code.len(), groups.len()),
        (18, 3),
        "three groups of six: {groups:?}"
    );
    let id = html
        .split("data-id=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();

    let status = b
        .get(app.url(&format!("/h5/code/{id}/status")))
        .send()
        .unwrap();
    assert_eq!(status.headers()["cache-control"], "no-store");
    assert_eq!(
        status.json::<serde_json::Value>().unwrap()["status"],
        "active"
    );
    let receipt = app.post_with_key(
        &format!("/api/v1/shops/{}/redemptions", s.id),
        &s.keeper,
        "page-1",
        json!({"code": code, "lines": [{"goods_id": s.oil, "quantity": 1}]}),
    );
    assert_eq!(receipt.status, 201, "{}", receipt.text);
    let status: serde_json::Value = b
        .get(app.url(&format!("/h5/code/{id}/status")))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(status["status"], "used");
    assert_eq!(
        status["text"],
        "已在 庆乐积分超市 兑换 食用油 1 瓶，扣 30 分"
    );

    // Opening the page again gives a new code; the old page's status is refused to others.
    let stranger = browser();
    assert_eq!(
        stranger
            .get(app.url(&format!("/h5/code/{id}/status")))
            .send()
            .unwrap()
            .status(),
        401
    );
}

#[test]
fn the_notice_board_page_is_public_and_takes_objections_from_the_village() {
    let app = TestApp::start();
    let w = app.world();
    let item = app.post(
        &format!("/api/v1/villages/{}/checklist", w.qingle),
        Some(&w.committee),
        json!({"code": "A01", "category": "孝老爱亲", "title": "照顾孤寡老人", "points": "5", "period": "event", "cap_count": null, "proposers": ["committee"]}),
    );
    let award = app.post_with_key(
        &format!("/api/v1/villages/{}/awards", w.qingle),
        &w.committee,
        "a1",
        json!({"item_id": item.id(), "household_ids": [w.households[0]], "occurred_on": "2026-11-27"}),
    );
    let claim_id = award.body["claims"][0]["id"].as_i64().unwrap();

    let anonymous = browser().get(app.url("/h5/board/qingle")).send().unwrap();
    assert_eq!(anonymous.status(), 200);
    let html = anonymous.text().unwrap();
    assert!(
        html.contains("张*明")
            && html.contains("照顾孤寡老人")
            && html.contains("公示到 12月3日，还剩 5 天"),
        "{html}"
    );
    assert!(
        !html.contains("张小明") && !html.contains("我有异议"),
        "{html}"
    );
    assert_eq!(
        browser()
            .get(app.url("/h5/board/nowhere"))
            .send()
            .unwrap()
            .status(),
        404
    );

    let outsider = signed_in_browser(&app, &w.other_committee, w.liangui_household);
    assert!(!page_text(&app, &outsider, "/h5/board/qingle").contains("我有异议"));

    let neighbour = signed_in_browser(&app, &w.committee, w.households[1]);
    let html = page_text(&app, &neighbour, "/h5/board/qingle");
    assert!(html.contains("我有异议"));
    let sent = neighbour
        .post(app.url("/h5/board/qingle/objections"))
        .form(&[
            ("csrf", csrf_of(&html).as_str()),
            ("claim_id", claim_id.to_string().as_str()),
            ("reason", "没见他去照顾"),
        ])
        .send()
        .unwrap();
    assert_eq!(
        (
            sent.status().as_u16(),
            sent.headers()["location"].to_str().unwrap()
        ),
        (303, "/h5/board/qingle?done=objected")
    );
    let claim = app.get(&format!("/api/v1/claims/{claim_id}"), Some(&w.committee));
    assert_eq!(claim.body["status"], "objected");
    let after = page_text(&app, &neighbour, "/h5/board/qingle?done=objected");
    assert!(after.contains("异议已提交") && after.contains("有异议，等待监督委员会处理"));
    assert!(
        after.contains("我家已提出异议") && !after.contains("我有异议"),
        "no second objection is offered: {after}"
    );
    let own = signed_in_browser(&app, &w.committee, w.households[0]);
    let mine = page_text(&app, &own, "/h5/board/qingle");
    assert!(
        mine.contains("这是我家的") && !mine.contains("我有异议"),
        "no objection to one's own claim is offered: {mine}"
    );
}

#[test]
fn pages_call_the_api_with_their_session_only_when_they_carry_the_csrf_token() {
    let app = TestApp::start();
    let w = app.world();
    let b = signed_in_browser(&app, &w.committee, w.households[0]);
    let home = page_text(&app, &b, "/h5/");
    let csrf = html_meta_csrf(&home);
    let balance = b
        .get(app.url(&format!("/api/v1/households/{}/balance", w.households[0])))
        .send()
        .unwrap();
    assert_eq!(balance.status(), 200, "reads need only the cookie");
    let path = app.url(&format!(
        "/api/v1/households/{}/payment-codes",
        w.households[0]
    ));
    let forged = b.post(&path).json(&json!({})).send().unwrap();
    assert_eq!(forged.status(), 401, "a write without the token is refused");
    let wrong = b
        .post(&path)
        .header("X-CSRF-Token", "0".repeat(43))
        .json(&json!({}))
        .send()
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let issued = b
        .post(&path)
        .header("X-CSRF-Token", csrf)
        .json(&json!({}))
        .send()
        .unwrap();
    assert_eq!(issued.status(), 201);
}

pub fn html_meta_csrf(html: &str) -> String {
    let start = html
        .find("<meta name=\"csrf\" content=\"")
        .expect("csrf meta")
        + 27;
    html[start..].split('"').next().unwrap().to_owned()
}

pub fn villager_item(app: &TestApp, w: &crate::support::World, evidence: bool) -> i64 {
    let resp = app.post(
        &format!("/api/v1/villages/{}/checklist", w.qingle),
        Some(&w.committee),
        json!({"code": "C01", "category": "环境卫生", "title": "清扫门前屋后", "points": "5",
               "period": "month", "cap_count": 2, "proposers": ["villager"], "evidence_required": evidence}),
    );
    assert_eq!(resp.status, 201, "{}", resp.text);
    resp.id()
}

#[test]
fn a_villager_reads_the_checklist_and_reports_a_claim_with_a_photo() {
    use reqwest::blocking::multipart::{Form, Part};
    let app = TestApp::start();
    let w = app.world();
    let item = villager_item(&app, &w, true);
    let b = signed_in_browser(&app, &w.committee, w.households[0]);

    let list = b.get(app.url("/h5/checklist")).send().unwrap();
    assert_eq!(list.headers()["cache-control"], "no-store");
    let html = list.text().unwrap();
    assert!(
        html.contains("清扫门前屋后") && html.contains("+5 分") && html.contains("每月最多 2 次"),
        "{html}"
    );

    let page = page_text(&app, &b, "/h5/claim");
    assert!(
        page.contains("清扫门前屋后") && page.contains("accept=\"image/*\""),
        "{page}"
    );
    let csrf = csrf_of(&page);
    let send = |date: &str, photo: Option<Vec<u8>>| {
        let mut form = Form::new()
            .text("csrf", csrf.clone())
            .text("item_id", item.to_string())
            .text("occurred_on", date.to_owned())
            .text("quantity", "1")
            .text("note", "扫了门前");
        if let Some(bytes) = photo {
            form = form.part(
                "photo",
                Part::bytes(bytes)
                    .file_name("IMG_0001.png")
                    .mime_str("image/png")
                    .unwrap(),
            );
        }
        b.post(app.url("/h5/claim")).multipart(form).send().unwrap()
    };

    let bad_date = send("昨天", None);
    assert_eq!(bad_date.status(), 422);
    let said = bad_date.text().unwrap();
    let error_at = said.find("请选择日期").expect("the refusal in words");
    assert!(
        error_at < said.find("<fieldset").unwrap(),
        "the refusal is at the top of the form"
    );
    assert!(said.contains(">扫了门前</textarea>"), "the note is kept");
    assert!(
        said.contains(&format!("value=\"{item}\" required checked")),
        "the choice too"
    );
    let no_photo = send("2026-11-27", None);
    assert_eq!(no_photo.status(), 422);
    assert!(no_photo.text().unwrap().contains("这一项要附照片"));
    let not_a_photo = send("2026-11-27", Some(b"not an image".to_vec()));
    assert_eq!(not_a_photo.status(), 422);
    assert!(
        not_a_photo
            .text()
            .unwrap()
            .contains("只能上传 JPEG、PNG 或 WebP 照片")
    );
    let claims = app.get(
        &format!("/api/v1/villages/{}/claims", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(
        claims.body["items"].as_array().unwrap().len(),
        0,
        "a refused photo leaves no claim behind"
    );

    let sent = send("2026-11-27", Some(crate::claims::png(2048)));
    assert_eq!(
        (
            sent.status().as_u16(),
            sent.headers()["location"].to_str().unwrap()
        ),
        (303, "/h5/claim?done=true")
    );
    let claims = app.get(
        &format!("/api/v1/villages/{}/claims", w.qingle),
        Some(&w.committee),
    );
    let claim = &claims.body["items"][0];
    assert_eq!(
        (claim["status"].as_str(), claim["household_id"].as_i64()),
        (Some("submitted"), Some(w.households[0]))
    );
    let evidence = app.get(
        &format!("/api/v1/claims/{}/evidence", claim["id"]),
        Some(&w.committee),
    );
    assert_eq!(
        evidence.body["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        evidence.text
    );

    // The cap in plain words, with what this household has used; used up, it says so.
    assert!(page_text(&app, &b, "/h5/checklist").contains("每月最多 2 次，本月已用 1 次"));
    assert_eq!(
        send("2026-11-26", Some(crate::claims::png(64))).status(),
        303
    );
    let page = page_text(&app, &b, "/h5/claim");
    assert!(
        page.contains("本月已用 2 次，已用完")
            && page.contains(&format!("value=\"{item}\" required disabled")),
        "{page}"
    );
    let villager = app.villager(&w.committee, w.households[0]);
    let over = app.post(
        &format!("/api/v1/villages/{}/claims", w.qingle),
        Some(&villager),
        json!({"household_id": w.households[0], "item_id": item, "occurred_on": "2026-11-25"}),
    );
    assert_eq!(over.status, 422);
    assert!(
        over.text.contains("这一项每月最多 2 次，本月已有 2 次"),
        "{}",
        over.text
    );

    let forged = Form::new()
        .text("csrf", "x")
        .text("item_id", item.to_string());
    assert_eq!(
        b.post(app.url("/h5/claim"))
            .multipart(forged)
            .send()
            .unwrap()
            .status(),
        403
    );
}

#[test]
fn a_member_claims_for_the_family_and_the_board_names_them() {
    use reqwest::blocking::multipart::Form;
    let app = TestApp::start();
    let w = app.world();
    let item = villager_item(&app, &w, false);
    let added = app.post(
        &format!("/api/v1/households/{}/members", w.households[0]),
        Some(&w.committee),
        json!({"name": "李秀芳", "relation": "儿媳"}),
    );
    assert_eq!(added.status, 201, "{}", added.text);
    let daughter_in_law = added.id();
    let b = signed_in_browser(&app, &w.committee, w.households[0]);
    let page = page_text(&app, &b, "/h5/claim");
    assert!(
        page.contains("是谁做的") && page.contains("李秀芳") && page.contains("儿媳"),
        "{page}"
    );
    let form = Form::new()
        .text("csrf", csrf_of(&page))
        .text("item_id", item.to_string())
        .text("member_id", daughter_in_law.to_string())
        .text("occurred_on", "2026-11-27")
        .text("quantity", "1");
    let sent = b.post(app.url("/h5/claim")).multipart(form).send().unwrap();
    assert_eq!(sent.status(), 303);
    let claims = app.get(
        &format!("/api/v1/villages/{}/claims", w.qingle),
        Some(&w.committee),
    );
    let claim = &claims.body["items"][0];
    assert_eq!(claim["member_id"], daughter_in_law, "{}", claims.text);
    let approved = app.post(
        &format!("/api/v1/claims/{}/approve", claim["id"]),
        Some(&w.committee),
        json!({}),
    );
    assert_eq!(approved.status, 200, "{}", approved.text);
    let board = app.get("/api/v1/villages/qingle/notice-board", None);
    assert_eq!(
        board.body["in_notice"][0]["member"], "李*芳",
        "{}",
        board.text
    );
    let page = page_text(&app, &b, "/h5/board/qingle");
    assert!(page.contains("张*明家（李*芳）"), "{page}");
    // The household's own list names her in full.
    let mine = page_text(&app, &b, "/h5/claims");
    assert!(mine.contains("清扫门前屋后（李秀芳）"), "{mine}");
}

/// Every tab of the desk.
pub const DESK_PAGES: [&str; 11] = [
    "/admin/",
    "/admin/claims",
    "/admin/objections",
    "/admin/awards",
    "/admin/households",
    "/admin/checklist",
    "/admin/propose",
    "/admin/settings",
    "/admin/audit",
    "/admin/ledger",
    "/admin/settlements",
];

/// A browser signed in at the staff sign-in page asking to go on to `next`, with the
/// answer's status and where it sends the browser.
pub fn staff_signed_in(app: &TestApp, username: &str, next: &str) -> (Client, u16, String) {
    let b = browser();
    let csrf = csrf_of(&page_text(app, &b, "/staff/login"));
    let signed = b
        .post(app.url("/staff/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", username),
            ("password", crate::support::PASSWORD),
            ("next", next),
        ])
        .send()
        .unwrap();
    let to = signed
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (b, signed.status().as_u16(), to)
}

fn staff_browser(app: &TestApp, username: &str) -> (Client, String) {
    let b = browser();
    let page = page_text(app, &b, "/staff/login");
    let csrf = csrf_of(&page);
    let wrong = b
        .post(app.url("/staff/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", username),
            ("password", "nope"),
        ])
        .send()
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.text().unwrap().contains("用户名或密码不对"));
    let (b, status, to) = staff_signed_in(app, username, "");
    assert_eq!(status, 303);
    (b, to)
}

#[test]
fn staff_land_at_their_own_screen_and_nowhere_else() {
    let app = TestApp::start();
    let s = crate::shop::shop_world(&app, "10");
    let (committee, to) = staff_browser(&app, "qingle-committee");
    assert_eq!(to, "/admin/");
    let desk = committee.get(app.url("/admin/")).send().unwrap();
    assert_eq!(
        (
            desk.status().as_u16(),
            desk.headers()["cache-control"].to_str().unwrap()
        ),
        (200, "no-store")
    );
    let counter = committee.get(app.url("/shop/")).send().unwrap();
    assert_eq!(counter.status(), 403);
    assert!(counter.text().unwrap().contains("不是店主账号"));

    let (keeper, to) = staff_browser(&app, "qingle-shop");
    assert_eq!(to, "/shop/");
    let counter = page_text(&app, &keeper, "/shop/");
    assert!(
        counter.contains("食用油") && counter.contains("id=\"scan\""),
        "{counter}"
    );
    assert!(
        !counter.contains("wx-scan"),
        "WeChat's scanner only inside WeChat"
    );
    assert_eq!(
        keeper
            .get(app.url("/shop/wechat-config?url=x"))
            .send()
            .unwrap()
            .status(),
        404,
        "without WeChat settings there is no JS-SDK"
    );
    assert_eq!(
        committee
            .get(app.url("/shop/wechat-config?url=x"))
            .send()
            .unwrap()
            .status(),
        401,
        "only shopkeepers get a signature"
    );
    assert_eq!(
        keeper.get(app.url("/admin/")).send().unwrap().headers()["location"],
        "/shop/"
    );

    let villager = signed_in_browser(&app, &s.w.committee, s.w.households[0]);
    assert_eq!(
        villager
            .get(app.url("/admin/claims"))
            .send()
            .unwrap()
            .headers()["location"],
        "/staff/login?next=%2Fadmin%2Fclaims"
    );
    let (supervisor, _) = staff_browser(&app, "qingle-supervisor");
    let objections = page_text(&app, &supervisor, "/admin/objections");
    assert!(
        objections.contains("待处理的异议") && !objections.contains("奖励加分"),
        "supervisors see no award tab"
    );
    let (township, _) = staff_browser(&app, "admin");
    let statements = page_text(&app, &township, "/admin/settlements");
    assert!(
        statements.contains("庆乐积分超市") && statements.contains("生成结算单"),
        "{statements}"
    );
}

#[test]
fn the_desk_prints_invite_slips_that_sign_villagers_in() {
    let app = TestApp::start();
    let w = app.world();
    let (desk, _) = staff_browser(&app, "qingle-committee");
    let register = page_text(&app, &desk, "/admin/households");
    assert!(register.contains("张小明") && register.contains("黄炳坤"));
    let csrf = csrf_of(&register);
    let slips = desk
        .post(app.url("/admin/invites"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("household_ids", &w.households[0].to_string()),
            ("household_ids", &w.households[2].to_string()),
        ])
        .send()
        .unwrap();
    assert_eq!(slips.status(), 200);
    assert_eq!(slips.headers()["cache-control"], "no-store");
    let html = slips.text().unwrap();
    let codes: Vec<String> = html
        .split("class=\"slip-code\">")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().replace(' ', ""))
        .collect();
    assert_eq!(codes.len(), 2, "{html}");
    assert!(html.contains("1号") && html.contains("8号"));
    let villager = browser();
    let login = open_login(&app, &villager);
    assert_eq!(sign_in(&app, &villager, &login, &codes[1]).status(), 303);

    let none = desk
        .post(app.url("/admin/invites"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(none.status(), 422);
    assert!(none.text().unwrap().contains("请先勾选"));
}

#[test]
fn the_front_door_points_each_kind_of_user_to_their_screen() {
    let app = TestApp::start();
    let front = browser().get(app.url("/")).send().unwrap();
    assert_eq!(front.status(), 200);
    let html = front.text().unwrap();
    for door in ["href=\"/h5/\"", "href=\"/shop/\"", "href=\"/admin/\""] {
        assert!(html.contains(door), "{door} in {html}");
    }
}

/// A checklist item group leaders may propose.
fn leader_item(app: &TestApp, w: &crate::support::World) -> crate::support::Resp {
    let item = app.post(
        &format!("/api/v1/villages/{}/checklist", w.qingle),
        Some(&w.committee),
        json!({"code": "G01", "category": "邻里互助", "title": "帮邻居收稻谷", "points": "3",
               "period": "event", "cap_count": null, "proposers": ["group_leader"]}),
    );
    assert_eq!(item.status, 201, "{}", item.text);
    item
}

#[test]
fn a_group_leader_proposes_claims_for_the_own_group_from_the_desk() {
    let app = TestApp::start();
    let w = app.world();
    let item = leader_item(&app, &w);
    let (leader, to) = staff_browser(&app, "qingle-leader");
    assert_eq!(to, "/admin/");
    let overview = page_text(&app, &leader, "/admin/");
    assert!(
        overview.contains("代村民申报") && !overview.contains(">账本<"),
        "{overview}"
    );
    let page = leader.get(app.url("/admin/propose")).send().unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().unwrap();
    assert!(
        html.contains("帮邻居收稻谷")
            && html.contains("1号 张*明")
            && !html.contains("8号")
            && !html.contains("第二村民小组"),
        "only the own group: {html}"
    );
    let proposed = leader
        .post(app.url(&format!("/api/v1/villages/{}/claims", w.qingle)))
        .header("X-CSRF-Token", html_meta_csrf(&html))
        .json(&json!({"household_id": w.households[0], "item_id": item.id(), "occurred_on": "2026-11-27"}))
        .send()
        .unwrap();
    assert_eq!(proposed.status(), 201);
}

#[test]
fn an_unknown_page_answers_in_words_and_an_unknown_api_path_in_problem_json() {
    let app = TestApp::start();
    let page = browser().get(app.url("/h5/nothing-here")).send().unwrap();
    assert_eq!(page.status(), 404);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text().unwrap().contains("没有这个页面"));
    let api = browser()
        .get(app.url("/api/v1/nothing-here"))
        .send()
        .unwrap();
    assert_eq!(api.status(), 404);
    assert_eq!(api.headers()["content-type"], "application/problem+json");
}

/// Who posts, where, and which fields besides the token.
type FormPost<'a> = (&'a Client, &'a str, Vec<(&'a str, &'a str)>);

#[test]
fn every_form_post_needs_the_token_from_its_own_page() {
    let app = TestApp::start();
    let w = app.world();
    let (desk, _) = staff_browser(&app, "qingle-committee");
    let villager = signed_in_browser(&app, &w.committee, w.households[0]);
    let household = w.households[0].to_string();
    let forged = "x".repeat(43);
    let cases: [FormPost; 7] = [
        (&villager, "/h5/logout", vec![]),
        (&villager, "/h5/login", vec![("invite_code", "1234567890")]),
        (
            &villager,
            "/h5/login/card",
            vec![("card", "1234567890123456789012345"), ("pin", "2580")],
        ),
        (
            &villager,
            "/h5/board/qingle/objections",
            vec![("claim_id", "1"), ("reason", "不对")],
        ),
        (
            &desk,
            "/admin/invites",
            vec![("household_ids", household.as_str())],
        ),
        (
            &desk,
            "/staff/login",
            vec![
                ("username", "qingle-committee"),
                ("password", crate::support::PASSWORD),
            ],
        ),
        (&desk, "/staff/logout", vec![]),
    ];
    for (b, path, mut fields) in cases {
        fields.push(("csrf", forged.as_str()));
        let answer = b.post(app.url(path)).form(&fields).send().unwrap();
        assert_eq!(answer.status(), 403, "{path}");
        assert!(
            answer.text().unwrap().contains("页面已过期"),
            "{path} says why"
        );
    }
    assert_eq!(
        villager.get(app.url("/h5/")).send().unwrap().status(),
        200,
        "still signed in"
    );
    assert_eq!(
        desk.get(app.url("/admin/")).send().unwrap().status(),
        200,
        "still signed in"
    );
}

#[test]
fn the_whole_ledger_pages_back_twenty_entries_at_a_time() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let item = add_item(&app, &w, "A01", "1");
    for i in 0..25 {
        let resp = award(
            &app,
            &w,
            &format!("k{i}"),
            json!({"item_id": item, "household_ids": [w.households[0]], "occurred_on": "2026-11-27"}),
        );
        assert_eq!(resp.status, 201);
    }
    let b = signed_in_browser(&app, &w.committee, w.households[0]);
    let first = page_text(&app, &b, "/h5/ledger");
    assert_eq!(first.matches("+1 分").count(), 20);
    let next = first
        .split("href=\"/h5/ledger?cursor=")
        .nth(1)
        .expect("a link to older entries")
        .split('"')
        .next()
        .unwrap()
        .replace("&#x3d;", "=")
        .replace("&amp;", "&");
    let second = b
        .get(app.url(&format!("/h5/ledger?cursor={next}")))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(second.matches("+1 分").count(), 5, "{second}");
    assert!(!second.contains("再往前看"));
}

#[test]
fn a_group_leader_sees_only_masked_names_on_every_desk_page_and_api_answer() {
    let app = TestApp::start();
    let w = app.world();
    let item = leader_item(&app, &w);
    let proposed = app.post(
        &format!("/api/v1/villages/{}/claims", w.qingle),
        Some(&w.leader),
        json!({"household_id": w.households[0], "item_id": item.id(), "occurred_on": "2026-11-27"}),
    );
    assert_eq!(proposed.status, 201, "{}", proposed.text);
    let full_names = ["张小明", "王德福", "黄炳坤"];
    let (leader, _) = staff_browser(&app, "qingle-leader");
    let mut seen_masked = false;
    for page in DESK_PAGES {
        let html = page_text(&app, &leader, page);
        for name in full_names {
            assert!(
                !html.contains(name),
                "{page} shows {name} to a group leader"
            );
        }
        seen_masked |= html.contains("张*明");
    }
    assert!(seen_masked, "the leader's pages name households, masked");
    let claim = proposed.id();
    let household = w.households[0];
    for path in [
        format!("/api/v1/villages/{}/households", w.qingle),
        format!("/api/v1/households/{household}"),
        format!("/api/v1/households/{household}/members"),
        format!("/api/v1/villages/{}/claims", w.qingle),
        format!("/api/v1/claims/{claim}"),
        format!("/api/v1/households/{household}/ledger"),
        format!("/api/v1/villages/{}/ledger", w.qingle),
        format!("/api/v1/villages/{}/audit", w.qingle),
    ] {
        let resp = app.get(&path, Some(&w.leader));
        for name in full_names {
            assert!(
                !resp.text.contains(name),
                "{path} shows {name}: {}",
                resp.text
            );
        }
    }
}

#[test]
fn a_villagers_page_session_lasts_while_used_and_ends_after_half_a_year_idle() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let code = app.invite(&w.committee, w.households[0]);
    let b = browser();
    let csrf = open_login(&app, &b);
    let signed_in = sign_in(&app, &b, &csrf, &code);
    assert_eq!(signed_in.status(), 303);
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("Max-Age=34560000"),
        "the cookie outlives the session: {cookie}"
    );
    let home = |b: &Client| b.get(app.url("/h5/")).send().unwrap().status().as_u16();
    // Used every hundred days, it never ends: 300 days after signing in it still opens.
    for _ in 0..3 {
        app.advance(chrono::Duration::days(100));
        assert_eq!(home(&b), 200);
    }
    // Left alone for more than 180 days, it has ended.
    app.advance(chrono::Duration::days(179));
    assert_eq!(home(&b), 200);
    app.advance(chrono::Duration::days(181));
    assert_eq!(home(&b), 303, "signed out after half a year unused");
}

#[test]
fn a_villager_reads_every_claim_of_the_household_and_why_one_was_rejected() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let item = add_item(&app, &w, "A01", "10");
    let posted = award(
        &app,
        &w,
        "k",
        json!({"item_id": item, "household_ids": [w.households[0]], "occurred_on": "2026-11-27"}),
    );
    assert_eq!(posted.status, 201, "{}", posted.text);
    let claim = |on: &str| {
        let resp = app.post(
            &format!("/api/v1/villages/{}/claims", w.qingle),
            Some(&w.committee),
            json!({"household_id": w.households[0], "item_id": item, "occurred_on": on}),
        );
        assert_eq!(resp.status, 201, "{}", resp.text);
        resp.id()
    };
    let refused = claim("2026-11-26");
    claim("2026-11-25");
    let rejected = app.post(
        &format!("/api/v1/claims/{refused}/reject"),
        Some(&w.committee),
        json!({"reason": "照片看不清"}),
    );
    assert_eq!(rejected.status, 200, "{}", rejected.text);
    // The neighbour's claim is not this household's business.
    let other = app.post(
        &format!("/api/v1/villages/{}/claims", w.qingle),
        Some(&w.committee),
        json!({"household_id": w.households[1], "item_id": item, "occurred_on": "2026-11-27"}),
    );
    assert_eq!(other.status, 201);

    let code = app.invite(&w.committee, w.households[0]);
    let b = browser();
    let csrf = open_login(&app, &b);
    assert_eq!(sign_in(&app, &b, &csrf, &code).status(), 303);
    assert!(page_text(&app, &b, "/h5/").contains("href=\"/h5/claims\""));
    let html = page_text(&app, &b, "/h5/claims");
    for words in [
        "没有通过：照片看不清",
        "村委会审核通过后公示",
        "已记入我家积分",
        "11月26日做的",
    ] {
        assert!(html.contains(words), "{words} not in {html}");
    }
    assert_eq!(
        html.matches("事项A01").count(),
        3,
        "only this household's three: {html}"
    );
}

/// The card sign-in form sent from the page `from` (which gives the CSRF token).
fn card_sign_in(
    app: &TestApp,
    b: &Client,
    from: &str,
    card: &str,
    pin: &str,
) -> reqwest::blocking::Response {
    let csrf = csrf_of(&page_text(app, b, from));
    b.post(app.url("/h5/login/card"))
        .form(&[("csrf", csrf.as_str()), ("card", card), ("pin", pin)])
        .send()
        .unwrap()
}

#[test]
fn a_signed_out_villager_comes_back_with_the_household_card_and_its_pin() {
    let app = TestApp::start();
    let w = app.world();
    let issue = || {
        app.post(
            &format!("/api/v1/households/{}/cards", w.households[0]),
            Some(&w.committee),
            json!({"pin": "2580"}),
        )
    };
    let issued = issue();
    assert_eq!(issued.status, 201, "{}", issued.text);
    let token = issued.body["card_token"].as_str().unwrap().to_owned();
    let scanned = format!("/h5/login?card={token}");
    assert_eq!(
        issued.body["sign_in_url"].as_str().unwrap(),
        app.url(&scanned),
        "the card's QR opens the sign-in page with the card filled in"
    );

    // Scanned with WeChat: the page knows the card and asks only for its PIN.
    let b = browser();
    let page = page_text(&app, &b, &scanned);
    assert!(
        page.contains("户卡登录") && page.contains(&token[20..]),
        "{page}"
    );
    let wrong = card_sign_in(&app, &b, &scanned, &token, "1111");
    assert_eq!(wrong.status(), 422);
    assert!(wrong.text().unwrap().contains("密码不对"), "said in words");
    let right = card_sign_in(&app, &b, &scanned, &token, "2580");
    assert_eq!(right.status(), 303);
    assert_eq!(right.headers()["location"], "/h5/");
    let home = page_text(&app, &b, "/h5/");
    assert!(home.contains("张小明"), "{home}");

    // Typed by hand on the plain sign-in page, with the spaces the card prints.
    let spaced: Vec<&str> = (0..5).map(|i| &token[i * 5..i * 5 + 5]).collect();
    let other = browser();
    let typed = card_sign_in(&app, &other, "/h5/login", &spaced.join(" "), "2580");
    assert_eq!(typed.status(), 303);

    // Five wrong PINs lock the card here as at the counter; the right one then waits.
    let thief = browser();
    for _ in 0..4 {
        let answer = card_sign_in(&app, &thief, &scanned, &token, "0000");
        assert_eq!(answer.status(), 422);
    }
    let fifth = card_sign_in(&app, &thief, &scanned, &token, "0000");
    assert_eq!(fifth.status(), 423);
    let locked = card_sign_in(&app, &thief, &scanned, &token, "2580");
    assert_eq!(locked.status(), 423, "the right PIN waits out the lock too");
    assert!(locked.text().unwrap().contains("已锁定"));

    // A new card ends the old one's way in.
    assert_eq!(issue().status, 201);
    let old = card_sign_in(&app, &browser(), &scanned, &token, "2580");
    assert_eq!(old.status(), 422);
    assert!(old.text().unwrap().contains("旧卡不能用了"));
}

#[test]
fn my_claims_shows_the_shop_and_a_void_and_the_home_says_when_something_changed() {
    let app = TestApp::start();
    let s = crate::shop::shop_world(&app, "100");
    let b = signed_in_browser(&app, &s.w.committee, s.w.households[0]);
    let badge = |b: &Client| {
        let home = page_text(&app, b, "/h5/");
        home.split("data-testid=\"changes\"").nth(1).map(|rest| {
            rest.split('>')
                .nth(1)
                .unwrap()
                .split('<')
                .next()
                .unwrap()
                .to_owned()
        })
    };
    assert_eq!(
        badge(&b).as_deref(),
        Some("1"),
        "the award posted this fortnight is news on a phone that never opened 我的申报"
    );
    let html = page_text(&app, &b, "/h5/claims");
    assert!(html.contains("还没有兑换过"), "{html}");
    assert_eq!(badge(&b), None, "seen");

    // The shop sells, then voids the sale: the household reads both, with the shop's name.
    app.advance(chrono::Duration::minutes(1));
    let villager = app.villager(&s.w.committee, s.w.households[0]);
    let code = crate::shop::issue(&app, &villager, s.w.households[0]).body["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let sold = crate::shop::redeem(
        &app,
        &s,
        "sale",
        &code,
        json!([{"goods_id": s.oil, "quantity": 1}]),
    );
    assert_eq!(sold.status, 201, "{}", sold.text);
    assert_eq!(badge(&b), None, "a sale the villager stood at is no news");
    let voided = app.post_with_key(
        &format!("/api/v1/redemptions/{}/void", sold.id()),
        &s.keeper,
        "void",
        json!({"reason": "拿错了商品"}),
    );
    assert_eq!(voided.status, 201, "{}", voided.text);
    assert_eq!(badge(&b).as_deref(), Some("1"), "the void is");
    let html = page_text(&app, &b, "/h5/claims");
    for words in [
        "庆乐积分超市",
        "食用油 ×1",
        "已作废，积分已退回",
        "拿错了商品",
        "-30 分",
    ] {
        assert!(html.contains(words), "{words} not in {html}");
    }
    assert_eq!(badge(&b), None);
}

#[test]
fn the_village_ledger_names_the_household_of_each_entry() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let item = add_item(&app, &w, "A01", "10");
    let posted = award(
        &app,
        &w,
        "k",
        json!({"item_id": item, "household_ids": [w.households[1]], "occurred_on": "2026-11-27"}),
    );
    assert_eq!(posted.status, 201, "{}", posted.text);
    let (desk, _) = staff_browser(&app, "qingle-committee");
    let html = page_text(&app, &desk, "/admin/ledger");
    assert!(
        html.contains("<td>2号 王德福</td>") && html.contains("+10"),
        "{html}"
    );
}

#[test]
fn the_audit_trail_reads_in_words_with_names_and_titles() {
    let app = TestApp::start();
    let w = ledger_world(&app);
    let item = add_item(&app, &w, "A01", "10");
    let posted = award(
        &app,
        &w,
        "k",
        json!({"item_id": item, "household_ids": [w.households[1]], "occurred_on": "2026-11-27"}),
    );
    assert_eq!(posted.status, 201, "{}", posted.text);
    let (desk, _) = staff_browser(&app, "qingle-committee");
    let html = page_text(&app, &desk, "/admin/audit");
    for words in [
        "奖励加分</td><td>清单事项 「事项A01」",
        "新建</td><td>农户 2号 王德福",
        "修改</td><td>村 庆乐村",
        "<td>测试员</td>",
    ] {
        assert!(html.contains(words), "{words} not in {html}");
    }
    for code in ["#", "（award", "（create", "checklist_item"] {
        let table = html.split("<table").nth(1).unwrap_or_default();
        assert!(!table.contains(code), "{code} in {table}");
    }
}
