import type { LookupAddress, LookupOptions } from 'node:dns';
import { Agent, request, type Dispatcher } from 'undici';
import { checkTarget, resolveAndCheck, systemResolver, type ResolvedAddress, type Resolver, type SsrfPolicy } from './ssrf-guard.ts';
import { keptBodyBytes, type Transport, type TransportRequest, type TransportResult } from './transport.ts';

/**
 * undici with a keep-alive pool and the SSRF guard. Before a send, the target is checked and its
 * addresses resolved (ssrf-guard.ts); the Agent's `connect.lookup` then hands the socket only
 * those checked addresses, so a DNS answer that changes between check and connect (rebinding)
 * cannot redirect the connection. A host seen again after the pin expired is resolved and checked
 * again inside the lookup itself. Redirects are never followed (undici does not follow them
 * unless told to).
 */

export interface UndiciTransportOptions {
  readonly ssrf: SsrfPolicy;
  /** Injected in tests (a host name resolving to a private address); defaults to the system resolver. */
  readonly resolver?: Resolver;
  readonly connectTimeoutMs?: number;
  /** Idle keep-alive sockets are closed after this long. */
  readonly keepAliveTimeoutMs?: number;
  /** Maximum sockets per origin. */
  readonly connectionsPerOrigin?: number;
  readonly userAgent?: string;
}

/** Thrown inside the connect lookup when a host now resolves to a refused address. */
class BlockedTargetError extends Error {
  readonly code = 'CT_SSRF_BLOCKED';
}

/** Read at most this much of an answer; past it the socket is dropped instead of drained. */
const maxDrainBytes = 16 * 1024;
const pinTtlMs = 30_000;
/** Headers a job may not set: they would break framing or the pinned connection's routing. */
const forbiddenHeaders = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect']);

function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    if ('code' in current && typeof current.code === 'string') codes.push(current.code);
    if ('name' in current && typeof current.name === 'string') codes.push(current.name);
    if (current instanceof AggregateError) for (const e of current.errors) codes.push(...errorCodes(e));
    current = 'cause' in current ? current.cause : undefined;
  }
  return codes;
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = 'code' in error && typeof error.code === 'string' ? `${error.code}: ` : '';
    return `${code}${error.message}`.slice(0, 300);
  }
  return String(error).slice(0, 300);
}

function failureOf(error: unknown, signal: AbortSignal): TransportResult {
  const codes = errorCodes(error);
  if (codes.includes('CT_SSRF_BLOCKED')) return { kind: 'blocked', reason: error instanceof Error ? error.message : 'target refused' };
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    const timedOut = reason instanceof Error && reason.name === 'TimeoutError';
    return { kind: 'failed', error: timedOut ? 'timeout' : 'network', detail: timedOut ? 'no complete answer before the timeout' : 'send aborted' };
  }
  if (codes.some((c) => ['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT'].includes(c))) {
    return { kind: 'failed', error: 'timeout', detail: describeError(error) };
  }
  if (codes.some((c) => ['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED'].includes(c))) {
    return { kind: 'failed', error: 'reset', detail: describeError(error) };
  }
  return { kind: 'failed', error: 'network', detail: describeError(error) };
}

/**
 * The first KB of an answer, as text. A small answer of announced length (what networks send) is
 * read whole; anything else is streamed, and a big one is cut off (the socket dropped) rather
 * than drained.
 */
async function firstKilobyte(body: Dispatcher.ResponseData['body'], contentLength: string | undefined): Promise<string> {
  if (contentLength !== undefined && /^\d+$/.test(contentLength) && Number(contentLength) <= maxDrainBytes) {
    const whole = Buffer.from(await body.arrayBuffer());
    return whole.subarray(0, keptBodyBytes).toString('utf8');
  }
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let seen = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (keptBytes < keptBodyBytes) {
      const slice = chunk.subarray(0, keptBodyBytes - keptBytes);
      kept.push(slice);
      keptBytes += slice.length;
    }
    seen += chunk.length;
    if (seen > maxDrainBytes) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(kept).toString('utf8');
}

function headersOf(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** Answers the socket's lookup with checked addresses only (both the `all` and the single form). */
function answerLookup(addresses: readonly ResolvedAddress[], lookupOptions: LookupOptions, callback: LookupCallback): void {
  if (lookupOptions.all === true) callback(null, addresses.map((a) => ({ address: a.address, family: a.family })));
  else {
    const first = addresses[0];
    if (first) callback(null, first.address, first.family);
    else callback(new BlockedTargetError('no checked address'), '');
  }
}

export function createUndiciTransport(options: UndiciTransportOptions): Transport {
  const resolver = options.resolver ?? systemResolver;
  const policy = options.ssrf;
  /** host → the addresses checked for it just now; read by the connect lookup. */
  const pins = new Map<string, { addresses: readonly ResolvedAddress[]; until: number }>();

  const agent = new Agent({
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 10_000,
    connections: options.connectionsPerOrigin ?? 64,
    connect: {
      timeout: options.connectTimeoutMs ?? 5_000,
      lookup: (hostname, lookupOptions, callback) => {
        const pin = pins.get(hostname);
        if (pin && pin.until > performance.now()) {
          answerLookup(pin.addresses, lookupOptions, callback);
          return;
        }
        resolveAndCheck(hostname, policy, resolver).then(
          (checked) => {
            if (checked.ok) answerLookup(checked.value, lookupOptions, callback);
            else callback(new BlockedTargetError(checked.reason), '');
          },
          (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), ''),
        );
      },
    },
  });

  return {
    async send(req: TransportRequest): Promise<TransportResult> {
      const target = await checkTarget(req.url, { allowHttp: req.allowHttp, policy, resolver });
      if (!target.ok) return { kind: 'blocked', reason: target.reason };
      const hostname = target.value.url.hostname;
      pins.set(hostname, { addresses: target.value.addresses, until: performance.now() + pinTtlMs });
      if (pins.size > 1_000) for (const [host, pin] of pins) if (pin.until <= performance.now()) pins.delete(host);

      const headers: Record<string, string> = { 'user-agent': options.userAgent ?? 'Clickthread postback' };
      for (const [name, value] of Object.entries(req.headers)) if (!forbiddenHeaders.has(name.toLowerCase())) headers[name.toLowerCase()] = value;

      try {
        // the URL exactly as rendered (undici parses it again; the checked URL names the same host)
        const res = await request(req.url, {
          dispatcher: agent,
          method: req.method,
          headers,
          signal: req.signal,
          ...(req.method === 'POST' ? { body: '' } : {}),
        });
        const answerHeaders = headersOf(res.headers);
        return {
          kind: 'answer',
          status: res.statusCode,
          headers: answerHeaders,
          body: await firstKilobyte(res.body, answerHeaders['content-length']),
          pinnedAddresses: target.value.addresses.map((a) => a.address),
        };
      } catch (error) {
        return failureOf(error, req.signal);
      }
    },
    async close() {
      await agent.close();
    },
  };
}
