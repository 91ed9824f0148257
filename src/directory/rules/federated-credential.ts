import type { FederatedIdentityCredential } from '../model.ts';
import { badRequest, conflict } from '../errors.ts';

// Workload identity federation limits (learn.microsoft.com/entra/workload-id/
// workload-identity-federation-considerations): at most 20 per app, exactly one audience, issuer and
// subject required, issuer+subject unique per app, name 3–120 characters of [A-Za-z0-9-_] starting
// with a letter or digit and immutable after creation.
export const MAX_FEDERATED_CREDENTIALS = 20;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$/;
const MAX_FIELD = 600;

export function checkFederatedCredential(
  candidate: Omit<FederatedIdentityCredential, 'id'>,
  others: readonly FederatedIdentityCredential[],
): void {
  if (!NAME.test(candidate.name))
    throw badRequest(
      `federatedIdentityCredential.name '${candidate.name}' must be 3-120 characters of letters, digits, '-' and '_', starting with a letter or digit.`,
    );
  if (candidate.issuer.length === 0 || candidate.issuer.length > MAX_FIELD)
    throw badRequest('federatedIdentityCredential.issuer is required (at most 600 characters).');
  try {
    if (new URL(candidate.issuer).protocol !== 'https:') throw new Error('not https');
  } catch {
    throw badRequest(`federatedIdentityCredential.issuer '${candidate.issuer}' must be an https URL.`);
  }
  if (candidate.subject.length === 0 || candidate.subject.length > MAX_FIELD)
    throw badRequest('federatedIdentityCredential.subject is required (at most 600 characters).');
  if (candidate.audiences.length !== 1)
    throw badRequest('federatedIdentityCredential.audiences must contain exactly one value.');
  const [audience] = candidate.audiences;
  if (!audience || audience.length > MAX_FIELD)
    throw badRequest('federatedIdentityCredential.audiences must contain one non-empty value.');
  if (others.some((o) => o.name === candidate.name))
    throw conflict(
      `A federated identity credential named '${candidate.name}' already exists on this application.`,
    );
  if (others.some((o) => o.issuer === candidate.issuer && o.subject === candidate.subject))
    throw conflict(
      'A federated identity credential with the same issuer and subject already exists on this application.',
    );
  if (others.length >= MAX_FEDERATED_CREDENTIALS)
    throw badRequest(
      `An application can have at most ${MAX_FEDERATED_CREDENTIALS} federated identity credentials.`,
    );
}
