//! Dates and date-times (RFC 9051 §9 `date`, `date-time`, `zone`; used by APPEND,
//! INTERNALDATE and the SEARCH date keys).

use std::fmt;

use crate::encode::{Encode, EncodeBuf};
use crate::error::{Rule, ValidationError, ValueKind};
use crate::parse::{PResult, Parser};

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// A calendar date (`date`, e.g. `1-Feb-1994`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// Validates year (4 digits), month (1-12) and day (valid for the month).
    pub fn new(year: u16, month: u8, day: u8) -> Result<Self, ValidationError> {
        if year > 9999 {
            // more than 4 digits
            return Err(ValidationError::new(ValueKind::Year, Rule::OutOfRange));
        }
        if !(1..=12).contains(&month) {
            return Err(ValidationError::new(ValueKind::Month, Rule::OutOfRange));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(ValidationError::new(ValueKind::Day, Rule::OutOfRange));
        }
        Ok(Date { year, month, day })
    }

    /// Year.
    pub fn year(&self) -> u16 {
        self.year
    }
    /// Month, 1-12.
    pub fn month(&self) -> u8 {
        self.month
    }
    /// Day of month, 1-31.
    pub fn day(&self) -> u8 {
        self.day
    }

    /// `date-text` = date-day "-" date-month "-" date-year.
    fn parse_text(p: &mut Parser<'_>) -> PResult<Self> {
        let start = p.pos;
        let day = digits(p, 1, 2, "date-day")?;
        p.expect(b'-', "-")?;
        let month = month(p)?;
        p.expect(b'-', "-")?;
        let year = digits(p, 4, 4, "date-year")?;
        Date::new(year, month, day as u8).map_err(|_| p.fail_at(start, "valid date"))
    }

    /// `date` = date-text / DQUOTE date-text DQUOTE.
    #[inline]
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        match Self::parse_fixed(p) {
            Some(d) => Ok(d),
            None => Self::parse_general(p),
        }
    }

    /// The usual `date` (a SEARCH key's), a valid unquoted `d-Mon-yyyy` or `dd-Mon-yyyy`,
    /// read at once: the day's one or two digits, the separators where they stand, the
    /// month's three letters as one word, four digits of year. Anything else (the quoted
    /// form, invalid values, errors) is `None` with nothing consumed, for
    /// [`parse_general`](Self::parse_general), which reads the same value up to the same
    /// byte from every input this takes (test `date_fixed_matches_general`).
    #[inline(always)]
    fn parse_fixed(p: &mut Parser<'_>) -> Option<Self> {
        let r = p.rest();
        let d = |i: usize| {
            let v = r.get(i)?.wrapping_sub(b'0');
            (v < 10).then_some(u16::from(v))
        };
        // `at`: the first `-`, after the day's one or two digits
        let (day, at) = if r.get(1) == Some(&b'-') {
            (d(0)?, 1)
        } else {
            (d(0)? * 10 + d(1)?, 2)
        };
        let b: &[u8; 9] = r.get(at..at + 9)?.try_into().ok()?;
        if b[0] != b'-' || b[4] != b'-' {
            return None;
        }
        let month = month_word(u32::from_le_bytes([b[1], b[2], b[3], 0]))?;
        let year = ((d(at + 5)? * 10 + d(at + 6)?) * 10 + d(at + 7)?) * 10 + d(at + 8)?;
        // what `Date::new` checks (the year has four digits, the month is one of twelve)
        let day = day as u8;
        if day == 0 || day > days_in_month(year, month) {
            return None;
        }
        p.pos += at + 9;
        Some(Date { year, month, day })
    }

    /// [`parse`](Self::parse) for every input.
    #[inline(never)]
    fn parse_general(p: &mut Parser<'_>) -> PResult<Self> {
        if p.eat(b'"') {
            let d = Self::parse_text(p)?;
            p.expect(b'"', "DQUOTE")?;
            Ok(d)
        } else {
            Self::parse_text(p)
        }
    }
}

impl Encode for Date {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.num(self.day);
        buf.byte(b'-');
        buf.raw(MONTHS[self.month as usize - 1]);
        buf.byte(b'-');
        two_or_four(buf, self.year as u32, 4);
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{:04}",
            self.day,
            std::str::from_utf8(MONTHS[self.month as usize - 1]).unwrap_or("?"),
            self.year
        )
    }
}

