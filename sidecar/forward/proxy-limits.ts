import { formatAddress, type Address } from '../core/index.ts';

/**
 * The proxy listener's limits and the upstream budget defaults live in
 * core (sidecar/core/proxy-limits.ts), where the config can name them too;
 * forward/ re-exports them for its own files.
 */
export { UPSTREAM_BUDGET_DEFAULTS } from '../core/index.ts';
export type { ProxyLimits } from '../core/index.ts';

/**
 * @deprecated A TCP address is core's `Address`; this alias is kept only
 * while forward/'s own files are restructured.
 */
export type HostPort = Address;

/**
 * @deprecated core's `formatAddress`; kept only while forward/'s own files
 * are restructured.
 */
export const formatHostPort: (a: Address) => string = formatAddress;
