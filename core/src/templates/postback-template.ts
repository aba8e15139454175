import { err, ok, type Result } from '../shared/result.ts';
import {
  namedPlaceholders,
  networkOwnedParameters,
  optionalPlaceholder,
  parameterMacros,
  replacePlaceholder,
} from './literal-placeholders.ts';
import { scanTemplate, type TemplatePiece } from './template-syntax.ts';

/** Macros every template may use, whatever the offer. */
export const standardMacros = [
  'transaction_id', 'amount', 'order_id', 'order_number', 'currency', 'event', 'timestamp',
  'coupon', 'store', 'offer_id', 'test', 'sub1', 'sub2', 'sub3', 'sub4', 'sub5',
] as const;
export type StandardMacro = (typeof standardMacros)[number];

export type MacroValues = Readonly<Record<string, string | undefined>>;

export interface TemplateCheckOptions {
  /** Captured click parameters the offer keeps (aff_sub, source, …), usable as macros. */
  readonly extraMacros?: readonly string[];
  readonly allowHttp?: boolean;
}

/** A query parameter as rendering sees it. */
export interface CompiledParam {
  readonly key: readonly TemplatePiece[];
  readonly value: readonly TemplatePiece[] | undefined;
  /** Written as OPTIONAL: the whole parameter is left out when its value renders empty. */
  readonly optional: boolean;
}

export interface CompiledParts {
  readonly head: string;
  readonly authority: readonly TemplatePiece[];
  readonly path: readonly TemplatePiece[];
  readonly query: readonly CompiledParam[] | undefined;
  readonly fragment: readonly TemplatePiece[] | undefined;
}

/** A template that passed checkTemplate; only checkTemplate makes one. */
export interface CompiledTemplate {
  readonly source: string;
  /** The macros it uses (lowercase, first use first), including resolved literal placeholders. */
  readonly macros: readonly string[];
  readonly parts: CompiledParts;
}

/**
 * The sample order the admin preview and the check render against. The transaction ID holds a "+"
 * and a space on purpose: they are the two characters that get mangled when encoding is wrong.
 */
export const sampleMacroValues: Readonly<Record<StandardMacro, string>> = {
  transaction_id: '102a+f3 9c',
  amount: '49.90',
  order_id: '1001',
  order_number: '#1001',
  currency: 'USD',
  event: 'sale',
  timestamp: '1767225600',
  coupon: 'SUMMER10',
  store: 'shop.example.com',
  offer_id: 'sample-offer',
  test: '0',
  sub1: 'sub1-value',
  sub2: 'sub2-value',
  sub3: 'sub3-value',
  sub4: 'sub4-value',
  sub5: 'sub5-value',
};

/** Longer than any network accepts; a rendering past it means runaway values, not a postback. */
export const maxRenderedUrlLength = 8192;

const loneSurrogates = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// oxlint-disable-next-line no-control-regex -- refusing control characters is the point
const spaceOrControl = /[\u0000-\u0020\u007f-\u009f]/;

/**
 * Percent-encodes one substituted value on its own (encodeURIComponent: "+" → %2B, space → %20).
 * Lone surrogates become U+FFFD first, because encodeURIComponent throws on them.
 */
export function encodeMacroValue(value: string): string {
  return encodeURIComponent(value.replace(loneSurrogates, '\ufffd'));
}

function piecesOf(parts: { authority: readonly TemplatePiece[]; path: readonly TemplatePiece[]; query: readonly { key: readonly TemplatePiece[]; value: readonly TemplatePiece[] | undefined }[] | undefined; fragment: readonly TemplatePiece[] | undefined }): TemplatePiece[] {
  const out: TemplatePiece[] = [...parts.authority, ...parts.path];
  for (const param of parts.query ?? []) out.push(...param.key, ...(param.value ?? []));
  out.push(...(parts.fragment ?? []));
  return out;
}

function knownMacroNames(options: TemplateCheckOptions): { known: ReadonlySet<string>; extras: readonly string[] } {
  const extras = (options.extraMacros ?? []).map((m) => m.toLowerCase());
  return { known: new Set<string>([...standardMacros, ...extras]), extras };
}

type Lookup = (name: string) => string | undefined;

function lookupOf(values: MacroValues): Lookup {
  const map = new Map<string, string>();
  // later keys win, as in an object spread: a caller's standard values override captured extras
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === 'string') map.set(key.toLowerCase(), value);
    else map.delete(key.toLowerCase());
  }
  return (name) => map.get(name);
}

