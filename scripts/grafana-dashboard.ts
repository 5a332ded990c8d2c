// kvsync's Grafana dashboard as data: rows of panels, each with its PromQL. scripts/generate.ts
// writes it to charts/kvsync/dashboards/kvsync.json (imported by hand, or loaded by Grafana's
// sidecar from the chart's ConfigMap). The tests parse every query with promtool and check that it
// names only metrics a running kvsync exports.

/** Every series is narrowed to the chosen kvsync install (the Prometheus job of its Service). */
const job = 'job=~"$job"';
/** Per-VaultSecret series: the chosen install and VaultSecret namespaces. */
const vs = `${job}, namespace=~"$namespace"`;
const rate = (selector: string): string => `rate(${selector}[$__rate_interval])`;
const quantile = (q: number, bucket: string, by = ''): string =>
  `histogram_quantile(${q}, sum by (le${by}) (${rate(bucket)}))`;
/** Per-VaultSecret series come from the leader; max folds replicas and leader changes. */
const perVaultSecret = (metric: string): string => `max by (namespace, name) (${metric}{${vs}})`;

interface Query {
  readonly expr: string;
  readonly legend?: string;
  /** Table panels read one instant value per series. */
  readonly instant?: boolean;
}

interface Panel {
  readonly title: string;
  readonly type: 'stat' | 'timeseries' | 'table' | 'bargauge';
  readonly width: number;
  readonly unit?: string;
  readonly description?: string;
  readonly queries: readonly Query[];
  /** Extra panel fields (options, transformations, field config). */
  readonly extra?: Record<string, unknown>;
}

interface Row {
  readonly title: string;
  readonly height: number;
  readonly panels: readonly Panel[];
}

const leaderMappings = [
  {
    type: 'value',
    options: {
      '0': { text: 'no leader', color: 'red' },
      '1': { text: 'leading', color: 'green' },
    },
  },
];

