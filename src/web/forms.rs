//! Form pieces that follow the NHS.UK and GOV.UK design system patterns, shared by every
//! form page (markup in `templates/macros.html`).
//!
//! Rules:
//! - A date is asked as three fields labelled Day, Month and Year. A missing part is named
//!   ("Date of birth must include a month"); an impossible date is "must be a real date".
//! - Errors appear twice: in an error summary titled "There is a problem" at the top, each
//!   linking to its field, and inline above the field; the page title starts "Error: ".
//! - After an error the page shows what was typed, never an emptied form.
//! - A successful post answers 303 to a page to read (post/redirect/get).
//! - Forms that change a record carry the `version` read; a stale one is refused with "This
//!   record was changed by someone else" and the record as it is now, never a lost update.
//! - Every form carries the session's CSRF token in a hidden `csrf` field (checked by the
//!   middleware before the handler runs).

use chrono::NaiveDate;

use crate::error::{AppError, FieldError};

/// The page title, prefixed "Error: " when the page shows errors.
pub fn title(title: &str, errors: &FormErrors) -> String {
    if errors.is_empty() {
        title.to_string()
    } else {
        format!("Error: {title}")
    }
}

/// A form as posted: every name and value, in order.
#[derive(Debug, Default, Clone)]
pub struct Posted(Vec<(String, String)>);

impl Posted {
    pub fn parse(body: &[u8]) -> Posted {
        Posted(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of a field, trimmed ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    }

    /// A value, or None when blank.
    pub fn optional(&self, name: &str) -> Option<String> {
        Some(self.get(name)).filter(|v| !v.is_empty()).map(str::to_string)
    }

    /// Every value of a field (checkboxes).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The record version the form was read at.
    pub fn version(&self) -> Option<i32> {
        self.get("version").parse().ok()
    }
}

/// One problem, linked from the summary to the field's first input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorItem {
    /// The field's name (as the service names it, e.g. `given_on`).
    pub field: String,
    /// The id of the input the summary links to.
    pub target: String,
    pub message: String,
}

/// Everything wrong with one submission, in the order the fields appear on the page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormErrors {
    pub items: Vec<ErrorItem>,
    /// A message about the form as a whole (shown above the list).
    pub description: Option<String>,
}

/// What the summary says when the record changed since the form was read.
pub const STALE: &str = "This record was changed by someone else";

impl FormErrors {
    pub fn new() -> FormErrors {
        FormErrors::default()
    }

