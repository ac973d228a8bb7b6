//! End to end in headless Chromium against the real server: a villager on a phone inside
//! WeChat (signed in through the local WeChat stand-in), a shopkeeper at the counter with a
//! scanner gun, a committee member at the desk. Screenshots land in `target/screenshots/`.

use serde_json::Value;

use crate::browser::{Browser, PHONE_UA, Tab};
use crate::shop::shop_world;
use crate::support::{PASSWORD, TestApp};
use crate::wechat::start_with_wechat;

const DESK_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

fn phone(browser: &mut Browser) -> Tab {
    browser.tab(390, 844, true, PHONE_UA)
}

/// The committee's desk as the township's laptops show it.
fn desk(browser: &mut Browser) -> Tab {
    browser.tab(1366, 768, false, DESK_UA)
}

/// Signs a staff member in through the page, as they would: type, Tab, type, Enter.
fn staff_sign_in(browser: &mut Browser, tab: &Tab, app: &TestApp, page: &str, username: &str) {
    browser.open(tab, &app.url(page));
    browser.wait_for(
        tab,
        "document.activeElement && document.activeElement.id === 'username'",
    );
    browser.type_keys(tab, username);
    browser.tap(tab, "#password");
    browser.type_keys(tab, PASSWORD);
    browser.after_navigation(tab, |b| b.press_enter(tab));
}

/// What an elderly villager needs from a page, measured in the browser.
fn assert_elder_first(browser: &mut Browser, tab: &Tab, page: &str) {
    let m = browser.eval(tab, include_str!("elder_first.js"));
    let num = |k: &str| m[k].as_f64().unwrap_or_else(|| panic!("{k} in {m}"));
    assert!(num("body_px") >= 18.0, "{page}: body text {m}");
    assert!(num("figure_px") >= 30.0, "{page}: key figures {m}");
    assert!(num("main_button_px") >= 60.0, "{page}: main buttons {m}");
    assert!(num("tap_px") >= 44.0, "{page}: tap targets {m}");
    assert!(num("contrast") >= 4.5, "{page}: contrast {m}");
    assert_eq!(
        m["enlarged_overflow"],
        Value::Bool(false),
        "{page}: text enlarged {m}"
    );
    assert_eq!(
        browser.document_header(tab, "cache-control").as_deref(),
        Some("no-store"),
        "{page}"
    );
    assert!(num("bytes") < 30.0 * 1024.0, "{page}: {m}");
    assert_eq!(
        m["foreign"],
        Value::from(0),
        "{page}: loads from other hosts {m}"
    );
}

#[test]
fn a_villager_pays_with_the_code_at_the_counter_and_sees_the_receipt() {
    let (app, wechat) = start_with_wechat();
    let s = shop_world(&app, "100");
    let Some(mut browser) = Browser::launch() else {
        return;
    };

    // The villager opens the link in WeChat: WeChat signs them in; the first time, jifen
    // asks for the invite code once.
    wechat.hold_phone("o-household-0");
    let villager = phone(&mut browser);
    browser.open(&villager, &app.url("/h5/"));
    assert!(browser.text(&villager, "h1").contains("第一次使用"));
    browser.screenshot(&villager, "h5-first-time");
    let invite = app.invite(&s.w.committee, s.w.households[0]);
    browser.tap(&villager, "#invite_code");
    browser.type_keys(&villager, &invite);
    browser.after_navigation(&villager, |b| b.tap(&villager, "button[type=submit]"));
    assert!(
        browser
            .text(&villager, "[data-testid=points]")
            .starts_with("100 ")
    );
    assert_elder_first(&mut browser, &villager, "/h5/");
    browser.screenshot(&villager, "h5-home");
    // Signing out is tucked in a corner and says what it means before it happens.
    let hidden = "!document.querySelector('details.corner').open";
    assert_eq!(browser.eval(&villager, hidden), Value::Bool(true));
    browser.tap(&villager, "details.corner summary");
    assert_eq!(browser.eval(&villager, hidden), Value::Bool(false));
    assert!(
        browser
            .text(&villager, "details.corner")
            .contains("一直保持登录")
    );
    browser.screenshot(&villager, "h5-settings-corner");
    browser.tap(&villager, "details.corner summary");

    browser.after_navigation(&villager, |b| b.tap(&villager, "a[href='/h5/code']"));
    let digits: String = browser
        .text(&villager, ".digits")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    assert_eq!(digits.len(), 18);
    assert_eq!(
        browser.eval(
            &villager,
            "document.documentElement.style.fontSize = '150%'; const whole = [...document.querySelectorAll('.digits .group')].every(g => g.getClientRects().length === 1); document.documentElement.style.fontSize = ''; whole"
        ),
        Value::Bool(true),
        "with WeChat's larger text the code breaks only between its groups"
    );
    assert_elder_first(&mut browser, &villager, "/h5/code");
    assert!(
        browser
            .text(&villager, ".code .payer")
            .contains("1号 张小明 · 可用 100 分")
    );
    assert_eq!(
        browser.eval(
            &villager,
            "document.querySelectorAll('[data-testid=barcode] svg rect').length > 30"
        ),
        Value::Bool(true),
        "a Code 128 barcode under the QR"
    );
    browser.screenshot(&villager, "h5-code");
    // 亮屏大码: the code large on white, for a scanner that will not read it.
    browser.tap(&villager, "button[data-action=bright]");
    assert_eq!(
        browser.eval(&villager, "document.body.classList.contains('bright')"),
        Value::Bool(true)
    );
    browser.screenshot(&villager, "h5-code-bright");
    browser.tap(&villager, "button[data-action=bright]");

    // The shopkeeper signs in at the counter; the scan field has the focus.
    let counter = desk(&mut browser);
    staff_sign_in(&mut browser, &counter, &app, "/shop/", "qingle-shop");
    browser.wait_for(&counter, "document.activeElement.id === 'scan'");
    // The scanner gun: 18 digits and Enter, as fast as it can.
    browser.type_keys(&counter, &digits);
    browser.press_enter(&counter);
    browser.wait_for(&counter, "!document.getElementById('household').hidden");
    let who = browser.text(&counter, "#household");
    assert!(who.contains("张*明") && who.contains("100"), "{who}");
    browser.tap(&counter, ".tile[data-name='食用油']");
    browser.tap(&counter, ".tile[data-name='大米']");
    browser.tap(&counter, ".tile[data-name='大米']");
    assert_eq!(browser.text(&counter, "#cart-total"), "50");
    assert_eq!(browser.text(&counter, "#cart-left"), "50");
    browser.wait_for(&counter, "document.activeElement.id === 'scan'");
    browser.screenshot(&counter, "shop-cart");
    // The scan holds the code for this shop: the villager's page waits, it renews nothing.
    browser.wait_for(
        &villager,
        "document.getElementById('hint').innerText.includes('店主正在结算')",
    );
    browser.screenshot(&villager, "h5-code-reserved");
    browser.tap(&counter, "#confirm");
    browser.wait_for(&counter, "!document.getElementById('receipt').hidden");
    let receipt_no = browser.text(&counter, "#r-no");
    assert!(receipt_no.ends_with("-0001"), "{receipt_no}");
    assert_eq!(browser.text(&counter, "#r-after"), "50");
    browser.screenshot(&counter, "shop-receipt");

    // The villager's phone shows what happened, in words.
    browser.wait_for(&villager, "!document.getElementById('done').hidden");
    assert_eq!(
        browser.text(&villager, "#receipt"),
        "已在 庆乐积分超市 兑换 食用油 1 瓶、大米 2 袋，扣 50 分"
    );
    browser.screenshot(&villager, "h5-code-redeemed");

    // The same code scanned again is refused in words.
    browser.after_navigation(&counter, |b| b.tap(&counter, "#next"));
    assert!(browser.text(&counter, "table.list").contains(&receipt_no));
    browser.type_keys(&counter, &digits);
    browser.press_enter(&counter);
    browser.wait_for(
        &counter,
        "document.getElementById('status').innerText.includes('用过')",
    );

    // The printable receipt fits a 58 mm roll.
    let href = browser.eval(
        &counter,
        "document.querySelector('table.list a').getAttribute('href')",
    );
    browser.open(&counter, &app.url(href.as_str().unwrap()));
    let width = browser.eval(
        &counter,
        "document.querySelector('.roll').getBoundingClientRect().width",
    );
    assert!(width.as_f64().unwrap() <= 58.0 / 25.4 * 96.0, "{width}");
    assert!(browser.text(&counter, ".roll").contains(&receipt_no));
    browser.screenshot(&counter, "shop-receipt-58mm");
}

