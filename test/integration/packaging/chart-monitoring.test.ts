// The chart's alerts and kvsync's Grafana dashboard, read by Prometheus's own tools: every query
// parses with promtool and names only metrics a running kvsync exports (its live /metrics), the
// alerts fire on the series that should fire them and stay quiet otherwise (promtool test rules),
// and the dashboard ConfigMap is what Grafana's sidecar picks up.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { dashboardPath } from '../../../scripts/generate.ts';
import { parseMetrics } from '../../support/kvsync-process.ts';
import { promqlSelectors, promtool } from '../../support/promtool.ts';
import {
  startOperationsEnvironment,
  type OperationsEnvironment,
} from '../operations/environment.ts';
import { helmTemplate, kubectlWithManifest, repoRoot } from './chart.ts';

const info = inject('controlPlane');
const NAMESPACE = 'kvsync-system';

interface Rule {
  alert: string;
  expr: string;
}
interface RuleGroups {
  groups: { name: string; rules: Rule[] }[];
}

/** The PrometheusRule's spec (rule groups) as the chart renders it with `values`. */
async function renderedRules(values: Record<string, unknown> = {}): Promise<RuleGroups> {
  const manifest = await helmTemplate(info, {
    release: 'kvsync',
    namespace: NAMESPACE,
    values: {
      metrics: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true } },
      ...values,
    },
    extraArgs: ['--show-only', 'templates/prometheusrule.yaml'],
  });
  const rule = parseAllDocuments(manifest)[0]!.toJS() as { spec: RuleGroups };
  return rule.spec;
}

interface Dashboard {
  panels: { type: string; title: string; targets?: { expr: string }[] }[];
  templating: { list: { name: string; query?: string | { query: string } }[] };
}

const dashboardText = () => readFile(path.join(repoRoot, dashboardPath), 'utf8');

/**
 * Every PromQL query of the dashboard as Prometheus receives it: Grafana's variables replaced by
 * values, and the series selectors of the variables' label_values(...).
 */
function dashboardQueries(dashboard: Dashboard): string[] {
  const substitute = (expr: string): string =>
    expr
      .replaceAll('$__rate_interval', '2m')
      .replaceAll('$job', 'kvsync')
      .replaceAll('$namespace', '.*');
  const panels = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((t) => t.expr));
  const variables = dashboard.templating.list.flatMap((variable) => {
    const query = typeof variable.query === 'object' ? variable.query.query : variable.query;
    const selector = /^label_values\((.+), *\w+\)$/.exec(query ?? '')?.[1];
    return selector ? [selector] : [];
  });
  return [...panels, ...variables].map(substitute);
}

/** Recording rules wrapping queries, so `promtool check rules` parses and lints each. */
function asRecordingRules(exprs: readonly string[]): string {
  const rules = exprs.map((expr, i) => ({ record: `kvsync:dashboard_query:${i}`, expr }));
  return stringify({ groups: [{ name: 'dashboard', rules }] });
}

describe('PrometheusRule', () => {
  it('renders only with the ServiceMonitor whose series it reads', async () => {
    const render = helmTemplate(info, {
      release: 'kvsync',
      namespace: NAMESPACE,
      values: { metrics: { prometheusRule: { enabled: true } } },
    });
    await expect(render).rejects.toThrow(
      'metrics.prometheusRule.enabled needs metrics.serviceMonitor.enabled',
    );
  });

  it('passes promtool check rules', async () => {
    const result = await promtool(['check', 'rules', 'rules.yaml'], {
      'rules.yaml': stringify(await renderedRules()),
    });
    expect(result.output).toContain('SUCCESS: 7 rules found');
    expect(result.code).toBe(0);
  });

  it('passes promtool test rules: each alert fires when it should and only then', async () => {
    const result = await promtool(['test', 'rules', 'tests.yaml'], {
      'rules.yaml': stringify(await renderedRules()),
      'tests.yaml': stringify(alertTests()),
    });
    expect(result.output).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });
});

