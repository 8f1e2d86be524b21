//! The assurance meeting's pages in real Chromium: styled and scripted under the CSP, no
//! serious or critical axe-core violation at desktop width and at 320 px, and the print
//! view rendered to PDF (A4 landscape) with the list's header on every page.

use cla_tracker::access::Role;

use crate::browser::{self, Browser};
use crate::helpers::{Backend, TestApp};
use crate::meetings::{meeting_caseload, TODAY};
use crate::security::add_user;

macro_rules! browser_test {
    ($($name:ident),+ $(,)?) => {
        $(
            async fn $name(b: Backend) {
                if !browser::available(stringify!($name)) {
                    return;
                }
                inner::$name(b).await
            }
        )+
        both!($($name),+);
    };
}

browser_test!(
    the_meeting_list_changes_and_print_view_are_accessible_and_print_on_a4,
    a_meeting_records_an_action_on_a_red_child_carries_it_and_emails_its_owner_once,
);

/// Enough children for the print view to run over several pages.
async fn long_list(app: &TestApp) {
    for n in 0..40 {
        app.child_in_care(&format!("L{n:02}"), "2013-02-02", "2025-11-03").await;
    }
}

/// The page objects of a PDF (`/Type /Page`, not the `/Type /Pages` tree nodes).
fn pdf_pages(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    text.match_indices("/Type /Page")
        .filter(|(i, m)| !text[i + m.len()..].starts_with('s'))
        .count()
}

/// Whether every page's MediaBox is wider than it is tall, about A4 (842 x 595 points).
fn pdf_a4_landscape(pdf: &[u8]) -> bool {
    let text = String::from_utf8_lossy(pdf);
    let boxes: Vec<Vec<f64>> = text
        .split("/MediaBox [")
        .skip(1)
        .map(|rest| {
            rest.split(']')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect()
        })
        .collect();
    !boxes.is_empty()
        && boxes
            .iter()
            .all(|b| b.len() == 4 && (b[2] - 842.0).abs() < 3.0 && (b[3] - 595.0).abs() < 3.0)
}

mod inner {
    pub use super::journey::run as a_meeting_records_an_action_on_a_red_child_carries_it_and_emails_its_owner_once;
    use super::*;

    pub async fn the_meeting_list_changes_and_print_view_are_accessible_and_print_on_a4(b: Backend) {
        let app = crate::helpers::spawn_app(b, TODAY).await;
        meeting_caseload(&app).await;
        long_list(&app).await;
        add_user(&app, "chair@test.nhs.uk", "ICB", &[Role::Assurance]).await;
        let browser = Browser::open(&app).await;
        browser.sign_in("chair@test.nhs.uk").await;
        browser.and_wait(browser.click_link("Assurance meeting")).await;
        assert_eq!(browser.path().await, "/assurance");
        let text = browser.text().await;
        assert!(text.contains("The meeting of 5 January 2026"), "{text}");
        browser.check_page("assurance-meeting").await;

        // Filters go into the URL, so the view can be shared.
        browser.click(".nhsuk-details__summary").await;
        browser
            .client
            .find(fantoccini::Locator::Css("#rag option[value=red]"))
            .await
            .expect("the red option")
            .click()
            .await
            .expect("choose red");
        browser.submit("#filters button[type=submit]").await;
        assert!(browser.path().await.contains("rag=red"), "{}", browser.path().await);
        assert!(browser.text().await.contains("A.T., R1"));

        browser
            .and_wait(browser.click_link("Changes since the last meeting"))
            .await;
        browser.check_page("assurance-changes").await;

        browser.goto("/assurance/print?as_of=2026-01-05").await;
        let text = browser.text().await;
        assert!(text.contains("IHA assurance meeting, 5 January 2026"), "{text}");
        assert!(text.contains("Filters: none."), "{text}");
        browser.axe("assurance-print").await;
        browser.screenshot("assurance-print").await;
        let header_repeats = browser
            .script("return getComputedStyle(document.querySelector('.app-print thead')).display;")
            .await;
        assert_eq!(
            header_repeats, "table-header-group",
            "the header repeats on each printed page"
        );
        let nav = browser
            .script("return document.querySelectorAll('nav, .nhsuk-header').length;")
            .await;
        assert_eq!(nav, 0, "no navigation in the print view");
        let pdf = browser
            .client
            .print(
                fantoccini::wd::PrintConfiguration::builder()
                    .orientation(fantoccini::wd::PrintOrientation::Landscape)
                    .build()
                    .expect("a print configuration"),
            )
            .await
            .expect("Chromium prints the page to PDF");
        assert!(pdf.starts_with(b"%PDF"), "a PDF");
        std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/target/screenshots")).ok();
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/target/screenshots/assurance-print.pdf"),
            &pdf,
        )
        .ok();
        let pages = pdf_pages(&pdf);
        assert!(
            (2..=6).contains(&pages),
            "44 rows run over a few A4 landscape pages, not {pages}"
        );
        assert!(pdf_a4_landscape(&pdf), "every page is A4 landscape");
        browser.close().await;
    }
}

