//! `/admin/import`: a local authority's SSDA903 files imported from the admin console, the
//! same import as the CLI's `cla-tracker import ssda903` (issue 12).
//!
//! The admin chooses the local authority (from those in their scope), uploads its files
//! (header, episodes, UASC, OC2 as CSV, or the XML form; any order, several at once) as
//! `multipart/form-data`, and may tick "Check only (dry run)". The files are read and
//! checked by [`crate::ssda903::Loader`] and, unless it is a dry run, written by
//! [`ssda903_import::write`], exactly as the CLI does: the same service function, so the
//! same audit entries (`import` of each child and period created or changed, through the
//! ordinary use cases for open periods), here in the signed-in admin's name and inside
//! `AppState::run_as`. A dry run writes nothing, as the CLI's. The answer is a page: the
//! files read, the counts (children, periods, episodes: read, rejected, created, updated,
//! unchanged), "Dry run: nothing was written" when so, and the refused rows (file, line,
//! child, column, value, reason), the first [`SHOWN`] of them with the total.
//!
//! Rules:
//! - Every route is in `access::PAGES` under `ssda903_import` (admins only), and the
//!   authority must be in the admin's scope (`Scope::allows`, checked again by
//!   `ssda903_import::write`): a local authority's admin imports its own children, an
//!   ICB's admin those of any authority in the ICB; any other is refused (403, audited).
//! - No file chosen, an empty file, or a file that is not text (a NUL byte, or not UTF-8:
//!   a spreadsheet saved as .xlsx, say) is a field error, and nothing is read or written.
//! - The CSRF token is the form's `csrf` part, found by the middleware in the buffered
//!   body (`http::multipart`). These routes take bodies up to
//!   `http::auth::UPLOAD_MAX_BODY_BYTES`, read only once the session is known.
//! - Nothing is stored but what the import writes, and no child's data goes to a log or a
//!   URL: the report exists only in the answer. So the rejections CSV is offered without
//!   keeping anything: the result page carries the CSV (`Report::write_rejections_csv`,
//!   spreadsheet-safe) in a hidden field of a small form, and its button posts it to
//!   `/admin/import/rejections`, which checks that it is a rejections CSV (the header row
//!   and six fields a row) and answers it back as an attachment. Re-sending the files
//!   instead would import them again and lose the rows the writer refused; a `data:`
//!   link is barred by the pages' CSP. The CSV holds what the page already shows.
//! - The rejections name a child only by the CHILD id the authority's own files give it
//!   (SSDA903 holds no names); an admin reads no child's record here.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;

use super::forms::{self, ChoiceField, FormErrors, Posted, SelectField, TextField};
use super::layout::Layout;
use crate::error::{AppError, AppResult};
use crate::http::auth::Access;
use crate::http::{multipart, AppState};
use crate::service::ssda903_import;
use crate::ssda903::{self, Counts, FileSummary, ImportOptions, Rejection};

/// The routes that take an upload-sized body (`http::auth::body_limit`).
pub const PATHS: [&str; 2] = ["/admin/import", "/admin/import/rejections"];

/// Refused rows shown on the page; the CSV has them all.
pub const SHOWN: usize = 500;

const LA: &str = "la";
const FILES: &str = "files";
const DRY_RUN: &str = "dry_run";
const HOME_AREAS: &str = "home_areas";
const CSV: &str = "csv";
const CSV_HEADER: [&str; 6] = ["file", "line", "child", "column", "value", "reason"];

/// A file input.
#[derive(Debug, Clone, Default)]
pub struct FileField {
    pub name: String,
    pub label: String,
    pub hint: Option<String>,
    pub error: Option<String>,
}

