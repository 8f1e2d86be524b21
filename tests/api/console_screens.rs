//! The escalations overview and the admin console in real Chromium: styled and scripted
//! under the CSP, and no serious or critical axe-core violation at desktop width and at
//! 320 px (`Browser::check_page`).

use cla_tracker::access::Role;

use crate::browser::{self, Browser};
use crate::helpers::Backend;
use crate::security::{add_user, sql};

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

browser_test!(the_escalations_and_the_admin_console_are_accessible);

mod inner {
    use super::*;

    pub async fn the_escalations_and_the_admin_console_are_accessible(b: Backend) {
        let app = crate::helpers::spawn_app(b, "2026-03-13").await;
        crate::console::two_escalated_children(&app).await;
        sql(&app, "UPDATE outbox SET status = 'dead', last_error = 'refused: 550 no such mailbox' WHERE recipient = 'social_worker'").await;
        add_user(&app, "nurse@test.nhs.uk", "ICB", &[Role::HealthAdmin, Role::Admin]).await;
        let browser = Browser::open(&app).await;
        browser.sign_in("nurse@test.nhs.uk").await;
        browser.goto("/escalations").await;
        let text = browser.text().await;
        assert!(text.contains("ESC-SOM") && text.contains("Undelivered mail"), "{text}");
        browser.check_page("escalations").await;
        // The requeue button's word stays on one line, wide and at 320 px (the cell no longer
        // breaks words anywhere; `nhsuk-u-nowrap` keeps it whole in the stacked table).
        for width in [browser::DESKTOP.0, browser::NARROW] {
            browser.set_width(width).await;
            let lines = browser
                .script(
                    "const b = document.querySelector('form[id^=\"requeue-\"] button');
                     const r = document.createRange(); r.selectNodeContents(b.firstChild);
                     return r.getClientRects().length;",
                )
                .await;
            assert_eq!(lines, 1, "Requeue on one line at {width} px");
        }

        browser.goto("/admin").await;
        browser.check_page("admin-console").await;
        browser.and_wait(browser.click_link("Users")).await;
        browser.check_page("admin-users").await;
        browser.type_into("#email", "nia@test.nhs.uk").await;
        browser.type_into("#display_name", "Nia New").await;
        browser.submit("#users-form button[type=submit]").await;
        assert!(browser.text().await.contains("There is a problem"));
        browser.check_page("admin-users-error").await;
        browser.goto("/admin/organisations").await;
        browser.check_page("admin-organisations").await;
        browser.goto("/admin/tokens").await;
        browser.check_page("admin-tokens").await;
        browser.goto("/admin/audit").await;
        assert!(browser.text().await.contains("Intact"));
        browser.check_page("admin-audit").await;

        // Bank holidays: pasted, previewed, confirmed.
        browser.goto("/admin/calendar").await;
        browser.check_page("admin-calendar").await;
        browser.submit("#calendar-form button[type=submit]").await;
        assert!(browser.text().await.contains("There is a problem"));
        browser.check_page("admin-calendar-error").await;
        browser
            .type_into("#file", &crate::calendar_import::file_2026(true))
            .await;
        browser.submit("#calendar-form button[type=submit]").await;
        let text = browser.text().await;
        assert!(
            text.contains("Check the bank holiday changes") && text.contains("Test Jubilee Day"),
            "{text}"
        );
        browser.check_page("admin-calendar-preview").await;
        browser.submit("#confirm-form button[type=submit]").await;
        assert!(browser.text().await.contains("The bank holidays are imported"));
        assert_eq!(browser.path().await, "/admin/calendar?done=imported");

        // SSDA903 files: the upload form, its errors, and a report with a refused row.
        browser.goto("/admin/import").await;
        browser.check_page("admin-import").await;
        browser.submit("#import-form button[type=submit]").await;
        assert!(browser.text().await.contains("There is a problem"));
        browser.check_page("admin-import-error").await;
        let dir = tempfile::TempDir::new().expect("a folder for the files");
        let header = dir.path().join("header.csv");
        let episodes = dir.path().join("episodes.csv");
        std::fs::write(
            &header,
            "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\nA1,1,03/04/2012,WBRI,,,\nB2,2,05/06/2013,WBRI,,,\n",
        )
        .expect("write header");
        std::fs::write(
            &episodes,
            "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n\
             A1,01/02/2020,S,C2,N1,U1,PR1,01/03/2021,E13,,TA1,TA2,SC123456\n\
             B2,2020-05-01,S,ZZ,N1,U1,PR1,,,,TA1,TA2,SC123456\n",
        )
        .expect("write episodes");
        browser
            .find("#la")
            .await
            .select_by_value("SOM")
            .await
            .expect("choose SOM");
        // WebDriver gives a file input its files as paths, one a line.
        browser
            .find("#files")
            .await
            .send_keys(&format!("{}\n{}", header.display(), episodes.display()))
            .await
            .expect("choose the files");
        browser.click("#dry_run-1").await;
        browser.submit("#import-form button[type=submit]").await;
        let text = browser.text().await;
        assert!(
            text.contains("Dry run: nothing was written") && text.contains("Refused rows"),
            "{text}"
        );
        browser.check_page("admin-import-report").await;
        browser.close().await;
    }
}
