//! Parsing of one result cell (clinical rules §7): missing tokens, censored values,
//! trailing abnormal marks, decimal comma, and text results.
//!
//! The parser is total: every input string yields a [`Cell`], never a panic.

use std::borrow::Cow;

/// How a reported value bounds the true value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Censor {
    Exact,
    /// true value < bound
    Lt,
    /// true value <= bound
    Le,
    /// true value > bound
    Gt,
    /// true value >= bound
    Ge,
}

impl Censor {
    /// The prefix written before a censored bound (`<`, `<=`, ...); empty for exact values.
    pub fn prefix(self) -> &'static str {
        match self {
            Censor::Exact => "",
            Censor::Lt => "<",
            Censor::Le => "<=",
            Censor::Gt => ">",
            Censor::Ge => ">=",
        }
    }

    /// The censoring of `f(x)` when `f` is decreasing.
    pub fn reversed(self) -> Censor {
        match self {
            Censor::Exact => Censor::Exact,
            Censor::Lt => Censor::Gt,
            Censor::Le => Censor::Ge,
            Censor::Gt => Censor::Lt,
            Censor::Ge => Censor::Le,
        }
    }
}

/// A numeric result, exact or censored.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measure {
    pub value: f64,
    pub censor: Censor,
}

impl Measure {
    pub fn exact(value: f64) -> Measure {
        Measure {
            value,
            censor: Censor::Exact,
        }
    }

    pub fn is_censored(&self) -> bool {
        self.censor != Censor::Exact
    }

    /// Which of the half-open bands `(-inf, e0), [e0, e1), ..., [e_last, inf)` holds the
    /// true value, when the whole interval the measure allows lies in one band.
    /// `edges` must be ascending. Returns `None` when a censored value straddles an edge.
    pub fn band(&self, edges: &[f64]) -> Option<usize> {
        let v = self.value;
        let exact_band = edges.iter().take_while(|e| v >= **e).count();
        match self.censor {
            Censor::Exact => Some(exact_band),
            // (-inf, v) or (-inf, v]: only the first band is unbounded below.
            Censor::Lt => match edges.first() {
                None => Some(0),
                Some(e) if v <= *e => Some(0),
                _ => None,
            },
            Censor::Le => match edges.first() {
                None => Some(0),
                Some(e) if v < *e => Some(0),
                _ => None,
            },
            // (v, inf) or [v, inf): only the last band is unbounded above.
            Censor::Gt | Censor::Ge => match edges.last() {
                None => Some(0),
                Some(e) if v >= *e => Some(edges.len()),
                _ => None,
            },
        }
    }

    /// `Some(true)` when the value is certainly below `cutoff`, `Some(false)` when it is
    /// certainly at or above it, `None` when a censored value cannot decide.
    pub fn below(&self, cutoff: f64) -> Option<bool> {
        self.band(&[cutoff]).map(|b| b == 0)
    }

    /// `Some(true)` when the value is certainly above `cutoff` (strictly).
    pub fn above(&self, cutoff: f64) -> Option<bool> {
        let v = self.value;
        match self.censor {
            Censor::Exact => Some(v > cutoff),
            Censor::Lt => (v <= cutoff).then_some(false),
            Censor::Le => (v <= cutoff).then_some(false),
            Censor::Gt => (v >= cutoff).then_some(true),
            Censor::Ge => (v > cutoff).then_some(true),
        }
    }

    /// Renders the value with a fixed number of decimals and its censoring prefix.
    pub fn render(&self, decimals: usize) -> String {
        format!("{}{:.*}", self.censor.prefix(), decimals, self.value)
    }
}

/// One parsed cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Blank or an NA token: no result, no flag.
    Missing,
    /// A number, possibly censored.
    Value(Measure),
    /// A text result (`hemolyzed`, `QNS`): missing for the rules, flagged, kept for evidence.
    Text(String),
    /// A number that could be read two ways (`1,234`, `1.234` where the file does not settle
    /// the decimal mark): never guessed, missing for the rules, flagged, kept for evidence.
    Ambiguous(String),
}

/// How a file writes decimals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecimalMark {
    /// `.` is the decimal mark; `,` may only separate thousands.
    Point,
    /// `,` is the decimal mark; `.` may only separate thousands.
    Comma,
    /// Not settled (`--decimal auto` with a delimiter other than `,`): either mark is decimal
    /// where only that reading is possible; a single mark before exactly three digits is
    /// ambiguous.
    Unsettled,
}

