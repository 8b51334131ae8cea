// edgejwt/hono for the workerd entry (package.json "exports" picks the runtime's file).
import { createVerifier } from "../workerd.js";
import { middlewareWith } from "../hono.js";

export type { EdgeJwtEnv, EdgeJwtOptions, EdgeJwtVariables } from "../hono.js";
export type { Authenticated, Claims, VerifierOptions } from "../verifier.js";
export { EdgeJwtError } from "../verifier.js";

/** Hono middleware (simplejwt's JWTAuthentication): `app.use("/api/*", edgejwt({ settings }))`, then `c.get("edgejwt")`. */
export const edgejwt = middlewareWith(createVerifier);
