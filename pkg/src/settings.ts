// The verifier's settings, by simplejwt's names. `SettingName` is the one hand-written copy of
// the core's SETTING_NAMES (crates/core/src/settings.rs); the wasm core rejects any other name.

/** simplejwt setting names the verifier reads (the same names as the issuer's). */
export type SettingName =
  | "ALGORITHM"
  | "SIGNING_KEY"
  | "VERIFYING_KEY"
  | "AUDIENCE"
  | "ISSUER"
  | "LEEWAY"
  | "AUTH_HEADER_TYPES"
  | "AUTH_HEADER_NAME"
  | "USER_ID_FIELD"
  | "USER_ID_CLAIM"
  | "TOKEN_TYPE_CLAIM"
  | "JTI_CLAIM"
  | "SLIDING_TOKEN_REFRESH_EXP_CLAIM"
  | "AUTH_TOKEN_CLASSES"
  | "CHECK_USER_IS_ACTIVE"
  | "ACCESS_TOKEN_LIFETIME"
  | "REFRESH_TOKEN_LIFETIME"
  | "SLIDING_TOKEN_LIFETIME"
  | "SLIDING_TOKEN_REFRESH_LIFETIME"
  | "ROTATE_REFRESH_TOKENS"
  | "BLACKLIST_AFTER_ROTATION"
  | "UPDATE_LAST_LOGIN";

/**
 * Settings by simplejwt's names. Keys are PEM text, JWK objects or JSON, or (HMAC) the
 * secret itself; lists may be arrays or comma-separated strings; durations seconds or `5m`.
 */
export type Settings = Partial<Record<SettingName, string | number | boolean | string[] | JsonWebKey>>;
