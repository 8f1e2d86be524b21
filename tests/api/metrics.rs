//! `GET /metrics`: Prometheus text for admins and the configured scrape token only;
//! requests counted by route pattern (never an id), the audit appender, the pool and the
//! outbox reported.

use cla_tracker::access::Role;

use crate::helpers::{settings_for, spawn_with_settings, Backend, TestDb};
use crate::security::{call, get_as, user_with_token};

both!(metrics_answer_admins_and_the_scrape_token_only);

const SCRAPE_TOKEN: &str = "scrape-0123456789abcdef0123456789abcdef";

/// The value of the sample line that starts with `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn metrics_answer_admins_and_the_scrape_token_only(b: Backend) {
    let db = tokio::task::spawn_blocking(move || TestDb::create(b))
        .await
        .expect("create the test database");
    let mut settings = settings_for(&db.url, "2026-02-16");
    settings.metrics_token = SCRAPE_TOKEN.to_string();
    let app = spawn_with_settings(Some(db), settings).await;
    let (child, _, _) = app.child_in_care("M-1", "2014-01-01", "2026-02-02").await;
    for _ in 0..3 {
        app.child(&child).await;
    }
    let admin = user_with_token(&app, "ops@test.nhs.uk", "ICB", &[Role::Admin]).await;

    let r = call(&app, reqwest::Method::GET, "/metrics", None, &[]).await;
    assert_eq!(r.status, 401, "no credentials: {}", r.text);
    let r = get_as(&app, "not-the-scrape-token-0123456789abcdef0123", "/metrics").await;
    assert_eq!(r.status, 401, "a wrong token: {}", r.text);
    let r = app.get("/metrics").await;
    assert_eq!(r.status, 403, "a user who is not an admin: {}", r.text);

    let scraped = get_as(&app, SCRAPE_TOKEN, "/metrics").await;
    assert_eq!(scraped.status, 200, "the scrape token: {}", scraped.text);
    let r = get_as(&app, &admin, "/metrics").await;
    assert_eq!(r.status, 200, "an admin: {}", r.text);
    assert!(
        r.content_type().starts_with("text/plain; version=0.0.4"),
        "{}",
        r.content_type()
    );
    let text = r.text;

    let reads = "cla_http_requests_total{route=\"/api/v1/children/{id}\",method=\"GET\",status=\"200\"}";
    assert_eq!(
        sample(&text, reads),
        Some(3.0),
        "the three reads, by route pattern:\n{text}"
    );
    assert!(
        sample(
            &text,
            "cla_http_requests_total{route=\"/metrics\",method=\"GET\",status=\"403\"}"
        ) == Some(1.0),
        "the refused scrape is counted by its status:\n{text}"
    );
    assert!(!text.contains(&child), "no id in any label");
    let inf = "cla_http_request_duration_seconds_bucket{route=\"/api/v1/children/{id}\",le=\"+Inf\"}";
    assert_eq!(sample(&text, inf), Some(3.0), "{text}");
    assert!(
        sample(&text, "cla_audit_appender_entries_total").is_some_and(|n| n >= 3.0),
        "the reads' entries went through the appender:\n{text}"
    );
    assert_eq!(
        sample(&text, "cla_audit_appender_queue"),
        Some(0.0),
        "nothing left waiting"
    );
    assert_eq!(
        sample(&text, "cla_outbox_messages{status=\"dead\"}"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(sample(&text, "cla_db_pool_size"), Some(4.0), "the tests' pool size");
    assert!(sample(&text, "cla_db_pool_connections{state=\"in_use\"}").is_some());
    assert!(sample(&text, "cla_db_pool_waiting").is_some());
    assert!(sample(&text, "cla_escalation_sweep_last_timestamp_seconds").is_some());
}
