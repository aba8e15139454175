import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';

/**
 * The admin UI (React + Polaris, admin/ui) is built by Vite into admin/dist. Both apps serve it
 * with createAdminUiRouter: static assets, and an index.html with the mode (standalone behind a
 * token, or embedded in the Shopify admin with App Bridge) written into the page.
 */

const adminRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The UI's sources (admin/ui). */
export function adminUiSourceDir(): string {
  return join(adminRoot, 'ui');
}

/** The built UI (admin/dist; not committed). */
export function adminUiDir(): string {
  return join(adminRoot, 'dist');
}

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** Whether admin/dist holds a build at least as new as every UI source file. */
export function adminUiIsBuilt(outDir = adminUiDir()): boolean {
  const index = join(outDir, 'index.html');
  if (!existsSync(index)) return false;
  const sources = adminUiSourceDir();
  const newest = Math.max(newestMtime(join(sources, 'src')), newestMtime(join(sources, 'index.html')));
  return statSync(index).mtimeMs >= newest;
}

/**
 * Builds the UI with Vite (a dev dependency, loaded only here). The build goes to a directory of
 * its own first and then replaces outDir, so a server reading outDir never sees half a build.
 */
export async function buildAdminUi(options: { outDir?: string } = {}): Promise<{ outDir: string }> {
  const outDir = options.outDir ?? adminUiDir();
  const staging = `${outDir}.build-${process.pid}`;
  const [{ build }, { default: react }] = await Promise.all([import('vite'), import('@vitejs/plugin-react')]);
  await build({
    root: adminUiSourceDir(),
    base: './',
    configFile: false,
    logLevel: 'warn',
    plugins: [react()],
    build: { outDir: staging, emptyOutDir: true, chunkSizeWarningLimit: 4096, reportCompressedSize: false },
  });
  rmSync(outDir, { recursive: true, force: true });
  renameSync(staging, outDir);
  return { outDir };
}

/** Builds the UI unless admin/dist is already up to date with its sources. */
export async function ensureAdminUiBuilt(options: { outDir?: string } = {}): Promise<{ outDir: string; built: boolean }> {
  const outDir = options.outDir ?? adminUiDir();
  if (adminUiIsBuilt(outDir)) return { outDir, built: false };
  await buildAdminUi({ outDir });
  return { outDir, built: true };
}

export interface AdminUiOptions {
  /** standalone: sign-in with a token (the bridge); embedded: inside the Shopify admin through App Bridge. */
  readonly mode: 'standalone' | 'embedded';
  /** Where the API is mounted, as the browser sees it (default /api/v1). */
  readonly apiBase?: string;
  /** Embedded mode: the app's client id, for App Bridge's shopify-api-key meta tag. */
  readonly shopifyApiKey?: string;
  /** The built UI (default admin/dist). */
  readonly dir?: string;
}

const escapeAttribute = (value: string): string => value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** index.html with the mode and API base written in (and App Bridge first in the head when embedded). */
export function renderAdminIndex(template: string, options: AdminUiOptions): string {
  const config = JSON.stringify({ mode: options.mode, apiBase: options.apiBase ?? '/api/v1' }).replace(/</g, '\\u003c');
  const appBridge =
    options.mode === 'embedded'
      ? `<meta name="shopify-api-key" content="${escapeAttribute(options.shopifyApiKey ?? '')}" />\n    <script src="https://cdn.shopify.com/shopifycloud/app-bridge.js"></script>\n    `
      : '';
  const head = `${appBridge}<script id="clickthread-admin-config" type="application/json">${config}</script>`;
  return template.includes('<!--clickthread-head-->') ? template.replace('<!--clickthread-head-->', head) : template.replace('<head>', `<head>\n    ${head}`);
}

/**
 * Serves the built UI: mount it where the admin lives (the bridge: /admin; the Shopify app: its
 * app URL). The API itself is createApiRouter, mounted separately at /api/v1.
 */
export function createAdminUiRouter(options: AdminUiOptions): Router {
  const dir = options.dir ?? adminUiDir();
  const router = express.Router();
  let cached: string | undefined;
  const index = (): string | undefined => {
    if (cached !== undefined) return cached;
    const file = join(dir, 'index.html');
    if (!existsSync(file)) return undefined;
    cached = renderAdminIndex(readFileSync(file, 'utf8'), options);
    return cached;
  };

  router.get(['/', '/index.html'], (req, res) => {
    // relative asset URLs need the trailing slash: /admin → /admin/
    if (req.originalUrl.split('?')[0]?.endsWith('/') === false && req.path === '/') {
      res.redirect(301, `${req.originalUrl.split('?')[0]}/`);
      return;
    }
    const html = index();
    if (html === undefined) {
      res.status(503).type('text/plain').send('The admin UI is not built. Run: pnpm --filter @clickthread/admin build');
      return;
    }
    res.set('cache-control', 'no-store');
    if (options.mode === 'standalone') {
      // the standalone admin is never framed (clickjacking); the embedded one is framed by Shopify, whose app sets its CSP
      res.set('content-security-policy', "frame-ancestors 'none'");
      res.set('x-frame-options', 'DENY');
    }
    res.type('html').send(html);
  });
  router.use('/assets', express.static(join(dir, 'assets'), { immutable: true, maxAge: '365d', index: false, fallthrough: false }));
  return router;
}