/// A date and time with zone (`date-time`, e.g. `"17-Jul-1996 02:44:25 -0700"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    date: Date,
    hour: u8,
    minute: u8,
    second: u8,
    /// Zone offset in minutes east of UTC.
    zone: i16,
}

impl DateTime {
    /// Validates the parts; `zone_minutes` is the offset east of UTC (-5999..=5999 minutes as
    /// `±HHMM` allows, minutes part < 60).
    pub fn new(
        date: Date,
        hour: u8,
        minute: u8,
        second: u8,
        zone_minutes: i16,
    ) -> Result<Self, ValidationError> {
        if hour > 23 || minute > 59 || second > 60 {
            return Err(ValidationError::new(ValueKind::Time, Rule::OutOfRange));
        }
        if zone_minutes.unsigned_abs() > 99 * 60 + 59 {
            return Err(ValidationError::new(ValueKind::Zone, Rule::OutOfRange));
        }
        Ok(DateTime {
            date,
            hour,
            minute,
            second,
            zone: zone_minutes,
        })
    }

    /// The date.
    pub fn date(&self) -> Date {
        self.date
    }
    /// Hour, 0-23.
    pub fn hour(&self) -> u8 {
        self.hour
    }
    /// Minute.
    pub fn minute(&self) -> u8 {
        self.minute
    }
    /// Second (60 for a leap second).
    pub fn second(&self) -> u8 {
        self.second
    }
    /// Zone offset in minutes east of UTC.
    pub fn zone_minutes(&self) -> i16 {
        self.zone
    }

    /// `date-time` = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE.
    /// The usual form in one step ([`parse_fixed`](Self::parse_fixed)), the rest by
    /// [`parse_general`](Self::parse_general).
    #[inline]
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        match Self::parse_fixed(p) {
            Some(v) => Ok(v),
            None => Self::parse_general(p),
        }
    }

    /// A valid `date-time` in its fixed 28-byte form (`"dd-Mon-yyyy hh:mm:ss +zzzz"`, the
    /// day's first digit or a space), read at once: the separators compared where they
    /// stand, the month's three letters as one word. Anything else (other forms, invalid
    /// values, errors) is `None` with nothing consumed, for
    /// [`parse_general`](Self::parse_general), which reads the same value from every input
    /// this takes (test `fixed_form_matches_general`).
    #[inline]
    fn parse_fixed(p: &mut Parser<'_>) -> Option<Self> {
        let b: &[u8; 28] = p.rest().get(..28)?.try_into().ok()?;
        if b[0] != b'"'
            || b[3] != b'-'
            || b[7] != b'-'
            || b[12] != b' '
            || b[15] != b':'
            || b[18] != b':'
            || b[21] != b' '
            || b[27] != b'"'
        {
            return None;
        }
        let d = |i: usize| {
            let v = b[i].wrapping_sub(b'0');
            (v < 10).then_some(u16::from(v))
        };
        let d2 = |i: usize| Some(d(i)? * 10 + d(i + 1)?);
        let day = if b[1] == b' ' { d(2)? } else { d2(1)? };
        let month = month_word(u32::from_le_bytes([b[4], b[5], b[6], 0]))?;
        let year = d2(8)? * 100 + d2(10)?;
        let (hour, minute, second) = (d2(13)?, d2(16)?, d2(19)?);
        let sign = match b[22] {
            b'+' => 1i16,
            b'-' => -1i16,
            _ => return None,
        };
        let (zh, zm) = (d2(23)?, d2(25)?);
        if zm > 59 {
            return None;
        }
        let zone = sign * (zh as i16 * 60 + zm as i16);
        let date = Date::new(year, month, day as u8).ok()?;
        let v = DateTime::new(date, hour as u8, minute as u8, second as u8, zone).ok()?;
        p.pos += 28;
        Some(v)
    }

    /// [`parse`](Self::parse) for every input.
    #[inline(never)]
    fn parse_general(p: &mut Parser<'_>) -> PResult<Self> {
        let start = p.pos;
        p.expect(b'"', "DQUOTE")?;
        // date-day-fixed = (SP DIGIT) / 2DIGIT
        p.eat(b' ');
        let day = digits(p, 1, 2, "date-day-fixed")?;
        p.expect(b'-', "-")?;
        let month = month(p)?;
        p.expect(b'-', "-")?;
        let year = digits(p, 4, 4, "date-year")?;
        p.expect(b' ', "SP")?;
        let hour = digits(p, 2, 2, "hour")?;
        p.expect(b':', ":")?;
        let minute = digits(p, 2, 2, "minute")?;
        p.expect(b':', ":")?;
        let second = digits(p, 2, 2, "second")?;
        p.expect(b' ', "SP")?;
        let sign = match p.peek() {
            Some(b'+') => 1i16,
            Some(b'-') => -1i16,
            _ => return Err(p.fail("zone sign")),
        };
        p.pos += 1;
        let z = digits(p, 4, 4, "zone")?;
        p.expect(b'"', "DQUOTE")?;
        let zone = sign * ((z / 100) as i16 * 60 + (z % 100) as i16);
        if z % 100 > 59 {
            return Err(p.fail_at(start, "valid zone"));
        }
        let date = Date::new(year, month, day as u8).map_err(|_| p.fail_at(start, "valid date"))?;
        DateTime::new(date, hour as u8, minute as u8, second as u8, zone)
            .map_err(|_| p.fail_at(start, "valid time"))
    }
}

