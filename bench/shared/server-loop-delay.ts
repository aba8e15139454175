import type { IncomingMessage, ServerResponse } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { request } from 'undici';

/**
 * The event-loop delay of a server under test, seen from inside it: how long its loop was held up
 * (GC pauses, long statements, the process waiting for a core). A latency tail read by the load
 * generator is read beside it, so a p99 says whether the server stalled or the requests queued.
 *
 * The server answers `loopDelayPath` itself with the figures since the last such request and
 * starts counting again; the benchmark asks once before a timed run (to start clean) and once after.
 */
export const loopDelayPath = '/__bench/loop-delay';

export interface LoopDelay {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** For the server: answers the probe's path (true) or leaves the request to the app (false). */
export function createLoopDelayProbe(): (req: IncomingMessage, res: ServerResponse) => boolean {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  return (req, res) => {
    if (req.url !== loopDelayPath) return false;
    const figures: LoopDelay = { p50Ms: histogram.percentile(50) / 1e6, p99Ms: histogram.percentile(99) / 1e6, maxMs: histogram.max / 1e6 };
    histogram.reset();
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(figures));
    return true;
  };
}

/** For the benchmark: the server's loop delay since the last call (and a fresh start for the next). */
export async function readLoopDelay(url: string): Promise<LoopDelay> {
  const answer = await request(`${url}${loopDelayPath}`, { signal: AbortSignal.timeout(5_000) });
  if (answer.statusCode !== 200) throw new Error(`${url}${loopDelayPath} answered ${answer.statusCode}: the server has no loop-delay probe`);
  return (await answer.body.json()) as LoopDelay;
}
