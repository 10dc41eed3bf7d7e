//! 居民身份证号码: the 18-character citizen identity number of GB 11643-1999.

use chrono::NaiveDate;
use std::fmt;

use crate::registry::Sex;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// Why a string is not a valid identity number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    /// Not 18 characters of digits (the last may be X).
    #[error("an identity number has 18 characters: 17 digits and a digit or X")]
    Format,
    /// Characters 7–14 are not a real calendar date.
    #[error("the birth date inside the identity number is not a real date")]
    BirthDate,
    /// The GB 11643 check character does not match.
    #[error("the check digit of the identity number is wrong")]
    Checksum,
}

/// A citizen identity number (身份证号) whose format, birth date and check digit are valid.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdNumber(String);

impl IdNumber {
    /// Parses and checks an identity number; a lowercase `x` is accepted and stored uppercase.
    pub fn parse(input: &str) -> Result<Self, IdNumberError> {
        let s = input.trim().to_ascii_uppercase();
        let bytes = s.as_bytes();
        if bytes.len() != 18
            || !bytes[..17].iter().all(u8::is_ascii_digit)
            || !(bytes[17].is_ascii_digit() || bytes[17] == b'X')
        {
            return Err(IdNumberError::Format);
        }
        birth_date_of(&s).ok_or(IdNumberError::BirthDate)?;
        if check_char(&bytes[..17]) != bytes[17] {
            return Err(IdNumberError::Checksum);
        }
        Ok(Self(s))
    }

    /// Builds a number from its first 17 digits by appending the check character.
    /// Used by the demo generator; returns `None` unless given 17 digits with a real birth date.
    pub fn from_first_17(first: &str) -> Option<Self> {
        let bytes = first.as_bytes();
        if bytes.len() != 17 || !bytes.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut s = first.to_owned();
        s.push(check_char(bytes) as char);
        Self::parse(&s).ok()
    }

    /// The full number. Callers that show it must be allowed to and must log the view.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The birth date encoded in characters 7–14.
    pub fn birth_date(&self) -> NaiveDate {
        // Invariant: checked in `parse`.
        birth_date_of(&self.0).unwrap_or(NaiveDate::MIN)
    }

    /// The sex encoded by the parity of the 17th character (odd: male).
    pub fn sex(&self) -> Sex {
        let digit = self.0.as_bytes()[16] - b'0';
        if digit % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The last four characters, used to search and to confirm identity.
    pub fn last4(&self) -> &str {
        &self.0[14..]
    }

    /// The masked form shown in lists: the province and the check character
    /// (`37***************X`). See [`mask_id_number`].
    pub fn masked(&self) -> String {
        mask_id_number(&self.0)
    }

    /// Whole for a reader entitled to the full number (whose view the caller records), masked
    /// for everyone else.
    pub fn shown(&self, full: bool) -> String {
        if full {
            self.0.clone()
        } else {
            self.masked()
        }
    }
}

/// Masks any stored identity number text the way lists show it: only the province (two digits)
/// and the check character. Whatever a masked view shows beside it — the address (so the region
/// code), the sex (the parity of the sequence), the birth year — at least hundreds of valid
/// numbers remain: the birth day and most of the sequence stay unknown. (The earlier mask hid
/// exactly the birth date, which pages showed beside it.)
pub fn mask_id_number(s: &str) -> String {
    if s.len() == 18 && s.is_ascii() {
        format!("{}{}{}", &s[..2], "*".repeat(15), &s[17..])
    } else {
        "*".repeat(s.chars().count())
    }
}

/// A birth date as masked views show it: the year only (`1980-**-**`), so an age can be read
/// but the date does not complete a masked identity number.
pub fn mask_birth_date(date: NaiveDate) -> String {
    format!("{}-**-**", date.format("%Y"))
}

fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

fn birth_date_of(s: &str) -> Option<NaiveDate> {
    let y: i32 = s.get(6..10)?.parse().ok()?;
    let m: u32 = s.get(10..12)?.parse().ok()?;
    let d: u32 = s.get(12..14)?.parse().ok()?;
    if y < 1880 {
        return None;
    }
    NaiveDate::from_ymd_opt(y, m, d)
}

impl fmt::Debug for IdNumber {
    // Debug output ends up in logs; never print the full number there.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    /// Everything a masked view shows of a person — the masked number, the region (from the
    /// address), the sex and the birth year — leaves hundreds of valid numbers: the number
    /// cannot be rebuilt from it.
    #[test]
    fn a_masked_number_with_what_is_shown_beside_it_stays_unknown() {
        let id = super::IdNumber::from_first_17("37011219910307123").expect("id");
        let shown = id.masked();
        let region = &id.as_str()[..6];
        let year = &id.as_str()[6..10];
        let odd_sequence = (id.as_str().as_bytes()[16] - b'0') % 2;
        let mut candidates = 0;
        let mut day = chrono::NaiveDate::from_ymd_opt(1991, 1, 1).expect("date");
        while day.format("%Y").to_string() == year {
            for seq in 0..1000u32 {
                if seq % 2 != u32::from(odd_sequence) {
                    continue;
                }
                let first17 = format!("{region}{}{seq:03}", day.format("%Y%m%d"));
                let candidate = super::IdNumber::from_first_17(&first17).expect("valid");
                if candidate.masked() == shown
                    && super::mask_birth_date(day) == super::mask_birth_date(id.birth_date())
                {
                    candidates += 1;
                }
            }
            day = day.succ_opt().expect("next day");
        }
        assert!(candidates > 10_000, "{candidates} candidates");
    }

