use chrono::Duration;
use serde_json::json;

use crate::support::{PASSWORD, TestApp};

#[test]
fn staff_sign_in_and_me() {
    let app = TestApp::start();
    let w = app.world();
    let resp = app.login("qingle-committee", PASSWORD);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body["token_type"], "Bearer");
    assert_eq!(resp.body["expires_in"], 900);
    assert_eq!(resp.body["user"]["roles"][0]["role"], "committee");
    assert!(
        !resp.text.contains("argon2"),
        "a password hash leaked: {}",
        resp.text
    );
    let me = app.get("/api/v1/me", Some(&w.committee));
    assert_eq!(me.status, 200);
    assert_eq!(me.body["kind"], "staff");
    assert_eq!(me.body["roles"][0]["scope"], "village");
    assert_eq!(me.body["roles"][0]["scope_id"], w.qingle);
    assert!(me.body.get("household_id").is_none());
}

#[test]
fn usernames_are_case_insensitive_and_wrong_passwords_are_401() {
    let app = TestApp::start();
    app.bootstrap();
    assert_eq!(app.login("ADMIN", PASSWORD).status, 200);
    let wrong = app.login("admin", "not-the-password");
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.code(), "unauthenticated");
    assert_eq!(
        wrong.header("content-type"),
        Some("application/problem+json")
    );
    let nobody = app.login("nobody", PASSWORD);
    assert_eq!(
        (nobody.status, nobody.body["detail"].clone()),
        (401, wrong.body["detail"].clone())
    );
}

#[test]
fn missing_bad_or_expired_tokens_are_401() {
    let app = TestApp::start();
    let token = app.bootstrap();
    assert_eq!(app.get("/api/v1/me", None).status, 401);
    assert_eq!(app.get("/api/v1/me", Some("not-a-jwt")).status, 401);
    let mut forged = token.clone();
    forged.pop();
    assert_eq!(app.get("/api/v1/me", Some(&forged)).status, 401);
    assert_eq!(app.get("/api/v1/me", Some(&token)).status, 200);
    app.advance(Duration::minutes(15));
    let expired = app.get("/api/v1/me", Some(&token));
    assert_eq!((expired.status, expired.code()), (401, "unauthenticated"));
}

#[test]
fn refresh_rotates_and_a_reused_token_revokes_the_family() {
    let app = TestApp::start();
    app.bootstrap();
    let first = app.login("admin", PASSWORD);
    let old = first.body["refresh_token"].as_str().unwrap().to_owned();
    let second = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": old}));
    assert_eq!(second.status, 200, "{}", second.text);
    let new = second.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    let access = second.body["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/me", Some(access)).status, 200);

    // The old one stops working, and presenting it again revokes the new one too.
    let replay = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": old}));
    assert_eq!(replay.status, 401);
    let after = app.post("/api/v1/auth/refresh", None, json!({"refresh_token": new}));
    assert_eq!(after.status, 401);
}

#[test]
fn refresh_tokens_expire() {
    let app = TestApp::start();
    app.bootstrap();
    let pair = app.login("admin", PASSWORD);
    app.advance(Duration::days(31));
    let resp = app.post(
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": pair.body["refresh_token"]}),
    );
    assert_eq!(resp.status, 401);
}

#[test]
fn logout_revokes_the_refresh_token() {
    let app = TestApp::start();
    app.bootstrap();
    let pair = app.login("admin", PASSWORD);
    let refresh = pair.body["refresh_token"].clone();
    let out = app.post(
        "/api/v1/auth/logout",
        None,
        json!({"refresh_token": refresh}),
    );
    assert_eq!(out.status, 204);
    assert_eq!(
        app.post(
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": refresh})
        )
        .status,
        401
    );
    // Logging out twice is harmless.
    assert_eq!(
        app.post(
            "/api/v1/auth/logout",
            None,
            json!({"refresh_token": refresh})
        )
        .status,
        204
    );
}

#[test]
fn repeated_wrong_passwords_are_rate_limited_until_the_window_passes() {
    let app = TestApp::start();
    app.bootstrap();
    for _ in 0..5 {
        assert_eq!(app.login("admin", "wrong-password").status, 401);
    }
    // Even the right password is refused from this address while it is locked.
    let limited = app.login("admin", PASSWORD);
    assert_eq!((limited.status, limited.code()), (429, "rate_limited"));
    assert!(limited.header("retry-after").is_some());
    app.advance(Duration::minutes(15));
    assert_eq!(app.login("admin", PASSWORD).status, 200);
}

