// Hono middleware: simplejwt's JWTAuthentication for a Hono app. The verifier (verifier.ts)
// decides; this file only adapts it to Hono: the auth result on the context, the error as
// simplejwt's response. Hono is a peer dependency: only its types are imported here.
import type { MiddlewareHandler } from "hono";
import { EdgeJwtError, type Authenticated, type Settings, type Verifier, type VerifierOptions } from "./verifier.js";

/** What the middleware puts on the context: `c.get("edgejwt")`. */
export type EdgeJwtVariables = { edgejwt: Authenticated };

/** The Hono environment the middleware provides (merge it into your app's `Env`). */
export type EdgeJwtEnv = { Variables: EdgeJwtVariables };

/** The middleware's options: simplejwt settings and the verifier's options. */
export interface EdgeJwtOptions extends VerifierOptions {
  /** simplejwt settings (`SIGNING_KEY`, `ALGORITHM`, …); none with `jwksUrl` alone. */
  settings?: Settings;
}

type CreateVerifier = (settings: Settings, options?: VerifierOptions) => Promise<Verifier>;

/** @internal The runtime entries (hono/*.ts) bind their `createVerifier`. */
export function middlewareWith(create: CreateVerifier) {
  /**
   * Authenticates every request it runs for, or answers simplejwt's 401 with its body and
   * `WWW-Authenticate`. Options may depend on the bindings (`c.env`): pass a function, called
   * once per `env` object (one verifier per isolate, not per request).
   *
   * @example
   * import { Hono } from "hono";
   * import { edgejwt, type EdgeJwtEnv } from "edgejwt/hono";
   * const app = new Hono<EdgeJwtEnv>();
   * app.use("/api/*", edgejwt({ jwksUrl: "https://auth.example.com/.well-known/jwks.json" }));
   * app.get("/api/me", (c) => c.json({ user: c.get("edgejwt").userId }));
   */
  return function edgejwt<E extends object = object>(
    options: EdgeJwtOptions | Verifier | ((env: E) => EdgeJwtOptions | Verifier),
  ): MiddlewareHandler<EdgeJwtEnv & { Bindings: E }> {
    let fixed: Promise<Verifier> | undefined;
    const perEnv = new WeakMap<object, Promise<Verifier>>();
    const make = (o: EdgeJwtOptions | Verifier): Promise<Verifier> =>
      "authenticate" in o ? Promise.resolve(o) : create(o.settings ?? {}, o);
    const verifierFor = (env: E | undefined): Promise<Verifier> => {
      if (typeof options !== "function") return (fixed ??= make(options));
      const key = (env ?? perEnv) as object;
      let v = perEnv.get(key);
      if (!v) {
        // A failed creation (a settings error) is not kept: the next request tries again.
        v = make(options(env as E)).catch((e: unknown) => {
          perEnv.delete(key);
          throw e;
        });
        perEnv.set(key, v);
      }
      return v;
    };
    if (typeof options !== "function") fixed = make(options).catch((e: unknown) => {
      fixed = undefined;
      throw e;
    });
    // Unhandled until a request awaits it.
    fixed?.catch(() => undefined);
    return async (c, next) => {
      let auth: Authenticated;
      try {
        auth = await (await verifierFor(c.env)).authenticate(c.req.raw);
      } catch (e) {
        if (e instanceof EdgeJwtError) return e.toResponse();
        throw e;
      }
      c.set("edgejwt", auth);
      await next();
    };
  };
}
