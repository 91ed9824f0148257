import { z } from 'zod';

/**
 * The one configuration schema. Every key has a default and a one-line reason; command-line flags and
 * BEHALF_* environment variables are derived from the key name, and docs/configuration.md is generated
 * from this table (scripts/gen-config-docs.ts), so the reference cannot drift from the code.
 */
interface Setting<S extends z.ZodType> {
  readonly schema: S;
  readonly default: z.input<S> | undefined;
  readonly doc: string;
  /** Shown instead of the default in docs when the default depends on the machine. */
  readonly defaultDoc?: string;
  readonly secret?: boolean;
}

function setting<S extends z.ZodType>(
  schema: S,
  defaultValue: z.input<S> | undefined,
  doc: string,
  extra: Partial<Pick<Setting<S>, 'defaultDoc' | 'secret'>> = {},
): Setting<S> {
  return { schema, default: defaultValue, doc, ...extra };
}

const port = z.coerce.number().int().min(0).max(65535);
const seconds = z.coerce.number().int().positive();
const bool = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1'),
]);

export const SETTINGS = {
  dataDir: setting(
    z.string().min(1),
    './.behalf',
    'Holds the embedded SQLite store, signing keys, the vault master key and the local CA.',
  ),
  databaseUrl: setting(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional(),
    undefined,
    'A postgres:// URL switches from the embedded SQLite store to PostgreSQL, so several nodes can share state.',
    { secret: true },
  ),
  host: setting(
    z.string().min(1),
    'localhost',
    'The host name in every URL Behalf publishes (issuer, redirect URLs); must match what clients use.',
  ),
  port: setting(port, 7443, 'HTTPS port of the identity provider, management API, gateway and console.'),
  bindAddress: setting(
    z.string().min(1),
    '127.0.0.1',
    'Listen on loopback only by default; set 0.0.0.0 deliberately to expose Behalf.',
  ),
  publicUrl: setting(
    z.string().url().optional(),
    undefined,
    'Base URL when Behalf sits behind a proxy; defaults to https://{host}:{port}.',
  ),
  tlsCert: setting(
    z.string().optional(),
    undefined,
    'Path to a PEM certificate chain file to serve instead of the certificate issued by the local CA.',
  ),
  tlsKey: setting(
    z.string().optional(),
    undefined,
    'Path to the PEM private key file that goes with tlsCert.',
  ),
  masterKey: setting(
    z.string().optional(),
    undefined,
    'Base64 256-bit vault master key; without it the embedded default generates one in the data directory and says so.',
    { secret: true },
  ),
  logLevel: setting(
    z.enum(['debug', 'info', 'warn', 'error']),
    'info',
    'Structured JSON logs on stderr; tokens and secrets are always redacted.',
  ),
  accessTokenLifetime: setting(
    seconds,
    3900,
    'Seconds an access token lives; Entra issues 60–90 minutes, this picks the middle.',
  ),
  idTokenLifetime: setting(seconds, 3600, 'Seconds an ID token lives (Entra: one hour).'),
  refreshTokenLifetime: setting(
    seconds,
    90 * 24 * 3600,
    'Seconds a refresh token lives without use (Entra: 90 days).',
  ),
  authorizationCodeLifetime: setting(
    seconds,
    600,
    'Seconds an authorization code may wait before redemption (Entra: about 10 minutes).',
  ),
  refreshTokenReuseGrace: setting(
    z.coerce.number().int().min(0),
    60,
    'Seconds a rotated refresh token is still accepted (clients racing on one token, or a gateway node that died before storing the new one: longer than its 45 s refresh takeover); after it, reuse revokes the family.',
  ),
  federatedIssuerAllowlist: setting(
    z.union([
      z.array(z.string().url()),
      z.string().transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
    ]),
    [],
    'Comma-separated https origins of federated-credential issuers allowed on loopback/private addresses (test issuers); all others must be public.',
  ),
  clientMetadataAllowlist: setting(
    z
      .union([
        z.array(z.string()),
        z.string().transform((v) =>
          v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        ),
      ])
      .refine(
        (list) => list.every((o) => URL.canParse(o) && new URL(o).protocol === 'https:'),
        'must be https origins, such as https://127.0.0.1:8443',
      ),
    [],
    'Comma-separated https origins allowed to serve MCP client ID metadata documents from loopback/private addresses (local or test clients); all others must be public.',
  ),
  llmBaseUrl: setting(
    z.string().url().optional(),
    undefined,
    'OpenAI-compatible chat-completions base URL for the chat agent (OpenAI, Azure OpenAI deployment, Ollama, vLLM, llama.cpp); unset = direct mode only.',
  ),
  llmApiKey: setting(
    z.string().optional(),
    undefined,
    'API key sent to llmBaseUrl (bearer, or api-key with llmAzureApiVersion).',
    {
      secret: true,
    },
  ),
  llmModel: setting(
    z.string().min(1).optional(),
    undefined,
    'Model (or Azure deployment) name the chat agent asks for.',
  ),
  llmAzureApiVersion: setting(
    z.string().optional(),
    undefined,
    'Set for Azure OpenAI: sent as ?api-version= with an api-key header instead of a bearer token.',
  ),
  llmTimeout: setting(
    seconds,
    60,
    'Seconds to wait for the model before the chat says it is unavailable and keeps the conversation.',
  ),
  demo: setting(
    bool,
    false,
    'Create the Contoso demo tenant, users and apps on start (what npm start does).',
  ),
} as const;

export type SettingKey = keyof typeof SETTINGS;
export type Config = { [K in SettingKey]: z.output<(typeof SETTINGS)[K]['schema']> };

export const configSchema = z
  .object(
    Object.fromEntries(
      Object.entries(SETTINGS).map(([key, s]) => [
        key,
        s.default === undefined ? s.schema : (s.schema as z.ZodType).default(s.default as never),
      ]),
    ) as {
      [K in SettingKey]: (typeof SETTINGS)[K]['schema'];
    },
  )
  .strict();

/** `dataDir` → `--data-dir` */
export function flagName(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** `dataDir` → `BEHALF_DATA_DIR` */
export function envName(key: string): string {
  return 'BEHALF_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super('invalid configuration:\n' + problems.map((p) => '  ' + p).join('\n'));
    this.problems = problems;
    this.name = 'ConfigError';
  }
}

/**
 * Builds the configuration from (lowest to highest precedence) defaults, BEHALF_* variables and
 * explicit values (already-parsed flags). Unknown keys and bad values fail fast with one line each.
 */
export function loadConfig(
  explicit: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(SETTINGS)) {
    const fromEnv = env[envName(key)];
    if (fromEnv !== undefined && fromEnv !== '') raw[key] = fromEnv;
  }
  for (const [key, value] of Object.entries(explicit)) if (value !== undefined) raw[key] = value;
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = String(issue.path[0] ?? '');
        return key in SETTINGS ? `${flagName(key)} / ${envName(key)}: ${issue.message}` : issue.message;
      }),
    );
  }
  return parsed.data as Config;
}
