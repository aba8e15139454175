/**
 * The transport port: how the worker sends one postback. The default is undici with the SSRF
 * guard (undici-transport.ts); tests inject their own. Network trouble is an expected answer, not
 * an exception: send() only throws for bugs.
 */

export interface TransportRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Aborts the send (the worker passes AbortSignal.timeout). */
  readonly signal: AbortSignal;
  /** The offer allowed a plain-http target. */
  readonly allowHttp: boolean;
}

export type TransportResult =
  | {
      readonly kind: 'answer';
      readonly status: number;
      /** Lower-case names; repeated headers joined with ", ". */
      readonly headers: Readonly<Record<string, string>>;
      /** The first KB of the body, as UTF-8. */
      readonly body: string;
      /** The checked addresses the connection was limited to (empty when the transport cannot tell). */
      readonly pinnedAddresses: readonly string[];
    }
  | { readonly kind: 'failed'; readonly error: 'timeout' | 'network' | 'reset'; readonly detail: string }
  /** Refused before anything was sent (SSRF guard, bad URL): final, never retried. */
  | { readonly kind: 'blocked'; readonly reason: string };

export interface Transport {
  send(request: TransportRequest): Promise<TransportResult>;
  /** Closes pooled connections. */
  close(): Promise<void>;
}

/** How much of an answer's body is kept (and recorded in the postback log). */
export const keptBodyBytes = 1024;
