// The ceiling for webhook ingest: a bare node:http server that reads the body and answers 200, on
// the same machine, through the same load generator. `node bench/servers/bare-http-server.ts`
import { createServer } from 'node:http';
import { serveOnLoopback } from '../shared/child-server.ts';
import { createLoopDelayProbe } from '../shared/server-loop-delay.ts';

// the probe answers only its own path: every other request is the bare 200
const probe = createLoopDelayProbe();
const server = createServer((req, res) => {
  if (probe(req, res)) return;
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' });
    res.end('{"ok":true}');
  });
});
await serveOnLoopback(server);
