// The one source of truth for the VaultSecret API: the CRD's OpenAPI schema, its CEL rules and
// defaults. scripts/generate.ts derives the TypeScript types (vault-secret.generated.ts) and the
// CRD YAML (crds/, charts/kvsync/crds/) from it; `npm run generate:check` fails when they are stale.
//
// Every string, list and map is bounded: the API server estimates the worst-case cost of each
// CEL rule from these bounds and refuses the CRD when a rule could cost too much.
import { resourceSchema, type OpenApiSchema, type ValidationRule } from './openapi-schema.ts';

/** Names of the sub-schemas that become named TypeScript types (the generator sets `title`). */
export const schemaTypeNames = new Map<OpenApiSchema, string>();

function named(name: string, schema: OpenApiSchema): OpenApiSchema {
  schemaTypeNames.set(schema, name);
  return schema;
}

// Regular expressions, written without backslashes so they read the same in TypeScript, CEL and
// YAML. Exported for the operator's own checks and for tests.
export const patterns = {
  keyVaultName: '^[0-9a-zA-Z-]{1,127}$',
  objectVersion: '^[0-9a-fA-F]{32}$',
  secretKey: '^[-._a-zA-Z0-9]+$',
  dnsSubdomain: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
  guid: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  // The vault's base URL: https, a host name or IPv4 address, an optional port, nothing else. A
  // path, query or user info would be ignored by the SDK or smuggle a second host into the URL.
  vaultUrl:
    '^https://[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?([.][a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*(:[0-9]{1,5})?/?$',
  // Go-style durations limited to whole hours, minutes and seconds, in that order ("1h30m"), or
  // "0". Digit counts are bounded so CEL's duration() can never overflow.
  refreshInterval: '^(0|([0-9]{1,4}h)?([0-9]{1,6}m)?([0-9]{1,7}s)?)$',
} as const;

/** The reserved prefix of kvsync's own labels and annotations on the Secrets it writes. */
export const reservedKeyPrefix = 'kvsync.io/';

export const defaults = {
  refreshInterval: '1h',
  secretType: 'Opaque',
  creationPolicy: 'Owner',
  certificateKey: 'tls.crt',
  privateKeyKey: 'tls.key',
  keyFormat: 'pkcs8',
  certificateFormat: 'pem',
} as const;

// Below 10 s a refresh would mostly spend the vault's shared budget: the sweep of a (vault,
// identity) runs as often as the shortest refreshInterval among the VaultSecrets that use it, so
// one impatient VaultSecret would make kvsync poll the vault for everyone. Rotation in seconds
// comes from Key Vault events, not from polling. Above a week a poll is no safety net any more,
// and longer delays would overflow Node's 32-bit timers (24.8 days).
export const refreshIntervalBounds = { min: '10s', max: '168h' } as const;

// CEL snippets. `e` is a CEL expression of type string.
const isSecretKey = (e: string): string =>
  `${e}.matches('${patterns.secretKey}') && ${e} != '.' && !${e}.startsWith('..')`;
const secretKeyHint =
  'letters, digits, "-", "_" and "." (at most 253 characters, not "." or starting with "..")';

function matching(pattern: string, what: string): ValidationRule {
  return {
    rule: `self.matches('${pattern}')`,
    messageExpression: `'"' + self + '" ${what}'`,
  };
}

const keyVaultName: OpenApiSchema = {
  type: 'string',
  maxLength: 127,
  description: 'Name of the object in Key Vault: 1-127 letters, digits and dashes.',
  'x-kubernetes-validations': [
    matching(
      patterns.keyVaultName,
      'is not a Key Vault object name: use 1-127 letters, digits and dashes',
    ),
  ],
};

const objectVersion: OpenApiSchema = {
  type: 'string',
  maxLength: 32,
  description:
    'A pinned version (32 hexadecimal characters). Pinned values are read once and never re-fetched; absent = the latest version, followed as it rotates.',
  'x-kubernetes-validations': [
    matching(
      patterns.objectVersion,
      'is not a Key Vault version: expected 32 hexadecimal characters',
    ),
  ],
};