const rows: readonly Row[] = [
  {
    title: 'Overview',
    height: 4,
    panels: [
      {
        title: 'Leader',
        type: 'stat',
        width: 4,
        description: 'Whether a replica leads; nothing syncs without a leader.',
        queries: [{ expr: `max(kvsync_leader{${job}})` }],
        extra: { fieldConfig: { defaults: { mappings: leaderMappings } } },
      },
      {
        title: 'VaultSecrets',
        type: 'stat',
        width: 5,
        queries: [{ expr: `count(${perVaultSecret('kvsync_vaultsecret_ready')})` }],
      },
      {
        title: 'Not ready',
        type: 'stat',
        width: 5,
        description: 'Their Secrets keep the last good data; kubectl describe says why.',
        queries: [
          { expr: `count(${perVaultSecret('kvsync_vaultsecret_ready')} == 0) or vector(0)` },
        ],
      },
      {
        title: 'Work queue',
        type: 'stat',
        width: 5,
        queries: [{ expr: `max(kvsync_workqueue_depth{${job}})` }],
      },
      {
        title: 'Next expiry',
        type: 'stat',
        width: 5,
        unit: 'dtdurations',
        queries: [{ expr: `min(kvsync_object_expiry_timestamp_seconds{${vs}}) - time()` }],
      },
    ],
  },
  {
    title: 'Readiness',
    height: 8,
    panels: [
      {
        title: 'Ready by namespace',
        type: 'bargauge',
        width: 12,
        unit: 'percentunit',
        description: 'Share of the VaultSecrets in each namespace that are Ready.',
        queries: [
          {
            expr: `avg by (namespace) (${perVaultSecret('kvsync_vaultsecret_ready')})`,
            legend: '{{namespace}}',
            instant: true,
          },
        ],
        extra: { options: { orientation: 'horizontal', displayMode: 'basic' } },
      },
      {
        title: 'Not ready VaultSecrets',
        type: 'table',
        width: 12,
        queries: [
          {
            expr: `${perVaultSecret('kvsync_vaultsecret_ready')} == 0`,
            instant: true,
          },
        ],
        extra: { transformations: [organize({ Time: true, Value: true })] },
      },
    ],
  },
  {
    title: 'Reconciles',
    height: 8,
    panels: [
      {
        title: 'Reconciles by result',
        type: 'timeseries',
        width: 8,
        unit: 'ops',
        queries: [
          {
            expr: `sum by (result) (${rate(`kvsync_reconcile_total{${job}}`)})`,
            legend: '{{result}}',
          },
        ],
      },
      {
        title: 'Reconcile errors',
        type: 'timeseries',
        width: 8,
        unit: 'ops',
        description: 'Failing reconciles retry with backoff; their VaultSecrets say why.',
        queries: [
          {
            expr: `sum(${rate(`kvsync_reconcile_total{${job}, result=~"error|terminal_error"}`)})`,
            legend: 'errors',
          },
        ],
      },
      {
        title: 'Reconcile duration',
        type: 'timeseries',
        width: 8,
        unit: 's',
        queries: [
          {
            expr: quantile(0.5, `kvsync_reconcile_duration_seconds_bucket{${job}}`),
            legend: 'p50',
          },
          {
            expr: quantile(0.99, `kvsync_reconcile_duration_seconds_bucket{${job}}`),
            legend: 'p99',
          },
        ],
      },
    ],
  },
  {
    title: 'Key Vault',
    height: 8,
    panels: [
      {
        title: 'Requests by vault and code',
        type: 'timeseries',
        width: 8,
        unit: 'reqps',
        queries: [
          {
            expr: `sum by (vault, code) (${rate(`kvsync_vault_requests_total{${job}}`)})`,
            legend: '{{vault}} {{code}}',
          },
        ],
      },
      {
        title: 'Throttling (429) by vault',
        type: 'timeseries',
        width: 8,
        unit: 'reqps',
        description: 'Each 429 pauses that vault; other clients may share its limit.',
        queries: [
          {
            expr: `sum by (vault) (${rate(`kvsync_vault_throttled_total{${job}}`)})`,
            legend: '{{vault}}',
          },
        ],
      },
      {
        title: 'Request latency p99 by vault',
        type: 'timeseries',
        width: 8,
        unit: 's',
        queries: [
          {
            expr: quantile(0.99, `kvsync_vault_request_duration_seconds_bucket{${job}}`, ', vault'),
            legend: '{{vault}}',
          },
        ],
      },
    ],
  },
  {
    title: 'Rotation',
    height: 8,
    panels: [
      {
        title: 'Sweeps by result',
        type: 'timeseries',
        width: 8,
        unit: 'ops',
        description: 'list, get or idle: how each sweep read properties; error: it failed.',
        queries: [
          {
            expr: `sum by (result) (${rate(`kvsync_vault_sweeps_total{${job}}`)})`,
            legend: '{{result}}',
          },
        ],
      },
      {
        title: 'Rotations written',
        type: 'timeseries',
        width: 8,
        unit: 'short',
        queries: [
          {
            expr: `sum(increase(kvsync_secret_rotations_total{${job}}[$__rate_interval]))`,
            legend: 'new versions',
          },
        ],
      },
      {
        title: 'Event lag and event to Secret',
        type: 'timeseries',
        width: 8,
        unit: 's',
        description: 'With Key Vault events: age of the oldest queued event, and event to Secret.',
        queries: [
          { expr: `max(kvsync_event_lag_seconds{${job}})`, legend: 'queue lag' },
          { expr: quantile(0.5, `kvsync_event_to_secret_seconds_bucket{${job}}`), legend: 'p50' },
          { expr: quantile(0.99, `kvsync_event_to_secret_seconds_bucket{${job}}`), legend: 'p99' },
        ],
      },
    ],
  },
  {
    title: 'Expiry',
    height: 9,
    panels: [
      {
        title: 'Expiry, soonest first',
        type: 'table',
        width: 24,
        unit: 'dtdurations',
        queries: [
          {
            expr: `sort(min by (namespace, name, object, kind) (kvsync_object_expiry_timestamp_seconds{${vs}}) - time())`,
            instant: true,
          },
        ],
        extra: {
          transformations: [organize({ Time: true }, { Value: 'Expires in' })],
          options: { sortBy: [{ displayName: 'Expires in', desc: false }] },
        },
      },
    ],
  },
  {
    title: 'Process',
    height: 8,
    panels: [
      {
        title: 'Leader by pod',
        type: 'timeseries',
        width: 6,
        queries: [{ expr: `max by (pod) (kvsync_leader{${job}})`, legend: '{{pod}}' }],
      },
      {
        title: 'CPU',
        type: 'timeseries',
        width: 6,
        unit: 'percentunit',
        queries: [
          {
            expr: `sum by (pod) (${rate(`process_cpu_seconds_total{${job}}`)})`,
            legend: '{{pod}}',
          },
        ],
      },
      {
        title: 'Memory',
        type: 'timeseries',
        width: 6,
        unit: 'bytes',
        queries: [
          { expr: `sum by (pod) (process_resident_memory_bytes{${job}})`, legend: '{{pod}} RSS' },
          { expr: `sum by (pod) (nodejs_heap_size_used_bytes{${job}})`, legend: '{{pod}} heap' },
        ],
      },
      {
        title: 'Event loop lag p99',
        type: 'timeseries',
        width: 6,
        unit: 's',
        queries: [
          { expr: `max by (pod) (nodejs_eventloop_lag_p99_seconds{${job}})`, legend: '{{pod}}' },
        ],
      },
    ],
  },
];

