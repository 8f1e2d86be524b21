//! A tamper-evident audit trail: a hash chain over append-only entries.
//!
//! Each entry stores the hash of the one before it (`prev_hash`) and its own
//! hash over all of its fields. Editing an entry breaks its own hash;
//! deleting, inserting or reordering entries breaks the links or the run of
//! sequence numbers. [`Verifier`] walks the rows in `seq` order in constant
//! memory and names the first problem at each place.
//!
//! A chain cannot show that its newest entries were cut off: to detect that,
//! record [`Verifier::head`] somewhere the database administrator cannot edit
//! (an external log, a signed report) and compare later.

use std::fmt;

use chrono::NaiveDateTime;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The timestamp form that is hashed: UTC, microseconds (what PostgreSQL keeps).
/// Finer digits are truncated, so a value read back from the database hashes
/// the same as the one written.
pub const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6f";

/// Names the encoding so a future change of fields can be told apart.
const DOMAIN: &[u8] = b"cla-tracker audit entry v1\n";

/// One audit row: exactly the stored columns except `hash`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    /// 1, 2, 3, ... with no gaps.
    pub seq: i64,
    /// UTC, microsecond precision.
    pub occurred_at: NaiveDateTime,
    pub user_id: Option<String>,
    pub user_email: Option<String>,
    pub role: Option<String>,
    pub client_address: Option<String>,
    /// e.g. "read", "create", "update", "login_failed", "denied".
    pub action: String,
    /// e.g. "child", "assessment", "session".
    pub entity: String,
    pub entity_id: Option<String>,
    pub child_id: Option<String>,
    /// "ok", "denied", "failed".
    pub outcome: String,
    /// JSON text of `{"field": [before, after], ...}`; see [`diff`].
    pub changes: Option<String>,
    /// Hash of entry `seq - 1`, or [`GENESIS`] for entry 1.
    pub prev_hash: String,
}

/// Lowercase hex SHA-256 of the entry's canonical encoding.
///
/// The encoding, so that an independent checker can be written in any
/// language: the bytes `cla-tracker audit entry v1\n`, then each field in
/// declaration order as one of
/// - `N` for `None`;
/// - `S`, the UTF-8 length as 8 bytes big-endian, then the UTF-8 bytes, for
///   strings and `Some(string)`. `seq` is its decimal text and `occurred_at`
///   is formatted with [`TIME_FORMAT`].
///
/// Length prefixes make field boundaries unambiguous, and `None` (`N`) can
/// never equal `Some("")` (`S` and eight zero bytes).
pub fn entry_hash(e: &Entry) -> String {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    field(&mut h, Some(&e.seq.to_string()));
    field(&mut h, Some(&e.occurred_at.format(TIME_FORMAT).to_string()));
    for value in [&e.user_id, &e.user_email, &e.role, &e.client_address] {
        field(&mut h, value.as_deref());
    }
    field(&mut h, Some(&e.action));
    field(&mut h, Some(&e.entity));
    field(&mut h, e.entity_id.as_deref());
    field(&mut h, e.child_id.as_deref());
    field(&mut h, Some(&e.outcome));
    field(&mut h, e.changes.as_deref());
    field(&mut h, Some(&e.prev_hash));
    to_hex(&h.finalize())
}

fn field(h: &mut Sha256, value: Option<&str>) {
    match value {
        None => h.update(b"N"),
        Some(s) => {
            h.update(b"S");
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        }
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where and how the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// The entry's contents do not match its stored hash.
    Edited { seq: i64 },
    /// The entry's `prev_hash` is not the previous entry's hash, or its `seq`
    /// does not increase.
    Unlinked { seq: i64 },
    /// Sequence numbers jump from `after` to `next`.
    Gap { after: i64, next: i64 },
    /// The first entry is not entry 1.
    BadStart { seq: i64 },
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Break::Edited { seq } => write!(f, "entry {seq} was edited: its hash does not match its contents"),
            Break::Unlinked { seq } => write!(
                f,
                "entry {seq} does not follow entry {}: an entry was deleted, inserted or reordered",
                seq.saturating_sub(1)
            ),
            Break::Gap { after, next } => write!(
                f,
                "entries {after} and {next} are not contiguous: {}",
                missing(after, next)
            ),
            Break::BadStart { seq } => write!(f, "the first entry is {seq}: earlier entries are missing"),
        }
    }
}