/// What a number cell reads as.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    Value(f64),
    Ambiguous,
    NotANumber,
}

impl Cell {
    pub fn measure(&self) -> Option<Measure> {
        match self {
            Cell::Value(m) => Some(*m),
            _ => None,
        }
    }

    /// A result exists (a censored value counts; a text result does not).
    pub fn is_present(&self) -> bool {
        matches!(self, Cell::Value(_))
    }
}

const MISSING_TOKENS: [&str; 10] = [
    "", "na", "n/a", "nan", "null", "none", "-", "--", ".", "#n/a",
];

/// Abnormal marks that may follow a number; longest first so `HH` is not read as `H`.
const TRAILING_MARKS: [&str; 10] = ["(h)", "(l)", "hh", "ll", "h", "l", "a", "c", "*", "!"];

/// `s.trim()`, without decoding characters when the cell starts and ends with a printable
/// ASCII byte (nearly every cell; `str::trim` checks each end for Unicode white space).
pub(crate) fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// Is the (trimmed) cell one of `words`, ASCII case ignored? Compared in place, without a
/// lowercased copy.
pub(crate) fn is_one_of(t: &str, words: &[&str]) -> bool {
    words.iter().any(|w| t.eq_ignore_ascii_case(w))
}

/// Is this raw cell blank or an NA token?
pub fn is_missing_token(raw: &str) -> bool {
    let t = trim(raw);
    // No token starts with a digit (most cells do).
    if t.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    is_one_of(t, &MISSING_TOKENS)
}

/// Parses a plain number (exponent allowed, finite only); an ambiguous one is `None`.
pub fn parse_number(raw: &str, mark: DecimalMark) -> Option<f64> {
    match read_number(raw, mark) {
        Number::Value(v) => Some(v),
        Number::Ambiguous | Number::NotANumber => None,
    }
}

/// Reads a number with the file's decimal mark (interface: "Numbers").
pub fn read_number(raw: &str, mark: DecimalMark) -> Number {
    let t = trim(raw);
    if t.is_empty() {
        return Number::NotANumber;
    }
    // Rust's float parser accepts "inf" and "nan"; results must be ordinary digits. One
    // pass checks that and counts the marks.
    let (mut commas, mut points) = (0usize, 0usize);
    for b in t.bytes() {
        match b {
            b',' => commas += 1,
            b'.' => points += 1,
            b'0'..=b'9' | b'-' | b'+' | b'e' | b'E' => {}
            _ => return Number::NotANumber,
        }
    }
    let plain = match (mark, commas, points) {
        (_, 0, 0) => Some(Cow::Borrowed(t)),
        (DecimalMark::Point, _, _) => with_marks(t, ',', '.'),
        (DecimalMark::Comma, _, _) => with_marks(t, '.', ','),
        (DecimalMark::Unsettled, 1, 0) | (DecimalMark::Unsettled, 0, 1) => {
            let m = if commas == 1 { ',' } else { '.' };
            if could_be_thousands(t, m) {
                return Number::Ambiguous;
            }
            Some(if m == '.' {
                Cow::Borrowed(t)
            } else {
                Cow::Owned(t.replace(m, "."))
            })
        }
        // Both marks: the last one is the decimal mark, the other must group thousands.
        (DecimalMark::Unsettled, _, _) => match (t.rfind(','), t.rfind('.')) {
            (Some(c), Some(p)) if c > p => with_marks(t, '.', ','),
            (Some(_), Some(_)) => with_marks(t, ',', '.'),
            // One mark several times: only thousands groups can repeat.
            _ => with_marks(t, if commas > 0 { ',' } else { '.' }, '#'),
        },
    };
    match plain
        .and_then(|p| p.parse::<f64>().ok())
        .filter(|v| v.is_finite())
    {
        Some(v) => Number::Value(v),
        None => Number::NotANumber,
    }
}

