//! What every page shares: the title, and for a signed-in user the header's name,
//! organisation, navigation and sign-out form (`templates/layout.html`).
//!
//! Rules:
//! - The header names the user and their organisation by name, never by code.
//! - Navigation lists only pages the user's roles may open (asked of `access::PAGES` and the
//!   role matrix), so no link leads to a refusal.

use crate::access::Role;
use crate::auth::Principal;

pub const SERVICE_NAME: &str = "CLA health tracker";

/// The page frame.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The page's own title ("Error: " already added when it shows errors).
    pub title: String,
    pub chrome: Option<Chrome>,
}

/// The signed-in parts of the header.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub user_name: String,
    pub organisation_name: String,
    /// The session's CSRF token, for the sign-out form and every other form.
    pub csrf: String,
    pub nav: Vec<NavItem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The main navigation, in order; each shown only to roles that may open it.
const NAVIGATION: [(&str, &str); 7] = [
    ("/", "Home"),
    ("/children", "Find a child"),
    ("/children/new", "Register a child"),
    ("/assurance", "Assurance meeting"),
    ("/reports", "Monthly performance"),
    ("/escalations", "Escalations"),
    ("/admin", "Admin console"),
];

impl Layout {
    /// A page outside a session (sign-in, errors for signed-out browsers).
    pub fn public(title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            chrome: None,
        }
    }

    /// A page for a signed-in user; `path` marks the current navigation item.
    pub fn signed_in(title: impl Into<String>, principal: &Principal, path: &str) -> Layout {
        Layout {
            title: title.into(),
            chrome: Some(Chrome::new(principal, path)),
        }
    }

    pub fn csrf(&self) -> &str {
        self.chrome.as_ref().map(|c| c.csrf.as_str()).unwrap_or("")
    }
}

impl Chrome {
    pub fn new(p: &Principal, path: &str) -> Chrome {
        Chrome {
            user_name: p.display_name.clone(),
            organisation_name: p.organisation_name.clone(),
            csrf: p.session.as_ref().map(|s| s.csrf_token.clone()).unwrap_or_default(),
            nav: navigation(&p.roles, path),
        }
    }
}

/// The links a user with these roles may follow.
pub fn navigation(roles: &[Role], path: &str) -> Vec<NavItem> {
    NAVIGATION
        .iter()
        .filter(|(href, _)| super::may(roles, "GET", href))
        .map(|(href, label)| NavItem {
            href,
            label,
            current: current(href, path),
        })
        .collect()
}

fn current(href: &str, path: &str) -> bool {
    match href {
        "/" => path == "/",
        "/children" => path == href || (path.starts_with("/children/") && path != "/children/new"),
        _ => path == href || path.starts_with(&format!("{href}/")),
    }
}

/// A role as people say it.
pub fn role_name(r: &Role) -> &'static str {
    match r {
        Role::Admin => "Administrator",
        Role::HealthAdmin => "Health admin",
        Role::Clinician => "Clinician",
        Role::SocialWorker => "Social worker",
        Role::Assurance => "Assurance",
        Role::ReadOnly => "Read only",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn navigation_shows_only_pages_the_roles_may_open() {
        let admin: Vec<&str> = navigation(&[Role::Admin], "/").iter().map(|n| n.label).collect();
        assert_eq!(
            admin,
            ["Home", "Admin console"],
            "admins do not read children's records"
        );
        let worker: Vec<&str> = navigation(&[Role::SocialWorker], "/").iter().map(|n| n.label).collect();
        assert_eq!(worker, ["Home", "Find a child", "Register a child", "Escalations"]);
        let clinician: Vec<&str> = navigation(&[Role::Clinician], "/").iter().map(|n| n.label).collect();
        assert_eq!(
            clinician,
            ["Home", "Find a child", "Escalations"],
            "clinicians do not register children"
        );
    }

    #[test]
    fn the_current_section_is_marked() {
        let nav = navigation(&[Role::HealthAdmin], "/children/abc");
        assert!(!nav[0].current);
        assert!(nav[1].current, "a child's record is under Find a child");
        assert!(navigation(&[Role::HealthAdmin], "/")[0].current);
    }
}
