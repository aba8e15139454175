#!/usr/bin/env node
// The CLI runs from TypeScript source on Node >= 22.18 (type stripping); no build step.
await import('../src/cli/main.ts');
