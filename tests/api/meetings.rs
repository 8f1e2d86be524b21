//! The weekly IHA assurance meeting over HTTP (no browser): the list page with its
//! filters in the URL, the same filters on the API, the CSV, the print view, the changes
//! since the last meeting; who may open each and which children each user sees.

use cla_tracker::access::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{s, spawn_app, Backend, Resp, TestApp};
use crate::security::{
    add_org_in, add_user, audit_rows, browse, get_as, post_as, session_for, user_with_token, with_db,
};

/// A Monday: the meeting's day.
pub const TODAY: &str = "2026-01-05";

both!(
    the_list_is_filtered_alike_on_the_api_and_the_page,
    csv_and_print_hold_the_filtered_list_and_no_names,
    changes_since_last_meeting_lists_new_rag_changes_and_completions,
    meeting_pages_follow_the_role_matrix_and_scope,
    a_bad_filter_is_an_error_naming_its_field,
    the_meetings_record_carries_actions_forward_within_roles_and_scope,
    a_past_meetings_list_reads_its_snapshots_until_an_event_forgets_them,
);

pub async fn page(app: &TestApp, session: &str, path: &str) -> Resp {
    browse(app, Method::GET, path, &[("cla_session", session)], None, &[]).await
}

/// Three SOM children: red (day 0 long past, nothing done), amber (not notified by day 2)
/// and green (notified on time); and one of another authority, OTH, red. Returns the ids
/// of the red child and its IHA.
pub async fn meeting_caseload(app: &TestApp) -> (String, String) {
    let (red, _, red_iha) = app.child_in_care("R1", "2014-03-03", "2025-11-03").await;
    app.child_in_care("A1", "2012-05-05", "2025-12-19").await;
    let (_, _, green) = app.child_in_care("G1", "2016-07-07", "2026-01-02").await;
    app.post(
        &format!("/assessments/{green}/notification"),
        &json!({"received_on": "2026-01-05"}),
    )
    .await
    .expect(200, "notification");
    add_org_in(app, "local_authority", "OTH", Some("ICB")).await;
    let other = app
        .register_with(json!({
            "local_id": "O1", "given_name": "Olly", "family_name": "Other",
            "date_of_birth": "2013-01-01", "sex": "M", "responsible_la": "OTH",
        }))
        .await;
    app.start_period(&s(&other["id"]), "2025-11-03", "C2").await;
    (red, red_iha)
}

fn local_ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| s(&i["local_id"]))
        .collect()
}

async fn the_list_is_filtered_alike_on_the_api_and_the_page(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    meeting_caseload(&app).await;
    let all = app.get_ok("/assurance/iha").await;
    assert_eq!(all["summary"]["total"], 4, "{all}");
    let red = app.get_ok("/assurance/iha?rag=red").await;
    assert_eq!(local_ids(&red), ["O1", "R1"], "soonest due first, then local id: {red}");
    assert_eq!(red["summary"]["red"], 2);
    assert_eq!(red["summary"]["total"], 2, "the summary counts the filtered list");
    let som_red = app.get_ok("/assurance/iha?rag=red&la=SOM").await;
    assert_eq!(local_ids(&som_red), ["R1"]);
    let la_late = app.get_ok("/assurance/iha?attribution=local_authority&la=SOM").await;
    assert_eq!(
        local_ids(&la_late),
        ["R1", "A1"],
        "notification is the LA's step: {la_late}"
    );
    let waiting = app.get_ok("/assurance/iha?blocker=consent").await;
    assert_eq!(local_ids(&waiting), ["G1"], "{waiting}");
    let in_area = app.get_ok("/assurance/iha?out_of_area=true").await;
    assert_eq!(in_area["total"], 0);
    let unknown_la = app.get_ok("/assurance/iha?la=XXX").await;
    assert_eq!(unknown_la["total"], 0);

    add_user(&app, "chair@test.nhs.uk", "ICB", &[Role::Assurance]).await;
    let chair = session_for(&app, "chair@test.nhs.uk").await;
    let r = page(&app, &chair, "/assurance?as_of=2026-01-05&rag=red&la=SOM").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.text.contains(">A.T., R1</a>"),
        "the red SOM child by initials and local id: {}",
        r.text
    );
    // As a row's link text (a random token on the page may hold "O1" too).
    assert!(!r.text.contains(", O1</a>"), "another authority filtered out");
    assert!(!r.text.contains("TestR1"), "no names on the meeting's screen");
    assert!(
        r.text
            .contains("href=\"/assurance.csv?as_of=2026-01-05&#38;weeks=6&#38;la=SOM&#38;rag=red\""),
        "the CSV link carries the filters: {}",
        r.text
    );
    let whole = page(&app, &chair, "/assurance").await;
    assert!(
        whole.text.contains("The meeting of 5 January 2026"),
        "this week's Monday by default"
    );
    for id in ["R1", "A1", "G1", "O1"] {
        assert!(whole.text.contains(&format!(", {id}</a>")), "{id} on the list");
    }
    let reads: Vec<_> = audit_rows(&app)
        .await
        .into_iter()
        .filter(|e| e.user_email.as_deref() == Some("chair@test.nhs.uk") && e.entity == "assurance_iha")
        .collect();
    assert_eq!(reads.len(), 2, "each view of the list is on the audit trail");
}

