/**
 * What the token service needs from the JWT seam (src/crypto owns jose). Kept as a port so grants are
 * unit-tested without keys on disk; crypto-adapter.ts binds it to src/crypto/jwt.ts and the signing
 * key ring.
 */
export type JwtClaims = Record<string, unknown>;

export interface DecodedJwt {
  readonly header: Record<string, unknown>;
  readonly claims: JwtClaims;
}

export interface PublicJwk {
  readonly kty: string;
  readonly kid?: string;
  readonly [member: string]: unknown;
}

export type VerifyOutcome = { ok: true; jwt: DecodedJwt } | { ok: false; reason: string };

export interface TokenSigner {
  /** Signs with the active key (RS256). v1 tokens also carry `x5t` in the header (entra-protocol.md §3.1). */
  sign(claims: JwtClaims, options: { readonly x5t: boolean }): Promise<string>;
  /** Every published key (next, active, retired): what /discovery/keys serves, with kid/x5t/x5c. */
  publishedKeys(): Promise<readonly PublicJwk[]>;
  /** Verifies the signature of a token this Behalf issued; claims are NOT time-checked here. */
  verifyOwn(token: string): Promise<VerifyOutcome>;
}

export interface JwtTools {
  /** Header and claims without verifying; undefined when it is not a compact JWS. */
  decode(token: string): DecodedJwt | undefined;
  /** Verifies against one public key (a certificate's, in PEM or DER base64), only the given algs. */
  verifyWithCertificate(
    token: string,
    certificateDerBase64: string,
    algorithms: readonly string[],
  ): Promise<VerifyOutcome>;
  /** Verifies against a JWK set (an external issuer's keys), only the given algs. */
  verifyWithJwks(
    token: string,
    jwks: { keys: readonly PublicJwk[] },
    algorithms: readonly string[],
  ): Promise<VerifyOutcome>;
}
