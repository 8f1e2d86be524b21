use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::Access;
use super::extract;
use super::AppState;
use crate::error::{AppResult, Problem};
use crate::service::assurance::{self, AssuranceList, AssuranceQuery};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/assurance/iha").route(web::get().to(iha)));
}

#[utoipa::path(get, path = "/api/v1/assurance/iha", tag = "assurance", params(AssuranceQuery),
    responses((status = 200, body = AssuranceList), (status = 422, body = Problem)))]
pub async fn iha(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let q: AssuranceQuery = extract::query(req.query_string())?;
    let default_weeks = state.settings.assurance.default_weeks;
    let list = state
        .run_as(&access, move |conn, ctx| {
            assurance::iha_list(conn, ctx, q, default_weeks)
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}
