/**
 * One line of the benchmark table. Every figure is printed beside the ceiling it is compared with,
 * measured in the same run on the same machine, because absolute numbers from a shared 2-core box
 * mean little on their own.
 */
export interface BenchRow {
  /** The benchmark, e.g. "webhook ingest (Shopify orders/paid)". */
  readonly bench: string;
  /** What was measured, e.g. "requests/s at saturation". */
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  /** The reference measured in the same run, e.g. a bare node:http server. */
  readonly ceiling?: { readonly label: string; readonly value: number };
  /** The target, written as a reader would check it, e.g. "≥ 0.6× bare" or "< 5 ms". */
  readonly target?: string;
  /** Whether the target was met (absent when there is no target). */
  readonly met?: boolean;
  readonly note?: string;
}

/** Lines starting with this marker carry one BenchRow as JSON; run-all.ts collects them from each benchmark's stdout. */
export const benchRowMarker = 'BENCH_ROW ';

export function ratioOf(row: BenchRow): number | undefined {
  if (!row.ceiling || row.ceiling.value === 0) return undefined;
  return row.value / row.ceiling.value;
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}

function verdict(row: BenchRow): string {
  if (row.met === undefined) return '';
  return row.met ? 'yes' : '**no**';
}

/** Prints the row for a human and, on its own line, for run-all.ts. */
export function emitRow(row: BenchRow): void {
  const ratio = ratioOf(row);
  const against = row.ceiling ? ` vs ${row.ceiling.label} ${formatNumber(row.ceiling.value)} ${row.unit}` : '';
  const ratioText = ratio === undefined ? '' : ` = ${ratio.toFixed(2)}×`;
  const targetText = row.target ? ` (target ${row.target}: ${row.met === true ? 'met' : row.met === false ? 'NOT met' : 'n/a'})` : '';
  console.log(`  ${row.bench} · ${row.metric}: ${formatNumber(row.value)} ${row.unit}${against}${ratioText}${targetText}`);
  console.log(`${benchRowMarker}${JSON.stringify(row)}`);
}

/** Reads the rows a benchmark printed; other lines are its own commentary. */
export function parseRows(stdout: string): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(benchRowMarker)) continue;
    try {
      rows.push(JSON.parse(line.slice(benchRowMarker.length)) as BenchRow);
    } catch {
      // a malformed row is reported by run-all as missing output, not silently dropped
    }
  }
  return rows;
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

export function markdownTable(rows: readonly BenchRow[]): string {
  const lines = [
    '| benchmark | metric | value | compared with (same run) | ratio | target | met | note |',
    '| --- | --- | ---: | --- | ---: | --- | --- | --- |',
  ];
  for (const row of rows) {
    const ratio = ratioOf(row);
    lines.push(
      `| ${[
        cell(row.bench),
        cell(row.metric),
        `${formatNumber(row.value)} ${cell(row.unit)}`,
        row.ceiling ? `${cell(row.ceiling.label)}: ${formatNumber(row.ceiling.value)} ${cell(row.unit)}` : '',
        ratio === undefined ? '' : `${ratio.toFixed(2)}×`,
        cell(row.target ?? ''),
        verdict(row),
        cell(row.note ?? ''),
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}
