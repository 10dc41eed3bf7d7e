//! 手机号: mainland mobile numbers.

use std::fmt;

/// Why a string is not a mainland mobile number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a mobile number has 11 digits and starts with 1")]
pub struct PhoneError;

/// An 11-digit mainland mobile number (1[3-9]xxxxxxxxx).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Parses a number, ignoring spaces and hyphens and an optional +86 / 86 prefix.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let digits: String = input
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect();
        let digits = digits
            .strip_prefix("+86")
            .or_else(|| digits.strip_prefix("86").filter(|d| d.len() == 11))
            .unwrap_or(&digits);
        let b = digits.as_bytes();
        if b.len() == 11
            && b[0] == b'1'
            && (b'3'..=b'9').contains(&b[1])
            && b.iter().all(u8::is_ascii_digit)
        {
            Ok(Self(digits.to_owned()))
        } else {
            Err(PhoneError)
        }
    }

    /// The full number. Callers that show it must be allowed to and must log the view.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last four digits, used to search and to track cases.
    pub fn last4(&self) -> &str {
        &self.0[7..]
    }

    /// Whole for a reader entitled to it (whose view the caller records), masked otherwise.
    pub fn shown(&self, full: bool) -> String {
        if full {
            self.0.clone()
        } else {
            self.masked()
        }
    }

    /// The masked form lists show (`138****5678`).
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

/// Masks any stored phone text the way lists show it.
pub fn mask_phone(s: &str) -> String {
    if s.len() == 11 && s.is_ascii() {
        format!("{}****{}", &s[..3], &s[7..])
    } else {
        "*".repeat(s.chars().count())
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_masks() {
        let p = Phone::parse("138 1234-5678").expect("valid");
        assert_eq!(p.as_str(), "13812345678");
        assert_eq!(p.masked(), "138****5678");
        assert_eq!(p.last4(), "5678");
        assert_eq!(
            Phone::parse("+8613812345678").expect("valid").as_str(),
            "13812345678"
        );
        assert_eq!(
            Phone::parse("8613812345678").expect("valid").as_str(),
            "13812345678"
        );
    }

    #[test]
    fn refuses_non_mobile_numbers() {
        for bad in [
            "",
            "1381234567",
            "138123456789",
            "12812345678",
            "23812345678",
            "1381234567a",
            "0531-88888888",
        ] {
            assert_eq!(Phone::parse(bad), Err(PhoneError), "{bad}");
        }
    }
}
