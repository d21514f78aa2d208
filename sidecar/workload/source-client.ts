import type { Clock, Logger } from '../core/index.ts';
import type { BackoffOptions } from './backoff.ts';
import { WorkloadApiClient } from './workload-api-client.ts';

/** The client-related options every source accepts. */
export interface SourceClientOptions {
  /** A client to use; it is not closed with the source. Default: a new one from `address`/`env`. */
  readonly client?: WorkloadApiClient;
  /** Endpoint URI (wins over `env`). */
  readonly address?: string;
  /** Where SPIFFE_ENDPOINT_SOCKET is read from when no address is given. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Reconnect backoff, when the source makes its own client. */
  readonly backoff?: BackoffOptions;
}

/**
 * The client a source watches through: the one given (the caller keeps
 * ownership) or a new one the source owns and closes with itself.
 */
export function sourceClient(opts: SourceClientOptions): { client: WorkloadApiClient; ownsClient: boolean } {
  if (opts.client) return { client: opts.client, ownsClient: false };
  const client = new WorkloadApiClient({
    ...(opts.address !== undefined ? { address: opts.address } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.backoff ? { backoff: opts.backoff } : {}),
  });
  return { client, ownsClient: true };
}
