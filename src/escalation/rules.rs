//! The escalation rule file (`config/escalations.toml`): which condition escalates to whom,
//! at which level, after how many working days, with which template.
//!
//! The file is read at start-up, so an administrator changes the ladder without a rebuild.
//! Anything wrong with it stops start-up with a message naming the file and line: a ladder
//! that silently drops a rule would mean a late assessment nobody hears about.
//!
//! Format (see the shipped file for a documented example):
//!
//! ```toml
//! [[rule]]
//! id = "consent_late"              # stable: part of the "fires once" key
//! condition = "iha_consent_late"
//! template = "step_late"
//!
//! [[rule.level]]
//! level = 1
//! after_working_days = 0           # working days after the condition began to hold
//! recipients = ["social_worker"]
//! ```
//!
//! Checks: TOML syntax, unknown keys, unknown condition, template or recipient, empty
//! recipients, a rule without levels, duplicate rule ids, levels within a rule not strictly
//! increasing in both `level` and `after_working_days`, and two rules on the same condition
//! using the same level number (they would fire twice for one step); `p_late_at_least`
//! present (0 to 1) exactly on `likely_late` rules, which have one level at 0 working days.
//! `enabled = false` keeps a checked rule that never fires.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::Deserialize;
use toml::Spanned;

use super::conditions::Condition;
use super::mail::Template;

/// Where the rule file lives, relative to the working directory; also the name used in
/// messages by [`parse`].
pub const DEFAULT_PATH: &str = "config/escalations.toml";

/// Who receives an escalation: a role or a relationship to the child, resolved to
/// addresses by the sweep (the I/O side), never stored in the rule file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// The child's allocated social worker.
    SocialWorker,
    /// The team manager address held for the child's local authority.
    LaTeamManager,
    /// The provider's CLA health admin team mailbox.
    HealthAdminMailbox,
    /// The provider's Named Nurse for Children Looked After.
    NamedNurse,
    /// The ICB's Designated Nurse for Children Looked After.
    DesignatedNurse,
    /// The contact at the host area's CLA health provider (out-of-area placements).
    HostProvider,
    /// The host ICB's Designated Nurse (out-of-area placements).
    HostIcbDesignatedNurse,
    /// The owner of an assurance meeting action (its `owner_email`).
    ActionOwner,
}

named!(Recipient {
    SocialWorker => "social_worker",
    LaTeamManager => "la_team_manager",
    HealthAdminMailbox => "health_admin_mailbox",
    NamedNurse => "named_nurse",
    DesignatedNurse => "designated_nurse",
    HostProvider => "host_provider",
    HostIcbDesignatedNurse => "host_icb_designated_nurse",
    ActionOwner => "action_owner",
});

impl Recipient {
    /// How the mail addresses the reader ("To the child's social worker").
    pub fn describe(self) -> &'static str {
        match self {
            Recipient::SocialWorker => "the child's social worker",
            Recipient::LaTeamManager => "the local authority team manager",
            Recipient::HealthAdminMailbox => "the CLA health admin team",
            Recipient::NamedNurse => "the Named Nurse for Children Looked After",
            Recipient::DesignatedNurse => "the Designated Nurse for Children Looked After",
            Recipient::HostProvider => "the host area's CLA health provider",
            Recipient::HostIcbDesignatedNurse => "the host ICB's Designated Nurse for Children Looked After",
            Recipient::ActionOwner => "the owner of the action",
        }
    }
}

/// The whole ladder, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Ladder {
    pub rules: Vec<Rule>,
}

impl Ladder {
    /// The rule with this id (the sweep stores ids, not rules).
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Stable id; part of the (assessment, rule, level) key that makes each level fire once,
    /// so renaming a rule makes its open escalations look resolved and fire again.
    pub id: String,
    pub condition: Condition,
    pub template: Template,
    /// Strictly increasing in both `level` and `after_working_days`.
    pub levels: Vec<Level>,
    /// `enabled = false` in the file: checked at start-up, never fires (an optional rule
    /// shipped off).
    pub enabled: bool,
    /// For `likely_late` (and only it, where it is required): the forecast p_late, 0-1, at
    /// or above which it holds.
    pub p_late_at_least: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    /// 1, 2, ...: shown in the subject so a reader sees how far it has gone.
    pub level: u8,
    /// Working days after the condition began to hold (0: the day it began).
    pub after_working_days: i32,
    /// Never empty.
    pub recipients: Vec<Recipient>,
}