#[test]
fn a_villager_reports_with_a_photo_and_the_committee_approves_it_from_the_desk() {
    let app = TestApp::start();
    let w = app.world();
    crate::pages::villager_item(&app, &w, true);
    let Some(mut browser) = Browser::launch() else {
        return;
    };

    let villager = phone(&mut browser);
    let invite = app.invite(&w.committee, w.households[0]);
    browser.open(&villager, &app.url("/h5/claim"));
    browser.tap(&villager, "#invite_code");
    browser.type_keys(&villager, &invite);
    browser.after_navigation(&villager, |b| b.tap(&villager, "button[type=submit]"));
    assert!(
        browser.text(&villager, "header").contains("申报积分"),
        "back to the page asked for"
    );
    browser.tap(&villager, "label.choice");
    let photo = tempfile::Builder::new().suffix(".png").tempfile().unwrap();
    image::RgbImage::from_pixel(64, 48, image::Rgb([40, 140, 60]))
        .save_with_format(photo.path(), image::ImageFormat::Png)
        .unwrap();
    choose_file(&mut browser, &villager, "#photo", photo.path());
    browser.wait_for(
        &villager,
        "!document.getElementById('photo-preview').hidden",
    );
    assert_elder_first(&mut browser, &villager, "/h5/claim");
    browser.screenshot(&villager, "h5-claim");
    // Three times is over the item's cap: the refusal shows at the top, and the photo and
    // what was typed stay.
    fill(&mut browser, &villager, "#quantity", "3");
    fill(&mut browser, &villager, "#note", "扫了门前");
    browser.tap(&villager, "form button[type=submit]");
    browser.wait_for(&villager, "!document.getElementById('claim-error').hidden");
    assert!(
        browser
            .text(&villager, "#claim-error")
            .contains("每月最多 2 次")
    );
    assert_eq!(
        browser.eval(
            &villager,
            "document.getElementById('photo').files.length === 1 && !document.getElementById('photo-preview').hidden && document.getElementById('note').value === '扫了门前'"
        ),
        Value::Bool(true)
    );
    let top = browser.eval(
        &villager,
        "document.getElementById('claim-error').getBoundingClientRect().top",
    );
    assert!(
        (0.0..844.0).contains(&top.as_f64().unwrap()),
        "the refusal is in view: {top}"
    );
    browser.screenshot(&villager, "h5-claim-refused");
    fill(&mut browser, &villager, "#quantity", "1");
    browser.after_navigation(&villager, |b| b.tap(&villager, "form button[type=submit]"));
    assert!(browser.text(&villager, ".figure").contains("已提交"));
    // 我的申报 says where it stands.
    browser.open(&villager, &app.url("/h5/claims"));
    assert!(
        browser
            .text(&villager, ".claims-mine")
            .contains("清扫门前屋后")
    );
    assert!(
        browser
            .text(&villager, ".claims-mine")
            .contains("村委会审核通过后公示")
    );
    assert_elder_first(&mut browser, &villager, "/h5/claims");
    browser.screenshot(&villager, "h5-my-claims");

    // The committee member at the desk sees the claim with its photo and approves it.
    let committee = desk(&mut browser);
    staff_sign_in(
        &mut browser,
        &committee,
        &app,
        "/admin/claims",
        "qingle-committee",
    );
    browser.wait_for(&committee, "document.querySelector('article.claim img') && document.querySelector('article.claim img').complete");
    let natural = browser.eval(
        &committee,
        "document.querySelector('article.claim img').naturalWidth",
    );
    assert!(
        natural.as_i64().unwrap() > 0,
        "the evidence photo loads at the desk"
    );
    assert!(
        browser
            .text(&committee, "article.claim")
            .contains("清扫门前屋后")
    );
    browser.screenshot(&committee, "desk-review");
    browser.after_navigation(&committee, |b| b.tap(&committee, "button.approve"));
    assert!(
        browser
            .text(&committee, "body")
            .contains("没有待审核的申报")
    );
    let on_notice = browser.text(&committee, "table.list");
    assert!(
        on_notice.contains("清扫门前屋后") && on_notice.contains("公示中"),
        "{on_notice}"
    );
    browser.screenshot(&committee, "desk-after-approval");

    // The villager sees the points pending on notice.
    browser.open(&villager, &app.url("/h5/"));
    assert!(browser.text(&villager, ".card").contains("5 分"));
}

/// Fills a field of the form in view, as a person would: tap it, clear it, type.
fn fill(browser: &mut Browser, tab: &Tab, selector: &str, text: &str) {
    browser.tap(tab, selector);
    let sel = serde_json::to_string(selector).unwrap();
    browser.eval(
        tab,
        &format!(
            "document.querySelector({sel}).select ? document.querySelector({sel}).select() : null"
        ),
    );
    browser.type_keys(tab, text);
}

/// Chooses a file for the file input at `selector`, as the person picking it would.
fn choose_file(browser: &mut Browser, tab: &Tab, selector: &str, path: &std::path::Path) {
    let root =
        browser.call(tab, "DOM.getDocument", serde_json::json!({}))["root"]["nodeId"].clone();
    let input = browser.call(
        tab,
        "DOM.querySelector",
        serde_json::json!({"nodeId": root, "selector": selector}),
    )["nodeId"]
        .clone();
    browser.call(
        tab,
        "DOM.setFileInputFiles",
        serde_json::json!({"nodeId": input, "files": [path.to_str().unwrap()]}),
    );
}

/// `window.confirm` would block the page; the person says yes.
fn agree_to_confirmations(browser: &mut Browser, tab: &Tab) {
    browser.eval(tab, "window.confirm = () => true");
}

