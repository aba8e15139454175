/**
 * URLs in the postback log and in logs carry network tokens (TUNE security_token, Everflow
 * verification_token, Affise secure, Scaleo token…). Their values are replaced by "[redacted]";
 * everything else stays byte for byte as sent, so the log shows exactly what went out.
 */

const secretNames = new Set(['token', 'security_token', 'verification_token', 'secure', 'key', 'api_key', 'apikey', 'password', 'pass', 'passwd', 'secret', 'sig', 'signature', 'auth', 'access_token', 'hash']);
const secretSuffix = /(?:^|[_-])(?:token|secret|password|passwd|signature|api[_-]?key|apikey|key)$/i;

export const redactedValue = '[redacted]';

/** Whether a query parameter's value is a secret. */
export function isSecretParam(name: string): boolean {
  const lower = name.toLowerCase();
  return secretNames.has(lower) || secretSuffix.test(lower);
}

function decodeName(raw: string): string {
  if (!raw.includes('%') && !raw.includes('+')) return raw;
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/**
 * A minimum length for secrets looked for in answers: replacing every "12" of a body would make
 * the log unreadable, and a value that short guards nothing.
 */
const minEchoedSecretLength = 4;

function decodeValue(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

function addSecret(found: Set<string>, value: string): void {
  if (value.length >= minEchoedSecretLength) found.add(value);
}

/**
 * The query (or fragment) with each secret value replaced, the secret values (raw and decoded)
 * added to `found`. name=value pairs are split on "&"; a pair without "=" has no value to hide.
 * One pass over the string: the worker does this for every send.
 */
function redactPairs(part: string, found: Set<string>): string {
  let out = '';
  let copiedTo = 0;
  for (let start = 0; start <= part.length; ) {
    let end = part.indexOf('&', start);
    if (end < 0) end = part.length;
    const eq = part.indexOf('=', start);
    if (eq >= 0 && eq < end && isSecretParam(decodeName(part.slice(start, eq)))) {
      const value = part.slice(eq + 1, end);
      addSecret(found, value);
      if (value.includes('%') || value.includes('+')) addSecret(found, decodeValue(value));
      out += `${part.slice(copiedTo, eq + 1)}${redactedValue}`;
      copiedTo = end;
    }
    start = end + 1;
  }
  return copiedTo === 0 ? part : `${out}${part.slice(copiedTo)}`;
}

/** Cheap pre-check: no name that could be a secret, no credentials, nothing to do. */
const mayHoldSecrets = /token|secret|pass|key|sig|secure|auth|hash|%|@/i;

export interface RedactedRequest {
  /** The URL as sent, with every secret value replaced by "[redacted]". */
  readonly url: string;
  /**
   * The secret values the request carries, as they may come back in an answer that echoes it
   * (some trackers print the URL or the parameters they got): each secret query and fragment
   * value, raw and decoded, and the values of secret-named or Authorization headers. Longest
   * first, so a secret that contains another is replaced whole.
   */
  readonly secrets: readonly string[];
}

/** What the postback log may show of a request, and what to hide in its answer, in one pass. */
export function redactRequest(url: string, headers: Readonly<Record<string, string>> = {}): RedactedRequest {
  const found = new Set<string>();
  let shown = url;
  if (mayHoldSecrets.test(url)) {
    const hashAt = url.indexOf('#');
    const beforeHash = hashAt < 0 ? url : url.slice(0, hashAt);
    const queryAt = beforeHash.indexOf('?');
    // user:password@ in the authority (the SSRF guard refuses such URLs, but the log must not show them)
    const base = (queryAt < 0 ? beforeHash : beforeHash.slice(0, queryAt)).replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@?#]*@/i, `$1${redactedValue}@`);
    const query = queryAt < 0 ? '' : `?${redactPairs(beforeHash.slice(queryAt + 1), found)}`;
    const fragment = hashAt < 0 ? '' : `#${redactPairs(url.slice(hashAt + 1), found)}`;
    shown = `${base}${query}${fragment}`;
  }
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || (!isSecretParam(name) && name.toLowerCase() !== 'authorization')) continue;
    addSecret(found, value);
    // "Bearer abc…": the credential alone may be echoed too
    const credential = value.split(' ').at(-1);
    if (credential !== undefined) addSecret(found, credential);
  }
  return { url: shown, secrets: found.size === 0 ? [] : [...found].toSorted((a, b) => b.length - a.length) };
}

export function redactUrl(url: string): string {
  return redactRequest(url).url;
}

/** The secret values a postback carries (see RedactedRequest.secrets). */
export function secretValuesOf(url: string, headers: Readonly<Record<string, string>> = {}): readonly string[] {
  return redactRequest(url, headers).secrets;
}

/**
 * Replaces every occurrence of the secrets in `text` by "[redacted]", and a secret's beginning
 * left at the very end (the answer is cut at 1 KB, possibly inside an echoed secret).
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(redactedValue);
  for (const secret of secrets) {
    for (let length = Math.min(secret.length - 1, out.length); length >= minEchoedSecretLength; length -= 1) {
      if (out.endsWith(secret.slice(0, length))) {
        out = `${out.slice(0, out.length - length)}${redactedValue}`;
        break;
      }
    }
  }
  return out;
}
