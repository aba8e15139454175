import { checkTransactionId } from '@clickthread/core';
import { z } from 'zod';

/**
 * What the storefront script POSTs to `/capture` (wire format owned by the capture script):
 *   click: {"type":"click","merchant","vid","id","p","t","x":{},"domain"}
 *   order: {"type":"order","merchant","vid","orderId","orderKey","domain"} from the order-received page.
 */

const merchant = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a merchant public id');
/** The script makes 32 lowercase hex characters; a little slack for older or hand-made tokens. */
const visitorToken = z.string().regex(/^[A-Za-z0-9_-]{16,128}$/, 'must be a visitor token (16-128 letters, digits, _ or -)');
const domain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9.-]{1,253}(?::\d{1,5})?$/, 'must be a host name');
const paramName = z.string().regex(/^[A-Za-z0-9_.\-[\]]{1,64}$/, 'must be a URL parameter name');
const transactionId = z.string().superRefine((v, ctx) => {
  const checked = checkTransactionId(v);
  if (!checked.ok) ctx.addIssue({ code: 'custom', message: `transaction ID refused: ${checked.reason}` });
});

export const clickReportSchema = z.strictObject({
  type: z.literal('click'),
  merchant,
  vid: visitorToken,
  id: transactionId,
  p: paramName,
  t: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 time' }),
  x: z.record(paramName, z.string().max(256)).refine((x) => Object.keys(x).length <= 20, 'at most 20 extra parameters').default({}),
  domain,
});

export const orderReportSchema = z.strictObject({
  type: z.literal('order'),
  merchant,
  vid: visitorToken,
  orderId: z.string().regex(/^[1-9]\d{0,19}$/, 'must be a WooCommerce order id'),
  orderKey: z.string().regex(/^wc_order_\w{1,64}$/, 'must be a WooCommerce order key (wc_order_…)'),
  domain,
});

export const captureReportSchema = z.discriminatedUnion('type', [clickReportSchema, orderReportSchema]);

export type ClickReport = z.output<typeof clickReportSchema>;
export type OrderReport = z.output<typeof orderReportSchema>;
export type CaptureReport = z.output<typeof captureReportSchema>;
