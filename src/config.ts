// Flags and environment -> a validated, typed configuration. Every flag has an environment
// equivalent (KVSYNC_<FLAG>), so the Helm chart can use either; a flag wins over its variable.
// Bad values are refused at start with a message naming the flag (or variable) and what it takes.
import { parseArgs } from 'node:util';
import { parseDuration } from './api/vault-secret.ts';
import { refreshIntervalBounds } from './api/vault-secret-schema.ts';
import { checkQueueName, parseQueueUrl } from './events/queue-url.ts';
import { vaultHostSuffixes } from './keyvault/vault-url.ts';
import type { LogFormat, LogLevel } from './observability/logger.ts';

export interface Config {
  /** Empty: all namespaces. */
  readonly namespaces: readonly string[];
  readonly workers: number;
  readonly defaultRefreshInterval: string;
  readonly vaultRequestsPer10s: number;
  readonly valueCacheBytes: number;
  readonly expiryWindowMs: number;
  readonly defaultIdentityNamespaces: readonly string[] | '*';
  readonly extraVaultSuffixes: readonly string[];
  readonly leaderElect: boolean;
  readonly leaseName: string;
  readonly leaseNamespace: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly metricsAddress: string;
  readonly healthAddress: string;
  readonly objectExpiryMetric: boolean;
  readonly maxVaultMetricLabels: number;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly shutdownTimeoutMs: number;
  /** Absent: no events, sweeps only. */
  readonly eventQueueUrl: string | undefined;
  /** Absent: `<queue>-poison`. */
  readonly eventPoisonQueue: string | undefined;
  readonly eventSweepIntervalMs: number;
  readonly rolloutMinIntervalMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly default: string;
  readonly help: string;
}

export const flags = {
  namespaces: {
    type: 'string',
    default: '',
    help: 'Comma-separated namespaces to watch; empty watches all',
  },
  workers: { type: 'string', default: '16', help: 'Concurrent reconciles (1-64)' },
  'default-refresh-interval': {
    type: 'string',
    default: '1h',
    help: `Refresh interval of VaultSecrets that set none: ${refreshIntervalBounds.min} to ${refreshIntervalBounds.max} like 30m or 1h30m, or 0 = once`,
  },
  'vault-requests-per-10s': {
    type: 'string',
    default: '2000',
    help: "Per-vault request budget (1-4000); Key Vault's own limit is 4000 per 10 s",
  },
  'value-cache-size': {
    type: 'string',
    default: '64Mi',
    help: 'Memory for cached Key Vault values, like 64Mi or 1Gi (16Mi-16Gi); replaced versions go first',
  },
  'expiry-window': {
    type: 'string',
    default: '720h',
    help: 'Warn (ExpiringSoon) this long before an object expires',
  },
  'default-identity-namespaces': {
    type: 'string',
    default: '*',
    help: "Namespaces allowed to use the operator's own identity: comma list, or * for all",
  },
  'vault-suffixes': {
    type: 'string',
    default: '',
    help: 'Extra allowed vault DNS suffixes (emulators, private clouds), comma-separated',
  },
  'leader-elect': {
    type: 'boolean',
    default: 'true',
    help: 'Elect a leader over a Lease; only the leader reconciles',
  },
  'lease-name': { type: 'string', default: 'kvsync', help: 'Name of the leader-election Lease' },
  'lease-namespace': {
    type: 'string',
    default: '',
    help: 'Namespace of the Lease (default: $POD_NAMESPACE, else kvsync-system)',
  },
  'lease-duration': {
    type: 'string',
    default: '15s',
    help: 'How long a standby waits after the last renewal before taking the Lease',
  },
  'renew-deadline': {
    type: 'string',
    default: '10s',
    help: 'How long the leader retries renewing before it stops leading (< lease duration)',
  },
  'retry-period': {
    type: 'string',
    default: '2s',
    help: 'Interval between Lease renewals and acquisition attempts',
  },
  'metrics-address': {
    type: 'string',
    default: ':8080',
    help: 'Listen address for /metrics (host:port or :port; port 0 picks a free one)',
  },
  'health-address': {
    type: 'string',
    default: ':8081',
    help: 'Listen address for /healthz and /readyz (may equal --metrics-address)',
  },
  'object-expiry-metric': {
    type: 'boolean',
    default: 'true',
    help: 'Export kvsync_object_expiry_timestamp_seconds, one series per synced object',
  },
  'max-vault-metric-labels': {
    type: 'string',
    default: '100',
    help: 'Distinct vault hosts in the vault label of metrics (1-10000); later ones count as "other"',
  },
  'log-level': {
    type: 'string',
    default: 'info',
    help: 'trace, debug, info, warn, error, fatal or silent',
  },
  'log-format': {
    type: 'string',
    default: 'json',
    help: 'json (one object per line, for log pipelines) or text (for people at a terminal)',
  },
  'shutdown-timeout': {
    type: 'string',
    default: '25s',
    help: 'How long in-flight reconciles may take to finish on SIGTERM',
  },
  'event-queue-url': {
    type: 'string',
    default: '',
    help: "Storage Queue with Key Vault events (https://<account>.queue.core.windows.net/<queue>), read with kvsync's own identity; empty: sweeps only",
  },
  'event-poison-queue': {
    type: 'string',
    default: '',
    help: 'Queue (same account) for messages that cannot be processed; empty: <queue>-poison',
  },
  'event-sweep-interval': {
    type: 'string',
    default: '30m',
    help: 'While events flow, rotation sweeps run at most this often (full rate while the queue fails)',
  },
  'rollout-min-interval': {
    type: 'string',
    default: '1m',
    help: 'Minimum time between two restarts of one workload (spec.rolloutRestart)',
  },
} as const satisfies Record<string, FlagSpec>;

