// One table of Key Vault behaviours that kvsync's reader relies on. Each case seeds a backend,
// reads through kvsync's own createSecretReader and returns an observation: a small, value-free
// record that must equal `expected` on every backend (so backends agree with each other too).
import { VaultError } from '../../src/keyvault/errors.ts';
import type { ObjectProperties, VaultReader } from '../../src/keyvault/types.ts';
import type { CertificateFormat, ConformanceBackend } from './backends.ts';
import { makeTestCertificate, parseBackingSecret } from './test-certificate.ts';

export interface CaseContext {
  readonly backend: ConformanceBackend;
  readonly reader: VaultReader;
  /** A name no other case uses, so cases share one vault. */
  readonly name: (prefix: string) => string;
}

export type Observation = Record<string, unknown>;

export interface ConformanceCase {
  readonly name: string;
  run(ctx: CaseContext): Promise<Observation>;
  readonly expected: Observation;
}

const LIST_SECRETS = 30;

export const conformanceCases: readonly ConformanceCase[] = [
  {
    name: 'set, then read the latest version',
    async run({ backend, reader, name }) {
      const secret = name('latest');
      const version = await backend.setSecret(secret, 'value-1', {
        contentType: 'text/plain',
        tags: { team: 'a' },
      });
      const read = await reader.getSecret(secret);
      const listed = (await listAll(reader)).flat().find((p) => p.name === secret);
      return {
        valueMatches: read.value === 'value-1',
        versionMatches: read.properties.version === version,
        name: read.properties.name === secret,
        enabled: read.properties.enabled,
        contentType: read.properties.contentType,
        tags: read.properties.tags,
        managed: read.properties.managed,
        hasUpdatedOn: read.properties.updatedOn instanceof Date,
        listed: listed && {
          contentType: listed.contentType,
          tags: listed.tags,
          enabled: listed.enabled,
        },
      };
    },
    expected: {
      valueMatches: true,
      versionMatches: true,
      name: true,
      enabled: true,
      contentType: 'text/plain',
      tags: { team: 'a' },
      managed: false,
      hasUpdatedOn: true,
      listed: { contentType: 'text/plain', tags: { team: 'a' }, enabled: true },
    },
  },
  {
    name: 'names are case-insensitive',
    async run({ backend, reader, name }) {
      const secret = name('MixedCase');
      await backend.setSecret(secret, 'any-case');
      const read = await reader.getSecret(secret.toLowerCase());
      return { valueMatches: read.value === 'any-case' };
    },
    expected: { valueMatches: true },
  },
  {
    name: 'read a given version',
    async run({ backend, reader, name }) {
      const secret = name('pinned');
      const first = await backend.setSecret(secret, 'first');
      await backend.setSecret(secret, 'second');
      const read = await reader.getSecret(secret, first);
      return { valueMatches: read.value === 'first', version: read.properties.version === first };
    },
    expected: { valueMatches: true, version: true },
  },
  {
    name: 'versions after an update: latest moves, the old version stays readable, list shows no version',
    async run({ backend, reader, name }) {
      const secret = name('rotated');
      const v1 = await backend.setSecret(secret, 'old');
      const before = await listAll(reader);
      const v2 = await backend.setSecret(secret, 'new');
      const latest = await reader.getSecret(secret);
      const old = await reader.getSecret(secret, v1);
      const after = await listAll(reader);
      const listedBefore = before.flat().find((p) => p.name === secret);
      const listedAfter = after.flat().find((p) => p.name === secret);
      return {
        distinctVersions: v1 !== v2,
        latestIsNew: latest.value === 'new' && latest.properties.version === v2,
        oldStillReadable: old.value === 'old' && old.properties.version === v1,
        listedOnce: after.flat().filter((p) => p.name === secret).length,
        listedVersion: listedAfter?.version,
        updatedOnNotEarlier:
          listedBefore?.updatedOn !== undefined &&
          listedAfter?.updatedOn !== undefined &&
          listedAfter.updatedOn.getTime() >= listedBefore.updatedOn.getTime(),
      };
    },
    expected: {
      distinctVersions: true,
      latestIsNew: true,
      oldStillReadable: true,
      listedOnce: 1,
      listedVersion: undefined,
      updatedOnNotEarlier: true,
    },
  },
  {
    name: `list pages of at most 25 across ${LIST_SECRETS}+ secrets`,
    async run({ backend, reader, name }) {
      const prefix = name('page');
      const names = Array.from({ length: LIST_SECRETS }, (_, i) => `${prefix}-${i}`);
      for (const secret of names) await backend.setSecret(secret, `v-${secret}`);
      const pages = await listAll(reader);
      const listed = pages.flat().map((p) => p.name);
      return {
        pagesAtMost25: pages.every((page) => page.length <= 25),
        enoughPages: pages.length >= Math.ceil(listed.length / 25) && pages.length >= 2,
        allSeededListed: names.every((n) => listed.includes(n)),
        noDuplicates: new Set(listed).size === listed.length,
        noVersions: pages.flat().every((p) => p.version === undefined),
      };
    },
    expected: {
      pagesAtMost25: true,
      enoughPages: true,
      allSeededListed: true,
      noDuplicates: true,
      noVersions: true,
    },
  },
  {
    name: 'a disabled secret reads as Disabled',
    async run({ backend, reader, name }) {
      const secret = name('disabled');
      await backend.setSecret(secret, 'hidden');
      await backend.disableSecret(secret);
      const listed = (await listAll(reader)).flat().find((p) => p.name === secret);
      return { get: await failureKind(reader.getSecret(secret)), listedEnabled: listed?.enabled };
    },
    expected: { get: 'Disabled', listedEnabled: false },
  },
  {
    name: 'a missing secret or version reads as NotFound',
    async run({ backend, reader, name }) {
      const secret = name('present');
      await backend.setSecret(secret, 'x');
      return {
        missingSecret: await failureKind(reader.getSecret(name('missing'))),
        missingVersion: await failureKind(
          reader.getSecret(secret, '0123456789abcdef0123456789abcdef'),
        ),
      };
    },
    expected: { missingSecret: 'NotFound', missingVersion: 'NotFound' },
  },
  certificateCase('pem', 'application/x-pem-file'),
  certificateCase('pfx', 'application/x-pkcs12'),
];

