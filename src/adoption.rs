//! Adoption (pure; DOMAIN.md "Care leavers and adoption"). Rules:
//!
//! - **Adoption medical report**: the adoption agency needs a health report on a child with
//!   an adoption plan: a placement order (legal status E1) or placed for adoption (SSDA903
//!   placements A3 to A6). The obligation opens on the day either first holds. RHAs go on
//!   while the child is placed for adoption (still looked after).
//! - **Sealing**: at the adoption order (the period ends with REC E11 or E12) the
//!   pre-adoption record is closed and sealed: ordinary roles cannot see it (404), nothing
//!   new is added to it (no new period starts on it), and only an admin may open it, with
//!   a reason, on the audit trail. The adopted child's new record (new NHS number) is not
//!   linked to it.

/// Whether a legal status or a placement gives the child an adoption plan.
pub fn needs_medical_report(legal_status: Option<&str>, placement_type: Option<&str>) -> bool {
    legal_status == Some("E1") || placement_type.is_some_and(is_placed_for_adoption)
}

/// SSDA903 A3-A6: placed for adoption (with consent or a placement order).
pub fn is_placed_for_adoption(placement_type: &str) -> bool {
    matches!(placement_type, "A3" | "A4" | "A5" | "A6")
}

/// Whether a period ending for `reason` seals the record: the adoption order.
pub fn seals_record(reason: &str) -> bool {
    matches!(reason, "E11" | "E12")
}

/// The shortest reason an admin may give for opening a sealed record.
pub const MIN_REASON_CHARS: usize = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_order_or_placed_for_adoption_needs_an_adoption_medical_report() {
        assert!(needs_medical_report(Some("E1"), None));
        for place in ["A3", "A4", "A5", "A6"] {
            assert!(needs_medical_report(Some("C2"), Some(place)), "{place}");
        }
        assert!(!needs_medical_report(Some("C2"), Some("U1")));
        assert!(!needs_medical_report(Some("V2"), None));
        assert!(!needs_medical_report(None, None));
    }

    #[test]
    fn adoption_order_e11_or_e12_seals_the_record() {
        assert!(seals_record("E11"));
        assert!(seals_record("E12"));
        for other in ["E13", "E4A", "E8", "E2", "X1"] {
            assert!(!seals_record(other), "{other}");
        }
    }
}