/// A rule file that cannot be used, with the line to look at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RulesError {
    /// The file name used in the message.
    pub file: String,
    /// 1-based; 0 when the parser could not say where.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "{}: {}", self.file, self.message),
            line => write!(f, "{} line {}: {}", self.file, line, self.message),
        }
    }
}

/// Parses and checks the rule file's text, naming it [`DEFAULT_PATH`] in messages.
pub fn parse(text: &str) -> Result<Ladder, RulesError> {
    parse_named(text, DEFAULT_PATH)
}

/// [`parse`] for a file elsewhere (an administrator's override), named `file` in messages.
pub fn parse_named(text: &str, file: &str) -> Result<Ladder, RulesError> {
    let source = Source { text, file };
    let raw: RawFile = toml::from_str(text).map_err(|e| source.toml_error(&e))?;
    let rules = raw.rule.iter().map(|r| source.rule(r)).collect::<Result<Vec<_>, _>>()?;
    check_unique_ids(&source, &raw.rule)?;
    check_no_shared_levels(&source, &raw.rule, &rules)?;
    Ok(Ladder { rules })
}

// The file as written. Names stay strings (with their spans) so that an unknown one gets
// our message, listing the valid names, at its own line.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    condition: Spanned<String>,
    template: Spanned<String>,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    p_late_at_least: Option<Spanned<f64>>,
    #[serde(default)]
    level: Vec<RawLevel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevel {
    level: Spanned<i64>,
    after_working_days: Spanned<i64>,
    recipients: Spanned<Vec<Spanned<String>>>,
}

/// The text being parsed, to turn byte offsets into line numbers.
struct Source<'a> {
    text: &'a str,
    file: &'a str,
}

