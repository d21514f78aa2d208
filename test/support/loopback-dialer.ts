/**
 * A Dialer (sidecar/forward) for a server on 127.0.0.1 that counts its dials
 * and lets a test announce a credentials change, as an mTLS dialer does
 * after an SVID rotation, so pool and session tests can see when a new
 * connection is made and when a change retires the old ones.
 */
import net from 'node:net';
import type { DialCallback, Dialer } from '../../sidecar/forward/index.ts';

export class LoopbackDialer implements Dialer {
  readonly target: string;
  dials = 0;
  /** Every listener given to onCredentialsChange (a test checks there is one per pool or upstream). */
  readonly listeners: (() => void)[] = [];
  /** Announce a change inside the next dial, as a dialer re-reading its sources does. */
  changeInDial = false;
  protected readonly port: number;

  constructor(port: number) {
    this.port = port;
    this.target = `127.0.0.1:${port}`;
  }

  onCredentialsChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Announces a change of our credentials to every listener. */
  changed(): void {
    for (const fn of this.listeners) fn();
  }

  dial(cb: DialCallback): void {
    this.dials++;
    if (this.changeInDial) {
      this.changeInDial = false;
      this.changed();
    }
    this.connect(cb);
  }

  /** Opens the connection; a subclass may hand over something else in front of the socket. */
  protected connect(cb: DialCallback): void {
    const s = net.connect(this.port, '127.0.0.1', () => cb(null, s, ''));
    s.once('error', (err) => cb(err));
  }
}
