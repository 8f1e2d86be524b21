//! Account administration for the admin console (`web::admin`), within the admin's reach
//! (`service::reach`): users, organisations and tokens. The writes themselves are those
//! of the command line (`auth::add_user`, `auth::add_organisation`, `auth::issue_token`,
//! `auth::revoke_token`, `escalations::set_team_manager`, `escalations::set_host_icb_nurse`);
//! this module adds the reach checks around them, and disabling, unlocking and resetting a
//! password.
//!
//! Rules:
//! - An admin manages the users of the organisations they reach: a local authority's admin
//!   its own staff only, an ICB's admin every organisation in the ICB. A user out of reach
//!   answers like one that does not exist (404); an organisation out of reach cannot be
//!   chosen for a new account (422 naming `org`).
//! - Only an ICB's admins (who oversee the deployment) add organisations.
//! - A reset password is generated here, shown once and never stored in clear; it ends the
//!   user's sessions and lifts any lock. Disabling ends the sessions too. Each change is
//!   audited, naming the user by id (never the password).

use diesel::prelude::*;

use crate::access::Role;
use crate::audit::{self, Actor, AuditEvent};
use crate::auth::{self, password::PasswordParams, NewOrganisation, NewUser};
use crate::db::models::{now_utc, ApiToken, Organisation, User};
use crate::db::schema::{organisations, sessions, users};
use crate::db::{write_transaction, DbConn};
use crate::error::{AppError, AppResult};
use crate::service::reach::Reach;

/// An organisation as the console lists it.
#[derive(Debug, Clone)]
pub struct OrganisationRow {
    pub id: String,
    pub kind: String,
    pub code: String,
    pub name: String,
    pub team_manager_email: Option<String>,
    /// For a host area: its ICB's Designated Nurse for CLA (out-of-area escalations).
    pub host_icb_nurse_email: Option<String>,
}

/// The organisations `reach` reaches, ICBs first, then by kind and code.
pub fn organisations(conn: &mut DbConn, reach: &Reach) -> AppResult<Vec<OrganisationRow>> {
    let mut q = organisations::table
        .order((organisations::kind, organisations::code))
        .select((
            Organisation::as_select(),
            organisations::team_manager_email,
            organisations::host_icb_nurse_email,
        ))
        .into_boxed();
    if let Some(ids) = reach.organisations() {
        q = q.filter(organisations::id.eq_any(ids.to_vec()));
    }
    let rows: Vec<(Organisation, Option<String>, Option<String>)> = q.load(conn)?;
    let mut list: Vec<OrganisationRow> = rows
        .into_iter()
        .map(|(o, tm, nurse)| OrganisationRow {
            id: o.id,
            kind: o.kind,
            code: o.code,
            name: o.name,
            team_manager_email: tm,
            host_icb_nurse_email: nurse,
        })
        .collect();
    list.sort_by_key(|o| o.kind != "icb");
    Ok(list)
}

/// What the add-user form gives.
pub struct NewAccount {
    pub email: String,
    pub display_name: String,
    pub organisation_code: String,
    pub roles: Vec<Role>,
}

/// Adds a user to an organisation the admin reaches, with a generated password shown
/// once. Returns the user and the password.
pub fn add_user(
    conn: &mut DbConn,
    actor: &Actor,
    reach: &Reach,
    input: NewAccount,
    params: &PasswordParams,
) -> AppResult<(User, String)> {
    let code = input.organisation_code.trim();
    if code.is_empty() {
        return Err(AppError::invalid("org", "choose the user's organisation"));
    }
    let reached = organisations(conn, reach)?;
    if !reached.iter().any(|o| o.code == code) {
        return Err(AppError::invalid("org", "choose one of the organisations listed"));
    }
    let password = generated_password();
    let user = auth::add_user(
        conn,
        actor,
        NewUser {
            email: &input.email,
            display_name: &input.display_name,
            organisation_code: code,
            roles: &input.roles,
            password: &password,
        },
        params,
    )?;
    Ok((user, password))
}

/// A new random password: 24 URL-safe base64 characters (144 bits).
pub fn generated_password() -> String {
    auth::token::new_csrf_token().chars().take(24).collect()
}

/// The user `id` if `reach` reaches them (otherwise 404).
fn reached_user(conn: &mut DbConn, reach: &Reach, id: &str) -> AppResult<User> {
    let mut q = users::table
        .filter(users::id.eq(id))
        .select(User::as_select())
        .into_boxed();
    if let Some(orgs) = reach.organisations() {
        q = q.filter(users::organisation_id.eq_any(orgs.to_vec()));
    }
    q.first(conn).optional()?.ok_or(AppError::NotFound("user"))
}

fn end_sessions(conn: &mut DbConn, user_id: &str) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::ended_at.is_null()),
    )
    .set(sessions::ended_at.eq(now_utc()))
    .execute(conn)
}

fn audited(conn: &mut DbConn, actor: &Actor, action: &str, id: &str, what: &str) -> AppResult<()> {
    let changes = serde_json::json!({ "change": what }).to_string();
    audit::record(
        conn,
        actor,
        AuditEvent {
            changes: Some(changes),
            ..AuditEvent::ok(action, "user", Some(id), None)
        },
    )?;
    Ok(())
}

