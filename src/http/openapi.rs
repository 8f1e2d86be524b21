//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::OpenApi;

use super::{admin, assessments, assurance, calendar, children, escalations, ops, periods};

#[derive(OpenApi)]
#[openapi(
    info(title = "cla-tracker", description = "Statutory health assessments for Children Looked After (England)"),
    paths(
        ops::health, ops::ready,
        children::create, children::search, children::get, children::update, children::add_health_check, children::add_note,
        periods::start, periods::change_placement, periods::end,
        assessments::list, assessments::get, assessments::notification, assessments::consent, assessments::appointment,
        assessments::outcome, assessments::completion, assessments::reoffer_step, assessments::not_required,
        assessments::close_step, assessments::out_of_area, assessments::withdrawal,
        assurance::iha,
        calendar::holidays, calendar::add_working_days,
        admin::me, admin::users, admin::tokens, admin::revoke, admin::access_history, admin::export,
        escalations::list, escalations::outbox_list, escalations::requeue,
    ),
    tags(
        (name = "children"), (name = "periods"), (name = "assessments"), (name = "assurance"),
        (name = "calendar"), (name = "operations"), (name = "accounts"), (name = "audit"), (name = "escalations"),
    )
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{self, ROUTES};

    fn documented() -> Vec<(String, String)> {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths").iter() {
            for method in item.as_object().expect("methods").keys() {
                out.push((method.to_uppercase(), path.clone()));
            }
        }
        out
    }

    /// Deny by default only works if every route is in the table: a route the table does
    /// not know is refused, so an undocumented gap would show up as a dead endpoint.
    #[test]
    fn every_api_route_has_an_action_in_the_permission_table() {
        for (method, path) in documented().into_iter().filter(|(_, p)| p.starts_with("/api/v1")) {
            let concrete = path.replace("{id}", "0b9e4c1e-8a7d-4b5f-9a51-2b7c9c3e1f00");
            assert!(
                access::route_action(&method, &concrete).is_some(),
                "{method} {path} is not in access::ROUTES"
            );
        }
    }

    #[test]
    fn every_table_route_is_documented() {
        let documented = documented();
        for (method, path, _) in ROUTES {
            assert!(
                documented.iter().any(|(m, p)| m == method.as_str() && p == path),
                "{} {path} is in access::ROUTES but not in the OpenAPI document",
                method.as_str()
            );
        }
    }
}