function secretKeyField(description: string, defaultValue?: string): OpenApiSchema {
  return {
    type: 'string',
    minLength: 1,
    maxLength: 253,
    description,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
    'x-kubernetes-validations': [
      {
        rule: isSecretKey('self'),
        messageExpression: `'"' + self + '" is not a valid Secret key: use ${secretKeyHint}'`,
      },
    ],
  };
}

function dnsSubdomain(description: string, what: string): OpenApiSchema {
  return {
    type: 'string',
    minLength: 1,
    maxLength: 253,
    description,
    'x-kubernetes-validations': [
      matching(
        patterns.dnsSubdomain,
        `is not a valid ${what}: use lower-case letters, digits, "-" and "." (a DNS subdomain)`,
      ),
    ],
  };
}

function guid(description: string): OpenApiSchema {
  return {
    type: 'string',
    maxLength: 36,
    description,
    'x-kubernetes-validations': [
      matching(patterns.guid, 'is not a GUID (like 00000000-0000-0000-0000-000000000000)'),
    ],
  };
}

function stringMap(description: string, maxProperties: number, maxLength: number): OpenApiSchema {
  return {
    type: 'object',
    description,
    maxProperties,
    additionalProperties: { type: 'string', maxLength },
  };
}

function withoutReservedKeys(schema: OpenApiSchema, what: string): OpenApiSchema {
  return {
    ...schema,
    'x-kubernetes-validations': [
      {
        rule: `self.all(k, !k.startsWith('${reservedKeyPrefix}'))`,
        message: `${what} starting with ${reservedKeyPrefix} are reserved for kvsync`,
        reason: 'FieldValueForbidden',
      },
    ],
  };
}

const identity = named('VaultIdentity', {
  type: 'object',
  description:
    "Who reads the vault. Absent: the operator's own workload identity (when the operator allows it for this namespace). References are by name only and always resolve in the VaultSecret's own namespace.",
  properties: {
    serviceAccountName: dnsSubdomain(
      'A ServiceAccount in this namespace, federated with an Entra ID application (workload identity). kvsync requests its token and exchanges it with Entra ID.',
      'ServiceAccount name (no namespace: it is always this namespace)',
    ),
    clientSecretRef: named('ClientSecretReference', {
      type: 'object',
      description:
        'Fallback for clusters without workload identity: a Secret in this namespace with keys tenantId, clientId and clientSecret.',
      required: ['name'],
      properties: {
        name: dnsSubdomain('Name of the Secret in this namespace.', 'Secret name'),
      },
    }),
    clientId: guid(
      "Client id of the Entra ID application; overrides the ServiceAccount annotation azure.workload.identity/client-id or the Secret's clientId.",
    ),
    tenantId: guid(
      "Tenant id; overrides the ServiceAccount annotation azure.workload.identity/tenant-id or the Secret's tenantId.",
    ),
  },
  'x-kubernetes-validations': [
    {
      rule: '!(has(self.serviceAccountName) && has(self.clientSecretRef))',
      message: 'set at most one of serviceAccountName and clientSecretRef',
    },
    {
      // Overriding the client id of the operator's own identity would let any namespace borrow
      // whatever application the operator's token is federated with.
      rule: '(!has(self.clientId) && !has(self.tenantId)) || has(self.serviceAccountName) || has(self.clientSecretRef)',
      message:
        "clientId and tenantId need serviceAccountName or clientSecretRef: the operator's own identity cannot be overridden",
    },
  ],
});

const vault = named('VaultReference', {
  type: 'object',
  description: 'The Key Vault to read and the identity to read it with.',
  required: ['url'],
  properties: {
    url: {
      type: 'string',
      maxLength: 512,
      description:
        "Base URL of the vault, e.g. https://my-vault.vault.azure.net/. HTTPS only; the host must also be in the operator's allowed DNS suffixes (checked by the operator, reported as InvalidSpec).",
      'x-kubernetes-validations': [
        {
          rule: "self.startsWith('https://')",
          messageExpression: `'"' + self + '" must use https:// (kvsync only sends tokens over HTTPS)'`,
        },
        {
          rule: `!self.startsWith('https://') || self.matches('${patterns.vaultUrl}')`,
          messageExpression: `'"' + self + '" is not a vault base URL: expected https://<host>[:port]/ without path, query or user info'`,
        },
      ],
    },
    identity,
  },
});

