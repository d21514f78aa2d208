import { X509Certificate } from 'node:crypto';
import { describeError } from '../core/index.ts';
import { parsePemCertificates } from '../x509/index.ts';
import { fail, ok, warn, type CheckResult } from './check-result.ts';
import { humanSpan } from './identity-checks.ts';

/**
 * A webhook certificate with less than this left is flagged: cert-manager
 * renews at two thirds of a 90-day lifetime, leaving 30 days, so less than
 * that means renewal did not happen.
 */
export const WEBHOOK_CERT_WARN_MS = 30 * 86_400_000;

/** The webhook's certificate file as read, or why it could not be. */
export type WebhookCertInput = { readonly file: string; readonly pem: string } | { readonly file: string; readonly readError: string };

const FIX = 'renew the webhook Secret (cert-manager, or a new certificate for the Service name) and update caBundle in the MutatingWebhookConfiguration';

/**
 * `webhook-cert`: the admission webhook's serving certificate (the first
 * in the file) is valid now and not close to expiry; the API server
 * refuses an expired one and pod creation then fails or skips injection
 * (by the webhook's failurePolicy).
 */
export function checkWebhookCert(input: WebhookCertInput, nowMs: number): CheckResult {
  const name = 'webhook-cert';
  if ('readError' in input) return fail(name, `${input.file}: ${input.readError}`, 'pass the webhook\'s certificate file with --webhook-cert FILE');
  let cert: X509Certificate;
  try {
    const [der] = parsePemCertificates(input.pem);
    if (der === undefined) return fail(name, `${input.file}: no CERTIFICATE block`, 'the file must hold the PEM certificate chain the webhook serves');
    cert = new X509Certificate(der);
  } catch (err) {
    return fail(name, `${input.file}: not a certificate: ${describeError(err)}`, 'the file must hold the PEM certificate chain the webhook serves');
  }
  const notBefore = cert.validFromDate.getTime();
  const notAfter = cert.validToDate.getTime();
  const left = notAfter - nowMs;
  const what = `${input.file} (${cert.subject.replace(/\n/g, ', ')})`;
  if (left <= 0) return fail(name, `${what} expired ${humanSpan(left)} ago (${cert.validToDate.toISOString()})`, FIX);
  if (notBefore > nowMs) return fail(name, `${what} is valid only from ${cert.validFromDate.toISOString()}`, 'check this host clock, or wait: the certificate is not valid yet');
  if (left < WEBHOOK_CERT_WARN_MS) return warn(name, `${what} expires in ${humanSpan(left)} (${cert.validToDate.toISOString()})`, FIX);
  return ok(name, `${what} expires in ${humanSpan(left)} (${cert.validToDate.toISOString()})`);
}