async fn csv_and_print_hold_the_filtered_list_and_no_names(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    meeting_caseload(&app).await;
    add_user(&app, "chair@test.nhs.uk", "ICB", &[Role::Assurance]).await;
    let chair = session_for(&app, "chair@test.nhs.uk").await;
    let csv = page(&app, &chair, "/assurance.csv?rag=red").await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert!(csv.content_type().starts_with("text/csv"), "{}", csv.content_type());
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines.len(), 3, "a header and the two red rows: {}", csv.text);
    assert!(lines[0].starts_with("local_id,initials,local_authority,day_0,due_on"));
    assert!(
        lines[1].starts_with("O1,O.O.,OTH,2025-11-03,2025-12-01,35 days overdue,"),
        "{}",
        lines[1]
    );
    assert!(lines[2].starts_with("R1,A.T.,SOM,"), "{}", lines[2]);
    assert!(!csv.text.contains("Test"), "no names in the CSV");

    let print = page(&app, &chair, "/assurance/print?rag=red&la=SOM").await;
    assert_eq!(print.status, 200, "{}", print.text);
    assert!(print.text.contains("IHA assurance meeting, 5 January 2026"));
    assert!(
        print.text.contains("Filters: Local authority: SOM; Status: Red."),
        "{}",
        print.text
    );
    assert!(print.text.contains("A.T., R1"));
    assert!(!print.text.contains("nhsuk-header"), "no navigation in the print view");
    assert!(!print.text.contains(", O1"), "another authority filtered out");
}

async fn changes_since_last_meeting_lists_new_rag_changes_and_completions(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (_, _, done) = app.child_in_care("C1", "2014-03-03", "2025-12-15").await;
    app.complete_iha(&done, "2026-01-02").await;
    app.child_in_care("N1", "2012-05-05", "2026-01-02").await;
    // Day 0 on Wed 24 Dec, notification due by day 2 (Tue 30 Dec): green at the meeting of
    // 29 December, amber by 5 January (not notified).
    app.child_in_care("A1", "2012-05-05", "2025-12-24").await;
    add_user(&app, "chair@test.nhs.uk", "ICB", &[Role::Assurance]).await;
    let chair = session_for(&app, "chair@test.nhs.uk").await;
    let r = page(&app, &chair, "/assurance/changes?as_of=2026-01-05").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let section = |id: &str| {
        let start = r.text.find(&format!("id=\"changes-{id}\"")).expect("a section");
        let rest = &r.text[start..];
        rest[..rest.find("</section>").unwrap_or(rest.len())].to_string()
    };
    assert!(section("new").contains("A.T., N1"), "{}", section("new"));
    assert!(!section("new").contains("A1"), "on both lists: {}", section("new"));
    assert!(section("rag").contains("A.T., A1"), "{}", section("rag"));
    assert!(section("completed").contains("A.T., C1"), "{}", section("completed"));
    assert!(section("completed").contains("2 January 2026"));
}

