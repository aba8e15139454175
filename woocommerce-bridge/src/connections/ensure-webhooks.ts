import { err, ok, type Result } from '@clickthread/core';
import type { WooApiFailure, WooClient, WooWebhook } from '../rest/woo-client.ts';
import { wooWebhookTopics, type WooWebhookTopic } from './woo-connection.ts';

/**
 * Makes the store's webhooks match what the bridge needs: one active webhook per topic delivering
 * to the connection's URL with the connection's secret. Existing hooks are found by delivery URL,
 * so running it again creates nothing new; extra copies are deleted. Used by connect (with the
 * secret pushed to every hook) and by reconciliation (re-enables what Woo disabled, recreates what
 * someone deleted).
 */

export interface WebhookSyncSummary {
  readonly ids: Readonly<Record<WooWebhookTopic, number>>;
  readonly created: readonly WooWebhookTopic[];
  readonly reactivated: readonly WooWebhookTopic[];
  readonly updated: readonly WooWebhookTopic[];
  readonly removedDuplicates: number;
}

export interface EnsureWebhooksInput {
  readonly deliveryUrl: string;
  readonly secret: string;
  /** Write the secret to hooks that already exist (Woo never shows a hook's secret, so it cannot be compared). */
  readonly pushSecret: boolean;
  readonly name: string;
}

const sameUrl = (a: string, b: string): boolean => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

export async function ensureWebhooks(client: WooClient, input: EnsureWebhooksInput): Promise<Result<WebhookSyncSummary, WooApiFailure & { topic?: string }>> {
  const listed = await client.listWebhooks();
  if (!listed.ok) return listed;
  const ours = listed.value.filter((h) => sameUrl(h.delivery_url, input.deliveryUrl));

  const ids: Partial<Record<WooWebhookTopic, number>> = {};
  const created: WooWebhookTopic[] = [];
  const reactivated: WooWebhookTopic[] = [];
  const updated: WooWebhookTopic[] = [];
  let removedDuplicates = 0;

  for (const topic of wooWebhookTopics) {
    const matches = ours.filter((h) => h.topic === topic).toSorted((a, b) => a.id - b.id);
    const keep: WooWebhook | undefined = matches.find((h) => h.status === 'active') ?? matches[0];
    for (const extra of matches) {
      if (extra === keep) continue;
      const removed = await client.deleteWebhook(extra.id);
      if (!removed.ok && removed.reason.kind !== 'not_found') return err({ ...removed.reason, topic });
      removedDuplicates += 1;
    }
    if (keep === undefined) {
      const made = await client.createWebhook({ name: `${input.name} ${topic}`, topic, deliveryUrl: input.deliveryUrl, secret: input.secret });
      if (!made.ok) return err({ ...made.reason, topic });
      ids[topic] = made.value.id;
      created.push(topic);
      continue;
    }
    ids[topic] = keep.id;
    const inactive = keep.status !== 'active';
    if (inactive || input.pushSecret) {
      const patch = { status: 'active' as const, ...(input.pushSecret ? { secret: input.secret } : {}) };
      const changed = await client.updateWebhook(keep.id, patch);
      if (!changed.ok) return err({ ...changed.reason, topic });
      if (inactive) reactivated.push(topic);
      else updated.push(topic);
    }
  }

  return ok({ ids: ids as Record<WooWebhookTopic, number>, created, reactivated, updated, removedDuplicates });
}
