//! What a local authority's admins and auditors reach besides children's records
//! (`service::reach`): the audit trail, accounts, tokens and the outbox. An LA reaches its
//! own; the ICB everything in the ICB. Checked in both directions, on both databases.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use cla_tracker::access::Role;
use cla_tracker::audit::Actor;
use cla_tracker::db::schema::{children, escalations, organisations, outbox, users};
use cla_tracker::escalation;
use cla_tracker::service::escalations::{EscalationConfig, BUILT_IN_RULES};
use cla_tracker::service::{calendar_store, DomainCtx};
use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{s, settings_for, spawn_app, Backend, Resp, TestApp};
use crate::security::{
    add_org_in, add_user, as_token, audit_rows, get_as, post_as, sql, token_for, unknown_id, with_db, DEFAULT_EMAIL,
};

both!(
    audit_export_holds_only_the_entries_an_authority_reaches,
    admins_reach_only_their_authoritys_users_and_tokens,
    admins_reach_only_their_authoritys_messages,
    the_export_pages_through_a_long_trail_and_keeps_to_its_days,
);

const TODAY: &str = "2026-03-10";
const DEV_SW: &str = "sw@dev.gov.uk";
const DEV_ADMIN: &str = "admin@dev.gov.uk";
const SOM_ADMIN: &str = "admin@som.gov.uk";
const ICB_ADMIN: &str = "admin@icb.nhs.uk";

/// What each child's record says that must never reach the other authority.
const DEV_NAME: &str = "Devonshireperson";
const DEV_NHS: &str = "9990000034";
const SOM_NAME: &str = "Somersetperson";
const SOM_NHS: &str = "9990000042";

struct Setup {
    app: TestApp,
    /// Bearer tokens by email.
    tokens: HashMap<&'static str, String>,
    /// Token ids by email.
    token_ids: HashMap<&'static str, String>,
    dev_child: String,
    som_child: String,
}

impl Setup {
    fn token(&self, email: &str) -> &str {
        &self.tokens[email]
    }
}

/// LA DEV beside SOM in the ICB; a DEV social worker; an admin and auditor of DEV, of SOM
/// and of the ICB. A child in care in each LA: DEV's registered by its social worker,
/// SOM's by the ICB user; each read by the ICB user, DEV's also by its social worker.
async fn setup(b: Backend) -> Setup {
    let app = spawn_app(b, TODAY).await;
    add_org_in(&app, "local_authority", "DEV", Some("ICB")).await;
    let mut tokens = HashMap::new();
    let mut token_ids = HashMap::new();
    for (email, org, roles) in [
        (DEV_SW, "DEV", vec![Role::SocialWorker]),
        (DEV_ADMIN, "DEV", vec![Role::Admin, Role::Assurance]),
        (SOM_ADMIN, "SOM", vec![Role::Admin, Role::Assurance]),
        (ICB_ADMIN, "ICB", vec![Role::Admin, Role::Assurance]),
    ] {
        add_user(&app, email, org, &roles).await;
        let (id, token) = token_for(&app, email).await;
        tokens.insert(email, token);
        token_ids.insert(email, id);
    }
    let dev = post_as(
        &app,
        &tokens[DEV_SW],
        "/children",
        &child_json("D-1", "DEV", DEV_NAME, DEV_NHS),
    )
    .await
    .expect(201, "a DEV social worker registers a DEV child");
    let dev_child = s(&dev["id"]);
    post_as(
        &app,
        &tokens[DEV_SW],
        &format!("/children/{dev_child}/periods"),
        &json!({"started_on": "2026-02-02", "legal_status": "C2"}),
    )
    .await
    .expect(201, "and starts a period of care");
    let som_child = s(&app.register_with(child_json("S-1", "SOM", SOM_NAME, SOM_NHS)).await["id"]);
    app.start_period(&som_child, "2026-02-02", "C2").await;
    app.child(&som_child).await;
    app.child(&dev_child).await;
    get_as(&app, &tokens[DEV_SW], &format!("/children/{dev_child}"))
        .await
        .expect(200, "the DEV social worker reads the DEV child");
    Setup {
        app,
        tokens,
        token_ids,
        dev_child,
        som_child,
    }
}

fn child_json(local_id: &str, la: &str, family_name: &str, nhs: &str) -> Value {
    json!({
        "local_id": local_id, "given_name": "Kit", "family_name": family_name, "date_of_birth": "2014-04-04",
        "sex": "F", "responsible_la": la, "nhs_number": nhs,
    })
}

