//! Exact money and quantities: amounts in fen (分), quantities (m², counts, months, weights) in
//! hundredths, and the rounding a policy states. No floating point anywhere: a compensation line
//! must come out the same to the fen on every machine, every time.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount of money in fen (分). Written and read as yuan with two decimals (`"1234.56"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fen(pub i64);

/// A quantity with two decimal places (`"87.35"` m², `"3"` 棵, `"0.5"` persons), held in
/// hundredths.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Qty(pub i64);

/// Why a decimal was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    /// Not a number with at most two decimals.
    #[error("“{0}” 不是最多两位小数的数字")]
    Malformed(String),
    /// Too large to hold.
    #[error("“{0}” 超出范围")]
    TooLarge(String),
}

/// The largest magnitude held, in hundredths (10¹³ yuan or m²): far above any real amount, and
/// low enough that sums of many of them cannot overflow.
const MAX_HUNDREDTHS: i64 = 1_000_000_000_000_000;

/// A whole number in hundredths, if within [`MAX_HUNDREDTHS`].
fn whole_hundredths(v: i128) -> Option<i64> {
    within_bounds(v * 100)
}

/// Parses `[-]digits[.d[d]]` into hundredths.
fn parse_hundredths(s: &str) -> Result<i64, DecimalError> {
    let t = s.trim();
    let bad = || DecimalError::Malformed(s.to_owned());
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let (whole, frac) = match digits.split_once('.') {
        Some((w, f)) => (w, f),
        None => (digits, ""),
    };
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || (digits.contains('.') && frac.is_empty())
    {
        return Err(bad());
    }
    let too_large = || DecimalError::TooLarge(s.to_owned());
    let whole: i64 = whole.parse().map_err(|_| too_large())?;
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    let v = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(frac))
        .filter(|v| *v <= MAX_HUNDREDTHS)
        .ok_or_else(too_large)?;
    Ok(if negative { -v } else { v })
}

fn write_hundredths(v: i64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    write!(f, "{sign}{}.{:02}", a / 100, a % 100)
}

macro_rules! hundredths_type {
    ($t:ident, $expecting:literal) => {
        /// Hundredths as stored.
        impl From<i64> for $t {
            fn from(hundredths: i64) -> Self {
                $t(hundredths)
            }
        }

        impl FromStr for $t {
            type Err = DecimalError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_hundredths(s).map($t)
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_hundredths(self.0, f)
            }
        }

        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        /// Accepts a decimal string or an integer; never a float, which could not be exact.
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $t;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$t, E> {
                        v.parse().map_err(E::custom)
                    }
                    // Integers are held to the same bound as decimal strings: without it, an
                    // accepted policy's areas overflowed when added up (found with the
                    // `policy_toml` fuzz target's check).
                    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<$t, E> {
                        whole_hundredths(v.into())
                            .map($t)
                            .ok_or_else(|| E::custom("数字超出范围"))
                    }
                    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<$t, E> {
                        whole_hundredths(v.into())
                            .map($t)
                            .ok_or_else(|| E::custom("数字超出范围"))
                    }
                    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<$t, E> {
                        Err(E::custom(format!(
                            "{v} 是浮点数：请写成带引号的小数，如 \"{v}\"，以免舍入误差"
                        )))
                    }
                }
                d.deserialize_any(V)
            }
        }

        impl std::ops::Add for $t {
            type Output = $t;
            fn add(self, o: $t) -> $t {
                $t(self.0 + o.0)
            }
        }

        impl std::ops::Sub for $t {
            type Output = $t;
            fn sub(self, o: $t) -> $t {
                $t(self.0 - o.0)
            }
        }

        impl $t {
            /// `self + other`, if the sum is within the bound of a value.
            pub fn checked_add(self, o: $t) -> Option<$t> {
                within_bounds(i128::from(self.0) + i128::from(o.0)).map($t)
            }
        }

        impl std::iter::Sum for $t {
            fn sum<I: Iterator<Item = $t>>(it: I) -> $t {
                $t(it.map(|v| v.0).sum())
            }
        }
    };
}

hundredths_type!(Fen, "an amount in yuan such as \"1234.56\"");
hundredths_type!(Qty, "a quantity such as \"87.35\"");

impl Fen {
    /// Zero.
    pub const ZERO: Fen = Fen(0);

    /// Yuan with thousands separators, as printed on a slip (`1,234.56`).
    pub fn grouped(self) -> String {
        let plain = self.to_string();
        let (sign, rest) = match plain.strip_prefix('-') {
            Some(r) => ("-", r),
            None => ("", plain.as_str()),
        };
        let (whole, frac) = rest.split_once('.').unwrap_or((rest, "00"));
        let mut out = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        format!("{sign}{out}.{frac}")
    }
}

