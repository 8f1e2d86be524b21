//! The email escalation ladder, pure core: the rule file ([`rules`]), the conditions an
//! assessment can be in and the sweep planner ([`conditions`]), and the mail itself
//! ([`mail`]). No I/O: the sweep loads facts, asks [`plan`], records each new
//! (assessment, rule, level, key) once, renders it with [`render`] and marks open
//! escalations whose (rule, key) has left the plan as resolved (see [`cleared`]).

/// Implements `ALL`, `as_str`, `from_name` and `Display` from one name table, so the names
/// in the rule file, the database and messages cannot drift apart.
macro_rules! named {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The snake_case name used in the rule file and the database.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $name),+ }
            }

            /// The value with this name, if there is one.
            pub fn from_name(name: &str) -> Option<$ty> {
                match name {
                    $($name => Some($ty::$variant),)+
                    _ => None,
                }
            }

            /// Every name, comma separated, for error messages.
            pub fn names() -> String {
                [$($name),+].join(", ")
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod conditions;
pub mod mail;
pub mod rules;

pub use conditions::{cleared, holds, level_due, plan, plan_with, Condition, ConditionPolicy, Due, Occurrence};
pub use mail::{due_explanation, escape_html, initials, render, MailContext, Rendered, Template};
pub use rules::{parse, parse_named, Ladder, Level, Recipient, Rule, RulesError, DEFAULT_PATH};