/// `t` with `thousands` separators removed (valid only between groups of exactly three digits
/// after a first group of one to three) and `decimal` read as the decimal point.
fn with_marks(t: &str, thousands: char, decimal: char) -> Option<Cow<'_, str>> {
    // `t` is ASCII (read_number checked it): its marks are found byte by byte.
    if t.bytes().filter(|&b| char::from(b) == decimal).count() > 1 {
        return None;
    }
    if decimal == '.' && !t.bytes().any(|b| char::from(b) == thousands) {
        // Nothing to remove or replace: the cell is the number as Rust reads it.
        return Some(Cow::Borrowed(t));
    }
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => t.split_at(i),
        None => (t, ""),
    };
    let (int, frac) = match mantissa.split_once(decimal) {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    if frac.is_some_and(|f| f.contains(thousands)) || exponent.contains(thousands) {
        return None;
    }
    let digits = int.trim_start_matches(['-', '+']);
    let sign = &int[..int.len() - digits.len()];
    let mut groups = digits.split(thousands);
    let first = groups.next().unwrap_or("");
    let grouped = digits.contains(thousands);
    if grouped && (!(1..=3).contains(&first.len()) || groups.clone().any(|g| g.len() != 3)) {
        return None;
    }
    let mut out = format!("{sign}{}", digits.replace(thousands, ""));
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out.push_str(exponent);
    Some(Cow::Owned(out))
}

/// A single `mark` that a reader could take for a thousands separator: one to three digits
/// (not a lone zero) before it, exactly three after it, no exponent.
fn could_be_thousands(t: &str, mark: char) -> bool {
    let digits = t.trim_start_matches(['-', '+']);
    let Some((int, frac)) = digits.split_once(mark) else {
        return false;
    };
    (1..=3).contains(&int.len())
        && int != "0"
        && frac.len() == 3
        && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
}

/// Parses one result cell per clinical rules §7.
pub fn parse_cell(raw: &str, mark: DecimalMark) -> Cell {
    let trimmed = trim(raw);
    if is_missing_token(trimmed) {
        return Cell::Missing;
    }
    let (censor, rest) = split_censor(trimmed);
    let number = strip_trailing_mark(trim(rest));
    match read_number(number, mark) {
        Number::Value(value) => Cell::Value(Measure { value, censor }),
        Number::Ambiguous => Cell::Ambiguous(trimmed.to_string()),
        Number::NotANumber => Cell::Text(trimmed.to_string()),
    }
}

fn split_censor(t: &str) -> (Censor, &str) {
    const PREFIXES: [(&str, Censor); 6] = [
        ("<=", Censor::Le),
        (">=", Censor::Ge),
        ("≤", Censor::Le),
        ("≥", Censor::Ge),
        ("<", Censor::Lt),
        (">", Censor::Gt),
    ];
    for (p, c) in PREFIXES {
        if let Some(rest) = t.strip_prefix(p) {
            return (c, rest);
        }
    }
    (Censor::Exact, t)
}

