/**
 * What a route handler answers. Handlers return a reply instead of throwing: a missing resource or
 * a bad field is an expected answer, not an exception. Every error body has the same shape:
 * `{ error: { code, message, issues? } }`, where each issue names the field (`query.status`,
 * `body.label`, or the offer's own path such as `postbacks.sale.url`).
 */

export interface ApiIssue {
  readonly path: string;
  readonly message: string;
}

export interface ApiErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly issues?: readonly ApiIssue[] };
}

export interface ApiReply {
  readonly status: number;
  /** Undefined for 204. */
  readonly body?: unknown;
}

export function errorBody(code: string, message: string, issues?: readonly ApiIssue[]): ApiErrorBody {
  return { error: { code, message, ...(issues === undefined ? {} : { issues }) } };
}

export const ok = (body: unknown): ApiReply => ({ status: 200, body });
export const created = (body: unknown): ApiReply => ({ status: 201, body });
export const noContent = (): ApiReply => ({ status: 204 });

export function fail(status: number, code: string, message: string, issues?: readonly ApiIssue[]): ApiReply {
  return { status, body: errorBody(code, message, issues) };
}

export const notFound = (what: string): ApiReply => fail(404, 'not_found', `${what} not found`);
export const forbidden = (message: string): ApiReply => fail(403, 'forbidden', message);
export const invalid = (issues: readonly ApiIssue[], message = 'the request is invalid'): ApiReply => fail(400, 'invalid_request', message, issues);