impl Encode for DateTime {
    fn encode(&self, buf: &mut EncodeBuf) {
        // `"dd-Mon-yyyy hh:mm:ss +zzzz"`, 28 bytes, assembled in place (every field is
        // validated: day, hour, minute, second and zone hours below 100, year below 10,000)
        let mut a = [0u8; 28];
        let z = self.zone.unsigned_abs();
        a[0] = b'"';
        a[1..3].copy_from_slice(&d2(self.date.day as u32));
        a[3] = b'-';
        a[4..7].copy_from_slice(MONTHS[self.date.month as usize - 1]);
        a[7] = b'-';
        a[8..10].copy_from_slice(&d2(self.date.year as u32 / 100));
        a[10..12].copy_from_slice(&d2(self.date.year as u32 % 100));
        a[12] = b' ';
        a[13..15].copy_from_slice(&d2(self.hour as u32));
        a[15] = b':';
        a[16..18].copy_from_slice(&d2(self.minute as u32));
        a[18] = b':';
        a[19..21].copy_from_slice(&d2(self.second as u32));
        a[21] = b' ';
        a[22] = if self.zone < 0 { b'-' } else { b'+' };
        a[23..25].copy_from_slice(&d2((z / 60) as u32));
        a[25..27].copy_from_slice(&d2((z % 60) as u32));
        a[27] = b'"';
        buf.raw(&a);
    }
}

/// The last two decimal digits of `v`, zero-padded.
#[inline(always)]
fn d2(v: u32) -> [u8; 2] {
    [b'0' + (v / 10 % 10) as u8, b'0' + (v % 10) as u8]
}

/// `v` in decimal, zero-padded to at least `width` (at most 10) digits, without allocating.
#[inline]
fn two_or_four(buf: &mut EncodeBuf, v: u32, width: usize) {
    let mut tmp = [b'0'; 10];
    let mut i = tmp.len();
    let mut v = v;
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let start = i.min(tmp.len().saturating_sub(width));
    buf.raw(&tmp[start..]);
}

fn digits(p: &mut Parser<'_>, min: usize, max: usize, what: &'static str) -> PResult<u16> {
    let start = p.pos;
    let mut v: u16 = 0;
    let mut n = 0;
    while n < max {
        match p.peek() {
            Some(c @ b'0'..=b'9') => {
                v = v * 10 + (c - b'0') as u16;
                p.pos += 1;
                n += 1;
            }
            _ => break,
        }
    }
    if n < min {
        return Err(p.fail_at(start, what));
    }
    Ok(v)
}

