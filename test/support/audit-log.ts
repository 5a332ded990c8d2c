// The API server's audit log (control plane started with `audit: true`): who wrote which Secret,
// VaultSecret status, Event or Lease, and when, at the Metadata level (no bodies, so no values).
//
//   await auditBarrier(kc, info.auditLogPath, namespace);  // every earlier write is in the log
//   const late = (await auditWrites(info.auditLogPath, namespace)).filter((w) => w.at >= takeover);
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { waitFor } from './kube.ts';

export interface AuditWrite {
  /** `create`, `update`, `patch`, `delete`. */
  readonly verb: string;
  /** `secrets`, `events`, `vaultsecrets/status`, `leases`, ... */
  readonly resource: string;
  readonly name: string;
  readonly namespace: string;
  readonly user: string;
  readonly userAgent: string;
  /** When the API server received the request (ms since the epoch, same clock as the tests). */
  readonly at: number;
  readonly code: number | undefined;
}

interface AuditEvent {
  stage?: string;
  verb?: string;
  userAgent?: string;
  user?: { username?: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  requestReceivedTimestamp?: string;
  responseStatus?: { code?: number };
}

/** Every completed write in `namespace`, in the order the API server logged them. */
export async function auditWrites(auditLogPath: string, namespace: string): Promise<AuditWrite[]> {
  const text = await readFile(auditLogPath, 'utf8');
  const writes: AuditWrite[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    const event = JSON.parse(line) as AuditEvent;
    const ref = event.objectRef ?? {};
    if (event.stage !== 'ResponseComplete' || ref.namespace !== namespace) continue;
    writes.push({
      verb: event.verb ?? '',
      resource: ref.subresource ? `${ref.resource}/${ref.subresource}` : (ref.resource ?? ''),
      name: ref.name ?? '',
      namespace,
      user: event.user?.username ?? '',
      userAgent: event.userAgent ?? '',
      at: Date.parse(event.requestReceivedTimestamp ?? ''),
      code: event.responseStatus?.code,
    });
  }
  return writes;
}

/**
 * Creates a marker Secret and waits until its creation is in the audit log, so every write the API
 * server completed before it is there too. Returns the marker's name (leave it out of counts).
 */
export async function auditBarrier(
  kc: KubeConfig,
  auditLogPath: string,
  namespace: string,
): Promise<string> {
  const name = `audit-barrier-${randomBytes(4).toString('hex')}`;
  await kc
    .makeApiClient(CoreV1Api)
    .createNamespacedSecret({ namespace, body: { metadata: { name } } });
  await waitFor(
    async () =>
      (await auditWrites(auditLogPath, namespace)).some(
        (w) => w.name === name && w.verb === 'create',
      ),
    { description: `the audit log to record Secret ${namespace}/${name}` },
  );
  return name;
}

/** One line per write, for failure messages. */
export function describeWrites(writes: readonly AuditWrite[]): string {
  return writes
    .map(
      (w) =>
        `${new Date(w.at).toISOString()} ${w.verb} ${w.resource} ${w.name} -> ${w.code} (${w.userAgent})`,
    )
    .join('\n');
}
