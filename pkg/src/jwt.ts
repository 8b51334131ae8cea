// A JWT's header and payload read without verification (base64url + JSON). The client reads
// `exp` and `iat` to schedule refreshes; the verifier reads `kid` to pick a JWK Set key. Neither
// trusts what it reads here: the chosen key's wasm verifier checks the token itself.

const utf8 = new TextDecoder();

/** The bytes of base64url text, padded or not; throws on text that is not base64. */
function base64UrlDecode(text: string): Uint8Array {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(b64 + "===".slice((b64.length + 3) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Part `index` of a JWT decoded as a JSON object; `null` when it is not one. */
function peekPart(token: string, index: 0 | 1): Record<string, unknown> | null {
  const part = token.split(".", 2)[index];
  if (!part) return null;
  try {
    const value: unknown = JSON.parse(utf8.decode(base64UrlDecode(part)));
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The JOSE header of a JWT, unverified; `null` when it is not one. */
export function peekHeader(token: string): Record<string, unknown> | null {
  return peekPart(token, 0);
}

/** The payload (claims) of a JWT, unverified; `null` when it is not one. */
export function peekPayload(token: string): Record<string, unknown> | null {
  return peekPart(token, 1);
}
