import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '@clickthread/core';
import { ensureAdminUiBuilt } from './admin-ui.ts';

/**
 * The admin UI is built by Vite into admin/dist (not committed). At start each app makes sure the
 * build is current; on a fresh clone that builds it. A build that fails (no dev dependencies on a
 * production install, a broken source) never fails the start: the API runs, the admin page explains.
 */

/** available: serve the build in `dir` (default admin/dist); not available: the admin page answers 503. */
export type AdminUiState = { readonly available: true; readonly dir?: string } | { readonly available: false };

export const adminUiBuildCommand = 'pnpm --filter @clickthread/admin build';

/** Builds the UI unless it is current (`build` is replaced in tests), logging how long it took. */
export async function prepareAdminUi(deps: { logger: Logger; build?: typeof ensureAdminUiBuilt }): Promise<AdminUiState> {
  const build = deps.build ?? ensureAdminUiBuilt;
  const started = performance.now();
  try {
    const { outDir, built } = await build();
    deps.logger.info({ dir: outDir, built, ms: Math.round(performance.now() - started) }, built ? 'admin UI built' : 'admin UI is up to date');
    return { available: true, dir: outDir };
  } catch (error) {
    deps.logger.error(
      { err: error, ms: Math.round(performance.now() - started), fix: adminUiBuildCommand },
      'admin UI could not be built: the API runs without it and the admin page answers 503',
    );
    return { available: false };
  }
}

/**
 * Answers every admin page with a 503 that says what to do (the cause is in the server log).
 * standalone (the bridge's /admin): never framed. embedded (the Shopify app page): mounted behind
 * ensureInstalledOnShop, whose frame-ancestors header lets the Shopify admin show it.
 */
export function createAdminUiUnavailableRouter(options: { readonly mode: 'standalone' | 'embedded' }): Router {
  const router = express.Router();
  const page = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Clickthread admin unavailable</title>
<style>body{font:15px/1.5 system-ui,sans-serif;margin:3rem auto;max-width:40rem;color:#303030;padding:0 1rem}code{background:#f1f1f1;padding:.1rem .3rem;border-radius:4px}</style></head>
<body>
<h1>The admin UI is not built on this server</h1>
<p>The build at start failed; the server log has the error (<code>admin UI could not be built</code>).</p>
<p>Build it with <code>${adminUiBuildCommand}</code>, then restart the server.</p>
<p>The agency API at <code>/api/v1</code> works meanwhile.</p>
</body>
</html>
`;
  router.use((_req: Request, res: Response) => {
    res.status(503).set('cache-control', 'no-store').set('retry-after', '3600');
    if (options.mode === 'standalone') res.set('content-security-policy', "frame-ancestors 'none'");
    res.type('html').send(page);
  });
  return router;
}
