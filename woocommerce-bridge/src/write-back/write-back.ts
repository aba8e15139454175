import type { Logger } from '@clickthread/core';
import type { SettledOutcome } from '@clickthread/core/delivery';
import type { PostbackJob, Store } from '@clickthread/core/storage';
import { describeFailure, type ConnectionService } from '../connections/connection-service.ts';
import { readWooConnection } from '../connections/woo-connection.ts';
import type { BridgeMetrics } from '../http/bridge-metrics.ts';

/**
 * After a postback is settled (succeeded, failed for good, or dead-lettered), the merchant sees it
 * in the order: a private note and the ID in order meta. The meta write fires an `order.updated`;
 * that echo runs through the conversion path like any delivery and stores nothing new, because the
 * outbox already holds every job its state calls for (see process-order.ts for why it is not
 * skipped). A real change that rides along in the same delivery — a refund made meanwhile, which
 * Woo's queued delivery builds into the payload — is planned like any other.
 */

/** The order meta the settled postback's transaction ID is written to. */
export const transactionIdMetaKey = '_clickthread_transaction_id';

export interface WriteBack {
  /** The delivery worker's `onSettled` hook; attempts that will be retried are not written back. */
  onSettled(job: PostbackJob, outcome: SettledOutcome): Promise<void>;
}

export interface WriteBackDeps {
  readonly store: Store;
  readonly logger: Logger;
  readonly metrics: BridgeMetrics;
  readonly connections: ConnectionService;
}

/** Test-fires are queued with idSource 'manual' (and, from the admin, store id 'test-fire'). */
export function isTestFire(job: Pick<PostbackJob, 'idSource' | 'storeId'>): boolean {
  return job.idSource === 'manual' || job.storeId === 'test-fire';
}

export function noteFor(job: Pick<PostbackJob, 'eventKey'>, outcome: Pick<SettledOutcome, 'status' | 'outcome' | 'reason'>, offerName: string): string {
  const event = job.eventKey === 'sale' ? '' : ` (${job.eventKey})`;
  const head = `Affiliate postback sent to ${offerName}${event}`;
  if (outcome.outcome === 'success') return `${head}: success`;
  if (outcome.outcome === 'duplicate') return `${head}: success (the network already had it: ${outcome.reason})`;
  if (outcome.status === 'dead') return `${head}: failed after every retry (${outcome.reason})`;
  return `${head}: failed (${outcome.outcome}: ${outcome.reason})`;
}

export function createWriteBack(deps: WriteBackDeps): WriteBack {
  const { store, metrics, connections } = deps;
  const log = deps.logger.child({ component: 'woo-write-back' });

  return {
    async onSettled(job, outcome) {
      if (!outcome.final) return;
      // a test-fire (admin or CLI) renders a sample order: there is no Woo order to write to, even
      // when it was queued with a real connection's store id
      if (isTestFire(job)) return;
      const row = await store.getStore(job.storeId);
      // the worker serves every platform; only Woo connections are written back here
      if (!row || row.platform !== 'woocommerce') return;
      const context = { connectionId: job.storeId, orderId: job.orderId, jobId: job.id, offerId: job.offerId };
      const connection = readWooConnection(row);
      const client = connection.ok ? connections.clientFor(connection.value) : connection;
      if (!client.ok) {
        metrics.writeBacks.inc({ outcome: 'failed' });
        log.warn({ ...context, reason: client.reason }, 'write-back skipped: connection unusable');
        return;
      }
      const offer = await store.getOffer(job.merchantId, job.offerId);
      const note = noteFor(job, outcome, offer?.name ?? job.offerId);

      const noted = await client.value.addOrderNote(job.orderId, note);
      if (!noted.ok) {
        metrics.writeBacks.inc({ outcome: 'failed' });
        log.warn({ ...context, failure: describeFailure(noted.reason) }, 'write-back: order note not added');
        return;
      }
      const written = await client.value.setOrderMeta(job.orderId, [{ key: transactionIdMetaKey, value: job.transactionId }]);
      if (!written.ok) {
        metrics.writeBacks.inc({ outcome: 'failed' });
        log.warn({ ...context, failure: describeFailure(written.reason) }, 'write-back: order meta not written');
        return;
      }
      metrics.writeBacks.inc({ outcome: 'ok' });
      log.info({ ...context, status: outcome.status, note }, 'postback written back to the order');
    },
  };
}