describe('Grafana dashboard', () => {
  it('has the panels the issue asks for', async () => {
    const dashboard = JSON.parse(await dashboardText()) as Dashboard;
    const titles = dashboard.panels.map((panel) => panel.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        'Leader',
        'Ready by namespace',
        'Reconciles by result',
        'Reconcile errors',
        'Requests by vault and code',
        'Throttling (429) by vault',
        'Sweeps by result',
        'Rotations written',
        'Event lag and event to Secret',
        'Expiry, soonest first',
      ]),
    );
  });

  it('every query parses with promtool', async () => {
    const queries = dashboardQueries(JSON.parse(await dashboardText()) as Dashboard);
    expect(queries.length).toBeGreaterThan(20);
    const result = await promtool(['check', 'rules', 'dashboard.yaml'], {
      'dashboard.yaml': asRecordingRules(queries),
    });
    expect(result.output).toContain(`SUCCESS: ${queries.length} rules found`);
    expect(result.code).toBe(0);
  });

  it("is a ConfigMap for Grafana's sidecar with grafanaDashboard.enabled, accepted by the API server", async () => {
    const manifest = await helmTemplate(info, {
      release: 'kvsync',
      namespace: NAMESPACE,
      values: {
        grafanaDashboard: {
          enabled: true,
          namespace: 'default',
          annotations: { grafana_folder: 'Platform' },
        },
      },
      extraArgs: ['--show-only', 'templates/grafana-dashboard.yaml'],
    });
    const configMap = parseAllDocuments(manifest)[0]!.toJS() as {
      metadata: { namespace: string; labels: object; annotations: object };
      data: Record<string, string>;
    };
    expect(configMap.metadata.namespace).toBe('default');
    expect(configMap.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    expect(configMap.metadata.annotations).toEqual({ grafana_folder: 'Platform' });
    expect(configMap.data['kvsync.json']).toBe((await dashboardText()).trimEnd());
    const out = await kubectlWithManifest(info, ['apply', '--dry-run=server'], manifest);
    expect(out).toContain('configmap/kvsync-dashboard created (server dry run)');
  });
});

describe('the queries of the dashboard and the alerts against a running kvsync', () => {
  let env: OperationsEnvironment;
  let exported: Set<string>;

  beforeAll(async () => {
    env = await startOperationsEnvironment(info, 'monitoring');
    // With events configured, so the event metrics exist (the queue itself is not reachable).
    const kvsync = await env.start('metrics', {
      args: [
        '--leader-elect=false',
        '--event-queue-url=https://kvevents.queue.localtest/kv-events',
      ],
    });
    await kvsync.waitForReadyz();
    exported = exportedNames(await kvsync.scrape());
  });

  afterAll(async () => {
    await env?.close();
  });

  it('the live /metrics has kvsync, process and Node.js metrics', () => {
    for (const name of ['kvsync_leader', 'kvsync_event_lag_seconds', 'process_cpu_seconds_total']) {
      expect(exported).toContain(name);
    }
    expect(exported).toContain('nodejs_heap_size_used_bytes');
  });

  it('every dashboard query names only metrics kvsync exports', async () => {
    const queries = dashboardQueries(JSON.parse(await dashboardText()) as Dashboard);
    expect(unknownMetrics(await promqlSelectors(queries), exported)).toEqual([]);
  });

  it('every alert names only metrics kvsync exports', async () => {
    const rules = (await renderedRules()).groups.flatMap((group) => group.rules);
    const selectors = await promqlSelectors(rules.map((rule) => rule.expr));
    expect(selectors.flatMap((s) => s.metrics).length).toBeGreaterThan(0);
    expect(unknownMetrics(selectors, exported)).toEqual([]);
  });
});

/** Metric names a scrape can hold: each family, and a histogram's or summary's series. */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [family, type] of parseMetrics(text).types) {
    names.add(family);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(family + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(family + s);
  }
  return names;
}

function unknownMetrics(
  selectors: readonly { expr: string; error?: string; metrics: readonly string[] }[],
  exported: ReadonlySet<string>,
): string[] {
  return selectors.flatMap((s) => {
    if (s.error) return [`${s.expr}: ${s.error}`];
    return s.metrics.filter((name) => !exported.has(name)).map((name) => `${s.expr}: ${name}`);
  });
}

