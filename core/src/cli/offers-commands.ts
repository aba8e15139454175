import { writeFile } from 'node:fs/promises';
import { postbackEvents } from '../orders/order.ts';
import { CliFailure, merchantFor, withStore, type CliContext } from './cli-context.ts';
import { formatTable } from './cli-output.ts';
import { readOfferFile } from './offer-file.ts';

export async function offersList(ctx: CliContext, opts: { merchant: string; json?: boolean }): Promise<void> {
  await withStore(ctx, async (store) => {
    const merchantId = await merchantFor(ctx, store, opts.merchant);
    const offers = await store.listOffers(merchantId);
    if (opts.json === true) {
      ctx.output.out(JSON.stringify(offers, null, 2));
      return;
    }
    if (offers.length === 0) {
      ctx.output.err(`no offers for merchant "${merchantId}" (add one with: clickthread offers add <file.json>)`);
      return;
    }
    const rows = offers.map((o) => [
      o.id,
      o.network,
      o.enabled ? 'yes' : 'no',
      postbackEvents.filter((e) => o.postbacks[e] !== undefined).join(','),
      o.stores === 'all' ? 'all' : o.stores.join(','),
      o.name,
    ]);
    for (const line of formatTable(['ID', 'NETWORK', 'ENABLED', 'EVENTS', 'STORES', 'NAME'], rows)) ctx.output.out(line);
  });
}

export async function offersAdd(ctx: CliContext, file: string, opts: { merchant: string; replace?: boolean }): Promise<void> {
  const read = await readOfferFile(file, { single: true });
  if (!read.ok) throw new CliFailure(read.reason);
  const [offer] = read.value;
  if (!offer) throw new CliFailure([`${file}: the file holds no offer`]);
  await withStore(ctx, async (store) => {
    const merchantId = await merchantFor(ctx, store, opts.merchant);
    if (opts.replace !== true && (await store.getOffer(merchantId, offer.id))) {
      throw new CliFailure([`offer "${offer.id}" already exists for merchant "${merchantId}" (use --replace to overwrite it)`]);
    }
    await store.saveOffer(merchantId, offer, ctx.clock.now());
    ctx.output.out(`saved offer "${offer.id}" (${offer.network}) for merchant "${merchantId}"`);
  });
}

export async function offersImport(ctx: CliContext, file: string, opts: { merchant: string; replace?: boolean }): Promise<void> {
  // every offer is checked before any is stored: a file with one bad offer changes nothing
  const read = await readOfferFile(file);
  if (!read.ok) throw new CliFailure([`${read.reason.length} problem${read.reason.length === 1 ? '' : 's'}, nothing imported:`, ...read.reason]);
  const offers = read.value;
  await withStore(ctx, async (store) => {
    const merchantId = await merchantFor(ctx, store, opts.merchant);
    if (opts.replace !== true) {
      const existing = new Set((await store.listOffers(merchantId)).map((o) => o.id));
      const clashes = offers.filter((o) => existing.has(o.id)).map((o) => o.id);
      if (clashes.length > 0) throw new CliFailure([`these offers already exist for merchant "${merchantId}", nothing imported (use --replace): ${clashes.join(', ')}`]);
    }
    const progress = ctx.output.progress('importing offers', offers.length);
    let done = 0;
    for (const offer of offers) {
      await store.saveOffer(merchantId, offer, ctx.clock.now());
      done += 1;
      progress.tick(done);
    }
    progress.finish(`${done} imported`);
    ctx.output.out(`imported ${done} offer${done === 1 ? '' : 's'} for merchant "${merchantId}"`);
  });
}

export async function offersExport(ctx: CliContext, opts: { merchant: string; out?: string }): Promise<void> {
  await withStore(ctx, async (store) => {
    const merchantId = await merchantFor(ctx, store, opts.merchant);
    const offers = await store.listOffers(merchantId);
    const text = `${JSON.stringify({ offers }, null, 2)}\n`;
    if (opts.out === undefined) ctx.output.out(text.trimEnd());
    else {
      await writeFile(opts.out, text, 'utf8');
      ctx.output.err(`exported ${offers.length} offer${offers.length === 1 ? '' : 's'} to ${opts.out}`);
    }
  });
}
