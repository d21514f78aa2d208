/**
 * Settings of the HTTP/2 client sessions H2Upstream opens (to a peer
 * sidecar or an h2c app), stated here rather than left to node's defaults
 * so the memory bound per stream is visible.
 *
 * Measured (sidecar pair as processes, nginx h2c app, 2 shared cores,
 * `--max-semi-space-size=1 --max-old-space-size=96`): 100 streams whose
 * client reads nothing of a 4 MiB response each grow each sidecar by about
 * 20–23 MiB and then stop, with a 64 KiB or a 16 KiB window alike, so the
 * smaller window buys no memory and would cap a stream at window ÷ RTT.
 * Under gRPC load (`h2load -c1 -m100`) the sidecars peak 13–15 MiB above
 * idle; without the V8 flags the young generation (up to 128 MiB), not
 * HTTP/2 buffers, is what grows.
 */
export const H2_CLIENT_SESSION_SETTINGS = Object.freeze({
  /**
   * SETTINGS_INITIAL_WINDOW_SIZE we announce (RFC 9113 §6.5.2): response
   * bytes per stream the upstream may send before we read them, so the
   * most a stalled stream buffers on our side. The protocol's default.
   */
  initialWindowSize: 65_535,
  /** nghttp2's memory cap for one session, MiB (node's maxSessionMemory, its default). */
  maxSessionMemoryMiB: 10,
  /** How long the first requests of a new session wait for the peer's SETTINGS frame. */
  settingsWaitMs: 5_000,
});
