import pino from 'pino';

/**
 * Structured logger port (pino's shape). Errors are logged as objects under `err` with their
 * cause, never interpolated into strings.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/**
 * Keys whose values may be secrets: redacted wherever they appear in the first three levels of a
 * logged object (`token`, `headers.authorization`, `req.headers.cookie`, `[0].secret`, ...), in
 * any letter case. Nothing of ours logs them on purpose; this is the net under a mistake.
 */
export const redactedLogKeys: readonly string[] = [
  'secret', 'token', 'accessToken', 'consumerSecret', 'consumerKey', 'password', 'authorization',
  'cookie', 'apiSecretKey', 'x-shopify-access-token', 'webhookSecret', 'x-wc-webhook-signature', 'x-shopify-hmac-sha256',
];

const redactedKeySet = new Set(redactedLogKeys.map((k) => k.toLowerCase()));
const censor = '[redacted]';
const redactDepth = 3;

function isRedactable(value: unknown): value is Record<string, unknown> {
  // errors keep their identity for the err serializer (their message and stack are not enumerable)
  return typeof value === 'object' && value !== null && !(value instanceof Error) && !ArrayBuffer.isView(value) && !(value instanceof Date);
}

/**
 * `value` with every secret-named key censored, copied only along the paths that hold one: the
 * common log line, which holds none, is returned as it came. (pino's own path redaction walks
 * wildcard paths through a copy of every line, about a twentieth of a webhook's CPU.)
 */
export function redactSecrets<T>(value: T, depth = redactDepth): T {
  if (depth === 0 || !isRedactable(value)) return value;
  let copy: Record<string, unknown> | unknown[] | undefined;
  const source = value as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    const inner = source[key];
    const next = redactedKeySet.has(key.toLowerCase()) && inner !== undefined ? censor : redactSecrets(inner, depth - 1);
    if (next === inner) continue;
    copy ??= Array.isArray(value) ? [...(value as unknown[])] : { ...source };
    (copy as Record<string, unknown>)[key] = next;
  }
  return (copy ?? value) as T;
}

export function createLogger(options: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  const base = pino(
    {
      level: options.level ?? 'info',
      ...(options.name === undefined ? {} : { name: options.name }),
      formatters: { log: (entry) => redactSecrets(entry) },
      serializers: { err: pino.stdSerializers.errWithCause },
    },
    options.destination,
  );
  return withRedactedBindings(base);
}

/** pino's log formatter sees only each line's own object: a child's bindings are censored here. */
function withRedactedBindings(logger: pino.Logger): Logger {
  return {
    debug: logger.debug.bind(logger),
    info: logger.info.bind(logger),
    warn: logger.warn.bind(logger),
    error: logger.error.bind(logger),
    child: (bindings) => withRedactedBindings(logger.child(redactSecrets(bindings))),
  };
}

/** A logger that keeps entries in memory, for tests that assert on what was logged. */
export function createMemoryLogger(): Logger & { entries: Array<{ level: string; obj: object; msg: string | undefined }> } {
  const entries: Array<{ level: string; obj: object; msg: string | undefined }> = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const log = (level: string) => (obj: object, msg?: string) => {
      entries.push({ level, obj: { ...bindings, ...obj }, msg });
    };
    return {
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return Object.assign(make({}), { entries });
}
