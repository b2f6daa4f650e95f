//! Reading an answer's envelope (`@client_id`, `@extra`) without parsing the answer.

/// Reads `@client_id` and our numeric `@extra` from the end of a TDLib answer, where TDLib
/// appends them: `...,"@extra":12,"@client_id":3}`. It reads backwards from the last byte, so
/// its cost does not grow with the answer. Keys inside string values are escaped
/// (`\"@extra\"`), so the patterns cannot match inside data.
pub(crate) fn envelope(text: &str) -> (Option<i32>, Option<u64>) {
    const CLIENT_ID: &[u8] = b",\"@client_id\":";
    const EXTRA: &[u8] = b",\"@extra\":";
    let Some(head) = text.as_bytes().strip_suffix(b"}") else {
        return (None, None);
    };
    let Some((head, client_id)) = number_at_end(head, CLIENT_ID) else {
        return (None, None);
    };
    let extra = number_at_end(head, EXTRA).map(|(_, extra)| extra);
    (i32::try_from(client_id).ok(), extra)
}

/// Splits `<head><key><digits>` into the head and the number, if `bytes` ends that way.
fn number_at_end<'a>(bytes: &'a [u8], key: &[u8]) -> Option<(&'a [u8], u64)> {
    let digits = bytes
        .iter()
        .rev()
        .take_while(|byte| byte.is_ascii_digit())
        .count();
    if digits == 0 || digits > 19 {
        return None;
    }
    let (rest, number) = bytes.split_at(bytes.len() - digits);
    let head = rest.strip_suffix(key)?;
    let number = std::str::from_utf8(number).ok()?.parse().ok()?;
    Some((head, number))
}

#[cfg(test)]
mod tests {
    use super::envelope;

    #[test]
    fn envelope_is_read_from_the_end() {
        assert_eq!(
            envelope(r#"{"@type":"testInt","value":144,"@extra":12,"@client_id":3}"#),
            (Some(3), Some(12))
        );
        assert_eq!(
            envelope(r#"{"@type":"updateOption","name":"x","@client_id":1}"#),
            (Some(1), None)
        );
        assert_eq!(
            envelope(
                r#"{"@type":"testString","value":"\",\"@extra\":5,\"@client_id\":9}","@client_id":2}"#
            ),
            (Some(2), None),
            "keys inside strings are escaped"
        );
        assert_eq!(
            envelope(r#"{"@type":"ok","@extra":"user","@client_id":1}"#),
            (Some(1), None)
        );
        assert_eq!(envelope(r#"{"@type":"ok"}"#), (None, None));
        assert_eq!(
            envelope(r#"{"@type":"ok","@client_id":99999999999}"#),
            (None, None),
            "not an i32"
        );
        assert_eq!(envelope(r#"{"@type":"ok","@client_id":}"#), (None, None));
        assert_eq!(envelope(""), (None, None));
        let long = format!(
            r#"{{"@type":"testString","value":"{}","@extra":7,"@client_id":1}}"#,
            "x".repeat(100_000)
        );
        assert_eq!(envelope(&long), (Some(1), Some(7)));
    }
}
