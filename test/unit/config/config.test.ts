// Flags and their environment equivalents -> Config, and the messages for values kvsync refuses.
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  envName,
  flags,
  loadConfig,
  splitAddress,
  usage,
  type Config,
  type FlagName,
} from '../../../src/config.ts';

function load(argv: string[], env: NodeJS.ProcessEnv = {}): Config {
  const config = loadConfig(argv, env);
  if (config === 'help') throw new Error('unexpected help');
  return config;
}

function refusal(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    loadConfig(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(argv)} ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('has defaults that match the design (client-go lease timings, half the vault limit)', () => {
    // A subset: flags of other features are tested with them.
    expect(load([])).toMatchObject({
      namespaces: [],
      workers: 16,
      defaultRefreshInterval: '1h',
      vaultRequestsPer10s: 2000,
      valueCacheBytes: 64 * 2 ** 20,
      expiryWindowMs: 30 * 24 * 3_600_000,
      defaultIdentityNamespaces: '*',
      extraVaultSuffixes: [],
      leaderElect: true,
      leaseName: 'kvsync',
      leaseNamespace: 'kvsync-system',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      metricsAddress: ':8080',
      healthAddress: ':8081',
      objectExpiryMetric: true,
      maxVaultMetricLabels: 100,
      logLevel: 'info',
      logFormat: 'json',
      shutdownTimeoutMs: 25_000,
    } satisfies Partial<Config>);
  });

  // Every flag: its value as given on the command line, and what Config holds. Rows for flags
  // this build does not have are skipped, so features can land in any order.
  const rows: [string, string, Record<string, unknown>][] = [
    ['namespaces', 'team-a, team-b', { namespaces: ['team-a', 'team-b'] }],
    ['workers', '16', { workers: 16 }],
    ['default-refresh-interval', '1h30m', { defaultRefreshInterval: '1h30m' }],
    ['default-refresh-interval', '0', { defaultRefreshInterval: '0' }],
    ['vault-requests-per-10s', '4000', { vaultRequestsPer10s: 4000 }],
    ['value-cache-size', '1Gi', { valueCacheBytes: 2 ** 30 }],
    ['value-cache-size', '65536Ki', { valueCacheBytes: 64 * 2 ** 20 }],
    ['expiry-window', '14d', { expiryWindowMs: 14 * 86_400_000 }],
    [
      'default-identity-namespaces',
      'platform,ops',
      { defaultIdentityNamespaces: ['platform', 'ops'] },
    ],
    ['default-identity-namespaces', '', { defaultIdentityNamespaces: [] }],
    [
      'vault-suffixes',
      'vault.localtest,.kv.internal',
      { extraVaultSuffixes: ['vault.localtest', '.kv.internal'] },
    ],
    ['leader-elect', 'false', { leaderElect: false }],
    ['lease-name', 'kvsync-prod.lock', { leaseName: 'kvsync-prod.lock' }],
    ['lease-namespace', 'operators', { leaseNamespace: 'operators' }],
    ['lease-duration', '30s', { leaseDurationMs: 30_000 }],
    ['renew-deadline', '5s', { renewDeadlineMs: 5_000 }],
    ['retry-period', '1500ms', { retryPeriodMs: 1_500 }],
    ['metrics-address', '127.0.0.1:9090', { metricsAddress: '127.0.0.1:9090' }],
    ['health-address', '[::1]:0', { healthAddress: '[::1]:0' }],
    ['object-expiry-metric', 'false', { objectExpiryMetric: false }],
    ['max-vault-metric-labels', '20', { maxVaultMetricLabels: 20 }],
    ['log-level', 'debug', { logLevel: 'debug' }],
    ['log-format', 'text', { logFormat: 'text' }],
    ['shutdown-timeout', '1m30s', { shutdownTimeoutMs: 90_000 }],
    [
      'event-queue-url',
      'https://kvsyncevents.queue.core.windows.net/keyvault-events',
      { eventQueueUrl: 'https://kvsyncevents.queue.core.windows.net/keyvault-events' },
    ],
    ['event-poison-queue', 'keyvault-events-dead', { eventPoisonQueue: 'keyvault-events-dead' }],
    ['event-sweep-interval', '2h', { eventSweepIntervalMs: 7_200_000 }],
    ['rollout-min-interval', '30s', { rolloutMinIntervalMs: 30_000 }],
  ];
  const accepted = rows.filter(([flag]) => flag in flags) as [FlagName, string, Partial<Config>][];

  it('has a row for every flag', () => {
    const covered = new Set(accepted.map(([flag]) => flag));
    expect(Object.keys(flags).filter((flag) => !covered.has(flag as FlagName))).toEqual([]);
  });

  it.each(accepted)('--%s=%s', (flag, value, expected) => {
    expect(load([`--${flag}=${value}`])).toMatchObject(expected);
  });

  it.each(accepted)('%s from the environment', (flag, value, expected) => {
    expect(load([], { [envName(flag)]: value })).toMatchObject(expected);
  });

  it('takes a flag over its environment variable', () => {
    expect(load(['--workers=8'], { KVSYNC_WORKERS: '2' }).workers).toBe(8);
  });

  it('takes string flags as separate arguments too', () => {
    expect(load(['--workers', '8', '--log-level', 'warn'])).toMatchObject({
      workers: 8,
      logLevel: 'warn',
    });
  });

  it.each([
    [['--leader-elect'], true],
    [['--leader-elect=false'], false],
    [['--no-leader-elect'], false],
    [['--leader-elect=0'], false],
    [['--leader-elect=yes'], true],
    [['--leader-elect=FALSE'], false],
  ])('booleans: %j -> %s', (argv, expected) => {
    expect(load(argv, { KVSYNC_LEADER_ELECT: 'true' }).leaderElect).toBe(expected);
  });

  it('puts the Lease in the pod namespace unless told otherwise', () => {
    expect(load([], { POD_NAMESPACE: 'kvsync' }).leaseNamespace).toBe('kvsync');
    expect(load(['--lease-namespace=ops'], { POD_NAMESPACE: 'kvsync' }).leaseNamespace).toBe('ops');
  });

  it('returns help for --help and -h, whatever else is given', () => {
    expect(loadConfig(['--help'], {})).toBe('help');
    expect(loadConfig(['-h', '--workers=0'], {})).toBe('help');
  });

  it.each([
    [['--workers=0'], '--workers: expected a whole number from 1 to 64, got "0"'],
    [['--workers=65'], '--workers: expected a whole number from 1 to 64, got "65"'],
    [['--workers=2.5'], '--workers: expected a whole number from 1 to 64, got "2.5"'],
    [
      ['--value-cache-size=1Mi'],
      '--value-cache-size: expected a size from 16Mi to 16Gi, like 64Mi or 1Gi, got "1Mi"',
    ],
    [['--value-cache-size=64MB'], '--value-cache-size: expected a size from 16Mi to 16Gi'],
    [
      ['--vault-requests-per-10s=5000'],
      '--vault-requests-per-10s: expected a whole number from 1 to 4000, got "5000"',
    ],
    [
      ['--default-refresh-interval=5s'],
      '--default-refresh-interval: expected 0 or a duration from 10s to 168h',
    ],
    [
      ['--default-refresh-interval=1d'],
      '--default-refresh-interval: expected 0 or a duration from 10s to 168h',
    ],
    [
      ['--default-refresh-interval=200h'],
      '--default-refresh-interval: expected 0 or a duration from 10s to 168h',
    ],
    [
      ['--expiry-window=soon'],
      '--expiry-window: expected a duration like 90s, 15m, 1h30m or 30d, got "soon"',
    ],
    [['--expiry-window=0s'], '--expiry-window: expected a duration greater than zero, got "0s"'],
    [['--shutdown-timeout=-5s'], '--shutdown-timeout: expected a duration like 90s'],
    [
      ['--namespaces=Team_A'],
      '--namespaces: expected comma-separated namespace names (Team_A is not one)',
    ],
    [
      ['--default-identity-namespaces=a,b/c'],
      '--default-identity-namespaces: expected comma-separated namespace names (b/c is not one)',
    ],
    [['--vault-suffixes=bad_suffix'], '--vault-suffixes: expected comma-separated DNS suffixes'],
    [['--leader-elect=maybe'], '--leader-elect: expected true or false, got "maybe"'],
    [['--object-expiry-metric=off'], '--object-expiry-metric: expected true or false, got "off"'],
    [['--lease-name=Kvsync'], '--lease-name: expected a DNS subdomain name, got "Kvsync"'],
    [['--lease-namespace=a.b'], '--lease-namespace: expected a namespace name, got "a.b"'],
    [['--lease-duration=10s'], '--lease-duration must be longer than --renew-deadline'],
    [['--retry-period=9s'], '--renew-deadline must be longer than 1.2 × --retry-period'],
    [['--metrics-address=8080'], '--metrics-address: expected host:port or :port, got "8080"'],
    [['--metrics-address=:'], '--metrics-address: expected host:port or :port, got ":"'],
    [['--health-address=:70000'], '--health-address: expected host:port or :port, got ":70000"'],
    [['--health-address=a b:80'], '--health-address: expected host:port or :port'],
    [
      ['--log-level=verbose'],
      '--log-level: expected one of trace, debug, info, warn, error, fatal, silent, got "verbose"',
    ],
    [['--log-format=pretty'], '--log-format: expected json or text, got "pretty"'],
    [['--wrokers=4'], "Unknown option '--wrokers'"],
    [['extra'], "Unexpected argument 'extra'"],
    [['--workers'], "Option '--workers <value>' argument missing"],
  ])('refuses %j', (argv, message) => {
    expect(refusal(argv)).toContain(message);
  });

  it('names the environment variable when the value came from one', () => {
    expect(refusal([], { KVSYNC_WORKERS: 'many' })).toBe(
      'KVSYNC_WORKERS: expected a whole number from 1 to 64, got "many"',
    );
    expect(refusal([], { KVSYNC_LEADER_ELECT: 'perhaps' })).toBe(
      'KVSYNC_LEADER_ELECT: expected true or false, got "perhaps"',
    );
  });
});

describe('usage', () => {
  it('lists every flag with its environment variable and default', () => {
    const text = usage();
    for (const [name, spec] of Object.entries(flags)) {
      expect(text).toContain(`--${name}`);
      expect(text).toContain(`${envName(name)}, default ${JSON.stringify(spec.default)}`);
    }
  });
});

describe('splitAddress', () => {
  it.each([
    [':8080', { host: undefined, port: 8080 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['[::]:8081', { host: '::', port: 8081 }],
  ])('%s', (address, expected) => {
    expect(splitAddress(address)).toEqual(expected);
  });
});
