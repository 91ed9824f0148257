import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { createSelfSignedCertificate, thumbprints } from './certificates.ts';
import type { Jwk } from './jwt.ts';

/**
 * The token-signing key ring. Keys are RSA-2048 with a self-signed certificate, published the way
 * Entra publishes them (entra-protocol.md §1.5: `kid` == `x5t` == base64url SHA-1 of the certificate
 * in `x5c`; §3.1: RS256, `kid` in the header, `x5t` too for v1 tokens).
 *
 * Life cycle: `next` (published, not signing) → `active` (signs) → `retired` (published until every
 * token it signed has expired, then dropped). A key therefore always appears in the JWKS before the
 * first token it signs, so validators that cache the JWKS (Entra advises refreshing every 24 h)
 * already know it, and it stays there as long as any of its tokens can still be presented.
 */
export type SigningKeyState = 'next' | 'active' | 'retired';

/** What is persisted: the private key only ever as an envelope-encrypted string. */
export interface StoredSigningKey {
  readonly kid: string;
  readonly state: SigningKeyState;
  /** Base64 DER of the self-signed certificate (the JWKS `x5c` entry). */
  readonly certificate: string;
  /** PKCS#8 PEM private key, encrypted with the vault's envelope cipher. */
  readonly encryptedPrivateKey: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly activatedAt?: number;
  readonly retiredAt?: number;
}

/** A port so crypto need not know the store; the idp wires it to the RecordStore. */
export interface SigningKeyPersistence {
  load(): Promise<StoredSigningKey[]>;
  save(keys: readonly StoredSigningKey[]): Promise<void>;
}

/** The part of `Envelope` (envelope.ts) the ring needs. */
export interface SigningKeyCipher {
  encrypt(plaintext: string, associatedData: string): string;
  decryptText(value: string, associatedData: string): string;
}

export interface SigningKey {
  readonly kid: string;
  readonly x5t: string;
  readonly privateKey: KeyObject;
  readonly algorithm: 'RS256';
  /** Base64 DER certificate. */
  readonly certificate: string;
}

export interface PublishedJwk extends Jwk {
  readonly kty: 'RSA';
  readonly use: 'sig';
  readonly kid: string;
  readonly x5t: string;
  readonly n: string;
  readonly e: string;
  readonly x5c: readonly string[];
}

export interface SigningKeyRingOptions {
  readonly persistence: SigningKeyPersistence;
  readonly cipher: SigningKeyCipher;
  readonly clock: Clock;
  /** The longest lifetime of anything signed (access, ID tokens): how long a retired key stays published. */
  readonly tokenLifetimeSeconds: number;
  /** Extra time a retired key stays published, for validators whose clocks run behind. Default 5 minutes. */
  readonly clockSkewSeconds?: number;
  readonly subject?: string;
}

export interface SigningKeyRing {
  /** Loads the persisted keys, creates the active and next keys when missing, drops expired retired keys. */
  ensure(): Promise<void>;
  /** Re-reads the persisted keys (another node may have rotated). */
  load(): Promise<void>;
  /** The key that signs now. Throws before `ensure()`. */
  signingKey(): SigningKey;
  /** Every key a validator may meet: active, next, and retired keys whose tokens may still be alive. */
  publishedKeys(): PublishedJwk[];
  /** next → active, active → retired, and a fresh next. */
  rotate(): Promise<void>;
}

// Entra's signing certificates are valid for five years (entra-protocol.md §1.5).
const CERTIFICATE_LIFETIME = 5 * 365 * 24 * 3600 * 1000;
const STATE_ORDER: Record<SigningKeyState, number> = { active: 0, next: 1, retired: 2 };

interface LoadedKey {
  readonly stored: StoredSigningKey;
  readonly privateKey: KeyObject;
  readonly jwk: PublishedJwk;
}

