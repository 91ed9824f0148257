import type { applicationRepository } from './applications.ts';
import type { DirectoryDeps } from './deps.ts';
import { badRequest, notFound } from './errors.ts';
import type { FederatedIdentityCredential, PasswordCredential, StoredPasswordCredential } from './model.ts';
import { checkFederatedCredential } from './rules/federated-credential.ts';
import { passwordValidity } from './rules/password-lifetime.ts';

// Entra caps an application at a few dozen credentials; 50 secrets is beyond any sane rotation.
const MAX_PASSWORDS = 50;
const HINT_LENGTH = 3;

export interface NewPassword {
  displayName?: string | null;
  startDateTime?: string | null;
  endDateTime?: string | null;
}

/** `secretText` exists only in this return value: the store keeps the keyed hash. */
export type CreatedPassword = Omit<PasswordCredential, 'secretText'> & { secretText: string };

export type SecretCheck =
  | { status: 'valid'; keyId: string }
  | { status: 'expired'; keyId: string; endDateTime: string }
  | { status: 'not_yet_valid'; keyId: string; startDateTime: string }
  | { status: 'invalid' }
  | { status: 'no_application' };

export type FederatedCredentialInput = Omit<FederatedIdentityCredential, 'id' | 'description'> & {
  description?: string | null;
};

export function toPublicPassword(stored: StoredPasswordCredential): PasswordCredential {
  const { secretHash: _hash, ...rest } = stored;
  void _hash;
  return { ...rest, secretText: null };
}

export function credentialRepository(
  deps: DirectoryDeps,
  applications: ReturnType<typeof applicationRepository>,
) {
  /** 40 characters, ~240 bits, in Entra's alphabet (letters, digits, `~` and `.`). */
  function generateSecret(): string {
    return deps.random.bytes(30).toString('base64url').replace(/-/g, '~').replace(/_/g, '.');
  }

  async function addPassword(
    tenantId: string,
    applicationId: string,
    input: NewPassword,
  ): Promise<CreatedPassword> {
    const secretText = generateSecret();
    const validity = passwordValidity(deps.clock.now(), input);
    const stored: StoredPasswordCredential = {
      keyId: deps.random.uuid(),
      displayName: input.displayName ?? null,
      hint: secretText.slice(0, HINT_LENGTH),
      startDateTime: new Date(validity.start).toISOString(),
      endDateTime: new Date(validity.end).toISOString(),
      customKeyIdentifier: null,
      secretHash: deps.secretHasher.hash(secretText),
    };
    await applications.changeApplication(tenantId, applicationId, (app) => {
      if (app.passwordCredentials.length >= MAX_PASSWORDS)
        throw badRequest(`An application can have at most ${MAX_PASSWORDS} password credentials.`);
      return { ...app, passwordCredentials: [...app.passwordCredentials, stored] };
    });
    const { secretHash: _hash, ...shown } = stored;
    void _hash;
    return { ...shown, secretText };
  }

  async function removePassword(tenantId: string, applicationId: string, keyId: string): Promise<void> {
    await applications.changeApplication(tenantId, applicationId, (app) => {
      const kept = app.passwordCredentials.filter((p) => p.keyId.toLowerCase() !== keyId.toLowerCase());
      if (kept.length === app.passwordCredentials.length)
        throw badRequest(`No password credential with keyId '${keyId}' exists on this application.`);
      return { ...app, passwordCredentials: kept };
    });
  }

  /**
   * Which credential a presented secret matches. An expired match is reported as such so the token
   * endpoint can answer AADSTS7000222 instead of "invalid secret" (AADSTS7000215).
   */
  async function verifyClientSecret(appId: string, secret: string): Promise<SecretCheck> {
    const app = await applications.getApplicationByAppId(appId);
    if (!app) return { status: 'no_application' };
    const now = deps.clock.now();
    for (const credential of app.passwordCredentials) {
      if (!deps.secretHasher.verify(secret, credential.secretHash)) continue;
      if (Date.parse(credential.endDateTime) <= now)
        return { status: 'expired', keyId: credential.keyId, endDateTime: credential.endDateTime };
      if (Date.parse(credential.startDateTime) > now)
        return { status: 'not_yet_valid', keyId: credential.keyId, startDateTime: credential.startDateTime };
      return { status: 'valid', keyId: credential.keyId };
    }
    return { status: 'invalid' };
  }

  async function addFederatedCredential(
    tenantId: string,
    applicationId: string,
    input: FederatedCredentialInput,
  ): Promise<FederatedIdentityCredential> {
    const credential: FederatedIdentityCredential = {
      id: deps.random.uuid(),
      name: input.name,
      issuer: input.issuer,
      subject: input.subject,
      audiences: [...input.audiences],
      description: input.description ?? null,
    };
    await applications.changeApplication(tenantId, applicationId, (app) => {
      checkFederatedCredential(credential, app.federatedIdentityCredentials);
      return { ...app, federatedIdentityCredentials: [...app.federatedIdentityCredentials, credential] };
    });
    return credential;
  }

  function findFederated(list: FederatedIdentityCredential[], idOrName: string) {
    return list.find((c) => c.id === idOrName.toLowerCase() || c.name === idOrName);
  }

  async function getFederatedCredential(tenantId: string, applicationId: string, idOrName: string) {
    const app = await applications.requireApplication(tenantId, applicationId);
    const found = findFederated(app.federatedIdentityCredentials, idOrName);
    if (!found) throw notFound(idOrName);
    return found;
  }

  /** The name is immutable after creation (Graph returns 400 when it changes). */
  async function updateFederatedCredential(
    tenantId: string,
    applicationId: string,
    idOrName: string,
    changes: Partial<FederatedCredentialInput>,
  ): Promise<FederatedIdentityCredential> {
    let updated: FederatedIdentityCredential | undefined;
    await applications.changeApplication(tenantId, applicationId, (app) => {
      const current = findFederated(app.federatedIdentityCredentials, idOrName);
      if (!current) throw notFound(idOrName);
      if (changes.name !== undefined && changes.name !== current.name)
        throw badRequest('The name of a federated identity credential cannot be changed.');
      const next: FederatedIdentityCredential = {
        ...current,
        ...(changes.issuer !== undefined ? { issuer: changes.issuer } : {}),
        ...(changes.subject !== undefined ? { subject: changes.subject } : {}),
        ...(changes.audiences !== undefined ? { audiences: [...changes.audiences] } : {}),
        ...(changes.description !== undefined ? { description: changes.description } : {}),
      };
      const others = app.federatedIdentityCredentials.filter((c) => c.id !== current.id);
      checkFederatedCredential(next, others);
      updated = next;
      return {
        ...app,
        federatedIdentityCredentials: app.federatedIdentityCredentials.map((c) =>
          c.id === current.id ? next : c,
        ),
      };
    });
    return updated!;
  }

  async function removeFederatedCredential(
    tenantId: string,
    applicationId: string,
    idOrName: string,
  ): Promise<void> {
    await applications.changeApplication(tenantId, applicationId, (app) => {
      const current = findFederated(app.federatedIdentityCredentials, idOrName);
      if (!current) throw notFound(idOrName);
      return {
        ...app,
        federatedIdentityCredentials: app.federatedIdentityCredentials.filter((c) => c.id !== current.id),
      };
    });
  }

  return {
    addPassword,
    removePassword,
    verifyClientSecret,
    addFederatedCredential,
    getFederatedCredential,
    updateFederatedCredential,
    removeFederatedCredential,
  };
}