fn missing(after: i64, next: i64) -> String {
    let first = after.saturating_add(1);
    let last = next.saturating_sub(1);
    if first == last {
        format!("entry {first} is missing")
    } else {
        format!("entries {first} to {last} are missing")
    }
}

impl std::error::Error for Break {}

/// Checks a chain row by row, in `seq` order, keeping only the last row.
///
/// After a break the verifier re-anchors on the offending row, so a caller
/// may keep pushing to list every independent break (one edited entry gives
/// one `Edited`, not a cascade). `head` is trustworthy only if no push failed.
#[derive(Debug, Clone, Default)]
pub struct Verifier {
    last: Option<(i64, String)>,
    checked: i64,
}

impl Verifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next row. Its own hash is checked first, so an edit to any
    /// field (even `seq` or `prev_hash`) is reported as `Edited`.
    pub fn push(&mut self, e: &Entry, stored_hash: &str) -> Result<(), Break> {
        let result = self.check(e, stored_hash);
        self.last = Some((e.seq, stored_hash.to_string()));
        self.checked += 1;
        result
    }

    /// Rows pushed so far.
    pub fn checked(&self) -> i64 {
        self.checked
    }

    /// `(seq, hash)` of the last row pushed.
    pub fn head(&self) -> Option<(i64, String)> {
        self.last.clone()
    }

    fn check(&self, e: &Entry, stored_hash: &str) -> Result<(), Break> {
        // Hashes are hex and public; no constant-time comparison is needed.
        if entry_hash(e) != stored_hash {
            return Err(Break::Edited { seq: e.seq });
        }
        let (prev_seq, prev_hash) = match &self.last {
            None if e.seq != 1 => return Err(Break::BadStart { seq: e.seq }),
            None => (0, GENESIS),
            Some((seq, hash)) => (*seq, hash.as_str()),
        };
        if e.seq > prev_seq.saturating_add(1) {
            return Err(Break::Gap {
                after: prev_seq,
                next: e.seq,
            });
        }
        if e.seq != prev_seq.saturating_add(1) || e.prev_hash != prev_hash {
            return Err(Break::Unlinked { seq: e.seq });
        }
        Ok(())
    }
}

/// The changed fields between two JSON objects, as JSON text
/// `{"field": [before, after], ...}` with keys sorted; `None` if nothing
/// changed. A field on one side only is paired with `null`. `null` stands
/// for "no record", so a creation (`null` to object) or deletion lists every
/// field. Nested values are compared whole. Any other non-object pair is
/// recorded as one change under the key `"value"`.
///
/// Callers must leave secrets (password hashes, tokens) out of both sides:
/// the audit trail is kept for years and read by administrators.
pub fn diff(before: &Value, after: &Value) -> Option<String> {
    let empty = serde_json::Map::new();
    let (Some(old), Some(new)) = (as_fields(before, &empty), as_fields(after, &empty)) else {
        return (before != after).then(|| changes([("value", before, after)]));
    };
    let mut keys: Vec<&str> = old.keys().chain(new.keys()).map(String::as_str).collect();
    keys.sort_unstable();
    keys.dedup();
    let changed: Vec<(&str, &Value, &Value)> = keys
        .into_iter()
        .map(|k| {
            (
                k,
                old.get(k).unwrap_or(&Value::Null),
                new.get(k).unwrap_or(&Value::Null),
            )
        })
        .filter(|(_, o, n)| o != n)
        .collect();
    (!changed.is_empty()).then(|| changes(changed))
}

fn as_fields<'a>(
    v: &'a Value,
    empty: &'a serde_json::Map<String, Value>,
) -> Option<&'a serde_json::Map<String, Value>> {
    match v {
        Value::Object(map) => Some(map),
        Value::Null => Some(empty),
        _ => None,
    }
}

