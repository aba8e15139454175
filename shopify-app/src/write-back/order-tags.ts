import type { Logger, PostbackEvent } from '@clickthread/core';
import type { JobStatus, PostbackJob, Store, StoreConnection } from '@clickthread/core/storage';
import type { AdminGraphql } from '../admin-api/admin-graphql.ts';

/**
 * Write-back: once a postback is final, the merchant sees on the order what became of each event's
 * postbacks, as tags through the GraphQL Admin API (`tagsAdd` and `tagsRemove`, which need
 * write_orders): `clickthread:sale:sent`, `clickthread:refund:failed`, … (Shopify tags are at most
 * 40 characters; the longest is `clickthread:first_order:failed`, 30). The tags are what the
 * outbox says of the order's jobs at that moment, event by event: a sent sale and a failed refund
 * show both, and a dead letter replayed with success loses its `failed` tag — the tags no longer
 * true go in the same request, through `tagsRemove`. A failed write-back is logged and never
 * touches the postback's own outcome; one Shopify did not answer (network, HTTP 5xx, throttling)
 * says so with `retry`, and is tried again (core/write-back); one it refused (userErrors: the order
 * is gone, say) is not.
 */

export type EventOutcome = 'sent' | 'failed';

export function eventTag(event: PostbackEvent, outcome: EventOutcome): string {
  return `clickthread:${event}:${outcome}`;
}

export const orderTagsMutation = `#graphql
mutation ClickthreadTagOrder($id: ID!, $add: [String!]!, $remove: [String!]!) {
  tagsAdd(id: $id, tags: $add) {
    node { id }
    userErrors { field message }
  }
  tagsRemove(id: $id, tags: $remove) {
    node { id }
    userErrors { field message }
  }
}`;

interface TagsPayload {
  readonly node: { readonly id: string } | null;
  readonly userErrors: ReadonlyArray<{ readonly field: readonly string[] | null; readonly message: string }>;
}

interface OrderTagsData {
  readonly tagsAdd: TagsPayload | null;
  readonly tagsRemove: TagsPayload | null;
}

/** What the worker reports when a job reaches a final state. */
export interface SettledPostback {
  readonly job: PostbackJob;
  /** The job's store when the caller has it already (read otherwise). */
  readonly shop?: StoreConnection;
  readonly status: 'succeeded' | 'failed' | 'dead';
  readonly outcome: string;
}

export function orderGid(orderId: string): string {
  return `gid://shopify/Order/${orderId}`;
}

export interface OrderTagChange {
  readonly add: readonly string[];
  readonly remove: readonly string[];
}

const outcomeOf = (status: JobStatus): EventOutcome | null => (status === 'succeeded' ? 'sent' : status === 'failed' || status === 'dead' ? 'failed' : null);

/**
 * The tags that are true of an order's postbacks, event by event, and ours that are not. An event
 * whose jobs are all still on their way (pending, in flight, replayed) is left as it is.
 */
export function orderTagChange(jobs: ReadonlyArray<Pick<PostbackJob, 'event' | 'status'>>): OrderTagChange {
  const outcomes = new Map<PostbackEvent, Set<EventOutcome>>();
  for (const job of jobs) {
    const outcome = outcomeOf(job.status);
    if (outcome === null) continue;
    const seen = outcomes.get(job.event) ?? new Set<EventOutcome>();
    seen.add(outcome);
    outcomes.set(job.event, seen);
  }
  const add: string[] = [];
  const remove: string[] = [];
  for (const [event, seen] of outcomes) {
    for (const outcome of ['sent', 'failed'] as const) (seen.has(outcome) ? add : remove).push(eventTag(event, outcome));
  }
  return { add, remove };
}

export type WriteBackResult =
  | { readonly kind: 'tagged'; readonly added: readonly string[]; readonly removed: readonly string[] }
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'failed'; readonly reason: string; readonly retry: boolean };

export function createOrderTagger(deps: { store: Store; graphql: AdminGraphql; logger: Logger }) {
  const { store, graphql, logger } = deps;

  /** The order's jobs as the outbox has them, with this one as it just settled. */
  async function orderJobs(settled: SettledPostback, log: Logger): Promise<Array<Pick<PostbackJob, 'id' | 'event' | 'status'>>> {
    const self = { id: settled.job.id, event: settled.job.event, status: settled.status };
    try {
      const stored = await store.listJobs({ storeId: settled.job.storeId, orderId: settled.job.orderId, limit: 500 });
      return [...stored.filter((j) => j.id !== self.id), self];
    } catch (error) {
      // the order's other events keep their tags; this one's is still written
      log.warn({ err: error }, "could not read the order's other postbacks: only this one's tag is written");
      return [self];
    }
  }

  return async function tagSettledOrder(settled: SettledPostback): Promise<WriteBackResult> {
    const { job } = settled;
    // a test-fire (admin or CLI) renders a sample order: nothing in the shop to tag, whatever store id it was queued with
    if (job.idSource === 'manual' || job.storeId === 'test-fire') return { kind: 'skipped', reason: 'test-fire' };
    const shop = settled.shop ?? (await store.getStore(job.storeId));
    if (!shop || shop.platform !== 'shopify') return { kind: 'skipped', reason: 'not a Shopify store' };
    if (shop.status !== 'active') return { kind: 'skipped', reason: `shop is ${shop.status}` };
    if (!/^\d{1,20}$/.test(job.orderId)) return { kind: 'skipped', reason: 'order id is not a Shopify id' };
    const log = logger.child({ shop: shop.domain, orderId: job.orderId, jobId: job.id });
    const access = await graphql.access(shop.domain);
    if (!access) {
      log.warn({}, 'no offline session for the shop: order not tagged');
      return { kind: 'skipped', reason: 'no offline session' };
    }
    // Two jobs of one order settling at the same moment each write what the outbox said when they
    // read it; the next final postback of the order writes the whole truth again.
    const change = orderTagChange(await orderJobs(settled, log));
    const answer = await graphql.request<OrderTagsData>(access, orderTagsMutation, { id: orderGid(job.orderId), add: change.add, remove: change.remove });
    if (!answer.ok) {
      log.warn({ reason: answer.reason }, 'order tag not written');
      return { kind: 'failed', reason: answer.reason, retry: true };
    }
    const problems: string[] = [];
    for (const [name, payload] of [['tagsAdd', answer.value.tagsAdd], ['tagsRemove', answer.value.tagsRemove]] as const) {
      const userErrors = payload?.userErrors ?? [];
      if (userErrors.length > 0) problems.push(...userErrors.map((e) => `${name} ${(e.field ?? []).join('.')}: ${e.message}`));
      else if (!payload?.node) problems.push(`${name} returned no order`);
    }
    if (problems.length > 0) {
      const reason = problems.join('; ');
      log.warn({ reason }, 'order tag refused');
      return { kind: 'failed', reason, retry: false };
    }
    log.info({ added: change.add, removed: change.remove }, 'order tagged');
    return { kind: 'tagged', added: change.add, removed: change.remove };
  };
}