#[test]
fn at_the_desk_the_committee_keeps_the_register_and_checklist_and_awards_points() {
    let app = TestApp::start();
    let w = app.world();
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let tab = desk(&mut browser);
    staff_sign_in(&mut browser, &tab, &app, "/admin/", "qingle-committee");
    assert!(browser.text(&tab, "header").contains("庆乐村"));
    browser.screenshot(&tab, "desk-overview");

    // A new household joins.
    browser.open(&tab, &app.url("/admin/households"));
    fill(&mut browser, &tab, "input[name=door_no]", "99号");
    fill(&mut browser, &tab, "input[name=head_name]", "王大山");
    browser.after_navigation(&tab, |b| {
        b.tap(&tab, "form[data-api*='/households'] button[type=submit]")
    });
    assert!(browser.text(&tab, "#register").contains("王大山"));
    browser.screenshot(&tab, "desk-households");

    // The register finds a household by name, and says how many it found.
    browser.open(&tab, &app.url("/admin/households?q=王大山"));
    assert!(
        browser
            .text(&tab, "[data-testid=found]")
            .contains("共 1 户")
    );
    let register = browser.text(&tab, "#register");
    assert!(
        register.contains("王大山") && !register.contains("张小明"),
        "{register}"
    );
    browser.open(&tab, &app.url("/admin/households"));

    // Its household card: the villager types the PIN, the desk prints the sheet.
    browser.tap(&tab, "button.card-for[data-name^='99号']");
    fill(&mut browser, &tab, "#card-rows input", "2580");
    browser.tap(&tab, "#card-form button[type=submit]");
    browser.wait_for(&tab, "document.querySelector('body.card-sheet .card svg')");
    let sheet = browser.text(&tab, "body");
    assert!(
        sheet.contains("积分户卡") && sheet.contains("99号") && !sheet.contains("2580"),
        "{sheet}"
    );
    browser.open(&tab, &app.url("/admin/households"));

    // A whole group's cards at once: each villager types their own PIN in turn; each card
    // carries its 25 digits, and the sheet has a print button and the way back.
    browser.tap(&tab, "#register fieldset .whole-group");
    browser.tap(&tab, "#cards-for-picked");
    let fields = browser
        .eval(&tab, "document.querySelectorAll('#card-rows input').length")
        .as_u64()
        .unwrap();
    assert!(fields >= 2, "one PIN for each household of the group");
    for n in 1..=fields {
        let pin = format!("{}", 1000 + n * 111);
        fill(
            &mut browser,
            &tab,
            &format!("#card-rows label:nth-child({n}) input"),
            &pin,
        );
    }
    browser.tap(&tab, "#card-form button[type=submit]");
    browser.wait_for(&tab, "document.querySelector('body.card-sheet .card svg')");
    let printed = browser
        .eval(
            &tab,
            "document.querySelectorAll('body.card-sheet .card').length",
        )
        .as_u64()
        .unwrap();
    assert_eq!(printed, fields);
    let digits = browser.text(&tab, ".card-digits");
    assert!(
        digits.len() == 29 && digits.split(' ').all(|g| g.len() == 5),
        "25 digits in fives: {digits}"
    );
    let bar = browser.text(&tab, ".print-bar");
    assert!(
        bar.contains("打印") && bar.contains("返回农户名册"),
        "{bar}"
    );
    browser.screenshot(&tab, "desk-card-sheet");
    browser.open(&tab, &app.url("/admin/households"));

    // A sheet from the committee's Excel habits: the import says what it did.
    let sheet = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    std::fs::write(
        sheet.path(),
        "门牌号,户主,小组,电话\n77号,覃秀英,,\n1号,张小明,,\n",
    )
    .unwrap();
    choose_file(
        &mut browser,
        &tab,
        "form[data-api$='/households/import'] input[type=file]",
        sheet.path(),
    );
    browser.tap(
        &tab,
        "form[data-api$='/households/import'] button[type=submit]",
    );
    browser.wait_for(
        &tab,
        "document.querySelector('form[data-api$=\"/households/import\"]').innerText.includes('新增 1 户，更新 1 户')",
    );
    browser.open(&tab, &app.url("/admin/households"));

    // A household's members: the committee takes a member's access back, then the
    // whole household's (it moved away); the register says so.
    let found = app.get(
        &format!("/api/v1/villages/{}/households?q=99", w.qingle),
        Some(&w.committee),
    );
    let newcomer = found.body["items"][0]["id"].as_i64().unwrap();
    let link = format!("#register a[href^='/admin/households/{newcomer}?']");
    browser.after_navigation(&tab, |b| b.tap(&tab, &link));
    assert!(browser.text(&tab, "table.list").contains("户主"));
    // A daughter working in town is added, and gets a slip of her own to sign in with.
    let page = browser.eval(&tab, "location.href");
    let add = "form[data-api$='/members']";
    fill(
        &mut browser,
        &tab,
        &format!("{add} input[name=name]"),
        "王小芳",
    );
    fill(
        &mut browser,
        &tab,
        &format!("{add} input[name=relation]"),
        "女儿",
    );
    browser.after_navigation(&tab, |b| b.tap(&tab, &format!("{add} button")));
    let members = browser.text(&tab, "table.list");
    assert!(
        members.contains("王小芳") && members.contains("女儿"),
        "{members}"
    );
    browser.eval(
        &tab,
        "document.querySelectorAll('form[action=\"/admin/invites\"]').forEach(f => f.removeAttribute('target'))",
    );
    browser.after_navigation(&tab, |b| {
        b.tap(&tab, "tr:last-child form[action='/admin/invites'] button")
    });
    let slip = browser.text(&tab, ".slip");
    assert!(slip.contains("99号 · 王小芳"), "{slip}");
    browser.screenshot(&tab, "desk-member-slip");
    browser.open(&tab, page.as_str().unwrap());
    agree_to_confirmations(&mut browser, &tab);
    browser.after_navigation(&tab, |b| {
        b.tap(&tab, "form[data-api^='PATCH /api/v1/members/'] button")
    });
    assert!(browser.text(&tab, "table.list").contains("已停用"));
    agree_to_confirmations(&mut browser, &tab);
    browser.after_navigation(&tab, |b| {
        b.tap(&tab, "form[data-api^='PATCH /api/v1/households/'] button")
    });
    assert!(browser.text(&tab, "h1").contains("已停用"));
    browser.screenshot(&tab, "desk-household-access");
    browser.open(&tab, &app.url("/admin/households"));
    assert!(browser.text(&tab, "#register").contains("已停用"));

    // The checklist gets an item, which is then revised.
    browser.open(&tab, &app.url("/admin/checklist"));
    fill(&mut browser, &tab, "input[name=code]", "Z01");
    fill(&mut browser, &tab, "input[name=category]", "移风易俗");
    fill(&mut browser, &tab, "input[name=title]", "红白喜事简办");
    fill(&mut browser, &tab, "input[name=points]", "8");
    browser.after_navigation(&tab, |b| b.tap(&tab, "#item-form button[type=submit]"));
    assert!(browser.text(&tab, "table.list").contains("红白喜事简办"));
    browser.tap(&tab, "button.revise");
    fill(&mut browser, &tab, "input[name=points]", "10");
    browser.after_navigation(&tab, |b| b.tap(&tab, "#item-form button[type=submit]"));
    let table = browser.text(&tab, "table.list");
    assert!(
        table.contains("第 2 版") && table.contains("\t10\t") && !table.contains("10.00"),
        "{table}"
    );
    // A mistake is refused in words, next to the form, and nothing changes.
    fill(&mut browser, &tab, "input[name=code]", "Z02");
    fill(&mut browser, &tab, "input[name=category]", "移风易俗");
    fill(&mut browser, &tab, "input[name=title]", "零分事项");
    fill(&mut browser, &tab, "input[name=points]", "0");
    browser.tap(&tab, "#item-form button[type=submit]");
    browser.wait_for(&tab, "document.querySelector('#item-form .message.error')");
    assert!(!browser.text(&tab, "#item-form .message").is_empty());
    browser.screenshot(&tab, "desk-checklist");

    // Award the whole first group at once.
    browser.open(&tab, &app.url("/admin/awards"));
    let item = browser.eval(&tab, "Array.from(document.querySelectorAll('select[name=item_id] option')).find(o => o.text.includes('红白喜事简办')).value");
    browser.eval(
        &tab,
        &format!("document.querySelector('select[name=item_id]').value = {item}"),
    );
    browser.tap(&tab, "fieldset.group input.whole-group");
    assert_eq!(browser.text(&tab, "#picked"), "已选 2 户");
    browser.tap(&tab, "#award-form button[type=submit]");
    browser.wait_for(&tab, "document.querySelector('#award-form .message.ok')");
    browser.screenshot(&tab, "desk-awards");
    let balance = app.get(
        &format!("/api/v1/households/{}/balance", w.households[1]),
        Some(&w.committee),
    );
    assert_eq!(
        balance.body["pending"], "10.00",
        "on notice for the village's notice days"
    );

    // The ledger page shows a sound chain.
    browser.open(&tab, &app.url("/admin/ledger"));
    assert!(
        browser
            .text(&tab, "[data-testid=verify]")
            .contains("账本完整")
    );
}

