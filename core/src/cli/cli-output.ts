/**
 * Where the CLI writes: data on stdout (so it can be piped), progress and problems on stderr.
 */

export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
  /** A progress reporter for a long operation of `total` steps. */
  progress(label: string, total: number): Progress;
}

export interface Progress {
  tick(done: number): void;
  finish(summary: string): void;
}

export function processOutput(stdout: NodeJS.WriteStream, stderr: NodeJS.WriteStream): CliOutput {
  return {
    out: (line) => void stdout.write(`${line}\n`),
    err: (line) => void stderr.write(`${line}\n`),
    progress(label, total) {
      // a terminal gets one line rewritten in place; a pipe or a log gets a line every ~10 %
      const tty = stderr.isTTY === true;
      const step = Math.max(1, Math.ceil(total / 10));
      let last = 0;
      return {
        tick(done) {
          if (tty) stderr.write(`\r${label}: ${done}/${total}`);
          else if (done === total || done - last >= step) {
            stderr.write(`${label}: ${done}/${total}\n`);
            last = done;
          }
        },
        finish(summary) {
          stderr.write(`${tty ? '\r\x1b[K' : ''}${label}: ${summary}\n`);
        },
      };
    },
  };
}

/** Plain columns for terminal tables. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

export function shorten(text: string | null, max: number): string {
  if (text === null) return '';
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
