import { buildSync } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { InvariantError } from '../shared/errors.ts';
import type { CaptureScriptConfig } from './capture-script-config.ts';

export interface CaptureScriptBuild {
  /** The minified script, ready to serve or to write into the theme app extension's assets. */
  readonly code: string;
  /** UTF-8 bytes of `code` (Shopify's theme check fails an app-embed script above 10,000). */
  readonly bytes: number;
  /** Bytes after gzip at level 9 (what a shopper downloads). */
  readonly gzipBytes: number;
}

/** Shopify's limit for an app embed's JavaScript asset (theme-check AssetSizeAppBlockJavaScript). */
export const captureScriptByteLimit = 10_000;

const entry = fileURLToPath(new URL('./capture-script.ts', import.meta.url));

// Browsers the script must parse in: mid-2021 releases (Chrome 91 is the first without V8's
// optional-call bug, so `?.` ships as is). Features beyond them are lowered by esbuild, or, for a
// regular expression it cannot lower (lookbehind before Safari 16.4), turned into a `new RegExp`
// that throws inside the script's own try instead of failing the parse.
const targets = ['chrome91', 'edge91', 'firefox90', 'safari15', 'ios15'];

const cached = new Map<CaptureScriptConfig['platform'], CaptureScriptBuild>();

/**
 * Builds the storefront capture script for one platform, once per process (esbuild, minified IIFE,
 * no dependencies). Each platform's build holds only that platform's code, and runs only with a
 * config of that platform; without an argument, the Shopify build (the theme app extension's asset).
 */
export function buildCaptureScript(platform: CaptureScriptConfig['platform'] = 'shopify'): CaptureScriptBuild {
  let script = cached.get(platform);
  if (!script) cached.set(platform, (script = build(platform)));
  return script;
}

function build(platform: CaptureScriptConfig['platform']): CaptureScriptBuild {
  const result = buildSync({
    entryPoints: [entry],
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: targets,
    legalComments: 'none',
    define: { CLICKTHREAD_SHOPIFY: String(platform === 'shopify') },
    charset: 'utf8',
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (!output || result.errors.length > 0) throw new InvariantError('the capture script did not build', { cause: result.errors });
  // One try around everything (the body has no imports or exports left): whatever fails at load,
  // a regular expression an old browser cannot compile included, stays inside the script.
  const code = `(()=>{try{${output.text.trim()}}catch{}})();\n`;
  if (/\bimport\s*\(|\bexport\b|\brequire\(/.test(code)) throw new InvariantError('the capture script must not load anything');
  return { code, bytes: Buffer.byteLength(code), gzipBytes: gzipSync(code, { level: 9 }).length };
}

/**
 * The script with its configuration in front, for hosts that serve it per merchant (the bridge's
 * `GET /capture.js`). The JSON is escaped so that no value can close a script element either.
 */
export function captureScriptFor(config: CaptureScriptConfig): string {
  return `window.__clickthreadConfig=${jsonForScript(config)};\n${buildCaptureScript(config.platform).code}`;
}

/** JSON that is safe inside an HTML `<script>` element (the Shopify embed's `clickthread-config`). */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
