/**
 * Core's error hierarchy. Thrown only for bugs, broken configuration or failed infrastructure;
 * untrusted input is answered with a Result instead.
 */
export class ClickthreadError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Configuration that cannot work; lists every problem at once. */
export class ConfigError extends ClickthreadError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[], options?: { cause?: unknown }) {
    super('config_invalid', `Invalid configuration:\n- ${issues.join('\n- ')}`, options);
    this.issues = issues;
  }
}

/** The store failed (connection lost, migration failed); never thrown for "not found". */
export class StorageError extends ClickthreadError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('storage_failed', message, options);
  }
}

/** A value broke an invariant the code relies on: a bug, not bad input. */
export class InvariantError extends ClickthreadError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('invariant_broken', message, options);
  }
}

/** Work that kept meeting concurrent changes of the same thing; the caller may try again later. */
export class ConflictError extends ClickthreadError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('conflict', message, options);
  }
}