#[test]
fn supervisors_decide_objections_and_the_township_settles_with_the_shop() {
    let app = TestApp::start();
    let s = shop_world(&app, "100");
    // One redemption to settle.
    let villager = app.villager(&s.w.committee, s.w.households[0]);
    let code = app.post(
        &format!("/api/v1/households/{}/payment-codes", s.w.households[0]),
        Some(&villager),
        serde_json::json!({}),
    );
    let redeemed = app.post_with_key(
        &format!("/api/v1/shops/{}/redemptions", s.id),
        &s.keeper,
        "r1",
        serde_json::json!({"code": code.body["code"], "lines": [{"goods_id": s.oil, "quantity": 1}]}),
    );
    assert_eq!(redeemed.status, 201, "{}", redeemed.text);
    // The village collective pays for its points.
    let funded = app.patch(
        &format!("/api/v1/villages/{}", s.w.qingle),
        Some(&s.w.committee),
        serde_json::json!({"policy": {"funding": [{"source": "collective", "percent": 100}]}}),
    );
    assert_eq!(funded.status, 200, "{}", funded.text);
    // A claim on notice with an objection.
    let patch = app.patch(
        &format!("/api/v1/villages/{}", s.w.qingle),
        Some(&s.w.committee),
        serde_json::json!({"policy": {"notice_days": 3}}),
    );
    assert_eq!(patch.status, 200, "{}", patch.text);
    let item = crate::ledger::add_item(&app, &s.w, "B01", "5");
    let award = crate::ledger::award(
        &app,
        &s.w,
        "on-notice",
        serde_json::json!({"item_id": item, "household_ids": [s.w.households[1]], "occurred_on": "2026-11-27"}),
    );
    let claim = award.body["claims"][0]["id"].as_i64().unwrap();
    let Some(mut browser) = Browser::launch() else {
        return;
    };

    // A neighbour objects on the notice board from the phone.
    let neighbour = phone(&mut browser);
    let invite = app.invite(&s.w.committee, s.w.households[2]);
    browser.open(&neighbour, &app.url("/h5/login?next=/h5/board/qingle"));
    browser.tap(&neighbour, "#invite_code");
    browser.type_keys(&neighbour, &invite);
    browser.after_navigation(&neighbour, |b| b.tap(&neighbour, "button[type=submit]"));
    assert!(browser.text(&neighbour, "header").contains("公示栏"));
    assert_elder_first(&mut browser, &neighbour, "/h5/board/qingle");
    browser.tap(&neighbour, "details summary");
    fill(
        &mut browser,
        &neighbour,
        "details input[name=reason]",
        "他家没有做",
    );
    browser.screenshot(&neighbour, "h5-board-objection");
    browser.after_navigation(&neighbour, |b| {
        b.tap(&neighbour, "details button[type=submit]")
    });
    assert!(browser.text(&neighbour, "main").contains("异议已提交"));
    browser.open(&neighbour, &app.url("/h5/checklist"));
    assert_elder_first(&mut browser, &neighbour, "/h5/checklist");

    let tab = desk(&mut browser);
    staff_sign_in(
        &mut browser,
        &tab,
        &app,
        "/admin/objections",
        "qingle-supervisor",
    );
    let objection = browser.text(&tab, "article.claim");
    assert!(objection.contains("他家没有做"), "{objection}");
    assert!(
        objection.contains("*"),
        "the objector is named, masked: {objection}"
    );
    assert_eq!(
        browser.eval(
            &tab,
            "document.querySelectorAll('input[name=outcome]:checked').length"
        ),
        Value::from(0),
        "no outcome is chosen for the supervisor"
    );
    browser.tap(&tab, "details.history summary");
    assert!(browser.text(&tab, "details.history").contains("有异议"));
    browser.screenshot(&tab, "desk-objection");
    browser.tap(&tab, "input[name=outcome][value=upheld]");
    fill(&mut browser, &tab, "input[name=note]", "核实确实没有做");
    browser.after_navigation(&tab, |b| b.tap(&tab, "article.claim button[type=submit]"));
    assert!(browser.text(&tab, "body").contains("没有待处理的异议"));
    let decided = app.get(&format!("/api/v1/claims/{claim}"), Some(&s.w.committee));
    assert_eq!(decided.body["status"], "overturned");

    // Only past days settle: the township draws up the statement the next day.
    app.advance(chrono::Duration::days(1));
    let township = desk(&mut browser);
    staff_sign_in(&mut browser, &township, &app, "/admin/settlements", "admin");
    agree_to_confirmations(&mut browser, &township);
    browser.after_navigation(&township, |b| {
        b.tap(
            &township,
            "form[data-api*='/settlements'] button[type=submit]",
        )
    });
    let row = browser.text(&township, "table.list");
    assert!(row.contains("\t30\t") && row.contains("草稿"), "{row}");
    agree_to_confirmations(&mut browser, &township);
    browser.after_navigation(&township, |b| {
        b.tap(&township, "form[data-api$='/approve'] button")
    });
    fill(
        &mut browser,
        &township,
        "input[name=reference]",
        "转账-20261128-01",
    );
    browser.after_navigation(&township, |b| {
        b.tap(&township, "form[data-api$='/pay'] button")
    });
    assert!(browser.text(&township, "table.list").contains("已付款"));
    browser.screenshot(&township, "desk-settlements");

    // The statement the treasurer signs: goods, the sum in capitals, the chain head at
    // approval, the payment's reference and three lines to sign.
    browser.after_navigation(&township, |b| b.tap(&township, "a[href$='/print']"));
    let sheet = browser.text(&township, ".statement-sheet");
    for words in [
        "庆乐积分超市",
        "食用油",
        "叁拾元整",
        "转账-20261128-01",
        "第 ",
        "集体经济 100%（30.00 元）",
        "按积分，每分 1.00 元",
        "店主（签字）",
        "村委（签字盖章）",
        "乡镇（签字盖章）",
    ] {
        assert!(sheet.contains(words), "{words} not in {sheet}");
    }
    browser.screenshot(&township, "settlement-statement");
}

fn tap_pin(browser: &mut Browser, tab: &Tab, pin: &str) {
    browser.wait_for(tab, "!document.getElementById('pinpad').hidden");
    for digit in pin.chars() {
        browser.tap(tab, &format!("#pinpad [data-key='{digit}']"));
    }
}

#[test]
fn at_the_counter_a_card_holder_types_the_pin_and_the_shop_voids_and_restocks() {
    let app = TestApp::start();
    let s = shop_world(&app, "100");
    let card = app.post(
        &format!("/api/v1/households/{}/cards", s.w.households[1]),
        Some(&s.w.committee),
        serde_json::json!({"pin": "2468"}),
    );
    assert_eq!(card.status, 201, "{}", card.text);
    let token = card.body["card_token"].as_str().unwrap().to_owned();
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let counter = desk(&mut browser);
    staff_sign_in(&mut browser, &counter, &app, "/shop/", "qingle-shop");

    // The scanner gun types what the card's QR holds: its sign-in address.
    let scanned = card.body["sign_in_url"].as_str().unwrap();
    assert!(scanned.ends_with(&token));
    browser.type_keys(&counter, scanned);
    browser.press_enter(&counter);
    browser.wait_for(&counter, "!document.getElementById('household').hidden");
    assert!(browser.text(&counter, "#household").contains("王*福"));
    browser.tap(&counter, ".tile[data-name='食用油']");
    browser.tap(&counter, "#confirm");
    // The pad is turned to the villager, who gets the PIN wrong once.
    tap_pin(&mut browser, &counter, "1357");
    browser.screenshot(&counter, "shop-pin-pad");
    browser.tap(&counter, "#pinpad [data-key='ok']");
    browser.wait_for(
        &counter,
        "document.getElementById('status').innerText.includes('密码不对')",
    );
    // The second time the PIN comes from the counter's keypad, and the pad shows the sum.
    browser.tap(&counter, "#confirm");
    assert!(browser.text(&counter, "#pin-amount").contains("30 分"));
    browser.type_keys(&counter, "2468");
    browser.press_enter(&counter);
    browser.wait_for(&counter, "!document.getElementById('receipt').hidden");
    assert_eq!(browser.text(&counter, "#r-after"), "70");

    // Wrong goods handed over: the shop voids it within the window, asked in the page.
    browser.tap(&counter, "#r-void");
    browser.tap(&counter, "#void-form button[type=submit]");
    browser.wait_for(
        &counter,
        "document.getElementById('status').innerText.includes('已撤销')",
    );
    browser.open(&counter, &app.url("/shop/"));
    assert!(browser.text(&counter, "table.list").contains("已撤销"));
    let balance = app.get(
        &format!("/api/v1/households/{}/balance", s.w.households[1]),
        Some(&s.w.committee),
    );
    assert_eq!(balance.body["points"], "100.00", "the points came back");

    // Restock: ten bottles of oil arrive.
    browser.open(&counter, &app.url("/shop/goods"));
    let restock = format!(
        "form[data-api='POST /api/v1/goods/{}/stock'] input[name=delta]",
        s.oil
    );
    fill(&mut browser, &counter, &restock, "10");
    browser.after_navigation(&counter, |b| {
        b.tap(
            &counter,
            &format!("form[data-api='POST /api/v1/goods/{}/stock'] button", s.oil),
        );
    });
    let goods = browser.text(&counter, "table.list");
    assert!(goods.contains("15"), "5 + 10 bottles: {goods}");
    // Two broken in the stockroom go out as such, not as a restock.
    let out = format!(
        "form[data-api='POST /api/v1/goods/{}/stock'] input[data-type=negint]",
        s.oil
    );
    fill(&mut browser, &counter, &out, "2");
    browser.after_navigation(&counter, |b| {
        b.tap(&counter, &format!("{out} ~ button"));
    });
    assert!(browser.text(&counter, "table.list").contains("13"));
    browser.screenshot(&counter, "shop-goods");

    // Five wrong PINs in a row lock the card; the committee unlocks it at the desk by its
    // serial.
    let redeem = |key: &str, pin: &str| {
        app.post_with_key(
            &format!("/api/v1/shops/{}/redemptions", s.id),
            &s.keeper,
            key,
            serde_json::json!({"card_token": token, "pin": pin, "lines": [{"goods_id": s.rice, "quantity": 1}]}),
        )
    };
    for i in 0..5 {
        let wrong = redeem(&format!("wrong-{i}"), "0000");
        assert!(
            ["pin_incorrect", "card_locked"].contains(&wrong.code()),
            "{}",
            wrong.text
        );
    }
    assert_eq!(redeem("locked", "2468").code(), "card_locked");
    let committee = desk(&mut browser);
    staff_sign_in(
        &mut browser,
        &committee,
        &app,
        "/admin/households",
        "qingle-committee",
    );
    fill(
        &mut browser,
        &committee,
        "#unlock input[name=serial]",
        card.body["serial"].as_str().unwrap(),
    );
    browser.tap(&committee, "#unlock button");
    browser.wait_for(&committee, "document.querySelector('#unlock .message.ok')");
    assert_eq!(redeem("unlocked", "2468").status, 201);
}

