import { postbackEvents, type ApiIssue, type Offer, type PostbackEvent, type Preset } from '../api-client.ts';

/**
 * The offer editor's form and its translation to the offer JSON the API validates. Fields the form
 * does not show (headers, method, stores, answer rules) are carried over from the offer untouched,
 * so editing in the UI never drops what was set through the API or the CLI.
 */

export interface OfferForm {
  readonly id: string;
  readonly name: string;
  readonly network: string;
  readonly enabled: boolean;
  readonly urls: Readonly<Record<PostbackEvent, string>>;
  readonly captureParams: string;
  readonly extraParams: string;
  readonly windowDays: string;
  readonly model: 'last_click' | 'first_click';
  readonly basis: string;
  readonly currency: string;
  readonly testOrders: string;
  readonly allowHttp: boolean;
  /** The offer being edited (null for a new one). */
  readonly original: Offer | null;
}

const noUrls: Record<PostbackEvent, string> = { sale: '', lead: '', first_order: '', refund: '', cancel: '' };

export function emptyForm(): OfferForm {
  return {
    id: '',
    name: '',
    network: 'custom',
    enabled: true,
    urls: noUrls,
    captureParams: '',
    extraParams: '',
    windowDays: '30',
    model: 'last_click',
    basis: 'subtotal',
    currency: 'shop',
    testOrders: 'skip',
    allowHttp: false,
    original: null,
  };
}

export function formOf(offer: Offer): OfferForm {
  const urls = { ...noUrls };
  for (const event of postbackEvents) urls[event] = offer.postbacks[event]?.url ?? '';
  return {
    id: offer.id,
    name: offer.name,
    network: offer.network,
    enabled: offer.enabled,
    urls,
    captureParams: (offer.captureParams ?? []).join(', '),
    extraParams: offer.extraParams.join(', '),
    windowDays: String(offer.attribution.windowDays),
    model: offer.attribution.model,
    basis: offer.amount.basis,
    currency: offer.amount.currency,
    testOrders: offer.testOrders,
    allowHttp: offer.allowHttp,
    original: offer,
  };
}

/** A preset fills the network and its templates (placeholders such as <security_token> stay for the merchant to fill). */
export function applyPreset(form: OfferForm, preset: Preset): OfferForm {
  const urls = { ...noUrls };
  for (const event of postbackEvents) urls[event] = preset.postbacks[event] ?? '';
  return {
    ...form,
    network: preset.id,
    urls,
    name: form.name === '' ? `${preset.label} offer` : form.name,
    id: form.id === '' && form.original === null ? `${preset.id}-offer` : form.id,
  };
}

const list = (text: string): string[] =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** The offer JSON for the API; the one schema there reports whatever is wrong with it. */
export function offerJsonOf(form: OfferForm): Record<string, unknown> {
  const original = (form.original ?? {}) as Partial<Offer>;
  const postbacks: Record<string, unknown> = {};
  for (const event of postbackEvents) {
    const url = form.urls[event].trim();
    if (url !== '') postbacks[event] = { ...original.postbacks?.[event], url };
  }
  const captureParams = list(form.captureParams);
  const json: Record<string, unknown> = {
    ...original,
    id: form.id.trim(),
    name: form.name,
    network: form.network,
    enabled: form.enabled,
    postbacks,
    extraParams: list(form.extraParams),
    // a number when it is one; otherwise the text, so the schema names the field
    attribution: { windowDays: /^\d+$/.test(form.windowDays.trim()) ? Number(form.windowDays.trim()) : form.windowDays, model: form.model },
    amount: { basis: form.basis, currency: form.currency },
    testOrders: form.testOrders,
    allowHttp: form.allowHttp,
  };
  if (captureParams.length > 0) json['captureParams'] = captureParams;
  else delete json['captureParams'];
  return json;
}

/** Which form field an issue path belongs to ("postbacks.sale.url" → "url.sale"). */
export function fieldOf(path: string): string {
  const [head, second] = path.split('.');
  if (head === 'postbacks' && second !== undefined && (postbackEvents as readonly string[]).includes(second)) return `url.${second}`;
  if (head === 'postbacks') return 'url.sale';
  if (head === 'attribution') return second === 'model' ? 'model' : 'windowDays';
  if (head === 'amount') return second ?? 'basis';
  return head ?? '(offer)';
}

export function errorsByField(issues: readonly ApiIssue[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const issue of issues) {
    const field = fieldOf(issue.path);
    out.set(field, out.has(field) ? `${out.get(field)}; ${issue.message}` : issue.message);
  }
  return out;
}

export const formFields = new Set(['id', 'name', 'network', 'enabled', 'url.sale', 'url.lead', 'url.first_order', 'url.refund', 'url.cancel', 'captureParams', 'extraParams', 'windowDays', 'model', 'basis', 'currency', 'testOrders', 'allowHttp']);