function organize(
  excludeByName: Record<string, boolean>,
  renameByName: Record<string, string> = {},
): object {
  return { id: 'organize', options: { excludeByName, renameByName } };
}

const datasource = { type: 'prometheus', uid: '${datasource}' };

function panelJson(panel: Panel, id: number, x: number, y: number, height: number): object {
  const { defaults, ...fieldConfigRest } = (panel.extra?.fieldConfig ?? {}) as {
    defaults?: object;
  };
  return {
    ...panel.extra,
    id,
    type: panel.type,
    title: panel.title,
    ...(panel.description ? { description: panel.description } : {}),
    datasource,
    gridPos: { h: height, w: panel.width, x, y },
    fieldConfig: {
      ...fieldConfigRest,
      defaults: { ...(panel.unit ? { unit: panel.unit } : {}), ...defaults },
      overrides: [],
    },
    targets: panel.queries.map((query, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource,
      expr: query.expr,
      ...(query.legend ? { legendFormat: query.legend } : {}),
      ...(query.instant ? { instant: true, range: false, format: 'table' } : { range: true }),
    })),
  };
}

function panelsJson(): object[] {
  const out: object[] = [];
  let y = 0;
  for (const row of rows) {
    out.push({
      id: out.length + 1,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      panels: [],
    });
    y += 1;
    let x = 0;
    for (const panel of row.panels) {
      out.push(panelJson(panel, out.length + 1, x, y, row.height));
      x += panel.width;
    }
    y += row.height;
  }
  return out;
}

/** A `query` variable over the values of one label of one metric. */
function labelVariable(name: string, label: string, query: string, all: boolean): object {
  return {
    name,
    label,
    type: 'query',
    datasource,
    query: { query, refId: name },
    definition: query,
    refresh: 2,
    sort: 1,
    multi: all,
    includeAll: all,
    ...(all ? { allValue: '.*' } : {}),
    current: {},
  };
}

export function renderDashboard(): string {
  const dashboard = {
    uid: 'kvsync',
    title: 'kvsync',
    description:
      'Azure Key Vault to Kubernetes Secrets: readiness, reconciles, Key Vault, rotation',
    tags: ['kvsync', 'azure', 'key-vault'],
    editable: true,
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-6h', to: 'now' },
    refresh: '1m',
    timezone: 'browser',
    graphTooltip: 1,
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Data source',
          type: 'datasource',
          query: 'prometheus',
          current: {},
        },
        labelVariable('job', 'kvsync', 'label_values(kvsync_leader, job)', false),
        labelVariable(
          'namespace',
          'Namespace',
          'label_values(kvsync_vaultsecret_ready{job=~"$job"}, namespace)',
          true,
        ),
      ],
    },
    annotations: { list: [] },
    panels: panelsJson(),
  };
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