/**
 * promtool unit tests of the chart's default alerts (release namespace kvsync-system, refresh
 * interval 1h so "stale" is 2 h, expiry warning 30 days). Time starts at 0 (1970).
 */
function alertTests(): object {
  const ns = `namespace="${NAMESPACE}"`;
  const noAlerts = (alertname: string, eval_time: string) => ({
    alertname,
    eval_time,
    exp_alerts: [],
  });
  /** Each alert as its labels and annotations, with the templates expanded. */
  const fires = (
    alertname: string,
    eval_time: string,
    ...alerts: [labels: Record<string, string>, annotations: Record<string, string>][]
  ) => ({
    alertname,
    eval_time,
    exp_alerts: alerts.map(([exp_labels, exp_annotations]) => ({ exp_labels, exp_annotations })),
  });
  return {
    rule_files: ['rules.yaml'],
    evaluation_interval: '1m',
    tests: [
      {
        name: 'kvsync not scraped: no series of it at all, so KvsyncNoLeader stays quiet',
        interval: '1m',
        input_series: [{ series: 'up{job="something-else"}', values: '1x60' }],
        alert_rule_test: [
          noAlerts('KvsyncNoLeader', '30m'),
          noAlerts('KvsyncVaultSecretNotReady', '30m'),
          noAlerts('KvsyncDataStale', '30m'),
        ],
      },
      {
        name: 'replicas scraped, none leading: KvsyncNoLeader fires after 5 minutes',
        interval: '1m',
        input_series: [
          { series: `kvsync_leader{${ns}, pod="kvsync-a"}`, values: '0x30' },
          { series: `kvsync_leader{${ns}, pod="kvsync-b"}`, values: '0x30' },
        ],
        alert_rule_test: [
          noAlerts('KvsyncNoLeader', '4m'),
          fires('KvsyncNoLeader', '10m', [
            { severity: 'critical' },
            {
              summary: `No kvsync replica in ${NAMESPACE} has led for 5 minutes; no VaultSecret is synced`,
              description: `Check the pods and the Lease: kubectl -n ${NAMESPACE} get pods,lease`,
            },
          ]),
        ],
      },
      {
        name: 'one replica leads: no KvsyncNoLeader; another install without a leader is not ours',
        interval: '1m',
        input_series: [
          { series: `kvsync_leader{${ns}, pod="kvsync-a"}`, values: '1x30' },
          { series: `kvsync_leader{${ns}, pod="kvsync-b"}`, values: '0x30' },
          { series: 'kvsync_leader{namespace="other", pod="kvsync-c"}', values: '0x30' },
        ],
        alert_rule_test: [noAlerts('KvsyncNoLeader', '20m')],
      },
      {
        name: 'a VaultSecret not Ready for 15 minutes fires; a Ready one does not',
        interval: '1m',
        input_series: [
          { series: 'kvsync_vaultsecret_ready{namespace="team-a", name="db"}', values: '0x30' },
          { series: 'kvsync_vaultsecret_ready{namespace="team-a", name="ok"}', values: '1x30' },
        ],
        alert_rule_test: [
          noAlerts('KvsyncVaultSecretNotReady', '10m'),
          fires('KvsyncVaultSecretNotReady', '20m', [
            { severity: 'warning', namespace: 'team-a', name: 'db' },
            {
              summary: 'VaultSecret team-a/db is not Ready',
              description:
                'The Secret keeps its last good data. kubectl describe vaultsecret -n team-a db shows the reason and what to fix.',
            },
          ]),
        ],
      },
      {
        name: 'failing reconciles for 15 minutes fire; successful ones do not',
        interval: '1m',
        input_series: [
          { series: 'kvsync_reconcile_total{result="success"}', values: '0+5x60' },
          { series: 'kvsync_reconcile_total{result="error"}', values: '0x20 0+1x40' },
        ],
        alert_rule_test: [
          noAlerts('KvsyncReconcileErrors', '20m'),
          fires('KvsyncReconcileErrors', '50m', [
            { severity: 'warning' },
            {
              summary: 'kvsync reconciles have been failing for 15 minutes',
              description:
                'Failing VaultSecrets are retried with backoff; their status and events name the cause.',
            },
          ]),
        ],
      },
      {
        name: 'a VaultSecret not synced for twice the refresh interval fires; a fresh one does not',
        interval: '1m',
        input_series: [
          // Synced at time 0, never again.
          {
            series: 'kvsync_last_sync_timestamp_seconds{namespace="team-a", name="old"}',
            values: '0x200',
          },
          // Synced every minute.
          {
            series: 'kvsync_last_sync_timestamp_seconds{namespace="team-a", name="fresh"}',
            values: '0+60x200',
          },
        ],
        alert_rule_test: [
          noAlerts('KvsyncDataStale', '1h'),
          fires('KvsyncDataStale', '3h', [
            { severity: 'warning', namespace: 'team-a', name: 'old' },
            {
              summary: 'VaultSecret team-a/old has not synced for 3h 0m 0s',
              description:
                'More than 7200 s (twice the refresh interval) since the last successful sync. VaultSecrets with a longer spec.refreshInterval or refreshInterval 0 may need metrics.prometheusRule.staleAfterSeconds.',
            },
          ]),
        ],
      },
      {
        name: 'objects expiring within 30 days or expired fire; one expiring in 100 days does not',
        interval: '1m',
        input_series: [
          {
            series: `kvsync_object_expiry_timestamp_seconds{namespace="team-a", name="app", object="soon", kind="secret"}`,
            values: `${10 * 86400}x200`,
          },
          {
            series: `kvsync_object_expiry_timestamp_seconds{namespace="team-a", name="app", object="gone", kind="certificate"}`,
            values: '3600x200',
          },
          {
            series: `kvsync_object_expiry_timestamp_seconds{namespace="team-a", name="app", object="later", kind="secret"}`,
            values: `${100 * 86400}x200`,
          },
        ],
        alert_rule_test: [
          fires('KvsyncObjectExpired', '2h', [
            {
              severity: 'critical',
              namespace: 'team-a',
              name: 'app',
              object: 'gone',
              kind: 'certificate',
            },
            {
              summary: 'Key Vault certificate gone used by team-a/app has expired',
            },
          ]),
          fires(
            'KvsyncObjectExpiringSoon',
            '2h',
            [
              {
                severity: 'warning',
                namespace: 'team-a',
                name: 'app',
                object: 'gone',
                kind: 'certificate',
              },
              {
                summary: 'Key Vault certificate gone used by team-a/app expires in -1h 0m 0s',
                description: 'Rotate it in Key Vault; kvsync picks up the new version on its own.',
              },
            ],
            [
              {
                severity: 'warning',
                namespace: 'team-a',
                name: 'app',
                object: 'soon',
                kind: 'secret',
              },
              {
                summary: 'Key Vault secret soon used by team-a/app expires in 9d 22h 0m 0s',
                description: 'Rotate it in Key Vault; kvsync picks up the new version on its own.',
              },
            ],
          ),
        ],
      },
      {
        name: 'a vault answering 429 for 10 minutes fires for that vault only',
        interval: '1m',
        input_series: [
          {
            series: 'kvsync_vault_throttled_total{vault="busy.vault.azure.net"}',
            values: '0+2x40',
          },
          { series: 'kvsync_vault_throttled_total{vault="calm.vault.azure.net"}', values: '0x40' },
        ],
        alert_rule_test: [
          noAlerts('KvsyncVaultThrottled', '8m'),
          fires('KvsyncVaultThrottled', '30m', [
            { severity: 'warning', vault: 'busy.vault.azure.net' },
            {
              summary:
                'Key Vault busy.vault.azure.net has been throttling kvsync (HTTP 429) for 10 minutes',
              description:
                "kvsync pauses that vault on each 429. Other clients may share the vault's limit of 4000 requests per 10 s; lower config.vaultRequestsPer10s or raise refresh intervals.",
            },
          ]),
        ],
      },
    ],
  };
}
