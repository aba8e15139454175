// The ceiling for webhook ingest: a bare node:http server that reads the body and answers 200, on
// the same machine, through the same load generator. `node bench/servers/bare-http-server.ts`
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { announceReady, onTerminate } from '../shared/child-server.ts';

const server = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' });
    res.end('{"ok":true}');
  });
});
server.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
onTerminate(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);
announceReady({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
