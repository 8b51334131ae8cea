// The verifier's settings, by simplejwt's names. `SettingName` is generated from the core's
// SETTING_NAMES (crates/core/src/settings.rs) into the wasm glue's types; the core rejects
// any other name.

import type { SettingName } from "./wasm/edgejwt.js";

export type { SettingName };

/**
 * Settings by simplejwt's names. Keys are PEM text, JWK objects or JSON, or (HMAC) the
 * secret itself; lists may be arrays or comma-separated strings; durations seconds or `5m`.
 */
export type Settings = Partial<Record<SettingName, string | number | boolean | string[] | JsonWebKey>>;
