import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderGeneratedFiles } from '../../../scripts/generate.ts';
import { vaultSecretCrd } from '../../../src/api/vault-secret-crd.ts';

const root = new URL('../../../', import.meta.url);
const files = await renderGeneratedFiles();

describe('generated files', () => {
  it.each(files.map((file) => [file.path, file.content]))(
    '%s is up to date with the schema (npm run generate)',
    async (path, content) => {
      expect(await readFile(new URL(path, root), 'utf8')).toBe(content);
    },
  );

  it('ships the same CRD in crds/ and in the Helm chart', () => {
    const crds = files.filter((file) => file.path.endsWith('kvsync.io_vaultsecrets.yaml'));
    expect(crds.map((file) => file.path).sort()).toEqual([
      'charts/kvsync/crds/kvsync.io_vaultsecrets.yaml',
      'crds/kvsync.io_vaultsecrets.yaml',
    ]);
    expect(crds[0]?.content).toBe(crds[1]?.content);
  });

  it('writes YAML that reads back as exactly the CRD object (formatting changed no CEL rule)', () => {
    const crd = files.find((file) => file.path.startsWith('crds/'));
    expect(parse(crd?.content ?? '')).toEqual(vaultSecretCrd);
  });
});
