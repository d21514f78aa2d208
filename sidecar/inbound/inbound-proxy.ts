import { silentLogger, systemClock } from '../core/index.ts';
import type { ProxyListener } from '../forward/index.ts';
import { InboundListener } from './inbound-listener.ts';
import type { InboundOptions } from './inbound-options.ts';
import { InboundRouter } from './inbound-router.ts';

/**
 * The inbound HTTP proxy: accepts mTLS from peer sidecars (h2 and
 * http/1.1 on one port by ALPN), has each request decided by the
 * enforcement stage (token, policy on the normalised path, identity
 * headers), and forwards the allowed ones to the local app (keep-alive
 * HTTP/1.1 pool or one h2c session).
 *
 * Refused requests never reach the app: the stage's local answer
 * (sidecar/enforcement/local-answer.ts), counted with
 * metrics.authzDecision. App down → 503, app too slow → 504.
 */
export function createInbound(o: InboundOptions): ProxyListener {
  const logger = (o.logger ?? silentLogger).child({ component: 'inbound' });
  const router = new InboundRouter(o, logger);
  return new InboundListener(o, router, logger, o.clock ?? systemClock);
}
