// Capture script size: `node bench/capture-script.ts`. The ceiling is Shopify's limit for an app
// embed's JavaScript (theme check fails above it); the gzipped size is what a shopper downloads.
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { buildCaptureScript, captureScriptByteLimit } from '@clickthread/core/storefront';
import { emitRow } from './shared/bench-report.ts';

const gzipTargetBytes = 1024;
const bench = 'capture script';

const started = performance.now();
const { code, bytes, gzipBytes } = buildCaptureScript();
const buildMs = performance.now() - started;
const brotliBytes = brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
// level 6 is what most servers and CDNs use by default; buildCaptureScript reports level 9
const gzipDefaultBytes = gzipSync(code).length;

console.log(`${bench}: built in ${buildMs.toFixed(0)} ms`);
emitRow({
  bench,
  metric: 'minified',
  value: bytes,
  unit: 'bytes',
  ceiling: { label: 'Shopify app-embed JS limit', value: captureScriptByteLimit },
  target: `≤ ${captureScriptByteLimit} bytes`,
  met: bytes <= captureScriptByteLimit,
});
emitRow({
  bench,
  metric: 'gzip -9',
  value: gzipBytes,
  unit: 'bytes',
  target: `≤ ${gzipTargetBytes} bytes (aim)`,
  met: gzipBytes <= gzipTargetBytes,
  note: `gzip -6: ${gzipDefaultBytes} B, brotli 11: ${brotliBytes} B`,
});