// ---------------------------------------------------------------------------------------
// The audit trail

/// Who an export is for and what it reaches: local authorities (by child), organisations
/// (by acting user) and whether it oversees entries by nobody.
struct Reaches {
    las: &'static [&'static str],
    orgs: &'static [&'static str],
    oversees: bool,
}

/// The export's rows (a minimal RFC 4180 reader: quoted fields may hold commas, quotes and
/// line breaks).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}

/// The audit export from yesterday to tomorrow, as `email`: its text and the `seq` of each
/// entry in it (after the header).
async fn export(setup: &Setup, email: &str) -> (String, Vec<i64>) {
    let day = chrono::Utc::now().date_naive();
    export_days(
        setup,
        email,
        day - chrono::Duration::days(1),
        day + chrono::Duration::days(1),
    )
    .await
}

async fn export_days(setup: &Setup, email: &str, from: NaiveDate, to: NaiveDate) -> (String, Vec<i64>) {
    let path = format!("/audit/export?from={from}&to={to}");
    let r = get_as(&setup.app, setup.token(email), &path).await;
    assert_eq!(r.status, 200, "{email} exports: {}", r.text);
    let rows = csv_rows(&r.text);
    assert_eq!(rows[0][0], "seq", "a header first: {:?}", rows[0]);
    let seqs = rows[1..]
        .iter()
        .map(|row| row[0].parse().unwrap_or_else(|_| panic!("a seq: {row:?}")))
        .collect();
    (r.text, seqs)
}

/// The entries the rule in `service::reach` gives `who`, up to `last`, worked out from the
/// database itself: an entry naming a child when its LA is reached; naming no child but a
/// user when the user's organisation is; naming neither when overseeing.
async fn expected(app: &TestApp, who: &Reaches, last: i64) -> Vec<i64> {
    expected_within(app, who, last, None).await
}

/// [`expected`], of the entries stamped on the days `from ..= to` when given.
async fn expected_within(app: &TestApp, who: &Reaches, last: i64, days: Option<(NaiveDate, NaiveDate)>) -> Vec<i64> {
    let child_la: HashMap<String, String> = with_db(app, |conn| {
        children::table
            .select((children::id, children::responsible_la))
            .load::<(String, String)>(conn)
            .expect("children")
            .into_iter()
            .collect()
    })
    .await;
    let user_org: HashMap<String, String> = with_db(app, |conn| {
        users::table
            .inner_join(organisations::table)
            .select((users::id, organisations::code))
            .load::<(String, String)>(conn)
            .expect("users")
            .into_iter()
            .collect()
    })
    .await;
    audit_rows(app)
        .await
        .into_iter()
        .filter(|e| e.seq <= last)
        .filter(|e| days.is_none_or(|(from, to)| (from..=to).contains(&e.occurred_at.date())))
        .filter(|e| match (&e.child_id, &e.user_id) {
            (Some(child), _) => child_la.get(child).is_some_and(|la| who.las.contains(&la.as_str())),
            (None, Some(user)) => user_org.get(user).is_some_and(|o| who.orgs.contains(&o.as_str())),
            (None, None) => who.oversees,
        })
        .map(|e| e.seq)
        .collect()
}

