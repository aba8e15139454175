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

/** Paths that may carry secrets anywhere in a logged object. */
export const redactedLogPaths: readonly string[] = [
  'secret', '*.secret', 'token', '*.token', 'accessToken', '*.accessToken', 'consumerSecret',
  '*.consumerSecret', 'consumerKey', '*.consumerKey', 'password', '*.password', 'authorization',
  '*.authorization', 'headers.authorization', 'headers.cookie', 'req.headers.authorization',
  'req.headers.cookie', 'req.headers["x-shopify-access-token"]', 'apiSecretKey', '*.apiSecretKey',
];

export function createLogger(options: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  const base = pino(
    {
      level: options.level ?? 'info',
      ...(options.name === undefined ? {} : { name: options.name }),
      redact: { paths: [...redactedLogPaths], censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.errWithCause },
    },
    options.destination,
  );
  return base as unknown as Logger;
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