export type FlagName = keyof typeof flags;

export function usage(): string {
  const lines = [
    'Usage: kvsync [flags]',
    '       kvsync convert [FILE...]   (External Secrets Operator manifests -> VaultSecrets and ClusterVaultSecrets; convert --help)',
    '',
    'Keeps Kubernetes Secrets in sync with Azure Key Vault secrets and certificates.',
    '',
    'Flags (environment variable in brackets; a flag wins over its variable):',
  ];
  for (const [name, spec] of Object.entries(flags) as [FlagName, FlagSpec][]) {
    const syntax = spec.type === 'boolean' ? `--${name}[=true|false]` : `--${name}=<value>`;
    lines.push(`  ${syntax.padEnd(38)} ${envName(name)}, default ${JSON.stringify(spec.default)}`);
    lines.push(`      ${spec.help}`);
  }
  lines.push('  --help, -h', '      Show this help and exit');
  lines.push(
    '',
    'Azure: workload identity variables (AZURE_CLIENT_ID, AZURE_TENANT_ID,',
    'AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST) or AZURE_CLIENT_SECRET; egress honours',
    'HTTPS_PROXY/NO_PROXY and NODE_EXTRA_CA_CERTS. Kubernetes: in-cluster config or $KUBECONFIG.',
  );
  return lines.join('\n');
}

