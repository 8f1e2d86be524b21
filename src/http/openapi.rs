//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::OpenApi;

use super::{assessments, assurance, calendar, children, ops, periods};

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
    ),
    tags(
        (name = "children"), (name = "periods"), (name = "assessments"), (name = "assurance"),
        (name = "calendar"), (name = "operations"),
    )
)]
pub struct ApiDoc;