/// Builds the JSON text from items already sorted by key. Inserting in sorted
/// order keeps the keys sorted whether serde_json's map is a `BTreeMap` or,
/// with its `preserve_order` feature on somewhere in the build, insertion-ordered.
fn changes<'a>(sorted: impl IntoIterator<Item = (&'a str, &'a Value, &'a Value)>) -> String {
    let map: serde_json::Map<String, Value> = sorted
        .into_iter()
        .map(|(k, old, new)| (k.to_string(), Value::Array(vec![old.clone(), new.clone()])))
        .collect();
    Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Duration};
    use proptest::prelude::*;
    use serde_json::json;

    fn start() -> NaiveDateTime {
        DateTime::from_timestamp(1_767_225_600, 123_456_000)
            .map(|t| t.naive_utc())
            .unwrap_or_default()
    }

    fn entry(seq: i64, prev_hash: &str) -> Entry {
        Entry {
            seq,
            occurred_at: start() + Duration::seconds(seq),
            user_id: Some(format!("user-{}", seq % 3)),
            user_email: Some("nurse@example.nhs.uk".to_string()),
            role: Some("nurse".to_string()),
            client_address: (seq % 2 == 0).then(|| "10.0.0.1".to_string()),
            action: "update".to_string(),
            entity: "assessment".to_string(),
            entity_id: Some(format!("a-{seq}")),
            child_id: (seq % 5 != 0).then(|| "c-1".to_string()),
            outcome: "ok".to_string(),
            changes: diff(&json!({"status": "due"}), &json!({"status": format!("done {seq}")})),
            prev_hash: prev_hash.to_string(),
        }
    }

    /// `(entry, stored_hash)` rows for a valid chain of `n` entries.
    fn chain(n: i64) -> Vec<(Entry, String)> {
        link((1..=n).map(|seq| entry(seq, "")).collect())
    }

    /// Sets every `prev_hash` and hash so the rows form a valid chain.
    fn link(entries: Vec<Entry>) -> Vec<(Entry, String)> {
        let mut prev = GENESIS.to_string();
        entries
            .into_iter()
            .map(|mut e| {
                e.prev_hash = prev.clone();
                prev = entry_hash(&e);
                (e, prev.clone())
            })
            .collect()
    }

    fn verify(rows: &[(Entry, String)]) -> Result<i64, Break> {
        let mut v = Verifier::new();
        for (e, h) in rows {
            v.push(e, h)?;
        }
        Ok(v.checked())
    }

    const FIELDS: usize = 13;

    /// Changes field `i` of `e` to a different value.
    fn mutate(e: &mut Entry, i: usize) {
        fn opt(v: &mut Option<String>) {
            *v = match v.take() {
                None => Some(String::new()),
                Some(s) if s.is_empty() => None,
                Some(s) => Some(format!("{s}x")),
            };
        }
        match i {
            0 => e.seq += 1,
            1 => e.occurred_at += Duration::microseconds(1),
            2 => opt(&mut e.user_id),
            3 => opt(&mut e.user_email),
            4 => opt(&mut e.role),
            5 => opt(&mut e.client_address),
            6 => e.action.push('x'),
            7 => e.entity.push('x'),
            8 => opt(&mut e.entity_id),
            9 => opt(&mut e.child_id),
            10 => e.outcome.push('x'),
            11 => opt(&mut e.changes),
            _ => e
                .prev_hash
                .replace_range(0..1, if e.prev_hash.starts_with('a') { "b" } else { "a" }),
        }
    }

    #[test]
    fn chain_of_100_verifies() {
        let rows = chain(100);
        assert_eq!(verify(&rows), Ok(100));
        let mut v = Verifier::new();
        assert_eq!(v.head(), None);
        rows.iter().try_for_each(|(e, h)| v.push(e, h)).expect("valid");
        assert_eq!(v.head(), Some((100, rows[99].1.clone())));
    }

    #[test]
    fn editing_any_field_of_any_entry_is_edited_at_that_seq() {
        let rows = chain(20);
        for at in 0..rows.len() {
            for field in 0..FIELDS {
                let mut bad = rows.clone();
                mutate(&mut bad[at].0, field);
                assert_eq!(
                    verify(&bad),
                    Err(Break::Edited { seq: bad[at].0.seq }),
                    "entry {at} field {field}"
                );
            }
        }
    }

    #[test]
    fn none_and_empty_string_hash_differently() {
        let mut a = entry(1, GENESIS);
        a.role = None;
        let mut b = a.clone();
        b.role = Some(String::new());
        assert_ne!(entry_hash(&a), entry_hash(&b));
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let mut a = entry(1, GENESIS);
        a.action = "ab".to_string();
        a.entity = "c".to_string();
        let mut b = a.clone();
        b.action = "a".to_string();
        b.entity = "bc".to_string();
        assert_ne!(entry_hash(&a), entry_hash(&b));
    }

    #[test]
    fn hash_is_lowercase_hex_and_ignores_sub_microsecond_digits() {
        let a = entry(1, GENESIS);
        let h = entry_hash(&a);
        assert_eq!(h.len(), 64);
        assert!(h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        let mut b = a.clone();
        b.occurred_at += Duration::nanoseconds(999);
        assert_eq!(entry_hash(&b), h);
    }

    #[test]
    fn deleting_an_entry_is_a_gap() {
        let mut rows = chain(30);
        rows.remove(17);
        assert_eq!(verify(&rows), Err(Break::Gap { after: 17, next: 19 }));
    }

    #[test]
    fn deleting_an_entry_and_renumbering_is_edited() {
        let mut rows = chain(30);
        rows.remove(17);
        rows[17].0.seq = 18;
        assert_eq!(verify(&rows), Err(Break::Edited { seq: 18 }));
    }

    #[test]
    fn swapping_two_entries_breaks_the_chain() {
        let mut rows = chain(30);
        rows.swap(9, 10);
        assert!(verify(&rows).is_err());
        // Swapping their seq numbers as well, so rows still come out in order.
        let mut rows = chain(30);
        rows.swap(9, 10);
        rows[9].0.seq = 10;
        rows[10].0.seq = 11;
        assert_eq!(verify(&rows), Err(Break::Edited { seq: 10 }));
    }

    #[test]
    fn forged_entry_with_own_hash_recomputed_is_unlinked() {
        let mut rows = chain(30);
        let forged = &mut rows[12];
        forged.0.outcome = "denied".to_string();
        forged.0.prev_hash = GENESIS.to_string();
        forged.1 = entry_hash(&forged.0);
        assert_eq!(verify(&rows), Err(Break::Unlinked { seq: 13 }));
    }

    #[test]
    fn inserted_entry_is_unlinked() {
        let mut rows = chain(10);
        let mut extra = rows[4].0.clone();
        extra.action = "read".to_string();
        let hash = entry_hash(&extra);
        rows.insert(5, (extra, hash));
        assert_eq!(verify(&rows), Err(Break::Unlinked { seq: 5 }));
    }

    #[test]
    fn first_entry_not_1_is_bad_start() {
        let rows = link((3..=10).map(|seq| entry(seq, "")).collect());
        assert_eq!(verify(&rows), Err(Break::BadStart { seq: 3 }));
    }

    #[test]
    fn first_entry_must_link_to_genesis() {
        let mut rows = chain(3);
        rows[0].0.prev_hash = "f".repeat(64);
        rows[0].1 = entry_hash(&rows[0].0);
        assert_eq!(verify(&rows), Err(Break::Unlinked { seq: 1 }));
    }

    #[test]
    fn one_edit_gives_one_break_when_verification_continues() {
        let mut rows = chain(10);
        rows[4].0.action = "read".to_string();
        let mut v = Verifier::new();
        let breaks: Vec<Break> = rows.iter().filter_map(|(e, h)| v.push(e, h).err()).collect();
        assert_eq!(breaks, vec![Break::Edited { seq: 5 }]);
        assert_eq!(v.checked(), 10);
    }

    #[test]
    fn break_messages() {
        assert_eq!(
            Break::Edited { seq: 17 }.to_string(),
            "entry 17 was edited: its hash does not match its contents"
        );
        assert_eq!(
            Break::Unlinked { seq: 18 }.to_string(),
            "entry 18 does not follow entry 17: an entry was deleted, inserted or reordered"
        );
        assert_eq!(
            Break::Gap { after: 17, next: 19 }.to_string(),
            "entries 17 and 19 are not contiguous: entry 18 is missing"
        );
        assert_eq!(
            Break::Gap { after: 17, next: 21 }.to_string(),
            "entries 17 and 21 are not contiguous: entries 18 to 20 are missing"
        );
        assert_eq!(
            Break::BadStart { seq: 3 }.to_string(),
            "the first entry is 3: earlier entries are missing"
        );
    }

    #[test]
    fn diff_lists_changed_fields_sorted_with_before_and_after() {
        let before = json!({"status": "due", "weight": 20.5, "notes": "x", "same": 1});
        let after = json!({"weight": 21, "status": "done", "same": 1, "added": true});
        assert_eq!(
            diff(&before, &after).as_deref(),
            Some(r#"{"added":[null,true],"notes":["x",null],"status":["due","done"],"weight":[20.5,21]}"#)
        );
    }

    #[test]
    fn diff_of_equal_objects_is_none() {
        let v = json!({"a": 1, "b": {"c": [1, 2]}});
        assert_eq!(diff(&v, &v.clone()), None);
        assert_eq!(diff(&json!({}), &json!({})), None);
        assert_eq!(diff(&Value::Null, &Value::Null), None);
    }

    #[test]
    fn diff_compares_nested_values_whole() {
        let d = diff(&json!({"a": {"x": 1, "y": 2}}), &json!({"a": {"x": 1, "y": 3}}));
        assert_eq!(d.as_deref(), Some(r#"{"a":[{"x":1,"y":2},{"x":1,"y":3}]}"#));
    }

    #[test]
    fn diff_from_or_to_null_lists_every_field() {
        assert_eq!(
            diff(&Value::Null, &json!({"b": 2, "a": 1})).as_deref(),
            Some(r#"{"a":[null,1],"b":[null,2]}"#)
        );
        assert_eq!(
            diff(&json!({"a": 1}), &Value::Null).as_deref(),
            Some(r#"{"a":[1,null]}"#)
        );
    }

    #[test]
    fn diff_of_non_objects_is_one_value_change() {
        assert_eq!(
            diff(&json!([1]), &json!([2])).as_deref(),
            Some(r#"{"value":[[1],[2]]}"#)
        );
        assert_eq!(diff(&json!(3), &json!(3)), None);
    }

    fn arb_opt() -> impl Strategy<Value = Option<String>> {
        proptest::option::of(".{0,6}")
    }

    prop_compose! {
        fn arb_entry()(
            micros in 0i64..4_000_000_000_000_000,
            user_id in arb_opt(), user_email in arb_opt(), role in arb_opt(), client_address in arb_opt(),
            action in ".{0,6}", entity in ".{0,6}", entity_id in arb_opt(), child_id in arb_opt(),
            outcome in ".{0,6}", changes in arb_opt(),
        ) -> Entry {
            let occurred_at = DateTime::from_timestamp_micros(micros).map(|t| t.naive_utc()).unwrap_or_default();
            Entry {
                seq: 0, occurred_at, user_id, user_email, role, client_address, action, entity,
                entity_id, child_id, outcome, changes, prev_hash: String::new(),
            }
        }
    }

    fn arb_chain() -> impl Strategy<Value = Vec<(Entry, String)>> {
        proptest::collection::vec(arb_entry(), 1..12).prop_map(|entries| {
            link(
                entries
                    .into_iter()
                    .zip(1..)
                    .map(|(e, seq)| Entry { seq, ..e })
                    .collect(),
            )
        })
    }

    proptest! {
        #[test]
        fn random_chains_verify(rows in arb_chain()) {
            prop_assert_eq!(verify(&rows), Ok(rows.len() as i64));
        }

        #[test]
        fn any_single_field_mutation_is_detected(
            rows in arb_chain(), at in any::<prop::sample::Index>(), field in 0..FIELDS,
        ) {
            let mut bad = rows.clone();
            let i = at.index(bad.len());
            mutate(&mut bad[i].0, field);
            prop_assert_eq!(verify(&bad), Err(Break::Edited { seq: bad[i].0.seq }));
        }
    }
}
