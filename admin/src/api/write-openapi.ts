import { writeFileSync } from 'node:fs';
import { apiRoutes } from './create-api-router.ts';
import { buildOpenApiDocument } from './openapi.ts';

/** Writes admin/openapi.json from the routes: `node admin/src/api/write-openapi.ts`. */
export const openApiFile = new URL('../../openapi.json', import.meta.url);

export function openApiText(): string {
  return `${JSON.stringify(buildOpenApiDocument(apiRoutes()), null, 2)}\n`;
}

if (import.meta.main) {
  writeFileSync(openApiFile, openApiText());
  console.log(`wrote ${openApiFile.pathname}`);
}
