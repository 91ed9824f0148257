import { X509Certificate as NodeCertificate, createPrivateKey } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as x509 from './x509.ts';
import type { Clock } from '../core/clock.ts';
import { ConfigError, envName, flagName } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import {
  certificatePem,
  generateKeyPair,
  importPrivateKeyPem,
  privateKeyToPem,
  randomSerialNumber,
  signingAlgorithm,
  webCrypto,
} from './certificates.ts';

/**
 * The local certificate authority and the server certificate Behalf serves HTTPS with. MSAL and
 * @azure/identity refuse `http:` authorities (entra-protocol.md §7.1, §7.2), so HTTPS is not optional;
 * a local CA lets a client trust Behalf once (`NODE_EXTRA_CA_CERTS`, a browser's trust store) while the
 * server certificate is re-issued freely when host names change.
 *
 * ECDSA P-256 with SHA-256: accepted by Node's TLS, undici, msal-node and Chromium, and its keys are
 * generated in microseconds rather than the ~100 ms of RSA.
 */
export interface TlsMaterialOptions {
  /** `<dataDir>/tls`: created with mode 0700 when missing. */
  readonly dir: string;
  /** Host names (or IP addresses) clients use besides localhost, 127.0.0.1 and ::1. */
  readonly hostNames: readonly string[];
  readonly clock: Clock;
  readonly logger?: Logger;
}

export interface TlsBundle {
  /** PEM private key of the server certificate. */
  readonly key: string;
  /** PEM server certificate followed by the CA certificate (a full chain for clients that want it). */
  readonly cert: string;
  /** Where the CA certificate is: what `NODE_EXTRA_CA_CERTS` should point at. Undefined for operator certificates. */
  readonly caCertificatePath: string | undefined;
  readonly caCertificatePem: string | undefined;
}

const KIND = 'P-256' as const;
const DAY = 24 * 3600 * 1000;
const CA_LIFETIME = 10 * 365 * DAY;
// Under 398 days, the CA/Browser Forum cap Chromium and Apple enforce even for some private roots.
const SERVER_LIFETIME = 365 * DAY;
/** A certificate that expires within this window is replaced on start. */
const RENEW_BEFORE = 30 * DAY;
// Certificates are back-dated a little so a client whose clock runs behind still accepts them.
const BACKDATE = 3600 * 1000;

const FILES = {
  caKey: 'ca.key',
  caCert: 'ca.pem',
  serverKey: 'server.key',
  serverCert: 'server.pem',
} as const;

export async function ensureTlsMaterial(options: TlsMaterialOptions): Promise<TlsBundle> {
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  // Several processes may share a data directory (PostgreSQL deployments); without the lock two of
  // them starting at once could each create a CA and one would serve a certificate nobody trusts.
  return withDirectoryLock(join(options.dir, '.lock'), () => ensureLocked(options));
}

async function ensureLocked(options: TlsMaterialOptions): Promise<TlsBundle> {
  const { dir, clock } = options;
  const path = (name: keyof typeof FILES) => join(dir, FILES[name]);
  const now = clock.now();
  const names = subjectNames(options.hostNames);

  let ca = readPair(path('caKey'), path('caCert'));
  if (!ca || !isCurrent(ca.cert, now) || !matches(ca)) {
    const created = await createAuthority(now);
    writePrivate(path('caKey'), created.key);
    writePublic(path('caCert'), created.cert);
    ca = created;
    options.logger?.info('created a local certificate authority for HTTPS', {
      caCertificatePath: path('caCert'),
    });
  }

  let server = readPair(path('serverKey'), path('serverCert'));
  if (!server || !isCurrent(server.cert, now) || !issuedBy(server, ca) || !covers(server.cert, names)) {
    server = await issueServerCertificate(ca, names, now);
    writePrivate(path('serverKey'), server.key);
    writePublic(path('serverCert'), server.cert);
    options.logger?.info('issued the HTTPS server certificate', {
      dnsNames: names.dns,
      ipAddresses: names.ip,
    });
  }

  return {
    key: server.key,
    cert: server.cert + ca.cert,
    caCertificatePath: path('caCert'),
    caCertificatePem: ca.cert,
  };
}

/** An operator's own certificate chain and key (config `tlsCert` / `tlsKey`, both PEM file paths). */
export function readTlsFiles(files: {
  readonly certificateFile: string | undefined;
  readonly keyFile: string | undefined;
}): TlsBundle {
  if (!files.certificateFile || !files.keyFile) {
    throw new ConfigError([
      `${flagName('tlsCert')} and ${flagName('tlsKey')} (${envName('tlsCert')}, ${envName('tlsKey')}) must be set together`,
    ]);
  }
  const cert = readFileSync(files.certificateFile, 'utf8');
  const key = readFileSync(files.keyFile, 'utf8');
  // Fail at start, not at the first handshake, when the pair does not belong together.
  if (!new NodeCertificate(cert).checkPrivateKey(createPrivateKey(key))) {
    throw new ConfigError([
      `the private key in ${files.keyFile} does not match the certificate in ${files.certificateFile}`,
    ]);
  }
  return { key, cert, caCertificatePath: undefined, caCertificatePem: undefined };
}