const secretRef = named('SecretReference', {
  type: 'object',
  description: 'A Key Vault secret.',
  required: ['name'],
  properties: {
    name: keyVaultName,
    version: objectVersion,
    property: {
      type: 'string',
      minLength: 1,
      maxLength: 1024,
      description:
        "Name of a top-level field of the secret's value parsed as a JSON object; absent = the whole value.",
    },
  },
});

const certificateKeys = named('CertificateKeys', {
  type: 'object',
  description: 'Secret keys of the PEM outputs of a certificate.',
  properties: {
    certificate: secretKeyField(
      'Key for the leaf certificate followed by the intermediates in issuing order.',
      defaults.certificateKey,
    ),
    privateKey: secretKeyField('Key for the private key.', defaults.privateKeyKey),
    ca: secretKeyField(
      'Key for the issuing CA certificates (e.g. ca.crt); absent = no CA key is written.',
    ),
  },
});

const certificateRef = named('CertificateReference', {
  type: 'object',
  description:
    'A Key Vault certificate, read through its backing secret (PFX or PEM) so the private key is included.',
  required: ['name'],
  properties: {
    name: keyVaultName,
    version: objectVersion,
    includeRoot: {
      type: 'boolean',
      default: false,
      description: 'Keep a self-signed root at the end of the chain (left out by default).',
    },
    keyFormat: {
      type: 'string',
      enum: ['pkcs8', 'pkcs1'],
      default: defaults.keyFormat,
      description: 'PEM encoding of the private key; pkcs1 only for RSA keys.',
    },
    format: {
      type: 'string',
      enum: ['pem', 'pfx'],
      default: defaults.certificateFormat,
      description:
        'pem: separate PEM keys (see keys). pfx: the PKCS#12 bundle unchanged, as binary data under `key`.',
    },
    keys: certificateKeys,
  },
});

// CEL expressions over one data item `v`, shared by the per-item and the cross-item rules.
const isPfx = (v: string): string =>
  `(has(${v}.certificate) && has(${v}.certificate.format) && ${v}.certificate.format == 'pfx')`;
const isPem = (v: string): string => `(has(${v}.certificate) && !${isPfx(v)})`;
const certKey = (v: string, field: 'certificate' | 'privateKey', fallback: string): string =>
  `(has(${v}.certificate.keys) && has(${v}.certificate.keys.${field}) ? ${v}.certificate.keys.${field} : '${fallback}')`;
/** The Secret keys a data item writes, as a CEL list of strings. */
const outputKeys = (v: string): string =>
  `(${isPem(v)} ? [${certKey(v, 'certificate', defaults.certificateKey)}, ${certKey(v, 'privateKey', defaults.privateKeyKey)}]` +
  ` + (has(${v}.certificate.keys) && has(${v}.certificate.keys.ca) ? [${v}.certificate.keys.ca] : [])` +
  ` : (has(${v}.key) ? [${v}.key] : []))`;

const dataItem = named('DataItem', {
  type: 'object',
  description:
    'One Key Vault object into the Secret: a secret under `key`, or a certificate as tls.crt/tls.key (or a PFX under `key`).',
  properties: {
    key: secretKeyField(
      'Secret key to write. Required with secret and with certificate.format pfx; PEM certificate outputs are named by certificate.keys.',
    ),
    secret: secretRef,
    certificate: certificateRef,
  },
  'x-kubernetes-validations': [
    {
      rule: 'has(self.secret) != has(self.certificate)',
      message: 'each data item needs exactly one of secret or certificate',
    },
    {
      rule: '!has(self.secret) || has(self.key)',
      message: 'key is required with secret: it names the Secret key to write',
      reason: 'FieldValueRequired',
    },
    {
      rule: `!${isPfx('self')} || has(self.key)`,
      message: 'key is required with certificate.format pfx: it names the Secret key for the PFX',
      reason: 'FieldValueRequired',
    },
    {
      rule: `!(${isPem('self')} && !has(self.secret) && has(self.key))`,
      message:
        'key is not used by a PEM certificate: name its outputs with certificate.keys (default tls.crt and tls.key)',
      reason: 'FieldValueForbidden',
    },
    {
      rule: `!(${isPfx('self')} && has(self.certificate.keys))`,
      message: 'certificate.keys applies to format pem only; a PFX is written under key',
      reason: 'FieldValueForbidden',
    },
  ],
});

