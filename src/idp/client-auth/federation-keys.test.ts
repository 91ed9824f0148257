import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemClock } from '../../core/clock.ts';
import { createFederationKeySource, FederationFetchError, isBlockedAddress } from './federation-keys.ts';

describe('federated issuer key fetching is SSRF-safe', () => {
  it('classifies loopback, private, link-local and mapped addresses as blocked', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '0.0.0.0',
    ]) {
      assert.equal(isBlockedAddress(address), true, address);
    }
    for (const address of ['20.190.128.1', '8.8.8.8', '2606:4700::1111'])
      assert.equal(isBlockedAddress(address), false, address);
  });

  it('refuses http issuers and private literal addresses that are not allowlisted', async () => {
    const source = createFederationKeySource({ clock: systemClock, allowedPrivateOrigins: [] });
    await assert.rejects(source.keysFor('http://issuer.example'), FederationFetchError);
    await assert.rejects(source.keysFor('https://169.254.169.254'), /not a public address/);
    await assert.rejects(source.keysFor('https://127.0.0.1:9'), /not a public address/);
  });

  it('refuses host names that resolve to loopback (checked at connect time)', async () => {
    const source = createFederationKeySource({ clock: systemClock, allowedPrivateOrigins: [] });
    await assert.rejects(source.keysFor('https://localhost:9'), /non-public address|could not be fetched/);
  });
});