async fn audit_export_holds_only_the_entries_an_authority_reaches(b: Backend) {
    let setup = setup(b).await;
    let app = &setup.app;
    let dev = Reaches {
        las: &["DEV"],
        orgs: &["DEV"],
        oversees: false,
    };
    let som = Reaches {
        las: &["SOM"],
        orgs: &["SOM"],
        oversees: false,
    };
    let icb = Reaches {
        las: &["SOM", "DEV"],
        orgs: &["ICB", "SOM", "DEV"],
        oversees: true,
    };
    for (email, who, own, other) in [
        (
            DEV_ADMIN,
            &dev,
            (DEV_NAME, DEV_NHS, &setup.dev_child),
            (SOM_NAME, SOM_NHS, &setup.som_child),
        ),
        (
            SOM_ADMIN,
            &som,
            (SOM_NAME, SOM_NHS, &setup.som_child),
            (DEV_NAME, DEV_NHS, &setup.dev_child),
        ),
    ] {
        let (text, seqs) = export(&setup, email).await;
        for never in [other.0, other.1, other.2.as_str()] {
            assert!(
                !text.contains(never),
                "{email}'s export must hold nothing about the other authority's child ({never}):\n{text}"
            );
        }
        for shown in [own.0, own.1, own.2.as_str()] {
            assert!(
                text.contains(shown),
                "{email}'s export holds its own child's entries, create diff included ({shown}):\n{text}"
            );
        }
        let last = *seqs.last().expect("at least the export's own entry");
        assert!(
            text.lines()
                .last()
                .is_some_and(|l| l.contains(",export,audit_log,") && l.contains(email)),
            "the export's own entry comes last: {text}"
        );
        assert_eq!(
            seqs,
            expected(app, who, last).await,
            "{email}'s export holds exactly the entries its authority reaches"
        );
    }
    let (text, seqs) = export(&setup, ICB_ADMIN).await;
    let last = *seqs.last().expect("entries");
    assert_eq!(
        seqs,
        expected(app, &icb, last).await,
        "the ICB reaches every entry of the ICB"
    );
    for shown in [DEV_NAME, SOM_NAME, DEV_EMAILS[0], "system:test"] {
        assert!(text.contains(shown), "the ICB's export holds {shown}");
    }
    let everything: Vec<i64> = audit_rows(app)
        .await
        .iter()
        .map(|e| e.seq)
        .filter(|s| *s <= last)
        .collect();
    assert_eq!(seqs, everything, "in this deployment, every entry");

    // The access history of the other authority's child answers like an unknown child.
    let other = get_as(
        app,
        setup.token(DEV_ADMIN),
        &format!("/children/{}/access-history", setup.som_child),
    )
    .await;
    let unknown = get_as(
        app,
        setup.token(DEV_ADMIN),
        &format!("/children/{}/access-history", unknown_id()),
    )
    .await;
    assert_eq!((other.status, &other.text), (404, &unknown.text), "like an unknown id");
}

const DEV_EMAILS: [&str; 2] = [DEV_SW, DEV_ADMIN];

/// Appends `n` entries stamped every quarter of an hour from `start`, each about the DEV
/// or the SOM child in turn or about no child, by the DEV social worker or the ICB user;
/// every seventh stamped five minutes before the one ahead of it, as two instances whose
/// clocks disagree a little would.
async fn long_trail(setup: &Setup, start: chrono::NaiveDateTime, n: i64) {
    use cla_tracker::db::models::AuditRow;
    use cla_tracker::db::schema::audit_log;
    let (dev, som) = (setup.dev_child.clone(), setup.som_child.clone());
    with_db(&setup.app, move |conn| {
        let id_of = |email: &str, conn: &mut cla_tracker::db::DbConn| {
            users::table
                .filter(users::email.eq(email))
                .select(users::id)
                .first::<String>(conn)
                .expect("a user")
        };
        let (dev_sw, icb) = (id_of(DEV_SW, conn), id_of(DEFAULT_EMAIL, conn));
        let after: i64 = audit_log::table
            .select(diesel::dsl::max(audit_log::seq))
            .first::<Option<i64>>(conn)
            .expect("the last entry")
            .unwrap_or(0);
        let rows: Vec<AuditRow> = (1..=n)
            .map(|i| {
                let skew = if i % 7 == 0 { -20 } else { 0 };
                let child = [Some(&dev), Some(&som), None][(i % 3) as usize].cloned();
                AuditRow {
                    seq: after + i,
                    occurred_at: start + chrono::Duration::minutes(15 * i + skew),
                    user_id: Some(if i % 2 == 0 { dev_sw.clone() } else { icb.clone() }),
                    user_email: None,
                    role: None,
                    client_address: None,
                    action: "read".into(),
                    entity: "child".into(),
                    entity_id: child.clone(),
                    child_id: child,
                    outcome: "ok".into(),
                    changes: None,
                    prev_hash: "-".into(),
                    hash: "-".into(),
                }
            })
            .collect();
        cla_tracker::db::write_transaction(conn, |conn| {
            rows.iter()
                .try_for_each(|r| diesel::insert_into(audit_log::table).values(r).execute(conn).map(drop))
        })
        .expect("entries");
    })
    .await
}

