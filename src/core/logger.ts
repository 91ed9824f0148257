/**
 * The logger port. Messages are structured; anything that looks like a token or a secret is redacted
 * before it is written, because a log line must never carry a credential (DEVELOPERS.md, "Security").
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const SECRET_FIELD = /(secret|password|token|assertion|authorization|cookie|key|code_verifier|^code$)/i;
// A JWT (three base64url parts) or a long high-entropy run is redacted wherever it appears in text.
const JWT_LIKE = /eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g;
// Secrets Behalf generates are base64url or Entra-style ([A-Za-z0-9~.]); a run of 40+ such characters
// is redacted. A run with slashes is redacted only if it looks like standard base64 (upper case, lower
// case and digits together), so file paths such as the CA certificate's stay readable.
const LONG_OPAQUE = /[A-Za-z0-9_~.+-]{40,}={0,2}/g;
const BASE64_WITH_SLASHES =
  /(?<![\w/.~-])(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*\d)[A-Za-z0-9+/]{40,}={0,2}/g;

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[…]';
  if (typeof value === 'string')
    return value
      .replace(JWT_LIKE, '[redacted-jwt]')
      .replace(BASE64_WITH_SLASHES, '[redacted]')
      .replace(LONG_OPAQUE, '[redacted]');
  if (value instanceof Error) {
    return {
      name: value.name,
      message: redact(value.message, depth + 1),
      stack: redact(value.stack, depth + 1),
    };
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] =
        SECRET_FIELD.test(key) && item !== undefined && typeof item !== 'boolean'
          ? '[redacted]'
          : redact(item, depth + 1);
    }
    return out;
  }
  return value;
}

export interface JsonLoggerOptions {
  level?: LogLevel;
  write?: (line: string) => void;
  now?: () => number;
}

/** JSON lines on stderr (or any sink): one object per event, secrets redacted. */
export function createJsonLogger(options: JsonLoggerOptions = {}, bound: LogFields = {}): Logger {
  const threshold = LEVELS[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const now = options.now ?? Date.now;
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (LEVELS[level] < threshold) return;
    const record = {
      time: new Date(now()).toISOString(),
      level,
      msg: redact(message),
      ...(redact({ ...bound, ...fields }) as LogFields),
    };
    write(JSON.stringify(record));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createJsonLogger(options, { ...bound, ...fields }),
  };
}

export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};

/** A logger that keeps its lines, for tests that assert nothing secret was logged. */
export function captureLogger(level: LogLevel = 'debug'): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createJsonLogger({ level, write: (line) => lines.push(line) });
  return Object.assign(logger, { lines });
}
