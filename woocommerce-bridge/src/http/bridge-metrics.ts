import { Counter, Registry } from 'prom-client';

/**
 * The bridge's counters. A rejected webhook leaves nothing behind but one of these and a log line.
 * Each bridge gets its own registry (tests run several bridges in one process); the host decides
 * whether to merge it into a process-wide /metrics.
 */
export interface BridgeMetrics {
  readonly registry: Registry;
  readonly webhooks: Counter<'outcome'>;
  readonly orders: Counter<'result' | 'trigger'>;
  readonly captures: Counter<'type' | 'outcome'>;
  readonly reconcile: Counter<'outcome'>;
  readonly reconciledOrders: Counter;
  readonly webhooksReenabled: Counter;
  readonly writeBacks: Counter<'outcome'>;
}

export function createBridgeMetrics(registry: Registry = new Registry()): BridgeMetrics {
  const registers = [registry];
  return {
    registry,
    webhooks: new Counter({
      name: 'clickthread_woo_webhooks_total',
      help: 'WooCommerce webhook requests by outcome (accepted, ping, ignored, rejected_*, failed).',
      labelNames: ['outcome'],
      registers,
    }),
    orders: new Counter({
      name: 'clickthread_woo_orders_total',
      help: 'WooCommerce orders run through the conversion path, by result and trigger.',
      labelNames: ['result', 'trigger'],
      registers,
    }),
    captures: new Counter({
      name: 'clickthread_woo_captures_total',
      help: 'Storefront capture reports (click, order) by outcome.',
      labelNames: ['type', 'outcome'],
      registers,
    }),
    reconcile: new Counter({ name: 'clickthread_woo_reconcile_runs_total', help: 'Reconciliation runs per connection, by outcome.', labelNames: ['outcome'], registers }),
    reconciledOrders: new Counter({ name: 'clickthread_woo_reconciled_orders_total', help: 'Orders read by reconciliation polling.', registers }),
    webhooksReenabled: new Counter({ name: 'clickthread_woo_webhooks_reenabled_total', help: 'Bridge webhooks found disabled or missing in Woo and restored.', registers }),
    writeBacks: new Counter({ name: 'clickthread_woo_write_backs_total', help: 'Order notes/meta written back after a postback settled, by outcome.', labelNames: ['outcome'], registers }),
  };
}

/** The current value of a counter for one label set (0 when never incremented). */
export async function counterValue(counter: Counter<string>, labels: Record<string, string> = {}): Promise<number> {
  const data = await counter.get();
  const wanted = Object.entries(labels);
  return data.values.filter((v) => wanted.every(([k, val]) => v.labels[k] === val)).reduce((sum, v) => sum + v.value, 0);
}