/// Disables a user: they can no longer sign in, their sessions end and their tokens stop
/// working. Disabling oneself is refused (an admin could lock everyone out).
pub fn disable_user(conn: &mut DbConn, actor: &Actor, reach: &Reach, id: &str) -> AppResult<User> {
    write_transaction(conn, |conn| {
        let user = reached_user(conn, reach, id)?;
        if actor.user_id.as_deref() == Some(user.id.as_str()) {
            return Err(AppError::Conflict("you cannot disable your own account".into()));
        }
        if user.active != 1 {
            return Err(AppError::Conflict("the account is already disabled".into()));
        }
        diesel::update(users::table.find(&user.id))
            .set(users::active.eq(0))
            .execute(conn)?;
        end_sessions(conn, &user.id)?;
        audited(conn, actor, "disable", &user.id, "disabled")?;
        Ok(user)
    })
}

/// Lifts a lock after too many failed sign-ins.
pub fn unlock_user(conn: &mut DbConn, actor: &Actor, reach: &Reach, id: &str) -> AppResult<User> {
    write_transaction(conn, |conn| {
        let user = reached_user(conn, reach, id)?;
        diesel::update(users::table.find(&user.id))
            .set((
                users::locked_until.eq(None::<chrono::NaiveDateTime>),
                users::failed_logins.eq(0),
            ))
            .execute(conn)?;
        audited(conn, actor, "unlock", &user.id, "unlocked")?;
        Ok(user)
    })
}

/// Gives a user a new generated password (returned: shown once), ends their sessions and
/// lifts any lock. The hash is worked out before the write transaction (argon2 is slow).
pub fn reset_password(
    conn: &mut DbConn,
    actor: &Actor,
    reach: &Reach,
    id: &str,
    params: &PasswordParams,
) -> AppResult<(User, String)> {
    let user = reached_user(conn, reach, id)?;
    let password = generated_password();
    let hash = auth::password::hash_password(&password, params).map_err(|e| AppError::Internal(e.to_string()))?;
    write_transaction(conn, |conn| {
        let user = reached_user(conn, reach, &user.id)?;
        diesel::update(users::table.find(&user.id))
            .set((
                users::password_hash.eq(Some(&hash)),
                users::locked_until.eq(None::<chrono::NaiveDateTime>),
                users::failed_logins.eq(0),
            ))
            .execute(conn)?;
        end_sessions(conn, &user.id)?;
        audited(conn, actor, "reset_password", &user.id, "password reset")?;
        Ok((user, password))
    })
}

/// Adds an organisation (ICB admins only: they oversee the deployment).
pub fn add_organisation(
    conn: &mut DbConn,
    actor: &Actor,
    reach: &Reach,
    o: NewOrganisation<'_>,
) -> AppResult<Organisation> {
    if !reach.oversees() {
        return Err(AppError::Forbidden(
            "only the ICB's administrators add organisations".into(),
        ));
    }
    auth::add_organisation(conn, actor, o)
}

/// Sets (or clears) the team manager address of the local authority `id`, if the admin
/// reaches it (otherwise 404).
pub fn set_team_manager(
    conn: &mut DbConn,
    actor: &Actor,
    reach: &Reach,
    id: &str,
    email: Option<&str>,
) -> AppResult<()> {
    let reached = organisations(conn, reach)?;
    let Some(la) = reached.iter().find(|o| o.id == id && o.kind == "local_authority") else {
        return Err(AppError::NotFound("organisation"));
    };
    crate::service::escalations::set_team_manager(conn, actor, &la.code, email)
}

/// Sets (or clears) the host ICB Designated Nurse address of the host area organisation
/// `id` (a local authority or host provider), if the admin reaches it (otherwise 404).
pub fn set_host_icb_nurse(
    conn: &mut DbConn,
    actor: &Actor,
    reach: &Reach,
    id: &str,
    email: Option<&str>,
) -> AppResult<()> {
    let reached = organisations(conn, reach)?;
    if !reached.iter().any(|o| o.id == id && host_area(&o.kind)) {
        return Err(AppError::NotFound("organisation"));
    }
    crate::service::escalations::set_host_icb_nurse(conn, actor, id, email)
}

/// Whether an organisation of this kind can be a host area (and so hold a host ICB
/// Designated Nurse address; the database checks the same).
pub fn host_area(kind: &str) -> bool {
    matches!(kind, "local_authority" | "host_provider")
}

/// Issues a token for a user the admin reaches (by email).
pub fn issue_token(
    conn: &mut DbConn,
    actor: &Actor,
    reach: &Reach,
    email: &str,
    label: &str,
) -> AppResult<(ApiToken, String)> {
    let user = auth::find_user(conn, email)?;
    if reached_user(conn, reach, &user.id).is_err() {
        return Err(AppError::invalid("email", "no account with this email"));
    }
    auth::issue_token(conn, actor, email, label)
}

/// What the audit page shows: the verify result (entries checked, or where the chain
/// breaks) and the chain's head (last sequence number and its hash).
pub struct AuditStatus {
    pub verified: Result<i64, String>,
    pub head: Option<(i64, String)>,
}

/// Verifies the whole audit chain and reads its head.
pub fn audit_status(conn: &mut DbConn) -> AppResult<AuditStatus> {
    use crate::db::schema::audit_log;
    let verified = audit::verify(conn)?.map_err(|b| b.to_string());
    let head: Option<(i64, String)> = audit_log::table
        .order(audit_log::seq.desc())
        .select((audit_log::seq, audit_log::hash))
        .first(conn)
        .optional()?;
    Ok(AuditStatus { verified, head })
}
