//! The lists people work from: GET /assessments with its filters, the weekly IHA
//! assurance list, and the one page shape every list shares.

use serde_json::Value;

use crate::helpers::{assert_problem, s, spawn_app, Backend, TestApp};

both!(
    assessment_filters_select_the_right_assessments,
    iha_assurance_list_covers_the_window_and_every_open_iha,
    rag_filter_agrees_with_the_rag_shown_as_of_a_date,
    lists_answer_the_same_once_the_rags_are_stored,
    assurance_list_pages_keep_one_order_and_one_summary,
    every_list_answers_one_page_shape_and_checks_its_paging,
    children_search_counts_every_match_across_pages,
);

const TODAY: &str = "2026-02-16";

/// The caseload both tests look at (as of Mon 16 Feb 2026).
struct Caseload {
    /// IHA open since 1 Dec 2025, long overdue: red.
    overdue: String,
    /// IHA opened Fri 13 Feb 2026: green.
    fresh: String,
    /// IHA opened 9 Feb 2026 with an out-of-area placement from the start.
    away: String,
    /// IHA completed 20 Nov 2025 (period from 3 Nov 2025), and the review it scheduled.
    done: String,
    review: String,
    /// Short breaks from 20 Jan 2026: not required.
    short_breaks: String,
}

async fn caseload(app: &TestApp) -> Caseload {
    let (_, _, overdue) = app.child_in_care("L-OVERDUE", "2014-01-01", "2025-12-01").await;
    let (_, _, fresh) = app.child_in_care("L-FRESH", "2014-01-01", "2026-02-13").await;
    let away_child = app.register("L-AWAY", "2014-01-01").await;
    let started = app
        .start_period_with(
            &s(&away_child["id"]),
            serde_json::json!({
                "started_on": "2026-02-09", "legal_status": "C2",
                "placement": {"placement_type": "U4", "out_of_area": true, "host_la": "Devon"},
            }),
        )
        .await;
    assert!(
        started["assessment"]["out_of_area_request"].is_object(),
        "an out-of-area first placement opens a request: {started}"
    );
    let away = s(&started["assessment"]["id"]);
    let (done_child, _, done) = app.child_in_care("L-DONE", "2014-01-01", "2025-11-03").await;
    app.complete_iha(&done, "2025-11-20").await;
    let page = app
        .get_ok(&format!("/assessments?child_id={done_child}&kind=RHA"))
        .await;
    let review = s(&page["items"][0]["id"]);
    let sb = app.register("L-SB", "2014-01-01").await;
    let short_breaks = s(&app.start_period(&s(&sb["id"]), "2026-01-20", "V3").await["assessment"]["id"]);
    Caseload {
        overdue,
        fresh,
        away,
        done,
        review,
        short_breaks,
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| s(&a["id"]))
        .collect()
}

#[track_caller]
fn assert_sorted_by_due(items: &[Value], due: impl Fn(&Value) -> String) {
    let dues: Vec<String> = items.iter().map(due).collect();
    let mut sorted = dues.clone();
    sorted.sort();
    assert_eq!(dues, sorted, "soonest due first");
}

