import type { Logger } from '@clickthread/core';
import { neverReportedWriteBack, type PostbackJob, type Store, type WriteBackOutcome } from '@clickthread/core/storage';
import type { WriteBackAnswer, WriteBackFn } from '@clickthread/core/write-back';
import type { WooApiFailure } from '../rest/woo-client.ts';
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
  /**
   * Writes a settled postback back to its Woo order, in two steps: `note` (the private order note),
   * then `meta` (the ID in order meta). A try that failed at `meta` resumes there, so the note is
   * not added twice. Jobs that are not a Woo connection's, and test-fires, have nothing to write.
   */
  readonly write: WriteBackFn;
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

/**
 * Failures that may pass: the store down, slow, throttling, or its keys being fixed (a merchant
 * who rotates keys reconnects within the schedule). A missing order or a refused request will not.
 */
const passingFailures: ReadonlySet<WooApiFailure['kind']> = new Set(['unauthorized', 'forbidden', 'rate_limited', 'server', 'timeout', 'network', 'invalid_response']);

export function noteFor(job: Pick<PostbackJob, 'eventKey'>, outcome: WriteBackOutcome, offerName: string): string {
  const event = job.eventKey === 'sale' ? '' : ` (${job.eventKey})`;
  if (outcome.outcome === neverReportedWriteBack) return `Affiliate postback to ${offerName}${event} not sent: its conversion was never reported (${outcome.reason})`;
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
    async write({ job, connection: row, outcome, step }) {
      // a test-fire (admin or CLI) renders a sample order: there is no Woo order to write to, even
      // when it was queued with a real connection's store id
      if (isTestFire(job) || row.platform !== 'woocommerce') return { ok: true };
      const context = { connectionId: job.storeId, orderId: job.orderId, jobId: job.id, offerId: job.offerId };
      const failed = (reason: string, retry: boolean, at: 'note' | 'meta'): WriteBackAnswer => {
        metrics.writeBacks.inc({ outcome: 'failed' });
        log.warn({ ...context, step: at, reason, retry }, 'write-back: the store did not take it');
        return { ok: false, reason, retry, step: at };
      };
      const resumeAt = step === 'meta' ? 'meta' : 'note';
      if (row.status !== 'active') return failed(`the connection is ${row.status}`, false, resumeAt);
      const connection = readWooConnection(row);
      const client = connection.ok ? connections.clientFor(connection.value) : connection;
      if (!client.ok) return failed(`connection unusable: ${client.reason}`, false, resumeAt);
      let note: string | undefined;
      if (resumeAt === 'note') {
        const offer = await store.getOffer(job.merchantId, job.offerId);
        note = noteFor(job, outcome, offer?.name ?? job.offerId);
        const noted = await client.value.addOrderNote(job.orderId, note);
        if (!noted.ok) return failed(`order note not added: ${describeFailure(noted.reason)}`, passingFailures.has(noted.reason.kind), 'note');
      }
      const written = await client.value.setOrderMeta(job.orderId, [{ key: transactionIdMetaKey, value: job.transactionId }]);
      if (!written.ok) return failed(`order meta not written: ${describeFailure(written.reason)}`, passingFailures.has(written.reason.kind), 'meta');
      metrics.writeBacks.inc({ outcome: 'ok' });
      log.info({ ...context, status: outcome.status, ...(note === undefined ? { resumed: 'meta' } : { note }) }, 'postback written back to the order');
      return { ok: true };
    },
  };
}
