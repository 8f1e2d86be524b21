//! The escalation mail: subject, plain-text and HTML bodies.
//!
//! Mail leaves the building, so it identifies the child only by initials and the local id,
//! with a link to the case for the detail. [`MailContext`] has no field for a name, date of
//! birth or NHS number, so no template can leak one. The due-date explanation must come from
//! [`due_explanation`], not from `status::derive`'s explanation: the RHA one gives the date
//! the child turns 5, which is the date of birth.
//!
//! Every interpolated value is escaped in the HTML body; in the subject and text body control
//! characters become spaces, so a value cannot add a header or forge a line of the mail.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::conditions::Condition;
use super::rules::Recipient;
use crate::calendar::Calendar;
use crate::status::AssessmentFacts;
use crate::workflow::Kind;

/// The opening of the mail, chosen per rule in the rule file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Template {
    /// A step in the assessment is late.
    StepLate,
    /// A statutory due date has passed.
    Breach,
    /// The child missed an appointment.
    NonAttendance,
    /// A request to a host area's provider is waiting on them.
    HostRequest,
    /// The lateness forecast says the assessment is likely to be late (not late yet).
    Forecast,
}

named!(Template {
    StepLate => "step_late",
    Breach => "breach",
    NonAttendance => "non_attendance",
    HostRequest => "host_request",
    Forecast => "forecast",
});

impl Template {
    fn opening(self) -> &'static str {
        match self {
            Template::StepLate => "A step in this child's health assessment is late.",
            Template::Breach => {
                "This child's health assessment has passed its due date. Children Looked After are owed \
                 their health assessments within statutory timescales, and this one has not met them."
            }
            Template::NonAttendance => {
                "This child missed a health assessment appointment. Every non-attendance is told to the \
                 child's social worker, and the appointment must be rebooked."
            }
            Template::HostRequest => {
                "This child is placed out of area, and the responsible ICB has asked the host area's CLA \
                 health service to carry out the assessment to the same timescale. The request is waiting \
                 on the host provider."
            }
            Template::Forecast => {
                "This child's health assessment is not late yet, but it is likely to be: the chance that it \
                 misses its due date has reached the level set locally for a warning."
            }
        }
    }
}

/// Everything a mail says. Deliberately no name, date of birth or NHS number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailContext {
    /// From [`initials`], e.g. "A.B.".
    pub child_initials: String,
    /// The local authority's id for the child (SSDA903 CHILD).
    pub child_local_id: String,
    /// Link to the case; behind sign-in, so it carries no detail itself.
    pub case_url: String,
    pub assessment_kind: Kind,
    pub condition: Condition,
    pub template: Template,
    /// The first day the condition held.
    pub since: NaiveDate,
    /// The statutory (IHA) or scheduled (RHA) due date.
    pub due_on: NaiveDate,
    /// From [`due_explanation`].
    pub due_explanation: String,
    pub level: u8,
    pub recipient_role: Recipient,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// "A.B.": the first letter of the first given name and of the family name, upper-cased.
/// Leading punctuation is skipped ("'Ana" -> "A", "O'Brien" -> "O"); a hyphenated name gives
/// its first part's letter only, since more letters identify the child more; a missing part
/// is "?" so a reader sees the record is incomplete rather than a wrong letter.
pub fn initials(given: &str, family: &str) -> String {
    format!("{}.{}.", first_letter(given), first_letter(family))
}

fn first_letter(name: &str) -> String {
    match name.chars().find(|c| c.is_alphabetic()) {
        // Upper-casing can give more than one char (e.g. "ß" -> "SS"); keep the first.
        Some(c) => c.to_uppercase().next().unwrap_or(c).to_string(),
        None => "?".to_string(),
    }
}

/// Escapes text for HTML element content and double- or single-quoted attributes.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// One line of text: control characters (CR, LF, tab ...) become spaces.
fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn show(date: NaiveDate) -> String {
    date.format("%a %-d %b %Y").to_string()
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Iha => "Initial Health Assessment (IHA)",
        Kind::Rha => "Review Health Assessment (RHA)",
    }
}

/// Why the assessment is due when it is, without anything that reveals the date of birth.
pub fn due_explanation(facts: &AssessmentFacts, cal: &Calendar) -> String {
    let start = show(facts.clock_started_on);
    let due = show(facts.due_on);
    match facts.kind {
        Kind::Iha => format!(
            "The child became looked after on {start} (day 0, not counted). The IHA report is due on the \
             {} working day after that, {due} (working days exclude weekends and bank holidays in England \
             and Wales).",
            ordinal(cal.working_days_between(facts.clock_started_on, facts.due_on))
        ),
        Kind::Rha => format!(
            "The last health assessment was on {start}. Reviews are due at least every 6 months before \
             the 5th birthday and every 12 months after, so this review is due by {due}."
        ),
    }
}

