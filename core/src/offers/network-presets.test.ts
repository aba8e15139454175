import { describe, expect, it } from 'vitest';
import { postbackEvents, type PostbackEvent } from '../orders/order.ts';
import { checkTemplate, renderTemplate, sampleMacroValues } from '../templates/postback-template.ts';
import { networkIds, networkPresets, type NetworkId } from './network-presets.ts';
import { parseOffer } from './offer-schema.ts';

/** What a merchant would type into each placeholder. */
const fills: Readonly<Record<string, string>> = {
  '<domain>': 'track.example.com',
  '<network_id>': 'demo',
  '<offer_id>': '12',
  '<security_token>': 'st0ken',
  '<nid>': '7',
  '<verification_token>': 'vt0ken',
  '<event_id>': '3',
  '<postback_key>': 'k3y',
  '<secure>': 's3cure',
  '<workspace>': 'acme',
  '<token>': 't0ken',
};

function fillIn(template: string): string {
  return template.replace(/<[^<>]+>/g, (placeholder) => {
    const value = fills[placeholder];
    if (value === undefined) throw new Error(`test has no fill for ${placeholder}`);
    return value;
  });
}

const tx = '102a%2Bf3%209c'; // sampleMacroValues.transaction_id, encoded

const expectedUrls: readonly [NetworkId, PostbackEvent, string][] = [
  ['tune', 'sale', `https://demo.go2cloud.org/aff_lsr?offer_id=12&transaction_id=${tx}&amount=49.90&adv_sub=1001&security_token=st0ken`],
  ['tune', 'refund', `https://demo.go2cloud.org/aff_lsr?offer_id=12&transaction_id=${tx}&status=rejected&security_token=st0ken`],
  ['tune', 'cancel', `https://demo.go2cloud.org/aff_lsr?offer_id=12&transaction_id=${tx}&status=rejected&security_token=st0ken`],
  ['everflow', 'sale', `https://track.example.com/?nid=7&transaction_id=${tx}&amount=49.90&order_id=1001&verification_token=vt0ken`],
  ['everflow', 'refund', `https://track.example.com/reversal?transaction_id=${tx}&event_id=0&verification_token=vt0ken`],
  ['everflow', 'cancel', `https://track.example.com/reversal?transaction_id=${tx}&event_id=0&verification_token=vt0ken`],
  ['cake', 'sale', `https://track.example.com/p.ashx?o=12&e=3&f=pb&r=${tx}&t=1001&p=49.90`],
  ['voluum', 'sale', `https://track.example.com/postback?cid=${tx}&payout=49.90&txid=1001&currency=USD`],
  ['binom', 'sale', `https://track.example.com/click.php?cnv_id=${tx}&payout=49.90&cnv_currency=USD`],
  ['redtrack', 'sale', `https://track.example.com/postback?clickid=${tx}&sum=49.90&rdtk_event_id=1001`],
  ['keitaro', 'sale', `https://track.example.com/k3y/postback?subid=${tx}&status=sale&payout=49.90&tid=1001&currency=USD`],
  ['keitaro', 'refund', `https://track.example.com/k3y/postback?subid=${tx}&status=rejected`],
  ['keitaro', 'cancel', `https://track.example.com/k3y/postback?subid=${tx}&status=rejected`],
  ['affise', 'sale', `https://track.example.com/postback?clickid=${tx}&action_id=1001&sum=49.90&secure=s3cure`],
  ['affise', 'refund', `https://track.example.com/postback?clickid=${tx}&status=3&secure=s3cure`],
  ['affise', 'cancel', `https://track.example.com/postback?clickid=${tx}&status=3&secure=s3cure`],
  ['scaleo', 'sale', `https://acme.scaletrk.com/track/conv?click_id=${tx}&token=t0ken&adv_order_id=1001&amount=49.90`],
  ['scaleo', 'refund', `https://acme.scaletrk.com/track/conv-change?click_id=${tx}&token=t0ken&conv_status=rejected`],
  ['scaleo', 'cancel', `https://acme.scaletrk.com/track/conv-change?click_id=${tx}&token=t0ken&conv_status=rejected`],
  ['clickflare', 'sale', `https://track.example.com/cf/cv?click_id=${tx}&payout=49.90&txid=1001`],
  ['bemob', 'sale', `https://track.example.com/postback?cid=${tx}&payout=49.90&txid=1001`],
];

const allTemplates = networkIds.flatMap((id) =>
  postbackEvents.flatMap((event) => {
    const template = networkPresets[id].postbacks[event];
    return template === undefined ? [] : [[id, event, template] as const];
  }),
);

describe('network presets', () => {
  it('has one preset per network, under its own id', () => {
    expect(Object.keys(networkPresets).toSorted()).toEqual([...networkIds].toSorted());
    for (const id of networkIds) expect(networkPresets[id].id).toBe(id);
  });

  it('tests the exact URL of every template of every preset', () => {
    expect(expectedUrls.map(([id, event]) => `${id}.${event}`).toSorted()).toEqual(allTemplates.map(([id, event]) => `${id}.${event}`).toSorted());
  });

  it.each(expectedUrls)('%s %s: filled in, passes the check and renders the sample order exactly', (id, event, expected) => {
    const template = networkPresets[id].postbacks[event];
    if (template === undefined) throw new Error('no template');
    const checked = checkTemplate(fillIn(template));
    expect(checked).toMatchObject({ ok: true });
    if (!checked.ok) return;
    expect(renderTemplate(checked.value, sampleMacroValues)).toEqual({ ok: true, value: expected });
  });

  it.each(allTemplates)('%s %s: refused until every placeholder is filled in', (_id, _event, template) => {
    const placeholders = [...new Set(template.match(/<[^<>]+>/g) ?? [])];
    expect(placeholders.length).toBeGreaterThan(0);
    expect(checkTemplate(template)).toEqual({ ok: false, reason: placeholders.map((p) => `fill in ${p}`) });
  });

  it.each(networkIds)('%s: the filled-in preset is a valid offer', (id) => {
    const preset = networkPresets[id];
    const postbacks = Object.fromEntries(Object.entries(preset.postbacks).map(([event, url]) => [event, { url: fillIn(url) }]));
    const input = {
      id: `${id}-offer`,
      name: preset.label,
      network: id,
      captureParams: [...preset.captureParams],
      postbacks: Object.keys(postbacks).length > 0 ? postbacks : { sale: { url: 'https://t.example/pb?click_id={transaction_id}' } },
    };
    expect(parseOffer(input)).toMatchObject({ ok: true });
  });

  it.each(networkIds)('%s: answer patterns are valid regular expressions', (id) => {
    for (const pattern of Object.values(networkPresets[id].answer)) expect(() => new RegExp(pattern, 'i')).not.toThrow();
  });

  it('reads every click ID parameter the reference names', () => {
    const expected: Record<NetworkId, string> = {
      tune: 'transaction_id',
      everflow: '_ef_transaction_id',
      cake: 'r',
      voluum: 'cid',
      binom: 'cnv_id',
      redtrack: 'clickid',
      keitaro: 'subid',
      affise: 'clickid',
      scaleo: 'click_id',
      clickflare: 'click_id',
      bemob: 'cid',
      custom: 'click_id',
    };
    for (const id of networkIds) expect(networkPresets[id].captureParams).toContain(expected[id]);
  });

  it('reads TUNE’s answers, which are 200 either way', () => {
    expect(networkPresets.tune.answer).toEqual({ successBody: 'success=true', duplicateBody: 'Duplicate', rejectBody: 'success=false' });
  });
});
