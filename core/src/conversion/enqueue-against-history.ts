import { ConflictError } from '../shared/errors.ts';
import type { EnqueueResult, PostbackJob, Store } from '../storage/store.ts';
import type { PriorPostback } from './postback-job.ts';
import { historyOf } from './plan-postbacks.ts';

type EnqueueInput = Omit<Parameters<Store['enqueue']>[0], 'plannedAgainst'>;

/** Plans of one delivery made again before it gives up (each retry means another delivery of the order stored meanwhile). */
const defaultMaxPlans = 5;

/**
 * Reads the order's history, lets `plan` turn it into an enqueue, and stores that only if the
 * history is still the order's when it is stored; otherwise reads and plans again. Reversals are
 * capped by the history (what was reported, what refunds took already), so two deliveries of one
 * order handled side by side — an orders/cancelled beside a refunds/create — would each reverse
 * the whole sale if both stored what they planned against the same history.
 */
export async function enqueueAgainstHistory<T>(
  store: Pick<Store, 'listJobs' | 'enqueue'>,
  input: {
    readonly storeId: string;
    readonly orderId: string;
    /** `jobs`: the order's stored jobs, of which `history` is the planner's view. */
    readonly plan: (history: PriorPostback[], jobs: readonly PostbackJob[]) => { readonly enqueue: EnqueueInput; readonly value: T };
    readonly maxPlans?: number;
    /** The order's jobs when the caller read them already (the first plan is made against them). */
    readonly jobs?: readonly PostbackJob[];
  },
): Promise<{ readonly result: EnqueueResult; readonly value: T; readonly history: PriorPostback[] }> {
  const { storeId, orderId } = input;
  const maxPlans = input.maxPlans ?? defaultMaxPlans;
  for (let planned = 1; ; planned++) {
    const jobs = planned === 1 && input.jobs !== undefined ? input.jobs : await store.listJobs({ storeId, orderId, limit: 500 });
    const history = historyOf(jobs);
    const { enqueue, value } = input.plan(history, jobs);
    const result = await store.enqueue({ ...enqueue, plannedAgainst: { storeId, orderId, knownKeys: jobs.map((j) => j.idempotencyKey) } });
    if (result.stale !== true) return { result, value, history };
    if (planned >= maxPlans) {
      throw new ConflictError(`order ${orderId} of store ${storeId} changed under ${maxPlans} plans in a row; the delivery is refused so that it comes again`);
    }
  }
}