/// What an import did, for the page.
#[derive(Debug, Clone)]
pub struct ImportResult {
    pub la: String,
    pub dry_run: bool,
    pub files: Vec<FileSummary>,
    /// (what, counts): children, periods, episodes.
    pub counts: Vec<(&'static str, Counts)>,
    /// The first [`SHOWN`] refused rows.
    pub rejections: Vec<Rejection>,
    pub total_rejections: usize,
    /// Every refused row as CSV, for the download form.
    pub csv: String,
}

impl ImportResult {
    fn of(la: String, dry_run: bool, report: ssda903::Report) -> AppResult<ImportResult> {
        let mut csv = Vec::new();
        report
            .write_rejections_csv(&mut csv)
            .map_err(|e| AppError::Internal(format!("writing the rejections CSV: {e}")))?;
        let csv = String::from_utf8(csv).map_err(|_| AppError::Internal("the rejections CSV is not UTF-8".into()))?;
        Ok(ImportResult {
            la,
            dry_run,
            total_rejections: report.rejections.len(),
            rejections: report.rejections.into_iter().take(SHOWN).collect(),
            counts: vec![
                ("Children", report.children),
                ("Periods of care", report.periods),
                ("Episodes", report.episodes),
            ],
            files: report.files,
            csv,
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_import.html")]
pub struct ImportPage {
    pub layout: Layout,
    pub errors: FormErrors,
    pub la: SelectField,
    pub files: FileField,
    pub dry_run: ChoiceField,
    pub home_areas: TextField,
    pub result: Option<ImportResult>,
    pub shown: usize,
}

impl ImportPage {
    /// A count the writer filled in, or "-" for a dry run.
    pub fn written(&self, counts: &Counts, which: &str) -> String {
        match counts.written {
            Some(w) => match which {
                "created" => w.created,
                "updated" => w.updated,
                _ => w.unchanged,
            }
            .to_string(),
            None => "-".to_string(),
        }
    }
}

fn draw(
    access: &Access,
    req: &HttpRequest,
    posted: &Posted,
    errors: FormErrors,
    result: Option<ImportResult>,
) -> ImportPage {
    let title = if result.is_some() {
        "SSDA903 import report"
    } else {
        "Import SSDA903 files"
    };
    let options: Vec<(String, String)> = access
        .principal
        .scope
        .iter()
        .map(|code| (code.clone(), code.clone()))
        .collect();
    let mut la = SelectField::new(LA, "Local authority", &options, posted, &errors);
    la.hint = Some("The authority responsible for the children in the files".into());
    if options.len() == 1 && posted.get(LA).is_empty() {
        // The only choice is chosen already.
        la.options.remove(0);
        if let Some(first) = la.options.first_mut() {
            first.2 = true;
        }
    }
    let mut dry_run = ChoiceField::new(
        DRY_RUN,
        "Check only (dry run)",
        &[(
            "yes",
            "Check only (dry run): read and check the files, and write nothing",
            None,
        )],
        posted,
        &errors,
    );
    dry_run.hint = Some("Leave it unticked to import the children the files give".into());
    let home_areas = TextField::new(HOME_AREAS, "The authority's postcode areas (optional)", posted, &errors)
        .hint("The leading letters of its postcodes, for example NE, DH: placements elsewhere are out of area")
        .width("nhsuk-input--width-10");
    ImportPage {
        layout: Layout::signed_in(forms::title(title, &errors), &access.principal, req.path()),
        files: FileField {
            name: FILES.into(),
            label: "SSDA903 files".into(),
            hint: Some(
                "The header, episodes, UASC and OC2 files as CSV (DfE column names in the first row, dates DD/MM/YYYY), or the XML file. Choose several at once."
                    .into(),
            ),
            error: errors.message(FILES).map(str::to_string),
        },
        la,
        dry_run,
        home_areas,
        errors,
        result,
        shown: SHOWN,
    }
}

pub async fn page(access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let page = draw(&access, &req, &Posted::default(), FormErrors::new(), None);
    Ok(super::respond(&req, StatusCode::OK, page))
}

/// A file name as the page shows it: without any folder a browser sent with it.
fn file_name(raw: &str, n: usize) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("").trim();
    if base.is_empty() {
        format!("file {n}")
    } else {
        base.chars().take(120).collect()
    }
}

/// The chosen files, or the field's error.
fn uploaded(form: &multipart::Multipart<'_>) -> Result<Vec<(String, Vec<u8>)>, String> {
    let chosen: Vec<&multipart::Part<'_>> = form
        .files(FILES)
        .filter(|p| p.filename.as_deref().is_some_and(|f| !f.is_empty()) || !p.data.is_empty())
        .collect();
    if chosen.is_empty() {
        return Err("Choose the SSDA903 files to import".into());
    }
    let mut files = Vec::with_capacity(chosen.len());
    for (i, part) in chosen.into_iter().enumerate() {
        let name = file_name(part.filename.as_deref().unwrap_or(""), i + 1);
        if part.data.iter().all(u8::is_ascii_whitespace) {
            return Err(format!("The file {name} is empty"));
        }
        if part.data.contains(&0) || std::str::from_utf8(part.data).is_err() {
            return Err(format!(
                "The file {name} is not a text file: choose the CSV or XML files (UTF-8), not a spreadsheet"
            ));
        }
        files.push((name, part.data.to_vec()));
    }
    Ok(files)
}

/// The postcode areas typed, or None when one is not 1 or 2 letters.
fn home_areas(text: &str) -> Option<Vec<String>> {
    text.split([',', ' '])
        .filter(|a| !a.is_empty())
        .map(|a| (a.len() <= 2 && a.chars().all(|c| c.is_ascii_alphabetic())).then(|| a.to_ascii_uppercase()))
        .collect()
}

pub async fn import(
    state: web::Data<AppState>,
    access: Access,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = multipart::boundary(content_type)
        .ok_or_else(|| AppError::bad_request("body", "send the form as multipart/form-data"))?;
    let form = multipart::parse(&body, &boundary)
        .map_err(|e| AppError::bad_request("body", format!("the upload could not be read: {e}")))?;
    // The text fields, as an url-encoded form would give them (for redrawing the form).
    let fields: Vec<(&str, &str)> = [LA, DRY_RUN, HOME_AREAS]
        .into_iter()
        .filter_map(|name| form.text(name).map(|v| (name, v)))
        .collect();
    let posted = Posted::parse(
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish()
            .as_bytes(),
    );
    let mut errors = FormErrors::new();
    let la = posted.get(LA).to_string();
    if la.is_empty() {
        errors.add(LA, LA, "Choose the local authority whose files these are");
    }
    let files = match uploaded(&form) {
        Ok(files) => files,
        Err(message) => {
            errors.add(FILES, FILES, message);
            Vec::new()
        }
    };
    let areas = home_areas(posted.get(HOME_AREAS)).unwrap_or_else(|| {
        errors.add(
            HOME_AREAS,
            HOME_AREAS,
            "Postcode areas must be 1 or 2 letters each, for example NE, DH",
        );
        Vec::new()
    });
    if !errors.is_empty() {
        let page = draw(&access, &req, &posted, errors, None);
        return Ok(super::respond(&req, StatusCode::UNPROCESSABLE_ENTITY, page));
    }
    drop(form);
    drop(body);
    let dry_run = posted.get(DRY_RUN) == "yes";
    let authority = la.clone();
    // Read, checked and (unless a dry run) written as the CLI does, in the admin's name.
    let report = state
        .run_as(&access, move |conn, ctx| {
            if !ctx.scope.allows(&authority) {
                return Err(AppError::Forbidden(format!(
                    "{authority} is not a local authority whose children you work with"
                )));
            }
            let options = ImportOptions {
                allow_continuations: true,
                home_postcode_areas: areas,
            };
            let mut loader = ssda903::Loader::new(options);
            for (name, data) in &files {
                loader.add(name, data.as_slice());
            }
            drop(files);
            let mut import = loader.finish();
            if !dry_run {
                ssda903_import::write(conn, ctx, &authority, &mut import, &mut |_| {})?;
            }
            Ok(import.report)
        })
        .await?;
    let result = ImportResult::of(la, dry_run, report)?;
    let page = draw(&access, &req, &posted, FormErrors::new(), Some(result));
    Ok(super::respond(&req, StatusCode::OK, page))
}

/// The rejections CSV the result page carries, answered back as a download once it is
/// seen to be one.
pub async fn rejections(body: web::Bytes) -> AppResult<HttpResponse> {
    let posted = Posted::parse(&body);
    let csv = posted.all(CSV).into_iter().next().unwrap_or_default();
    check_rejections_csv(&csv)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"ssda903-rejections.csv\"",
        ))
        .body(csv))
}

/// A rejections CSV: the header row `file,line,child,column,value,reason` and six fields,
/// a line number among them, in every row.
fn check_rejections_csv(text: &str) -> AppResult<()> {
    let refused = || AppError::bad_request(CSV, "not an SSDA903 rejections CSV: import the files again");
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|_| refused())?;
    if headers.iter().ne(CSV_HEADER) {
        return Err(refused());
    }
    for record in reader.records() {
        let record = record.map_err(|_| refused())?;
        if record.len() != CSV_HEADER.len() || record[1].parse::<u64>().is_err() {
            return Err(refused());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejections_csv_is_recognised_and_anything_else_refused() {
        let report = ssda903::Report {
            rejections: vec![Rejection {
                file: "episodes.csv".into(),
                line: 4,
                child: Some("B2".into()),
                column: "LS".into(),
                value: "=ZZ, \"quoted\"".into(),
                reason: "not a legal status".into(),
            }],
            ..ssda903::Report::default()
        };
        let result = ImportResult::of("SOM".into(), true, report).expect("the CSV");
        assert!(check_rejections_csv(&result.csv).is_ok(), "{}", result.csv);
        assert!(
            check_rejections_csv(&result.csv.replace('\n', "\r\n")).is_ok(),
            "a browser's line breaks"
        );
        assert!(
            check_rejections_csv("file,line,child,column,value,reason\n").is_ok(),
            "no rows"
        );
        assert!(check_rejections_csv("").is_err());
        assert!(check_rejections_csv("<script>alert(1)</script>").is_err());
        assert!(check_rejections_csv("file,line,child,column,value,reason\na,b,c,d,e,f\n").is_err());
        assert!(check_rejections_csv("file,line,child,column,value,reason\na,1,c\n").is_err());
    }

    #[test]
    fn file_names_lose_their_folders() {
        assert_eq!(file_name("C:\\Users\\me\\header.csv", 1), "header.csv");
        assert_eq!(file_name("a/b/episodes.csv", 2), "episodes.csv");
        assert_eq!(file_name("  ", 3), "file 3");
    }

    #[test]
    fn postcode_areas_are_one_or_two_letters() {
        assert_eq!(home_areas("ne, dh"), Some(vec!["NE".to_string(), "DH".to_string()]));
        assert_eq!(home_areas(""), Some(Vec::new()));
        assert_eq!(home_areas("NE1"), None);
        assert_eq!(home_areas("NEW"), None);
    }
}
