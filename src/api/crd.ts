// The shape every kvsync CustomResourceDefinition shares: group kvsync.io, one served and stored
// version with a status subresource, the `kvsync` category. scripts/generate.ts writes them to
// crds/ and the chart; tests may create them directly from these objects.
import type { OpenApiSchema } from './openapi-schema.ts';
import { group, version } from './vault-secret.ts';

export interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'date';
  readonly jsonPath: string;
  readonly priority?: number;
}

/** JSONPath of the Ready condition, for printer columns. */
export const readyCondition = '.status.conditions[?(@.type=="Ready")]';

export function kvsyncCrd<Schema extends OpenApiSchema>(resource: {
  readonly kind: string;
  readonly plural: string;
  readonly scope: 'Namespaced' | 'Cluster';
  readonly shortNames: readonly string[];
  readonly printerColumns: readonly PrinterColumn[];
  readonly schema: Schema;
}) {
  const { kind, plural, scope, shortNames, printerColumns, schema } = resource;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope,
      names: {
        kind,
        listKind: `${kind}List`,
        plural,
        singular: kind.toLowerCase(),
        shortNames,
        categories: ['kvsync'],
      },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: printerColumns,
          schema: { openAPIV3Schema: schema },
        },
      ],
    },
  } as const;
}
