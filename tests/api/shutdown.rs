//! Operations on a running service: graceful shutdown on SIGTERM, and `backup` of a SQLite
//! database that is being written to.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cla_tracker::db::schema::outbox;
use cla_tracker::service::outbox::{enqueue, NewMail};
use diesel::prelude::*;

use crate::helpers::{connect, Backend, TestDb};
use crate::smtp::SmtpServer;

both!(
    sigterm_finishes_the_message_being_sent_and_hands_back_the_rest,
    a_sender_on_a_slow_relay_leaves_the_database_to_the_requests,
);

const TODAY: &str = "2026-02-16";

fn cla(db_url: &str, dir: &std::path::Path) -> Command {
    crate::helpers::cla_command(dir, db_url, TODAY)
}

fn queue_mail(db_url: &str, n: usize) {
    let mut conn = connect(db_url);
    cla_tracker::db::run_migrations(&mut conn).expect("migrate");
    for i in 0..n {
        enqueue(
            &mut conn,
            "test.invalid",
            NewMail {
                escalation_id: None,
                kind: "pack",
                dedupe_key: None,
                recipient: "distribution_list".into(),
                to_address: Some(format!("reader{i}@example.nhs.uk")),
                subject: format!("Message {i}"),
                text_body: "text".into(),
                html_body: "<p>html</p>".into(),
                attachment: None,
            },
        )
        .expect("queue a message");
    }
}

fn statuses(db_url: &str) -> Vec<String> {
    let mut conn = connect(db_url);
    outbox::table
        .select(outbox::status)
        .load(&mut conn)
        .expect("read the outbox")
}

