// A TCP forwarder: listens on one address and pipes every connection to another. The
// Temporal dev server cannot listen anywhere but loopback (given --ip it still dials its own
// services at 127.0.0.1 and never becomes ready), while the docker driver's servers reach
// the host only at their network's gateway: the stack forwards the gateway's port there.
import * as net from 'node:net';

export interface Forwarder {
  close(): Promise<void>;
}

export async function forwardTcp(from: { host: string; port: number }, to: { host: string; port: number }): Promise<Forwarder> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(to);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on('close', () => sockets.delete(s));
    }
    inbound.pipe(outbound).on('error', () => inbound.destroy());
    outbound.pipe(inbound).on('error', () => outbound.destroy());
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(from.port, from.host, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