/// The month (1-12) named by three bytes in any case, given as the little-endian number of
/// `[a, b, c, 0]`.
#[inline(always)]
fn month_word(w: u32) -> Option<u8> {
    // the names in lower case, as numbers: a byte ORed with 0x20 is a lower-case letter only
    // when it was a letter, so the word matches exactly when the bytes are the name in any
    // case
    const fn lower(m: &[u8; 3]) -> u32 {
        u32::from_le_bytes([m[0], m[1], m[2], 0]) | 0x0020_2020
    }
    const JAN: u32 = lower(MONTHS[0]);
    const FEB: u32 = lower(MONTHS[1]);
    const MAR: u32 = lower(MONTHS[2]);
    const APR: u32 = lower(MONTHS[3]);
    const MAY: u32 = lower(MONTHS[4]);
    const JUN: u32 = lower(MONTHS[5]);
    const JUL: u32 = lower(MONTHS[6]);
    const AUG: u32 = lower(MONTHS[7]);
    const SEP: u32 = lower(MONTHS[8]);
    const OCT: u32 = lower(MONTHS[9]);
    const NOV: u32 = lower(MONTHS[10]);
    const DEC: u32 = lower(MONTHS[11]);
    Some(match w | 0x0020_2020 {
        JAN => 1,
        FEB => 2,
        MAR => 3,
        APR => 4,
        MAY => 5,
        JUN => 6,
        JUL => 7,
        AUG => 8,
        SEP => 9,
        OCT => 10,
        NOV => 11,
        DEC => 12,
        _ => return None,
    })
}

