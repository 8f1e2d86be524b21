//! The lateness forecast on the meeting's list: fitted from the history in the database,
//! shown on every open IHA, filtered and sorted by how likely it is to be late.

use std::sync::Arc;

use chrono::NaiveDate;
use cla_tracker::service::{calendar_store, forecast, DomainCtx};
use serde_json::Value;

use crate::helpers::*;

both!(open_ihas_on_the_meeting_list_carry_a_forecast_from_the_stored_parameters);

const TODAY: &str = "2026-03-16";

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

async fn open_ihas_on_the_meeting_list_carry_a_forecast_from_the_stored_parameters(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (_, _, done) = app.child_in_care("FC1", "2015-04-01", "2026-01-05").await;
    app.complete_iha(&done, "2026-01-20").await;
    app.child_in_care("FC2", "2012-06-01", "2026-02-02").await;
    app.child_in_care("FC3", "2010-09-01", "2026-03-09").await;

    // Before any fit there is no forecast.
    let list = app.get_ok("/assurance/iha").await;
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["forecast"].is_null()));

    let settings = settings_for(&app.db_url, TODAY);
    let mut conn = connect(&app.db_url);
    let cal = calendar_store::load(&mut conn).expect("calendar");
    let ctx = DomainCtx::new(Arc::new(cal), &settings, d(TODAY));
    let params = forecast::refit(&mut conn, &ctx, d(TODAY)).expect("refit");
    assert!(params.observations() > 0);
    // A fit for a day before the first has nothing in force.
    assert!(forecast::in_force(&mut conn, d("2026-03-01")).unwrap().is_none());

    let list = app.get_ok("/assurance/iha?sort=likely_late").await;
    let items = list["items"].as_array().unwrap();
    let open: Vec<&Value> = items
        .iter()
        .filter(|i| i["assessment"]["state"] != "completed")
        .collect();
    assert_eq!(open.len(), 2);
    let mut last = 2.0;
    for i in &open {
        let f = &i["forecast"];
        let p = f["p_late"].as_f64().expect("p_late");
        assert!((0.0..=1.0).contains(&p), "{f}");
        assert!(p <= last, "most likely to be late first");
        last = p;
        assert!(s(&f["range"][0]) <= s(&f["range"][1]), "{f}");
        assert!(!s(&f["driver"]).is_empty());
    }
    // FC2 started six weeks ago and is still waiting for notification: overdue, late.
    assert_eq!(open[0]["local_id"], "FC2");
    assert!(open[0]["forecast"]["p_late"].as_f64().unwrap() > 0.99);

    let late = app.get_ok("/assurance/iha?likely_late=true").await;
    let late_ids: Vec<String> = late["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| s(&i["local_id"]))
        .collect();
    assert!(late_ids.contains(&"FC2".to_string()), "{late_ids:?}");
    let r = app.get("/assurance/iha?sort=sideways").await;
    assert_problem(&r, 400, None, "unknown order");
}
