// A tracker that takes `delayMs` to answer each postback (what the inline design waits for).
// `node bench/servers/slow-tracker-server.ts 200`
import { startFakeTracker } from '@clickthread/core/testing';
import { announceReady, onTerminate } from '../shared/child-server.ts';

const delayMs = Number(process.argv[2] ?? '200');
const tracker = await startFakeTracker();
tracker.behave('*', { kind: 'slow', delayMs, after: { kind: 'tune', answer: 'success' } });
// the recorded requests would grow without bound under load
setInterval(() => tracker.clear(), 1_000).unref();
onTerminate(() => tracker.close());
announceReady({ url: tracker.url });