export function createSigningKeyRing(options: SigningKeyRingOptions): SigningKeyRing {
  const { persistence, cipher, clock } = options;
  const skew = (options.clockSkewSeconds ?? 300) * 1000;
  const aad = (kid: string) => `behalf:signing-key:${kid}`;
  let keys: LoadedKey[] = [];

  const stillPublished = (key: StoredSigningKey, now: number) =>
    key.state !== 'retired' || now < (key.retiredAt ?? 0) + options.tokenLifetimeSeconds * 1000 + skew;

  const hydrate = (stored: StoredSigningKey): LoadedKey => {
    const certificate = new X509Certificate(Buffer.from(stored.certificate, 'base64'));
    const { n, e } = certificate.publicKey.export({ format: 'jwk' });
    const privateKey = createPrivateKey(cipher.decryptText(stored.encryptedPrivateKey, aad(stored.kid)));
    if (!certificate.checkPrivateKey(privateKey))
      throw new Error(`signing key ${stored.kid} does not match its certificate`);
    return {
      stored,
      privateKey,
      jwk: {
        kty: 'RSA',
        use: 'sig',
        kid: stored.kid,
        x5t: stored.kid,
        n: n!,
        e: e!,
        x5c: [stored.certificate],
      },
    };
  };

  const create = async (state: SigningKeyState, now: number): Promise<LoadedKey> => {
    const created = await createSelfSignedCertificate({
      subject: options.subject ?? 'CN=Behalf token signing',
      kind: 'RSA-2048',
      notBefore: new Date(now - 3600 * 1000),
      notAfter: new Date(now + CERTIFICATE_LIFETIME),
    });
    const kid = thumbprints(created.certificateDer).x5t;
    const stored: StoredSigningKey = {
      kid,
      state,
      certificate: created.certificateDer.toString('base64'),
      encryptedPrivateKey: cipher.encrypt(created.privateKeyPem, aad(kid)),
      createdAt: now,
      ...(state === 'active' ? { activatedAt: now } : {}),
    };
    return hydrate(stored);
  };

  const load = async () => {
    keys = (await persistence.load()).map(hydrate);
  };

  const shape = (stored: readonly StoredSigningKey[]) =>
    stored.map((key) => `${key.kid}:${key.state}`).join(',');

  /**
   * Nodes sharing a store may change the ring at once (first start, rotation). Key generation takes a
   * while, so before writing the ring is re-read: if another node wrote meanwhile, its ring wins
   * (`ensure` re-checks it, `rotate` adopts it as this rotation), and after writing the ring is read
   * back, so this node never signs with a key that is not the persisted one.
   */
  const change = async (
    compute: (current: LoadedKey[], now: number) => Promise<LoadedKey[] | undefined>,
    onConflict: 'retry' | 'adopt',
  ) => {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await load();
      const before = shape(keys.map((key) => key.stored));
      const next = await compute(keys, clock.now());
      if (!next) return;
      if (shape(await persistence.load()) !== before) {
        if (onConflict === 'adopt') break;
        continue;
      }
      next.sort(
        (a, b) =>
          STATE_ORDER[a.stored.state] - STATE_ORDER[b.stored.state] ||
          b.stored.createdAt - a.stored.createdAt,
      );
      await persistence.save(next.map((key) => key.stored));
      break;
    }
    await load();
  };

  return {
    load,
    async ensure() {
      await change(async (current, now) => {
        let next = current.filter((key) => stillPublished(key.stored, now));
        let changed = next.length !== current.length;
        if (!next.some((key) => key.stored.state === 'active')) {
          // With no active key but a published next one (an interrupted rotation), promote it: it is already public.
          const waiting = next.find((key) => key.stored.state === 'next');
          next = next.filter((key) => key !== waiting);
          next.push(
            waiting
              ? { ...waiting, stored: { ...waiting.stored, state: 'active', activatedAt: now } }
              : await create('active', now),
          );
          changed = true;
        }
        if (!next.some((key) => key.stored.state === 'next')) {
          next.push(await create('next', now));
          changed = true;
        }
        return changed ? next : undefined;
      }, 'retry');
    },
    signingKey() {
      const active = keys.find((key) => key.stored.state === 'active');
      if (!active) throw new Error('the signing key ring has no active key; call ensure() first');
      return {
        kid: active.stored.kid,
        x5t: active.stored.kid,
        privateKey: active.privateKey,
        algorithm: 'RS256',
        certificate: active.stored.certificate,
      };
    },
    publishedKeys() {
      const now = clock.now();
      return keys.filter((key) => stillPublished(key.stored, now)).map((key) => key.jwk);
    },
    async rotate() {
      await change(async (current, now) => {
        const rotated: LoadedKey[] = [];
        for (const key of current) {
          if (!stillPublished(key.stored, now)) continue;
          const { state } = key.stored;
          if (state === 'active')
            rotated.push({ ...key, stored: { ...key.stored, state: 'retired', retiredAt: now } });
          else if (state === 'next')
            rotated.push({ ...key, stored: { ...key.stored, state: 'active', activatedAt: now } });
          else rotated.push(key);
        }
        if (!rotated.some((key) => key.stored.state === 'active')) rotated.push(await create('active', now));
        rotated.push(await create('next', now));
        return rotated;
      }, 'adopt');
    },
  };
}

/** A persistence that keeps keys in memory: for tests and for one-process tools. */
export function memorySigningKeyPersistence(): SigningKeyPersistence & {
  saved: readonly StoredSigningKey[];
} {
  let saved: readonly StoredSigningKey[] = [];
  return {
    get saved() {
      return saved;
    },
    load: async () => structuredClone([...saved]),
    save: async (keys) => {
      saved = structuredClone([...keys]);
    },
  };
}
