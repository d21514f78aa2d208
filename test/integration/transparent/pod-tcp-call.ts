/**
 * What an app in a pod does in the transparent tests: a plain TCP client
 * run inside the pod's network namespace that dials a host and port
 * directly, writes a payload, and reports every byte that came back.
 */
import { nsRun } from '../../support/netns.ts';

/** The app: connects to argv host:port, writes argv payload (hex), prints what came back (hex) after argv ms or the close. */
const TCP_CLIENT = `
const s = require('node:net').connect({ host: process.argv[1], port: Number(process.argv[2]) });
let got = Buffer.alloc(0);
const done = () => { process.stdout.write(got.toString('hex')); process.exit(0); };
s.on('connect', () => { if (process.argv[3]) s.write(Buffer.from(process.argv[3], 'hex')); });
s.on('data', (d) => { got = Buffer.concat([got, d]); });
s.on('error', done);
s.on('close', done);
setTimeout(done, Number(process.argv[4]));
`;

/** Runs the app in namespace `ns` against `host`:`port` with `payload` (latin1); resolves with the answer (latin1), '' when closed without one. */
export async function podTcpCall(ns: string, host: string, port: number, payload: string, ms = 3000): Promise<string> {
  const r = await nsRun(ns, [process.execPath, '-e', TCP_CLIENT, host, String(port), Buffer.from(payload, 'latin1').toString('hex'), String(ms)]);
  return Buffer.from(r.stdout.trim(), 'hex').toString('latin1');
}
