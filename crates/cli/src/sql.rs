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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes() {
        assert_eq!(text("o'brien"), "'o''brien'");
        assert_eq!(text("a;b--c"), "'a;b--c'");
        assert_eq!(opt_text(None), "NULL");
        assert_eq!(opt_int(Some(-3)), "-3");
    }
}