/// Exports of a month out of six weeks of entries, more than a page each, hold exactly the
/// entries of those days that each authority reaches.
async fn the_export_pages_through_a_long_trail_and_keeps_to_its_days(b: Backend) {
    let setup = setup(b).await;
    let start = day("2026-01-01").and_hms_opt(0, 0, 0).expect("midnight");
    long_trail(&setup, start, 4000).await;
    let (from, to) = (day("2026-01-10"), day("2026-02-08"));
    let icb = Reaches {
        las: &["SOM", "DEV"],
        orgs: &["ICB", "SOM", "DEV"],
        oversees: true,
    };
    let dev = Reaches {
        las: &["DEV"],
        orgs: &["DEV"],
        oversees: false,
    };
    for (email, who) in [(ICB_ADMIN, &icb), (DEV_ADMIN, &dev)] {
        let (_, seqs) = export_days(&setup, email, from, to).await;
        let own = audit_rows(&setup.app).await.last().expect("the export's own entry").seq;
        let want = expected_within(&setup.app, who, own, Some((from, to))).await;
        assert!(want.len() > 1000, "more than a page: {}", want.len());
        assert_eq!(seqs.len(), want.len(), "{email}: every entry of those days it reaches");
        assert_eq!(seqs, want, "{email}: exactly those, oldest first");
    }
}

// ---------------------------------------------------------------------------------------
// Accounts and tokens

/// The values of `key` across a list's items (one page holds them all here).
fn values(list: &Value, key: &str) -> BTreeSet<String> {
    assert_eq!(
        list["total"].as_u64(),
        list["items"].as_array().map(|a| a.len() as u64),
        "one page: {list}"
    );
    list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|u| s(&u[key]))
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

async fn admins_reach_only_their_authoritys_users_and_tokens(b: Backend) {
    let setup = setup(b).await;
    let app = &setup.app;
    let everyone = set(&[DEV_SW, DEV_ADMIN, SOM_ADMIN, ICB_ADMIN, DEFAULT_EMAIL]);
    for (email, users) in [
        (DEV_ADMIN, set(&DEV_EMAILS)),
        (SOM_ADMIN, set(&[SOM_ADMIN])),
        (ICB_ADMIN, everyone.clone()),
    ] {
        let list = get_as(app, setup.token(email), "/users")
            .await
            .expect(200, "GET /users");
        assert_eq!(
            values(&list, "email"),
            users,
            "{email} lists its own organisations' users"
        );
        let list = get_as(app, setup.token(email), "/tokens")
            .await
            .expect(200, "GET /tokens");
        assert_eq!(values(&list, "user_email"), users, "{email} lists their tokens only");
    }

    // Another authority's token answers like an unknown one, and stays good.
    let revoke = |id: &str| format!("/tokens/{id}/revoke");
    let dev_admin = setup.token(DEV_ADMIN);
    for other in [SOM_ADMIN, ICB_ADMIN] {
        let r = as_token(app, dev_admin, Method::POST, &revoke(&setup.token_ids[other]), None).await;
        let unknown = as_token(app, dev_admin, Method::POST, &revoke(&unknown_id()), None).await;
        assert_eq!(
            (r.status, &r.text),
            (404, &unknown.text),
            "DEV revoking {other}'s token"
        );
        get_as(app, setup.token(other), "/me")
            .await
            .expect(200, "the token still works");
    }
    let r = as_token(app, dev_admin, Method::POST, &revoke(&setup.token_ids[DEV_SW]), None).await;
    assert_eq!(r.status, 204, "DEV revokes its social worker's token: {}", r.text);
    assert_eq!(
        get_as(app, setup.token(DEV_SW), "/me").await.status,
        401,
        "which stops working"
    );
    // The ICB reaches every organisation's tokens.
    let r = as_token(
        app,
        setup.token(ICB_ADMIN),
        Method::POST,
        &revoke(&setup.token_ids[SOM_ADMIN]),
        None,
    )
    .await;
    assert_eq!(r.status, 204, "the ICB revokes SOM's token: {}", r.text);
}

// ---------------------------------------------------------------------------------------
// The outbox

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a test date")
}