#[test]
fn the_committee_changes_the_village_rules_at_the_desk() {
    let app = TestApp::start();
    let w = app.world();
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let tab = desk(&mut browser);
    staff_sign_in(
        &mut browser,
        &tab,
        &app,
        "/admin/settings",
        "qingle-committee",
    );
    fill(&mut browser, &tab, "input[name='policy.notice_days']", "3");
    fill(
        &mut browser,
        &tab,
        "input[name='policy.yuan_per_point']",
        "0.50",
    );
    browser.tap(&tab, "input[name='policy.allow_self_report']");
    // The collective pays 70 %, the township's subsidy 30 %.
    fill(
        &mut browser,
        &tab,
        "input[name='policy.funding.0.percent']",
        "70",
    );
    fill(
        &mut browser,
        &tab,
        "input[name='policy.funding.1.percent']",
        "30",
    );
    browser.after_navigation(&tab, |b| b.tap(&tab, "form button[type=submit]"));
    assert!(browser.text(&tab, "main").contains("已保存"));
    let village = app.get(
        &format!("/api/v1/villages/{}", w.qingle),
        Some(&w.committee),
    );
    let policy = &village.body["policy"];
    assert_eq!(
        policy["funding"],
        serde_json::json!([{"source": "collective", "percent": 70},
                           {"source": "fiscal", "percent": 30}]),
        "{policy}"
    );
    assert_eq!(
        (
            &policy["notice_days"],
            &policy["yuan_per_point"],
            &policy["allow_self_report"]
        ),
        (
            &serde_json::json!(3),
            &serde_json::json!("0.50"),
            &serde_json::json!(false)
        ),
        "{policy}"
    );
    // A rule out of range is refused in words, and nothing changes.
    fill(
        &mut browser,
        &tab,
        "input[name='policy.code_ttl_seconds']",
        "5",
    );
    browser.eval(&tab, "document.querySelector('form').noValidate = true");
    browser.tap(&tab, "form button[type=submit]");
    browser.wait_for(&tab, "document.querySelector('form .message.error')");
    let said = browser.text(&tab, "form .message.error");
    assert!(said.contains("15") && said.contains("600"), "{said}");
    let village = app.get(
        &format!("/api/v1/villages/{}", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(village.body["policy"]["code_ttl_seconds"], 60);
}

/// WeChat's JS bridge as the WeChat browser provides it: it records what the page asked and
/// "scans" whatever the test holds in front of the camera (`window.__camera`).
const WECHAT_BRIDGE: &str = r#"
window.WeixinJSBridge = { invoke: function (name, args, done) {
  if (name === "preVerifyJSAPI") { window.__verify = args; setTimeout(function () { done({ err_msg: "preVerifyJSAPI:ok" }); }, 0); return; }
  if (name === "scanQRCode") { window.__scanArgs = args; setTimeout(function () { done({ err_msg: "scanQRCode:ok", resultStr: window.__camera }); }, 0); return; }
  done({ err_msg: name + ":fail" });
} };
"#;

#[test]
fn inside_wechat_the_counter_scans_with_wechats_own_scanner() {
    use sha1::{Digest, Sha1};
    let (app, _wechat) = start_with_wechat();
    let s = shop_world(&app, "100");
    let villager = app.villager(&s.w.committee, s.w.households[0]);
    let code = app.post(
        &format!("/api/v1/households/{}/payment-codes", s.w.households[0]),
        Some(&villager),
        serde_json::json!({}),
    );
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let counter = phone(&mut browser);
    browser.call(
        &counter,
        "Page.addScriptToEvaluateOnNewDocument",
        serde_json::json!({"source": WECHAT_BRIDGE}),
    );
    staff_sign_in(&mut browser, &counter, &app, "/shop/", "qingle-shop");
    browser.eval(
        &counter,
        &format!("window.__camera = {}", code.body["code"]),
    );
    browser.tap(&counter, "#wx-scan");
    browser.wait_for(&counter, "!document.getElementById('household').hidden");
    assert!(browser.text(&counter, "#household").contains("张*明"));
    browser.screenshot(&counter, "shop-wechat-scan");

    // The page proved itself with a signature over WeChat's ticket and its own address.
    let verify = browser.eval(&counter, "window.__verify");
    let url = browser.eval(&counter, "location.href.split('#')[0]");
    let plain = format!(
        "jsapi_ticket={}&noncestr={}&timestamp={}&url={}",
        crate::wechat_standin::JSAPI_TICKET,
        verify["verifyNonceStr"].as_str().unwrap(),
        verify["verifyTimestamp"].as_str().unwrap(),
        url.as_str().unwrap()
    );
    assert_eq!(
        verify["verifySignature"].as_str().unwrap(),
        hex::encode(Sha1::digest(plain.as_bytes()))
    );
    assert_eq!(verify["appId"], crate::wechat_standin::APPID);
    assert_eq!(verify["verifyJsApiList"], serde_json::json!(["scanQRCode"]));
    let asked = browser.eval(&counter, "window.__scanArgs");
    assert_eq!(asked["needResult"], 1, "the scan comes back to the page");
}

/// Signs a villager in on a phone with the committee's invite code (no WeChat here).
fn villager_sign_in(
    browser: &mut Browser,
    tab: &Tab,
    app: &TestApp,
    committee: &str,
    household: i64,
) {
    let invite = app.invite(committee, household);
    browser.open(tab, &app.url("/h5/login"));
    browser.tap(tab, "#invite_code");
    browser.type_keys(tab, &invite);
    browser.after_navigation(tab, |b| b.tap(tab, "button[type=submit]"));
}

#[test]
fn a_villager_sees_stars_and_the_expiry_warning_and_the_board_the_committee_makes_public() {
    let app = TestApp::start();
    let w = crate::ledger::ledger_world(&app);
    let good = crate::ledger::add_item(&app, &w, "A01", "60");
    for (key, households) in [
        ("a1", vec![w.households[0]]),
        ("a2", vec![w.households[0], w.households[1]]),
    ] {
        let body = serde_json::json!({"item_id": good, "household_ids": households, "occurred_on": "2026-11-27"});
        assert_eq!(crate::ledger::award(&app, &w, key, body).status, 201);
    }
    crate::honour::policy(
        &app,
        &w,
        serde_json::json!({"expiry": {"kind": "annual", "month": 12, "day": 1}}),
    );
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let villager = phone(&mut browser);
    villager_sign_in(&mut browser, &villager, &app, &w.committee, w.households[0]);
    let stars = browser.text(&villager, "[data-testid=stars]");
    for words in ["★★★☆☆☆☆☆☆☆", "三星级文明户", "再得 30 荣誉分就升一星"]
    {
        assert!(stars.contains(words), "{words}: {stars}");
    }
    let warning = browser.text(&villager, "[data-testid=expiry-warning]");
    assert!(
        warning.contains("120 分将于 2026年12月1日 清零"),
        "{warning}"
    );
    assert_eq!(
        browser.eval(
            &villager,
            "!!document.querySelector(\"a[href='/h5/honour/qingle']\")"
        ),
        Value::Bool(false)
    );
    assert_elder_first(&mut browser, &villager, "/h5/");
    browser.screenshot(&villager, "honour-h5-home-stars-expiry");

    // The committee switches the board on at the desk.
    let tab = desk(&mut browser);
    staff_sign_in(
        &mut browser,
        &tab,
        &app,
        "/admin/settings",
        "qingle-committee",
    );
    // Eleven levels are one too many: refused in words, nothing saved.
    fill(
        &mut browser,
        &tab,
        "input[name='policy.star_thresholds']",
        "1、2、3、4、5、6、7、8、9、10、11",
    );
    browser.tap(&tab, "form button[type=submit]");
    browser.wait_for(&tab, "document.querySelector('form .message.error')");
    assert!(
        browser
            .text(&tab, "form .message.error")
            .contains("1 到 10 级")
    );
    fill(
        &mut browser,
        &tab,
        "input[name='policy.star_thresholds']",
        "10、30、60",
    );
    browser.tap(&tab, "input[name='policy.public_rankings']");
    browser.after_navigation(&tab, |b| b.tap(&tab, "form button[type=submit]"));
    assert!(browser.text(&tab, "main").contains("已保存"));
    let village = app.get(
        &format!("/api/v1/villages/{}", w.qingle),
        Some(&w.committee),
    );
    assert_eq!(
        village.body["policy"]["star_thresholds"],
        serde_json::json!(["10.00", "30.00", "60.00"])
    );
    assert_eq!(village.body["policy"]["public_rankings"], true);
    let forecast = browser.text(&tab, "[data-testid=expiry-forecast]");
    assert!(
        forecast.contains("2026年12月1日") && forecast.contains("2 户共 180 分"),
        "{forecast}"
    );
    browser.screenshot(&tab, "honour-desk-settings");

    // The villager's home now leads to the board, readable at phone size.
    browser.open(&villager, &app.url("/h5/"));
    browser.after_navigation(&villager, |b| {
        b.tap(&villager, "a[href='/h5/honour/qingle']")
    });
    let red = browser.text(&villager, "[data-testid=red]");
    assert!(
        red.contains("第1名") && red.contains("1号 张*明家") && red.contains("+120 分"),
        "{red}"
    );
    let starred = browser.text(&villager, "[data-testid=star-households]");
    assert!(
        starred.contains("三星级文明户") && starred.contains("★★★") && !starred.contains("☆"),
        "{starred}"
    );
    assert_elder_first(&mut browser, &villager, "/h5/honour/qingle");
    browser.screenshot(&villager, "honour-board-phone");
}

/// The QR codes a screenshot shows, read as a phone's camera would.
fn read_qr_codes(png: &std::path::Path) -> Vec<String> {
    let image = image::open(png).expect("screenshot").into_luma8();
    let (w, h) = (image.width() as usize, image.height() as usize);
    // Black or white, as printed: rqrr's own threshold sometimes loses a module to the
    // grey of an anti-aliased edge.
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        if image.get_pixel(x as u32, y as u32).0[0] < 128 {
            0
        } else {
            255
        }
    });
    prepared
        .detect_grids()
        .iter()
        .filter_map(|g| g.decode().ok().map(|(_, text)| text))
        .collect()
}

