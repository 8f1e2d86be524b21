//! Accounts: organisations, users and roles, sign-in with throttling and lockout, browser
//! sessions and API tokens. Who may do what is in `crate::access`; this module finds out
//! who is asking.

pub mod password;
pub mod token;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::Role;
use crate::audit::{self, Actor, AuditEvent};
use crate::db::models::{new_id, now_utc, ApiToken, Organisation, Session, User};
use crate::db::schema::*;
use crate::db::{write_transaction, DbConn};
use crate::error::{on_unique_violation, AppError, AppResult};
use crate::service::reach::Reach;
use crate::settings::AuthSettings;

/// A signed-in user, with what they may see.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Principal {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub organisation_id: String,
    pub organisation_code: String,
    /// Shown in the browser's header.
    pub organisation_name: String,
    pub organisation_kind: String,
    pub roles: Vec<Role>,
    /// Codes of the local authorities whose children this user may see.
    pub scope: Vec<String>,
    #[serde(skip)]
    pub session: Option<SessionInfo>,
}

#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub id_hash: String,
    pub csrf_token: String,
}

pub const ORG_KINDS: [&str; 4] = ["icb", "provider", "local_authority", "host_provider"];

fn load_org(conn: &mut DbConn, id: &str) -> QueryResult<Organisation> {
    organisations::table
        .find(id)
        .select(Organisation::as_select())
        .first(conn)
}

/// Local authorities whose children the organisation's staff work with: its own children
/// for an LA; every LA in the ICB for the ICB and its providers; none for a host provider.
pub fn scope_codes(conn: &mut DbConn, org: &Organisation) -> QueryResult<Vec<String>> {
    let icb = match org.kind.as_str() {
        "local_authority" => return Ok(vec![org.code.clone()]),
        "icb" => Some(org.id.clone()),
        "provider" => org.icb_id.clone(),
        _ => None,
    };
    let Some(icb) = icb else { return Ok(Vec::new()) };
    organisations::table
        .filter(organisations::kind.eq("local_authority"))
        .filter(organisations::icb_id.eq(icb))
        .select(organisations::code)
        .order(organisations::code.asc())
        .load(conn)
}

pub fn principal(conn: &mut DbConn, user: &User, session: Option<SessionInfo>) -> QueryResult<Principal> {
    let org = load_org(conn, &user.organisation_id)?;
    let role_names: Vec<String> = user_roles::table
        .filter(user_roles::user_id.eq(&user.id))
        .select(user_roles::role)
        .load(conn)?;
    let mut roles: Vec<Role> = role_names.iter().filter_map(|r| r.parse().ok()).collect();
    roles.sort();
    Ok(Principal {
        user_id: user.id.clone(),
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        organisation_id: org.id.clone(),
        organisation_code: org.code.clone(),
        organisation_name: org.name.clone(),
        organisation_kind: org.kind.clone(),
        roles,
        scope: scope_codes(conn, &org)?,
        session,
    })
}

