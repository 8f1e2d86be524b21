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
        browser.close().await;
    }
}
