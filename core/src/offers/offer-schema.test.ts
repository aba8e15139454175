import { describe, expect, it } from 'vitest';
import { buildOfferInput } from '../fixtures/offer-fixture.ts';
import { captureParamsOf, offerAppliesTo, parseOffer } from './offer-schema.ts';
import { networkPresets } from './network-presets.ts';

describe('offer schema', () => {
  it('fills defaults', () => {
    const parsed = parseOffer(buildOfferInput());
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value).toMatchObject({
      enabled: true,
      extraParams: [],
      attribution: { windowDays: 30, model: 'last_click' },
      amount: { basis: 'subtotal', currency: 'shop' },
      testOrders: 'skip',
      stores: 'all',
      allowHttp: false,
    });
    expect(parsed.value.postbacks.sale).toMatchObject({ method: 'GET', headers: {} });
  });

  it.each([
    [{ id: 'Bad Id!' }, 'id'],
    [{ name: '  ' }, 'name'],
    [{ network: 'nope' }, 'network'],
    [{ captureParams: [] }, 'captureParams'],
    [{ captureParams: ['ok', 'has space'] }, 'captureParams.1'],
    [{ attribution: { windowDays: 0 } }, 'attribution.windowDays'],
    [{ attribution: { windowDays: 1.5 } }, 'attribution.windowDays'],
    [{ attribution: { model: 'any_click' } }, 'attribution.model'],
    [{ amount: { basis: 'gross' } }, 'amount.basis'],
    [{ testOrders: 'maybe' }, 'testOrders'],
    [{ stores: [] }, 'stores'],
    [{ postbacks: {} }, 'postbacks'],
    [{ postbacks: { sale: { url: '' } } }, 'postbacks.sale.url'],
    [{ postbacks: { sale: { url: 'ftp://x.example/{transaction_id}' } } }, 'postbacks.sale.url'],
    [{ postbacks: { sale: { url: 'https://x.example/?a=1', headers: { 'X-Evil': 'a\r\nb' } } } }, 'postbacks.sale.headers.X-Evil'],
    [{ answer: { successBody: '([' } }, 'answer.successBody'],
    [{ unknownField: 1 }, '(offer)'],
  ])('refuses %j naming %s', (override, path) => {
    const parsed = parseOffer({ ...buildOfferInput(), ...override });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.reason.map((i) => i.path)).toContain(path);
    for (const issue of parsed.reason) expect(issue.message.length).toBeGreaterThan(3);
  });

  it('reports every problem at once', () => {
    const parsed = parseOffer({ id: '', name: '', network: 'x', postbacks: {} });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.reason.map((i) => i.path).toSorted()).toEqual(['id', 'name', 'network', 'postbacks']);
  });

  it('refuses input that is not an object', () => {
    expect(parseOffer('offer').ok).toBe(false);
    expect(parseOffer(null).ok).toBe(false);
  });

  it('uses the preset capture parameters unless the offer names its own', () => {
    const own = parseOffer(buildOfferInput({ captureParams: ['cid'] }));
    const preset = parseOffer(buildOfferInput({ network: 'everflow', captureParams: undefined }));
    expect(own.ok && captureParamsOf(own.value)).toEqual(['cid']);
    expect(preset.ok && captureParamsOf(preset.value)).toEqual(networkPresets.everflow.captureParams);
  });

  it('applies to all stores or the listed ones, and never when disabled', () => {
    const all = parseOffer(buildOfferInput());
    const some = parseOffer(buildOfferInput({ stores: ['s2'] }));
    const off = parseOffer(buildOfferInput({ enabled: false }));
    if (!all.ok || !some.ok || !off.ok) throw new Error('fixtures must parse');
    expect(offerAppliesTo(all.value, 's1')).toBe(true);
    expect(offerAppliesTo(some.value, 's1')).toBe(false);
    expect(offerAppliesTo(some.value, 's2')).toBe(true);
    expect(offerAppliesTo(off.value, 's1')).toBe(false);
  });
});
