// `pnpm bench`: runs every benchmark, one at a time (they share 2 cores), each in its own process,
// and writes the table to bench/results/latest.md and stdout. `pnpm bench ingest memory` runs only
// the benchmarks whose file name contains one of the words.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { markdownTable, parseRows, type BenchRow } from './shared/bench-report.ts';

interface BenchScript {
  readonly file: string;
  readonly title: string;
  /** A benchmark that runs longer is stopped and reported as failed. */
  readonly timeoutMs: number;
}

const scripts: readonly BenchScript[] = [
  { file: 'webhook-ingest.ts', title: 'Webhook ingest', timeoutMs: 240_000 },
  { file: 'delivery.ts', title: 'Delivery', timeoutMs: 120_000 },
  { file: 'capture-script.ts', title: 'Capture script', timeoutMs: 30_000 },
  { file: 'memory.ts', title: 'Memory and ID lookup', timeoutMs: 240_000 },
];

interface BenchRun {
  readonly script: BenchScript;
  readonly rows: BenchRow[];
  readonly stdout: string;
  readonly code: number | null;
  readonly ms: number;
  readonly problem?: string;
}

const benchDir = fileURLToPath(new URL('.', import.meta.url));

function run(script: BenchScript): Promise<BenchRun> {
  const path = fileURLToPath(new URL(script.file, import.meta.url));
  const started = performance.now();
  if (!existsSync(path)) {
    return Promise.resolve({ script, rows: [], stdout: '', code: null, ms: 0, problem: `bench/${script.file} does not exist yet` });
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path], { cwd: benchDir, stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      // the machine-readable rows stay out of the live output
      const visible = chunk
        .split('\n')
        .filter((line) => !line.startsWith('BENCH_ROW '))
        .join('\n');
      if (visible.trim() !== '') process.stdout.write(visible.endsWith('\n') ? visible : `${visible}\n`);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), script.timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = performance.now() - started;
      const rows = parseRows(stdout);
      const problem =
        signal === 'SIGKILL'
          ? `stopped after ${script.timeoutMs / 1000} s`
          : code !== 0
            ? `exited with ${code ?? signal}`
            : rows.length === 0
              ? 'printed no BENCH_ROW lines (raw output below)'
              : undefined;
      resolve({ script, rows, stdout, code, ms, ...(problem ? { problem } : {}) });
    });
  });
}

function commitOf(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: benchDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

const filters = process.argv.slice(2).filter((a) => a !== '--');
const selected = filters.length === 0 ? scripts : scripts.filter((s) => filters.some((f) => s.file.includes(f)));
const startedAt = new Date();
// other work on the machine skews every figure (the ratios less): the load says how busy it was
const loadAtStart = loadavg()[0] ?? 0;
const runs: BenchRun[] = [];
for (const script of selected) {
  console.log(`\n== ${script.title} (bench/${script.file}) ==`);
  const result = await run(script);
  console.log(`   ${result.problem ? `problem: ${result.problem}` : 'done'} in ${(result.ms / 1000).toFixed(1)} s`);
  runs.push(result);
}

const cpu = cpus();
const header = [
  '# Clickthread benchmarks',
  '',
  `Run ${startedAt.toISOString()} · commit ${commitOf()} · Node ${process.version} · ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'} · ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
  '',
  `Load average (1 min) ${loadAtStart.toFixed(1)} at the start, ${(loadavg()[0] ?? 0).toFixed(1)} at the end, on ${cpu.length} cores.`,
  '',
  'Every ratio compares two figures measured in this same run on this machine (the "ceiling").',
  '',
];
const allRows = runs.flatMap((r) => r.rows);
const problems = runs.filter((r) => r.problem !== undefined);
const sections = [
  ...header,
  markdownTable(allRows),
  '',
  `Total time: ${(runs.reduce((sum, r) => sum + r.ms, 0) / 1000).toFixed(0)} s.`,
  ...(problems.length === 0
    ? []
    : ['', '## Problems', '', ...problems.map((r) => `- bench/${r.script.file}: ${r.problem ?? ''}`)]),
  ...runs
    .filter((r) => r.rows.length === 0 && r.stdout.trim() !== '')
    .flatMap((r) => ['', `## bench/${r.script.file} output`, '', '```', r.stdout.trim(), '```']),
  '',
];
const markdown = sections.join('\n');
const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(resultsDir, { recursive: true });
writeFileSync(`${resultsDir}latest.md`, markdown);
console.log(`\n${markdown}`);
console.log(`written to bench/results/latest.md`);
process.exitCode = runs.some((r) => r.code !== 0 && r.code !== null) ? 1 : 0;
