import { randomBytes } from 'node:crypto';
import type { FakeWoo } from '@clickthread/woocommerce-bridge/testing';
import type { Harness } from './harness.ts';

/**
 * What the capture script sends from a storefront page: text/plain JSON in no-cors mode, with the
 * page's Origin (wire format in the helper brief).
 */

export const newVisitor = (): string => randomBytes(16).toString('hex');

async function send(h: Harness, origin: string, body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`${h.url}/capture`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8', origin },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

const originOf = (woo: FakeWoo): string => woo.url.replace(/\/$/, '');
const hostOf = (woo: FakeWoo): string => new URL(woo.url).hostname;

/** The landing page with `?param=id` on this store's domain. */
export function reportClick(
  h: Harness,
  woo: FakeWoo,
  click: { vid: string; id: string; param?: string; extras?: Record<string, string>; merchant?: string },
): Promise<{ status: number; text: string }> {
  return send(h, originOf(woo), {
    type: 'click',
    merchant: click.merchant ?? 'm1',
    id: click.id,
    p: click.param ?? 'transaction_id',
    t: h.clock.now().toISOString(),
    vid: click.vid,
    x: click.extras ?? {},
    domain: hostOf(woo),
  });
}

/** The order-received page (`/checkout/order-received/<id>/?key=wc_order_…`) on this store's domain. */
export function reportOrder(h: Harness, woo: FakeWoo, report: { vid: string; orderId: number; orderKey: string }): Promise<{ status: number; text: string }> {
  return send(h, originOf(woo), {
    type: 'order',
    merchant: 'm1',
    vid: report.vid,
    orderId: String(report.orderId),
    orderKey: report.orderKey,
    domain: hostOf(woo),
  });
}

export { send as sendCapture };
