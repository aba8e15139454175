import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCaptureScript, captureScriptByteLimit } from '@clickthread/core/storefront';

/**
 * Writes core's capture script into the theme app extension as assets/clickthread.js, the file the
 * app embed's schema names in "javascript". Run before `shopify app dev` (shopify.web.toml predev)
 * and `shopify app deploy`: the asset is build output and is not committed.
 */

export const extensionDir = fileURLToPath(new URL('../extensions/clickthread-capture/', import.meta.url));
export const assetName = 'clickthread.js';

export interface ExtensionAsset {
  readonly path: string;
  readonly bytes: number;
  readonly gzipBytes: number;
}

export function writeExtensionAsset(dir: string = extensionDir): ExtensionAsset {
  const script = buildCaptureScript('shopify');
  if (script.bytes > captureScriptByteLimit) {
    throw new Error(`the capture script is ${script.bytes} bytes; an app embed's JavaScript may not exceed ${captureScriptByteLimit}`);
  }
  const assets = join(dir, 'assets');
  mkdirSync(assets, { recursive: true });
  const path = join(assets, assetName);
  writeFileSync(path, script.code);
  return { path, bytes: script.bytes, gzipBytes: script.gzipBytes };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const asset = writeExtensionAsset();
  console.log(`wrote ${asset.path}: ${asset.bytes} bytes, ${asset.gzipBytes} gzipped`);
}
