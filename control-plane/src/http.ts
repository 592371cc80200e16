import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ControlPlane } from './server.ts';

export interface HttpListener {
  port: number;
  close(): Promise<void>;
}

/** Serves the GraphQL API at /graphql and a liveness probe at GET /healthz. */
export async function listenHttp(controlPlane: ControlPlane, options: { host: string; port: number }): Promise<HttpListener> {
  const server: Server = createServer((req, res) => {
    if (req.url === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    void controlPlane.yoga(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