function renderPieces(pieces: readonly TemplatePiece[], lookup: Lookup, fill: (raw: string) => string): string {
  let out = '';
  for (const piece of pieces) {
    if (piece.kind === 'text') out += piece.text;
    else if (piece.kind === 'macro') out += encodeMacroValue(lookup(piece.name) ?? '');
    else out += fill(piece.raw);
  }
  return out;
}

function renderParts(parts: CompiledParts, lookup: Lookup, fill: (raw: string) => string): string {
  let out = parts.head + renderPieces(parts.authority, lookup, fill) + renderPieces(parts.path, lookup, fill);
  if (parts.query) {
    const kept: string[] = [];
    for (const param of parts.query) {
      const value = param.value === undefined ? undefined : renderPieces(param.value, lookup, fill);
      if (param.optional && (value === undefined || value === '')) continue;
      kept.push(renderPieces(param.key, lookup, fill) + (value === undefined ? '' : `=${value}`));
    }
    // all parameters dropped: no dangling "?"
    if (kept.length > 0) out += `?${kept.join('&')}`;
  }
  if (parts.fragment) out += `#${renderPieces(parts.fragment, lookup, fill)}`;
  return out;
}

/** URL.parse without needing Node 22.1 (engines allows any 22). */
function parseUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

/** Stand-in for a `<placeholder>` while checking that the rest of the template parses. */
function fillStandIn(raw: string): string {
  return raw.slice(1, -1).replace(/[^A-Za-z0-9_-]/g, '') || 'x';
}

function sampleValuesFor(extras: readonly string[]): Record<string, string> {
  return Object.fromEntries(extras.map((name) => [name, `sample-${name}`]));
}

/** Which macro a REPLACE/OPTIONAL parameter stands in for, judged by the parameter's name. */
function macroForParameter(key: readonly TemplatePiece[], known: ReadonlySet<string>): string | undefined {
  const only = key[0];
  if (key.length !== 1 || only?.kind !== 'text') return undefined;
  const name = only.text.toLowerCase();
  if (networkOwnedParameters.has(name)) return undefined;
  if (known.has(name)) return name;
  const mapped = parameterMacros[name];
  return mapped !== undefined && known.has(mapped) ? mapped : undefined;
}

function keyText(key: readonly TemplatePiece[]): string {
  return key.map((p) => (p.kind === 'text' ? p.text : p.raw)).join('');
}

/**
 * Checks a template at save time and compiles it for rendering. Reports every problem at once:
 * scheme and host, credentials, spaces, unknown macros, unresolved REPLACE, unfilled `<…>`
 * placeholders, and whether it is a URL once macros are filled in.
 */
