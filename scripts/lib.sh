# Shared by the scripts: tool installs that skip what is already there.
# shellcheck shell=bash

WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen crate (crates/worker/Cargo.toml)
EDGEJWT_TOOLS="${EDGEJWT_TOOLS:-$HOME/.cache/edgejwt}"

ensure_rust_targets() {
  local installed
  installed=$(rustup target list --installed)
  for target in "$@"; do
    grep -qx "$target" <<<"$installed" || rustup target add "$target"
  done
}

# Puts the pinned wasm-bindgen CLI on PATH, installing it once (about 6 minutes).
ensure_wasm_bindgen() {
  local root="$EDGEJWT_TOOLS/wasm-bindgen-$WASM_BINDGEN_VERSION"
  if ! "$root/bin/wasm-bindgen" --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
    echo "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION into $root" >&2
    # No --locked: its lockfile names a webpki-roots version the registry no longer has.
    cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --root "$root"
  fi
  export PATH="$root/bin:$PATH"
}

# The one nightly the scripts use, pinned: the package's wasm is built with
# `-Cpanic=immediate-abort`, which needs core rebuilt from rust-src (scripts/build-pkg.sh), and
# cargo fuzz needs nightly's sanitizer flags.
NIGHTLY=nightly-2026-05-20
ensure_nightly() {
  rustup toolchain list | grep -q "^$NIGHTLY" ||
    rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src
  rustup component list --toolchain "$NIGHTLY" --installed | grep -q '^rust-src' ||
    rustup component add rust-src --toolchain "$NIGHTLY"
}

# cargo on the pinned nightly. Never through the test command's RUSTC_WORKSPACE_WRAPPER: that
# is stable's clippy-driver, which refuses nightly's -Z flags (the lints run on stable).
nightly_cargo() {
  env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS cargo "+$NIGHTLY" "$@"
}

# cargo-fuzz, for fuzz/.
CARGO_FUZZ_VERSION=0.13.1
ensure_cargo_fuzz() {
  ensure_nightly
  local root="$EDGEJWT_TOOLS/cargo-fuzz-$CARGO_FUZZ_VERSION"
  if ! "$root/bin/cargo-fuzz" --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    echo "installing cargo-fuzz $CARGO_FUZZ_VERSION into $root" >&2
    cargo install -q cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --root "$root"
  fi
  export PATH="$root/bin:$PATH"
}

# npm packages of the repository (wrangler, miniflare, ...), installed once per lockfile.
ensure_npm() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