mod journey {
    use std::time::Duration;

    use super::*;
    use crate::escalations::{deliver, esc_settings, policy, sweep_on};
    use crate::smtp::SmtpServer;

    const OWNER: &str = "sam.worker@som.example.org";

    pub async fn run(b: Backend) {
        let smtp = SmtpServer::start();
        let app = crate::helpers::spawn_app(b, TODAY).await;
        let settings = esc_settings(&app, &smtp);
        meeting_caseload(&app).await;
        add_user(&app, "chair@test.nhs.uk", "ICB", &[Role::Assurance]).await;
        let browser = Browser::open(&app).await;
        browser.sign_in("chair@test.nhs.uk").await;

        // Open this week's meeting from the list.
        browser.goto("/assurance?rag=red&la=SOM").await;
        browser.click("details.nhsuk-details:has(#open-meeting) summary").await;
        browser.type_into("#chair", "Dee Signated").await;
        browser.type_into("#attendees", "Named nurse, LA manager").await;
        browser.submit("#open-meeting button[type=submit]").await;
        assert!(browser.path().await.starts_with("/assurance/meetings/"));
        let minutes_path = browser.path().await;
        browser.check_page("assurance-minutes-empty").await;

        // Record an action on the red child, from its row.
        browser.goto("/assurance?rag=red&la=SOM").await;
        browser.and_wait(browser.click("a[href*='?assessment=']")).await;
        browser.type_into("#what", "Chase the notification with the team").await;
        browser.type_into("#owner_name", "Sam Worker").await;
        browser.type_into("#owner_email", OWNER).await;
        browser.type_into("#due_on", "2026-01-07").await;
        browser.submit("#action-form button[type=submit]").await;
        assert_eq!(browser.path().await, minutes_path);
        let text = browser.text().await;
        assert!(text.contains("Chase the notification with the team"), "{text}");
        browser.check_page("assurance-minutes").await;

        // The CSV and the print view hold the child with the action.
        let csv = browser
            .script("return fetch('/assurance.csv?rag=red&la=SOM').then(r => r.text());")
            .await;
        let csv = csv.as_str().unwrap_or_default().to_string();
        assert!(
            csv.contains("R1,A.T.,SOM") && csv.contains("Chase the notification"),
            "{csv}"
        );
        browser.goto("/assurance/print?rag=red&la=SOM").await;
        let text = browser.text().await;
        assert!(
            text.contains("A.T., R1") && text.contains("Chase the notification"),
            "{text}"
        );

        // Next week the action is carried forward to the new meeting.
        browser.goto("/assurance?as_of=2026-01-12").await;
        browser.click("details.nhsuk-details:has(#open-meeting) summary").await;
        browser.type_into("#chair", "Dee Signated").await;
        browser.submit("#open-meeting button[type=submit]").await;
        let text = browser.text().await;
        assert!(
            text.contains("Carried forward") && text.contains("Chase the notification"),
            "{text}"
        );
        browser.close().await;

        // Due Wed 7 January: overdue from Thursday 8; its owner is told once.
        assert!(sweep_on(&settings, "2026-01-07")
            .fired
            .iter()
            .all(|f| f.rule_id != "meeting_action_overdue"));
        let fired = sweep_on(&settings, "2026-01-08");
        let overdue: Vec<_> = fired
            .fired
            .iter()
            .filter(|f| f.rule_id == "meeting_action_overdue")
            .collect();
        assert_eq!(overdue.len(), 1, "{:?}", fired.fired);
        assert!(
            sweep_on(&settings, "2026-01-09")
                .fired
                .iter()
                .all(|f| f.rule_id != "meeting_action_overdue"),
            "once"
        );
        deliver(&settings, &policy());
        let got = smtp.wait_for(1, Duration::from_secs(5));
        let to_owner: Vec<_> = smtp
            .messages()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == OWNER))
            .collect();
        assert_eq!(to_owner.len(), 1, "one mail to the owner: {got:?}");
        let mail = &to_owner[0].data;
        assert!(
            mail.contains("R1") && mail.contains("A.T."),
            "initials and local id: {mail}"
        );
        for secret in ["Amy", "TestR1", "2014-03-03", "3 Mar 2014", "Chase the notification"] {
            assert!(!mail.contains(secret), "no {secret} in the mail");
        }
    }
}