/** Throws ConfigError with a message naming the flag and what is accepted. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: normaliseBooleans(argv),
      options: {
        ...(Object.fromEntries(
          Object.keys(flags).map((name) => [name, { type: 'string' }]),
        ) as Record<FlagName, { type: 'string' }>),
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}; see --help`);
  }
  if (parsed.values.help) return 'help';

  const input = (name: FlagName): Input => {
    const value = parsed.values[name];
    if (value !== undefined) return { value, source: `--${name}` };
    const fromEnv = env[envName(name)];
    if (fromEnv !== undefined) return { value: fromEnv, source: envName(name) };
    return { value: flags[name].default, source: `--${name}` };
  };

  const leaseDurationMs = duration(input('lease-duration'));
  const renewDeadlineMs = duration(input('renew-deadline'));
  const retryPeriodMs = duration(input('retry-period'));
  // LeaderElector's own invariants, refused here with the flag names rather than at run time.
  if (!(leaseDurationMs > renewDeadlineMs)) {
    throw new ConfigError('--lease-duration must be longer than --renew-deadline');
  }
  if (!(renewDeadlineMs > retryPeriodMs * 1.2)) {
    throw new ConfigError('--renew-deadline must be longer than 1.2 × --retry-period');
  }
  const identityNamespaces = input('default-identity-namespaces');
  const leaseNamespace = input('lease-namespace');
  return {
    namespaces: namespaceList(input('namespaces')),
    workers: integer(input('workers'), 1, 64),
    defaultRefreshInterval: refreshInterval(input('default-refresh-interval')),
    vaultRequestsPer10s: integer(input('vault-requests-per-10s'), 1, 4000),
    valueCacheBytes: byteSize(input('value-cache-size'), 16 * 2 ** 20, 16 * 2 ** 30),
    expiryWindowMs: duration(input('expiry-window')),
    defaultIdentityNamespaces:
      identityNamespaces.value.trim() === '*' ? '*' : namespaceList(identityNamespaces),
    extraVaultSuffixes: suffixes(input('vault-suffixes')),
    leaderElect: boolean(input('leader-elect')),
    leaseName: dnsName(input('lease-name'), dnsSubdomain, 'a DNS subdomain name'),
    leaseNamespace:
      leaseNamespace.value === ''
        ? env.POD_NAMESPACE || 'kvsync-system'
        : dnsName(leaseNamespace, dnsLabel, 'a namespace name'),
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
    metricsAddress: address(input('metrics-address')),
    healthAddress: address(input('health-address')),
    objectExpiryMetric: boolean(input('object-expiry-metric')),
    maxVaultMetricLabels: integer(input('max-vault-metric-labels'), 1, 10_000),
    logLevel: logLevel(input('log-level')),
    logFormat: logFormat(input('log-format')),
    shutdownTimeoutMs: duration(input('shutdown-timeout')),
    eventQueueUrl: optional(input('event-queue-url'), queueUrl),
    eventPoisonQueue: optional(input('event-poison-queue'), poisonQueue),
    eventSweepIntervalMs: duration(input('event-sweep-interval')),
    rolloutMinIntervalMs: duration(input('rollout-min-interval')),
  };
}

export function envName(flag: string): string {
  return `KVSYNC_${flag.toUpperCase().replaceAll('-', '_')}`;
}

/** `host:port` or `:port` -> { host, port } for net.listen; `[::1]:80` -> host `::1`. */
export function splitAddress(value: string): { host: string | undefined; port: number } {
  const at = value.lastIndexOf(':');
  const host = value.slice(0, at);
  return {
    host: host === '' ? undefined : host.replace(/^\[|\]$/g, ''),
    port: Number(value.slice(at + 1)),
  };
}

interface Input {
  readonly value: string;
  /** `--flag` or `KVSYNC_FLAG`: what the user has to fix. */
  readonly source: string;
}

const booleanFlags = new Set(
  Object.entries(flags)
    .filter(([, spec]) => spec.type === 'boolean')
    .map(([name]) => name),
);

/**
 * Booleans take `--flag`, `--no-flag` and `--flag=false` (as Go's flag packages do, and as the
 * chart writes them); parseArgs' booleans refuse a value, so they are parsed as strings.
 */
function normaliseBooleans(argv: readonly string[]): string[] {
  return argv.map((arg) => {
    const name = arg.slice(2);
    if (!arg.startsWith('--') || arg.includes('=')) return arg;
    if (booleanFlags.has(name)) return `${arg}=true`;
    if (name.startsWith('no-') && booleanFlags.has(name.slice(3)))
      return `--${name.slice(3)}=false`;
    return arg;
  });
}