fn active_user(conn: &mut DbConn, user_id: &str) -> QueryResult<Option<User>> {
    users::table
        .find(user_id)
        .filter(users::active.eq(1))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// How often "last used" / "last seen" is written: often enough to be useful, rarely
/// enough that reads do not each become a write.
const TOUCH_INTERVAL_SECONDS: i64 = 60;

/// How stale a token's `last_used_at` may get: an integration sending many requests a
/// second costs one write every few minutes, not one per request.
pub const TOKEN_TOUCH_MINUTES: i64 = 5;

/// The user behind a bearer token, if it is genuine, unrevoked and the user active.
pub fn by_token(conn: &mut DbConn, raw: &str, now: NaiveDateTime) -> QueryResult<Option<Principal>> {
    if !token::looks_like_token(raw) {
        return Ok(None);
    }
    let found: Option<ApiToken> = api_tokens::table
        .filter(api_tokens::token_hash.eq(token::hash_token(raw)))
        .filter(api_tokens::revoked_at.is_null())
        .select(ApiToken::as_select())
        .first(conn)
        .optional()?;
    let Some(t) = found else { return Ok(None) };
    let Some(user) = active_user(conn, &t.user_id)? else {
        return Ok(None);
    };
    let touch_before = now - Duration::minutes(TOKEN_TOUCH_MINUTES);
    if t.last_used_at.is_none_or(|at| at <= touch_before) {
        // Conditional, so that of the requests that all saw a stale time at once only
        // the first changes the row.
        diesel::update(api_tokens::table.find(&t.id))
            .filter(
                api_tokens::last_used_at
                    .is_null()
                    .or(api_tokens::last_used_at.le(touch_before)),
            )
            .set(api_tokens::last_used_at.eq(now))
            .execute(conn)?;
    }
    principal(conn, &user, None).map(Some)
}

/// The user behind a session cookie, if the session is open and neither idle nor too old.
pub fn by_session(
    conn: &mut DbConn,
    cookie: &str,
    now: NaiveDateTime,
    settings: &AuthSettings,
) -> QueryResult<Option<Principal>> {
    if !token::looks_like_token(cookie) {
        return Ok(None);
    }
    let id_hash = token::hash_token(cookie);
    let found: Option<Session> = sessions::table
        .find(&id_hash)
        .filter(sessions::ended_at.is_null())
        .select(Session::as_select())
        .first(conn)
        .optional()?;
    let Some(s) = found else { return Ok(None) };
    let idle = now - s.last_seen_at > Duration::minutes(i64::from(settings.session_idle_minutes));
    let too_old = now - s.created_at > Duration::hours(i64::from(settings.session_absolute_hours));
    if idle || too_old {
        end_session(conn, &id_hash, now)?;
        return Ok(None);
    }
    let Some(user) = active_user(conn, &s.user_id)? else {
        return Ok(None);
    };
    if (now - s.last_seen_at).num_seconds() >= TOUCH_INTERVAL_SECONDS.min(i64::from(settings.session_idle_minutes) * 30)
    {
        diesel::update(sessions::table.find(&id_hash))
            .set(sessions::last_seen_at.eq(now))
            .execute(conn)?;
    }
    principal(
        conn,
        &user,
        Some(SessionInfo {
            id_hash,
            csrf_token: s.csrf_token,
        }),
    )
    .map(Some)
}

pub fn end_session(conn: &mut DbConn, id_hash: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(sessions::table.find(id_hash).filter(sessions::ended_at.is_null()))
        .set(sessions::ended_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// What a sign-in attempt came to. Unknown users, wrong passwords, locked and inactive
/// accounts all come out as `Refused`, so the answer reveals nothing about the account.
pub enum LoginOutcome {
    Success { cookie: String, principal: Box<Principal> },
    Refused,
    Throttled,
}

pub struct LoginAttempt<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub client_address: &'a str,
    /// The hash of the session cookie the browser already had, to end it (no fixation).
    pub previous_session: Option<String>,
}

/// Checks a password and opens a session. The password check runs outside the write
/// transaction (argon2 is slow by design and must not hold the database's write lock).
///
/// Parallel attempts cannot get past the limits: the attempt counts against the address
/// before the count is checked (and is taken back only if it succeeds), and the account's
/// failures are counted up in the database and its lock read again after the password
/// check, rather than worked out from the row read before it.
pub fn login(
    conn: &mut DbConn,
    attempt: LoginAttempt<'_>,
    settings: &AuthSettings,
    dummy_hash: &str,
) -> AppResult<LoginOutcome> {
    let now = now_utc();
    let (email, usable) = sign_in_email(attempt.email);
    let counted = write_transaction(conn, |conn| count_attempt(conn, attempt.client_address, now))?;
    if address_throttled(conn, attempt.client_address, now, settings)? {
        write_transaction(conn, |conn| {
            audit_login(conn, None, &email, attempt.client_address, "failed", "throttled")
        })?;
        return Ok(LoginOutcome::Throttled);
    }
    let user: Option<User> = if usable {
        users::table
            .filter(users::email.eq(&email))
            .select(User::as_select())
            .first(conn)
            .optional()?
    } else {
        None
    };
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    // Always verify something, so unknown accounts take as long as known ones.
    let password_ok =
        password::verify_password(attempt.password, hash.as_deref().unwrap_or(dummy_hash)) && hash.is_some();
    write_transaction(conn, |conn| {
        let user = match &user {
            Some(u) => users::table
                .find(&u.id)
                .select(User::as_select())
                .first(conn)
                .optional()?,
            None => None,
        };
        match &user {
            Some(u) if password_ok && u.active == 1 && u.locked_until.is_none_or(|t| t <= now) => {
                diesel::delete(login_failures::table.find(&counted)).execute(conn)?;
                succeed(conn, u, &attempt, now).map(|(cookie, principal)| LoginOutcome::Success {
                    cookie,
                    principal: Box::new(principal),
                })
            }
            _ => {
                fail(
                    conn,
                    user.as_ref(),
                    &email,
                    attempt.client_address,
                    now,
                    settings,
                    password_ok,
                )?;
                Ok(LoginOutcome::Refused)
            }
        }
    })
}

/// Puts the attempt on the address's count (it is taken back if it succeeds) and returns
/// its id.
fn count_attempt(conn: &mut DbConn, address: &str, now: NaiveDateTime) -> AppResult<String> {
    let id = new_id();
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::id.eq(&id),
            login_failures::client_address.eq(address),
            login_failures::occurred_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

/// The email as typed, trimmed and lower-cased, and whether it could name an account. One
/// holding a control character cannot (accounts are created without), and could not even be
/// looked up on PostgreSQL (no NUL in text), so it signs in as an unknown account would:
/// the same answer, time and throttling. It is put on record with each such character
/// shown as U+FFFD.
fn sign_in_email(typed: &str) -> (String, bool) {
    let email = typed.trim().to_lowercase();
    if crate::input::control_character(&email, false).is_none() {
        return (email, true);
    }
    let shown = email
        .chars()
        .map(|c| if c.is_control() { char::REPLACEMENT_CHARACTER } else { c })
        .collect();
    (shown, false)
}

fn address_throttled(conn: &mut DbConn, address: &str, now: NaiveDateTime, s: &AuthSettings) -> AppResult<bool> {
    let since = now - Duration::minutes(i64::from(s.address_window_minutes));
    let failures: i64 = login_failures::table
        .filter(login_failures::client_address.eq(address))
        .filter(login_failures::occurred_at.gt(since))
        .count()
        .get_result(conn)?;
    // The count includes this attempt: throttled when the failures before it reach the limit.
    Ok(failures > i64::from(s.address_max_failures))
}

fn succeed(
    conn: &mut DbConn,
    u: &User,
    attempt: &LoginAttempt<'_>,
    now: NaiveDateTime,
) -> AppResult<(String, Principal)> {
    if let Some(previous) = &attempt.previous_session {
        end_session(conn, previous, now)?;
    }
    let (cookie, id_hash) = token::new_session_id();
    let csrf = token::new_csrf_token();
    let row = Session {
        id_hash: id_hash.clone(),
        user_id: u.id.clone(),
        csrf_token: csrf.clone(),
        client_address: Some(attempt.client_address.to_string()),
        created_at: now,
        last_seen_at: now,
        ended_at: None,
    };
    diesel::insert_into(sessions::table).values(&row).execute(conn)?;
    diesel::update(users::table.find(&u.id))
        .set((
            users::failed_logins.eq(0),
            users::locked_until.eq(None::<NaiveDateTime>),
            users::last_login_at.eq(now),
        ))
        .execute(conn)?;
    audit_login(conn, Some(u), &u.email, attempt.client_address, "ok", "login")?;
    let principal = principal(
        conn,
        u,
        Some(SessionInfo {
            id_hash,
            csrf_token: csrf,
        }),
    )?;
    Ok((cookie, principal))
}

/// Counts the failure against the account (the address's count has it already); locks the
/// account after too many in a row (the count restarts, so each lock-out allows the same
/// number of tries).
fn fail(
    conn: &mut DbConn,
    user: Option<&User>,
    email: &str,
    address: &str,
    now: NaiveDateTime,
    s: &AuthSettings,
    password_ok: bool,
) -> AppResult<()> {
    let reason = match user {
        None => "unknown account",
        Some(u) if u.active != 1 => "inactive account",
        Some(u) if u.locked_until.is_some_and(|t| t > now) => "account locked",
        Some(_) if password_ok => "account locked",
        Some(_) => "wrong password",
    };
    if let Some(u) = user.filter(|_| reason == "wrong password") {
        // Counted up in the database: the UPDATE waits for any other failure's, so each
        // one counts even when they come at once.
        diesel::update(users::table.find(&u.id))
            .set(users::failed_logins.eq(users::failed_logins + 1))
            .execute(conn)?;
        let failures: i32 = users::table.find(&u.id).select(users::failed_logins).first(conn)?;
        if failures >= s.max_failed_logins as i32 {
            diesel::update(users::table.find(&u.id))
                .set((
                    users::failed_logins.eq(0),
                    users::locked_until.eq(now + Duration::minutes(i64::from(s.lockout_minutes))),
                ))
                .execute(conn)?;
        }
    }
    audit_login(conn, user, email, address, "failed", reason)
}

fn audit_login(
    conn: &mut DbConn,
    user: Option<&User>,
    email: &str,
    address: &str,
    outcome: &str,
    what: &str,
) -> AppResult<()> {
    let actor = Actor {
        user_id: user.map(|u| u.id.clone()),
        email: Some(email.to_string()),
        role: None,
        client_address: Some(address.to_string()),
    };
    let changes = serde_json::json!({ "reason": [null, what] }).to_string();
    audit::record(
        conn,
        &actor,
        AuditEvent {
            action: "login",
            entity: "session",
            entity_id: None,
            child_id: None,
            outcome,
            changes: Some(changes),
        },
    )?;
    Ok(())
}

pub fn logout(conn: &mut DbConn, p: &Principal, address: &str) -> AppResult<()> {
    let Some(session) = &p.session else { return Ok(()) };
    let now = now_utc();
    write_transaction(conn, |conn| {
        end_session(conn, &session.id_hash, now)?;
        let actor = Actor {
            user_id: Some(p.user_id.clone()),
            email: Some(p.email.clone()),
            role: None,
            client_address: Some(address.to_string()),
        };
        audit::record(conn, &actor, AuditEvent::ok("logout", "session", None, None))?;
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------
// Administration (CLI and admin API)

pub struct NewOrganisation<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub code: &'a str,
    pub icb_code: Option<&'a str>,
}

pub fn add_organisation(conn: &mut DbConn, actor: &Actor, o: NewOrganisation<'_>) -> AppResult<Organisation> {
    if !ORG_KINDS.contains(&o.kind) {
        return Err(AppError::invalid(
            "kind",
            format!("must be one of {}", ORG_KINDS.join(", ")),
        ));
    }
    let code = o.code.trim();
    if code.is_empty() || code.len() > 20 || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(AppError::invalid("code", "must be 1-20 letters, digits or hyphens"));
    }
    if o.name.trim().is_empty() {
        return Err(AppError::invalid("name", "must not be empty"));
    }
    single_line("name", o.name)?;
    write_transaction(conn, |conn| {
        let icb_id = match o.icb_code {
            Some(c) => Some(
                organisations::table
                    .filter(organisations::code.eq(c))
                    .filter(organisations::kind.eq("icb"))
                    .select(organisations::id)
                    .first::<String>(conn)
                    .optional()?
                    .ok_or_else(|| AppError::invalid("icb", format!("no ICB with code {c}")))?,
            ),
            None if o.kind == "icb" => None,
            None => {
                return Err(AppError::invalid(
                    "icb",
                    "every organisation but an ICB belongs to an ICB",
                ))
            }
        };
        let row = Organisation {
            id: new_id(),
            kind: o.kind.to_string(),
            name: o.name.trim().to_string(),
            code: code.to_string(),
            icb_id,
            created_at: now_utc(),
        };
        on_unique_violation(
            diesel::insert_into(organisations::table).values(&row).execute(conn),
            || AppError::Conflict(format!("an organisation with code {} already exists", row.code)),
        )?;
        audit::record(
            conn,
            actor,
            AuditEvent::ok("create", "organisation", Some(&row.id), None),
        )?;
        Ok(row)
    })
}

/// Each role once, in the order given (`--role a --role a` is one role, not a clash).
fn roles_once(roles: &[Role]) -> Vec<Role> {
    let mut once = Vec::new();
    for r in roles {
        if !once.contains(r) {
            once.push(*r);
        }
    }
    once
}

/// The text rule of `crate::input` for names given on the command line.
fn single_line(field: &str, text: &str) -> AppResult<()> {
    match crate::input::control_character(text, false) {
        Some(c) => Err(AppError::invalid(
            field,
            crate::input::control_character_message(c, false),
        )),
        None => Ok(()),
    }
}

pub fn find_organisation(conn: &mut DbConn, code: &str) -> AppResult<Organisation> {
    organisations::table
        .filter(organisations::code.eq(code))
        .select(Organisation::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::invalid("org", format!("no organisation with code {code}")))
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub organisation_code: &'a str,
    pub roles: &'a [Role],
    pub password: &'a str,
}

pub fn add_user(
    conn: &mut DbConn,
    actor: &Actor,
    u: NewUser<'_>,
    params: &password::PasswordParams,
) -> AppResult<User> {
    let email = u.email.trim().to_lowercase();
    if !email.contains('@') || email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppError::invalid("email", "must be an email address"));
    }
    single_line("name", u.display_name)?;
    if u.roles.is_empty() {
        return Err(AppError::invalid("role", "give at least one role"));
    }
    password::check_policy(u.password, &email).map_err(|e| AppError::invalid("password", e.to_string()))?;
    let org = find_organisation(conn, u.organisation_code)?;
    let hash = password::hash_password(u.password, params).map_err(|e| AppError::Internal(e.to_string()))?;
    write_transaction(conn, |conn| {
        let taken = || AppError::invalid("email", "an account with this email already exists");
        let count: i64 = users::table.filter(users::email.eq(&email)).count().get_result(conn)?;
        if count > 0 {
            return Err(taken());
        }
        let row = User {
            id: new_id(),
            organisation_id: org.id.clone(),
            email: email.clone(),
            display_name: if u.display_name.trim().is_empty() {
                email.clone()
            } else {
                u.display_name.trim().to_string()
            },
            password_hash: Some(hash),
            active: 1,
            failed_logins: 0,
            locked_until: None,
            last_login_at: None,
            created_at: now_utc(),
        };
        // UNIQUE (email) decides between two additions at once.
        on_unique_violation(diesel::insert_into(users::table).values(&row).execute(conn), taken)?;
        let roles = roles_once(u.roles);
        for r in &roles {
            diesel::insert_into(user_roles::table)
                .values((user_roles::user_id.eq(&row.id), user_roles::role.eq(r.as_str())))
                .execute(conn)?;
        }
        let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        let changes = serde_json::json!({ "email": [null, row.email], "roles": [null, roles] }).to_string();
        audit::record(
            conn,
            actor,
            AuditEvent {
                changes: Some(changes),
                ..AuditEvent::ok("create", "user", Some(&row.id), None)
            },
        )?;
        Ok(row)
    })
}

pub fn find_user(conn: &mut DbConn, email: &str) -> AppResult<User> {
    users::table
        .filter(users::email.eq(email.trim().to_lowercase()))
        .select(User::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::invalid("email", "no account with this email"))
}

/// Issues a bearer token for a user and returns it: the only time it is ever shown.
pub fn issue_token(conn: &mut DbConn, actor: &Actor, email: &str, label: &str) -> AppResult<(ApiToken, String)> {
    single_line("label", label)?;
    let user = find_user(conn, email)?;
    let (token, hash) = token::new_token();
    let row = ApiToken {
        id: new_id(),
        user_id: user.id,
        token_hash: hash,
        label: if label.trim().is_empty() {
            "integration".into()
        } else {
            label.trim().chars().take(100).collect()
        },
        created_at: now_utc(),
        last_used_at: None,
        revoked_at: None,
    };
    write_transaction(conn, |conn| {
        diesel::insert_into(api_tokens::table).values(&row).execute(conn)?;
        audit::record(conn, actor, AuditEvent::ok("create", "api_token", Some(&row.id), None))?;
        Ok::<_, AppError>(())
    })?;
    Ok((row, token))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: String,
    pub user_email: String,
    pub label: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The tokens of the users `reach` reaches (`service::reach`), newest first.
pub fn list_tokens(conn: &mut DbConn, reach: &Reach) -> AppResult<Vec<TokenView>> {
    let mut query = api_tokens::table
        .inner_join(users::table)
        .order(api_tokens::created_at.desc())
        .select((ApiToken::as_select(), users::email))
        .into_boxed();
    if let Some(orgs) = reach.organisations() {
        query = query.filter(users::organisation_id.eq_any(orgs.to_vec()));
    }
    let rows: Vec<(ApiToken, String)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(t, email)| TokenView {
            id: t.id,
            user_email: email,
            label: t.label,
            created_at: t.created_at.and_utc(),
            last_used_at: t.last_used_at.map(|d| d.and_utc()),
            revoked_at: t.revoked_at.map(|d| d.and_utc()),
        })
        .collect())
}

/// Revokes a token of a user `reach` reaches; any other answers like an unknown one (404).
pub fn revoke_token(conn: &mut DbConn, actor: &Actor, id: &str, reach: &Reach) -> AppResult<()> {
    write_transaction(conn, |conn| {
        let target = api_tokens::table.find(id).filter(api_tokens::revoked_at.is_null());
        let n = match reach.organisations() {
            None => diesel::update(target)
                .set(api_tokens::revoked_at.eq(now_utc()))
                .execute(conn)?,
            Some(orgs) => {
                let reached = users::table
                    .filter(users::organisation_id.eq_any(orgs))
                    .select(users::id);
                diesel::update(target.filter(api_tokens::user_id.eq_any(reached)))
                    .set(api_tokens::revoked_at.eq(now_utc()))
                    .execute(conn)?
            }
        };
        if n == 0 {
            return Err(AppError::NotFound("token"));
        }
        audit::record(conn, actor, AuditEvent::ok("revoke", "api_token", Some(id), None))?;
        Ok(())
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub organisation_code: String,
    pub roles: Vec<String>,
    pub active: bool,
    pub locked: bool,
    pub last_login_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The users of the organisations `reach` reaches (`service::reach`), by email.
pub fn list_users(conn: &mut DbConn, reach: &Reach) -> AppResult<Vec<UserView>> {
    let mut query = users::table
        .inner_join(organisations::table)
        .order(users::email.asc())
        .select((User::as_select(), organisations::code))
        .into_boxed();
    if let Some(orgs) = reach.organisations() {
        query = query.filter(users::organisation_id.eq_any(orgs.to_vec()));
    }
    let rows: Vec<(User, String)> = query.load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|(u, _)| u.id.as_str()).collect();
    let roles: Vec<(String, String)> = user_roles::table
        .filter(user_roles::user_id.eq_any(&ids))
        .select((user_roles::user_id, user_roles::role))
        .load(conn)?;
    let now = now_utc();
    Ok(rows
        .into_iter()
        .map(|(u, org)| UserView {
            roles: roles
                .iter()
                .filter(|(id, _)| *id == u.id)
                .map(|(_, r)| r.clone())
                .collect(),
            id: u.id,
            email: u.email,
            display_name: u.display_name,
            organisation_code: org,
            active: u.active == 1,
            locked: u.locked_until.is_some_and(|t| t > now),
            last_login_at: u.last_login_at.map(|d| d.and_utc()),
        })
        .collect())
}

/// Creates the deployment's own ICB on first start (idempotent; safe when several
/// instances start together because the code is unique and a clash is treated as done).
pub fn ensure_home_icb(conn: &mut DbConn, code: &str, name: &str) -> AppResult<()> {
    let exists: i64 = organisations::table
        .filter(organisations::code.eq(code))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Ok(());
    }
    let result = add_organisation(
        conn,
        &Actor::system("start-up"),
        NewOrganisation {
            kind: "icb",
            name,
            code,
            icb_code: None,
        },
    );
    match result {
        Ok(_) | Err(AppError::Conflict(_)) => Ok(()),
        Err(e) => Err(e),
    }
}