fn strip_trailing_mark(t: &str) -> &str {
    // Every mark ends in a letter or a symbol: a cell ending in a digit has none.
    if t.as_bytes().last().is_none_or(u8::is_ascii_digit) {
        return t;
    }
    for mark in TRAILING_MARKS {
        let mark = mark.as_bytes();
        if t.len() > mark.len() && t.as_bytes()[t.len() - mark.len()..].eq_ignore_ascii_case(mark) {
            let cut = t.len() - mark.len();
            if t.is_char_boundary(cut) {
                let head = t[..cut].trim_end();
                // Only strip when what remains ends in a digit or a decimal point.
                if head.ends_with(|c: char| c.is_ascii_digit() || c == '.' || c == ',') {
                    return head;
                }
            }
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: f64) -> Cell {
        Cell::Value(Measure::exact(x))
    }

    #[test]
    fn trim_is_str_trim() {
        let cells = [
            "",
            " ",
            "12.5",
            " 12.5",
            "12.5 ",
            "\t<5\r",
            "\u{a0}7\u{a0}",
            "\u{b}9\u{b}",
            "\u{3000}x",
            "x\u{2028}",
            "\u{85}",
            "\u{1f}1\u{1f}",
            "µ",
            "a b",
            "~",
            "\u{7f}1",
        ];
        for c in cells {
            assert_eq!(trim(c), c.trim(), "{c:?}");
        }
    }

    #[test]
    fn missing_tokens_are_missing() {
        for t in ["", "  ", "NA", "n/a", "NaN", "null", "None", "-", "--", "."] {
            assert_eq!(parse_cell(t, DecimalMark::Point), Cell::Missing, "{t:?}");
        }
    }

    #[test]
    fn numbers_marks_and_exponents() {
        assert_eq!(parse_cell("12.5", DecimalMark::Point), v(12.5));
        assert_eq!(parse_cell(" 9.1 L", DecimalMark::Point), v(9.1));
        assert_eq!(parse_cell("250H", DecimalMark::Point), v(250.0));
        assert_eq!(parse_cell("7.2(L)", DecimalMark::Point), v(7.2));
        assert_eq!(parse_cell("7.2 hh", DecimalMark::Point), v(7.2));
        assert_eq!(parse_cell("1e3", DecimalMark::Point), v(1000.0));
        assert_eq!(parse_cell("14*", DecimalMark::Point), v(14.0));
        assert_eq!(parse_cell("12,5", DecimalMark::Unsettled), v(12.5));
        assert_eq!(parse_cell("0,125", DecimalMark::Unsettled), v(0.125));
        assert_eq!(parse_cell("1234,5", DecimalMark::Unsettled), v(1234.5));
        assert_eq!(parse_cell("1.234,5", DecimalMark::Unsettled), v(1234.5));
        assert_eq!(parse_cell("1,234.5", DecimalMark::Unsettled), v(1234.5));
        assert_eq!(
            parse_cell("1.234.567", DecimalMark::Unsettled),
            v(1_234_567.0)
        );
        for ambiguous in ["1,234", "1.234", "-12.500", "123,456"] {
            assert_eq!(
                parse_cell(ambiguous, DecimalMark::Unsettled),
                Cell::Ambiguous(ambiguous.into()),
                "{ambiguous}"
            );
        }
        // A known mark settles it: the other one separates thousands.
        assert_eq!(parse_cell("1.234", DecimalMark::Comma), v(1234.0));
        assert_eq!(parse_cell("1,234", DecimalMark::Comma), v(1.234));
        assert_eq!(parse_cell("1,234", DecimalMark::Point), v(1234.0));
        assert_eq!(parse_cell("1,234.5", DecimalMark::Point), v(1234.5));
        assert_eq!(
            parse_cell("12,34", DecimalMark::Point),
            Cell::Text("12,34".into())
        );
        assert_eq!(parse_cell("1.5e3", DecimalMark::Point), v(1500.0));
        assert_eq!(
            parse_cell("12,5", DecimalMark::Point),
            Cell::Text("12,5".into())
        );
    }

    #[test]
    fn censored_values() {
        let c = |x, censor| Cell::Value(Measure { value: x, censor });
        assert_eq!(parse_cell("<10", DecimalMark::Point), c(10.0, Censor::Lt));
        assert_eq!(parse_cell("<= 5", DecimalMark::Point), c(5.0, Censor::Le));
        assert_eq!(parse_cell("≥200", DecimalMark::Point), c(200.0, Censor::Ge));
        assert_eq!(
            parse_cell("> 1000 H", DecimalMark::Point),
            c(1000.0, Censor::Gt)
        );
    }

    #[test]
    fn text_results_are_kept() {
        for t in [
            "hemolyzed",
            "QNS",
            "see comment",
            "inf",
            "NaN5",
            "H",
            "<",
            "1e999",
        ] {
            assert_eq!(
                parse_cell(t, DecimalMark::Point),
                Cell::Text(t.trim().into()),
                "{t:?}"
            );
        }
    }

    #[test]
    fn censored_values_decide_only_inside_one_band() {
        let lt = |x| Measure {
            value: x,
            censor: Censor::Lt,
        };
        let gt = |x| Measure {
            value: x,
            censor: Censor::Gt,
        };
        assert_eq!(lt(10.0).below(30.0), Some(true));
        assert_eq!(lt(30.0).below(30.0), Some(true));
        assert_eq!(lt(50.0).below(45.0), None);
        assert_eq!(gt(1000.0).band(&[30.0, 100.0]), Some(2));
        assert_eq!(gt(50.0).band(&[30.0, 100.0]), None);
        assert_eq!(Measure::exact(30.0).band(&[30.0, 100.0]), Some(1));
        assert_eq!(Measure::exact(5.0).above(5.0), Some(false));
        assert_eq!(
            Measure {
                value: 5.0,
                censor: Censor::Le
            }
            .above(5.0),
            Some(false)
        );
        assert_eq!(lt(10.0).above(5.0), None);
    }
}
