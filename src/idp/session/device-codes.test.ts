import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { manualClock } from '../../core/clock.ts';
import { cryptoRandom } from '../../core/ids.ts';
import type { Random } from '../../core/ids.ts';
import { createMemoryStore } from '../../storage/adapters/memory.ts';
import { EntraError } from '../errors/entra-error.ts';
import type { GrantDeps, GrantRequest } from '../grants/grant.ts';
import { deviceCodeGrant } from '../grants/device-code.ts';
import { DEVICE_CODE_LIFETIME_SECONDS, createDeviceCodes, normalizeUserCode } from './device-codes.ts';

const input = { tenantId: 't1', clientId: 'cli', endpoint: 2 as const, scope: 'api://x/read' };

function setup(random: Random = cryptoRandom) {
  const clock = manualClock();
  const store = createMemoryStore({ clock });
  return { clock, store, codes: createDeviceCodes({ store, clock, random }) };
}

/** Only what the grant reaches before issuing: the poll answers never touch the directory. */
function poll(
  codes: ReturnType<typeof setup>['codes'],
  clock: ReturnType<typeof setup>['clock'],
  deviceCode: string,
) {
  const request = {
    endpoint: 2,
    tenant: { id: 't1' },
    form: { device_code: deviceCode },
    client: { app: { appId: 'cli' } },
  } as unknown as GrantRequest;
  return deviceCodeGrant(codes).handle(request, { clock } as unknown as GrantDeps);
}

async function entraCode(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    assert.ok(error instanceof EntraError, String(error));
    return error.code;
  }
}

describe('device codes', () => {
  it('issues a 9-character user code that is found however it is typed', async () => {
    const { codes } = setup();
    const { userCode } = await codes.start(input);
    assert.match(userCode, /^[A-Z0-9]{9}$/);
    const typed = `${userCode.slice(0, 4).toLowerCase()}-${userCode.slice(4)} `;
    assert.equal(normalizeUserCode(typed), userCode);
    assert.ok(await codes.findByUserCode(typed));
    assert.equal(await codes.findByUserCode('ABCDEFGHJ'), undefined);
  });

  it('draws another user code on a collision', async () => {
    // The first two draws are identical bytes, the third differs.
    let draw = 0;
    const random: Random = {
      uuid: cryptoRandom.uuid,
      bytes: (n) => (n === 9 ? Buffer.alloc(n, draw++ < 2 ? 1 : 2) : cryptoRandom.bytes(n)),
    };
    const { codes } = setup(random);
    const first = await codes.start(input);
    const second = await codes.start(input);
    assert.notEqual(first.userCode, second.userCode);
  });

  it('polls: pending, then declined — or expired after 15 minutes; unknown codes are bad codes', async () => {
    const { codes, clock } = setup();
    const pending = await codes.start(input);
    assert.equal(await entraCode(poll(codes, clock, pending.deviceCode)), 70016);
    assert.equal(await entraCode(poll(codes, clock, 'nope')), 70018);

    const declined = await codes.start(input);
    const found = (await codes.findByUserCode(declined.userCode))!;
    assert.equal(await codes.answer(found.id, { status: 'declined' }), true);
    assert.equal(await entraCode(poll(codes, clock, declined.deviceCode)), 65004);
    // An answered code cannot be answered again (e.g. approved after a decline).
    assert.equal(
      await codes.answer(found.id, { status: 'approved', userId: 'u', authTime: 1, sessionId: 's' }),
      false,
    );

    clock.advance(DEVICE_CODE_LIFETIME_SECONDS * 1000);
    assert.equal(await entraCode(poll(codes, clock, pending.deviceCode)), 70019);
    assert.equal(await codes.findByUserCode(pending.userCode), undefined, 'an expired code cannot be typed');
  });

  it('a device code polled by another client is a bad code', async () => {
    const { codes, clock } = setup();
    const other = await codes.start({ ...input, clientId: 'someone-else' });
    assert.equal(await entraCode(poll(codes, clock, other.deviceCode)), 70018);
  });
});
