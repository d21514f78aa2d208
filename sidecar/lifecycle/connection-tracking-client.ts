import { WorkloadApiClient, type WatchHandle, type Watcher, type X509Context } from '../workload/index.ts';

/**
 * A Workload API client that also reports whether its FetchX509SVID stream
 * is up, for `sidecar_workload_api_connected`. X509Source only emits
 * 'update' when the SVIDs or bundles changed, so after an agent restart
 * that resends the same state it would never say "connected again"; every
 * message received, changed or not, does.
 */
export class ConnectionTrackingClient extends WorkloadApiClient {
  /** Called with true on every valid message, false when the stream broke. */
  onConnection: (up: boolean, err?: Error) => void = () => {};

  override watchX509Context(watcher: Watcher<X509Context>): WatchHandle {
    return super.watchX509Context({
      onUpdate: (ctx) => {
        this.onConnection(true);
        watcher.onUpdate(ctx);
      },
      onError: (err) => {
        // A message that failed validation arrived on a live stream; every
        // other error means the stream ended and the watch is reconnecting.
        if (err.code !== 'workload.bad_message') this.onConnection(false, err);
        watcher.onError?.(err);
      },
    });
  }
}