async fn meeting_pages_follow_the_role_matrix_and_scope(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    meeting_caseload(&app).await;
    add_user(&app, "reader@test.nhs.uk", "ICB", &[Role::ReadOnly]).await;
    add_user(&app, "nurse@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    add_user(&app, "la-reader@test.nhs.uk", "OTH", &[Role::ReadOnly]).await;
    add_user(&app, "sw@test.nhs.uk", "SOM", &[Role::SocialWorker]).await;
    add_user(&app, "clin@test.nhs.uk", "ICB", &[Role::Clinician]).await;
    add_user(&app, "admin@test.nhs.uk", "ICB", &[Role::Admin]).await;
    let paths = ["/assurance", "/assurance.csv", "/assurance/print", "/assurance/changes"];
    for (email, allowed) in [
        ("reader@test.nhs.uk", true),
        ("nurse@test.nhs.uk", true),
        ("sw@test.nhs.uk", false),
        ("clin@test.nhs.uk", false),
        ("admin@test.nhs.uk", false),
    ] {
        let session = session_for(&app, email).await;
        for path in paths {
            let r = page(&app, &session, path).await;
            assert_eq!(r.status, if allowed { 200 } else { 403 }, "{email} {path}: {}", r.text);
        }
        let home = page(&app, &session, "/").await;
        assert_eq!(
            home.text.contains("href=\"/assurance\""),
            allowed,
            "{email}: the navigation offers the meeting only to those who may open it"
        );
    }
    let signed_out = browse(&app, Method::GET, "/assurance.csv", &[], None, &[]).await;
    assert_eq!(signed_out.status, 303, "signed out: to sign in");

    // A local authority's reader sees only its own children, whatever the filter says.
    let la = session_for(&app, "la-reader@test.nhs.uk").await;
    let r = page(&app, &la, "/assurance.csv").await;
    assert_eq!(r.text.lines().count(), 2, "only OTH's child: {}", r.text);
    assert!(r.text.contains("O1,O.O.,OTH"));
    let r = page(&app, &la, "/assurance.csv?la=SOM").await;
    assert_eq!(
        r.text.lines().count(),
        1,
        "another authority's filter finds nothing: {}",
        r.text
    );
    let r = page(&app, &la, "/assurance").await;
    assert!(
        !r.text.contains("value=\"SOM\""),
        "only its own authority is offered as a filter"
    );
}

async fn a_bad_filter_is_an_error_naming_its_field(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    add_user(&app, "chair@test.nhs.uk", "ICB", &[Role::Assurance]).await;
    let chair = session_for(&app, "chair@test.nhs.uk").await;
    let r = page(&app, &chair, "/assurance?rag=purple&weeks=0").await;
    assert_eq!(r.status, 200, "the page shows the list without the filter: {}", r.text);
    assert!(r.text.contains("Error: IHA assurance meeting"), "{}", r.text);
    assert!(r.text.contains("href=\"#rag\""), "the summary links to the field");
    assert!(r.text.contains("Weeks must be a whole number from 1 to 104"));
    let csv = page(&app, &chair, "/assurance.csv?rag=purple").await;
    assert_eq!(csv.status, 400, "{}", csv.text);
    let api = app.get("/assurance/iha?rag=purple").await;
    assert_eq!(api.status, 400, "{}", api.text);
    assert_eq!(api.fields(), ["rag"]);
    let actions = app
        .get("/assurance/meetings/actions?child_id=null&assessment_id=7")
        .await;
    assert_eq!(
        actions.status, 422,
        "an id that cannot be one is named: {}",
        actions.text
    );
    assert_eq!(actions.fields(), ["child_id", "assessment_id"]);
}

async fn the_meetings_record_carries_actions_forward_within_roles_and_scope(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (red, red_iha) = meeting_caseload(&app).await;
    let opened = app
        .post(
            "/assurance/meetings",
            &json!({"held_on": "2026-01-05", "chair": "Dee", "attendees": "Named nurse"}),
        )
        .await
        .expect(201, "open the meeting");
    let again = app
        .post(
            "/assurance/meetings",
            &json!({"held_on": "2026-01-05", "chair": "Someone else"}),
        )
        .await
        .expect(200, "the meeting of that day is already open");
    assert_eq!(again["id"], opened["id"]);
    let meeting = s(&opened["id"]);
    let owner = "sam@som.example.org";
    let action = app
        .post(
            &format!("/assurance/meetings/{meeting}/actions"),
            &json!({"assessment_id": red_iha, "what": "Chase the notification", "owner_name": "Sam",
                    "owner_email": owner, "due_on": "2026-01-07"}),
        )
        .await
        .expect(201, "an action on the red child");
    app.post(
        &format!("/assurance/meetings/{meeting}/notes"),
        &json!({"assessment_id": red_iha, "kind": "decision", "body": "Escalate to the LA manager"}),
    )
    .await
    .expect(201, "a decision");
    let filtered = app.get_ok("/assurance/iha?has_open_actions=true").await;
    assert_eq!(local_ids(&filtered), ["R1"], "{filtered}");

    // Next week's meeting carries the open action forward.
    let next = app
        .post("/assurance/meetings", &json!({"held_on": "2026-01-12", "chair": "Dee"}))
        .await
        .expect(201, "next week");
    let minutes = app.get_ok(&format!("/assurance/meetings/{}", s(&next["id"]))).await;
    assert_eq!(
        minutes["items"][0]["carried_forward"][0]["id"], action["id"],
        "{minutes}"
    );
    let first = app.get_ok(&format!("/assurance/meetings/{meeting}")).await;
    assert_eq!(first["items"][0]["notes"][0]["kind"], "decision");
    assert_eq!(first["items"][0]["actions"][0]["what"], "Chase the notification");

    // Read-only users read, and do not write.
    let reader = user_with_token(&app, "reader@test.nhs.uk", "ICB", &[Role::ReadOnly]).await;
    assert_eq!(
        get_as(&app, &reader, &format!("/assurance/meetings/{meeting}"))
            .await
            .status,
        200
    );
    let r = post_as(
        &app,
        &reader,
        "/assurance/meetings",
        &json!({"held_on": "2026-01-19", "chair": "x"}),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.text);
    // Another authority's users see nothing of SOM's child in the minutes.
    let other = user_with_token(&app, "oth@test.nhs.uk", "OTH", &[Role::ReadOnly]).await;
    let theirs: Value = serde_json::from_str(
        &get_as(&app, &other, &format!("/assurance/meetings/{meeting}"))
            .await
            .text,
    )
    .unwrap();
    assert_eq!(theirs["items"], json!([]), "{theirs}");
    // A social worker sees and closes only the actions assigned to them.
    let sam = user_with_token(&app, owner, "SOM", &[Role::SocialWorker]).await;
    let pat = user_with_token(&app, "pat@som.example.org", "SOM", &[Role::SocialWorker]).await;
    let mine: Value =
        serde_json::from_str(&get_as(&app, &sam, "/assurance/meetings/actions?status=open").await.text).unwrap();
    assert_eq!(mine["total"], 1, "{mine}");
    let none: Value = serde_json::from_str(&get_as(&app, &pat, "/assurance/meetings/actions").await.text).unwrap();
    assert_eq!(none["total"], 0, "{none}");
    let close = format!("/assurance/meetings/actions/{}/close", s(&action["id"]));
    let body = json!({"status": "done", "comment": "Notification sent"});
    assert_eq!(post_as(&app, &pat, &close, &body).await.status, 404, "not theirs");
    assert_eq!(
        get_as(&app, &sam, &format!("/assurance/meetings/{meeting}"))
            .await
            .status,
        403
    );
    let closed = post_as(&app, &sam, &close, &body).await;
    assert_eq!(closed.status, 200, "{}", closed.text);
    let again = post_as(&app, &sam, &close, &body).await;
    assert_eq!(again.status, 409, "closed once: {}", again.text);
    let minutes = app.get_ok(&format!("/assurance/meetings/{}", s(&next["id"]))).await;
    assert_eq!(
        minutes["items"],
        json!([]),
        "closed before the next meeting: not carried: {minutes}"
    );
    let changed: Vec<_> = audit_rows(&app)
        .await
        .into_iter()
        .filter(|e| e.entity == "meeting_action" && e.action == "update")
        .collect();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].child_id.as_deref(), Some(red.as_str()));
    assert!(
        changed[0].changes.as_deref().unwrap_or("").contains("done"),
        "{changed:?}"
    );

    // The child's record shows the action to those who may see it.
    add_user(&app, "chair@test.nhs.uk", "ICB", &[Role::Assurance]).await;
    let chair = session_for(&app, "chair@test.nhs.uk").await;
    let record = page(&app, &chair, &format!("/children/{red}")).await;
    assert!(
        record.text.contains("Chase the notification") && record.text.contains("Done</span>: Notification sent"),
        "{}",
        record.text
    );
}

