// The wasm core (crates/wasm) behind its small ABI, as JS values: only numbers cross the
// boundary, since each distinct signature of an export or import costs a wrapper V8
// compiles at startup (wasm-bindgen's strings, Results and JS objects were most of the cold
// start: bench/sizes.mjs). JS writes UTF-8 text where the core reads it (`reserve`); each
// call answers a length n of what the core wrote at `outputPointer`: text for n >= 0, an
// error as JSON for ~n when n < 0. No token rule lives here.
import type * as Wasm from "./wasm/edgejwt.js";
import { EdgeJwtError, type ErrorBody, type ErrorCode } from "./errors.js";

/** The wasm module's functions an entry file hands over once initialised. */
export type WasmModule = Pick<typeof Wasm, "create" | "hostChecks" | "outputLength" | "outputPointer" | "reserve">;

/** An error as the core answers it. */
interface Failure {
  code: ErrorCode;
  detail: string;
  status: number;
  body: ErrorBody;
}

/** What the core answers of a verifier it created. */
interface Description {
  algorithm: string;
  keyId: string;
  authHeaderName: string;
  wwwAuthenticate: string;
  hostChecked: boolean;
  publicJwks: string[];
  maxTokenLength: number;
  revoked: Failure;
}

/** The signature of a token and the index of the key the core chose for it (`null`: none). */
export interface SignedParts {
  signingInput: string;
  signature: Uint8Array<ArrayBuffer>;
  key: number | null;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The input and output of one instance of the core, in its memory. */
export class Core {
  readonly #wasm: WasmModule;
  readonly #memory: WebAssembly.Memory;
  #pointer = 0;
  #capacity = 0;
  #input = new Uint8Array(0);

  constructor(wasm: WasmModule, memory: WebAssembly.Memory) {
    this.#wasm = wasm;
    this.#memory = memory;
    this.#reserve(16384);
  }

  #reserve(length: number): Uint8Array {
    this.#pointer = this.#wasm.reserve(length);
    this.#capacity = length;
    return (this.#input = new Uint8Array(this.#memory.buffer, this.#pointer, length));
  }

