/**
 * Reads a postback template into its URL structure (scheme, host, path, query parameters, fragment)
 * with the macros found in each part. Nothing here decides what is allowed: the checker does, so that
 * it can report every problem at once.
 */

/** A run of the template's own text, a macro, or a merchant placeholder such as `<domain>`. */
export type TemplatePiece =
  | { readonly kind: 'text'; readonly text: string }
  /** `name` is lowercased (macros are case-insensitive); `raw` is how the template wrote it. */
  | { readonly kind: 'macro'; readonly name: string; readonly raw: string }
  | { readonly kind: 'fill'; readonly raw: string };

export interface TemplateParam {
  readonly key: readonly TemplatePiece[];
  /** Undefined when the parameter has no `=` at all. */
  readonly value: readonly TemplatePiece[] | undefined;
}

export interface TemplateSyntax {
  /** The scheme as written ("https"), undefined when the template does not start with `scheme://`. */
  readonly scheme: string | undefined;
  /** `scheme://` exactly as written, or "" when there is none. */
  readonly head: string;
  readonly authority: readonly TemplatePiece[];
  readonly path: readonly TemplatePiece[];
  /** Undefined when the template has no `?`; otherwise at least one (possibly empty) parameter. */
  readonly query: readonly TemplateParam[] | undefined;
  /** Undefined when the template has no `#` fragment. */
  readonly fragment: readonly TemplatePiece[] | undefined;
  readonly problems: readonly string[];
}

type State = 'authority' | 'path' | 'key' | 'value' | 'fragment';

// Names in brace syntaxes may carry "." and "-" because captured click parameters (extra macros)
// may; the other syntaxes are only ever written with word characters.
const braceName = '([A-Za-z_][A-Za-z0-9_.-]{0,63})';
const wordName = '([A-Za-z_][A-Za-z0-9_]{0,63})';
const dollarMacro = new RegExp(String.raw`\$\{ *${braceName} *\}`, 'y');
const doubleBraceMacro = new RegExp(String.raw`\{\{ *${braceName} *\}\}`, 'y');
const braceMacro = new RegExp(String.raw`\{ *${braceName} *\}`, 'y');
const hashMacro = new RegExp(`#${wordName}#`, 'y');
const bracketMacro = new RegExp(String.raw`\[${wordName}\]`, 'y');
const percentMacro = new RegExp(`%${wordName}%`, 'y');
const fillPlaceholder = /<[^<>\s]{1,64}>/y;
const schemePrefix = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
const hexPair = /^[0-9A-Fa-f]{2}/;

interface Token {
  readonly piece: TemplatePiece;
  readonly end: number;
}

function matchAt(pattern: RegExp, text: string, at: number): RegExpExecArray | null {
  pattern.lastIndex = at;
  return pattern.exec(text);
}

function macroToken(match: RegExpExecArray, at: number): Token {
  const name = (match[1] ?? '').toLowerCase();
  return { piece: { kind: 'macro', name, raw: match[0] }, end: at + match[0].length };
}

function tokenAt(text: string, at: number, state: State, isKnown: (name: string) => boolean): Token | undefined {
  const c = text[at];
  let m: RegExpExecArray | null = null;
  switch (c) {
    case '$':
      m = matchAt(dollarMacro, text, at);
      return m ? macroToken(m, at) : undefined;
    case '{':
      m = matchAt(doubleBraceMacro, text, at) ?? matchAt(braceMacro, text, at);
      return m ? macroToken(m, at) : undefined;
    case '#':
      m = matchAt(hashMacro, text, at);
      return m ? macroToken(m, at) : undefined;
    case '[':
      // in a parameter name, brackets are PHP-style arrays (sub[1]=…), not macros
      if (state === 'key') return undefined;
      m = matchAt(bracketMacro, text, at);
      return m ? macroToken(m, at) : undefined;
    case '%': {
      m = matchAt(percentMacro, text, at);
      if (!m) return undefined;
      // "%C3%A9t%" must stay the percent-encoded text it is: a token that starts like an escape is
      // a macro only when it names one
      const name = m[1] ?? '';
      if (hexPair.test(name) && !isKnown(name.toLowerCase())) return undefined;
      return macroToken(m, at);
    }
    case '<':
      m = matchAt(fillPlaceholder, text, at);
      return m ? { piece: { kind: 'fill', raw: m[0] }, end: at + m[0].length } : undefined;
    default:
      return undefined;
  }
}

/**
 * Splits a template into its URL parts. `isKnown` tells the scanner which macro names exist, which
 * only matters to keep percent-escapes apart from `%NAME%` macros.
 */
export function scanTemplate(template: string, isKnown: (name: string) => boolean): TemplateSyntax {
  const problems: string[] = [];
  const schemeMatch = schemePrefix.exec(template);
  const head = schemeMatch ? schemeMatch[0] : '';
  const authority: TemplatePiece[] = [];
  const path: TemplatePiece[] = [];
  let query: { key: TemplatePiece[]; value: TemplatePiece[] | undefined }[] | undefined;
  let fragment: TemplatePiece[] | undefined;

  let state: State = schemeMatch ? 'authority' : 'path';
  let current: TemplatePiece[] = schemeMatch ? authority : path;
  let buffer = '';
  const flush = (): void => {
    if (buffer !== '') current.push({ kind: 'text', text: buffer });
    buffer = '';
  };
  const startParam = (): TemplatePiece[] => {
    const param = { key: [] as TemplatePiece[], value: undefined as TemplatePiece[] | undefined };
    (query ??= []).push(param);
    return param.key;
  };

  let i = head.length;
  while (i < template.length) {
    const token = tokenAt(template, i, state, isKnown);
    if (token) {
      flush();
      current.push(token.piece);
      i = token.end;
      continue;
    }
    const c = template[i] ?? '';
    if (c === '#' && state !== 'fragment') {
      flush();
      fragment = [];
      current = fragment;
      state = 'fragment';
      i += 1;
      continue;
    }
    if (c === '?' && (state === 'authority' || state === 'path')) {
      flush();
      current = startParam();
      state = 'key';
      i += 1;
      continue;
    }
    if (c === '/' && state === 'authority') {
      flush();
      current = path;
      state = 'path';
    } else if (c === '&' && (state === 'key' || state === 'value')) {
      flush();
      current = startParam();
      state = 'key';
      i += 1;
      continue;
    } else if (c === '=' && state === 'key') {
      flush();
      const param = query?.at(-1);
      if (param) {
        param.value = [];
        current = param.value;
      }
      state = 'value';
      i += 1;
      continue;
    } else if (c === '{' || c === '}') {
      problems.push(`invalid macro syntax at character ${i + 1}: "${template.slice(i, i + 24)}" (write {name}, with letters, digits and _)`);
    }
    buffer += c;
    i += 1;
  }
  flush();

  return { scheme: schemeMatch?.[1], head, authority, path, query, fragment, problems };
}