    /// A form-wide problem, such as a refused sign-in.
    pub fn whole_form(message: impl Into<String>) -> FormErrors {
        FormErrors {
            items: Vec::new(),
            description: Some(message.into()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty() && self.description.is_none()
    }

    pub fn add(&mut self, field: &str, target: &str, message: impl Into<String>) {
        if self.message(field).is_none() {
            self.items.push(ErrorItem {
                field: field.to_string(),
                target: target.to_string(),
                message: message.into(),
            });
        }
    }

    /// The message for a field, if it has one.
    pub fn message(&self, field: &str) -> Option<&str> {
        self.items.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }

    /// The errors of a refused change, mapped onto the page's fields. `fields` lists, in
    /// page order, the service's name for each field, the form's name for it and the id of
    /// its first input. An error naming no field on the page links to the form itself; a
    /// stale version says so. None for errors that are not about the input (not found,
    /// forbidden, a refused step).
    pub fn from_error(error: &AppError, fields: &[(&str, &str, &str)], form_id: &str) -> Option<FormErrors> {
        let list: Vec<FieldError> = match error {
            AppError::Invalid(list) => list.clone(),
            AppError::BadRequest { errors, .. } => errors.clone(),
            AppError::StaleVersion { .. } => vec![FieldError::new(
                "version",
                format!("{STALE} since you opened this page. Check its details as they are now and try again."),
            )],
            _ => return None,
        };
        let mut out = FormErrors::new();
        for (service_name, name, target) in fields {
            for e in list.iter().filter(|e| e.field == *service_name) {
                out.add(name, target, sentence(&e.message));
            }
        }
        for e in list.iter().filter(|e| !fields.iter().any(|(n, _, _)| *n == e.field)) {
            out.add(&e.field, form_id, sentence(&e.message));
        }
        Some(out)
    }

    pub fn is_stale(&self) -> bool {
        self.items.iter().any(|e| e.message.starts_with(STALE))
    }
}

/// How a page shows a refused change: the form's errors and the status, 409 when the record
/// changed meanwhile or no longer allows the change (`conflict` words the service's reason),
/// 422 for input; None when the error is not about the form (not found, forbidden: those
/// are error pages).
pub fn refusal(
    error: &AppError,
    fields: &[(&str, &str, &str)],
    form_id: &str,
    conflict: impl FnOnce(&str) -> String,
) -> Option<(FormErrors, actix_web::http::StatusCode)> {
    use actix_web::http::StatusCode;
    match (error, FormErrors::from_error(error, fields, form_id)) {
        (AppError::StaleVersion { .. }, Some(errors)) => Some((errors, StatusCode::CONFLICT)),
        (_, Some(errors)) => Some((errors, StatusCode::UNPROCESSABLE_ENTITY)),
        (AppError::Conflict(message), None) => Some((FormErrors::whole_form(conflict(message)), StatusCode::CONFLICT)),
        _ => None,
    }
}

/// Service messages are lower-case fragments ("must be M, F or U"); a page shows sentences.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A text input (also email, tel, number-like text).
#[derive(Debug, Clone, Default)]
pub struct TextField {
    pub name: String,
    pub label: String,
    pub hint: Option<String>,
    pub value: String,
    pub error: Option<String>,
    /// `text`, `email`, `search`, `time`, `tel`.
    pub input_type: &'static str,
    /// An `nhsuk-input--width-*` class, or empty for full width.
    pub width: &'static str,
    pub autocomplete: Option<&'static str>,
}

impl TextField {
    pub fn new(name: &str, label: &str, posted: &Posted, errors: &FormErrors) -> TextField {
        TextField {
            name: name.to_string(),
            label: label.to_string(),
            value: posted.get(name).to_string(),
            error: errors.message(name).map(str::to_string),
            input_type: "text",
            ..TextField::default()
        }
    }

    pub fn hint(mut self, hint: &str) -> TextField {
        self.hint = Some(hint.to_string());
        self
    }

    pub fn kind(mut self, input_type: &'static str) -> TextField {
        self.input_type = input_type;
        self
    }

    pub fn width(mut self, class: &'static str) -> TextField {
        self.width = class;
        self
    }
}

/// A multi-line text box.
#[derive(Debug, Clone, Default)]
pub struct TextArea {
    pub name: String,
    pub label: String,
    pub hint: Option<String>,
    pub value: String,
    pub error: Option<String>,
}

impl TextArea {
    pub fn new(name: &str, label: &str, posted: &Posted, errors: &FormErrors) -> TextArea {
        TextArea {
            name: name.to_string(),
            label: label.to_string(),
            hint: None,
            value: posted.get(name).to_string(),
            error: errors.message(name).map(str::to_string),
        }
    }
}

/// A date asked as Day, Month and Year. Field names are `{name}-day` and so on.
#[derive(Debug, Clone, Default)]
pub struct DateField {
    pub name: String,
    pub legend: String,
    pub hint: Option<String>,
    pub day: String,
    pub month: String,
    pub year: String,
    pub error: Option<String>,
    /// Which parts to highlight: day, month, year.
    pub error_parts: [bool; 3],
}

/// Why three date fields do not make a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateProblem {
    pub message: String,
    pub parts: [bool; 3],
}

impl DateField {
    pub fn new(name: &str, legend: &str, posted: &Posted, errors: &FormErrors) -> DateField {
        let mut field = DateField {
            name: name.to_string(),
            legend: legend.to_string(),
            day: posted.get(&format!("{name}-day")).to_string(),
            month: posted.get(&format!("{name}-month")).to_string(),
            year: posted.get(&format!("{name}-year")).to_string(),
            error: errors.message(name).map(str::to_string),
            ..DateField::default()
        };
        if field.error.is_some() {
            field.error_parts = match field.check(legend) {
                Err(p) => p.parts,
                Ok(_) => [true; 3],
            };
        }
        field
    }