#[test]
fn the_desk_prints_door_plates_and_certificates_and_a_plate_opens_from_its_qr() {
    let app = TestApp::start();
    let w = crate::ledger::ledger_world(&app);
    let good = crate::ledger::add_item(&app, &w, "A01", "60");
    let body = serde_json::json!({"item_id": good, "household_ids": [w.households[2]], "occurred_on": "2026-11-27"});
    assert_eq!(crate::ledger::award(&app, &w, "a1", body).status, 201);
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let tab = desk(&mut browser);
    staff_sign_in(
        &mut browser,
        &tab,
        &app,
        "/admin/honour",
        "qingle-committee",
    );
    assert_eq!(browser.text(&tab, "[data-testid=plated]"), "0");
    browser.after_navigation(&tab, |b| b.tap(&tab, "#plates button[type=submit]"));
    assert_eq!(browser.text(&tab, "[data-testid=plated]"), "3");
    assert!(browser.text(&tab, "main").contains("二星级文明户"));
    browser.screenshot(&tab, "honour-desk");

    browser.open(
        &tab,
        &app.url(&format!("/admin/plates/sheet?village={}", w.qingle)),
    );
    let sheet = browser.screenshot(&tab, "door-plates-sheet");
    let mut urls = read_qr_codes(&sheet);
    urls.sort();
    assert_eq!(urls.len(), 3, "three plates, each readable: {urls:?}");
    // The codes point at `public_url`; this test server has none and listens on a port
    // of its own choosing, so the path is opened on it.
    let urls: Vec<String> = urls
        .iter()
        .map(|u| {
            let path = &u[u
                .find("/p/")
                .unwrap_or_else(|| panic!("a plate address: {u}"))..];
            app.url(path)
        })
        .collect();

    browser.open(
        &tab,
        &app.url(&format!("/admin/certificates?village={}", w.qingle)),
    );
    let certificate = browser.text(&tab, "article.certificate");
    assert!(
        certificate.contains("8号 黄炳坤") && certificate.contains("二星级文明户"),
        "{certificate}"
    );
    browser.screenshot(&tab, "honour-certificate");

    // A neighbour without WeChat scans the plate on 8号's door with a plain phone browser.
    let visitor = browser.tab(360, 740, true, "Mozilla/5.0 (Linux; Android 9; Redmi 7A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/96.0 Mobile Safari/537.36");
    let mut doors = Vec::new();
    for url in &urls {
        browser.open(&visitor, url);
        let page = browser.text(&visitor, "main");
        assert!(
            !page.contains("分可用") && !page.contains("13800138000"),
            "{page}"
        );
        if page.contains("8号") {
            assert!(
                page.contains("黄*坤家")
                    && page.contains("二星级文明户")
                    && page.contains("事项A01"),
                "{page}"
            );
            assert_elder_first(&mut browser, &visitor, "/p/{token}");
            browser.screenshot(&visitor, "door-plate-phone");
        }
        doors.push(page.lines().next().unwrap_or_default().to_owned());
    }
    doors.sort();
    assert_eq!(
        doors,
        ["1号", "2号", "8号"],
        "each plate opens its own household"
    );
}

#[test]
fn the_township_reads_its_figures_at_the_desk_and_a_committee_its_own() {
    let app = TestApp::start();
    let s = shop_world(&app, "100");
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let tab = desk(&mut browser);
    staff_sign_in(&mut browser, &tab, &app, "/admin/township", "admin");
    // The township's desk is headed with the township, not its first village.
    let header = browser.text(&tab, "header");
    assert!(
        header.contains("XX镇") && !header.contains("庆乐村"),
        "{header}"
    );
    let table = browser.text(&tab, "[data-testid=dashboard]");
    for words in ["庆乐村", "联桂村", "合计", "67%", "200"] {
        assert!(table.contains(words), "{words} not in {table}");
    }
    assert_eq!(
        browser.eval(&tab, "document.querySelectorAll('svg.chart').length"),
        3
    );
    let charts = browser.text(&tab, "main");
    assert!(charts.contains("发放积分") && charts.contains("兑换积分"));
    // The township's own figures have no village to pick.
    assert_eq!(
        browser.eval(&tab, "document.querySelectorAll('.village-pick').length"),
        0
    );
    browser.screenshot(&tab, "township-dashboard");
    // The download link names the period asked for.
    let href = browser.eval(
        &tab,
        "document.querySelector('a[href*=\"dashboard/export\"]').getAttribute('href')",
    );
    assert!(
        href.as_str()
            .unwrap()
            .starts_with("/api/v1/township/dashboard/export?"),
        "{href}"
    );

    let committee = desk(&mut browser);
    staff_sign_in(
        &mut browser,
        &committee,
        &app,
        &format!("/admin/township?village={}", s.w.qingle),
        "qingle-committee",
    );
    // A committee reads its own village, a row for each group.
    let own = browser.text(&committee, "[data-testid=dashboard]");
    assert!(!own.contains("联桂村"), "{own}");
    let rows: Vec<&str> = own.lines().collect();
    assert!(rows[0].starts_with("村民小组"), "{own}");
    assert!(rows[1].starts_with("第一村民小组\t2\t2\t100%"), "{own}");
    assert!(rows[2].starts_with("第二村民小组\t1\t0\t0%"), "{own}");
    assert!(rows[3].starts_with("合计\t3\t2\t67%"), "{own}");
    assert!(
        browser
            .text(&committee, "h1")
            .contains("庆乐村各组积分统计")
    );
    browser.screenshot(&committee, "village-statistics-by-group");

    // The township opens a village from its row and sees the same groups.
    browser.after_navigation(&tab, |b| b.tap(&tab, "[data-testid=dashboard] tbody a"));
    let opened = browser.text(&tab, "[data-testid=dashboard]");
    assert!(
        opened.contains("第一村民小组") && opened.contains("第二村民小组"),
        "{opened}"
    );
    let export = browser.eval(
        &tab,
        "document.querySelector('a[href*=\"dashboard/export\"]').getAttribute('href')",
    );
    assert!(
        export
            .as_str()
            .unwrap()
            .contains(&format!("village_id={}", s.w.qingle)),
        "{export}"
    );
}

/// Picks the option of a `<select>` whose words contain `words`, as a person would.
fn choose(browser: &mut Browser, tab: &Tab, select: &str, words: &str) {
    let (select, words) = (
        serde_json::to_string(select).unwrap(),
        serde_json::to_string(words).unwrap(),
    );
    let picked = browser.eval(
        tab,
        &format!(
            "(() => {{ const s = document.querySelector({select});
                const o = [...s.options].find(o => o.text.includes({words}));
                if (!o) return false; s.value = o.value; return true; }})()"
        ),
    );
    assert_eq!(picked, true, "no option {words} in {select}");
}

