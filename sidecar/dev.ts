/**
 * spiffe-sidecar/dev: the development Workload API. {@link DevAgent} serves
 * the SPIFFE Workload API on a Unix socket from in-memory certificate and
 * JWT authorities, so an app, a sidecar or a test gets real X509-SVIDs,
 * JWT-SVIDs and bundles without SPIRE (`spiffe-sidecar dev-agent` runs it
 * from the command line).
 *
 * For development and tests only: its authorities sign whatever it is
 * configured to issue, with no attestation of who asks. Kept out of the
 * main entry so production code cannot pull it in by accident.
 */
export { DevAgent, CertificateAuthority, JwtAuthority } from './devagent/index.ts';
export type { DevAgentOptions } from './devagent/index.ts';
