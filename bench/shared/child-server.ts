import { spawn, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * A server under test in its own process, so the load generator (this process) and the server each
 * get a core, and the server's memory is its own. The child prints one line `READY <json>` when it
 * listens; everything else it prints (its logs) is read and dropped, as a log shipper would.
 */

export const readyMarker = 'READY ';

export interface ChildServer<Info> {
  readonly info: Info;
  readonly pid: number;
  /** Resident set size of the child now, from /proc (bytes). */
  rssBytes(): number;
  /** CPU time the child has used so far, user and system, all its threads (seconds). */
  cpuSeconds(): number;
  /** The same for its main thread alone (the event loop: JavaScript, better-sqlite3's statements). */
  mainThreadCpuSeconds(): number;
  stop(): Promise<void>;
}

export function rssOfPid(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ): 100 on every Linux this runs on. */
const userHz = 100;

/**
 * CPU seconds (user + system) a process has used, all its threads or one (`thread`: a thread id
 * under /proc/<pid>/task), from /proc. Read before
 * and after a run, it gives the CPU each request cost that process: on a 2-core box shared by the
 * load generator and the server, a throughput ratio is mostly a ratio of CPU per request.
 */
export function cpuSecondsOfPid(pid: number, thread?: number): number {
  const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
  // the command name (field 2) may hold spaces: count fields after its closing parenthesis
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields 14 (utime) and 15 (stime) of the whole line are the 12th and 13th after the name
  return (Number(fields[11]) + Number(fields[12])) / userHz;
}

/** Starts `node <script> ...args` (path relative to bench/) and waits for its READY line. */
export async function startChildServer<Info>(
  script: string,
  args: readonly string[] = [],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; nodeArgs?: readonly string[] } = {},
): Promise<ChildServer<Info>> {
  const path = fileURLToPath(new URL(`../${script}`, import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeArgs ?? []), path, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const info = await new Promise<Info>((resolve, reject) => {
    let buffered = '';
    let found = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start within ${options.timeoutMs ?? 30_000} ms\n${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      if (found) return;
      buffered += chunk;
      const line = buffered.split('\n').find((l) => l.startsWith(readyMarker));
      if (line) {
        found = true;
        clearTimeout(timer);
        resolve(JSON.parse(line.slice(readyMarker.length)) as Info);
      }
      buffered = buffered.slice(-8000);
    });
    child.once('exit', (code, signal) => {
      if (found) return;
      clearTimeout(timer);
      reject(new Error(`${script} exited before it was ready (${code ?? signal})\n${stderr}`));
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${script} has no pid`);
  return {
    info,
    pid,
    rssBytes: () => rssOfPid(pid),
    cpuSeconds: () => cpuSecondsOfPid(pid),
    // a process's main thread has the process's id as its thread id
    mainThreadCpuSeconds: () => cpuSecondsOfPid(pid, pid),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** For the child: announce readiness with whatever the parent needs (URLs, secrets of the bench fixture). */
export function announceReady(info: unknown): void {
  process.stdout.write(`${readyMarker}${JSON.stringify(info)}\n`);
}

/** For the child: stop cleanly on SIGTERM (close servers and the store), then exit. */
export function onTerminate(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (): void => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

/**
 * For the child: listen on loopback with long keep-alive (the load generator reuses its
 * connections), close every connection on SIGTERM, and announce the URL.
 */
export async function serveOnLoopback(server: Server): Promise<string> {
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTerminate(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  announceReady({ url });
  return url;
}