// Each Secret key must have exactly one source. A key that two items produce is the first key
// of an item that also appears among the outputs of another item (or of the same item twice).
const duplicateOutputKey = `self.map(a, ${outputKeys('a')}.filter(k, self.filter(b, k in ${outputKeys('b')}).size() > 1 || ${outputKeys('a')}.filter(x, x == k).size() > 1)).filter(l, l.size() > 0)`;

const data: OpenApiSchema = {
  type: 'array',
  // The duplicate-key rule is quadratic; at 128 items its estimated cost is a quarter of the
  // API server's per-rule budget (256 items would exceed it).
  maxItems: 128,
  description: 'Keys read one by one.',
  items: dataItem,
  'x-kubernetes-list-type': 'atomic',
  'x-kubernetes-validations': [
    {
      rule: `self.all(a, ${outputKeys('a')}.all(k, self.filter(b, k in ${outputKeys('b')}).size() == 1 && ${outputKeys('a')}.filter(x, x == k).size() == 1))`,
      message:
        'each Secret key can be written by only one data item (certificates write tls.crt and tls.key unless certificate.keys renames them)',
      messageExpression: `'Secret key "' + ${duplicateOutputKey}[0][0] + '" would be written twice by data (certificates write tls.crt and tls.key unless certificate.keys renames them)'`,
    },
  ],
};

const dataFromItem = named('DataFromItem', {
  type: 'object',
  description: 'Many keys at once: secrets found by name and tags, or the fields of a JSON secret.',
  properties: {
    find: named('FindSelector', {
      type: 'object',
      description:
        'Every enabled secret (not certificate-backing secrets) whose name matches nameRegex and whose tags include all of tags; each becomes a key named after the secret.',
      properties: {
        nameRegex: {
          type: 'string',
          minLength: 1,
          maxLength: 256,
          description:
            'RE2 regular expression matched against the secret name. An expression that does not compile is reported as InvalidSpec by the operator (CEL cannot check it).',
        },
        tags: stringMap('Tags the secret must carry, with these exact values.', 15, 256),
      },
      'x-kubernetes-validations': [
        {
          rule: 'has(self.nameRegex) || has(self.tags)',
          message:
            'find needs nameRegex or tags (to sync every secret of the vault use nameRegex: ".*")',
        },
      ],
    }),
    secret: named('JsonSecretReference', {
      type: 'object',
      description: 'A secret whose value is a JSON object; each top-level field becomes a key.',
      required: ['name'],
      properties: { name: keyVaultName, version: objectVersion },
    }),
    rewrite: named('KeyRewrite', {
      type: 'object',
      description: 'How the found names become Secret keys.',
      properties: {
        stripPrefix: {
          type: 'string',
          minLength: 1,
          maxLength: 127,
          description: 'Removed from the start of each key that has it.',
        },
      },
    }),
  },
  'x-kubernetes-validations': [
    {
      rule: 'has(self.find) != has(self.secret)',
      message: 'each dataFrom item needs exactly one of find or secret',
    },
  ],
});

const template = named('SecretTemplate', {
  type: 'object',
  description: 'Computed keys, e.g. connection strings built from the fetched values.',
  properties: {
    data: {
      type: 'object',
      description:
        'Secret key -> template text, e.g. "postgres://{{ .user }}:{{ .password }}@db/app".',
      maxProperties: 64,
      additionalProperties: { type: 'string', maxLength: 65536 },
      'x-kubernetes-validations': [
        {
          rule: `self.all(k, k.size() <= 253 && ${isSecretKey('k')})`,
          messageExpression: `'template key "' + self.filter(k, !(k.size() <= 253 && ${isSecretKey('k')}))[0] + '" is not a valid Secret key: use ${secretKeyHint}'`,
        },
      ],
    },
  },
});

