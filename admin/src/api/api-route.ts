import type { Request } from 'express';
import type { z } from 'zod';
import type { ApiDeps } from './api-deps.ts';
import { forbidden, invalid, type ApiIssue, type ApiReply } from './api-reply.ts';
import type { Principal } from './principal.ts';

/**
 * One route of the API: its method and path, the zod schemas its params, query and body must
 * pass, who may call it, and a handler that gets the parsed values. The router registers these,
 * and the OpenAPI document is generated from the same list, so neither can drift from the code.
 */

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';
/** 'agency': agencies and the operator; 'operator': the operator only. */
export type Role = 'any' | 'agency' | 'operator';

export interface RouteContext<P, Q, B> {
  readonly principal: Principal;
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly deps: ApiDeps;
  readonly req: Request;
}

export interface RouteSpec<P, Q, B> {
  readonly method: HttpMethod;
  /** Express syntax: /merchants/:merchantId */
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  readonly role?: Role;
  readonly params?: z.ZodType<P>;
  readonly query?: z.ZodType<Q>;
  readonly body?: z.ZodType<B>;
  /** Documents a body the handler validates itself (offers go through core's parseOffer). */
  readonly bodyDoc?: z.ZodType;
  /** The answers of this route beyond the ones every route has (400, 401, 429, 500). */
  readonly responses: Readonly<Record<number, string>>;
  handle(ctx: RouteContext<P, Q, B>): Promise<ApiReply>;
}

export interface ApiRoute {
  readonly method: HttpMethod;
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  readonly role: Role;
  readonly params: z.ZodType | undefined;
  readonly query: z.ZodType | undefined;
  readonly body: z.ZodType | undefined;
  readonly bodyDoc: z.ZodType | undefined;
  readonly responses: Readonly<Record<number, string>>;
  run(principal: Principal, req: Request, deps: ApiDeps): Promise<ApiReply>;
}

export function issuesOf(error: z.ZodError, where: string): ApiIssue[] {
  return error.issues.map((issue) => ({ path: [where, ...issue.path.map(String)].join('.'), message: issue.message }));
}

function allowed(role: Role, principal: Principal): boolean {
  if (role === 'any') return true;
  if (role === 'operator') return principal.scope.kind === 'operator';
  return principal.scope.kind !== 'merchant';
}

export function defineRoute<P = Record<string, never>, Q = Record<string, never>, B = undefined>(spec: RouteSpec<P, Q, B>): ApiRoute {
  const role = spec.role ?? 'any';
  return {
    method: spec.method,
    path: spec.path,
    summary: spec.summary,
    tag: spec.tag,
    role,
    params: spec.params,
    query: spec.query,
    body: spec.body,
    bodyDoc: spec.bodyDoc,
    responses: spec.responses,
    async run(principal, req, deps) {
      if (!allowed(role, principal)) {
        return forbidden(role === 'operator' ? 'only the operator token may do this' : 'a merchant token may not do this; use an agency or operator token');
      }
      const issues: ApiIssue[] = [];
      const parse = <T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T | undefined => {
        if (schema === undefined) return undefined;
        const parsed = schema.safeParse(value);
        if (parsed.success) return parsed.data;
        issues.push(...issuesOf(parsed.error, where));
        return undefined;
      };
      const params = parse(spec.params, { ...req.params }, 'params');
      const query = parse(spec.query, { ...(req.query as Record<string, unknown>) }, 'query');
      const body = parse(spec.body, req.body ?? {}, 'body');
      if (issues.length > 0) return invalid(issues);
      // each is undefined only when the route declared no schema for it
      return spec.handle({ principal, params: params as P, query: query as Q, body: body as B, deps, req });
    },
  };
}