interface Pair {
  readonly key: string;
  readonly cert: string;
}

interface SubjectNames {
  readonly dns: string[];
  readonly ip: string[];
}

function subjectNames(hostNames: readonly string[]): SubjectNames {
  const dns = new Set(['localhost']);
  const ip = new Set(['127.0.0.1', '::1']);
  for (const raw of hostNames) {
    const host = raw
      .trim()
      .replace(/^\[(.*)\]$/, '$1')
      .toLowerCase();
    if (host === '') continue;
    (isIP(host) ? ip : dns).add(host);
  }
  return { dns: [...dns], ip: [...ip] };
}

function readPair(keyPath: string, certPath: string): Pair | undefined {
  if (!existsSync(keyPath) || !existsSync(certPath)) return undefined;
  return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
}

function isCurrent(pem: string, now: number): boolean {
  try {
    const certificate = new NodeCertificate(pem);
    return Date.parse(certificate.validTo) - now > RENEW_BEFORE && Date.parse(certificate.validFrom) <= now;
  } catch {
    return false;
  }
}

function matches(pair: Pair): boolean {
  try {
    return new NodeCertificate(pair.cert).checkPrivateKey(createPrivateKey(pair.key));
  } catch {
    return false;
  }
}

function issuedBy(server: Pair, ca: Pair): boolean {
  try {
    const certificate = new NodeCertificate(server.cert);
    const authority = new NodeCertificate(ca.cert);
    return (
      certificate.checkIssued(authority) &&
      certificate.verify(authority.publicKey) &&
      certificate.checkPrivateKey(createPrivateKey(server.key))
    );
  } catch {
    return false;
  }
}

function covers(pem: string, names: SubjectNames): boolean {
  const certificate = new NodeCertificate(pem);
  // subjectOnly: a SAN must match, as browsers require; the CN is not consulted.
  return (
    names.dns.every((name) => certificate.checkHost(name, { subject: 'never' }) !== undefined) &&
    names.ip.every((address) => certificate.checkIP(address) !== undefined)
  );
}

async function createAuthority(now: number): Promise<Pair> {
  const keys = await generateKeyPair(KIND);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerialNumber(),
      name: `CN=Behalf local CA ${new Date(now).toISOString().slice(0, 10)}, O=Behalf`,
      notBefore: new Date(now - BACKDATE),
      notAfter: new Date(now + CA_LIFETIME),
      keys,
      signingAlgorithm: signingAlgorithm(KIND),
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webCrypto),
      ],
    },
    webCrypto,
  );
  return { key: await privateKeyToPem(keys.privateKey), cert: certificatePem(certificate) };
}

async function issueServerCertificate(ca: Pair, names: SubjectNames, now: number): Promise<Pair> {
  const authority = new x509.X509Certificate(ca.cert);
  const keys = await generateKeyPair(KIND);
  const certificate = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerialNumber(),
      subject: `CN=${names.dns[0] ?? 'localhost'}`,
      issuer: authority.subject,
      notBefore: new Date(now - BACKDATE),
      notAfter: new Date(now + SERVER_LIFETIME),
      publicKey: keys.publicKey,
      signingKey: await importPrivateKeyPem(ca.key, KIND),
      signingAlgorithm: signingAlgorithm(KIND),
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension(
          [
            ...names.dns.map((value) => ({ type: 'dns' as const, value })),
            ...names.ip.map((value) => ({ type: 'ip' as const, value })),
          ],
          false,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webCrypto),
        await x509.AuthorityKeyIdentifierExtension.create(authority.publicKey, false, webCrypto),
      ],
    },
    webCrypto,
  );
  return { key: await privateKeyToPem(keys.privateKey), cert: certificatePem(certificate) };
}

const LOCK_STALE_AFTER = 30_000;

async function withDirectoryLock<T>(lockPath: string, run: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      closeSync(openSync(lockPath, 'wx', 0o600));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock left by a crashed process is taken over once it is clearly older than any generation
      // (file times are wall-clock, so this compares with Date.now(), not the injected clock).
      const lock = statSync(lockPath, { throwIfNoEntry: false });
      if (lock && Date.now() - lock.mtimeMs > LOCK_STALE_AFTER) rmSync(lockPath, { force: true });
      else await new Promise((resolve) => setTimeout(resolve, Math.min(25 * 2 ** attempt, 250)));
    }
  }
  try {
    return await run();
  } finally {
    rmSync(lockPath, { force: true });
  }
}

// Written to a temporary name and renamed, so a crash never leaves half a key behind.
function writePrivate(path: string, contents: string): void {
  writeAtomically(path, contents, 0o600);
}

function writePublic(path: string, contents: string): void {
  writeAtomically(path, contents, 0o644);
}

function writeAtomically(path: string, contents: string, mode: number): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, contents, { mode });
  chmodSync(temporary, mode);
  renameSync(temporary, path);
}