  /** Writes `text` where the next call reads it (one native `encodeInto`); its length in bytes. */
  write(text: string): number {
    // A memory that grew has detached the buffer the view was on.
    if (this.#input.byteLength === 0) this.#input = new Uint8Array(this.#memory.buffer, this.#pointer, this.#capacity);
    const { read, written } = encoder.encodeInto(text, this.#input);
    if (read === text.length) return written;
    // At most 3 bytes per UTF-16 code unit.
    return encoder.encodeInto(text, this.#reserve(text.length * 3)).written;
  }

  #output(length: number): Uint8Array {
    return new Uint8Array(this.#memory.buffer, this.#wasm.outputPointer(), length);
  }

  /** The text of an answer `n`, or its error thrown (`wwwAuthenticate` for a 401's header). */
  text(n: number, wwwAuthenticate?: string): string {
    if (n < 0) throw this.error(~n, wwwAuthenticate);
    return decoder.decode(this.#output(n));
  }

  /** The bytes of an answer `n >= 0`, in the core's memory until its next call. */
  bytes(n: number): Uint8Array<ArrayBuffer> {
    return this.#output(n) as Uint8Array<ArrayBuffer>;
  }

  /** The error of an answer `~n`. */
  error(length: number, wwwAuthenticate?: string): EdgeJwtError {
    const f = JSON.parse(decoder.decode(this.#output(length))) as Failure;
    return new EdgeJwtError(f.code, f.detail, f.status, f.body, wwwAuthenticate);
  }

  /** Whether the core leaves `alg`'s signatures to the host (node:crypto or WebCrypto). */
  hostChecks(alg: string): boolean {
    return this.#wasm.hostChecks(this.write(alg));
  }

  /** The core's verifier of `settings` (simplejwt names); throws its error. */
  verifier(settings: unknown): CoreVerifier {
    let json: string | undefined;
    try {
      // JSON's view of the settings (toJSON applied, undefined and functions dropped), as they
      // would be written in a settings file; the core names what a non-object is.
      json = JSON.stringify(settings);
    } catch {
      json = undefined; // a cycle or a BigInt: not settings
    }
    const raw = this.#wasm.create(this.write(json ?? ""));
    // The core answered its description, or the error when it made no verifier.
    const length = this.#wasm.outputLength();
    if (!raw) throw this.error(length);
    return new CoreVerifier(this, raw, JSON.parse(this.text(length)) as Description);
  }
}

/** One configuration's verifier in the core: simplejwt's rules for tokens, headers and claims. */
export class CoreVerifier {
  readonly algorithm: string;
  readonly keyId: string;
  readonly authHeaderName: string;
  readonly wwwAuthenticate: string;
  /** The core has no check for this algorithm's signatures: the host's verdict is needed. */
  readonly hostChecked: boolean;
  /** Every public key that verifies, the current one first: the order of `SignedParts.key`. */
  readonly publicJwks: JsonWebKey[];
  readonly #core: Core;
  readonly #raw: Wasm.Verifier;
  readonly #maxTokenLength: number;
  readonly #revoked: Failure;

  constructor(core: Core, raw: Wasm.Verifier, description: Description) {
    this.#core = core;
    this.#raw = raw;
    this.algorithm = description.algorithm;
    this.keyId = description.keyId;
    this.authHeaderName = description.authHeaderName;
    this.wwwAuthenticate = description.wwwAuthenticate;
    this.hostChecked = description.hostChecked;
    this.publicJwks = description.publicJwks.map((text) => JSON.parse(text) as JsonWebKey);
    this.#maxTokenLength = description.maxTokenLength;
    this.#revoked = description.revoked;
  }

  /**
   * Writes a token for the core. A token longer than the core reads is cut to one character
   * over: the core refuses it unread all the same, and hostile input never grows the memory.
   */
  #token(token: string): number {
    return this.#core.write(token.length > this.#maxTokenLength ? token.slice(0, this.#maxTokenLength + 1) : token);
  }

  /**
   * The claims JSON (as signed) of a token `AUTH_TOKEN_CLASSES` accepts at `now`; throws
   * simplejwt's error. `verdict`: the host's check of the signature (see `signedParts`).
   */
  verify(token: string, now: number, verdict?: boolean): string {
    const n = this.#raw.verify(this.#token(token), now, verdict === undefined ? 0 : verdict ? 2 : 1);
    return this.#core.text(n, this.wwwAuthenticate);
  }

  /**
   * As `verify`, the signature checked by `check(signingInput, signature, key)`, a synchronous
   * host check (node:crypto); one that throws or answers anything but `true` fails.
   */
  verifyWith(token: string, now: number, check: (signingInput: string, signature: Uint8Array<ArrayBuffer>, key: number) => boolean): string {
    const len = this.#token(token);
    const parts = this.#parts(token, this.#raw.signedParts(len));
    let verdict = false;
    if (parts?.key != null) {
      try {
        verdict = check(parts.signingInput, parts.signature, parts.key) === true;
      } catch {
        verdict = false;
      }
    }
    // A token refused before its signature is refused again here, in the verify's words.
    return this.#core.text(this.#raw.verify(len, now, verdict ? 2 : 1), this.wwwAuthenticate);
  }

  /** The signed part, signature and chosen key of a token; `null` when its structure is refused. */
  signedParts(token: string): SignedParts | null {
    return this.#parts(token, this.#raw.signedParts(this.#token(token)));
  }

  #parts(token: string, n: number): SignedParts | null {
    if (n < 0) return null;
    const answer = this.#core.bytes(n);
    const key = (answer[0]! | (answer[1]! << 8) | (answer[2]! << 16) | (answer[3]! << 24)) >>> 0;
    // The signed bytes are the token up to its last `.`, as the core splits it; the signature
    // copied out, since a check may outlive the core's next call.
    return { signingInput: token.slice(0, token.lastIndexOf(".")), signature: answer.slice(4), key: key === 0xffffffff ? null : key };
  }

  /** The token in an `AUTH_HEADER_NAME` header value (simplejwt's `get_raw_token`); throws DRF's error. */
  rawToken(header: string | null | undefined): string {
    const n = this.#raw.rawToken(header == null ? -1 : this.#core.write(header));
    return this.#core.text(n, this.wwwAuthenticate);
  }

  /** The user id of a verified token's claims (JSON); throws when they name none. */
  userId(claims: string): string {
    return this.#core.text(this.#raw.userId(this.#core.write(claims)), this.wwwAuthenticate);
  }

  /** The KV keys whose presence revokes a verified token (its `jti`, its session). */
  revocationKeys(claims: string): string[] {
    return JSON.parse(this.#core.text(this.#raw.revocationKeys(this.#core.write(claims)))) as string[];
  }

  /** The error for a token revoked at the issuer. */
  revoked(): EdgeJwtError {
    const f = this.#revoked;
    return new EdgeJwtError(f.code, f.detail, f.status, f.body, this.wwwAuthenticate);
  }
}