#[test]
fn the_township_opens_a_village_serves_it_from_a_shop_and_gives_it_staff_at_the_desk() {
    let app = TestApp::start();
    let s = shop_world(&app, "100");
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let tab = desk(&mut browser);
    staff_sign_in(&mut browser, &tab, &app, "/admin/villages", "admin");

    // A new village.
    fill(
        &mut browser,
        &tab,
        "#new-village input[name=name]",
        "新华村",
    );
    fill(
        &mut browser,
        &tab,
        "#new-village input[name=code]",
        "xinhua",
    );
    browser.after_navigation(&tab, |b| b.tap(&tab, "#new-village button"));
    let villages = browser.text(&tab, "#villages");
    assert!(
        villages.contains("新华村") && villages.contains("xinhua"),
        "{villages}"
    );
    browser.screenshot(&tab, "township-villages");

    // The shop of 庆乐村 serves 联桂村 too, and its keeper gets a new password.
    browser.open(&tab, &app.url("/admin/shops"));
    let shop = format!("article[data-shop='{}']", s.id);
    browser.tap(&tab, &format!("{shop} input[value='{}']", s.w.liangui));
    browser.after_navigation(&tab, |b| b.tap(&tab, &format!("{shop} .shop-edit button")));
    let served = browser.text(&tab, &shop);
    assert!(served.contains("服务：庆乐村、联桂村"), "{served}");
    fill(
        &mut browser,
        &tab,
        &format!("{shop} .keeper input[name=password]"),
        "keeper-new-2026",
    );
    browser.tap(&tab, &format!("{shop} .keeper button"));
    browser.wait_for(
        &tab,
        &format!("document.querySelector(\"{shop} .keeper .message.ok\")"),
    );
    assert!(
        browser
            .text(&tab, &format!("{shop} .keeper"))
            .contains("已设好新密码")
    );
    assert_eq!(app.login("qingle-shop", "keeper-new-2026").status, 200);
    browser.screenshot(&tab, "township-shops");

    // A committee member for the new village, then a second role, then disabled.
    browser.open(&tab, &app.url("/admin/staff"));
    fill(&mut browser, &tab, "#new-staff input[name=name]", "李新华");
    fill(
        &mut browser,
        &tab,
        "#new-staff input[name=username]",
        "xinhua-li",
    );
    fill(
        &mut browser,
        &tab,
        "#new-staff input[name=password]",
        "xinhua-2026",
    );
    choose(&mut browser, &tab, "#new-staff select", "村委 · 新华村");
    browser.after_navigation(&tab, |b| b.tap(&tab, "#new-staff button"));
    assert!(browser.text(&tab, "#roles").contains("村委（新华村）"));
    choose(&mut browser, &tab, "#add-role select", "监督委员 · 联桂村");
    browser.after_navigation(&tab, |b| b.tap(&tab, "#add-role button"));
    let roles = browser.text(&tab, "#roles");
    assert!(
        roles.contains("村委（新华村）") && roles.contains("监督委员（联桂村）"),
        "{roles}"
    );
    browser.screenshot(&tab, "township-staff-member");
    agree_to_confirmations(&mut browser, &tab);
    browser.after_navigation(&tab, |b| b.tap(&tab, "#disable button"));
    assert!(browser.text(&tab, "h1").contains("已停用"));
    assert_eq!(app.login("xinhua-li", "xinhua-2026").status, 401);
    browser.open(&tab, &app.url("/admin/staff"));
    let listed = browser.text(&tab, "#staff");
    assert!(
        listed.contains("李新华") && listed.contains("已停用"),
        "{listed}"
    );
    browser.screenshot(&tab, "township-staff");
}

#[test]
fn a_committee_prints_a_households_statement_and_a_bank_checks_it_from_the_qr() {
    let app = TestApp::start();
    let w = crate::ledger::ledger_world(&app);
    let good = crate::ledger::add_item(&app, &w, "A01", "60");
    let body = serde_json::json!({"item_id": good, "household_ids": [w.households[0]], "occurred_on": "2026-11-27"});
    assert_eq!(crate::ledger::award(&app, &w, "a1", body).status, 201);
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let tab = desk(&mut browser);
    staff_sign_in(
        &mut browser,
        &tab,
        &app,
        &format!("/admin/households/{}", w.households[0]),
        "qingle-committee",
    );
    browser.after_navigation(&tab, |b| {
        b.tap(&tab, "form[data-api$='/statements'] button[type=submit]")
    });
    let sheet = browser.text(&tab, "article.household-statement");
    assert!(
        sheet.contains("农户积分证明")
            && sheet.contains("张小明")
            && sheet.contains("60 分")
            && sheet.contains("事项A01")
            && sheet.contains("申请积分贷"),
        "{sheet}"
    );
    let printed = browser.screenshot(&tab, "household-statement-print");
    let urls = read_qr_codes(&printed);
    assert_eq!(urls.len(), 1, "one readable QR: {urls:?}");
    let path = &urls[0][urls[0].find("/v/").expect("a check address")..];

    // The bank clerk scans it with a plain phone browser.
    let clerk = browser.tab(360, 740, true, "Mozilla/5.0 (Linux; Android 12) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/110.0 Mobile Safari/537.36");
    browser.open(&clerk, &app.url(path));
    let verdict = browser.text(&clerk, "[data-testid=verdict]");
    assert!(verdict.contains("真实证明"), "{verdict}");
    assert!(browser.text(&clerk, "main").contains("张小明"));
    assert!(browser.text(&clerk, "[data-testid=chain]").contains("仍在"));
    browser.screenshot(&clerk, "household-statement-check-phone");
}

#[test]
fn an_invite_slips_qr_opens_the_sign_in_with_the_code_filled_in() {
    let app = TestApp::start();
    // Household 0 holds 100 points: its home shows them once signed in.
    let _world = shop_world(&app, "100");
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let tab = desk(&mut browser);
    staff_sign_in(
        &mut browser,
        &tab,
        &app,
        "/admin/households",
        "qingle-committee",
    );
    // The slips open in a new tab at the desk; here, in the same one.
    browser.eval(&tab, "document.getElementById('register').target = ''");
    browser.tap(&tab, "input[name=household_ids]");
    browser.after_navigation(&tab, |b| b.tap(&tab, "#register button[type=submit]"));
    assert!(browser.text(&tab, "body").contains("返回农户名册"));
    let sheet = browser.screenshot(&tab, "invite-slips");
    let urls = read_qr_codes(&sheet);
    assert_eq!(urls.len(), 1, "one slip, its QR readable: {urls:?}");
    // Without `public_url`, the address the desk reached the server at, not its listen one.
    assert!(
        urls[0].starts_with(&app.url("/h5/login?invite_code=")),
        "{urls:?}"
    );

    // The villager scans it with the phone and taps 登录: nothing to type.
    let villager = phone(&mut browser);
    browser.open(&villager, &urls[0]);
    browser.after_navigation(&villager, |b| b.tap(&villager, "button[type=submit]"));
    assert!(
        browser
            .text(&villager, "[data-testid=points]")
            .starts_with("100 "),
        "{}",
        browser.text(&villager, "main")
    );
}

#[test]
fn a_signed_out_villager_scans_the_household_card_and_types_its_pin() {
    let app = TestApp::start();
    let s = shop_world(&app, "100");
    let card = app.post(
        &format!("/api/v1/households/{}/cards", s.w.households[0]),
        Some(&s.w.committee),
        serde_json::json!({"pin": "2468"}),
    );
    assert_eq!(card.status, 201, "{}", card.text);
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let villager = phone(&mut browser);
    // WeChat's scanner opens what the card's QR holds.
    browser.open(&villager, card.body["sign_in_url"].as_str().unwrap());
    assert!(browser.text(&villager, "h1").contains("户卡登录"));
    assert_elder_first(&mut browser, &villager, "/h5/login?card=");
    browser.screenshot(&villager, "h5-card-sign-in");
    browser.tap(&villager, "#pin");
    browser.type_keys(&villager, "1357");
    browser.after_navigation(&villager, |b| b.tap(&villager, "button[type=submit]"));
    assert!(
        browser.text(&villager, "[role=alert]").contains("密码不对"),
        "the PIN form again, saying what was wrong"
    );
    browser.tap(&villager, "#pin");
    browser.type_keys(&villager, "2468");
    browser.after_navigation(&villager, |b| b.tap(&villager, "button[type=submit]"));
    assert!(
        browser
            .text(&villager, "[data-testid=points]")
            .starts_with("100 ")
    );

    // Without the QR, the plain sign-in page takes the card's digits.
    let other = phone(&mut browser);
    browser.open(&other, &app.url("/h5/login"));
    browser.tap(&other, "#card-login summary");
    browser.screenshot(&other, "h5-sign-in-choices");
    browser.tap(&other, "#card");
    browser.type_keys(&other, card.body["card_token"].as_str().unwrap());
    browser.tap(&other, "#card-pin");
    browser.type_keys(&other, "2468");
    browser.after_navigation(&other, |b| b.tap(&other, "#card-login button[type=submit]"));
    assert!(
        browser
            .text(&other, "[data-testid=points]")
            .starts_with("100 ")
    );
}

