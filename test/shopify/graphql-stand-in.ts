import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GraphqlFetch } from '../../shopify-app/src/admin-api/admin-graphql.ts';
import type { Json, JsonObject } from './order-payload-builder.ts';

/**
 * A loopback stand-in for Shopify's GraphQL Admin API. The app's real client (Shopify's
 * admin-api-client) talks to it through `graphqlFetch`, which only swaps the shop's origin for the
 * stand-in's: path, headers and body are what Shopify would receive.
 */

export interface GraphqlCall {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly query: string;
  readonly variables: Readonly<Record<string, Json>>;
}

export type GraphqlAnswer = { status?: number; body: Json };

export interface GraphqlStandIn {
  readonly url: string;
  readonly calls: GraphqlCall[];
  /** Decides the answer to each call; by default every call gets a GraphQL error. */
  answer: (call: GraphqlCall) => GraphqlAnswer;
  /** fetch for the app: same request, sent to the stand-in. */
  readonly fetch: GraphqlFetch;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startGraphqlStandIn(): Promise<GraphqlStandIn> {
  const calls: GraphqlCall[] = [];
  const script = {
    answer: (_call: GraphqlCall): GraphqlAnswer => ({ body: { errors: [{ message: 'no answer scripted' }] } }),
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void readBody(req).then((text) => {
      const parsed = JSON.parse(text) as { query: string; variables?: Record<string, Json> };
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
      const call: GraphqlCall = { path: req.url ?? '', headers, query: parsed.query, variables: parsed.variables ?? {} };
      calls.push(call);
      const answer = script.answer(call);
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    get answer() {
      return script.answer;
    },
    set answer(fn) {
      script.answer = fn;
    },
    fetch: (target, init) => {
      const parsed = new URL(target);
      return fetch(`${url}${parsed.pathname}${parsed.search}`, init);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}

const money = (shop: string, presentment: string): JsonObject => ({
  shopMoney: { amount: shop, currencyCode: 'AUD' },
  presentmentMoney: { amount: presentment, currencyCode: 'USD' },
});

/** An order node as the reconciliation query returns it (paid, AUD shop, USD buyer). */
export function graphqlOrderNode(id: Json, overrides: JsonObject = {}): JsonObject {
  return {
    legacyResourceId: String(id),
    name: `#${String(id).slice(-4)}`,
    createdAt: '2026-03-02T12:00:00Z',
    updatedAt: '2026-03-02T12:00:05Z',
    cancelledAt: null,
    test: false,
    sourceName: 'web',
    displayFinancialStatus: 'PAID',
    currencyCode: 'AUD',
    presentmentCurrencyCode: 'USD',
    cartToken: null,
    customAttributes: [],
    discountCodes: [],
    customer: null,
    customerJourneySummary: null,
    subtotalPriceSet: money('45.62', '34.67'),
    totalPriceSet: money('60.33', '45.85'),
    totalTaxSet: money('4.56', '3.47'),
    totalDiscountsSet: money('0.00', '0.00'),
    totalShippingPriceSet: money('10.15', '7.71'),
    currentSubtotalPriceSet: money('45.62', '34.67'),
    currentTotalPriceSet: money('60.33', '45.85'),
    currentTotalTaxSet: money('4.56', '3.47'),
    currentTotalDiscountsSet: money('0.00', '0.00'),
    refunds: [],
    ...overrides,
  };
}

export function ordersPage(nodes: JsonObject[], next: string | null = null): JsonObject {
  return { data: { orders: { pageInfo: { hasNextPage: next !== null, endCursor: next }, nodes } } };
}

export { money as graphqlMoney };