fn month(p: &mut Parser<'_>) -> PResult<u8> {
    let r = p.rest();
    if r.len() >= 3 {
        for (i, m) in MONTHS.iter().enumerate() {
            if r[..3].eq_ignore_ascii_case(&m[..]) {
                p.pos += 3;
                return Ok(i as u8 + 1);
            }
        }
    }
    Err(p.fail("date-month"))
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies.
    use super::*;
    use proptest::prelude::*;

    /// Valid dates.
    pub(crate) fn date() -> impl Strategy<Value = Date> {
        (1900u16..2100, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| Date::new(y, m, d).unwrap())
    }

    /// Valid date-times.
    pub(crate) fn date_time() -> impl Strategy<Value = DateTime> {
        (date(), 0u8..24, 0u8..60, 0u8..60, -720i16..=840)
            .prop_map(|(d, h, mi, s, z)| DateTime::new(d, h, mi, s, z).unwrap())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::DecodeOptions;
    use bytes::Bytes;

    /// The in-place encoder writes every field as the zero-padded decimal it stands for.
    #[test]
    fn date_time_encoding_matches_format() {
        for (y, mo, d, h, mi, se, z) in [
            (0u16, 1u8, 1u8, 0u8, 0u8, 0u8, 0i16),
            (9, 2, 28, 9, 9, 9, -1),
            (99, 12, 31, 23, 59, 60, 99 * 60 + 59),
            (1994, 2, 7, 21, 52, 25, -480),
            (2024, 2, 29, 10, 5, 7, 330),
            (9999, 6, 15, 12, 30, 45, -(99 * 60 + 59)),
            (1000, 7, 10, 1, 2, 3, 59),
        ] {
            let dt = DateTime::new(Date::new(y, mo, d).unwrap(), h, mi, se, z).unwrap();
            let want = format!(
                "\"{d:02}-{}-{y:04} {h:02}:{mi:02}:{se:02} {}{:02}{:02}\"",
                std::str::from_utf8(MONTHS[mo as usize - 1]).unwrap(),
                if z < 0 { '-' } else { '+' },
                z.unsigned_abs() / 60,
                z.unsigned_abs() % 60,
            );
            assert_eq!(
                String::from_utf8(dt.to_vec_inline_literals()).unwrap(),
                want
            );
        }
    }

    #[test]
    fn date_time_roundtrip() {
        let b = Bytes::from_static(b"\" 7-Feb-1994 21:52:25 -0800\"");
        let o = DecodeOptions::strict();
        let mut p = Parser::new(&b, &o);
        let d = DateTime::parse(&mut p).unwrap();
        assert_eq!(d.zone_minutes(), -480);
        assert_eq!(
            d.to_vec_inline_literals(),
            b"\"07-Feb-1994 21:52:25 -0800\""
        );
    }

    /// Feeds every input to `fixed` and `general` in both profiles: where `fixed` takes the
    /// input it reads the value `general` reads, up to the same byte, and neither warns;
    /// where it does not, it consumes nothing. Returns how many times `fixed` took an input.
    fn fixed_matches_general<T: PartialEq + std::fmt::Debug>(
        inputs: &[Vec<u8>],
        fixed: impl Fn(&mut Parser<'_>) -> Option<T>,
        general: impl Fn(&mut Parser<'_>) -> PResult<T>,
    ) -> usize {
        let mut taken = 0;
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            for i in inputs {
                let msg = Bytes::copy_from_slice(i);
                let mut f = Parser::new(&msg, &o);
                let mut g = Parser::new(&msg, &o);
                let want = general(&mut g);
                match fixed(&mut f) {
                    Some(v) => {
                        taken += 1;
                        assert_eq!(Ok(v), want, "{msg:?}");
                        assert_eq!(f.pos, g.pos, "{msg:?}");
                        assert!(f.warnings.is_empty() && g.warnings.is_empty());
                    }
                    None => assert_eq!(f.pos, 0, "{msg:?}"),
                }
            }
        }
        taken
    }

    /// [`DateTime::parse_fixed`] reads what [`DateTime::parse_general`] reads wherever it
    /// takes the input (value and position; it warns nothing), and consumes nothing where it
    /// does not: every byte at every position of a few valid dates, every day and month in
    /// both day forms, month names in any case, field limits (hour 23/24, second 60/61, zone
    /// minutes 59/60, leap days), in both profiles.
    #[test]
    fn fixed_form_matches_general() {
        let bases: [&[u8; 28]; 4] = [
            b"\" 4-Jun-2008 01:04:36 +0900\"",
            b"\"17-Feb-2010 10:22:14 -0700\"",
            b"\"29-Feb-2024 23:59:60 -9959\"",
            b"\"31-dEC-9999 00:00:00 +0000\"",
        ];
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for base in bases {
            for i in 0..28 {
                for c in 0..=255u8 {
                    let mut v = base.to_vec();
                    v[i] = c;
                    inputs.push(v);
                }
            }
            inputs.push(base[..27].to_vec());
            inputs.push([&base[..], b" x"].concat());
        }
        for day in 0..40 {
            for m in MONTHS {
                for form in [format!("{day:02}"), format!("{day:>2}")] {
                    let m = std::str::from_utf8(m).unwrap();
                    for m in [m.to_string(), m.to_uppercase(), m.to_lowercase()] {
                        inputs.push(format!("\"{form}-{m}-2023 24:00:61 +0060\"").into_bytes());
                        inputs.push(format!("\"{form}-{m}-2024 23:59:60 -0059\"").into_bytes());
                    }
                }
            }
        }
        let taken = fixed_matches_general(&inputs, DateTime::parse_fixed, DateTime::parse_general);
        assert!(taken > 2_000, "{taken}");
    }

    /// [`Date::parse_fixed`] reads what [`Date::parse_general`] reads wherever it takes the
    /// input (value and position), and consumes nothing where it does not: every byte at
    /// every position of a few dates (valid and not), cut short and followed by more, every
    /// day and month in both day forms and month names in any case, in both profiles.
    #[test]
    fn date_fixed_matches_general() {
        let bases: [&[u8]; 6] = [
            b"1-Feb-1994",
            b"15-Feb-2018",
            b"29-feb-2024",
            b"31-DEC-9999",
            b"29-Feb-2023",
            b"\"5-Oct-2024\"",
        ];
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for base in bases {
            for i in 0..base.len() {
                for c in 0..=255u8 {
                    let mut v = base.to_vec();
                    v[i] = c;
                    inputs.push(v);
                }
                inputs.push(base[..i].to_vec());
            }
            inputs.push([base, b" x"].concat());
            inputs.push([base, b"1"].concat());
            inputs.push([base, b")"].concat());
        }
        for day in 0..40 {
            for m in MONTHS {
                for form in [format!("{day}"), format!("{day:02}"), format!("{day:03}")] {
                    let m = std::str::from_utf8(m).unwrap();
                    for m in [m.to_string(), m.to_uppercase(), m.to_lowercase()] {
                        for year in ["2023", "2024", "0000", "1900", "2000", "202"] {
                            inputs.push(format!("{form}-{m}-{year}").into_bytes());
                        }
                    }
                }
            }
        }
        let taken = fixed_matches_general(&inputs, Date::parse_fixed, Date::parse_general);
        assert!(taken > 5_000, "{taken}");
    }

    #[test]
    fn bad_dates_rejected() {
        assert!(Date::new(2023, 2, 29).is_err());
        assert!(Date::new(2024, 2, 29).is_ok());
        let b = Bytes::from_static(b"31-Apr-2020");
        let o = DecodeOptions::strict();
        let mut p = Parser::new(&b, &o);
        assert!(Date::parse(&mut p).is_err());
    }
}
