#!/usr/bin/env node
// kvsync's composition root: configuration, logger, metrics, Kubernetes and Azure clients, the
// HTTP endpoints, the operator (leader election + manager) and the process's signals.
// Exit codes: 0 after a clean shutdown or --help, 2 for bad configuration, 1 for anything else
// (a lost Lease, a manager that cannot start, an unhandled error). `kvsync convert` is a separate
// command (src/convert/) with its own exit codes.
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import type { Logger } from 'pino';
import { credentialOptionsFromEnv } from './azure-environment.ts';
import { proxyAgentOptions } from './azure-proxy-agent.ts';
import { ConfigError, loadConfig, usage, type Config } from './config.ts';
import type { EventOptions } from './events/event-processing.ts';
import { eventOptionsFromConfig } from './events/from-config.ts';
import { kubeIdentityPort } from './identity/kubernetes-port.ts';
import { createIdentityResolver } from './identity/resolver.ts';
import { monitorEventLoop } from './observability/event-loop.ts';
import { createLogger, errorMessage, logDestination, safeError } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { startServers } from './observability/servers.ts';
import { runOperator, type Operator } from './operator.ts';
import { leaderIdentity } from './runtime/leader-election.ts';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

function main(argv: readonly string[], env: NodeJS.ProcessEnv): void {
  if (argv[0] === 'convert') {
    // Loaded only for this command: its YAML library is not the operator's to carry.
    import('./convert/cli.ts')
      .then(({ processIo, runConvert }) => runConvert(argv.slice(1), processIo))
      .then(
        (code) => (process.exitCode = code),
        (error: unknown) => {
          process.stderr.write(`kvsync convert: ${errorMessage(error)}\n`);
          process.exitCode = EXIT_FAILURE;
        },
      );
    return;
  }
  let config: Config | 'help';
  let azureOptions;
  let events: EventOptions | undefined;
  try {
    config = loadConfig(argv, env);
    if (config === 'help') {
      process.stdout.write(`${usage()}\n`);
      return;
    }
    azureOptions = credentialOptionsFromEnv(env);
    events = eventOptionsFromConfig(config, env, azureOptions);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`kvsync: ${error.message}\n`);
    process.exitCode = EXIT_USAGE;
    return;
  }

  const log = createLogger(config.logLevel, logDestination(config.logFormat));
  exitOnUnhandledErrors(log);
  run(config, azureOptions, events, env, log).then(
    (code) => exit(code),
    (error: unknown) => {
      log.fatal({ err: safeError(error) }, 'kvsync failed');
      exit(EXIT_FAILURE);
    },
  );
}

async function run(
  config: Config,
  azureOptions: ReturnType<typeof credentialOptionsFromEnv>,
  events: EventOptions | undefined,
  env: NodeJS.ProcessEnv,
  log: Logger,
): Promise<number> {
  // The configuration holds no secret; logged whole so a pod's log says how it was started.
  log.info({ config }, 'kvsync starting');
  const metrics = createMetrics({
    objectExpiry: config.objectExpiryMetric,
    maxVaultLabels: config.maxVaultMetricLabels,
  });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const podName = env.POD_NAME || hostname();

  const identities = createIdentityResolver({
    kubernetes: kubeIdentityPort(kubeConfig),
    azureOptions,
    env,
    defaultIdentityNamespaces: config.defaultIdentityNamespaces,
    operatorNamespace: env.POD_NAMESPACE || config.leaseNamespace,
    onTokenRequest: (kind) => metrics.tokenRequests.inc({ kind }),
  });
  // Assigned once the endpoints are up; probes before that answer 'starting'.
  const running: { operator?: Operator } = {};
  const eventLoop = monitorEventLoop();
  const servers = await startServers({
    metricsAddress: config.metricsAddress,
    healthAddress: config.healthAddress,
    registry: metrics.registry,
    log,
    live: () => {
      const loop = eventLoop.health();
      return {
        ok: loop.healthy,
        detail: `event loop delay ${loop.maxDelayMs} ms (max of the last 10 s)`,
      };
    },
    ready: () => running.operator?.readiness() ?? { ok: false, detail: 'starting' },
  });

  const operator = runOperator({
    kubeConfig,
    manager: {
      kubeConfig,
      namespaces: config.namespaces,
      workers: config.workers,
      identities,
      extraVaultSuffixes: config.extraVaultSuffixes,
      expiryWindowMs: config.expiryWindowMs,
      defaultRefreshInterval: config.defaultRefreshInterval,
      budget: { requestsPerWindow: config.vaultRequestsPer10s },
      valueCacheBytes: config.valueCacheBytes,
      log,
      metrics,
      instance: podName,
      secretClientOptions: (vaultUrl) => proxyAgentOptions(vaultUrl, env),
      self: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: podName, namespace: env.POD_NAMESPACE || config.leaseNamespace },
      },
      ...(events ? { events } : {}),
      clusterVaultSecrets: true,
      rollout: {
        keySecret: { namespace: config.leaseNamespace, name: 'kvsync-rollout-key' },
        minIntervalMs: config.rolloutMinIntervalMs,
      },
    },
    ...(config.leaderElect
      ? {
          leaderElection: {
            leaseName: config.leaseName,
            leaseNamespace: config.leaseNamespace,
            leaseDurationMs: config.leaseDurationMs,
            renewDeadlineMs: config.renewDeadlineMs,
            retryPeriodMs: config.retryPeriodMs,
            identity: leaderIdentity(podName),
          },
        }
      : {}),
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    log,
    metrics,
  });
  running.operator = operator;

  const outcome = await Promise.race([
    operator.failed,
    signalled(log).then(async (signal) => {
      log.info({ signal }, 'signal received');
      await operator.shutdown();
      return 'stopped' as const;
    }),
  ]);
  await servers.close();
  eventLoop.stop();
  if (outcome === 'stopped') {
    log.info('kvsync stopped');
    return EXIT_OK;
  }
  log.error({ reason: outcome }, 'kvsync exiting');
  return EXIT_FAILURE;
}

/** The first SIGTERM or SIGINT; a second one ends the process at once. */
function signalled(log: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (received) {
        log.warn({ signal }, 'second signal: exiting without finishing the shutdown');
        exit(EXIT_FAILURE);
      }
      received = true;
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** An error nothing handled means kvsync's state is unknown: log its message and exit. */
function exitOnUnhandledErrors(log: Logger): void {
  const fatal = (what: string) => (error: unknown) => {
    log.fatal({ err: safeError(error), stack: stackFrames(error) }, what);
    exit(EXIT_FAILURE);
  };
  process.on('unhandledRejection', fatal('unhandled promise rejection'));
  process.on('uncaughtException', fatal('uncaught exception'));
}

/** The `at ...` lines of a stack, without the message line that could repeat a value. */
function stackFrames(error: unknown): string | undefined {
  if (!(error instanceof Error) || !error.stack) return undefined;
  const first = error.stack.indexOf('\n    at ');
  return first < 0 ? undefined : error.stack.slice(first + 1);
}

/** Keep-alive sockets and timers of clients must not hold a finished operator open. */
function exit(code: number): never {
  process.exit(code);
}

try {
  main(process.argv.slice(2), process.env);
} catch (error) {
  process.stderr.write(`kvsync: ${errorMessage(error)}\n`);
  process.exitCode = EXIT_FAILURE;
}
