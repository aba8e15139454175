import { buildAdminUi } from './admin-ui.ts';

/** `pnpm --filter @clickthread/admin build`: builds the admin UI into admin/dist. */
const started = performance.now();
const { outDir } = await buildAdminUi();
console.log(`admin UI built into ${outDir} in ${Math.round(performance.now() - started)} ms`);
