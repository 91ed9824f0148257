import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { Agent, request } from 'undici';
import { captureLogger } from '../../src/core/logger.ts';
import { loadConfig } from '../../src/core/config.ts';
import { startBehalf } from '../../src/main.ts';

it('serves HTTPS from first start with a local CA that clients can trust, and keeps it on restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'behalf-https-'));
  const config = loadConfig({ dataDir, port: 0 }, {});
  try {
    const logger = captureLogger();
    const first = await startBehalf({ config, logger });
    const caPath = first.caCertificatePath;
    assert.ok(caPath);
    assert.ok(logger.lines.some((line) => line.includes(`NODE_EXTRA_CA_CERTS=${caPath}`)));
    assert.ok(!logger.lines.some((line) => line.includes('PRIVATE KEY')));
    assert.match(first.url, /^https:\/\/localhost:\d+$/);
    const ca = readFileSync(caPath, 'utf8');
    const trusting = new Agent({ connect: { ca } });
    const response = await request(first.url + '/no-such-route', { dispatcher: trusting });
    assert.equal(response.statusCode, 404);
    await response.body.json();
    const untrusting = new Agent({ connect: { ca: [] } });
    await assert.rejects(request(first.url, { dispatcher: untrusting }));
    await Promise.all([trusting.close(), untrusting.close()]);
    await first.close();

    const second = await startBehalf({ config, logger: captureLogger() });
    assert.equal(second.caCertificatePath, caPath);
    assert.equal(readFileSync(caPath, 'utf8'), ca);
    const again = new Agent({ connect: { ca } });
    const secondResponse = await request(second.url + '/', { dispatcher: again });
    assert.equal(secondResponse.statusCode, 404);
    await secondResponse.body.dump();
    await again.close();
    await second.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
