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

use std::io::BufRead;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use quick_xml::Reader;

use super::files::{FileKind, Row};

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

/// An element being read.
struct Open {
    name: String,
    line: u64,
    has_children: bool,
    text: String,
}

/// A leaf element: (name, value, line).
type Leaf = (String, String, u64);

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
                let name = start.name().0.to_string();
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
                let name = empty.name().0.to_string();
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

/// Path names below the root: `[CHILD, EPISODE]` for an episode's leaves.
fn path(stack: &[Open]) -> Vec<&str> {
    stack.iter().skip(1).map(|open| open.name.as_str()).collect()
}

fn is_episode(stack: &[Open], name: &str) -> bool {
    name == "EPISODE" && path(stack) == ["CHILD"]
}

fn is_oc2(stack: &[Open], name: &str) -> bool {
    name == "OC2" && matches!(path(stack).as_slice(), ["CHILD"] | ["CHILD", "HEADER"])
}

/// Files a leaf under the part of the child it belongs to; leaves elsewhere are skipped.
fn leaf(stack: &[Open], child: &mut ChildLeaves, name: String, value: String, line: u64) {
    let entry = (name, value, line);
    match path(stack).as_slice() {
        ["CHILD"] | ["CHILD", "HEADER"] => child.header.push(entry),
        ["CHILD", "EPISODE"] => {
            if let Some((_, leaves)) = child.episodes.last_mut() {
                leaves.push(entry);
            }
        }
        ["CHILD", "OC2"] | ["CHILD", "HEADER", "OC2"] => {
            if let Some((_, leaves)) = child.oc2.as_mut() {
                leaves.push(entry);
            }
        }
        _ => {}
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