impl Qty {
    /// Zero.
    pub const ZERO: Qty = Qty(0);

    /// A whole number.
    pub const fn whole(n: i64) -> Qty {
        Qty(n * 100)
    }

    /// Without trailing zeros of the decimals (`90`, `87.5`, `87.35`), for reading.
    pub fn short(self) -> String {
        let s = self.to_string();
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }

    /// `self × other`, rounded half up to hundredths (areas per person × weights); `None` when
    /// the product is beyond what a quantity holds.
    pub fn checked_times(self, other: Qty) -> Option<Qty> {
        let p = i128::from(self.0) * i128::from(other.0);
        within_bounds(div_round(p, 100, RoundingMode::HalfUp)).map(Qty)
    }
}

/// How a policy rounds amounts (舍入方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    /// 四舍五入 (half away from zero).
    #[default]
    HalfUp,
    /// 四舍六入五成双 (banker's rounding).
    HalfEven,
    /// 舍去 (toward zero).
    Down,
}

impl RoundingMode {
    /// The Chinese words for it.
    pub fn zh(self) -> &'static str {
        match self {
            RoundingMode::HalfUp => "四舍五入",
            RoundingMode::HalfEven => "四舍六入五成双",
            RoundingMode::Down => "舍去尾数",
        }
    }
}

/// To what a policy rounds amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RoundTo {
    /// 分
    #[default]
    Fen,
    /// 角
    Jiao,
    /// 元
    Yuan,
}

impl RoundTo {
    fn quantum(self) -> i128 {
        match self {
            RoundTo::Fen => 1,
            RoundTo::Jiao => 10,
            RoundTo::Yuan => 100,
        }
    }

    /// The Chinese word.
    pub fn zh(self) -> &'static str {
        match self {
            RoundTo::Fen => "分",
            RoundTo::Jiao => "角",
            RoundTo::Yuan => "元",
        }
    }
}

/// A policy's rounding: how, and to what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rounding {
    /// How.
    pub mode: RoundingMode,
    /// To what.
    pub to: RoundTo,
}

impl Rounding {
    /// `quantity × rate`, rounded as stated; `None` when the amount is beyond what an amount
    /// holds. The product is exact (hundredths × fen in i128).
    pub fn amount(self, quantity: Qty, rate: Fen) -> Option<Fen> {
        let exact = i128::from(quantity.0) * i128::from(rate.0); // in 1/100 fen
        let q = self.to.quantum();
        within_bounds(div_round(exact, 100 * q, self.mode) * q).map(Fen)
    }
}

/// A value of hundredths as `i64` if it is within [`MAX_HUNDREDTHS`]: products and sums of
/// bounded values are checked against the same bound, so no arithmetic on them narrows or wraps
/// silently.
fn within_bounds(v: i128) -> Option<i64> {
    i64::try_from(v)
        .ok()
        .filter(|v| v.unsigned_abs() <= MAX_HUNDREDTHS.unsigned_abs())
}

