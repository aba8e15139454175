import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { signWooBody } from '../webhooks/verify-signature.ts';
import { wpJsonEncode, type WooOrderJson } from './woo-order-builder.ts';

/** The webhook secret of the recorded deliveries. */
export const recordedSecret = 'testsecret123';
/** `X-WC-Webhook-Source` of the recorded deliveries. */
export const recordedSource = 'http://127.0.0.1:8080/';

export interface RecordedDelivery {
  readonly seq: number;
  /** Lower-cased header names, as captured. */
  readonly headers: Readonly<Record<string, string>>;
  /** The exact bytes WooCommerce sent. */
  readonly body: Buffer;
  readonly topic: string | undefined;
}

/**
 * Real deliveries captured from WooCommerce 9.9.5 (see fixtures/): `async` (Action Scheduler, two
 * pings, coalesced updates) or `sync` (each update its own delivery).
 */
export function loadRecordedDeliveries(run: 'async' | 'sync'): RecordedDelivery[] {
  const path = fileURLToPath(new URL(`./fixtures/woocommerce-9.9.5-deliveries-${run}.jsonl`, import.meta.url));
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const raw = JSON.parse(line) as { seq: number; headers: Record<string, string>; body_base64: string };
      return { seq: raw.seq, headers: raw.headers, body: Buffer.from(raw.body_base64, 'base64'), topic: raw.headers['x-wc-webhook-topic'] };
    });
}

/** Headers to send when replaying a recording (transport headers left to the HTTP client). */
export function replayHeaders(delivery: RecordedDelivery): Record<string, string> {
  const skip = new Set(['host', 'content-length', 'connection', 'accept-encoding']);
  return Object.fromEntries(Object.entries(delivery.headers).filter(([name]) => !skip.has(name)));
}

export interface SignedDelivery {
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

export interface DeliveryOptions {
  readonly secret: string;
  readonly topic?: string;
  readonly source?: string;
  readonly webhookId?: number;
  /** Defaults to a hash of the webhook id and the body, like Woo's per-second hash. */
  readonly deliveryId?: string;
  /** Replaces the computed signature (for attack tests). */
  readonly signature?: string;
}

/** A delivery as Woo sends it: WordPress JSON bytes, its HMAC, and the X-WC-* headers. */
export function signedDelivery(payload: WooOrderJson | Record<string, unknown> | string, options: DeliveryOptions): SignedDelivery {
  const text = typeof payload === 'string' ? payload : wpJsonEncode(payload);
  const body = Buffer.from(text, 'utf8');
  const topic = options.topic ?? 'order.updated';
  const webhookId = options.webhookId ?? 1;
  return {
    body,
    headers: {
      'user-agent': 'WooCommerce/9.9.5 Hookshot (WordPress/6.8.3)',
      'content-type': 'application/json',
      'x-wc-webhook-source': options.source ?? recordedSource,
      'x-wc-webhook-topic': topic,
      'x-wc-webhook-resource': topic.split('.')[0] ?? 'order',
      'x-wc-webhook-event': topic.split('.')[1] ?? 'updated',
      'x-wc-webhook-signature': options.signature ?? signWooBody(body, options.secret),
      'x-wc-webhook-id': String(webhookId),
      'x-wc-webhook-delivery-id': options.deliveryId ?? createHash('md5').update(`${webhookId}:${text}`).digest('hex'),
    },
  };
}
