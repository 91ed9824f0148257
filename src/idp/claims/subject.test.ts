import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { pairwiseSubject, pairwiseSubjects } from './subject.ts';

describe('pairwise subject', () => {
  it('remembers answers without changing them: per key, tenant, recipient app and user', () => {
    const key = randomBytes(32);
    const remembered = pairwiseSubjects(key, 2);
    const cases: [string, string, string][] = [
      ['t1', 'app-a', 'u1'],
      ['t1', 'app-b', 'u1'],
      ['t1', 'app-a', 'u2'],
      ['t2', 'app-a', 'u1'],
      ['t1', 'APP-A', 'u1'],
    ];
    for (let round = 0; round < 2; round++) {
      for (const [tenant, app, user] of cases)
        assert.equal(remembered(tenant, app, user), pairwiseSubject(key, tenant, app, user));
    }
    assert.equal(new Set(cases.slice(0, 4).map((c) => remembered(...c))).size, 4, 'no two apps share a sub');
    assert.equal(
      remembered('t1', 'APP-A', 'u1'),
      remembered('t1', 'app-a', 'u1'),
      'appId case does not matter',
    );
    assert.notEqual(pairwiseSubjects(randomBytes(32))('t1', 'app-a', 'u1'), remembered('t1', 'app-a', 'u1'));
  });
});