const target = named('SecretTarget', {
  type: 'object',
  description: 'The Secret kvsync writes.',
  default: {},
  properties: {
    name: dnsSubdomain("Name of the Secret; default: the VaultSecret's name.", 'Secret name'),
    type: {
      type: 'string',
      minLength: 1,
      maxLength: 253,
      default: defaults.secretType,
      description:
        'Secret type (immutable on the Secret); any type but kubernetes.io/service-account-token and bootstrap.kubernetes.io/token.',
      'x-kubernetes-validations': [
        {
          rule: "self != 'kubernetes.io/service-account-token'",
          message:
            'kvsync never writes kubernetes.io/service-account-token Secrets: the API server would fill them with a ServiceAccount token',
          reason: 'FieldValueForbidden',
        },
        {
          rule: "self != 'bootstrap.kubernetes.io/token'",
          message:
            'kvsync never writes bootstrap.kubernetes.io/token Secrets: they authenticate nodes to the cluster',
          reason: 'FieldValueForbidden',
        },
      ],
    },
    creationPolicy: {
      type: 'string',
      enum: ['Owner', 'Merge', 'Orphan'],
      default: defaults.creationPolicy,
      description:
        'Owner: create the Secret, owned by the VaultSecret (deleted with it). Merge: manage only kvsync\'s keys in an existing Secret that consents with the annotation kvsync.io/merge-from: <this VaultSecret\'s name> (or "*"); never a service-account-token or bootstrap-token Secret. Orphan: create it without owner; it stays after the VaultSecret is deleted.',
    },
    adopt: {
      type: 'boolean',
      description:
        "Take over an existing Secret that has no controller or is controlled by an ExternalSecret (external-secrets.io), in one update that writes its data and sets this VaultSecret as controller: the Secret is never deleted or blanked. The Secret must consent with the annotation kvsync.io/adopt-by: <this VaultSecret's name>; without it, SecretConflict. Absent: false.",
    },
    labels: withoutReservedKeys(stringMap('Labels copied onto the Secret.', 64, 63), 'labels'),
    annotations: withoutReservedKeys(
      stringMap('Annotations copied onto the Secret.', 64, 8192),
      'annotations',
    ),
    template,
  },
});

const rolloutRestart = named('RolloutRestart', {
  type: 'object',
  description:
    'Workloads in this namespace restarted (pod template annotated with a hash of the data) when a synced value really changes; never on first sync or drift repair.',
  required: ['targets'],
  properties: {
    targets: {
      type: 'array',
      minItems: 1,
      maxItems: 16,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['kind', 'name'],
      items: named('RolloutTarget', {
        type: 'object',
        required: ['kind', 'name'],
        properties: {
          kind: {
            type: 'string',
            enum: ['Deployment', 'StatefulSet', 'DaemonSet', 'Rollout'],
            description: 'Rollout is an Argo Rollout.',
          },
          name: dnsSubdomain('Name of the workload in this namespace.', 'workload name'),
        },
      }),
    },
  },
});

// The rule sits on spec because it needs both the template and the data items.
const templateKeyClash = `self.target.template.data.filter(k, self.data.exists(a, k in ${outputKeys('a')}))`;