impl Source<'_> {
    /// 1-based line of a byte offset: one plus the newlines before it.
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end].iter().filter(|b| **b == b'\n').count() + 1
    }

    fn error_at<T>(&self, at: &Spanned<T>, message: String) -> RulesError {
        RulesError {
            file: self.file.to_string(),
            line: self.line(at.span().start),
            message,
        }
    }

    fn toml_error(&self, e: &toml::de::Error) -> RulesError {
        RulesError {
            file: self.file.to_string(),
            line: e.span().map_or(0, |s| self.line(s.start)),
            message: e.message().trim().to_string(),
        }
    }

    fn rule(&self, raw: &RawRule) -> Result<Rule, RulesError> {
        let id = raw.id.get_ref().trim();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(self.error_at(
                &raw.id,
                format!("rule id {id:?} must be non-empty letters, digits, '_' or '-'"),
            ));
        }
        let condition = Condition::from_name(raw.condition.get_ref()).ok_or_else(|| {
            let msg = format!(
                "unknown condition {:?}; must be one of: {}",
                raw.condition.get_ref(),
                Condition::names()
            );
            self.error_at(&raw.condition, msg)
        })?;
        let template = Template::from_name(raw.template.get_ref()).ok_or_else(|| {
            let msg = format!(
                "unknown template {:?}; must be one of: {}",
                raw.template.get_ref(),
                Template::names()
            );
            self.error_at(&raw.template, msg)
        })?;
        let levels = self.levels(raw)?;
        let p_late_at_least = self.threshold(raw, condition, &levels)?;
        Ok(Rule {
            id: id.to_string(),
            condition,
            template,
            levels,
            enabled: raw.enabled.unwrap_or(true),
            p_late_at_least,
        })
    }

    /// `p_late_at_least`: required for `likely_late`, between 0 and 1, and not allowed on
    /// other conditions. A forecast has no day it began to hold, so a `likely_late` rule has
    /// a single level at 0 working days.
    fn threshold(&self, raw: &RawRule, condition: Condition, levels: &[Level]) -> Result<Option<f64>, RulesError> {
        let likely = condition == Condition::LikelyLate;
        match &raw.p_late_at_least {
            None if likely => {
                let msg = format!(
                    "rule {:?} (likely_late) needs p_late_at_least, 0 to 1",
                    raw.id.get_ref()
                );
                Err(self.error_at(&raw.condition, msg))
            }
            None => Ok(None),
            Some(p) if !likely => {
                Err(self.error_at(p, format!("p_late_at_least is only for likely_late, not {condition}")))
            }
            Some(p) if !(*p.get_ref() > 0.0 && *p.get_ref() <= 1.0) => Err(self.error_at(
                p,
                format!("p_late_at_least {} must be above 0 and at most 1", p.get_ref()),
            )),
            Some(_) if levels.len() != 1 || levels[0].after_working_days != 0 => Err(self.error_at(
                &raw.level[0].level,
                "a likely_late rule has one level, after 0 working days (a forecast has no day it began)".to_string(),
            )),
            Some(p) => Ok(Some(*p.get_ref())),
        }
    }

    fn levels(&self, raw: &RawRule) -> Result<Vec<Level>, RulesError> {
        if raw.level.is_empty() {
            let msg = format!(
                "rule {:?} has no [[rule.level]]; it would never send anything",
                raw.id.get_ref()
            );
            return Err(self.error_at(&raw.id, msg));
        }
        let levels = raw.level.iter().map(|l| self.level(l)).collect::<Result<Vec<_>, _>>()?;
        for (pair, raw_next) in levels.windows(2).zip(raw.level.iter().skip(1)) {
            let (before, next) = (&pair[0], &pair[1]);
            if next.level <= before.level || next.after_working_days <= before.after_working_days {
                let msg = format!(
                    "overlapping levels in rule {:?}: level {} after {} working days follows level {} after {}; \
                     levels must rise in both level and after_working_days",
                    raw.id.get_ref(),
                    next.level,
                    next.after_working_days,
                    before.level,
                    before.after_working_days
                );
                return Err(self.error_at(&raw_next.level, msg));
            }
        }
        Ok(levels)
    }

    fn level(&self, raw: &RawLevel) -> Result<Level, RulesError> {
        let level = u8::try_from(*raw.level.get_ref())
            .ok()
            .filter(|l| *l >= 1)
            .ok_or_else(|| self.error_at(&raw.level, format!("level {} must be 1 to 255", raw.level.get_ref())))?;
        let after_working_days = i32::try_from(*raw.after_working_days.get_ref())
            .ok()
            .filter(|n| (0..=1000).contains(n))
            .ok_or_else(|| {
                let msg = format!(
                    "after_working_days {} must be 0 to 1000",
                    raw.after_working_days.get_ref()
                );
                self.error_at(&raw.after_working_days, msg)
            })?;
        Ok(Level {
            level,
            after_working_days,
            recipients: self.recipients(&raw.recipients)?,
        })
    }

    fn recipients(&self, raw: &Spanned<Vec<Spanned<String>>>) -> Result<Vec<Recipient>, RulesError> {
        if raw.get_ref().is_empty() {
            return Err(self.error_at(raw, "recipients is empty; name at least one".to_string()));
        }
        let mut out: Vec<Recipient> = Vec::new();
        for name in raw.get_ref() {
            let recipient = Recipient::from_name(name.get_ref()).ok_or_else(|| {
                let msg = format!(
                    "unknown recipient {:?}; must be one of: {}",
                    name.get_ref(),
                    Recipient::names()
                );
                self.error_at(name, msg)
            })?;
            // A repeated name would send the same person the same mail twice.
            if out.contains(&recipient) {
                return Err(self.error_at(name, format!("recipient {recipient} is listed twice")));
            }
            out.push(recipient);
        }
        Ok(out)
    }
}

fn check_unique_ids(source: &Source, raw: &[RawRule]) -> Result<(), RulesError> {
    let mut seen = HashSet::new();
    for rule in raw {
        let id = rule.id.get_ref().trim();
        if !seen.insert(id) {
            return Err(source.error_at(&rule.id, format!("duplicate rule id {id:?}")));
        }
    }
    Ok(())
}

