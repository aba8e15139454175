import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A real HTTP tracker on 127.0.0.1 for tests across the workspace. It records every request and
 * answers the way affiliate networks do (TUNE's 200-with-a-verdict body, Everflow's plain 200, a
 * flaky server, slow or silent servers, resets, redirects, 429 with Retry-After), scripted per path.
 *
 *   const tracker = await startFakeTracker();
 *   tracker.behave('/aff_lsr', { kind: 'tune', answer: 'duplicate' });
 *   … send to `${tracker.url}/aff_lsr?transaction_id=…` …
 *   tracker.requests; // what arrived
 *   await tracker.close();
 */

export type TrackerBehaviour =
  /** A fixed answer. */
  | { readonly kind: 'reply'; readonly status?: number; readonly body?: string; readonly headers?: Readonly<Record<string, string>> }
  /**
   * TUNE / HasOffers: always 200, the verdict is in the body. `success` → `success=true;`,
   * `duplicate` → `success=false; err_msg=Duplicate conversion;`, `invalid` → `…Invalid Trans. ID…`,
   * `bad_token` → `…Invalid advertiser security token;`.
   */
  | { readonly kind: 'tune'; readonly answer?: 'success' | 'duplicate' | 'invalid' | 'bad_token' }
  /** Everflow: 200 with a small JSON body, whatever it thinks of the conversion. */
  | { readonly kind: 'everflow' }
  /** `failures` answers of `status` (default one 500), then 200 "OK". Counted per path. */
  | { readonly kind: 'flaky'; readonly failures?: number; readonly status?: number }
  /** Waits `delayMs`, then behaves as `after` (default 200 "OK"). */
  | { readonly kind: 'slow'; readonly delayMs: number; readonly after?: TrackerBehaviour }
  /** Reads the request and never answers; the socket stays open until the client gives up or close(). */
  | { readonly kind: 'timeout' }
  /** Destroys the connection without an answer (the client sees a reset / "other side closed"). */
  | { readonly kind: 'reset' }
  /** A redirect, by default 302 to the cloud metadata address, which a client must not follow. */
  | { readonly kind: 'redirect'; readonly location?: string; readonly status?: 301 | 302 | 303 | 307 | 308 }
  /** `times` answers of 429 with `Retry-After: seconds` (default once, 120 s), then 200 "OK". Counted per path. */
  | { readonly kind: 'retryAfter'; readonly seconds?: number; readonly times?: number }
  /** The n-th request to the path gets steps[n] (the last step repeats). */
  | { readonly kind: 'sequence'; readonly steps: readonly TrackerBehaviour[] };

export interface RecordedRequest {
  readonly method: string;
  /** Path without the query, e.g. "/aff_lsr". */
  readonly path: string;
  /** The raw request target as sent, e.g. "/aff_lsr?transaction_id=abc%2B1". */
  readonly target: string;
  /** Decoded query parameters (the last value wins for repeated names). */
  readonly query: Readonly<Record<string, string>>;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Wall-clock time the request arrived (ms since epoch); tests use it only for ordering. */
  readonly receivedAt: number;
  /** 0-based index of this request among the requests to the same path. */
  readonly pathIndex: number;
  /** The client's source port: requests sharing one are on one kept-alive connection. */
  readonly clientPort: number;
}

export interface FakeTracker {
  /** Base URL, e.g. "http://127.0.0.1:51234" (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** Every request received so far, in arrival order (a live array). */
  readonly requests: readonly RecordedRequest[];
  /** Sets how `path` answers ("*" sets the default for every path without its own behaviour). */
  behave(path: string, behaviour: TrackerBehaviour): void;
  /** Requests to one path. */
  requestsTo(path: string): RecordedRequest[];
  /** Resolves once at least `count` requests have arrived (rejects after `timeoutMs`, default 5 s). */
  waitForRequests(count: number, timeoutMs?: number): Promise<readonly RecordedRequest[]>;
  /** Forgets recorded requests and per-path counters (behaviours stay). */
  clear(): void;
  /** Closes the server and every open connection (including ones held by `timeout`). */
  close(): Promise<void>;
}