/// Housekeeping's snapshots of past meeting days (`rag_snapshot`): what it stores for the
/// IHAs that changed since a past Monday; the list of that day reads them (same list as
/// replaying), and an event appended to an IHA's history, a late one included, forgets
/// them.
async fn a_past_meetings_list_reads_its_snapshots_until_an_event_forgets_them(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    // C1: open on the Mondays 15, 22 and 29 December, completed on 2 January. A1: day 0 on
    // Wed 24 December, on the list of 29 December only. Neither RAG stamp (made today)
    // covers those days, so a view of them replays their events.
    let (_, _, done) = app.child_in_care("C1", "2014-03-03", "2025-12-15").await;
    app.complete_iha(&done, "2026-01-02").await;
    let (_, _, amber) = app.child_in_care("A1", "2012-05-05", "2025-12-24").await;
    let past = "/assurance/iha?as_of=2025-12-29";
    let replayed = app.get_ok(past).await;
    assert_eq!(local_ids(&replayed), ["C1", "A1"]);

    assert_eq!(snapshot_past_meetings(&app).await, 4, "C1 on three Mondays, A1 on one");
    assert_eq!(snapshot_past_meetings(&app).await, 0, "snapshots that hold are kept");
    let stored = app.get_ok(past).await;
    assert_eq!(
        stored["summary"], replayed["summary"],
        "the same figures from the snapshots"
    );
    assert_eq!(stored["items"], replayed["items"], "and the same items");

    // Read while it holds: a stored RAG (set here by hand) is what the list counts.
    let id = amber.clone();
    with_db(&app, move |conn| {
        use diesel::prelude::*;
        diesel::sql_query(format!(
            "UPDATE rag_snapshots SET rag = 'red' WHERE assessment_id = '{id}' AND on_day = '2025-12-29'"
        ))
        .execute(conn)
        .expect("set A1's stored RAG")
    })
    .await;
    let red = app.get_ok(&format!("{past}&rag=red")).await;
    assert_eq!(local_ids(&red), ["A1"], "the list reads the snapshot");

    // A notification received on 26 December, recorded today: A1's snapshots are gone and
    // 29 December is replayed again, the notification included.
    app.post(
        &format!("/assessments/{amber}/notification"),
        &json!({"received_on": "2025-12-26"}),
    )
    .await
    .expect(200, "notification");
    let red = app.get_ok(&format!("{past}&rag=red")).await;
    assert_eq!(local_ids(&red), Vec::<String>::new(), "the event forgot the snapshot");
    let after = app.get_ok(past).await;
    let a1 = &after["items"][1];
    assert_eq!(
        (s(&a1["local_id"]), s(&a1["assessment"]["state"])),
        ("A1".into(), "awaiting_consent".into())
    );
    assert_eq!(snapshot_past_meetings(&app).await, 1, "only A1 is snapshot again");
}

async fn snapshot_past_meetings(app: &TestApp) -> usize {
    use cla_tracker::service::{calendar_store, rag_snapshot, DomainCtx};
    let settings = crate::helpers::settings_for(&app.db_url, TODAY);
    let today = chrono::NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").expect("today");
    with_db(app, move |conn| {
        let cal = calendar_store::load(conn).expect("calendar");
        let ctx = DomainCtx::new(std::sync::Arc::new(cal), &settings, today);
        rag_snapshot::refresh(conn, &ctx, settings.assurance.default_weeks).expect("snapshot")
    })
    .await
}
