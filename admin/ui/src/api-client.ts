/**
 * The admin UI's view of the agency API. Every call answers a result, never throws for an HTTP
 * error: the screens show the error's message and the issues naming each field.
 */

export interface AdminConfig {
  readonly mode: 'standalone' | 'embedded';
  readonly apiBase: string;
}

export interface ApiIssue {
  readonly path: string;
  readonly message: string;
}

export type ApiResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly status: number; readonly code: string; readonly message: string; readonly issues: readonly ApiIssue[] };

export function readConfig(): AdminConfig {
  const element = document.getElementById('clickthread-admin-config');
  const fallback: AdminConfig = { mode: 'standalone', apiBase: '/api/v1' };
  if (!element?.textContent) return fallback;
  try {
    const parsed = JSON.parse(element.textContent) as Partial<AdminConfig>;
    return { mode: parsed.mode === 'embedded' ? 'embedded' : 'standalone', apiBase: typeof parsed.apiBase === 'string' ? parsed.apiBase : fallback.apiBase };
  } catch {
    return fallback;
  }
}

const tokenKey = 'clickthread.token';

export const tokenStore = {
  get: (): string | null => sessionStorage.getItem(tokenKey),
  set: (token: string): void => sessionStorage.setItem(tokenKey, token),
  clear: (): void => sessionStorage.removeItem(tokenKey),
};

export interface ApiClient {
  get<T>(path: string, query?: Readonly<Record<string, string | undefined>>): Promise<ApiResult<T>>;
  send<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<ApiResult<T>>;
}

interface ErrorBody {
  readonly error?: { readonly code?: string; readonly message?: string; readonly issues?: readonly ApiIssue[] };
}

export function createApiClient(config: AdminConfig, token: string | null, onUnauthorized: () => void): ApiClient {
  async function call<T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    // embedded: App Bridge adds the Shopify session token to same-origin fetches itself
    if (config.mode === 'standalone' && token !== null) headers['authorization'] = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${config.apiBase}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch (error) {
      return { ok: false, status: 0, code: 'network', message: `Could not reach the server: ${error instanceof Error ? error.message : String(error)}`, issues: [] };
    }
    if (response.status === 401) onUnauthorized();
    if (response.status === 204) return { ok: true, value: undefined as T };
    let json: unknown = null;
    try {
      json = await response.json();
    } catch {
      json = null;
    }
    if (response.ok) return { ok: true, value: json as T };
    const e = (json as ErrorBody | null)?.error;
    return { ok: false, status: response.status, code: e?.code ?? 'http_error', message: e?.message ?? `HTTP ${response.status}`, issues: e?.issues ?? [] };
  }
  return {
    get: (path, query = {}) => {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(key, value);
      const qs = params.toString();
      return call('GET', qs === '' ? path : `${path}?${qs}`);
    },
    send: (method, path, body) => call(method, path, body),
  };
}

// The shapes the API answers with (see admin/openapi.json).

export type PostbackEvent = 'sale' | 'lead' | 'first_order' | 'refund' | 'cancel';
export const postbackEvents: readonly PostbackEvent[] = ['sale', 'lead', 'first_order', 'refund', 'cancel'];

export interface Merchant {
  readonly id: string;
  readonly name: string;
  readonly agencyId: string | null;
}

export interface Me {
  readonly scope: { readonly kind: 'operator' } | { readonly kind: 'agency'; readonly agencyId: string } | { readonly kind: 'merchant'; readonly merchantId: string };
  readonly actor: string;
  readonly merchants: readonly Merchant[];
}

export interface PostbackSpec {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
}

/** An offer as the one schema outputs it; fields the UI does not edit are carried along untouched. */
export interface Offer {
  readonly id: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly network: string;
  readonly captureParams?: readonly string[];
  readonly extraParams: readonly string[];
  readonly attribution: { readonly windowDays: number; readonly model: 'last_click' | 'first_click' };
  readonly postbacks: Partial<Record<PostbackEvent, PostbackSpec>>;
  readonly amount: { readonly basis: string; readonly currency: string };
  readonly testOrders: string;
  readonly stores: 'all' | readonly string[];
  readonly allowHttp: boolean;
  readonly answer?: Readonly<Record<string, string>>;
}

