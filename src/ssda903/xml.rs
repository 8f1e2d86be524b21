//! The SSDA903 XML form, read as a stream into the same rows as the CSV files.
//!
//! Layout (DfE, as read by the open validator): a root element holding one `<CHILD>` per
//! child; in it a `<HEADER>` with `CHILDID` (the CSV's CHILD), SEX, DOB, ETHNIC, UPN,
//! MOTHER, MC_DOB, `UASC` (1 when the child is UASC) and DUC, and a nested `<OC2>` with the
//! OC2 fields; then one `<EPISODE>` per episode with DECOM, RNE, LS, CIN, `PL` (the CSV's
//! PLACE), PLACE_PROVIDER, DEC, REC, REASON_PLACE_CHANGE, HOME_POST, PL_POST and URN.
//!
//! Rules:
//! - Header fields written straight under `<CHILD>` (no `<HEADER>`) are read too; other
//!   elements (reviews, missing episodes, adoption) are skipped.
//! - A missing element is a blank value. Entities and character references are resolved;
//!   an unknown entity or a document that is not well-formed stops the file at that line.
//! - Elements may nest at most [`MAX_DEPTH`] deep, so a hostile file cannot grow the stack.
//! - Line numbers are counted from the events themselves (every newline is inside one).

use std::borrow::Cow;
use std::io::BufRead;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use quick_xml::Reader;

use super::files::{FileKind, Row, EPISODE_COLUMNS, HEADER_COLUMNS, OC2_COLUMNS};

/// Deepest nesting read.
pub const MAX_DEPTH: usize = 32;

/// Why the XML stopped being read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError {
    pub line: u64,
    pub message: String,
    /// CHILDID of the child being read when it stopped, if already seen.
    pub child: Option<String>,
}

/// Element names the reader looks for, held without allocating.
const STRUCTURE: &[&str] = &["CHILD", "CHILDID", "HEADER", "EPISODE", "OC2", "PL", "UASC", "DUC"];

/// The name as a `'static` string when it is one the reader knows (nearly all of a file),
/// so millions of elements do not each allocate their name.
fn intern(name: &str) -> Cow<'static, str> {
    STRUCTURE
        .iter()
        .chain(HEADER_COLUMNS)
        .chain(EPISODE_COLUMNS)
        .chain(OC2_COLUMNS)
        .find(|known| **known == name)
        .map_or_else(|| Cow::Owned(name.to_string()), |known| Cow::Borrowed(*known))
}

/// An element being read.
struct Open {
    name: Cow<'static, str>,
    line: u64,
    has_children: bool,
    text: String,
}

/// A leaf element: (name, value, line).
type Leaf = (Cow<'static, str>, String, u64);

/// The leaves of one `<CHILD>`; OC2 and each episode with the line they start on.
#[derive(Default)]
struct ChildLeaves {
    line: u64,
    header: Vec<Leaf>,
    oc2: Option<(u64, Vec<Leaf>)>,
    episodes: Vec<(u64, Vec<Leaf>)>,
}

impl ChildLeaves {
    fn child_id(&self) -> Option<String> {
        self.header
            .iter()
            .find(|(n, _, _)| n == "CHILDID")
            .map(|(_, v, _)| v.trim().to_string())
    }
}

/// Reads `input`, handing each child's rows to `emit` (header, then UASC, OC2, episodes)
/// as soon as its `</CHILD>` is read.
pub fn read(input: impl BufRead, mut emit: impl FnMut(FileKind, &Row)) -> Result<(), XmlError> {
    let mut reader = Reader::from_reader(input);
    let mut buf = Vec::new();
    let mut line: u64 = 1;
    let mut stack: Vec<Open> = Vec::new();
    let mut child = ChildLeaves::default();
    loop {
        buf.clear();
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(e) => return Err(stop(line, format!("not well-formed XML: {e}"), &child)),
        };
        let newlines = event.matches('\n').count() as u64;
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(stop(line, format!("elements nest more than {MAX_DEPTH} deep"), &child));
                }
                if let Some(parent) = stack.last_mut() {
                    parent.has_children = true;
                }
                let name = intern(start.name().0);
                if stack.len() == 1 && name == "CHILD" {
                    child = ChildLeaves {
                        line,
                        ..ChildLeaves::default()
                    };
                }
                if is_episode(&stack, &name) {
                    child.episodes.push((line, Vec::new()));
                }
                if is_oc2(&stack, &name) {
                    child.oc2 = Some((line, Vec::new()));
                }
                stack.push(Open {
                    name,
                    line,
                    has_children: false,
                    text: String::new(),
                });
            }
            Event::Empty(empty) => {
                if let Some(parent) = stack.last_mut() {
                    parent.has_children = true;
                }
                let name = intern(empty.name().0);
                leaf(&stack, &mut child, name, String::new(), line);
            }
            Event::End(_) => {
                let Some(open) = stack.pop() else {
                    return Err(stop(line, "an end tag with no start tag".to_string(), &child));
                };
                if !open.has_children {
                    leaf(&stack, &mut child, open.name.clone(), open.text, open.line);
                }
                if stack.len() == 1 && open.name == "CHILD" {
                    emit_child(&std::mem::take(&mut child), &mut emit);
                }
            }
            Event::Text(text) => append(&mut stack, &text.xml10_content()),
            Event::CData(data) => append(&mut stack, &data),
            Event::GeneralRef(reference) => {
                let resolved = if reference.is_char_ref() {
                    reference.resolve_char_ref().ok().flatten().map(String::from)
                } else {
                    resolve_predefined_entity(&reference).map(str::to_string)
                };
                match resolved {
                    Some(text) => append(&mut stack, &text),
                    None => return Err(stop(line, format!("unknown entity &{};", &*reference), &child)),
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
        line += newlines;
    }
    match stack.last() {
        Some(open) => Err(stop(line, format!("the file ends inside <{}>", open.name), &child)),
        None => Ok(()),
    }
}

