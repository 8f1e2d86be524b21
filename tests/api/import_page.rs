//! The SSDA903 import as an admin upload page (`/admin/import`, issue 12): files uploaded as
//! `multipart/form-data` with the session's CSRF token as a part, imported for a local
//! authority in the admin's scope exactly as `cla-tracker import ssda903` does (the same
//! audit entries), a dry run that writes nothing, the report as a page with the refused
//! rows, and the refused rows as a CSV download. Everything refused writes nothing.

use cla_tracker::access::Role;
use reqwest::Method;

use crate::helpers::{s, Backend, Resp, TestApp, TestDb, TEST_LA};
use crate::security::{
    add_org_in, add_user, audit_rows, bare_client, browse, read, session_csrf, session_for, with_db,
};

both!(
    an_admin_imports_a_header_and_episodes_pair_for_its_authority,
    a_dry_run_writes_nothing,
    a_bad_row_is_shown_with_its_line_and_reason_and_the_rest_imported,
    refused_uploads_write_nothing,
);

const TODAY: &str = "2025-06-02";
const BOUNDARY: &str = "----clatrackertestboundary7MA4YWxk";

const HEADER: &str = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\nA1,1,03/04/2012,WBRI,,,\nB2,2,05/06/2013,WBRI,,,\n";
/// A1 ended its period in 2021; B2 is still looked after (an open period with its clock).
const EPISODES: &str =
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n\
A1,01/02/2020,S,C2,N1,U1,PR1,01/03/2021,E13,,TA1,TA2,SC123456\n\
B2,01/02/2025,S,C2,N1,U1,PR1,,,,TA1,TA2,SC123456\n";
/// B2's second row has a bad date and legal status: B2 is skipped whole, A1 imported.
const EPISODES_BAD: &str =
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n\
A1,01/02/2020,S,C2,N1,U1,PR1,01/03/2021,E13,,TA1,TA2,SC123456\n\
B2,01/02/2020,S,C2,N1,U1,PR1,,,,TA1,TA2,SC123456\n\
B2,2020-05-01,P,ZZ,N1,U1,PR1,,,,TA1,TA2,SC123456\n";