#[test]
fn an_address_guessing_many_usernames_is_rate_limited() {
    let app = TestApp::start();
    app.bootstrap();
    for i in 0..20 {
        assert_eq!(
            app.login(&format!("guess{i}"), "wrong-password").status,
            401
        );
    }
    assert_eq!(app.login("admin", PASSWORD).status, 429);
}

fn login_from(app: &TestApp, forwarded: &str, username: &str, password: &str) -> u16 {
    app.post_with_headers(
        "/api/v1/auth/login",
        &[("x-forwarded-for", forwarded)],
        json!({"username": username, "password": password}),
    )
    .status
}

fn invite_from(app: &TestApp, forwarded: &str, code: &str) -> u16 {
    app.post_with_headers(
        "/api/v1/auth/invite",
        &[("x-forwarded-for", forwarded)],
        json!({"invite_code": code}),
    )
    .status
}

#[test]
fn behind_a_proxy_the_address_is_the_one_the_proxy_saw_and_limits_follow_it() {
    let app = TestApp::start_with(|s| s.trusted_proxies = 1);
    app.bootstrap();
    // A guesser rotating the leftmost entry is still one address to the proxy.
    for i in 0..5 {
        let spoofed = format!("10.9.{i}.1, 203.0.113.7");
        assert_eq!(login_from(&app, &spoofed, "admin", "wrong-password"), 401);
    }
    assert_eq!(
        login_from(&app, "10.9.99.1, 203.0.113.7", "admin", PASSWORD),
        429
    );
    assert_eq!(login_from(&app, "203.0.113.7", "admin", PASSWORD), 429);
    // The staff member at the township office is another address: not locked out.
    assert_eq!(login_from(&app, "198.51.100.20", "admin", PASSWORD), 200);
    // `Forwarded` is never read.
    let forwarded = app.post_with_headers(
        "/api/v1/auth/login",
        &[
            ("forwarded", "for=198.51.100.20"),
            ("x-forwarded-for", "203.0.113.7"),
        ],
        json!({"username": "admin", "password": PASSWORD}),
    );
    assert_eq!(forwarded.status, 429);
}

