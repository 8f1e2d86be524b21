//! `org`, `user`, `token` and `audit` commands.

use std::io::BufRead;

use anyhow::{anyhow, bail};

use super::{connect, AuditCommand, OrgCommand, TokenCommand, UserCommand};
use crate::access::Role;
use crate::audit::{self, Actor};
use crate::auth::{self, password::PasswordParams, NewOrganisation, NewUser};
use crate::db::{self, DbConn};
use crate::service::reach::Reach;
use crate::settings::Settings;

pub fn password_params(settings: &Settings) -> PasswordParams {
    PasswordParams {
        memory_kib: settings.auth.argon2_memory_kib,
        iterations: settings.auth.argon2_iterations,
        parallelism: 1,
    }
}

pub(crate) fn ready(settings: &Settings) -> anyhow::Result<DbConn> {
    let mut conn = connect(settings)?;
    db::run_migrations(&mut conn)?;
    auth::ensure_home_icb(
        &mut conn,
        &settings.organisation.icb_code,
        &settings.organisation.icb_name,
    )
    .map_err(|e| anyhow!("{e}"))?;
    Ok(conn)
}

/// The operating-system user behind a command, for the audit trail.
pub(crate) fn cli_actor() -> Actor {
    let who = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".into());
    Actor::system(&format!("cli:{who}"))
}

pub fn org(settings: Settings, command: OrgCommand) -> anyhow::Result<()> {
    let mut conn = ready(&settings)?;
    match command {
        OrgCommand::List => {
            let orgs = list_organisations(&mut conn)?;
            print!("{}", organisation_table(&orgs));
        }
        OrgCommand::TeamManager { code, email } => {
            let email = Some(email.trim()).filter(|e| !e.is_empty());
            crate::service::escalations::set_team_manager(&mut conn, &cli_actor(), &code, email)
                .map_err(|e| anyhow!("{e}"))?;
            println!("team manager of {code}: {}", email.unwrap_or("(none)"));
        }
        OrgCommand::HostIcbNurse { code, email } => {
            let email = Some(email.trim()).filter(|e| !e.is_empty());
            let org = auth::find_organisation(&mut conn, &code).map_err(|e| anyhow!("{e}"))?;
            crate::service::escalations::set_host_icb_nurse(&mut conn, &cli_actor(), &org.id, email)
                .map_err(|e| anyhow!("{e}"))?;
            println!("host ICB Designated Nurse of {code}: {}", email.unwrap_or("(none)"));
        }
        OrgCommand::Add { kind, name, code, icb } => {
            let icb_code = match (kind.as_str(), icb) {
                ("icb", _) => None,
                (_, Some(c)) => Some(c),
                (_, None) => Some(settings.organisation.icb_code.clone()),
            };
            let o = auth::add_organisation(
                &mut conn,
                &cli_actor(),
                NewOrganisation {
                    kind: &kind,
                    name: &name,
                    code: &code,
                    icb_code: icb_code.as_deref(),
                },
            )
            .map_err(|e| anyhow!("{e}"))?;
            println!("added {} {} ({})", o.kind, o.code, o.id);
        }
    }
    Ok(())
}

/// Every organisation, ICBs first, then by kind and code.
fn list_organisations(conn: &mut DbConn) -> anyhow::Result<Vec<db::models::Organisation>> {
    use crate::db::schema::organisations;
    use diesel::prelude::*;
    let mut orgs: Vec<db::models::Organisation> = organisations::table
        .order((organisations::kind, organisations::code))
        .select(db::models::Organisation::as_select())
        .load(conn)?;
    orgs.sort_by_key(|o| o.kind != "icb");
    Ok(orgs)
}

/// `org list`: one line per organisation, aligned, with the code of its ICB ("-" for an ICB).
fn organisation_table(orgs: &[db::models::Organisation]) -> String {
    let icb_code = |id: &Option<String>| {
        id.as_ref()
            .and_then(|id| orgs.iter().find(|o| &o.id == id))
            .map(|o| o.code.as_str())
            .unwrap_or("-")
    };
    let rows: Vec<[&str; 4]> = orgs
        .iter()
        .map(|o| [o.code.as_str(), o.kind.as_str(), icb_code(&o.icb_id), o.name.as_str()])
        .collect();
    let header = ["code", "kind", "icb", "name"];
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].len())
            .chain([header[i].len()])
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2)];
    let mut out = String::new();
    for r in std::iter::once(&header).chain(rows.iter()) {
        out.push_str(&format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {}\n",
            r[0],
            r[1],
            r[2],
            r[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        ));
    }
    out
}

pub fn user(settings: Settings, command: UserCommand) -> anyhow::Result<()> {
    let UserCommand::Add {
        email,
        roles,
        org,
        name,
    } = command;
    let roles: Vec<Role> = roles
        .iter()
        .map(|r| r.parse::<Role>())
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow!(e))?;
    let password = read_password()?;
    let mut conn = ready(&settings)?;
    let org = org.unwrap_or_else(|| settings.organisation.icb_code.clone());
    let user = auth::add_user(
        &mut conn,
        &cli_actor(),
        NewUser {
            email: &email,
            display_name: &name,
            organisation_code: &org,
            roles: &roles,
            password: &password,
        },
        &password_params(&settings),
    )
    .map_err(|e| anyhow!("{e}"))?;
    println!("added user {} ({})", user.email, user.id);
    Ok(())
}

/// One line from standard input, so the password never appears in the process list or
/// the shell history.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        bail!("give the password on standard input, e.g. `cla-tracker user add ... < password-file`");
    }
    Ok(password)
}

pub fn token(settings: Settings, command: TokenCommand) -> anyhow::Result<()> {
    let mut conn = ready(&settings)?;
    match command {
        TokenCommand::Issue { email, label } => {
            let (row, token) =
                auth::issue_token(&mut conn, &cli_actor(), &email, &label).map_err(|e| anyhow!("{e}"))?;
            eprintln!("token {} issued for {email}; it is shown only now:", row.id);
            println!("{token}");
        }
        TokenCommand::List => {
            for t in auth::list_tokens(&mut conn, &Reach::everything()).map_err(|e| anyhow!("{e}"))? {
                let state = if t.revoked_at.is_some() { "revoked" } else { "active" };
                let used = t.last_used_at.map(|d| d.to_rfc3339()).unwrap_or_else(|| "never".into());
                println!("{}  {}  {}  {state}  last used {used}", t.id, t.user_email, t.label);
            }
        }
        TokenCommand::Revoke { id } => {
            auth::revoke_token(&mut conn, &cli_actor(), &id, &Reach::everything()).map_err(|e| anyhow!("{e}"))?;
            println!("revoked {id}");
        }
    }
    Ok(())
}

pub fn audit(settings: Settings, command: AuditCommand) -> anyhow::Result<()> {
    let mut conn = ready(&settings)?;
    match command {
        AuditCommand::Verify => match audit::verify(&mut conn)? {
            Ok(n) => println!("audit trail intact: {n} entries checked"),
            Err(broken) => bail!("audit trail broken: {broken}"),
        },
        AuditCommand::Export { from, to } => {
            if to < from {
                bail!("--to is before --from");
            }
            let start = from.and_hms_opt(0, 0, 0).unwrap_or_default();
            let end = (to + chrono::Duration::days(1))
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default();
            let mut out = std::io::stdout().lock();
            let n = crate::service::audit_trail::export_csv(&mut conn, start, end, &mut out)?;
            eprintln!("{n} entries exported");
        }
    }
    Ok(())
}
