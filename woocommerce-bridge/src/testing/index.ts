// Test helpers for the WooCommerce bridge (@clickthread/woocommerce-bridge/testing). Never imported by production code.
export { startFakeWoo, type FakeWoo, type FakeWebhook, type DeliveryRecord, type PingRecord, type FakeNote } from './fake-woo.ts';
export {
  buildWooOrder,
  wooOrderAt,
  wooDate,
  wpJsonEncode,
  type WooOrderJson,
  type WooMetaJson,
  type WooLineItemJson,
} from './woo-order-builder.ts';
export {
  loadRecordedDeliveries,
  replayHeaders,
  signedDelivery,
  recordedSecret,
  recordedSource,
  type RecordedDelivery,
  type SignedDelivery,
  type DeliveryOptions,
} from './woo-deliveries.ts';