const metadataUrl = 'http://169.254.169.254/latest/meta-data/';

const tuneBodies = {
  success: 'success=true;',
  duplicate: 'success=false; err_msg=Duplicate conversion;',
  invalid: 'success=false; err_msg=Invalid Trans. ID #102ab0e1c2;',
  bad_token: 'success=false; err_msg=Invalid advertiser security token;',
} as const;

function send(res: ServerResponse, status: number, body: string, headers: Readonly<Record<string, string>> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startFakeTracker(options: { readonly host?: string } = {}): Promise<FakeTracker> {
  const host = options.host ?? '127.0.0.1';
  const requests: RecordedRequest[] = [];
  const behaviours = new Map<string, TrackerBehaviour>();
  const counters = new Map<string, number>();
  const sockets = new Set<Socket>();
  const pendingTimers = new Set<NodeJS.Timeout>();
  const waiters: Array<{ count: number; resolve: () => void }> = [];

  const answer = (behaviour: TrackerBehaviour, index: number, req: IncomingMessage, res: ServerResponse): void => {
    switch (behaviour.kind) {
      case 'reply':
        send(res, behaviour.status ?? 200, behaviour.body ?? 'OK', behaviour.headers);
        return;
      case 'tune':
        send(res, 200, tuneBodies[behaviour.answer ?? 'success']);
        return;
      case 'everflow':
        send(res, 200, '{"result":"ok"}', { 'content-type': 'application/json' });
        return;
      case 'flaky':
        if (index < (behaviour.failures ?? 1)) send(res, behaviour.status ?? 500, 'Internal Server Error');
        else send(res, 200, 'OK');
        return;
      case 'slow': {
        const timer = setTimeout(() => {
          pendingTimers.delete(timer);
          if (!res.destroyed) answer(behaviour.after ?? { kind: 'reply' }, index, req, res);
        }, behaviour.delayMs);
        pendingTimers.add(timer);
        return;
      }
      case 'timeout':
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'redirect':
        send(res, behaviour.status ?? 302, 'Found', { location: behaviour.location ?? metadataUrl });
        return;
      case 'retryAfter':
        if (index < (behaviour.times ?? 1)) send(res, 429, 'Too Many Requests', { 'retry-after': String(behaviour.seconds ?? 120) });
        else send(res, 200, 'OK');
        return;
      case 'sequence': {
        const step = behaviour.steps[Math.min(index, behaviour.steps.length - 1)];
        answer(step ?? { kind: 'reply' }, index, req, res);
        return;
      }
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = req.url ?? '/';
      const parsed = new URL(target, 'http://tracker.invalid');
      const path = parsed.pathname;
      const index = counters.get(path) ?? 0;
      counters.set(path, index + 1);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      requests.push({
        method: req.method ?? 'GET',
        path,
        target,
        query: Object.fromEntries(parsed.searchParams),
        headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
        pathIndex: index,
        clientPort: req.socket.remotePort ?? 0,
      });
      const ready = waiters.filter((w) => requests.length >= w.count);
      for (const waiter of ready) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      answer(behaviours.get(path) ?? behaviours.get('*') ?? { kind: 'reply' }, index, req, res);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // a reset or an abandoned request is expected here, not a test failure
  server.on('clientError', (_error, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${hostInUrl}:${port}`,
    port,
    requests,
    behave(path, behaviour) {
      behaviours.set(path, behaviour);
    },
    requestsTo(path) {
      return requests.filter((r) => r.path === path);
    },
    waitForRequests(count, timeoutMs = 5_000) {
      if (requests.length >= count) return Promise.resolve(requests);
      return new Promise((resolve, reject) => {
        const waiter = {
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(requests);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`fake tracker: expected ${count} requests within ${timeoutMs} ms, got ${requests.length}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    clear() {
      requests.length = 0;
      counters.clear();
    },
    async close() {
      for (const timer of pendingTimers) clearTimeout(timer);
      pendingTimers.clear();
      const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