export interface Preset {
  readonly id: string;
  readonly label: string;
  readonly captureParams: readonly string[];
  readonly postbacks: Partial<Record<PostbackEvent, string>>;
}

export interface Presets {
  readonly presets: readonly Preset[];
  readonly sample: Readonly<Record<string, string>>;
}

export interface Substitution {
  readonly macro: string;
  readonly raw: string;
  readonly encoded: string;
}

export type EventPreview =
  | { readonly event: PostbackEvent; readonly ok: true; readonly url: string; readonly substitutions: readonly Substitution[] }
  | { readonly event: PostbackEvent; readonly ok: false; readonly problems: readonly string[] };

export interface Preview {
  readonly valid: boolean;
  readonly issues: readonly ApiIssue[];
  readonly previews: readonly EventPreview[];
}

export type JobStatus = 'pending' | 'in_flight' | 'succeeded' | 'failed' | 'dead';

export interface Postback {
  readonly id: string;
  readonly storeId: string;
  readonly orderId: string;
  readonly orderNumber: string;
  readonly offerId: string;
  readonly event: PostbackEvent;
  readonly method: string;
  readonly url: string;
  readonly transactionId: string;
  readonly idSource: string;
  readonly amount: string;
  readonly currency: string;
  readonly test: boolean;
  readonly status: JobStatus;
  readonly attempts: number;
  readonly nextAttemptAt: string;
  readonly lastOutcome: string | null;
  readonly lastError: string | null;
  readonly createdAt: string;
}

export interface Attempt {
  readonly attempt: number;
  readonly startedAt: string;
  readonly latencyMs: number;
  readonly requestUrl: string;
  readonly status: number | null;
  readonly responseBody: string;
  readonly outcome: string;
  readonly errorClass: string | null;
  readonly detail: string | null;
}

export interface TestFireResult {
  readonly request: { readonly method: string; readonly url: string; readonly headers: Readonly<Record<string, string>> };
  readonly response: { readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: string } | null;
  readonly outcome: string;
  readonly reason: string;
  readonly errorClass: string | null;
  readonly latencyMs: number;
}

export interface Overview {
  readonly days: number;
  readonly conversionsReported: number;
  readonly failed: number;
  readonly pending: number;
  readonly successRate: number | null;
  readonly deadLetters: number;
  readonly unattributed: {
    readonly count: number;
    readonly byReason: ReadonlyArray<{ readonly reason: string; readonly count: number }>;
    readonly recent: ReadonlyArray<{ readonly orderNumber: string; readonly reason: string; readonly at: string }>;
  };
  readonly series: ReadonlyArray<{ readonly date: string; readonly succeeded: number; readonly failed: number; readonly dead: number; readonly pending: number }>;
}

/** An order note or tags a store did not take (GET /merchants/:id/write-backs). */
export interface WriteBack {
  readonly postbackId: string;
  readonly storeId: string;
  readonly platform: string;
  readonly status: 'pending' | 'dead';
  readonly outcome: { readonly status: string; readonly outcome: string; readonly reason: string };
  readonly attempts: number;
  readonly step: string | null;
  readonly nextTryAt: string | null;
  readonly lastError: string | null;
  readonly updatedAt: string;
}

export interface ConnectionHealth {
  readonly lastDeliveryAt?: string | null;
  readonly webhooks?: ReadonlyArray<{ readonly topic: string; readonly id: string; readonly status: string }>;
  readonly reconcileLagSeconds?: number | null;
  readonly lastReconcileAt?: string | null;
  readonly pendingOrders?: number;
  readonly warnings?: readonly string[];
}

export interface StoreView {
  readonly id: string;
  readonly platform: string;
  readonly domain: string;
  readonly status: string;
  readonly createdAt: string;
  readonly health: ConnectionHealth | null;
  readonly snippet: string | null;
}
