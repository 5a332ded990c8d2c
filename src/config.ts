// Flags and environment -> a validated, typed configuration. Every flag has an environment
// equivalent (KVSYNC_<FLAG>), so the Helm chart can use either. Bad values are refused at start.
import { parseArgs } from 'node:util';
import type { LogLevel } from './observability/logger.ts';

export interface Config {
  readonly namespaces: readonly string[];
  readonly workers: number;
  readonly defaultRefreshInterval: string;
  readonly vaultRequestsPer10s: number;
  readonly expiryWindowMs: number;
  readonly defaultIdentityNamespaces: readonly string[] | '*';
  readonly extraVaultSuffixes: readonly string[];
  readonly leaderElect: boolean;
  readonly leaseName: string;
  readonly leaseNamespace: string;
  readonly metricsAddress: string;
  readonly healthAddress: string;
  readonly logLevel: LogLevel;
  readonly shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly default: string;
  readonly help: string;
}

const flags = {
  namespaces: {
    type: 'string',
    default: '',
    help: 'Comma-separated namespaces to watch; empty watches all',
  },
  workers: { type: 'string', default: '4', help: 'Concurrent reconciles (1-64)' },
  'default-refresh-interval': {
    type: 'string',
    default: '1h',
    help: 'Refresh interval for VaultSecrets that set none (e.g. 30m, 1h, 0 = once)',
  },
  'vault-requests-per-10s': {
    type: 'string',
    default: '2000',
    help: "Per-vault budget: Key Vault's limit is 4000 per 10 s",
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
    help: 'Extra allowed vault DNS suffixes (emulators, sovereign clouds), comma-separated',
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
    help: "Namespace of the Lease (default: the pod's namespace)",
  },
  'metrics-address': { type: 'string', default: ':8080', help: 'Listen address for /metrics' },
  'health-address': {
    type: 'string',
    default: ':8081',
    help: 'Listen address for /healthz and /readyz',
  },
  'log-level': { type: 'string', default: 'info', help: 'trace, debug, info, warn, error' },
  'shutdown-timeout': {
    type: 'string',
    default: '25s',
    help: 'How long to let in-flight reconciles finish on SIGTERM',
  },
} as const satisfies Record<string, FlagSpec>;

type FlagName = keyof typeof flags;

export function usage(): string {
  const lines = ['Usage: kvsync [flags]', '', 'Flags (environment variable in brackets):'];
  for (const [name, spec] of Object.entries(flags)) {
    lines.push(
      `  --${name.padEnd(30)} ${spec.help} [${envName(name)}] (default ${JSON.stringify(spec.default)})`,
    );
  }
  lines.push('  --help                           Show this help');
  return lines.join('\n');
}

/** Throws ConfigError with a message naming the flag and what is accepted. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config | 'help' {
  const options = Object.fromEntries(
    Object.entries(flags).map(([name, spec]) => [name, { type: spec.type }]),
  ) as Record<FlagName, { type: 'string' | 'boolean' }>;
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
      allowNegative: true,
    });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  if (parsed.values.help) return 'help';
  const raw = (name: FlagName): string => {
    const value = parsed.values[name];
    if (value !== undefined) return String(value);
    return env[envName(name)] ?? flags[name].default;
  };

  const identityNamespaces = raw('default-identity-namespaces').trim();
  return {
    namespaces: list(raw('namespaces')),
    workers: integer('workers', raw('workers'), 1, 64),
    defaultRefreshInterval:
      duration('default-refresh-interval', raw('default-refresh-interval'), true) === 0
        ? '0'
        : raw('default-refresh-interval'),
    vaultRequestsPer10s: integer('vault-requests-per-10s', raw('vault-requests-per-10s'), 1, 4000),
    expiryWindowMs: duration('expiry-window', raw('expiry-window'), false),
    defaultIdentityNamespaces: identityNamespaces === '*' ? '*' : list(identityNamespaces),
    extraVaultSuffixes: list(raw('vault-suffixes')),
    leaderElect: boolean('leader-elect', raw('leader-elect')),
    leaseName: raw('lease-name'),
    leaseNamespace: raw('lease-namespace') || env.POD_NAMESPACE || 'kvsync-system',
    metricsAddress: address('metrics-address', raw('metrics-address')),
    healthAddress: address('health-address', raw('health-address')),
    logLevel: logLevel(raw('log-level')),
    shutdownTimeoutMs: duration('shutdown-timeout', raw('shutdown-timeout'), false),
  };
}

export function envName(flag: string): string {
  return `KVSYNC_${flag.toUpperCase().replaceAll('-', '_')}`;
}

/** `host:port` or `:port` -> { host, port } for net.listen. */
export function splitAddress(value: string): { host: string | undefined; port: number } {
  const at = value.lastIndexOf(':');
  const host = value.slice(0, at);
  return {
    host: host === '' ? undefined : host.replace(/^\[|\]$/g, ''),
    port: Number(value.slice(at + 1)),
  };
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function integer(name: string, value: string, min: number, max: number): number {
  const number = Number(value);
  if (!/^\d+$/.test(value.trim()) || number < min || number > max) {
    throw new ConfigError(
      `--${name}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return number;
}

function boolean(name: string, value: string): boolean {
  if (['true', '1', 'yes'].includes(value.toLowerCase())) return true;
  if (['false', '0', 'no'].includes(value.toLowerCase())) return false;
  throw new ConfigError(`--${name}: expected true or false, got ${JSON.stringify(value)}`);
}

const durationUnits: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

function duration(name: string, value: string, allowZero: boolean): number {
  const text = value.trim();
  if (text === '0' && allowZero) return 0;
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new ConfigError(
      `--${name}: expected a duration like 90s, 15m, 1h30m or 30d, got ${JSON.stringify(value)}`,
    );
  }
  const ms = parts.reduce((sum, [, count, unit]) => sum + Number(count) * durationUnits[unit!]!, 0);
  if (ms <= 0) throw new ConfigError(`--${name}: must be greater than zero`);
  return ms;
}

function address(name: string, value: string): string {
  const { port } = splitAddress(value);
  if (!value.includes(':') || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`--${name}: expected host:port or :port, got ${JSON.stringify(value)}`);
  }
  return value;
}

function logLevel(value: string): LogLevel {
  const levels: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
  if (!levels.includes(value as LogLevel)) {
    throw new ConfigError(
      `--log-level: expected one of ${levels.join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value as LogLevel;
}