fn ordinal(n: i32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Renders the mail for one recipient role.
pub fn render(ctx: &MailContext) -> Rendered {
    Rendered {
        subject: subject(ctx),
        text: text_body(ctx),
        html: html_body(ctx),
    }
}

fn subject(ctx: &MailContext) -> String {
    one_line(&format!(
        "[cla-tracker] {}: child {} ({}), level {}",
        ctx.condition.headline(ctx.assessment_kind),
        ctx.child_initials,
        ctx.child_local_id,
        ctx.level
    ))
}

/// The labelled facts, shared by both bodies so they cannot say different things.
fn facts(ctx: &MailContext) -> Vec<(&'static str, String)> {
    vec![
        (
            "Child",
            format!("{} (local id {})", ctx.child_initials, ctx.child_local_id),
        ),
        ("Assessment", kind_name(ctx.assessment_kind).to_string()),
        ("What is late", ctx.condition.describe().to_string()),
        ("Since", show(ctx.since)),
        ("Due date", show(ctx.due_on)),
        ("Why that date", ctx.due_explanation.clone()),
        ("Escalation level", ctx.level.to_string()),
    ]
}

fn level_note(ctx: &MailContext) -> Option<String> {
    (ctx.level > 1).then(|| {
        format!(
            "This is level {} of the escalation: earlier messages have not resolved it.",
            ctx.level
        )
    })
}

const FOOTER: &str = "This message carries only the child's initials and local id. Open the case for \
     the detail, and do not add names, dates of birth or NHS numbers if you reply.";

fn text_body(ctx: &MailContext) -> String {
    let mut out = format!("To {},\n\n{}\n", ctx.recipient_role.describe(), ctx.template.opening());
    if let Some(note) = level_note(ctx) {
        out.push_str(&format!("{note}\n"));
    }
    out.push('\n');
    for (label, value) in facts(ctx) {
        out.push_str(&format!("{label}: {}\n", one_line(&value)));
    }
    out.push_str(&format!(
        "\nWhat we ask you to do: {}\n\nOpen the case: {}\n\n-- \n{FOOTER}\n",
        ctx.condition.asks(),
        one_line(&ctx.case_url)
    ));
    out
}

fn html_body(ctx: &MailContext) -> String {
    let e = escape_html;
    let rows: String = facts(ctx)
        .iter()
        .map(|(label, value)| format!("<tr><th align=\"left\">{}</th><td>{}</td></tr>\n", e(label), e(value)))
        .collect();
    let note = level_note(ctx).map_or(String::new(), |n| format!("<p>{}</p>\n", e(&n)));
    format!(
        "<!DOCTYPE html>\n<html><body>\n<p>To {},</p>\n<p>{}</p>\n{note}<table>\n{rows}</table>\n\
         <p><strong>What we ask you to do:</strong> {}</p>\n<p>{}</p>\n<hr>\n<p><small>{}</small></p>\n</body></html>\n",
        e(ctx.recipient_role.describe()),
        e(ctx.template.opening()),
        e(ctx.condition.asks()),
        case_link(&ctx.case_url),
        e(FOOTER)
    )
}

/// A link only for http(s) addresses: a `javascript:` or `data:` URL from a misconfigured
/// base URL is shown as text, never made clickable.
fn case_link(url: &str) -> String {
    let lower = url.trim_start().to_ascii_lowercase();
    let text = escape_html(url);
    if lower.starts_with("https://") || lower.starts_with("http://") {
        format!("<a href=\"{text}\">Open the case</a> ({text})")
    } else {
        format!("Open the case: {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{iha_due_on, ClockPolicy};
    use crate::workflow::State;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn ctx() -> MailContext {
        let cal = Calendar::rules_only();
        let day0 = d(2025, 12, 19);
        let facts = AssessmentFacts::new(
            Kind::Iha,
            State::AwaitingConsent,
            day0,
            iha_due_on(&cal, day0, &ClockPolicy::default()),
        );
        MailContext {
            child_initials: initials("Amelia", "Brown"),
            child_local_id: "SCC1042".into(),
            case_url: "https://cla.example.nhs.uk/children/SCC1042".into(),
            assessment_kind: Kind::Iha,
            condition: Condition::IhaConsentLate,
            template: Template::StepLate,
            since: d(2025, 12, 31),
            due_on: facts.due_on,
            due_explanation: due_explanation(&facts, &cal),
            level: 2,
            recipient_role: Recipient::LaTeamManager,
        }
    }

    #[test]
    fn subject_names_what_is_late_the_child_and_the_level() {
        assert_eq!(
            render(&ctx()).subject,
            "[cla-tracker] IHA consent not confirmed: child A.B. (SCC1042), level 2"
        );
    }

    #[test]
    fn body_carries_initials_id_link_what_since_due_why_and_the_ask() {
        let mail = render(&ctx());
        let want = [
            "A.B.",
            "SCC1042",
            "https://cla.example.nhs.uk/children/SCC1042",
            Condition::IhaConsentLate.describe(),
            "Wed 31 Dec 2025",
            "Wed 21 Jan 2026",
            "became looked after on Fri 19 Dec 2025 (day 0, not counted). The IHA report is due on the 20th working day",
            "Please obtain and send the signed consent",
            "To the local authority team manager",
            "This is level 2",
        ];
        for w in want {
            assert!(mail.text.contains(w), "text lacks {w:?}:\n{}", mail.text);
            assert!(mail.html.contains(&escape_html(w)), "html lacks {w:?}:\n{}", mail.html);
        }
    }

    #[test]
    fn the_full_name_never_reaches_the_mail() {
        // The name is only ever passed to `initials`; nothing else in the context can hold it.
        let (given, family) = ("Amelia", "Brown");
        let mail = render(&ctx());
        for part in [given, family] {
            for body in [&mail.subject, &mail.text, &mail.html] {
                assert!(!body.contains(part), "{part} leaked into {body}");
            }
        }
    }

    #[test]
    fn a_hostile_local_id_is_escaped_in_html_and_harmless_in_text() {
        let mut c = ctx();
        c.child_local_id = "<script>alert('x')</script>\r\nBcc: all@example.org".into();
        let mail = render(&c);
        assert!(!mail.html.contains("<script"), "{}", mail.html);
        assert!(mail.html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(!mail.subject.contains('\n') && !mail.subject.contains('\r'));
        assert!(!mail.text.contains("\nBcc:"), "no forged line:\n{}", mail.text);
        assert!(mail.text.contains("<script>alert('x')</script>  Bcc:"));
    }

    #[test]
    fn html_has_no_script_and_no_external_resources() {
        let html = render(&ctx()).html;
        for banned in ["<script", "<img", "<link", "src=", "<style", "@import"] {
            assert!(!html.contains(banned), "{banned}");
        }
        assert!(html.contains("<a href=\"https://cla.example.nhs.uk/children/SCC1042\">"));
    }

    #[test]
    fn a_non_http_case_url_is_not_a_link() {
        let mut c = ctx();
        c.case_url = "javascript:alert(1)".into();
        let html = render(&c).html;
        assert!(!html.contains("href"), "{html}");
        assert!(html.contains("Open the case: javascript:alert(1)"));
    }

    #[test]
    fn escape_html_covers_the_five_characters() {
        assert_eq!(
            escape_html(r#"<a href="x">Tom & 'Jo'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jo&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn initials_handle_empty_hyphens_and_non_ascii() {
        assert_eq!(initials("Amelia", "Brown"), "A.B.");
        assert_eq!(initials("mary-jane", "smith-jones"), "M.S.");
        assert_eq!(initials("Élodie", "Øygard"), "É.Ø.");
        assert_eq!(initials("  'ana", "O'Brien"), "A.O.");
        assert_eq!(initials("", "Brown"), "?.B.");
        assert_eq!(initials("", ""), "?.?.");
        assert_eq!(initials("Łucja", "żak"), "Ł.Ż.");
    }

    #[test]
    fn rha_explanation_does_not_give_away_the_fifth_birthday() {
        let facts = AssessmentFacts::new(Kind::Rha, State::Scheduled, d(2026, 6, 14), d(2026, 12, 14));
        let text = due_explanation(&facts, &Calendar::rules_only());
        assert!(
            text.contains("Sun 14 Jun 2026") && text.contains("Mon 14 Dec 2026"),
            "{text}"
        );
        assert!(!text.contains("turns 5"));
    }

    #[test]
    fn each_template_opens_differently_and_kind_agnostic_headlines_name_the_kind() {
        let mut c = ctx();
        c.condition = Condition::WasNotBrought;
        c.assessment_kind = Kind::Rha;
        c.template = Template::NonAttendance;
        c.level = 1;
        let mail = render(&c);
        assert_eq!(
            mail.subject,
            "[cla-tracker] Child not brought to RHA appointment: child A.B. (SCC1042), level 1"
        );
        assert!(mail.text.contains("missed a health assessment appointment"));
        assert!(!mail.text.contains("This is level"));
        let openings: std::collections::HashSet<&str> = Template::ALL.iter().map(|t| t.opening()).collect();
        assert_eq!(openings.len(), Template::ALL.len());
    }
}
