/**
 * Structured JSON log lines on stdout. Redaction happens here, once, for every caller: fields
 * whose names say they hold a secret are replaced, and any Tollgate secret or bearer token that
 * slipped into a message or value is masked, so no log line carries a key.
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
// Names that end like a secret's (apiKey, accessToken, authorization), not names that merely contain
// such a word: `inputTokens` is a count and must stay readable.
const SECRET_FIELD = /(secret|password|passphrase|token|api_?key|secret_?key|master_?key|authorization|cookie)$/i;
const SECRET_TEXT = /\b(tgm?_[0-9A-Za-z]{8,})|(Bearer\s+)\S+|\b(sk-[0-9A-Za-z_-]{8,})/g;

export function redactText(text: string): string {
  return text.replace(SECRET_TEXT, (_match, tg: string | undefined, bearer: string | undefined, sk: string | undefined) => {
    if (tg) return `${tg.slice(0, tg.indexOf('_') + 1)}[redacted]`;
    if (bearer) return `${bearer}[redacted]`;
    return sk ? 'sk-[redacted]' : '[redacted]';
  });
}

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: redactText(value.message) };
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: LogFields = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_FIELD.test(key) ? '[redacted]' : redact(item, depth + 1);
  }
  return out;
}

export interface LoggerOptions {
  level?: LogLevel;
  write?: (line: string) => void;
}

export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  const threshold = LEVELS[options.level ?? ((process.env.TOLLGATE_LOG_LEVEL as LogLevel | undefined) ?? 'info')] ?? LEVELS.info;
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const make = (bound: LogFields): Logger => {
    const emit = (level: LogLevel, message: string, fields?: LogFields): void => {
      if (LEVELS[level] < threshold) return;
      const record = { time: new Date().toISOString(), level, name, msg: redactText(message), ...(redact({ ...bound, ...fields }) as LogFields) };
      write(JSON.stringify(record));
    };
    return {
      debug: (m, f) => emit('debug', m, f),
      info: (m, f) => emit('info', m, f),
      warn: (m, f) => emit('warn', m, f),
      error: (m, f) => emit('error', m, f),
      child: (fields) => make({ ...bound, ...fields }),
    };
  };
  return make({});
}

/** A logger that drops everything, for tests and embedded callers that log elsewhere. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