function refuse(input: Input, expected: string): never {
  throw new ConfigError(
    `${input.source}: expected ${expected}, got ${JSON.stringify(input.value)}`,
  );
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const dnsSubdomain =
  /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function namespaceList(input: Input): string[] {
  const names = list(input.value);
  for (const name of names) {
    if (!dnsLabel.test(name)) refuse(input, `comma-separated namespace names (${name} is not one)`);
  }
  return names;
}

function dnsName(input: Input, pattern: RegExp, what: string): string {
  if (!pattern.test(input.value)) refuse(input, what);
  return input.value;
}

function integer(input: Input, min: number, max: number): number {
  const number = Number(input.value);
  if (!/^\d+$/.test(input.value.trim()) || number < min || number > max) {
    refuse(input, `a whole number from ${min} to ${max}`);
  }
  return number;
}

const byteUnits: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };

/** A Kubernetes-style quantity in binary units: `64Mi`, `1Gi`, `65536Ki`. */
function byteSize(input: Input, min: number, max: number): number {
  const match = /^(\d{1,12})(Ki|Mi|Gi)?$/.exec(input.value.trim());
  const bytes = match ? Number(match[1]) * byteUnits[match[2] ?? '']! : NaN;
  if (!(bytes >= min && bytes <= max)) {
    refuse(input, 'a size from 16Mi to 16Gi, like 64Mi or 1Gi');
  }
  return bytes;
}

function boolean(input: Input): boolean {
  const value = input.value.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no'].includes(value)) return false;
  return refuse(input, 'true or false');
}

const durationUnits: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

function duration(input: Input): number {
  const text = input.value.trim();
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    refuse(input, 'a duration like 90s, 15m, 1h30m or 30d');
  }
  const ms = parts.reduce((sum, [, count, unit]) => sum + Number(count) * durationUnits[unit!]!, 0);
  if (ms <= 0) refuse(input, 'a duration greater than zero');
  return ms;
}

/** The CRD's own grammar and bounds, since the value stands in for a VaultSecret's field. */
function refreshInterval(input: Input): string {
  const text = input.value.trim();
  const expected = `0 or a duration from ${refreshIntervalBounds.min} to ${refreshIntervalBounds.max} in hours, minutes and seconds, like 30m or 1h30m`;
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    return refuse(input, expected);
  }
  const min = parseDuration(refreshIntervalBounds.min);
  const max = parseDuration(refreshIntervalBounds.max);
  if (ms !== 0 && (ms < min || ms > max)) refuse(input, expected);
  return ms === 0 ? '0' : text;
}

function optional<T>(input: Input, parse: (input: Input) => T): T | undefined {
  return input.value.trim() === '' ? undefined : parse(input);
}

function queueUrl(input: Input): string {
  try {
    parseQueueUrl(input.value);
  } catch (error) {
    refuse(
      input,
      `a queue URL like https://<account>.queue.core.windows.net/<queue> (${(error as Error).message})`,
    );
  }
  return input.value.trim();
}

function poisonQueue(input: Input): string {
  try {
    checkQueueName(input.value.trim());
  } catch {
    refuse(input, 'a queue name: 3-63 lower-case letters, digits and single dashes');
  }
  return input.value.trim();
}

function suffixes(input: Input): string[] {
  const names = list(input.value);
  try {
    vaultHostSuffixes(names, []);
  } catch {
    refuse(input, 'comma-separated DNS suffixes like vault.example.internal');
  }
  return names;
}

function address(input: Input): string {
  const value = input.value.trim();
  const at = value.lastIndexOf(':');
  const host = value.slice(0, at);
  const port = value.slice(at + 1);
  const hostOk = host === '' || /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)$/.test(host);
  if (at < 0 || !hostOk || !/^\d{1,5}$/.test(port) || Number(port) > 65535) {
    refuse(input, 'host:port or :port');
  }
  return value;
}

const logLevels: readonly LogLevel[] = [
  'trace',
  'debug',
  'info',
  'warn',
  'error',
  'fatal',
  'silent',
];

function logLevel(input: Input): LogLevel {
  const value = input.value.trim() as LogLevel;
  if (!logLevels.includes(value)) refuse(input, `one of ${logLevels.join(', ')}`);
  return value;
}

function logFormat(input: Input): LogFormat {
  const value = input.value.trim();
  if (value !== 'json' && value !== 'text') refuse(input, 'json or text');
  return value;
}
