use serde_json::json;

use crate::support::TestApp;

#[test]
fn health_and_readiness_answer() {
    let app = TestApp::start();
    let health = app.get("/healthz", None);
    assert_eq!(
        (health.status, health.body["status"].as_str()),
        (200, Some("ok"))
    );
    let ready = app.get("/readyz", None);
    assert_eq!(
        (ready.status, ready.body["status"].as_str()),
        (200, Some("ready"))
    );
    assert!(
        ready
            .header("x-request-id")
            .is_some_and(|id| id.len() == 36)
    );
}

#[test]
fn metrics_count_requests_by_route_and_status() {
    let app = TestApp::start();
    app.get("/healthz", None);
    app.get("/api/v1/households/12345", None);
    let metrics = app.get("/metrics", None);
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .text
            .contains(r#"jifen_http_requests_total{method="GET",route="/healthz",status="200"} 1"#),
        "{}",
        metrics.text
    );
    assert!(
        metrics
            .text
            .contains(r#"route="/api/v1/households/{household_id}",status="401"} 1"#),
        "{}",
        metrics.text
    );
    assert!(metrics.text.contains("jifen_db_pool_max 4"));
}

#[test]
fn unknown_routes_are_problem_json() {
    let app = TestApp::start();
    let resp = app.get("/api/v1/nothing-here", None);
    assert_eq!(resp.status, 404);
    assert_eq!(
        resp.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(resp.code(), "not_found");
}

#[test]
fn readiness_fails_when_migrations_are_missing() {
    let app = TestApp::start();
    let mut conn = app.db.connect();
    use diesel::RunQueryDsl;
    diesel::sql_query("DELETE FROM __diesel_schema_migrations")
        .execute(&mut conn)
        .expect("forget migrations");
    let ready = app.get("/readyz", None);
    assert_eq!(ready.status, 503);
    assert_eq!(
        ready.header("content-type"),
        Some("application/problem+json")
    );
}

/// The first start in a new place makes the SQLite file's folder (the demo's `data/`).
#[test]
fn a_first_start_makes_the_folder_of_its_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("not").join("yet").join("jifen.db");
    let settings = jifen::config::Settings {
        database_url: format!("sqlite://{}", database.display()),
        data_dir: dir.path().to_owned(),
        jwt_secret: Some("test-secret-test-secret-test-secret".into()),
        pepper: Some("test-pepper-test-pepper-test-pepper".into()),
        ..jifen::config::Settings::default()
    };
    let clock = std::sync::Arc::new(jifen::clock::SystemClock);
    let prepared = jifen::server::prepare(settings, clock);
    assert!(prepared.is_ok(), "{:?}", prepared.err());
    assert!(database.exists());
}

/// The value of the series `name` whose labels include every one of `labels`.
fn series(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| labels.iter().all(|label| l.contains(label)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_carry_the_schemes_own_figures() {
    let app = TestApp::start();
    let w = app.world();
    let item = app.instant_award_item(&w, "2.5");
    let award = app.post_with_key(
        &format!("/api/v1/villages/{}/awards", w.qingle),
        &w.committee,
        "metrics-award",
        json!({"item_id": item, "household_ids": [w.households[0], w.households[1]],
               "occurred_on": "2026-11-27"}),
    );
    assert_eq!(award.status, 201, "{}", award.text);
    let text = app.get("/metrics", None).text;
    let qingle = r#"village="qingle""#;
    assert_eq!(
        series(&text, "jifen_points_outstanding", &[qingle]),
        Some(5.0),
        "{text}"
    );
    assert_eq!(
        series(&text, "jifen_claims", &[qingle, r#"status="posted""#]),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        series(&text, "jifen_redemptions", &[qingle, r#"state="standing""#]),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        series(&text, "jifen_expiry_runs", &[qingle]),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        series(&text, "jifen_posting_lag_seconds", &[]),
        Some(0.0),
        "{text}"
    );
}
