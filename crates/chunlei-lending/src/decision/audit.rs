//! The audit text of a [`Decision`](super::Decision): what a stored decision keeps of its
//! features, its chosen offer, its reasons and every bank's answer, as `key=value` lines.
//!
//! Plain text on purpose: an auditor reads it with any tool, and no storage format is tied to
//! the crate's types. Keys are fixed ASCII names; a value has `\` written as `\\` and a line
//! break as `\n`, so every entry is one line. [`parse_lines`] reads any of them back.

use std::borrow::Cow;

use super::bank::{BankAnswer, Offer, OfferedProduct};
use super::features::{FeatureRecord, Features};
use super::reason::DeclineReason;

/// The features, one scorecard column a line (`sales_30d_fen=…`), in column order.
pub fn features_text(features: &Features) -> String {
    record_text(&features.record())
}

/// [`features_text`] from the features' record, for a caller that already built it to score.
pub fn record_text(record: &FeatureRecord) -> String {
    lines(record.iter())
}

/// The offer: bank, product and its price, amount and parts, in fen and basis points.
pub fn offer_text(offer: &Offer) -> String {
    let mut text = String::with_capacity(256);
    line(&mut text, "bank_id", offer.bank_id.as_str());
    number(&mut text, "product_index", offer.product_index);
    match offer.product {
        OfferedProduct::Amortising {
            method,
            day_count,
            annual_rate_bps,
            terms,
        } => {
            line(&mut text, "product", "amortising");
            line(&mut text, "method", method.as_str());
            line(&mut text, "day_count", day_count.as_str());
            number(&mut text, "annual_rate_bps", annual_rate_bps);
            text.push_str("terms_months=");
            for (at, months) in terms.iter().enumerate() {
                if at > 0 {
                    text.push(',');
                }
                push_digits(&mut text, u64::from(months));
            }
            text.push('\n');
        }
        OfferedProduct::RevenueBased {
            fee,
            fee_bps,
            withholding_bps,
            expected_days,
            term_days_max,
        } => {
            line(&mut text, "product", "revenue_based");
            number(&mut text, "fee_fen", fee.get());
            number(&mut text, "fee_bps", fee_bps);
            number(&mut text, "withholding_bps", withholding_bps);
            number(&mut text, "expected_days", expected_days);
            number(&mut text, "term_days_max", term_days_max);
        }
    }
    number(&mut text, "amount_fen", offer.amount.get());
    number(&mut text, "bank_part_fen", offer.bank_part.get());
    number(&mut text, "platform_part_fen", offer.platform_part.get());
    number(&mut text, "price_bps", offer.price_bps);
    text
}

/// Appends `key=value` and a line break for a number, written digit by digit: a decision
/// writes a dozen, and the formatting machinery cost several times the digits.
fn number(text: &mut String, key: &str, value: impl TryInto<u64>) {
    text.push_str(key);
    text.push('=');
    push_digits(text, value.try_into().unwrap_or(u64::MAX));
    text.push('\n');
}

/// Appends the decimal digits of `value`.
pub(super) fn push_digits(text: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        // The remainder is below ten: a digit.
        digits[at] = b'0' + u8::try_from(value % 10).unwrap_or(0);
        value /= 10;
        if value == 0 {
            break;
        }
    }
    // ASCII digits only.
    text.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
}

/// The reasons, four lines each, numbered from 1: `reason.1.source`, `.code`, `.zh`, `.en`.
pub fn reasons_text(reasons: &[DeclineReason]) -> String {
    let mut text = String::new();
    for (at, reason) in reasons.iter().enumerate() {
        let n = at + 1;
        for (field, value) in [
            ("source", reason.source.as_str()),
            ("code", reason.code.as_str()),
            ("zh", reason.zh.as_str()),
            ("en", reason.en.as_str()),
        ] {
            line(&mut text, &format!("reason.{n}.{field}"), value);
        }
    }
    text
}