/// Sweeps as the service does on TODAY (both IHAs are late by then) and queues a weekly
/// pack; returns the message ids about each LA's child, and the pack's.
async fn queue_mail(app: &TestApp) -> (BTreeSet<String>, BTreeSet<String>, String) {
    let url = app.db_url.clone();
    with_db(app, move |conn| {
        let settings = settings_for(&url, TODAY);
        let mut ctx = DomainCtx::new(
            Arc::new(calendar_store::load(conn).expect("calendar")),
            &settings,
            day(TODAY),
        );
        ctx.actor = Actor::system("escalation");
        let ladder = Arc::new(escalation::parse(BUILT_IN_RULES).expect("the shipped ladder"));
        let cfg = EscalationConfig::new(ladder, &settings);
        cla_tracker::service::escalations::sweep(conn, &ctx, &cfg, day(TODAY), false).expect("sweep");
        cla_tracker::db::write_transaction(conn, |conn| {
            cla_tracker::service::outbox::enqueue(
                conn,
                "test.invalid",
                cla_tracker::service::outbox::NewMail {
                    escalation_id: None,
                    kind: "pack",
                    dedupe_key: None,
                    recipient: "distribution_list".into(),
                    to_address: Some("meeting@icb.example.nhs.uk".into()),
                    subject: "IHA assurance pack".into(),
                    text_body: "every LA".into(),
                    html_body: "every LA".into(),
                    attachment: None,
                },
            )
        })
        .expect("a pack");
        let about: Vec<(String, String)> = outbox::table
            .inner_join(escalations::table)
            .inner_join(children::table.on(children::id.eq(escalations::child_id)))
            .select((outbox::id, children::responsible_la))
            .load(conn)
            .expect("messages");
        let pack: String = outbox::table
            .filter(outbox::escalation_id.is_null())
            .select(outbox::id)
            .first(conn)
            .expect("the pack");
        let of = |la: &str| {
            about
                .iter()
                .filter(|(_, l)| l == la)
                .map(|(id, _)| id.clone())
                .collect()
        };
        (of("DEV"), of("SOM"), pack)
    })
    .await
}

async fn outbox_ids(app: &TestApp, token: &str) -> BTreeSet<String> {
    values(
        &get_as(app, token, "/outbox?limit=1000")
            .await
            .expect(200, "GET /outbox"),
        "id",
    )
}

async fn admins_reach_only_their_authoritys_messages(b: Backend) {
    let setup = setup(b).await;
    let app = &setup.app;
    let (dev, som, pack) = queue_mail(app).await;
    assert!(
        !dev.is_empty() && !som.is_empty(),
        "mail about both children: {dev:?} {som:?}"
    );

    assert_eq!(
        outbox_ids(app, setup.token(DEV_ADMIN)).await,
        dev,
        "DEV sees its child's mail"
    );
    assert_eq!(
        outbox_ids(app, setup.token(SOM_ADMIN)).await,
        som,
        "SOM sees its child's mail"
    );
    let mut all: BTreeSet<String> = dev.union(&som).cloned().collect();
    all.insert(pack.clone());
    assert_eq!(
        outbox_ids(app, setup.token(ICB_ADMIN)).await,
        all,
        "the ICB sees all of it, the pack included"
    );

    // Requeueing: another authority's message and the pack answer like unknown ones.
    let (dev_one, som_one) = (first(&dev), first(&som));
    sql(
        app,
        &format!("UPDATE outbox SET status = 'dead' WHERE id IN ('{dev_one}', '{som_one}', '{pack}')"),
    )
    .await;
    let requeue = |id: &str| format!("/outbox/{id}/requeue");
    let dev_admin = setup.token(DEV_ADMIN);
    let unknown: Resp = as_token(app, dev_admin, Method::POST, &requeue(&unknown_id()), None).await;
    for id in [&som_one, &pack] {
        let r = as_token(app, dev_admin, Method::POST, &requeue(id), None).await;
        assert_eq!((r.status, &r.text), (404, &unknown.text), "DEV requeueing {id}");
    }
    let r = as_token(app, dev_admin, Method::POST, &requeue(&dev_one), None).await;
    assert_eq!(r.status, 200, "DEV requeues its own: {}", r.text);
    let statuses: HashMap<String, String> = with_db(app, |conn| {
        outbox::table
            .select((outbox::id, outbox::status))
            .load::<(String, String)>(conn)
            .expect("outbox")
            .into_iter()
            .collect()
    })
    .await;
    assert_eq!(statuses[&som_one], "dead", "SOM's message was left alone");
    assert_eq!(statuses[&pack], "dead", "and the pack");
    let r = as_token(app, setup.token(ICB_ADMIN), Method::POST, &requeue(&pack), None).await;
    assert_eq!(r.status, 200, "the ICB requeues the pack: {}", r.text);
}

fn first(ids: &BTreeSet<String>) -> String {
    ids.iter().next().expect("an id").clone()
}
