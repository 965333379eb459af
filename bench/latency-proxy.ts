// A loopback TCP proxy that adds round-trip time in front of a server: `node bench/latency-proxy.ts HOST PORT
// RTT_MS` listens on a free loopback port, prints `listening <port>`, and relays every connection to HOST:PORT
// with half the round trip added to each direction's bytes (order kept) and one round trip to each new
// connection, as TCP's handshake costs on a real network. TLS passes through untouched, so clients verify the
// server's certificate as they would directly. Run in a process of its own, so that its timers do not wait on
// the event loop of the client it measures.
import { connect, createServer, type Socket } from 'node:net';

const [host = '127.0.0.1', port = '0', rtt = '0'] = process.argv.slice(2);
const rttMs = Number(rtt);
const oneWayMs = rttMs / 2;

/** Relays `from` to `to`, each chunk after `oneWayMs` (timers of one duration fire in the order they were set). */
function relay(from: Socket, to: Socket): void {
  from.on('data', (chunk) => {
    setTimeout(() => to.write(chunk), oneWayMs);
  });
  from.on('end', () => {
    setTimeout(() => to.end(), oneWayMs);
  });
}

const server = createServer({ noDelay: true }, (client) => {
  client.pause();
  setTimeout(() => {
    const upstream = connect({ host, port: Number(port), noDelay: true }, () => client.resume());
    relay(client, upstream);
    relay(upstream, client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', () => setTimeout(() => upstream.destroy(), oneWayMs));
    upstream.on('close', () => setTimeout(() => client.destroy(), oneWayMs));
  }, rttMs);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === 'object' && address !== null ? address.port : 0}\n`);
});
process.on('SIGTERM', () => process.exit(0));