#[test]
fn a_queue_at_the_counter_scans_goods_barcodes_confirms_with_enter_and_voids_in_the_page() {
    let app = TestApp::start();
    let s = shop_world(&app, "100");
    let tagged = app.patch(
        &format!("/api/v1/goods/{}", s.oil),
        Some(&s.keeper),
        serde_json::json!({"barcode": "6901234567892"}),
    );
    assert_eq!(tagged.status, 200, "{}", tagged.text);
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let villager = phone(&mut browser);
    villager_sign_in(
        &mut browser,
        &villager,
        &app,
        &s.w.committee,
        s.w.households[0],
    );
    browser.after_navigation(&villager, |b| b.tap(&villager, "a[href='/h5/code']"));
    let digits: String = browser
        .text(&villager, ".digits")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();

    let counter = browser.tab(1366, 768, false, DESK_UA);
    staff_sign_in(&mut browser, &counter, &app, "/shop/", "qingle-shop");
    browser.wait_for(&counter, "document.activeElement.id === 'scan'");
    browser.type_keys(&counter, &digits);
    browser.press_enter(&counter);
    browser.wait_for(&counter, "!document.getElementById('household').hidden");
    // The gun reads the bottle's EAN-13: one oil in the cart; an unknown one is said.
    browser.type_keys(&counter, "6901234567892");
    browser.press_enter(&counter);
    assert!(browser.text(&counter, "#cart-lines").contains("食用油 × 1"));
    browser.type_keys(&counter, "6900000000000");
    browser.press_enter(&counter);
    assert!(
        browser
            .text(&counter, "#status")
            .contains("本店没有条码为 6900000000000")
    );
    browser.tap(&counter, ".tile[data-name='大米']");
    browser.tap(&counter, ".tile[data-name='大米']");
    assert_eq!(
        browser.eval(
            &counter,
            "document.getElementById('confirm').getBoundingClientRect().bottom <= window.innerHeight"
        ),
        Value::Bool(true),
        "the confirm button is on screen with two cart lines"
    );
    browser.screenshot(&counter, "shop-cart-1366");
    // Enter on the empty scan field confirms.
    browser.wait_for(&counter, "document.activeElement.id === 'scan'");
    browser.press_enter(&counter);
    browser.wait_for(&counter, "!document.getElementById('receipt').hidden");
    assert_eq!(browser.text(&counter, "#r-total"), "50");
    browser.wait_for(&villager, "!document.getElementById('done').hidden");

    // Wrong goods handed over: the shop voids it in the page, which says it is done, and
    // the villager's phone says the points are back.
    browser.tap(&counter, "#r-void");
    browser.wait_for(&counter, "!document.getElementById('void-dialog').hidden");
    browser.screenshot(&counter, "shop-void-ask");
    browser.tap(&counter, "#void-form button[type=submit]");
    browser.wait_for(
        &counter,
        "document.getElementById('status').innerText.includes('已撤销')",
    );
    assert!(browser.text(&counter, "#status").contains("50 分已退回"));
    browser.wait_for(
        &villager,
        "document.getElementById('done-title').innerText.includes('已作废')",
    );
    assert!(browser.text(&villager, "#receipt").contains("拿错了商品"));
    browser.screenshot(&villager, "h5-code-voided");
}

#[test]
fn the_committee_approves_a_batch_and_keeps_the_rejected_in_their_own_tab() {
    let app = TestApp::start();
    let w = app.world();
    let item = crate::pages::villager_item(&app, &w, true);
    let villager = app.villager(&w.committee, w.households[0]);
    let claim = |on: &str| {
        let resp = app.post(
            &format!("/api/v1/villages/{}/claims", w.qingle),
            Some(&villager),
            serde_json::json!({"household_id": w.households[0], "item_id": item, "occurred_on": on}),
        );
        assert_eq!(resp.status, 201, "{}", resp.text);
        resp.id()
    };
    // Claims sent through the API come without their photo; two get theirs.
    let (first, second, third) = (
        claim("2026-11-27"),
        claim("2026-11-26"),
        claim("2026-10-20"),
    );
    let bare = claim("2026-10-21");
    for id in [first, second] {
        let photo = app.upload(
            &format!("/api/v1/claims/{id}/evidence"),
            Some(&villager),
            "p.png",
            crate::claims::png(100),
        );
        assert_eq!(photo.status, 201, "{}", photo.text);
    }
    let rejected = app.post(
        &format!("/api/v1/claims/{third}/reject"),
        Some(&w.committee),
        serde_json::json!({"reason": "照片看不清"}),
    );
    assert_eq!(rejected.status, 200, "{}", rejected.text);

    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let desk = browser.tab(1366, 768, false, DESK_UA);
    staff_sign_in(
        &mut browser,
        &desk,
        &app,
        "/admin/claims",
        "qingle-committee",
    );
    let queue = browser.text(&desk, "#submitted");
    assert_eq!(
        queue.matches("要附照片，但没有照片").count(),
        1,
        "the review flags the missing photo: {queue}"
    );
    assert!(
        browser
            .text(&desk, "#rejected")
            .contains("原因：照片看不清")
    );
    browser.tap(&desk, "#pick-all-claims");
    browser.tap(&desk, "#approve-picked");
    browser.wait_for(
        &desk,
        "document.getElementById('batch-message').innerText.includes('已通过 2 条')",
    );
    assert_eq!(
        browser.eval(
            &desk,
            "document.querySelectorAll('#submitted article').length"
        ),
        Value::from(1),
        "the one without its photo waits"
    );
    let waiting = app.get(&format!("/api/v1/claims/{bare}"), Some(&w.committee));
    assert_eq!(waiting.body["status"], "submitted");
    browser.screenshot(&desk, "desk-batch-approved");
    for id in [first, second] {
        let claim = app.get(&format!("/api/v1/claims/{id}"), Some(&w.committee));
        assert_eq!(claim.body["status"], "in_notice", "{}", claim.text);
    }
}

#[test]
fn a_villager_checks_in_at_the_meeting_from_the_events_qr_on_a_phone() {
    let app = TestApp::start();
    let w = app.world();
    let item = app.post(
        &format!("/api/v1/villages/{}/checklist", w.qingle),
        Some(&w.committee),
        serde_json::json!({"code": "G01", "category": "村民自治", "title": "参加村民议事会", "points": "2",
               "period": "month", "cap_count": 1, "proposers": ["committee"]}),
    );
    let starts = app.clock_now() - chrono::Duration::minutes(5);
    let meeting = app.post(
        &format!("/api/v1/villages/{}/events", w.qingle),
        Some(&w.committee),
        serde_json::json!({"title": "11月村民议事会", "item_id": item.id(), "place": "村委会议室",
               "starts_at": starts, "ends_at": starts + chrono::Duration::hours(2)}),
    );
    assert_eq!(meeting.status, 201, "{}", meeting.text);
    let Some(mut browser) = Browser::launch() else {
        return;
    };
    let tab = phone(&mut browser);
    villager_sign_in(&mut browser, &tab, &app, &w.committee, w.households[0]);
    let path = format!("/h5/events/{}", meeting.id());
    browser.open(&tab, &app.url(&path));
    assert!(browser.text(&tab, "main").contains("11月村民议事会"));
    assert_elder_first(&mut browser, &tab, &path);
    browser.screenshot(&tab, "h5-event");
    browser.after_navigation(&tab, |b| b.tap(&tab, "form[action$='/checkin'] button"));
    let said = browser.text(&tab, "main");
    assert!(
        said.contains("签到成功") && said.contains("已有 1 户签到"),
        "{said}"
    );
    browser.screenshot(&tab, "h5-event-checked-in");
}