fn stop(line: u64, message: String, child: &ChildLeaves) -> XmlError {
    XmlError {
        line,
        message,
        child: child.child_id(),
    }
}

fn append(stack: &mut [Open], text: &str) {
    if let Some(open) = stack.last_mut() {
        open.text.push_str(text);
    }
}

/// Which part of a child the innermost open element (`stack`'s last) is, without
/// allocating: this runs for every element of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Child,
    Header,
    Episode,
    Oc2,
    Other,
}

fn part(stack: &[Open]) -> Part {
    let name = |i: usize| stack.get(i).map(|open| open.name.as_ref());
    match (stack.len(), name(1), name(2), name(3)) {
        (2, Some("CHILD"), _, _) => Part::Child,
        (3, Some("CHILD"), Some("HEADER"), _) => Part::Header,
        (3, Some("CHILD"), Some("EPISODE"), _) => Part::Episode,
        (3, Some("CHILD"), Some("OC2"), _) | (4, Some("CHILD"), Some("HEADER"), Some("OC2")) => Part::Oc2,
        _ => Part::Other,
    }
}

fn is_episode(stack: &[Open], name: &str) -> bool {
    name == "EPISODE" && part(stack) == Part::Child
}

fn is_oc2(stack: &[Open], name: &str) -> bool {
    name == "OC2" && matches!(part(stack), Part::Child | Part::Header)
}

/// Files a leaf under the part of the child it belongs to; leaves elsewhere are skipped.
fn leaf(stack: &[Open], child: &mut ChildLeaves, name: Cow<'static, str>, value: String, line: u64) {
    let entry = (name, value, line);
    match part(stack) {
        Part::Child | Part::Header => child.header.push(entry),
        Part::Episode => {
            if let Some((_, leaves)) = child.episodes.last_mut() {
                leaves.push(entry);
            }
        }
        Part::Oc2 => {
            if let Some((_, leaves)) = child.oc2.as_mut() {
                leaves.push(entry);
            }
        }
        Part::Other => {}
    }
}

/// The value of `column` for a row of `kind`: CHILD is CHILDID and PLACE is PL in XML.
fn xml_name(column: &str) -> &str {
    match column {
        "CHILD" => "CHILDID",
        "PLACE" => "PL",
        other => other,
    }
}

fn build_row(kind: FileKind, line: u64, own: &[Leaf], header: &[Leaf]) -> Row {
    let mut row = Row::new(kind, line);
    for (i, column) in kind.columns().iter().enumerate() {
        let name = xml_name(column);
        let found = own
            .iter()
            .find(|(n, _, _)| n == name)
            .or_else(|| header.iter().find(|(n, _, _)| n == name));
        if let Some((_, value, at)) = found {
            row.set(i, value, *at);
        }
    }
    row
}

fn emit_child(child: &ChildLeaves, emit: &mut impl FnMut(FileKind, &Row)) {
    emit(
        FileKind::Header,
        &build_row(FileKind::Header, child.line, &child.header, &[]),
    );
    let value = |name: &str| {
        child
            .header
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, v, _)| v.trim())
            .unwrap_or("")
    };
    if value("UASC") == "1" || !value("DUC").is_empty() {
        emit(
            FileKind::Uasc,
            &build_row(FileKind::Uasc, child.line, &[], &child.header),
        );
    }
    if let Some((line, leaves)) = &child.oc2 {
        emit(FileKind::Oc2, &build_row(FileKind::Oc2, *line, leaves, &child.header));
    }
    for (line, leaves) in &child.episodes {
        emit(
            FileKind::Episodes,
            &build_row(FileKind::Episodes, *line, leaves, &child.header),
        );
    }
}
