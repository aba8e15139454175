// Prints the capture script's sizes, one JSON line per platform build: `node core/src/storefront/print-size.ts` (for bench/).
import { buildCaptureScript, captureScriptByteLimit } from './build-capture-script.ts';

for (const platform of ['shopify', 'woocommerce'] as const) {
  const { bytes, gzipBytes } = buildCaptureScript(platform);
  console.log(JSON.stringify({ script: 'capture-script', platform, bytes, gzipBytes, limitBytes: captureScriptByteLimit }));
}
