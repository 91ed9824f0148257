import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  clientPrincipal,
  clientPrincipalJson,
  identityHeaders,
  parseClientPrincipal,
} from './client-principal.ts';
import { principalFromClaims } from './principal.ts';

// Claim sets that exercise every branch: mapped and unmapped names, repeated claims, numbers, booleans,
// nulls, nested objects (skipped), characters JSON must escape, an email claim (the name type itself),
// empty arrays, and a principal with no sign-in name.
const CLAIM_SETS: Record<string, unknown>[] = [
  {
    aud: 'api://mail',
    iss: 'https://login.contoso.test/t/v2.0',
    iat: 1_772_366_400,
    oid: '00000000-0000-0000-0000-0000000000a1',
    tid: '00000000-0000-0000-0000-0000000000f1',
    sub: 'pairwise-sub',
    scp: 'Mail.Read Mail.Send',
    roles: ['Reader', 'Writer'],
    preferred_username: 'alice@contoso.test',
    name: 'Alice "Quoted" \\ Anders\u2028é',
    ver: '2.0',
    amr: ['pwd', 'mfa'],
    cnf: { jkt: 'x' },
    nothing: null,
    flag: true,
  },
  { oid: 'o', sub: 'o', tid: 't', idtyp: 'app', roles: [], appid: 'a', ver: '1.0', upn: 'svc@contoso.test' },
  { oid: 'o', sub: 's', email: 'bob@contoso.test', preferred_username: 'bob@contoso.test', ver: '2.0' },
  { oid: 'o', sub: 's', email: null, upn: 'carol@contoso.test', groups: [1, 2, { x: 1 }] },
  {},
];

describe('client principal header', () => {
  it('writes exactly JSON.stringify(clientPrincipal(…)) for every claim shape', () => {
    for (const claims of CLAIM_SETS) {
      const principal = principalFromClaims(claims);
      assert.equal(clientPrincipalJson(principal), JSON.stringify(clientPrincipal(principal)));
    }
  });

  it('round-trips through the header the app reads', () => {
    const principal = principalFromClaims(CLAIM_SETS[0]!);
    const headers = identityHeaders(principal, 'the-token');
    assert.deepEqual(parseClientPrincipal(headers['x-ms-client-principal']!), clientPrincipal(principal));
    assert.equal(headers['x-ms-token-aad-access-token'], 'the-token');
    assert.equal(identityHeaders(principal)['x-ms-token-aad-access-token'], undefined);
  });
});