/// Two rules on one condition may split its ladder between them (levels 1-2 in one,
/// 3 in another) but must not both claim a level number: the step would be escalated
/// twice at "the same" level.
fn check_no_shared_levels(source: &Source, raw: &[RawRule], rules: &[Rule]) -> Result<(), RulesError> {
    let mut claimed: HashMap<(Condition, u8), &str> = HashMap::new();
    for (rule, raw_rule) in rules.iter().zip(raw) {
        for (level, raw_level) in rule.levels.iter().zip(&raw_rule.level) {
            if let Some(other) = claimed.insert((rule.condition, level.level), &rule.id) {
                let msg = format!(
                    "overlapping levels: rule {:?} and rule {other:?} both set level {} for condition {}",
                    rule.id, level.level, rule.condition
                );
                return Err(source.error_at(&raw_level.level, msg));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../config/escalations.toml");

    fn err(text: &str) -> RulesError {
        match parse(text) {
            Ok(ladder) => panic!("expected an error, got {ladder:?}"),
            Err(e) => e,
        }
    }

    fn one_rule(condition: &str, levels: &str) -> String {
        format!("[[rule]]\nid = \"r\"\ncondition = \"{condition}\"\ntemplate = \"step_late\"\n{levels}")
    }

    const LEVEL_1: &str = "[[rule.level]]\nlevel = 1\nafter_working_days = 0\nrecipients = [\"social_worker\"]\n";

    #[test]
    fn shipped_default_ladder_parses_and_covers_every_condition() {
        let ladder = parse(SHIPPED).unwrap_or_else(|e| panic!("{e}"));
        for condition in Condition::ALL {
            assert!(
                ladder.rules.iter().any(|r| r.condition == *condition),
                "no rule for {condition}"
            );
        }
    }

    #[test]
    fn shipped_ladder_tells_the_people_the_issue_names() {
        let ladder = parse(SHIPPED).unwrap_or_else(|e| panic!("{e}"));
        let who = |c: Condition, level: usize| -> Vec<Recipient> {
            let rule = ladder.rules.iter().find(|r| r.condition == c).expect("rule");
            rule.levels[level].recipients.clone()
        };
        use Recipient::*;
        assert_eq!(who(Condition::IhaNotificationLate, 0), [SocialWorker, LaTeamManager]);
        assert_eq!(who(Condition::IhaNotificationLate, 1), [DesignatedNurse]);
        assert_eq!(who(Condition::IhaConsentLate, 2), [DesignatedNurse]);
        assert_eq!(
            who(Condition::RepeatedNonAttendance, 0),
            [SocialWorker, LaTeamManager, NamedNurse]
        );
        assert_eq!(who(Condition::OutOfAreaNotAcknowledged, 2), [DesignatedNurse]);
    }

    #[test]
    fn the_likely_late_rule_ships_off() {
        let ladder = parse(SHIPPED).unwrap_or_else(|e| panic!("{e}"));
        let rule = ladder
            .rules
            .iter()
            .find(|r| r.condition == Condition::LikelyLate)
            .expect("rule");
        assert!(!rule.enabled);
        assert!(rule.p_late_at_least.is_some_and(|p| p > 0.0 && p <= 1.0));
        assert!(ladder
            .rules
            .iter()
            .filter(|r| r.condition != Condition::LikelyLate)
            .all(|r| r.enabled));
    }

    #[test]
    fn a_likely_late_rule_needs_a_threshold_between_0_and_1_and_one_level_at_0() {
        let rule = |extra: &str, levels: &str| {
            format!("[[rule]]\nid = \"r\"\ncondition = \"likely_late\"\ntemplate = \"forecast\"\n{extra}{levels}")
        };
        let ok = parse(&rule("p_late_at_least = 0.7\n", LEVEL_1)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ok.rules[0].p_late_at_least, Some(0.7));
        assert!(ok.rules[0].enabled);
        let e = err(&rule("", LEVEL_1));
        assert!(e.message.contains("needs p_late_at_least"), "{e}");
        for bad in ["0.0", "1.5", "-0.2"] {
            let e = err(&rule(&format!("p_late_at_least = {bad}\n"), LEVEL_1));
            assert!(e.message.contains("must be above 0 and at most 1"), "{e}");
        }
        let two = format!(
            "{LEVEL_1}[[rule.level]]\nlevel = 2\nafter_working_days = 3\nrecipients = [\"designated_nurse\"]\n"
        );
        let e = err(&rule("p_late_at_least = 0.7\n", &two));
        assert!(e.message.contains("one level, after 0 working days"), "{e}");
        let e = err(&one_rule(
            "iha_consent_late",
            &format!("p_late_at_least = 0.5\n{LEVEL_1}"),
        ));
        assert!(e.message.contains("only for likely_late"), "{e}");
    }

    #[test]
    fn a_good_rule_parses_into_the_types() {
        let text = one_rule(
            "iha_consent_late",
            "[[rule.level]]\nlevel = 1\nafter_working_days = 0\nrecipients = [\"social_worker\"]\n\
             [[rule.level]]\nlevel = 2\nafter_working_days = 3\nrecipients = [\"la_team_manager\", \"designated_nurse\"]\n",
        );
        let ladder = parse(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            ladder.rules,
            vec![Rule {
                id: "r".into(),
                condition: Condition::IhaConsentLate,
                template: Template::StepLate,
                enabled: true,
                p_late_at_least: None,
                levels: vec![
                    Level {
                        level: 1,
                        after_working_days: 0,
                        recipients: vec![Recipient::SocialWorker]
                    },
                    Level {
                        level: 2,
                        after_working_days: 3,
                        recipients: vec![Recipient::LaTeamManager, Recipient::DesignatedNurse]
                    },
                ],
            }]
        );
        assert!(ladder.rule("r").is_some());
    }

    #[test]
    fn rule_file_with_unknown_condition_names_the_line() {
        let e = err(&one_rule("consnet_late", LEVEL_1));
        assert_eq!(e.line, 3);
        let text = e.to_string();
        assert!(
            text.starts_with("config/escalations.toml line 3: unknown condition \"consnet_late\"; must be one of: iha_notification_late,"),
            "{text}"
        );
    }

    #[test]
    fn unknown_recipient_names_the_line() {
        let text = one_rule(
            "iha_consent_late",
            "[[rule.level]]\nlevel = 1\nafter_working_days = 0\nrecipients = [\n  \"social_worker\",\n  \"headteacher\",\n]\n",
        );
        let e = err(&text);
        assert_eq!(e.line, 10, "{e}");
        assert!(e
            .message
            .starts_with("unknown recipient \"headteacher\"; must be one of: social_worker"));
    }

    #[test]
    fn unknown_template_names_the_line() {
        let text = "[[rule]]\nid = \"r\"\ncondition = \"rha_overdue\"\ntemplate = \"shouty\"\n".to_string() + LEVEL_1;
        let e = err(&text);
        assert_eq!(e.line, 4);
        assert!(e.message.contains("unknown template \"shouty\""), "{e}");
    }

    #[test]
    fn empty_recipients_are_rejected() {
        let e = err(&one_rule(
            "rha_overdue",
            "[[rule.level]]\nlevel = 1\nafter_working_days = 0\nrecipients = []\n",
        ));
        assert_eq!(
            (e.line, e.message.as_str()),
            (8, "recipients is empty; name at least one")
        );
    }

    #[test]
    fn a_recipient_listed_twice_is_rejected() {
        let e = err(&one_rule(
            "rha_overdue",
            "[[rule.level]]\nlevel = 1\nafter_working_days = 0\nrecipients = [\"named_nurse\", \"named_nurse\"]\n",
        ));
        assert_eq!(e.line, 8);
        assert!(e.message.contains("listed twice"));
    }

    #[test]
    fn a_rule_without_levels_is_rejected() {
        let e = err("[[rule]]\nid = \"quiet\"\ncondition = \"rha_overdue\"\ntemplate = \"breach\"\n");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("no [[rule.level]]"));
    }

    #[test]
    fn overlapping_levels_are_rejected() {
        let same_day = "[[rule.level]]\nlevel = 1\nafter_working_days = 3\nrecipients = [\"social_worker\"]\n\
                        [[rule.level]]\nlevel = 2\nafter_working_days = 3\nrecipients = [\"named_nurse\"]\n";
        let e = err(&one_rule("iha_consent_late", same_day));
        assert_eq!(e.line, 10, "{e}");
        assert!(e.message.starts_with("overlapping levels in rule \"r\""), "{e}");

        let level_down = "[[rule.level]]\nlevel = 2\nafter_working_days = 0\nrecipients = [\"social_worker\"]\n\
                          [[rule.level]]\nlevel = 1\nafter_working_days = 5\nrecipients = [\"named_nurse\"]\n";
        assert_eq!(err(&one_rule("iha_consent_late", level_down)).line, 10);
    }

    #[test]
    fn two_rules_on_one_condition_may_not_share_a_level() {
        let first = one_rule("iha_consent_late", LEVEL_1);
        let second = "[[rule]]\nid = \"r2\"\ncondition = \"iha_consent_late\"\ntemplate = \"breach\"\n\
                      [[rule.level]]\nlevel = 1\nafter_working_days = 5\nrecipients = [\"named_nurse\"]\n";
        let e = err(&format!("{first}{second}"));
        assert_eq!(e.line, 14, "{e}");
        assert!(e.message.contains("rule \"r2\" and rule \"r\" both set level 1"), "{e}");

        let split = second.replace("level = 1", "level = 2");
        assert!(parse(&format!("{first}{split}")).is_ok());
    }

    #[test]
    fn duplicate_rule_ids_are_rejected() {
        let a = one_rule("iha_consent_late", LEVEL_1);
        let b = one_rule("rha_overdue", LEVEL_1);
        let e = err(&format!("{a}{b}"));
        assert_eq!((e.line, e.message.as_str()), (10, "duplicate rule id \"r\""));
    }

    #[test]
    fn unknown_keys_name_the_line() {
        let e = err(&one_rule(
            "rha_overdue",
            "[[rule.level]]\nlevel = 1\nafter_days = 0\nrecipients = [\"named_nurse\"]\n",
        ));
        assert_eq!(e.line, 7, "{e}");
        assert!(e.message.contains("after_days"), "{e}");
        let top = err("[[rules]]\nid = \"x\"\n");
        assert_eq!(top.line, 1, "{top}");
    }

    #[test]
    fn a_missing_key_names_the_rule() {
        let e = err("# header\n[[rule]]\nid = \"r\"\ncondition = \"rha_overdue\"\n");
        assert_eq!((e.line, e.message.as_str()), (2, "missing field `template`"));
    }

    #[test]
    fn toml_syntax_errors_name_the_line() {
        let e = err("# comment\n[[rule]]\nid = \"r\ncondition = \"rha_overdue\"\n");
        assert_eq!(e.line, 3, "{e}");
        assert!(e.to_string().starts_with("config/escalations.toml line 3: "), "{e}");
        assert!(!e.message.contains('\n'), "one-line message: {e}");
    }

    #[test]
    fn out_of_range_numbers_are_rejected() {
        let zero = "[[rule.level]]\nlevel = 0\nafter_working_days = 0\nrecipients = [\"named_nurse\"]\n";
        assert_eq!(err(&one_rule("rha_overdue", zero)).line, 6);
        let negative = "[[rule.level]]\nlevel = 1\nafter_working_days = -1\nrecipients = [\"named_nurse\"]\n";
        assert_eq!(err(&one_rule("rha_overdue", negative)).line, 7);
    }

    #[test]
    fn a_file_elsewhere_is_named_in_messages() {
        let e = parse_named("[[rule]]\nid = 3\n", "/etc/cla/escalations.toml").unwrap_err();
        assert!(e.to_string().starts_with("/etc/cla/escalations.toml line 2: "), "{e}");
    }

    #[test]
    fn an_empty_file_is_an_empty_ladder() {
        // An administrator may switch escalation mail off by emptying the ladder.
        assert_eq!(parse("# nothing\n").map(|l| l.rules.len()), Ok(0));
    }
}
