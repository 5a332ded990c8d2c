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

  it('templates the same CRD in the Helm chart (the spec verbatim, template text escaped)', () => {
    const template = files.find((file) => file.path.startsWith('charts/kvsync/templates/crds/'));
    const spec = /^spec:\n[\s\S]*?(?=^\{\{- end \}\}$)/m.exec(template?.content ?? '')?.[0];
    expect(parse(spec?.replaceAll('{{ "{{" }}', '{{') ?? '')).toEqual({
      spec: vaultSecretCrd.spec,
    });
  });

  it('writes YAML that reads back as exactly the CRD object (formatting changed no CEL rule)', () => {
    const crd = files.find((file) => file.path.startsWith('crds/'));
    expect(parse(crd?.content ?? '')).toEqual(vaultSecretCrd);
  });
});
