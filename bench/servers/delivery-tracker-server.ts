// The delivery benchmark's tracker: answers every postback at once like TUNE ("success=true;"),
// recording nothing (the fake tracker's request log would make its garbage collector, and so the
// figures, depend on the previous run's rate). Its own process, so sender and tracker each get a
// core. `node bench/servers/delivery-tracker-server.ts`
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { announceReady, onTerminate } from '../shared/child-server.ts';

const body = Buffer.from('success=true;');
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 30_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
onTerminate(
  () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
);
announceReady({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
