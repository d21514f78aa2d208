/**
 * A TCP relay that makes the node's authorization server reachable inside a
 * pod at the same loopback address it has on the node (127.0.0.1:<port>),
 * as a node-local agent would: the sidecar then uses one issuer URL, and
 * plain HTTP stays on loopback as the sidecar's configuration requires.
 * Run in the pod as the sidecar's uid, whose connections the pod's iptables
 * rules leave alone.
 *
 *   node as-relay.ts <listen port> <target host> <target port> <run dir>
 *
 * When the target refuses, the accepted connection is closed: the sidecar
 * sees the authorization server down. Prints "ready" once listening.
 */
import net from 'node:net';

const [listenPort, targetHost, targetPort] = [Number(process.argv[2]), process.argv[3] ?? '', Number(process.argv[4])];
if (!Number.isInteger(listenPort) || !Number.isInteger(targetPort) || targetHost === '') {
  process.stderr.write('usage: as-relay.ts <listen port> <target host> <target port> <dir>\n');
  process.exit(2);
}

const server = net.createServer((inbound) => {
  const outbound = net.connect(targetPort, targetHost);
  inbound.on('error', () => outbound.destroy());
  outbound.on('error', () => inbound.destroy());
  inbound.pipe(outbound).pipe(inbound);
});
server.listen(listenPort, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