export const vaultSecretSpecSchema = named('VaultSecretSpec', {
  type: 'object',
  description: 'What to read from which vault, and the Secret to write.',
  required: ['vault'],
  properties: {
    vault,
    refreshInterval: {
      type: 'string',
      minLength: 1,
      maxLength: 24,
      description: `How often values are re-validated against the vault: a duration like 30s, 15m, 1h or 1h30m (${refreshIntervalBounds.min} to ${refreshIntervalBounds.max}), or "0" to sync once. Unset: the operator's --default-refresh-interval (${defaults.refreshInterval} unless changed), so platform teams set one default for the cluster.`,
      'x-kubernetes-validations': [
        {
          rule: `self.matches('${patterns.refreshInterval}')`,
          messageExpression: `'refreshInterval "' + self + '" is not a duration: use hours, minutes and seconds like 30s, 15m, 1h or 1h30m, or "0" to sync once'`,
        },
        {
          rule: `!self.matches('${patterns.refreshInterval}') || duration(self) == duration('0s') || (duration(self) >= duration('${refreshIntervalBounds.min}') && duration(self) <= duration('${refreshIntervalBounds.max}'))`,
          messageExpression: `'refreshInterval "' + self + '" must be between ${refreshIntervalBounds.min} and ${refreshIntervalBounds.max}, or "0" to sync once'`,
        },
      ],
    },
    target,
    data,
    dataFrom: {
      type: 'array',
      maxItems: 16,
      description:
        'Keys read in bulk; a key also produced by data or by an earlier item is an error at sync time.',
      items: dataFromItem,
      'x-kubernetes-list-type': 'atomic',
    },
    rolloutRestart,
  },
  'x-kubernetes-validations': [
    {
      rule: '(has(self.data) && self.data.size() > 0) || (has(self.dataFrom) && self.dataFrom.size() > 0)',
      message: 'nothing to sync: set data or dataFrom',
      reason: 'FieldValueRequired',
    },
    {
      rule: `!has(self.target) || !has(self.target.template) || !has(self.target.template.data) || !has(self.data) || ${templateKeyClash}.size() == 0`,
      messageExpression: `'template key "' + ${templateKeyClash}[0] + '" is also written by data: each Secret key can have only one source'`,
      fieldPath: '.target.template.data',
    },
  ],
});

// metav1.Condition, as controller-gen renders it.
const condition = named('StatusCondition', {
  type: 'object',
  required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
  properties: {
    type: {
      type: 'string',
      maxLength: 316,
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
    lastTransitionTime: { type: 'string', format: 'date-time' },
    reason: {
      type: 'string',
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    },
    message: { type: 'string', maxLength: 32768 },
  },
});

const syncedObject = named('SyncedObject', {
  type: 'object',
  description: 'A Key Vault object in the Secret: identity and dates, never a value.',
  required: ['name', 'kind'],
  properties: {
    name: { type: 'string', maxLength: 127 },
    kind: { type: 'string', enum: ['secret', 'certificate'] },
    version: { type: 'string', maxLength: 64 },
    updatedOn: { type: 'string', format: 'date-time' },
    expiresOn: { type: 'string', format: 'date-time' },
  },
});

/** observedGeneration and conditions (a map by type): the status fields of every kvsync resource. */
export const commonStatusProperties = {
  observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
  conditions: {
    type: 'array',
    maxItems: 16,
    items: condition,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  },
} as const satisfies Record<string, OpenApiSchema>;

export const vaultSecretStatusSchema = named('VaultSecretStatus', {
  type: 'object',
  description: 'Written by kvsync only.',
  properties: {
    ...commonStatusProperties,
    secretName: { type: 'string', maxLength: 253 },
    syncedAt: {
      type: 'string',
      format: 'date-time',
      description: "Last time the Secret's data changed.",
    },
    lastRefreshTime: {
      type: 'string',
      format: 'date-time',
      description:
        'When Key Vault last confirmed the values current (a read or a sweep), as of the last status write: sweeps that find nothing new write no status, so it moves with the next write that has a reason (a new version, a failure, a spec change, a force-sync).',
    },
    lastHandledForceSync: {
      type: 'string',
      maxLength: 256,
      description:
        'The kvsync.io/force-sync annotation value kvsync last acted on (a sha256 of it when longer than 256 characters); a new value re-reads the objects from Key Vault.',
    },
    objects: { type: 'array', maxItems: 1024, items: syncedObject },
    expiresOn: {
      type: 'string',
      format: 'date-time',
      description: 'Earliest expiry among the objects (Key Vault exp attribute or X.509 notAfter).',
    },
  },
});

export const vaultSecretSchema = resourceSchema(
  'Keeps a Kubernetes Secret in sync with Azure Key Vault secrets and certificates.',
  vaultSecretSpecSchema,
  vaultSecretStatusSchema,
);