function certificateCase(format: CertificateFormat, contentType: string): ConformanceCase {
  return {
    name: `a certificate's backing secret in ${format.toUpperCase()} holds the certificate and its key`,
    async run({ backend, reader, name }) {
      const certName = name(`cert-${format}`);
      const cert = await makeTestCertificate(`${certName}.example`);
      await backend.importCertificate(certName, format, cert);
      const secret = await reader.getSecret(certName);
      const parsed = await parseBackingSecret(secret.value, secret.properties.contentType);
      const leaf = parsed.certificates.find((c) => c.checkPrivateKey(parsed.key));
      const listed = (await listAll(reader)).flat().find((p) => p.name === certName);
      return {
        contentType: secret.properties.contentType,
        managed: secret.properties.managed,
        keyMatchesACertificate: leaf !== undefined,
        subjectMatches: leaf?.subject === `CN=${cert.commonName}`,
        // Key Vault gives the backing secret the certificate's validity as its nbf/exp.
        expiresOnIsNotAfter:
          leaf !== undefined && secret.properties.expiresOn?.getTime() === Date.parse(leaf.validTo),
        listedAsManaged: listed?.managed,
        listedContentType: listed?.contentType,
      };
    },
    expected: {
      contentType,
      managed: true,
      keyMatchesACertificate: true,
      subjectMatches: true,
      expiresOnIsNotAfter: true,
      listedAsManaged: true,
      listedContentType: contentType,
    },
  };
}

export async function listAll(reader: VaultReader): Promise<ObjectProperties[][]> {
  const pages: ObjectProperties[][] = [];
  for await (const page of reader.listSecretPages()) pages.push([...page]);
  return pages;
}

export async function failureKind(read: Promise<unknown>): Promise<string> {
  try {
    await read;
    return 'no error';
  } catch (err) {
    return err instanceof VaultError ? err.kind : `not a VaultError: ${(err as Error).name}`;
  }
}
