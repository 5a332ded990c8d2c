// The text Event Grid puts on a Storage Queue for a Key Vault event: its own schema or
// CloudEvents 1.0, raw JSON or base64 (Event Grid's default for queue destinations). Used by the
// event tests and the benchmark's events phase.
import { randomUUID } from 'node:crypto';

export type Schema = 'event-grid' | 'cloud-events';
export type Encoding = 'json' | 'base64';

export interface EventMessage {
  readonly vaultUrl: string;
  readonly name: string;
  readonly version: string;
  readonly kind?: 'secret' | 'certificate';
  readonly type?: 'NewVersionCreated' | 'NearExpiry' | 'Expired';
  readonly schema?: Schema;
  readonly encoding?: Encoding;
  /** Event Grid's id; a redelivery repeats it. */
  readonly id?: string;
}

/** The text Event Grid puts on the queue for a Key Vault event. */
export function eventMessage(message: EventMessage): string {
  const kind = message.kind ?? 'secret';
  const objectType = kind === 'secret' ? 'Secret' : 'Certificate';
  const eventType = `Microsoft.KeyVault.${objectType}${message.type ?? 'NewVersionCreated'}`;
  const vaultName = new URL(message.vaultUrl).hostname.split('.')[0]!;
  const topic = `/subscriptions/0000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/${vaultName}`;
  const id = message.id ?? randomUUID();
  const time = new Date().toISOString();
  const objectId = `${message.vaultUrl.replace(/\/$/, '')}/${kind}s/${message.name}/${message.version}`;
  const nbf = Math.floor(Date.now() / 1000);
  const event =
    (message.schema ?? 'event-grid') === 'event-grid'
      ? {
          id,
          topic,
          subject: message.name,
          eventType,
          eventTime: time,
          data: {
            Id: objectId,
            VaultName: vaultName,
            ObjectType: objectType,
            ObjectName: message.name,
            Version: message.version,
            NBF: String(nbf),
            EXP: null,
          },
          dataVersion: '1',
          metadataVersion: '1',
        }
      : {
          specversion: '1.0',
          id,
          source: topic,
          subject: message.name,
          type: eventType,
          time,
          data: {
            id: objectId,
            vaultName,
            objectType,
            objectName: message.name,
            version: message.version,
            nbf,
            exp: null,
          },
        };
  const json = JSON.stringify(event);
  return (message.encoding ?? 'base64') === 'base64' ? Buffer.from(json).toString('base64') : json;
}
