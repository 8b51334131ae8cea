//! SQL literals for the statements the CLI hands to `wrangler d1 execute`. wrangler takes
//! SQL text, not bound parameters, so every value goes through these quoting functions
//! (and the values that reach them never hold NUL, which SQLite text cannot carry).

/// A SQL string literal: single quotes, inner quotes doubled.
pub fn text(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A string literal, or `NULL`.
pub fn opt_text(value: Option<&str>) -> String {
    value.map_or_else(|| "NULL".to_owned(), text)
}

/// An integer, or `NULL`.
pub fn opt_int(value: Option<i64>) -> String {
    value.map_or_else(|| "NULL".to_owned(), |n| n.to_string())
}

/// SQLite's boolean: 1 or 0.
pub fn bool(value: bool) -> &'static str {
    if value {
        "1"
    } else {
        "0"
    }
}

/// `statement` with each parameter `?N` (N from 1 to 9) replaced by `values[N - 1]`, SQL
/// text already quoted (these functions' output, or a subquery of it): the issuer's bound
/// statements for `wrangler d1 execute`. A parameter without a value is `NULL`, as an unbound
/// one is to SQLite. Only parameters are replaced: the statements written for this hold no
/// `?` inside a string literal.
pub fn inline(statement: &str, values: &[&str]) -> String {
    let mut out = String::with_capacity(statement.len() + 64);
    let mut chars = statement.chars().peekable();
    while let Some(c) = chars.next() {
        let digit = chars.peek().and_then(|d| d.to_digit(10));
        match (c, digit) {
            ('?', Some(n @ 1..=9)) => {
                chars.next();
                debug_assert!(
                    !chars.peek().is_some_and(char::is_ascii_digit),
                    "?{n}0 and above are not parameters here"
                );
                let value = usize::try_from(n - 1).ok().and_then(|i| values.get(i));
                out.push_str(value.copied().unwrap_or("NULL"));
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inlines_parameters() {
        assert_eq!(
            inline(
                "a = ?1 AND (?2 IS NULL OR b <> ?2) AND c = ?3",
                &["7", "'x'"]
            ),
            "a = 7 AND ('x' IS NULL OR b <> 'x') AND c = NULL"
        );
        assert_eq!(inline("no parameters", &["1"]), "no parameters");
        assert_eq!(inline("?", &[]), "?");
    }

    #[test]
    fn quotes() {
        assert_eq!(text("o'brien"), "'o''brien'");
        assert_eq!(text("a;b--c"), "'a;b--c'");
        assert_eq!(opt_text(None), "NULL");
        assert_eq!(opt_int(Some(-3)), "-3");
    }
}
