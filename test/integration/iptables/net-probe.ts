/**
 * A tiny TCP helper run inside a network namespace by redirect.test.ts.
 *
 *   node net-probe.ts serve HOST PORT=LABEL [PORT=LABEL...]
 *       listens on each port and answers every connection with its label;
 *       prints "ready" once all listeners are up.
 *   node net-probe.ts connect HOST PORT [UID]
 *       connects (as UID when given), prints the answer or "error CODE".
 */
import { connect, createServer } from 'node:net';

const [mode, host, ...rest] = process.argv.slice(2);

if (mode === 'serve') {
  let pending = rest.length;
  for (const spec of rest) {
    const [port, label] = spec.split('=');
    const srv = createServer((sock) => {
      sock.on('error', () => {});
      sock.end(`${label}\n`);
    });
    srv.on('error', (err) => {
      process.stderr.write(`listen ${port}: ${err.message}\n`);
      process.exit(1);
    });
    srv.listen(Number(port), host, () => {
      if (--pending === 0) process.stdout.write('ready\n');
    });
  }
} else if (mode === 'connect') {
  const [port, uid] = rest;
  if (uid !== undefined) process.setuid!(Number(uid));
  const sock = connect({ host: host!, port: Number(port), timeout: 5000 });
  let data = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => (data += d));
  sock.on('end', () => process.stdout.write(data));
  sock.on('timeout', () => {
    process.stdout.write('error ETIMEDOUT\n');
    sock.destroy();
  });
  sock.on('error', (err: NodeJS.ErrnoException) => process.stdout.write(`error ${err.code ?? err.message}\n`));
} else {
  process.stderr.write('usage: net-probe.ts serve HOST PORT=LABEL... | connect HOST PORT [UID]\n');
  process.exit(2);
}
