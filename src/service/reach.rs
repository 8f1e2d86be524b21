//! What a signed-in user reaches besides children's records: accounts and tokens, the
//! outbox, and the audit trail. Everything narrows from the user's organisation, and what
//! a user does not reach answers like what does not exist (404 for one record; left out
//! of a list).
//!
//! Rules:
//! - **Children** ([`Scope`]): a local authority's staff reach its own children; ICB and
//!   provider staff those of every local authority in their ICB; a host provider's none.
//! - **Organisations**: a user reaches their own organisation; an ICB's staff also every
//!   organisation in the ICB. Only an ICB's staff **oversee** the deployment, which is
//!   what belongs to no organisation: the system's own work, sign-ins to unknown
//!   accounts, and the weekly pack.
//! - **Users** (`GET /users`): those of the organisations reached.
//! - **Tokens** (`GET /tokens`, `POST /tokens/{id}/revoke`): those of the users reached.
//! - **Outbox** (`GET /outbox`, `POST /outbox/{id}/requeue`): a message about an
//!   escalation when the escalation's child is reached; a message about none (the weekly
//!   pack, which lists the children of every local authority) only when overseeing.
//! - **Audit entries** (`service::audit_trail`): an entry that names a child when that
//!   child is reached, whoever acted, so a local authority sees who read or changed its
//!   children and never an entry about another's (their create diffs carry names, dates
//!   of birth and NHS numbers); an entry that names no child when the user who acted
//!   belongs to an organisation reached (their sign-ins, lists, exports, refusals and
//!   account changes); an entry that names neither (the system's, or a sign-in to an
//!   unknown account) only when overseeing.

use std::sync::Arc;

use diesel::prelude::*;

use super::Scope;
use crate::auth::Principal;
use crate::db::schema::organisations;
use crate::db::DbConn;

#[derive(Debug, Clone)]
pub struct Reach {
    pub children: Scope,
    /// Ids of the organisations reached; `None` for every one.
    organisations: Option<Vec<String>>,
    oversees: bool,
}

impl Reach {
    /// The command line and background work: everything.
    pub fn everything() -> Reach {
        Reach {
            children: Scope::Everything,
            organisations: None,
            oversees: true,
        }
    }

    /// A signed-in user's reach (see the module rules).
    pub fn of(conn: &mut DbConn, principal: &Principal) -> QueryResult<Reach> {
        let is_icb = principal.organisation_kind == "icb";
        let mut ids = vec![principal.organisation_id.clone()];
        if is_icb {
            ids.extend(
                organisations::table
                    .filter(organisations::icb_id.eq(&principal.organisation_id))
                    .select(organisations::id)
                    .load::<String>(conn)?,
            );
        }
        Ok(Reach {
            children: Scope::LocalAuthorities(Arc::new(principal.scope.clone())),
            organisations: Some(ids),
            oversees: is_icb,
        })
    }

    /// The organisations reached, or `None` for every one.
    pub fn organisations(&self) -> Option<&[String]> {
        self.organisations.as_deref()
    }

    /// Whether what belongs to no organisation is reached.
    pub fn oversees(&self) -> bool {
        self.oversees
    }
}
