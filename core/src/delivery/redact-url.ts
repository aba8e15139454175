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

/** name=value pairs of a query string; a pair without "=" has no value to hide. */
const pairPattern = /(^|&)([^=&]*)=([^&]*)/g;

function redactQuery(query: string): string {
  return query.replace(pairPattern, (pair: string, separator: string, name: string) =>
    isSecretParam(decodeName(name)) ? `${separator}${name}=${redactedValue}` : pair,
  );
}

/** Cheap pre-check: no name that could be a secret, no credentials, nothing to do. */
const mayHoldSecrets = /token|secret|pass|key|sig|secure|auth|hash|%|@/i;

export function redactUrl(url: string): string {
  if (!mayHoldSecrets.test(url)) return url;
  const hashAt = url.indexOf('#');
  const beforeHash = hashAt < 0 ? url : url.slice(0, hashAt);
  const fragment = hashAt < 0 ? '' : url.slice(hashAt);
  const queryAt = beforeHash.indexOf('?');
  let base = queryAt < 0 ? beforeHash : beforeHash.slice(0, queryAt);
  const query = queryAt < 0 ? undefined : beforeHash.slice(queryAt + 1);
  // user:password@ in the authority (the SSRF guard refuses such URLs, but the log must not show them)
  base = base.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@?#]*@/i, `$1${redactedValue}@`);
  return `${base}${query === undefined ? '' : `?${redactQuery(query)}`}${fragment === '' ? '' : `#${redactQuery(fragment.slice(1))}`}`;
}

/**
 * A secret shorter than this is not looked for in answers: replacing every "12" of a body would
 * make the log unreadable, and a value that short guards nothing.
 */
const minEchoedSecretLength = 4;

function decodeValue(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/**
 * The secret values a postback carries, as they may come back in an answer that echoes the request
 * (some trackers print the URL or the parameters they got): each secret query (and fragment)
 * value, raw and decoded, and the values of secret-named or Authorization headers.
 */
export function secretValuesOf(url: string, headers: Readonly<Record<string, string>> = {}): string[] {
  const headerNames = Object.keys(headers);
  if (!mayHoldSecrets.test(url) && headerNames.length === 0) return [];
  const found = new Set<string>();
  const add = (value: string): void => {
    if (value.length >= minEchoedSecretLength) found.add(value);
  };
  const hashAt = url.indexOf('#');
  const queryAt = url.indexOf('?');
  const parts = [
    queryAt < 0 ? '' : url.slice(queryAt + 1, hashAt < 0 || hashAt < queryAt ? undefined : hashAt),
    hashAt < 0 ? '' : url.slice(hashAt + 1),
  ];
  for (const part of parts) {
    for (const match of part.matchAll(pairPattern)) {
      const [, , name = '', value = ''] = match;
      if (!isSecretParam(decodeName(name))) continue;
      add(value);
      add(decodeValue(value));
    }
  }
  for (const [name, value] of Object.entries(headers)) {
    if (!isSecretParam(name) && name.toLowerCase() !== 'authorization') continue;
    add(value);
    // "Bearer abc…": the credential alone may be echoed too
    const credential = value.split(' ').at(-1);
    if (credential !== undefined) add(credential);
  }
  // longest first: a secret that contains another is replaced whole
  return [...found].toSorted((a, b) => b.length - a.length);
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
