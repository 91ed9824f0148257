import { entraError } from '../errors/entra-error.ts';
import type { JwtClaims } from '../jwt-port.ts';

/** Entra's clock-skew tolerance is undocumented; 5 minutes is what Microsoft's own libraries allow (UNCONFIRMED). */
export const CLOCK_SKEW_SECONDS = 300;

function iso(seconds: number | undefined): string {
  return seconds === undefined ? 'unknown' : new Date(seconds * 1000).toISOString();
}

/** exp and nbf within the skew, else AADSTS700024 with Entra's three instants. */
export function checkAssertionTimes(claims: JwtClaims, nowMs: number): void {
  const now = Math.floor(nowMs / 1000);
  const exp = typeof claims['exp'] === 'number' ? claims['exp'] : undefined;
  const nbf = typeof claims['nbf'] === 'number' ? claims['nbf'] : undefined;
  if (
    exp === undefined ||
    exp + CLOCK_SKEW_SECONDS < now ||
    (nbf !== undefined && nbf - CLOCK_SKEW_SECONDS > now)
  ) {
    throw entraError(700024, { now: iso(now), nbf: iso(nbf), exp: iso(exp) });
  }
}

/** Exactly one audience (AADSTS5002741), returned as a string. */
export function singleAudience(claims: JwtClaims): string {
  const aud = claims['aud'];
  if (Array.isArray(aud)) {
    if (aud.length !== 1 || typeof aud[0] !== 'string') throw entraError(5002741, { count: aud.length });
    return aud[0];
  }
  if (typeof aud !== 'string') throw entraError(700023);
  return aud;
}
