// One table of recorded Key Vault sessions (recordings/). Each row names what the session shows;
// `reader` runs kvsync's own reader against the replayed session and observes its results and
// error classification; the double half (double-vs-recording.ts) sends every recorded request to
// the fake Key Vault and compares its answers with the recorded ones.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { certificateToTls } from '../../src/keyvault/certificate/certificate-to-tls.ts';
import type { VaultReader } from '../../src/keyvault/types.ts';
import type { FakeVault } from '../support/azure/fake-vault.ts';
import { failureKind, listAll, type Observation } from './cases.ts';
import type { Recording } from './recordings.ts';

export interface RecordedCase {
  readonly name: string;
  readonly file: string;
  /** Undefined when kvsync sends none of the recorded requests (writes, deleted-secret reads). */
  readonly reader?: {
    run(reader: VaultReader): Promise<Observation>;
    readonly expected: Observation;
  };
  /** Creates in the fake what the session created with requests the double does not serve. */
  readonly seedDouble?: (vault: FakeVault, recording: Recording) => Promise<void>;
  /** Recorded entries (by index) whose answer the double cannot be held to, and why. */
  readonly notComparable?: Readonly<Record<number, string>>;
  /** Recorded list pages the fake cannot reach: the recorded vault held more objects. */
  readonly notReachedByDouble?: readonly number[];
  /** Body fields (dotted paths) not compared, and why. */
  readonly ignoredFields?: Readonly<Record<string, string>>;
}

const SANITIZED_VALUE = 'SECRET_VALUE';

/** What kvsync's reader makes of a plain, enabled secret's latest version. */
function getLatest(
  name: string,
  recorded: { version: string; updated: number },
): NonNullable<RecordedCase['reader']> {
  return {
    async run(reader) {
      const read = await reader.getSecret(name);
      return {
        valueIsRecorded: read.value === SANITIZED_VALUE,
        ...read.properties,
        updatedOn: read.properties.updatedOn?.toISOString(),
      };
    },
    expected: {
      valueIsRecorded: true,
      name,
      version: recorded.version,
      enabled: true,
      updatedOn: new Date(recorded.updated * 1000).toISOString(),
      expiresOn: undefined,
      notBefore: undefined,
      contentType: undefined,
      tags: {},
      managed: false,
    },
  };
}

/** kvsync's classification of a get the recording answers with an error. */
function getFails(name: string, kind: string): NonNullable<RecordedCase['reader']> {
  return {
    run: async (reader) => ({ get: await failureKind(reader.getSecret(name)) }),
    expected: { get: kind },
  };
}
const CERTIFICATE = 'CRUDCertificateName-cangetacertificatessecretinPKCS12format-';