#[test]
fn racing_sign_ins_from_one_address_never_pass_the_limit() {
    let app = TestApp::start_with(|s| s.trusted_proxies = 1);
    app.bootstrap();
    let answers: Vec<u16> = std::thread::scope(|scope| {
        let app = &app;
        let handles: Vec<_> = (0..64)
            .map(|i| {
                scope.spawn(move || {
                    login_from(app, "203.0.113.9", &format!("guess{i}"), "wrong-password")
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let checked = answers.iter().filter(|s| **s == 401).count();
    let refused = answers.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, refused), (20, 44), "{answers:?}");
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn counters(app: &TestApp) -> i64 {
    use diesel::RunQueryDsl;
    diesel::sql_query("SELECT COUNT(*) AS n FROM sign_in_counters")
        .get_result::<Count>(&mut app.db.connect())
        .unwrap()
        .n
}

#[test]
fn stale_sign_in_counters_are_forgotten() {
    let app = TestApp::start();
    app.bootstrap();
    assert_eq!(app.login("admin", "wrong-password").status, 401);
    assert!(counters(&app) > 0);
    app.advance(Duration::days(2));
    let started = std::time::Instant::now();
    while counters(&app) > 0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "never pruned"
        );
        std::thread::park_timeout(std::time::Duration::from_millis(50));
    }
}

#[test]
fn villagers_behind_one_proxy_do_not_share_a_counter() {
    let app = TestApp::start_with(|s| s.trust_proxy = true);
    let w = app.world();
    for _ in 0..20 {
        assert_eq!(invite_from(&app, "203.0.113.50", "1234567890"), 401);
    }
    assert_eq!(invite_from(&app, "203.0.113.50", "1234567890"), 429);
    let code = app.invite(&w.committee, w.households[0]);
    assert_eq!(invite_from(&app, "203.0.113.51", &code), 200);
}

#[test]
fn wrong_invite_codes_from_many_addresses_spend_the_townships_budget() {
    let app = TestApp::start_with(|s| s.trusted_proxies = 1);
    let w = app.world();
    let regular = app.invite(&w.committee, w.households[0]);
    assert_eq!(invite_from(&app, "198.51.100.8", &regular), 200);
    for i in 0..100 {
        let status = invite_from(&app, &format!("192.0.2.{i}"), "1234567890");
        assert_eq!(status, 401, "guess {i}");
    }
    // Spent: a new address is refused even with a real code...
    let code = app.invite(&w.committee, w.households[1]);
    assert_eq!(invite_from(&app, "192.0.2.200", &code), 429);
    // ...while an address that signed in today still gets through.
    assert_eq!(invite_from(&app, "198.51.100.8", &code), 200);
    app.advance(Duration::hours(1));
    let code = app.invite(&app.token("qingle-committee"), w.households[2]);
    assert_eq!(
        invite_from(&app, "192.0.2.201", &code),
        200,
        "an hour later"
    );
}

#[test]
fn an_invite_code_signs_a_villager_in_once() {
    let app = TestApp::start();
    let w = app.world();
    let household = w.households[0];
    let code = app.invite(&w.committee, household);
    assert_eq!(code.len(), 10);
    let spaced = format!("{} {}-{}", &code[..4], &code[4..8], &code[8..]);
    let first = app.post("/api/v1/auth/invite", None, json!({"invite_code": spaced}));
    assert_eq!(first.status, 200, "{}", first.text);
    let token = first.body["access_token"].as_str().unwrap();
    let me = app.get("/api/v1/me", Some(token));
    assert_eq!(me.body["kind"], "villager");
    assert_eq!(me.body["household_id"], household);
    assert_eq!(me.body["village_id"], w.qingle);
    assert_eq!(me.body["roles"][0]["role"], "villager");

    let again = app.post("/api/v1/auth/invite", None, json!({"invite_code": code}));
    assert_eq!((again.status, again.code()), (401, "unauthenticated"));
    let malformed = app.post("/api/v1/auth/invite", None, json!({"invite_code": "12ab"}));
    assert_eq!(
        (malformed.status, malformed.fields()),
        (422, vec!["invite_code".to_owned()])
    );
}

#[test]
fn a_new_invite_ends_the_old_and_invites_expire() {
    let app = TestApp::start();
    let w = app.world();
    let old = app.invite(&w.committee, w.households[0]);
    let new = app.invite(&w.committee, w.households[0]);
    assert_eq!(
        app.post("/api/v1/auth/invite", None, json!({"invite_code": old}))
            .status,
        401
    );
    app.advance(Duration::days(15));
    assert_eq!(
        app.post("/api/v1/auth/invite", None, json!({"invite_code": new}))
            .status,
        401
    );
}

#[test]
fn villager_refresh_keeps_the_household() {
    let app = TestApp::start();
    let w = app.world();
    let code = app.invite(&w.committee, w.households[1]);
    let pair = app.post("/api/v1/auth/invite", None, json!({"invite_code": code}));
    let next = app.post(
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": pair.body["refresh_token"]}),
    );
    assert_eq!(next.status, 200);
    assert_eq!(next.body["user"]["household_id"], w.households[1]);
}

#[test]
fn secrets_are_stored_hashed() {
    use diesel::prelude::*;
    let app = TestApp::start();
    let w = app.world();
    let code = app.invite(&w.committee, w.households[0]);
    let pair = app.login("admin", PASSWORD);
    let refresh = pair.body["refresh_token"].as_str().unwrap().to_owned();
    let mut conn = app.db.connect();
    use jifen::db::schema::{invite_codes, refresh_tokens, staff};
    let hashes: Vec<String> = invite_codes::table
        .select(invite_codes::code_hash)
        .load(&mut conn)
        .unwrap();
    assert!(hashes.iter().all(|h| !h.contains(&code)));
    let tokens: Vec<String> = refresh_tokens::table
        .select(refresh_tokens::token_hash)
        .load(&mut conn)
        .unwrap();
    assert!(tokens.iter().all(|t| t != &refresh));
    let passwords: Vec<String> = staff::table
        .select(staff::password_hash)
        .load(&mut conn)
        .unwrap();
    assert!(passwords.iter().all(|p| p.starts_with("$argon2id$")));
}