export function checkTemplate(template: string, options: TemplateCheckOptions = {}): Result<CompiledTemplate, readonly string[]> {
  const { known, extras } = knownMacroNames(options);
  const syntax = scanTemplate(template, (name) => known.has(name));
  const problems: string[] = [];

  let schemeOk = false;
  if (syntax.scheme === undefined) {
    const firstColon = syntax.path.findIndex((p) => p.kind === 'text' && p.text.includes(':'));
    const beforeScheme = firstColon === -1 ? syntax.path : syntax.path.slice(0, firstColon);
    const macroInScheme = beforeScheme.find((p) => p.kind === 'macro');
    if (macroInScheme?.kind === 'macro') problems.push(`macros are not allowed in the scheme or host: ${macroInScheme.raw}`);
    else problems.push('must be an absolute URL starting with https://');
  } else {
    const scheme = syntax.scheme.toLowerCase();
    if (scheme === 'https') schemeOk = true;
    else if (scheme === 'http') {
      if (options.allowHttp === true) schemeOk = true;
      else problems.push('must use https:// (plain http:// is allowed only when the offer sets allowHttp)');
    } else problems.push(`must use https:// (${scheme}: is not allowed)`);
  }

  let authorityOk = true;
  if (syntax.scheme !== undefined) {
    for (const piece of syntax.authority) {
      if (piece.kind === 'macro') {
        authorityOk = false;
        problems.push(`macros are not allowed in the scheme or host: ${piece.raw}`);
      }
    }
    if (syntax.authority.some((p) => p.kind === 'text' && p.text.includes('@'))) {
      authorityOk = false;
      problems.push('must not contain credentials (user:password@)');
    }
    if (syntax.authority.length === 0) {
      authorityOk = false;
      problems.push('must have a host');
    }
  }

  const all = piecesOf(syntax);
  const literal = syntax.head + all.map((p) => (p.kind === 'text' ? p.text : '')).join('');
  if (spaceOrControl.test(literal)) problems.push('must not contain spaces or control characters (percent-encode them, e.g. %20)');
  if (loneSurrogate.test(literal)) problems.push('is not well-formed Unicode');
  problems.push(...syntax.problems);

  const validList = [...standardMacros, ...extras.filter((e) => !(standardMacros as readonly string[]).includes(e))].join(', ');
  const reported = new Set<string>();
  const inAuthority = new Set(syntax.authority);
  for (const piece of all) {
    if (piece.kind !== 'macro' || known.has(piece.name) || inAuthority.has(piece) || reported.has(piece.name)) continue;
    reported.add(piece.name);
    problems.push(`unknown macro ${piece.raw}; valid macros: ${validList}`);
  }

  const query = syntax.query?.map((param): CompiledParam => {
    const only = param.value?.[0];
    if (param.value?.length !== 1 || only?.kind !== 'text') return { key: param.key, value: param.value, optional: false };
    const word = only.text;
    const named = namedPlaceholders[word];
    if (named !== undefined) return { key: param.key, value: [{ kind: 'macro', name: named, raw: word }], optional: false };
    if (word !== replacePlaceholder && word !== optionalPlaceholder) return { key: param.key, value: param.value, optional: false };
    const macro = macroForParameter(param.key, known);
    if (word === optionalPlaceholder) {
      return { key: param.key, value: macro === undefined ? [] : [{ kind: 'macro', name: macro, raw: word }], optional: true };
    }
    if (macro === undefined) problems.push(`parameter "${keyText(param.key)}" is still REPLACE: put the network's value or a macro there`);
    return { key: param.key, value: macro === undefined ? param.value : [{ kind: 'macro', name: macro, raw: word }], optional: false };
  });

  const fills = new Set(all.filter((p) => p.kind === 'fill').map((p) => p.raw));
  for (const raw of fills) problems.push(`fill in ${raw}`);

  const parts: CompiledParts = { head: syntax.head, authority: syntax.authority, path: syntax.path, query, fragment: syntax.fragment };
  if (schemeOk && authorityOk) {
    const sample = renderParts(parts, lookupOf({ ...sampleValuesFor(extras), ...sampleMacroValues }), fillStandIn);
    const parsed = parseUrl(sample);
    if (parsed === null) problems.push('is not a valid URL once macros are filled in');
    else if (parsed.hostname === '') problems.push('must have a host');
    else if (parsed.username !== '' || parsed.password !== '') problems.push('must not contain credentials (user:password@)');
  }

  if (problems.length > 0) return err(problems);
  const macros = [...new Set(piecesOf(parts).flatMap((p) => (p.kind === 'macro' ? [p.name] : [])))];
  return ok({ source: template, macros, parts });
}

/**
 * Fills a checked template with one postback's values: each value percent-encoded on its own, the
 * template's text untouched, missing values empty, OPTIONAL parameters without a value left out.
 */
export function renderTemplate(template: CompiledTemplate, values: MacroValues): Result<string> {
  const url = renderParts(template.parts, lookupOf(values), (raw) => raw);
  if (url.length > maxRenderedUrlLength) return err(`rendered URL is ${url.length} characters, more than ${maxRenderedUrlLength}`);
  if (parseUrl(url) === null) return err('rendered URL does not parse as a URL');
  return ok(url);
}

export interface MacroSubstitution {
  readonly macro: string;
  /** The value before encoding ("" when the sample has none). */
  readonly raw: string;
  /** What went into the URL. */
  readonly encoded: string;
}

export interface TemplatePreview {
  readonly url: string;
  readonly substitutions: readonly MacroSubstitution[];
}

/**
 * What a template sends for a sample order, for the admin UI: the URL and, per macro, the value and
 * its encoding. Extra macros without a sample value get "sample-<name>".
 */
export function previewTemplate(
  template: string,
  sampleValues: MacroValues = sampleMacroValues,
  options: TemplateCheckOptions = {},
): Result<TemplatePreview, readonly string[]> {
  const checked = checkTemplate(template, options);
  if (!checked.ok) return checked;
  const values = { ...sampleValuesFor(knownMacroNames(options).extras), ...sampleValues };
  const rendered = renderTemplate(checked.value, values);
  if (!rendered.ok) return err([rendered.reason]);
  const lookup = lookupOf(values);
  const substitutions = checked.value.macros.map((macro) => {
    const raw = lookup(macro) ?? '';
    return { macro, raw, encoded: encodeMacroValue(raw) };
  });
  return ok({ url: rendered.value, substitutions });
}