export const recordedCases: readonly RecordedCase[] = [
  {
    name: 'get the latest version',
    file: 'get-latest.json',
    reader: getLatest('CRUDSecretName-canretrievethelatestversionofasecretvalue-', {
      version: '3ec5c21f33bc4ca89741dc057a12c5f9',
      updated: 1739463508,
    }),
  },
  {
    name: 'get each version by id; list versions by page with nextLink',
    file: 'versions-by-page.json',
    reader: {
      async run(reader) {
        const name = 'listSecretName-canretrieveallversionsofasecretbypage-';
        const versions = [
          '877888a8c8b44c78ae75e12aaf1839a8',
          'eccef4e0b38c4dedae538e77cc374adb',
          'f91c1b32b22d4b0caa7a2ea7cf7d5b36',
        ];
        const reads = [];
        for (const version of versions) reads.push(await reader.getSecret(name, version));
        return {
          versionsMatch: reads.map((read, i) => read.properties.version === versions[i]),
          values: reads.map((read) => read.value.replace(SANITIZED_VALUE, 'recorded value ')),
        };
      },
      expected: {
        versionsMatch: [true, true, true],
        values: ['recorded value 1', 'recorded value 0', 'recorded value 2'],
      },
    },
  },
  {
    name: 'a missing secret is 404 SecretNotFound',
    file: 'not-found.json',
    reader: getFails('CRUDSecretName-cangetasecretNonExisting-', 'NotFound'),
  },
  {
    name: 'a disabled secret is 403 Forbidden/SecretDisabled',
    file: 'disabled.json',
    reader: getFails('CRUDSecretName-cantgetadisabledsecret-', 'Disabled'),
  },
  {
    name: 'a disabled secret can be updated; the answer has no value',
    file: 'update-disabled.json',
  },
  {
    name: 'list secrets by page: nextLink with :443, managed items, an empty last page',
    file: 'list-secrets-by-page.json',
    // The recorded vault held every secret of the SDK's test run; the fake holds this session's
    // two, so its listing ends (with an empty page) where the recording has two more pages.
    notReachedByDouble: [6, 7],
    reader: {
      async run(reader) {
        const pages = await listAll(reader);
        return {
          pageSizes: pages.map((page) => page.length),
          names: pages.flat().map((p) => p.name.split('-')[0]),
          managed: pages.flat().map((p) => p.managed),
          contentTypes: pages.flat().map((p) => p.contentType),
          versions: pages.flat().map((p) => p.version),
          expiresOn: pages.flat().map((p) => p.expiresOn?.getTime()),
        };
      },
      expected: {
        pageSizes: [1, 1, 1, 1, 0],
        names: [
          'backupRestoreCertificateName',
          'backupRestoreCertificateName',
          'backupRestoreSecretName',
          'backupRestoreSecretName',
        ],
        managed: [true, true, false, false],
        contentTypes: ['application/x-pkcs12', 'application/x-pkcs12', undefined, undefined],
        versions: [undefined, undefined, undefined, undefined],
        expiresOn: [1770998766_000, 1770998805_000, undefined, undefined],
      },
    },
  },
  {
    name: 'a deleted secret: the delete answers its recovery data, a get is 404',
    file: 'deleted.json',
    reader: getFails('CRUDSecretName-candeleteasecret-', 'NotFound'),
    notComparable: {
      3: 'Key Vault finishes a soft delete a few seconds later (deletedsecrets 404, then 200); the double at once',
      4: 'the same soft-delete delay',
    },
  },
  {
    name: "a certificate and its backing secret (PFX Key Vault made, read with kvsync's parser)",
    file: 'certificate-pkcs12.json',
    reader: {
      async run(reader) {
        const secret = await reader.getSecret(CERTIFICATE);
        const tls = certificateToTls({
          value: secret.value,
          contentType: secret.properties.contentType,
        });
        const leaf = new X509Certificate(tls.certificateChainPem);
        return {
          contentType: secret.properties.contentType,
          managed: secret.properties.managed,
          version: secret.properties.version,
          expiresOn: secret.properties.expiresOn?.getTime(),
          subject: tls.leaf.subject,
          keyType: tls.leaf.keyType,
          // Key Vault's x5t (q4N3Ej1A4M0dbXt-UUwxgHJ8aMQ) is the base64url of this thumbprint.
          thumbprint: Buffer.from(leaf.fingerprint.replaceAll(':', ''), 'hex').toString(
            'base64url',
          ),
          keyMatches: leaf.checkPrivateKey(createPrivateKey(tls.privateKeyPem)),
        };
      },
      expected: {
        contentType: 'application/x-pkcs12',
        managed: true,
        version: '4c77aa0a2677404fa9cd619c182e3885',
        expiresOn: 1806982539_000,
        subject: 'CN=MyCert',
        keyType: 'RSA 2048',
        thumbprint: 'q4N3Ej1A4M0dbXt-UUwxgHJ8aMQ',
        keyMatches: true,
      },
    },
    async seedDouble(vault, recording) {
      const backing = recording.entries.at(-1)!.ResponseBody as { value: string };
      await vault.importCertificate(CERTIFICATE, { pfxBase64: backing.value });
    },
    ignoredFields: {
      'policy.x509_props':
        'the recorded certificate was created from a policy, the double imports one',
      pending: 'a created certificate keeps its creation operation; an imported one has none',
    },
  },
  {
    name: '2025-07-01: outContentType=PEM on a secret that is not a PFX is 400 BadParameter',
    file: 'out-content-type-pem.json',
  },
  {
    name: '2025-07-01: a plain secret has no previousVersion',
    file: 'api-2025-07-01-get.json',
    reader: getLatest(
      'ContentType-previousVersionisaccessibleandtypedcorrectlyonSecretProperties-',
      {
        version: 'ca532fc1c4454863b3c36ca0229f7ee1',
        updated: 1774425207,
      },
    ),
  },
];