    use super::*;

    // The worked example of GB 11643-1999 appendix.
    const STANDARD_EXAMPLE: &str = "11010519491231002X";

    #[test]
    fn accepts_the_standard_example() {
        let id = IdNumber::parse(STANDARD_EXAMPLE).expect("valid");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).expect("date")
        );
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.last4(), "002X");
    }

    #[test]
    fn accepts_lowercase_x() {
        assert_eq!(
            IdNumber::parse("11010519491231002x")
                .expect("valid")
                .as_str(),
            STANDARD_EXAMPLE
        );
    }

    #[test]
    fn every_wrong_check_character_is_refused() {
        for c in "0123456789X".chars().filter(|c| *c != 'X') {
            let s = format!("{}{c}", &STANDARD_EXAMPLE[..17]);
            assert_eq!(IdNumber::parse(&s), Err(IdNumberError::Checksum), "{s}");
        }
    }

    #[test]
    fn a_changed_digit_is_caught() {
        let s = STANDARD_EXAMPLE.replacen("0105", "0106", 1);
        assert_eq!(IdNumber::parse(&s), Err(IdNumberError::Checksum));
    }

    #[test]
    fn refuses_bad_format_and_dates() {
        assert_eq!(IdNumber::parse("123"), Err(IdNumberError::Format));
        assert_eq!(
            IdNumber::parse("1101051949123100XX"),
            Err(IdNumberError::Format)
        );
        assert_eq!(
            IdNumber::parse("11010519491231002Y"),
            Err(IdNumberError::Format)
        );
        assert_eq!(IdNumber::from_first_17("11010519490231002"), None);
        assert_eq!(
            IdNumber::parse("110105194902310020"),
            Err(IdNumberError::BirthDate)
        );
    }

    #[test]
    fn generated_numbers_round_trip_with_odd_digit_male() {
        let id = IdNumber::from_first_17("37011219800101001").expect("valid");
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(IdNumber::parse(id.as_str()), Ok(id.clone()));
        assert_eq!(
            id.masked(),
            format!("37***************{}", &id.as_str()[17..])
        );
    }

    #[test]
    fn debug_never_shows_the_full_number() {
        let id = IdNumber::parse(STANDARD_EXAMPLE).expect("valid");
        assert!(!format!("{id:?}").contains("19491231"));
    }
}
