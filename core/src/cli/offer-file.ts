import { readFile } from 'node:fs/promises';
import { parseOffer, type Offer } from '../offers/offer-schema.ts';
import { err, ok, type Result } from '../shared/result.ts';

/**
 * Offer JSON from a file, as the CLI accepts it: one offer object, an array of them, or
 * `{ "offers": [...] }` (what `offers export` writes). Every problem is reported at once, each
 * naming the file, the JSON path and the problem, e.g.
 *   offers.json: [2].postbacks.sale.url: must start with https://
 */

function location(path: string, index: number | undefined, field: string): string {
  const prefix = index === undefined ? '' : `[${index}]`;
  const inner = field === '(offer)' ? '' : field;
  const joined = prefix === '' ? inner || '(offer)' : inner === '' ? prefix : `${prefix}.${inner}`;
  return `${path}: ${joined}`;
}

export function parseOfferJson(text: string, path: string, options: { readonly single?: boolean } = {}): Result<Offer[], string[]> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    return err([`${path}: not valid JSON: ${cause instanceof Error ? cause.message : String(cause)}`]);
  }
  const wrapped = typeof data === 'object' && data !== null && !Array.isArray(data) && 'offers' in data ? data.offers : undefined;
  const list: unknown = wrapped ?? data;
  if (options.single === true && Array.isArray(list)) {
    if (list.length !== 1) return err([`${path}: expected one offer, found a list of ${list.length} (use "offers import" for several)`]);
  }
  const items: unknown[] = Array.isArray(list) ? list : [list];
  const indexed = Array.isArray(list);
  if (items.length === 0) return err([`${path}: the file holds no offers`]);

  const problems: string[] = [];
  const offers: Offer[] = [];
  const firstIndexOfId = new Map<string, number>();
  items.forEach((item, index) => {
    const at = indexed ? index : undefined;
    const parsed = parseOffer(item);
    if (!parsed.ok) {
      for (const issue of parsed.reason) problems.push(`${location(path, at, issue.path)}: ${issue.message}`);
      return;
    }
    const seen = firstIndexOfId.get(parsed.value.id);
    if (seen !== undefined) problems.push(`${location(path, at, 'id')}: duplicate offer id "${parsed.value.id}" (also at [${seen}])`);
    else firstIndexOfId.set(parsed.value.id, index);
    offers.push(parsed.value);
  });
  return problems.length > 0 ? err(problems) : ok(offers);
}

export async function readOfferFile(path: string, options: { readonly single?: boolean } = {}): Promise<Result<Offer[], string[]>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const code = typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : 'error';
    return err([`${path}: cannot read the file (${code})`]);
  }
  return parseOfferJson(text, path, options);
}
