//! User ids: trimmed, normalised, and numbers as integer keys.

/// `s` without surrounding whitespace; the common cases (none, or an empty field) without a
/// char scan: a field that starts and ends with a visible ASCII character is kept whole.
pub(crate) fn trim(s: &str) -> &str {
    let visible = |b: Option<&u8>| b.is_some_and(|&b| (b'!'..=b'~').contains(&b));
    if s.is_empty() || visible(s.as_bytes().first()) && visible(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    }
}

/// The country of a business-scoped user id (BSUID, docs/rules.md §2): `CC.` then up to 128
/// letters and digits (`US.13491208655302741918`), or the parent form `CC.ENT.…`; `None` for
/// any other user id, or a `CC` that is not a country.
pub(crate) fn bsuid_country(user: &str) -> Option<crate::domain::money::Country> {
    let (country, rest) = trim(user).split_once('.')?;
    let rest = rest.strip_prefix("ENT.").unwrap_or(rest);
    let well_formed = country.len() == 2
        && country.bytes().all(|b| b.is_ascii_uppercase())
        && (1..=128).contains(&rest.len())
        && rest.bytes().all(|b| b.is_ascii_alphanumeric());
    well_formed.then(|| country.parse().ok()).flatten()
}

/// The user id as a key: `+`, spaces and `-` removed.
pub(crate) fn normalize_user<'a>(user: &'a str, buf: &'a mut String) -> &'a str {
    let user = trim(user);
    if !user.bytes().any(|b| matches!(b, b'+' | b' ' | b'-')) {
        return user;
    }
    buf.clear();
    buf.extend(user.chars().filter(|c| !matches!(c, '+' | ' ' | '-')));
    buf
}
/// A user number of 1 to 17 digits (ignoring surrounding whitespace and the `+`, spaces and
/// `-` that [`crate::domain::user::normalize_user`] removes) as one integer, its length in the top
/// bits so that `033` and `33` stay apart; never zero. `None` for any other user id.
pub(crate) fn number_key(user: &str) -> Option<u64> {
    let user = crate::domain::user::trim(user);
    if let Some(value) = plain_number(user.as_bytes()) {
        return Some(value | ((user.len() as u64) << 57));
    }
    let mut value = 0u64;
    let mut digits = 0u64;
    for b in user.bytes() {
        match b {
            b'0'..=b'9' if digits < 17 => {
                value = value * 10 + u64::from(b - b'0');
                digits += 1;
            }
            b'+' | b' ' | b'-' => {}
            _ => return None,
        }
    }
    (digits > 0).then_some(value | (digits << 57))
}

/// The value of 8 to 16 ASCII digits and nothing else (a number as most logs write it), read
/// eight at a time; `None` for anything else, left to the byte-by-byte path.
fn plain_number(s: &[u8]) -> Option<u64> {
    const ZEROS: u64 = u64::from_le_bytes([b'0'; 8]);
    let (head, tail) = s.split_first_chunk::<8>()?;
    let low = match tail.len() {
        0 => return eight_digits(*head),
        1..=8 => s.last_chunk::<8>()?,
        _ => return None,
    };
    // The first `k` digits, behind `8 - k` zeros (the first byte is the lowest): the rest of
    // `head` is the start of `low`.
    let k = tail.len();
    let high = u64::from_le_bytes(*head) << (8 * (8 - k)) | ZEROS.checked_shr(8 * k as u32).unwrap_or(0);
    Some(eight_digits(high.to_le_bytes())? * 100_000_000 + eight_digits(*low)?)
}

/// The value of eight ASCII digits, if they all are; three multiplications (each step joins
/// neighbouring groups: digits into pairs, pairs into fours, fours into eight).
fn eight_digits(bytes: [u8; 8]) -> Option<u64> {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const ASCII_0: u64 = 0x3030_3030_3030_3030;
    let x = u64::from_le_bytes(bytes);
    // Every byte 0x30..=0x3F, and still so after adding 6: exactly '0'..='9'.
    if x & HIGH != ASCII_0 || (x + 0x0606_0606_0606_0606) & HIGH != ASCII_0 {
        return None;
    }
    let v = x & 0x0F0F_0F0F_0F0F_0F0F;
    let v = (v * 10 + (v >> 8)) & 0x00FF_00FF_00FF_00FF;
    let v = (v * 100 + (v >> 16)) & 0x0000_FFFF_0000_FFFF;
    Some((v * 10_000 + (v >> 32)) & 0xFFFF_FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A number key is the digits' value and count, whatever the path: the eight-at-a-time
    /// one (8 to 16 plain digits) or the byte-by-byte one (separators, other lengths).
    #[test]
    fn number_keys_are_the_digits_value_and_count() {
        assert_eq!(number_key("33612345678"), Some(33_612_345_678 | 11 << 57));
        assert_eq!(number_key("+33 6 12-34"), Some(3_361_234 | 7 << 57));
        assert_eq!(number_key("0000000000000000"), Some(16 << 57));
        assert_eq!(number_key("12345678901234567"), Some(12_345_678_901_234_567 | 17 << 57));
        for bad in ["", "+", "3361234567a", "123456789012345678", "33612345678/", "3361:345678"] {
            assert_eq!(number_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn business_scoped_ids_give_their_country() {
        let c = |s: &str| bsuid_country(s).map(|c| c.to_string());
        assert_eq!(c("US.13491208655302741918").as_deref(), Some("US"));
        assert_eq!(c("BR.ENT.abc123").as_deref(), Some("BR"));
        for other in ["33612345678", "us.123", "US.", "US.12 3", "ZZ.123", "USA.123", "u_9f2c1a", "hash:0a1b"]
        {
            assert_eq!(c(other), None, "{other}");
        }
        assert_eq!(c(&format!("IN.{}", "a".repeat(129))), None, "at most 128 characters");
    }

    proptest::proptest! {
        /// The shortcut for fields that need no trimming agrees with `str::trim`, Unicode
        /// spaces and control characters included.
        #[test]
        fn trim_is_str_trim(s in "[ \t\x01a~\u{a0}\u{3000}é]{0,6}") {
            proptest::prop_assert_eq!(trim(&s), s.trim());
        }

        #[test]
        fn number_keys_agree_with_parsing(
            user in proptest::prop_oneof!["[0-9]{1,18}", "[ ]?[+]?[0-9:/ -]{0,18}[ ]?"]
        ) {
            let digits: String = user.chars().filter(char::is_ascii_digit).collect();
            let only_numeric = user.chars().all(|c| c.is_ascii_digit() || "+ -".contains(c));
            let expected = (only_numeric && (1..=17).contains(&digits.len()))
                .then(|| digits.parse::<u64>().unwrap() | (digits.len() as u64) << 57);
            proptest::prop_assert_eq!(number_key(&user), expected);
        }
    }
}