/// A `multipart/form-data` body as a browser sends it.
fn multipart(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    for (filename, data) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{filename}\"\r\nContent-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Posts the upload form with the session (and its CSRF token unless `csrf` is false).
async fn upload(app: &TestApp, session: &str, csrf: bool, fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> Resp {
    let token = if csrf {
        session_csrf(app, session).await
    } else {
        String::new()
    };
    let mut all = Vec::new();
    if csrf {
        all.push(("csrf", token.as_str()));
    }
    all.extend_from_slice(fields);
    let res = bare_client()
        .post(format!("{}/admin/import", app.address))
        .header("cookie", format!("cla_session={session}"))
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(multipart(&all, files))
        .send()
        .await
        .expect("the upload is sent");
    read(res).await
}

fn pair() -> Vec<(&'static str, &'static [u8])> {
    vec![("header.csv", HEADER.as_bytes()), ("episodes.csv", EPISODES.as_bytes())]
}

async fn page(app: &TestApp, session: &str, path: &str) -> Resp {
    browse(app, Method::GET, path, &[("cla_session", session)], None, &[]).await
}

/// The hidden `csv` field's value, unescaped.
fn hidden_csv(html: &str) -> String {
    let marker = "name=\"csv\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("a hidden csv field: {html}"))
        + marker.len();
    let len = html[start..].find('"').expect("the value ends");
    html[start..start + len]
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// (action, entity) of every audit entry about a child after `seq`, sorted.
async fn child_events(app_db: &str, after: i64) -> Vec<(String, String)> {
    let url = app_db.to_string();
    let rows = tokio::task::spawn_blocking(move || {
        use cla_tracker::db::schema::audit_log;
        use diesel::prelude::*;
        let mut conn = crate::helpers::connect(&url);
        audit_log::table
            .filter(audit_log::seq.gt(after))
            .filter(audit_log::child_id.is_not_null())
            .select((audit_log::action, audit_log::entity))
            .load::<(String, String)>(&mut conn)
            .expect("read audit_log")
    })
    .await
    .expect("the audit read");
    let mut rows = rows;
    rows.sort();
    rows
}

async fn last_seq(app: &TestApp) -> i64 {
    audit_rows(app).await.last().map_or(0, |r| r.seq)
}

async fn an_admin_imports_a_header_and_episodes_pair_for_its_authority(b: Backend) {
    let app = crate::helpers::spawn_app(b, TODAY).await;
    add_org_in(&app, "local_authority", "OTH", Some("ICB")).await;
    add_user(&app, "la-admin@test.nhs.uk", TEST_LA, &[Role::Admin]).await;
    let session = session_for(&app, "la-admin@test.nhs.uk").await;

    let home = page(&app, &session, "/admin").await;
    assert!(home.text.contains("href=\"/admin/import\""), "the console links to it");
    let form = page(&app, &session, "/admin/import").await;
    assert_eq!(form.status, 200, "{}", form.text);
    assert!(
        form.text.contains("enctype=\"multipart/form-data\"") && form.text.contains("type=\"file\""),
        "an upload form: {}",
        form.text
    );
    assert!(form.text.contains("multiple"), "several files at once");
    assert!(
        form.text.contains("<option value=\"SOM\"") && !form.text.contains("<option value=\"OTH\""),
        "only the authorities in scope: {}",
        form.text
    );

    let before = last_seq(&app).await;
    let r = upload(&app, &session, true, &[("la", TEST_LA)], &pair()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("SSDA903 import report"), "{}", r.text);
    assert!(!r.text.contains("Dry run"), "{}", r.text);
    assert!(r.text.contains("No row was refused"), "{}", r.text);
    assert!(
        r.text.contains("header.csv") && r.text.contains("episodes.csv"),
        "the files read"
    );
    // Children: 2 read, 0 rejected, 2 created.
    let counts = &r.text[r.text.find("id=\"counts-1\"").expect("the children's counts")..];
    let counts = &counts[..counts.find("</tr>").expect("a row")];
    let numbers: Vec<&str> = counts
        .split("</span>")
        .skip(2)
        .map(|c| c.split('<').next().unwrap_or("").trim())
        .collect();
    assert_eq!(numbers, ["2", "0", "2", "0", "0"], "{counts}");

    // Audited as the CLI's import is: the same entries, in the admin's name (read before
    // the API reads below, which are on the trail too).
    let page_events = child_events(&app.db_url, before).await;
    assert!(
        page_events.iter().any(|(a, e)| a == "import" && e == "child"),
        "{page_events:?}"
    );
    let by_admin = audit_rows(&app)
        .await
        .into_iter()
        .filter(|r| r.seq > before && r.child_id.is_some())
        .all(|r| r.user_email.as_deref() == Some("la-admin@test.nhs.uk"));
    assert!(by_admin, "every entry names the admin");
    let cli_db = tokio::task::spawn_blocking(move || TestDb::create(b))
        .await
        .expect("a second database");
    let dir = cli_db.dir.path().to_path_buf();
    std::fs::write(dir.join("header.csv"), HEADER).expect("write header");
    std::fs::write(dir.join("episodes.csv"), EPISODES).expect("write episodes");
    let url = cli_db.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        crate::helpers::cla_command(&dir, &url, TODAY)
            .args(["import", "ssda903", "--la", TEST_LA, "header.csv", "episodes.csv"])
            .output()
            .expect("the CLI runs")
    })
    .await
    .expect("the CLI thread");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        child_events(&cli_db.url, 0).await,
        page_events,
        "the page writes the CLI's audit entries"
    );

    // Visible through the API.
    assert_eq!(app.children_count().await, 2);
    let found = app.get_ok("/children?q=A1").await;
    let a1 = app.child(&s(&found["items"][0]["id"])).await;
    assert_eq!(a1["periods"][0]["started_on"], "2020-02-01", "{a1}");
    assert_eq!(a1["periods"][0]["ended_on"], "2021-03-01");
    let found = app.get_ok("/children?q=B2").await;
    let b2 = app.child(&s(&found["items"][0]["id"])).await;
    assert!(b2["periods"][0]["ended_on"].is_null(), "B2's open period: {b2}");

    // Importing the same files again changes nothing.
    let again = last_seq(&app).await;
    let r = upload(&app, &session, true, &[("la", TEST_LA)], &pair()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(child_events(&app.db_url, again).await.is_empty(), "no write, no entry");
    assert_eq!(app.children_count().await, 2);
}

async fn a_dry_run_writes_nothing(b: Backend) {
    let app = crate::helpers::spawn_app(b, TODAY).await;
    add_user(&app, "admin@test.nhs.uk", "ICB", &[Role::Admin]).await;
    let session = session_for(&app, "admin@test.nhs.uk").await;
    let before = last_seq(&app).await;
    let r = upload(&app, &session, true, &[("la", TEST_LA), ("dry_run", "yes")], &pair()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Dry run: nothing was written"), "{}", r.text);
    let counts = &r.text[r.text.find("id=\"counts-1\"").expect("the children's counts")..];
    assert!(counts.contains(">2</td>"), "2 children read: {counts}");
    assert_eq!(app.children_count().await, 0, "a dry run writes nothing");
    assert!(
        child_events(&app.db_url, before).await.is_empty(),
        "and audits no write"
    );
}

async fn a_bad_row_is_shown_with_its_line_and_reason_and_the_rest_imported(b: Backend) {
    let app = crate::helpers::spawn_app(b, TODAY).await;
    add_user(&app, "admin@test.nhs.uk", "ICB", &[Role::Admin]).await;
    let session = session_for(&app, "admin@test.nhs.uk").await;
    let files: Vec<(&str, &[u8])> = vec![
        ("header.csv", HEADER.as_bytes()),
        ("episodes.csv", EPISODES_BAD.as_bytes()),
    ];
    let r = upload(&app, &session, true, &[("la", TEST_LA)], &files).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let table = &r.text[r
        .text
        .find("id=\"rejections\"")
        .unwrap_or_else(|| panic!("a rejections table: {}", r.text))..];
    assert!(
        table.contains("episodes.csv") && table.contains(">4</td>") && table.contains("B2"),
        "the row's file, line and child: {table}"
    );
    assert!(table.contains("DECOM") && table.contains("LS"), "its columns: {table}");
    assert!(table.contains("ZZ"), "the value: {table}");
    assert_eq!(app.children_count().await, 1, "B2 skipped whole, A1 imported");
    let found = app.get_ok("/children?q=A1").await;
    assert_eq!(found["items"].as_array().map(Vec::len), Some(1));

    // The refused rows as CSV, posted back from the page's download form.
    let csv = hidden_csv(&r.text);
    assert!(csv.starts_with("file,line,child,column,value,reason"), "{csv}");
    let token = session_csrf(&app, &session).await;
    let cookies = [("cla_session", session.as_str())];
    let d = browse(
        &app,
        Method::POST,
        "/admin/import/rejections",
        &cookies,
        Some(&[("csrf", token.as_str()), ("csv", csv.as_str())]),
        &[],
    )
    .await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert!(d.content_type().starts_with("text/csv"), "{}", d.content_type());
    let disposition = d
        .headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert_eq!(d.text, csv, "the refused rows the page showed");
    assert!(d.text.contains("episodes.csv,4,B2,"), "{}", d.text);
    let no_csrf = browse(
        &app,
        Method::POST,
        "/admin/import/rejections",
        &cookies,
        Some(&[("csv", csv.as_str())]),
        &[],
    )
    .await;
    assert_eq!(no_csrf.status, 403, "the download is a form post like any other");
    let forged = browse(
        &app,
        Method::POST,
        "/admin/import/rejections",
        &cookies,
        Some(&[("csrf", token.as_str()), ("csv", "<html>not a CSV</html>")]),
        &[],
    )
    .await;
    assert_eq!(forged.status, 400, "only a rejections CSV is answered back");
}

async fn refused_uploads_write_nothing(b: Backend) {
    let app = crate::helpers::spawn_app(b, TODAY).await;
    add_org_in(&app, "local_authority", "OTH", Some("ICB")).await;
    add_user(&app, "la-admin@test.nhs.uk", TEST_LA, &[Role::Admin]).await;
    add_user(&app, "nurse@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    let admin = session_for(&app, "la-admin@test.nhs.uk").await;
    let nurse = session_for(&app, "nurse@test.nhs.uk").await;

    let r = upload(&app, &admin, false, &[("la", TEST_LA)], &pair()).await;
    assert_eq!(r.status, 403, "no CSRF token: {}", r.text);
    assert_eq!(page(&app, &nurse, "/admin/import").await.status, 403);
    let r = upload(&app, &nurse, true, &[("la", TEST_LA)], &pair()).await;
    assert_eq!(r.status, 403, "a health admin may not import: {}", r.text);
    let before = last_seq(&app).await;
    let r = upload(&app, &admin, true, &[("la", "OTH")], &pair()).await;
    assert_eq!(r.status, 403, "another authority: {}", r.text);
    let refusal = audit_rows(&app)
        .await
        .into_iter()
        .filter(|r| r.seq > before)
        .any(|r| r.user_email.as_deref() == Some("la-admin@test.nhs.uk") && r.outcome == "failed");
    assert!(refusal, "the refusal is on record");
    assert_eq!(app.children_count().await, 0);

    // Field errors: the form again with the summary, nothing read.
    let r = upload(&app, &admin, true, &[("la", TEST_LA)], &[("", &b""[..])]).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(
        r.text.contains("There is a problem") && r.text.contains("Choose the SSDA903 files to import"),
        "{}",
        r.text
    );
    assert!(r.text.contains("<title>Error: "), "the title says so");
    let r = upload(&app, &admin, true, &[("la", TEST_LA)], &[("header.csv", &b""[..])]).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("The file header.csv is empty"), "{}", r.text);
    let binary: &[u8] = b"PK\x03\x04\x00\x00\xff\xfe binary";
    let r = upload(
        &app,
        &admin,
        true,
        &[("la", TEST_LA)],
        &[("header.csv", HEADER.as_bytes()), ("episodes.xlsx", binary)],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(
        r.text.contains("The file episodes.xlsx is not a text file"),
        "{}",
        r.text
    );
    let r = upload(&app, &admin, true, &[("la", "")], &pair()).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("Choose the local authority"), "{}", r.text);
    assert_eq!(app.children_count().await, 0, "nothing was written");
    let imported = with_db(&app, |conn| {
        use cla_tracker::db::schema::periods;
        use diesel::prelude::*;
        periods::table.count().get_result::<i64>(conn).expect("count")
    })
    .await;
    assert_eq!(imported, 0);
}