fn wait_for_exit(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < within {
        if let Some(status) = child.try_wait().expect("wait") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// SIGTERM while the one sender works through a claimed batch on a slow relay: the server
/// exits by itself, cleanly; the message it was sending is delivered and recorded as sent;
/// the rest of its batch is back in the queue at once, not stuck as `sending` until the
/// lease runs out; nothing is delivered that is not recorded, nor recorded that was not.
async fn sigterm_finishes_the_message_being_sent_and_hands_back_the_rest(b: Backend) {
    tokio::task::spawn_blocking(move || {
        let db = TestDb::create(b);
        let smtp = SmtpServer::start();
        smtp.slow_down(400);
        queue_mail(&db.url, 20);
        let port = free_port();
        let mut server = serve_one_sender(&db, &smtp, port).spawn().expect("start serve");
        let got = smtp.wait_for(2, Duration::from_secs(60));
        assert!(got.len() >= 2, "the sender started delivering");
        let term = Command::new("kill")
            .args(["-TERM", &server.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(term.success());
        let exit = wait_for_exit(&mut server, Duration::from_secs(20));
        let Some(exit) = exit else {
            let _ = server.kill();
            panic!("serve did not stop within 20 s of SIGTERM");
        };
        assert!(exit.success(), "serve exits cleanly on SIGTERM: {exit:?}");
        let delivered = smtp.messages().len();
        let st = statuses(&db.url);
        let count = |s: &str| st.iter().filter(|x| *x == s).count();
        assert_eq!(count("sending"), 0, "no row is left claimed: {st:?}");
        assert_eq!(
            count("sent"),
            delivered,
            "every delivered message is recorded as sent, and only those"
        );
        assert!(
            count("pending") > 0,
            "the untried rest of the batch is back in the queue"
        );
        assert_eq!(count("sent") + count("pending"), 20);
    })
    .await
    .expect("the test thread");
}

/// A slow relay never keeps the requests from the database: with a pool of one
/// connection and one sender working through a batch at a second a message, `/ready`
/// (which needs a connection) answers 200 while the batch is still being sent. A sender
/// that held its connection for the whole batch (20 s here) made it wait out the pool's
/// 10 s and answer 503.
async fn a_sender_on_a_slow_relay_leaves_the_database_to_the_requests(b: Backend) {
    tokio::task::spawn_blocking(move || {
        let db = TestDb::create(b);
        let smtp = SmtpServer::start();
        smtp.slow_down(1_000);
        queue_mail(&db.url, 20);
        let port = free_port();
        let mut server = serve_one_sender(&db, &smtp, port)
            .env("CLA_POOL_SIZE", "1")
            .spawn()
            .expect("start serve");
        let got = smtp.wait_for(1, Duration::from_secs(60));
        assert!(!got.is_empty(), "the sender started delivering");
        let answer = get(port, "/ready");
        let delivered = smtp.messages().len();
        let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
        if wait_for_exit(&mut server, Duration::from_secs(20)).is_none() {
            let _ = server.kill();
        }
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "/ready answers while the relay is slow: {}",
            answer.lines().next().unwrap_or_default()
        );
        assert!(
            delivered < 20,
            "the batch was still being sent ({delivered} of 20 delivered)"
        );
    })
    .await
    .expect("the test thread");
}

/// `serve` on `port` with one sender thread that looks for mail every second, relaying to
/// `smtp`.
fn serve_one_sender(db: &TestDb, smtp: &SmtpServer, port: u16) -> Command {
    let mut command = cla(&db.url, db.dir.path());
    command
        .env("CLA_BIND_ADDRESS", format!("127.0.0.1:{port}"))
        .env("CLA_SMTP_URL", smtp.url())
        .env("CLA_ESCALATION__SENDER_WORKERS", "1")
        .env("CLA_ESCALATION__SEND_INTERVAL_SECONDS", "1")
        .args(["serve", "--workers", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A plain HTTP GET to the local server (retried while it starts); returns the response.
fn get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let start = Instant::now();
    loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(mut stream) => {
                write!(
                    stream,
                    "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                )
                .expect("send");
                let mut response = String::new();
                stream.read_to_string(&mut response).expect("read");
                return response;
            }
            Err(_) if start.elapsed() < Duration::from_secs(20) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("the server never listened: {e}"),
        }
    }
}

/// `backup FILE` while the service is taking new children: the copy opens on its own, its
/// audit chain verifies, it holds a moment's state (some children, not more than the end
/// state), and a second backup to the same file is refused without touching the first.
#[tokio::test]
async fn backup_copies_a_sqlite_database_in_use_and_never_overwrites_one() {
    let app = std::sync::Arc::new(crate::helpers::spawn_app(Backend::Sqlite, TODAY).await);
    for i in 0..5 {
        app.register(&format!("BK{i}"), "2015-05-01").await;
    }
    let writer = {
        let app = std::sync::Arc::clone(&app);
        tokio::spawn(async move {
            for i in 5..60 {
                app.register(&format!("BK{i}"), "2015-05-01").await;
            }
        })
    };
    let dir = tempfile::TempDir::new().expect("a folder");
    let file = dir.path().join("copy.db");
    let (url, f) = (app.db_url.clone(), file.clone());
    let out = tokio::task::spawn_blocking(move || cla(&url, std::path::Path::new("/")).arg("backup").arg(&f).output())
        .await
        .expect("join")
        .expect("run backup");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("backed up to"));
    writer.await.expect("the writer");

    let copy = file.display().to_string();
    let verify = cla(&copy, dir.path())
        .args(["audit", "verify"])
        .output()
        .expect("verify");
    assert!(
        verify.status.success(),
        "the copy's audit chain verifies: {}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let mut conn = connect(&copy);
    let in_copy: i64 = cla_tracker::db::schema::children::table
        .count()
        .get_result(&mut conn)
        .expect("count the copy's children");
    assert!(
        (5..=60).contains(&in_copy),
        "a snapshot between the start and the end: {in_copy}"
    );

    let before = std::fs::read(&file).expect("read the copy");
    let again = cla(&app.db_url, dir.path())
        .arg("backup")
        .arg(&file)
        .output()
        .expect("run backup");
    assert!(!again.status.success(), "an existing file is refused");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(
        std::fs::read(&file).expect("read the copy"),
        before,
        "the first copy is untouched"
    );
}

/// On PostgreSQL `backup` writes nothing and names the right tool.
#[tokio::test]
async fn backup_on_postgresql_points_to_pg_dump() {
    if !crate::helpers::postgres_available("shutdown::backup_on_postgresql_points_to_pg_dump") {
        return;
    }
    let db = TestDb::create(Backend::Postgres);
    let file = db.dir.path().join("copy.db");
    let out = cla(&db.url, db.dir.path())
        .arg("backup")
        .arg(&file)
        .output()
        .expect("run backup");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
    assert!(!file.exists(), "nothing written");
}