    /// A field showing a stored date.
    pub fn with_date(mut self, date: Option<NaiveDate>) -> DateField {
        if let Some(d) = date {
            use chrono::Datelike;
            self.day = d.day().to_string();
            self.month = d.month().to_string();
            self.year = d.year().to_string();
        }
        self
    }

    pub fn hint(mut self, hint: &str) -> DateField {
        self.hint = Some(hint.to_string());
        self
    }

    /// The id the error summary links to: the first part in error, else the day.
    pub fn target(name: &str) -> String {
        format!("{name}-day")
    }

    pub fn is_blank(&self) -> bool {
        self.day.is_empty() && self.month.is_empty() && self.year.is_empty()
    }

    /// The date typed, or what is wrong with it (`what` names it in the message, e.g.
    /// "Date of birth").
    pub fn check(&self, what: &str) -> Result<NaiveDate, DateProblem> {
        let parts = [&self.day, &self.month, &self.year];
        let missing: Vec<&str> = ["a day", "a month", "a year"]
            .into_iter()
            .zip(parts)
            .filter(|(_, v)| v.is_empty())
            .map(|(n, _)| n)
            .collect();
        let mask = |f: &dyn Fn(&str) -> bool| [f(&self.day), f(&self.month), f(&self.year)];
        if missing.len() == 3 {
            return Err(DateProblem {
                message: format!("Enter {}", lower_first(what)),
                parts: [true; 3],
            });
        }
        if !missing.is_empty() {
            return Err(DateProblem {
                message: format!("{what} must include {}", join_and(&missing)),
                parts: mask(&|v: &str| v.is_empty()),
            });
        }
        let number = |v: &str| v.parse::<u32>().ok().filter(|_| v.chars().all(|c| c.is_ascii_digit()));
        if self.year.len() != 4 || number(&self.year).is_none() {
            return Err(DateProblem {
                message: "Year must include 4 numbers".into(),
                parts: [false, false, true],
            });
        }
        let date = match (number(&self.day), number(&self.month), number(&self.year)) {
            (Some(d), Some(m), Some(y)) => NaiveDate::from_ymd_opt(y as i32, m, d),
            _ => None,
        };
        date.ok_or_else(|| DateProblem {
            message: format!("{what} must be a real date"),
            parts: [true; 3],
        })
    }
}

/// Reads a date the form asks for; a problem is added to `errors` under `name`.
pub fn read_date(posted: &Posted, name: &str, what: &str, errors: &mut FormErrors) -> Option<NaiveDate> {
    let field = DateField::new(name, what, posted, &FormErrors::new());
    match field.check(what) {
        Ok(d) => Some(d),
        Err(p) => {
            let first = ["day", "month", "year"]
                .iter()
                .zip(p.parts)
                .find(|(_, bad)| *bad)
                .map(|(part, _)| format!("{name}-{part}"))
                .unwrap_or_else(|| DateField::target(name));
            errors.add(name, &first, p.message);
            None
        }
    }
}

/// Like [`read_date`], for a date that may be left blank.
pub fn read_optional_date(posted: &Posted, name: &str, what: &str, errors: &mut FormErrors) -> Option<NaiveDate> {
    let field = DateField::new(name, what, posted, &FormErrors::new());
    if field.is_blank() {
        None
    } else {
        read_date(posted, name, what, errors)
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// One option of a radio or checkbox group.
#[derive(Debug, Clone, Default)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub hint: Option<String>,
    pub checked: bool,
}

/// Radios (one answer) or checkboxes (several).
#[derive(Debug, Clone, Default)]
pub struct ChoiceField {
    pub name: String,
    pub legend: String,
    pub hint: Option<String>,
    pub choices: Vec<Choice>,
    pub error: Option<String>,
}

impl ChoiceField {
    /// `options` are (value, label, hint); those posted are checked.
    pub fn new(
        name: &str,
        legend: &str,
        options: &[(&str, &str, Option<&str>)],
        posted: &Posted,
        errors: &FormErrors,
    ) -> ChoiceField {
        let chosen = posted.all(name);
        ChoiceField {
            name: name.to_string(),
            legend: legend.to_string(),
            hint: None,
            choices: options
                .iter()
                .map(|(value, label, hint)| Choice {
                    value: value.to_string(),
                    label: label.to_string(),
                    hint: hint.map(str::to_string),
                    checked: chosen.iter().any(|c| c == value),
                })
                .collect(),
            error: errors.message(name).map(str::to_string),
        }
    }

    /// The id of the first option: where the error summary links.
    pub fn target(name: &str) -> String {
        format!("{name}-1")
    }
}

/// "No" and "Yes" radios, "No" chosen until the user chooses.
pub fn no_or_yes(name: &str, legend: &str, yes_hint: &str, posted: &Posted, errors: &FormErrors) -> ChoiceField {
    let mut field = ChoiceField::new(
        name,
        legend,
        &[("no", "No", None), ("yes", "Yes", Some(yes_hint))],
        posted,
        errors,
    );
    if posted.get(name).is_empty() {
        field.choices[0].checked = true;
    }
    field
}

/// SSDA903 codes as drop-down options, each labelled "CODE: description".
pub fn coded(list: &[crate::ssda903::Code]) -> Vec<(String, String)> {
    list.iter()
        .map(|(code, description)| (code.to_string(), format!("{code}: {description}")))
        .collect()
}

/// A drop-down list, for choices too many for radios.
#[derive(Debug, Clone, Default)]
pub struct SelectField {
    pub name: String,
    pub label: String,
    pub hint: Option<String>,
    /// (value, label, selected); the first is the "choose" prompt with an empty value.
    pub options: Vec<(String, String, bool)>,
    pub error: Option<String>,
}

impl SelectField {
    pub fn new(
        name: &str,
        label: &str,
        options: &[(String, String)],
        posted: &Posted,
        errors: &FormErrors,
    ) -> SelectField {
        let chosen = posted.get(name);
        let mut all = vec![(String::new(), "Choose one".to_string(), chosen.is_empty())];
        all.extend(options.iter().map(|(v, l)| (v.clone(), l.clone(), v == chosen)));
        SelectField {
            name: name.to_string(),
            label: label.to_string(),
            hint: None,
            options: all,
            error: errors.message(name).map(str::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use askama::Template;

    fn posted(pairs: &[(&str, &str)]) -> Posted {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter())
            .finish();
        Posted::parse(body.as_bytes())
    }

    fn date(day: &str, month: &str, year: &str) -> Result<NaiveDate, DateProblem> {
        let p = posted(&[("dob-day", day), ("dob-month", month), ("dob-year", year)]);
        DateField::new("dob", "Date of birth", &p, &FormErrors::new()).check("Date of birth")
    }

    #[test]
    fn a_date_is_three_fields_day_month_year() {
        assert_eq!(date("5", "3", "2020"), Ok(NaiveDate::from_ymd_opt(2020, 3, 5).unwrap()));
        assert_eq!(
            date(" 05", "03 ", "2020"),
            Ok(NaiveDate::from_ymd_opt(2020, 3, 5).unwrap())
        );
    }

    #[test]
    fn missing_parts_are_named_and_highlighted() {
        let p = date("", "", "").unwrap_err();
        assert_eq!(p.message, "Enter date of birth");
        let p = date("5", "", "2020").unwrap_err();
        assert_eq!(p.message, "Date of birth must include a month");
        assert_eq!(p.parts, [false, true, false]);
        let p = date("", "", "2020").unwrap_err();
        assert_eq!(p.message, "Date of birth must include a day and a month");
        assert_eq!(p.parts, [true, true, false]);
    }

    #[test]
    fn impossible_dates_must_be_real() {
        assert_eq!(
            date("30", "2", "2020").unwrap_err().message,
            "Date of birth must be a real date"
        );
        assert_eq!(
            date("x", "2", "2020").unwrap_err().message,
            "Date of birth must be a real date"
        );
        assert_eq!(date("1", "2", "20").unwrap_err().message, "Year must include 4 numbers");
        assert_eq!(date("1", "2", "20").unwrap_err().parts, [false, false, true]);
    }

    #[test]
    fn read_date_links_the_summary_to_the_first_part_in_error() {
        let mut errors = FormErrors::new();
        let p = posted(&[("seen_on-day", "3"), ("seen_on-month", ""), ("seen_on-year", "")]);
        assert_eq!(read_date(&p, "seen_on", "Date seen", &mut errors), None);
        assert_eq!(errors.items[0].target, "seen_on-month");
        assert_eq!(
            errors.message("seen_on"),
            Some("Date seen must include a month and a year")
        );
        let mut errors = FormErrors::new();
        assert_eq!(
            read_optional_date(&posted(&[]), "seen_on", "Date seen", &mut errors),
            None
        );
        assert!(errors.is_empty(), "a blank optional date is no error");
    }

    #[test]
    fn error_titles_start_with_error() {
        let mut errors = FormErrors::new();
        assert_eq!(title("Record consent", &errors), "Record consent");
        errors.add("given_by", "given_by", "Enter who gave consent");
        assert_eq!(title("Record consent", &errors), "Error: Record consent");
    }

    #[test]
    fn service_errors_map_onto_fields_in_page_order() {
        let e = AppError::Invalid(vec![
            FieldError::new("sex", "must be M, F or U"),
            FieldError::new("date_of_birth", "must not be in the future"),
            FieldError::new("responsible_la", "not yours"),
        ]);
        let fields = [
            ("date_of_birth", "date_of_birth", "date_of_birth-day"),
            ("sex", "sex", "sex-1"),
        ];
        let errors = FormErrors::from_error(&e, &fields, "form").unwrap();
        let order: Vec<&str> = errors.items.iter().map(|i| i.field.as_str()).collect();
        assert_eq!(order, ["date_of_birth", "sex", "responsible_la"]);
        assert_eq!(errors.items[0].target, "date_of_birth-day");
        assert_eq!(errors.items[0].message, "Must not be in the future");
        assert_eq!(
            errors.items[2].target, "form",
            "a field not on the page links to the form"
        );
        assert!(FormErrors::from_error(&AppError::NotFound("child"), &fields, "form").is_none());
    }

    #[test]
    fn a_stale_version_says_someone_else_changed_it() {
        let e = AppError::StaleVersion { sent: 2, current: 3 };
        let errors = FormErrors::from_error(&e, &[], "form").unwrap();
        assert!(errors.is_stale());
        assert!(errors.items[0]
            .message
            .starts_with("This record was changed by someone else"));
    }

    #[test]
    fn values_are_kept_after_an_error() {
        let p = posted(&[("given_by", "Mum"), ("scope", "assessment"), ("scope", "share_report")]);
        let mut errors = FormErrors::new();
        errors.add("given_by", "given_by", "Too long");
        let field = TextField::new("given_by", "Given by", &p, &errors);
        assert_eq!(field.value, "Mum");
        assert_eq!(field.error.as_deref(), Some("Too long"));
        let scope = ChoiceField::new(
            "scope",
            "Scope",
            &[
                ("assessment", "Assessment", None),
                ("share_report", "Share", None),
                ("birth_history", "Birth", None),
            ],
            &p,
            &errors,
        );
        let checked: Vec<bool> = scope.choices.iter().map(|c| c.checked).collect();
        assert_eq!(checked, [true, true, false]);
    }

    /// The macros rendered as a page would use them.
    #[derive(Template)]
    #[template(
        ext = "html",
        source = r#"{% import "macros.html" as f %}{% call f::error_summary(errors) %}{% endcall %}{% call f::text_input(name) %}{% endcall %}{% call f::date_input(dob) %}{% endcall %}{% call f::radios(sex) %}{% endcall %}{% call f::checkboxes(scope) %}{% endcall %}{% call f::textarea(note) %}{% endcall %}{% call f::csrf(token) %}{% endcall %}"#
    )]
    struct Fixture {
        errors: FormErrors,
        name: TextField,
        dob: DateField,
        sex: ChoiceField,
        scope: ChoiceField,
        note: TextArea,
        token: String,
    }

    fn fixture(p: &Posted, errors: FormErrors) -> String {
        Fixture {
            name: TextField::new("given_name", "Given name", p, &errors),
            dob: DateField::new("dob", "Date of birth", p, &errors),
            sex: ChoiceField::new(
                "sex",
                "Sex",
                &[("M", "Male", None), ("F", "Female", Some("As recorded"))],
                p,
                &errors,
            ),
            scope: ChoiceField::new("scope", "Scope", &[("assessment", "Assessment", None)], p, &errors),
            note: TextArea::new("note", "Note", p, &errors),
            token: "tok<>".into(),
            errors,
        }
        .render()
        .unwrap()
    }

    #[test]
    fn macros_render_the_design_system_markup() {
        let p = posted(&[
            ("given_name", "<b>Amy</b>"),
            ("dob-day", "5"),
            ("dob-month", ""),
            ("dob-year", "2020"),
            ("sex", "F"),
        ]);
        let mut errors = FormErrors::new();
        errors.add("given_name", "given_name", "Enter a given name");
        read_date(&p, "dob", "Date of birth", &mut errors);
        let html = fixture(&p, errors);
        assert!(html.contains("There is a problem"), "{html}");
        assert!(
            html.contains(r##"<a href="#given_name">Enter a given name</a>"##),
            "{html}"
        );
        assert!(
            html.contains(r##"<a href="#dob-month">Date of birth must include a month</a>"##),
            "{html}"
        );
        assert!(html.contains("nhsuk-form-group--error"), "{html}");
        assert!(
            html.contains(r#"<span class="nhsuk-u-visually-hidden">Error: </span>Enter a given name"#),
            "{html}"
        );
        assert!(html.contains(r#"aria-describedby="given_name-error""#), "{html}");
        assert!(
            html.contains("&#60;b&#62;Amy&#60;/b&#62;") || html.contains("&lt;b&gt;Amy&lt;/b&gt;"),
            "escaped value kept: {html}"
        );
        for (part, label) in [("day", "Day"), ("month", "Month"), ("year", "Year")] {
            assert!(
                html.contains(&format!(r#"for="dob-{part}">{label}</label>"#)),
                "{label}: {html}"
            );
        }
        assert!(html.contains(r#"id="dob-month" name="dob-month""#), "{html}");
        assert!(
            html.contains(r#"nhsuk-input--error nhsuk-input--width-2 nhsuk-date-input__input" id="dob-month""#),
            "only the missing part is highlighted: {html}"
        );
        assert!(html.contains(r#"value="F" checked"#), "{html}");
        assert!(
            html.contains(r#"name="csrf" value="tok&#60;&#62;""#)
                || html.contains(r#"name="csrf" value="tok&lt;&gt;""#),
            "{html}"
        );
    }

    #[test]
    fn macros_without_errors_show_no_summary() {
        let html = fixture(&posted(&[]), FormErrors::new());
        assert!(!html.contains("There is a problem"));
        assert!(!html.contains("nhsuk-form-group--error"));
    }
}
