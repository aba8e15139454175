import { z } from 'zod';
import { offerSchema } from '@clickthread/core';
import type { ApiRoute } from './api-route.ts';

/**
 * The OpenAPI 3.1 document of the API, generated from the route list (the same zod schemas the
 * router validates with). admin/openapi.json is this document written out; a test keeps the two
 * equal and checks the file's paths and methods against the router's own stack.
 */

type JsonSchema = Record<string, unknown>;

const errorSchema: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', examples: ['invalid_request', 'not_found', 'unauthorized', 'rate_limited'] },
        message: { type: 'string' },
        issues: {
          type: 'array',
          items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string', examples: ['query.status', 'postbacks.sale.url'] }, message: { type: 'string' } } },
        },
      },
    },
  },
};

const commonResponses: Record<string, unknown> = {
  400: { description: 'Invalid request: every issue names its field', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
  401: { description: 'No token, or an invalid, revoked or orphaned one', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
  429: { description: 'Rate limited (per token)', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
};

function toJson(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  delete json['$schema'];
  return json;
}

/** /merchants/:merchantId → /merchants/{merchantId} */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parametersOf(schema: z.ZodType | undefined, where: 'path' | 'query'): unknown[] {
  if (schema === undefined) return [];
  const json = toJson(schema);
  const properties = (json['properties'] ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json['required'] ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: property,
  }));
}

export function buildOpenApiDocument(routes: readonly ApiRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    const responses: Record<string, unknown> = { ...commonResponses };
    for (const [status, description] of Object.entries(route.responses)) {
      const numeric = Number(status);
      responses[status] =
        numeric === 204
          ? { description }
          : { description, content: { 'application/json': { schema: numeric >= 400 ? { $ref: '#/components/schemas/Error' } : { type: 'object' } } } };
    }
    if (route.role !== 'any') responses['403'] ??= { description: route.role === 'operator' ? 'Operator only' : 'Agency or operator only', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    const bodySchema = route.body ?? route.bodyDoc;
    // the one offer schema is described once, under components
    const bodyJson = bodySchema === undefined ? undefined : bodySchema === offerSchema ? { $ref: '#/components/schemas/Offer' } : toJson(bodySchema);
    const operation: Record<string, unknown> = {
      operationId: `${route.method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      summary: route.summary,
      tags: [route.tag],
      parameters: [...parametersOf(route.params, 'path'), ...parametersOf(route.query, 'query')],
      ...(bodyJson === undefined ? {} : { requestBody: { required: true, content: { 'application/json': { schema: bodyJson } } } }),
      responses,
    };
    paths[path] = { ...paths[path], [route.method]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Clickthread agency API',
      version: '1.0.0',
      description:
        'Merchants, stores, offers, the postback log and replay. Authenticate with `Authorization: Bearer <token>` (an agency, merchant or operator token). ' +
        'Another tenant\'s resource answers 404. Errors are `{"error": {"code", "message", "issues"?}}`.',
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'ct_<prefix>_<secret> API token, the operator token, or (Shopify app) a session token' } },
      schemas: { Error: errorSchema, Offer: toJson(offerSchema) },
    },
    paths,
  };
}
