//! NHS number validation (Modulus 11) and display.
//!
//! An NHS number is 10 digits, shown 3-3-4 ("999 000 0018"). The tenth digit is a check
//! digit: weights 10..2 on the first nine digits, `11 - (sum mod 11)`, where 11 means 0
//! and 10 means no valid number can have those first nine digits.

use std::fmt;

/// Why a string is not a valid NHS number. The `Display` text is written for the person
/// who typed it, so an API error can pass it straight through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NhsNumberError {
    /// Something other than a digit, a space or a hyphen.
    NonDigit { character: char },
    /// Not exactly ten digits.
    WrongLength { digits: usize },
    /// Ten digits, but spaces or hyphens not in the 3-3-4 places.
    BadGrouping,
    /// The first nine digits give a check digit of 10, which no NHS number can have.
    CheckDigitTen,
    /// The tenth digit is not the one the first nine call for.
    CheckDigitMismatch { expected: u32, found: u32 },
}

impl fmt::Display for NhsNumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NonDigit { character } => write!(
                f,
                "an NHS number has only digits (optionally spaced 3-3-4), found {character:?}"
            ),
            Self::WrongLength { digits } => {
                write!(f, "an NHS number has 10 digits, found {digits}")
            }
            Self::BadGrouping => write!(
                f,
                "write an NHS number as 10 digits, or grouped 3-3-4 with spaces or hyphens"
            ),
            Self::CheckDigitTen => write!(
                f,
                "not a valid NHS number: the first nine digits give a check digit of 10"
            ),
            Self::CheckDigitMismatch { expected, found } => write!(
                f,
                "not a valid NHS number: the check digit (last digit) should be {expected}, found {found}"
            ),
        }
    }
}

impl std::error::Error for NhsNumberError {}

/// Checks an NHS number and returns its ten bare digits.
///
/// Accepts "9990000018", "999 000 0018" or "999-000-0018" (surrounding whitespace is
/// ignored). Separators must sit in the 3-3-4 places, so a number typed with a slip in its
/// grouping is questioned rather than silently accepted.
pub fn validate(input: &str) -> Result<String, NhsNumberError> {
    let trimmed = input.trim();
    if let Some(character) = trimmed.chars().find(|c| !c.is_ascii_digit() && !is_separator(*c)) {
        return Err(NhsNumberError::NonDigit { character });
    }
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if digits.len() != 10 {
        return Err(NhsNumberError::WrongLength { digits: digits.len() });
    }
    if trimmed.len() != 10 && !is_grouped_3_3_4(trimmed) {
        return Err(NhsNumberError::BadGrouping);
    }
    check_digit_matches(&digits)?;
    Ok(digits)
}

fn is_separator(c: char) -> bool {
    c == ' ' || c == '-'
}

/// True for "ddd?ddd?dddd" where each `?` is a single space or hyphen.
fn is_grouped_3_3_4(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    chars.len() == 12
        && chars.iter().enumerate().all(|(i, c)| match i {
            3 | 7 => is_separator(*c),
            _ => c.is_ascii_digit(),
        })
}

/// The Modulus 11 check digit for the first nine digits, or `None` when it would be 10.
fn expected_check_digit(first_nine: &[u32]) -> Option<u32> {
    let sum: u32 = first_nine.iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
    match 11 - (sum % 11) {
        11 => Some(0),
        10 => None,
        check => Some(check),
    }
}

fn check_digit_matches(digits: &str) -> Result<(), NhsNumberError> {
    let values: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    let (first_nine, last) = values.split_at(9);
    let found = last.first().copied().unwrap_or_default();
    match expected_check_digit(first_nine) {
        None => Err(NhsNumberError::CheckDigitTen),
        Some(expected) if expected != found => Err(NhsNumberError::CheckDigitMismatch { expected, found }),
        Some(_) => Ok(()),
    }
}

