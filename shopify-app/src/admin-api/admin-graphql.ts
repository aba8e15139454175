import { createAdminApiClient } from '@shopify/admin-api-client';
import { err, ok, type Logger, type Result } from '@clickthread/core';

/**
 * GraphQL Admin API calls (the only Admin API Clickthread uses: REST Admin is legacy for new public
 * apps). Requests go through Shopify's own client (@shopify/admin-api-client: endpoint per API
 * version, access-token header, retries on 429/503). The fetch underneath is injectable, so tests
 * point it at a loopback stand-in and still exercise the real client.
 */

/** fetch as Shopify's client calls it. */
export type GraphqlFetch = (url: string, init?: RequestInit) => Promise<Response>;

export interface OfflineAccess {
  readonly shop: string;
  readonly accessToken: string;
}

export interface AdminGraphql {
  /** The shop's offline access (token), or undefined when the shop has none (not installed, uninstalled). */
  access(shop: string): Promise<OfflineAccess | undefined>;
  request<T>(access: OfflineAccess, operation: string, variables: Record<string, unknown>): Promise<Result<T>>;
}

export function createAdminGraphql(deps: {
  readonly apiVersion: string;
  readonly loadAccess: (shop: string) => Promise<OfflineAccess | undefined>;
  readonly logger: Logger;
  readonly fetch?: GraphqlFetch;
  /** Each call is bounded; a stuck Admin API must not hold the worker or the reconciler. */
  readonly timeoutMs?: number;
  readonly retries?: number;
}): AdminGraphql {
  const timeoutMs = deps.timeoutMs ?? 15_000;
  const baseFetch: GraphqlFetch = deps.fetch ?? ((url, init) => fetch(url, init));
  const boundedFetch: GraphqlFetch = (url, init) => baseFetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  return {
    access: deps.loadAccess,
    async request<T>(access: OfflineAccess, operation: string, variables: Record<string, unknown>): Promise<Result<T>> {
      const client = createAdminApiClient({
        storeDomain: access.shop,
        apiVersion: deps.apiVersion,
        accessToken: access.accessToken,
        customFetchApi: boundedFetch,
        retries: deps.retries ?? 1,
      });
      try {
        const response = await client.request<T>(operation, { variables });
        if (response.errors) {
          const e = response.errors;
          const detail = e.graphQLErrors?.map((g) => g.message).join('; ') || e.message || 'unknown error';
          return err(`GraphQL Admin API ${e.networkStatusCode ?? ''} ${detail}`.replace(/\s+/g, ' ').trim());
        }
        if (response.data === undefined) return err('GraphQL Admin API answered without data');
        return ok(response.data);
      } catch (error) {
        deps.logger.warn({ err: error, shop: access.shop }, 'GraphQL Admin API request failed');
        return err(`GraphQL Admin API request failed: ${(error as Error).message}`);
      }
    },
  };
}