/// Every bank's answer, one line each in bank id order: `bank_id=offered` or the code of its
/// decline (`bank_id=score_below_cutoff`).
pub fn answers_text(answers: &[BankAnswer]) -> String {
    // A bank id and its answer take some thirty bytes.
    let mut text = String::with_capacity(32 * answers.len());
    for answer in answers {
        let value = match answer {
            BankAnswer::Offered(_) => "offered",
            BankAnswer::Declined { reason, .. } => reason.as_str(),
        };
        line(&mut text, answer.bank_id().as_str(), value);
    }
    text
}

/// The entries of audit text, in order; a line without `=` is skipped. A value is borrowed
/// from `text` unless it had something escaped.
pub fn parse_lines(text: &str) -> Vec<(&str, Cow<'_, str>)> {
    // Sized once (an answer reads a decision's text back on every request), and searched as
    // bytes: `=`, `\` and line breaks are ASCII, never inside a longer character.
    if text.is_empty() {
        return Vec::new();
    }
    let mut entries = Vec::with_capacity(text.bytes().filter(|&b| b == b'\n').count() + 1);
    for line in text.lines() {
        if let Some(at) = line.bytes().position(|b| b == b'=') {
            entries.push((&line[..at], unescape(&line[at + 1..])));
        }
    }
    entries
}

/// Bytes reserved for audit text before it is written: a feature record's lines take about
/// 350, and longer text grows the buffer by doubling.
const TEXT_BYTES_RESERVED: usize = 512;

fn lines<'k, 'v>(entries: impl Iterator<Item = (&'k str, &'v str)>) -> String {
    let mut text = String::with_capacity(TEXT_BYTES_RESERVED);
    for (key, value) in entries {
        line(&mut text, key, value);
    }
    text
}

/// Appends `key=value` and a line break, with backslashes and line breaks in the value
/// escaped; one pass and no copy of the value (a decision writes some sixty of these).
fn line(text: &mut String, key: &str, value: &str) {
    text.push_str(key);
    text.push('=');
    let mut rest = value;
    // Searched as bytes: both are ASCII, so never inside a character of more than one byte.
    while let Some(at) = rest.bytes().position(|b| b == b'\\' || b == b'\n') {
        text.push_str(&rest[..at]);
        text.push_str(if rest.as_bytes()[at] == b'\\' {
            "\\\\"
        } else {
            "\\n"
        });
        rest = &rest[at + 1..];
    }
    text.push_str(rest);
    text.push('\n');
}

fn unescape(value: &str) -> Cow<'_, str> {
    if !value.bytes().any(|b| b == b'\\') {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::super::reason::ReasonSource;
    use super::*;

    #[test]
    fn numbers_are_written_in_decimal() {
        let mut text = String::new();
        for value in [0, 7, 10, 1_234_567_890, u64::MAX] {
            number(&mut text, "n", value);
        }
        number(&mut text, "small", 42_u32);
        number(&mut text, "index", 3_usize);
        assert_eq!(
            text,
            "n=0\nn=7\nn=10\nn=1234567890\nn=18446744073709551615\nsmall=42\nindex=3\n"
        );
    }

    #[test]
    fn reasons_read_back_with_line_breaks_and_backslashes() {
        let reasons = vec![DeclineReason {
            source: ReasonSource::Platform,
            code: "sales_too_low".to_owned(),
            zh: "经营流水不足\n第二行".to_owned(),
            en: r"a\b".to_owned(),
        }];
        let text = reasons_text(&reasons);
        assert_eq!(text.lines().count(), 4);
        let entries = parse_lines(&text);
        assert_eq!(
            entries,
            vec![
                ("reason.1.source", "platform".into()),
                ("reason.1.code", "sales_too_low".into()),
                ("reason.1.zh", "经营流水不足\n第二行".into()),
                ("reason.1.en", r"a\b".into()),
            ]
        );
    }
}
