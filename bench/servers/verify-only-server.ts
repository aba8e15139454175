// The request path of a Shopify webhook without its storage: Express, the raw body of the route,
// the app's own HMAC verification and lossless JSON parse, 200. What the real app costs beyond this
// is storage and planning; what this costs beyond the bare server is the framework and the checks
// every webhook must pass. `node bench/servers/verify-only-server.ts <secret>`
import { createServer } from 'node:http';
import express from 'express';
import { createShopifyWebhookVerifier, parseJsonLossless } from '@clickthread/shopify-app';
import { serveOnLoopback } from '../shared/child-server.ts';

const secret = process.argv[2];
if (!secret) {
  console.error('usage: verify-only-server.ts <secret>');
  process.exit(2);
}
const verify = createShopifyWebhookVerifier(secret);
const app = express();
app.post('/webhooks/orders/paid', express.raw({ type: () => true, limit: '2mb' }), (req, res) => {
  const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const verdict = verify(raw, req.headers);
  if (!verdict.valid) {
    res.status(401).json({ error: verdict.reason });
    return;
  }
  const body = parseJsonLossless(raw.toString('utf8'));
  if (!body.ok) {
    res.status(400).json({ error: body.reason });
    return;
  }
  res.status(200).json({ ok: true, jobs: 1 });
});
const server = createServer(app);
await serveOnLoopback(server);