async fn assessment_filters_select_the_right_assessments(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let c = caseload(&app).await;

    let all = app.get_ok("/assessments").await;
    assert_eq!(all["total"], 6, "five IHAs and one review: {all}");
    assert_sorted_by_due(all["items"].as_array().expect("items"), |a| s(&a["due_on"]));

    assert_eq!(ids(&app.get_ok("/assessments?kind=RHA").await), [c.review.as_str()]);
    let ihas = ids(&app.get_ok("/assessments?kind=IHA").await);
    assert_eq!(ihas.len(), 5);
    assert!(!ihas.contains(&c.review));

    let mut waiting = ids(&app.get_ok("/assessments?state=awaiting_notification").await);
    waiting.sort();
    let mut want = vec![c.overdue.clone(), c.fresh.clone(), c.away.clone()];
    want.sort();
    assert_eq!(waiting, want, "state filter");

    let red = app.get_ok("/assessments?rag=red").await;
    assert_eq!(ids(&red), [c.overdue.as_str()], "only the overdue IHA is red today");
    assert!(red["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|a| a["rag"] == "red"));
    let green = ids(&app.get_ok("/assessments?rag=green").await);
    assert!(green.contains(&c.fresh) && green.contains(&c.short_breaks), "{green:?}");
    assert!(!green.contains(&c.overdue));
    // On 10 Dec 2025 the overdue IHA was only amber (notification late, due date ahead).
    let then = app.get_ok("/assessments?rag=red&as_of=2025-12-10").await;
    assert!(!ids(&then).contains(&c.overdue), "not red yet on 10 Dec: {then}");
    let amber_then = ids(&app.get_ok("/assessments?rag=amber&as_of=2025-12-10").await);
    assert!(amber_then.contains(&c.overdue), "amber on 10 Dec: {amber_then:?}");
    assert!(
        amber_then.contains(&c.done),
        "completed on time with late milestones is amber: {amber_then:?}"
    );
    assert_eq!(
        amber_then.len(),
        2,
        "nothing else existed on 10 Dec but the review, which is green"
    );
    // A list as of a date only shows assessments whose clock had started by then.
    let early = ids(&app.get_ok("/assessments?as_of=2025-11-10").await);
    assert_eq!(
        early,
        [c.done.as_str()],
        "only the IHA opened on 3 Nov existed on 10 Nov"
    );

    let mut due_early = ids(&app.get_ok("/assessments?due_before=2026-02-01").await);
    due_early.sort();
    let mut want = vec![c.overdue.clone(), c.done.clone()];
    want.sort();
    assert_eq!(due_early, want, "due_before is strict and by due date");

    assert_eq!(
        ids(&app.get_ok("/assessments?out_of_area=true").await),
        [c.away.as_str()]
    );
    let in_area = ids(&app.get_ok("/assessments?out_of_area=false").await);
    assert_eq!(in_area.len(), 5);
    assert!(!in_area.contains(&c.away));

    let combined = app
        .get_ok("/assessments?kind=IHA&state=awaiting_notification&rag=red&due_before=2026-03-01")
        .await;
    assert_eq!(ids(&combined), [c.overdue.as_str()], "filters combine");

    let page = app.get_ok("/assessments?limit=2&offset=1").await;
    assert_eq!(page["total"], 6, "total counts every match, not the page");
    assert_eq!(ids(&page), ids(&all)[1..3].to_vec(), "the second and third");

    for (query, field) in [
        ("kind=XYZ", "kind"),
        ("state=asleep", "state"),
        ("rag=purple", "rag"),
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("offset=-1", "offset"),
    ] {
        let r = app.get(&format!("/assessments?{query}")).await;
        assert_problem(&r, 422, Some(field), query);
    }
    for (query, field) in [
        ("due_before=yesterday", "due_before"),
        ("as_of=garbage", "as_of"),
        ("out_of_area=maybe", "out_of_area"),
        ("limit=ten", "limit"),
    ] {
        let r = app.get(&format!("/assessments?{query}")).await;
        assert_problem(&r, 400, Some(field), query);
    }
}

async fn iha_assurance_list_covers_the_window_and_every_open_iha(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let c = caseload(&app).await;
    let assessment_ids = |list: &Value| -> Vec<String> {
        let mut v: Vec<String> = list["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| s(&i["assessment"]["id"]))
            .collect();
        v.sort();
        v
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };

    // Default 6 weeks back from 16 Feb: from 5 Jan. The short-breaks child came in on
    // 20 Jan and is listed though nothing is open; the overdue IHA is open; the IHA
    // completed in November is neither.
    let list = app.get_ok("/assurance/iha").await;
    assert_eq!(list["as_of"], TODAY);
    assert_eq!(list["weeks"], 6);
    assert_eq!(list["window_from"], "2026-01-05");
    assert_eq!(
        assessment_ids(&list),
        sorted(vec![
            c.overdue.clone(),
            c.fresh.clone(),
            c.away.clone(),
            c.short_breaks.clone()
        ])
    );
    let items = list["items"].as_array().expect("items");
    assert_sorted_by_due(items, |i| s(&i["assessment"]["due_on"]));
    assert_eq!(
        items[0]["assessment"]["id"],
        c.overdue.as_str(),
        "the overdue one first"
    );
    assert_eq!(list["summary"]["total"], 4);
    assert_eq!(list["summary"]["red"], 1);
    assert_eq!(list["summary"]["out_of_area"], 1);
    assert_eq!(list["summary"]["open"], 3);
    let away = items
        .iter()
        .find(|i| i["assessment"]["id"] == c.away.as_str())
        .expect("the out-of-area child");
    assert_eq!(away["out_of_area"], true);
    assert_eq!(away["host_la"], "Devon");
    assert_eq!(away["became_looked_after_on"], "2026-02-09");
    assert_eq!(away["legal_status"], "C2");

    // One week: from 9 Feb. The short-breaks child drops off; open IHAs stay.
    let week = app.get_ok("/assurance/iha?weeks=1").await;
    assert_eq!(
        assessment_ids(&week),
        sorted(vec![c.overdue.clone(), c.fresh.clone(), c.away.clone()])
    );
    // Twenty weeks reaches back to the completed IHA.
    let long = app.get_ok("/assurance/iha?weeks=20").await;
    assert!(assessment_ids(&long).contains(&c.done));
    // As of 15 Nov 2025 the November IHA was still open and nothing else existed.
    let then = app.get_ok("/assurance/iha?as_of=2025-11-15&weeks=1").await;
    assert_eq!(assessment_ids(&then), [c.done.as_str()]);

    for weeks in ["0", "105"] {
        let r = app.get(&format!("/assurance/iha?weeks={weeks}")).await;
        assert_problem(&r, 422, Some("weeks"), &format!("weeks={weeks}"));
    }
    for weeks in ["-1", "six", ""] {
        let r = app.get(&format!("/assurance/iha?weeks={weeks}")).await;
        assert_problem(&r, 400, Some("weeks"), &format!("weeks={weeks}"));
    }
    let r = app.get("/assurance/iha?as_of=2026-13-01").await;
    assert_problem(&r, 400, Some("as_of"), "as_of=2026-13-01");
}

async fn rag_filter_agrees_with_the_rag_shown_as_of_a_date(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    // Became looked after Mon 2 Feb; no notification by Wed 4 Feb (day 2): amber on 5 Feb.
    let (_, period, iha) = app.child_in_care("L-AMB", "2014-01-01", "2026-02-02").await;
    let shown = app.get_ok("/assessments?as_of=2026-02-05").await;
    assert_eq!(shown["items"][0]["rag"], "amber");
    assert_eq!(
        ids(&app.get_ok("/assessments?rag=amber&as_of=2026-02-05").await),
        [iha.as_str()]
    );

    // The period ends on 10 Feb, closing the IHA. On 5 Feb it was still amber.
    app.post(
        &format!("/periods/{period}/end"),
        &serde_json::json!({"ended_on": "2026-02-10", "reason": "E4A"}),
    )
    .await
    .expect(200, "end the period");
    let shown = app.get_ok("/assessments?as_of=2026-02-05").await;
    assert_eq!(
        shown["items"][0]["rag"], "amber",
        "the unfiltered list says amber on 5 Feb"
    );
    assert_eq!(
        ids(&app.get_ok("/assessments?rag=amber&as_of=2026-02-05").await),
        [iha],
        "so the rag=amber filter must list it too"
    );
}

/// `cla-tracker refresh-rag` on the app's database (what housekeeping does in `serve`).
async fn refresh_rag(app: &TestApp) -> String {
    let (url, today) = (app.db_url.clone(), app.today.clone());
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cla-tracker"));
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("CLA_")) {
            cmd.env_remove(key);
        }
        let scratch = tempfile::TempDir::new().expect("a folder with no config file");
        cmd.current_dir(scratch.path())
            .env("CLA_DATABASE_URL", url)
            .env("CLA_TODAY", today)
            .env("CLA_LOG", "error")
            .arg("refresh-rag")
            .output()
            .expect("the cla-tracker binary runs")
    })
    .await
    .expect("the CLI thread");
    assert!(
        out.status.success(),
        "refresh-rag: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

async fn lists_answer_the_same_once_the_rags_are_stored(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let c = caseload(&app).await;
    let paths = [
        "/assessments",
        "/assessments?rag=red",
        "/assessments?rag=green&kind=IHA",
        "/assessments?state=awaiting_notification",
        "/assessments?as_of=2026-02-05",
        "/assessments?rag=amber&as_of=2026-02-05",
        "/assessments?limit=2&offset=1",
        "/assurance/iha",
        "/assurance/iha?as_of=2026-01-20&weeks=2",
    ];
    let lists = || async {
        let mut out = Vec::new();
        for p in paths {
            out.push(app.get_ok(p).await);
        }
        out
    };
    // Every row was just written, so every list so far was derived afresh.
    let derived = lists().await;
    let out = refresh_rag(&app).await;
    assert!(out.contains("for 6 assessments"), "all six stored: {out}");
    assert_eq!(lists().await, derived, "stored RAGs give the same lists");
    assert!(
        refresh_rag(&app).await.contains("for 0 assessments"),
        "nothing left to store"
    );

    // A step clears that assessment's stored RAG; the lists follow the step at once.
    app.post(
        &format!("/assessments/{}/notification", c.fresh),
        &serde_json::json!({"received_on": TODAY}),
    )
    .await
    .expect(200, "notification");
    let after_step = lists().await;
    assert_ne!(after_step, derived, "the notification shows");
    assert!(
        refresh_rag(&app).await.contains("for 1 assessment\n"),
        "only the changed one"
    );
    assert_eq!(lists().await, after_step);
}

async fn assurance_list_pages_keep_one_order_and_one_summary(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    caseload(&app).await;
    // Two more who became looked after on the same day as L-FRESH, registered out of
    // order: on one due date the list goes by local id.
    app.child_in_care("L-TIE-B", "2014-01-01", "2026-02-13").await;
    app.child_in_care("L-TIE-A", "2014-01-01", "2026-02-13").await;
    let whole = app.get_ok("/assurance/iha").await;
    assert_eq!(
        (whole["limit"].as_i64(), whole["offset"].as_i64()),
        (Some(100), Some(0))
    );
    let local_ids: Vec<String> = whole["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| s(&i["local_id"]))
        .collect();
    assert_eq!(local_ids.len(), 6);
    let tied: Vec<&str> = local_ids
        .iter()
        .map(String::as_str)
        .filter(|l| ["L-FRESH", "L-TIE-A", "L-TIE-B"].contains(l))
        .collect();
    assert_eq!(
        tied,
        ["L-FRESH", "L-TIE-A", "L-TIE-B"],
        "ties by local id: {local_ids:?}"
    );
    for limit in [1, 2, 3, 4] {
        let mut paged = Vec::new();
        for offset in (0..8).step_by(limit) {
            let page = app
                .get_ok(&format!("/assurance/iha?limit={limit}&offset={offset}"))
                .await;
            assert_eq!(page["summary"], whole["summary"], "the summary covers every page");
            paged.extend(
                page["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .map(|i| s(&i["local_id"])),
            );
        }
        assert_eq!(paged, local_ids, "pages of {limit} in the whole list's order");
    }
    for (query, field) in [("limit=0", "limit"), ("limit=1001", "limit"), ("offset=-1", "offset")] {
        let r = app.get(&format!("/assurance/iha?{query}")).await;
        assert_problem(&r, 422, Some(field), query);
    }
}

/// Every list answers `{items, total, limit, offset}` and checks `limit` (1-1000) and
/// `offset` (not negative) the same way.
async fn every_list_answers_one_page_shape_and_checks_its_paging(b: Backend) {
    use cla_tracker::access::Role;
    let app = spawn_app(b, TODAY).await;
    let (child, _, _) = app.child_in_care("P-1", "2014-01-01", "2026-02-02").await;
    let admin = crate::security::user_with_token(&app, "admin@test.nhs.uk", "ICB", &[Role::Admin]).await;
    let lists: [(&str, String, bool); 9] = [
        ("children", "/children?q=".into(), false),
        ("assessments", "/assessments?kind=IHA".into(), false),
        ("assurance", "/assurance/iha?weeks=6".into(), false),
        ("escalations", format!("/escalations?child_id={child}"), false),
        ("access history", format!("/children/{child}/access-history?"), false),
        (
            "holidays",
            "/calendar/holidays?from=2026-01-01&to=2026-12-31".into(),
            false,
        ),
        ("outbox", "/outbox?".into(), true),
        ("users", "/users?".into(), true),
        ("tokens", "/tokens?".into(), true),
    ];
    for (name, base, as_admin) in lists {
        let get = |query: String| {
            let (app, admin, base) = (&app, &admin, &base);
            async move {
                let path = format!("{base}&{query}");
                if as_admin {
                    crate::security::get_as(app, admin, &path).await
                } else {
                    app.get(&path).await
                }
            }
        };
        let page = get("limit=1&offset=0".into()).await.expect(200, name);
        for field in ["items", "total", "limit", "offset"] {
            assert!(!page[field].is_null(), "{name} answers {field}: {page}");
        }
        assert_eq!(
            (page["limit"].as_i64(), page["offset"].as_i64()),
            (Some(1), Some(0)),
            "{name}"
        );
        let total = page["total"].as_u64().expect("a total");
        let items = page["items"].as_array().expect("items").len() as u64;
        assert_eq!(
            items,
            total.min(1),
            "{name}: one item a page when there are any: {page}"
        );
        let past = get("limit=5&offset=1000000".into()).await.expect(200, name);
        assert_eq!(
            past["items"].as_array().map(Vec::len),
            Some(0),
            "{name}: past the end is empty"
        );
        // Reading the access history is itself on the child's record: one more entry.
        let grown = u64::from(name == "access history");
        assert_eq!(
            past["total"].as_u64(),
            Some(total + grown),
            "{name}: the total counts every page"
        );
        for (query, field) in [("limit=0", "limit"), ("limit=1001", "limit"), ("offset=-1", "offset")] {
            let r = get(query.into()).await;
            assert_problem(&r, 422, Some(field), &format!("{name} with {query}"));
        }
    }
}

async fn children_search_counts_every_match_across_pages(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    for n in 1..=5 {
        app.register(&format!("S-{n}"), "2014-01-01").await;
    }
    app.register("Other-1", "2014-01-01").await;
    let mut seen = Vec::new();
    for offset in [0, 2, 4] {
        let page = app.get_ok(&format!("/children?q=TestS&limit=2&offset={offset}")).await;
        assert_eq!(page["total"], 5, "every match counts, not just this page: {page}");
        seen.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|c| s(&c["local_id"])),
        );
    }
    assert_eq!(seen, ["S-1", "S-2", "S-3", "S-4", "S-5"], "pages follow one order");
    let all = app.get_ok("/children").await;
    assert_eq!(
        (all["total"].as_u64(), all["limit"].as_u64()),
        (Some(6), Some(50)),
        "{all}"
    );
}