/// Shows ten digits the NHS way, "999 000 0018". Anything else is returned unchanged,
/// so displaying a legacy bad value never hides it.
pub fn format(digits: &str) -> String {
    if digits.len() == 10 && digits.chars().all(|c| c.is_ascii_digit()) {
        format!("{} {} {}", &digits[..3], &digits[3..6], &digits[6..])
    } else {
        digits.to_string()
    }
}

/// Numbers starting 999 are reserved for test data and never belong to a real patient.
pub fn is_test_number(digits: &str) -> bool {
    digits.starts_with("999")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn published_test_numbers_are_valid() {
        assert_eq!(validate("9990000018").as_deref(), Ok("9990000018"));
        assert_eq!(validate("9990000026").as_deref(), Ok("9990000026"));
    }

    #[test]
    fn spaced_or_hyphenated_3_3_4_is_accepted() {
        assert_eq!(validate("999 000 0018").as_deref(), Ok("9990000018"));
        assert_eq!(validate("999-000-0026").as_deref(), Ok("9990000026"));
        assert_eq!(validate(" 999 000 0018 ").as_deref(), Ok("9990000018"));
    }

    #[test]
    fn separators_outside_3_3_4_are_refused() {
        assert_eq!(validate("9990 000 018"), Err(NhsNumberError::BadGrouping));
        assert_eq!(validate("999  0000018"), Err(NhsNumberError::BadGrouping));
        assert_eq!(validate("999 000-00 18"), Err(NhsNumberError::BadGrouping));
    }

    #[test]
    fn wrong_length_is_refused() {
        assert_eq!(validate("999000001"), Err(NhsNumberError::WrongLength { digits: 9 }));
        assert_eq!(validate(""), Err(NhsNumberError::WrongLength { digits: 0 }));
    }

    #[test]
    fn non_digit_is_refused() {
        assert_eq!(validate("99900000I8"), Err(NhsNumberError::NonDigit { character: 'I' }));
    }

    #[test]
    fn wrong_check_digit_is_refused() {
        assert_eq!(
            validate("9990000019"),
            Err(NhsNumberError::CheckDigitMismatch { expected: 8, found: 9 })
        );
    }

    #[test]
    fn check_digit_of_ten_is_never_valid() {
        // Find a nine-digit stem whose check would be 10 rather than hard-code one, so the
        // test cannot drift from the arithmetic it exercises.
        let stem = (0..100_000u32)
            .map(|n| format!("9990{n:05}"))
            .find(|s| {
                let v: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
                expected_check_digit(&v).is_none()
            })
            .expect("some stem has check digit 10");
        for last in 0..10 {
            assert_eq!(validate(&format!("{stem}{last}")), Err(NhsNumberError::CheckDigitTen));
        }
    }

    #[test]
    fn format_groups_3_3_4() {
        assert_eq!(format("9990000018"), "999 000 0018");
        assert_eq!(format("12345"), "12345");
    }

    #[test]
    fn numbers_starting_999_are_test_numbers() {
        assert!(is_test_number("9990000018"));
        assert!(!is_test_number("4010232137"));
    }

    #[test]
    fn errors_say_why() {
        let message = validate("9990000019").unwrap_err().to_string();
        assert!(message.contains("check digit"), "{message}");
    }

    fn valid_number() -> impl Strategy<Value = String> {
        proptest::collection::vec(0u32..10, 9).prop_filter_map("check digit 10", |nine| {
            let check = expected_check_digit(&nine)?;
            Some(nine.iter().chain([check].iter()).map(|d| d.to_string()).collect())
        })
    }

    proptest! {
        #[test]
        fn every_generated_valid_number_validates(n in valid_number()) {
            prop_assert_eq!(validate(&n), Ok(n.clone()));
        }

        #[test]
        fn changing_any_single_digit_makes_it_invalid(
            n in valid_number(), position in 0usize..10, bump in 1u32..10
        ) {
            let mut digits: Vec<u32> = n.chars().filter_map(|c| c.to_digit(10)).collect();
            digits[position] = (digits[position] + bump) % 10;
            let changed: String = digits.iter().map(|d| d.to_string()).collect();
            prop_assert!(validate(&changed).is_err(), "{} -> {} passed", n, changed);
        }
    }
}
