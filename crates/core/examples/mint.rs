//! Prints the tokens edgejwt-core mints for the simplejwt interop fixtures, as JSON.
//! Used by `scripts/record-simplejwt-fixtures.py`: `cargo run --example mint -- <unix-now>`.

#[path = "../tests/common/mint.rs"]
mod mint;

fn main() {
    let now: i64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .expect("usage: mint <unix-seconds>");
    let tokens: serde_json::Map<String, serde_json::Value> = mint::core_tokens(now)
        .into_iter()
        .map(|(name, token)| (name.to_owned(), token.into()))
        .collect();
    #[allow(clippy::print_stdout, reason = "the example's output is its purpose")]
    {
        println!("{}", serde_json::Value::Object(tokens));
    }
}
