import { pino } from 'pino';
import { parseHostPort, type Logger } from '../core/index.ts';
import { quoteUntrusted } from '../spiffe/index.ts';
import { createWebhookServer } from '../injector/index.ts';
import { SETTINGS_FLAGS, SETTINGS_HELP, settingsFromFlags } from './inject.ts';
import { UsageError, type CliIo, type Command } from './io.ts';
import { durationFlag } from './duration-flag.ts';
import { choiceFlag, parseFlags } from './parse-flags.ts';

const HELP = `usage: spiffe-sidecar webhook --cert FILE --key FILE [options]

Runs the mutating admission webhook over HTTPS. POST /inject answers
AdmissionReviews (admission.k8s.io/v1) for pods that opt in by annotation;
POST /inject/namespace-enabled for pods of namespaces labelled
spiffe-sidecar.io/inject=enabled; GET /healthz answers ok. The certificate
files are re-read when they change (Secret rotation). Stops on SIGTERM.

options:
  --cert FILE                   PEM certificate chain of the webhook's Service name
  --key FILE                    its PEM private key
  --listen HOST:PORT            (default 0.0.0.0:9443; port 0 picks a free port)
  --cert-check-interval DURATION  how often the files are checked (default 10s)
  --log-level LEVEL             webhook log level: debug, info, warn, error (default info)
${SETTINGS_HELP}  -h, --help                    show this help

The settings flags describe the sidecar that gets injected; pods override
some of them with spiffe-sidecar.io/* annotations (docs/kubernetes.md).
`;

function logger(io: CliIo, level: string): Logger {
  return pino(
    { base: null, level, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } },
    io.stdout,
  );
}

/** `spiffe-sidecar webhook`: serves until the stop signal, then closes and exits 0. */
export const webhookCommand: Command = async (argv, io) => {
  const v = parseFlags(argv, {
    cert: { type: 'string' },
    key: { type: 'string' },
    listen: { type: 'string' },
    'cert-check-interval': { type: 'string' },
    'log-level': { type: 'string' },
    ...SETTINGS_FLAGS,
  }).values;
  if (v.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (v.cert === undefined || v.key === undefined) throw new UsageError('--cert and --key are required');
  // Port 0 (any free port, for tests) is allowed here though not in the sidecar's config.
  const rawListen = v.listen ?? '0.0.0.0:9443';
  const listen = parseHostPort(rawListen, { port: 'required', portZero: true, hosts: 'exact' });
  if (!listen.ok) throw new UsageError(`--listen: ${quoteUntrusted(rawListen, 120)}: ${listen.problem}`);
  const listenAt = { host: listen.host, port: listen.port ?? 0 };
  const intervalMs = v['cert-check-interval'] === undefined ? 10_000 : durationFlag('--cert-check-interval', v['cert-check-interval']);
  const level = choiceFlag('--log-level', v['log-level'], ['debug', 'info', 'warn', 'error'], 'info');
  const settings = settingsFromFlags(v);
  const log = logger(io, level);
  const server = createWebhookServer({
    listen: listenAt,
    certFile: v.cert,
    keyFile: v.key,
    settings,
    logger: log.child({ component: 'webhook' }),
    certCheckIntervalMs: intervalMs,
  });
  await server.start();
  log.info({ image: settings.image, native_sidecar: settings.nativeSidecar, workload_socket: settings.workloadSocket }, 'injecting');
  await new Promise<void>((resolve) => {
    if (io.stopSignal.aborted) resolve();
    else io.stopSignal.addEventListener('abort', () => resolve(), { once: true });
  });
  await server.stop();
  log.info({}, 'webhook stopped');
  return 0;
};