/// `n / d` rounded as `mode` says (d > 0).
fn div_round(n: i128, d: i128, mode: RoundingMode) -> i128 {
    let q = n / d;
    let r = n % d;
    if r == 0 {
        return q;
    }
    let away = if n < 0 { -1 } else { 1 };
    let twice = 2 * r.abs();
    match mode {
        RoundingMode::Down => q,
        RoundingMode::HalfUp => {
            if twice >= d {
                q + away
            } else {
                q
            }
        }
        RoundingMode::HalfEven => {
            if twice > d || (twice == d && q % 2 != 0) {
                q + away
            } else {
                q
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use super::*;

    #[test]
    fn decimals_read_and_print_exactly() {
        for (s, v) in [
            ("0", 0),
            ("1", 100),
            ("1.5", 150),
            ("87.35", 8735),
            ("-0.05", -5),
            ("1200.00", 120000),
        ] {
            assert_eq!(s.parse::<Fen>().unwrap(), Fen(v), "{s}");
        }
        assert_eq!(Fen(-5).to_string(), "-0.05");
        assert_eq!(Fen(123456789).to_string(), "1234567.89");
        assert_eq!(Fen(123456789).grouped(), "1,234,567.89");
        assert_eq!(Fen(-100000).grouped(), "-1,000.00");
        assert_eq!(Qty(9000).short(), "90");
        assert_eq!(Qty(8750).short(), "87.5");
        for bad in [
            "",
            "1.",
            ".5",
            "1.234",
            "1,5",
            "abc",
            "1e3",
            "--1",
            "99999999999999999999",
        ] {
            assert!(bad.parse::<Qty>().is_err(), "{bad}");
        }
    }

    #[test]
    fn floats_are_refused_integers_and_strings_accepted() {
        #[derive(Deserialize)]
        struct T {
            a: Fen,
        }
        assert_eq!(toml::from_str::<T>("a = 12").unwrap().a, Fen(1200));
        assert_eq!(toml::from_str::<T>("a = \"12.3\"").unwrap().a, Fen(1230));
        let e = toml::from_str::<T>("a = 12.3").err().unwrap().to_string();
        assert!(e.contains("浮点数"), "{e}");
    }

    /// An integer past the bound of decimal strings was accepted, and a policy with two such
    /// layout areas overflowed when a household's chosen area was added up.
    #[test]
    fn integers_and_decimal_strings_share_one_bound() {
        #[derive(Deserialize)]
        struct T {
            a: Qty,
        }
        let read = |text: &str| toml::from_str::<T>(text).map(|t| t.a);
        assert_eq!(read("a = 10000000000000").unwrap(), Qty(MAX_HUNDREDTHS));
        assert_eq!(read("a = \"10000000000000\"").unwrap(), Qty(MAX_HUNDREDTHS));
        assert_eq!(read("a = -10000000000000").unwrap(), Qty(-MAX_HUNDREDTHS));
        for over in [
            "a = 10000000000001",
            "a = \"10000000000001\"",
            "a = -10000000000001",
            "a = 92233720368547758",
        ] {
            let e = read(over).err().unwrap().to_string();
            assert!(e.contains("超出范围"), "{over}: {e}");
        }
    }

    #[test]
    fn amounts_round_as_the_policy_says() {
        let r = |mode, to| Rounding { mode, to };
        // 87.35 m² × 1,234.57 元 = 107,839.6895 元
        let (q, p) = (Qty(8735), Fen(123457));
        assert_eq!(
            r(RoundingMode::HalfUp, RoundTo::Fen).amount(q, p).unwrap(),
            Fen(10783969)
        );
        assert_eq!(
            r(RoundingMode::Down, RoundTo::Fen).amount(q, p).unwrap(),
            Fen(10783968)
        );
        assert_eq!(
            r(RoundingMode::HalfUp, RoundTo::Yuan).amount(q, p).unwrap(),
            Fen(10784000)
        );
        assert_eq!(
            r(RoundingMode::HalfUp, RoundTo::Jiao).amount(q, p).unwrap(),
            Fen(10783970)
        );
        // exactly half a fen: 0.5 × 0.01 元
        let half = (Qty(50), Fen(1));
        assert_eq!(
            r(RoundingMode::HalfUp, RoundTo::Fen)
                .amount(half.0, half.1)
                .unwrap(),
            Fen(1)
        );
        assert_eq!(
            r(RoundingMode::HalfEven, RoundTo::Fen)
                .amount(half.0, half.1)
                .unwrap(),
            Fen(0)
        );
        assert_eq!(
            r(RoundingMode::HalfEven, RoundTo::Fen)
                .amount(Qty(150), Fen(1))
                .unwrap(),
            Fen(2)
        );
        assert_eq!(Qty(4000).checked_times(Qty(50)), Some(Qty(2000)));
        assert_eq!(Qty(3333).checked_times(Qty(50)), Some(Qty(1667)));
    }

    /// Two values each within the bound multiply past what an `i64` holds; the product was
    /// narrowed silently and came out as a small, wrong amount.
    #[test]
    fn products_beyond_the_bound_are_refused_not_wrapped() {
        let big = Qty(MAX_HUNDREDTHS);
        let rounding = Rounding {
            mode: RoundingMode::HalfUp,
            to: RoundTo::Fen,
        };
        assert_eq!(rounding.amount(big, Fen(MAX_HUNDREDTHS)), None);
        assert_eq!(rounding.amount(big, Fen(-MAX_HUNDREDTHS)), None);
        assert_eq!(big.checked_times(Qty(MAX_HUNDREDTHS)), None);
        assert_eq!(big.checked_times(Qty(101)), None, "just past the bound");
        assert_eq!(big.checked_times(Qty(100)), Some(big), "the bound itself");
        assert_eq!(
            rounding.amount(big, Fen(1)),
            Some(Fen(MAX_HUNDREDTHS / 100))
        );
    }
}
