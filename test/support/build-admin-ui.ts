import { ensureAdminUiBuilt } from '@clickthread/admin';

/**
 * Vitest global setup: builds the admin UI once, before any test file runs, so that the files that
 * serve it (both apps, the system tests, the browser test) never race to build it in parallel.
 */
export async function setup(): Promise<void> {
  await ensureAdminUiBuilt();
}
