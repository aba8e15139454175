import { readFileSync } from 'node:fs';
import type { Router } from 'express';
import { describe, expect, it } from 'vitest';
import { createMemoryLogger, systemClock } from '@clickthread/core';
import type { AccessStore } from '@clickthread/core/access';
import type { Store } from '@clickthread/core/storage';
import { createApiRouter } from './create-api-router.ts';
import { openApiPath } from './openapi.ts';
import { openApiFile, openApiText } from './write-openapi.ts';

/**
 * admin/openapi.json describes exactly the routes the router serves: the paths and methods found by
 * walking the express router's own stack equal the file's, and the file equals what the route list
 * generates (regenerate with `node admin/src/api/write-openapi.ts`).
 */

interface Layer {
  readonly route?: { readonly path: string; readonly methods: Readonly<Record<string, boolean>> };
}

function routesOfStack(router: Router): string[] {
  const stack = (router as unknown as { stack: readonly Layer[] }).stack; // express keeps the stack untyped
  return stack.flatMap((layer) =>
    layer.route ? Object.keys(layer.route.methods).filter((m) => layer.route?.methods[m]).map((m) => `${m} ${openApiPath(layer.route?.path ?? '')}`) : [],
  );
}

describe('OpenAPI document', () => {
  const document = JSON.parse(readFileSync(openApiFile, 'utf8')) as { openapi: string; paths: Record<string, Record<string, unknown>> };
  // the router is only walked, never called: stand-in stores are enough
  const router = createApiRouter({ store: {} as Store, access: {} as AccessStore, clock: systemClock, logger: createMemoryLogger() });

  it('is OpenAPI 3.1', () => {
    expect(document.openapi).toBe('3.1.0');
  });

  it("lists exactly the router's routes", () => {
    const served = routesOfStack(router).toSorted();
    const documented = Object.entries(document.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`))
      .toSorted();
    expect(served.length).toBeGreaterThan(30);
    expect(documented).toEqual(served);
  });

  it('is up to date with the route schemas', () => {
    expect(readFileSync(openApiFile, 'utf8')).toBe(openApiText());
  });

  it('documents every path parameter and a body for every write that takes one', () => {
    for (const [path, operations] of Object.entries(document.paths)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const operation of Object.values(operations) as Array<{ parameters: Array<{ name: string; in: string }> }>) {
        expect(operation.parameters.filter((p) => p.in === 'path').map((p) => p.name)).toEqual(names);
      }
    }
    expect(document.paths['/merchants/{merchantId}/offers']?.['post']).toMatchObject({ requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Offer' } } } } });
  });
});
