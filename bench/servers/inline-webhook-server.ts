// The "inline" design Clickthread is compared with: Express + the official Shopify webhook
// validation + the postback fired inside the request, answered once the tracker has answered.
// `node bench/servers/inline-webhook-server.ts <secret> <tracker base URL>`
// the official library picks its runtime (Node) by this import; it has no other way to be told
// oxlint-disable-next-line import/no-unassigned-import
import '@shopify/shopify-api/adapters/node';
import type { AddressInfo } from 'node:net';
import { ApiVersion, LogSeverity, shopifyApi } from '@shopify/shopify-api';
import express, { type Request, type Response } from 'express';
import { Agent, request } from 'undici';
import { announceReady, onTerminate } from '../shared/child-server.ts';

const [secret, trackerUrl] = process.argv.slice(2);
if (!secret || !trackerUrl) {
  console.error('usage: inline-webhook-server.ts <secret> <tracker base URL>');
  process.exit(2);
}

const shopify = shopifyApi({
  apiKey: 'bench-api-key',
  apiSecretKey: secret,
  apiVersion: ApiVersion.July26,
  hostName: 'localhost',
  hostScheme: 'http',
  isEmbeddedApp: false,
  logger: { level: LogSeverity.Error },
});
// a keep-alive pool as large as the load, so the comparison is about waiting, not connecting
const agent = new Agent({ connections: 256, keepAliveTimeout: 60_000 });

const app = express();
app.post('/webhooks/orders/paid', express.text({ type: '*/*', limit: '2mb' }), async (req: Request, res: Response) => {
  const rawBody = typeof req.body === 'string' ? req.body : '';
  const check = await shopify.webhooks.validate({ rawBody, rawRequest: req, rawResponse: res });
  if (!check.valid) {
    res.status(401).json({ error: check.reason });
    return;
  }
  const order = JSON.parse(rawBody) as { id: number; total_price: string; note_attributes?: Array<{ name: string; value: string }> };
  const attribute = order.note_attributes?.find((a) => a.name === '_clickthread');
  const transactionId = attribute ? (JSON.parse(attribute.value) as { id: string }).id : '';
  const target = `${trackerUrl}/aff_lsr?offer_id=12&transaction_id=${encodeURIComponent(transactionId)}&amount=${order.total_price}&adv_sub=${order.id}`;
  try {
    const answer = await request(target, { dispatcher: agent, signal: AbortSignal.timeout(10_000) });
    await answer.body.text();
    res.status(200).json({ ok: true, postback: answer.statusCode });
  } catch {
    res.status(200).json({ ok: true, postback: 'failed' });
  }
});
const server = app.listen(0, '127.0.0.1');
await new Promise<void>((resolve) => server.once('listening', () => resolve()));
server.keepAliveTimeout = 60_000;
onTerminate(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  await agent.close();
});
announceReady({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, path: '/webhooks/orders/paid' });
