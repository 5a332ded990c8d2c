// ESO manifests as `kvsync convert` reads them: the published examples under test/fixtures/eso,
// or YAML written in a test; and the command run in memory.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runConvert } from '../../src/convert/cli.ts';
import type { SourceDocument } from '../../src/convert/convert.ts';

export const fixtureDir = path.resolve(import.meta.dirname, '../fixtures/eso');

export function fixture(name: string): string {
  return readFileSync(path.join(fixtureDir, name), 'utf8');
}

export function documents(...texts: readonly [name: string, yaml: string][]): SourceDocument[] {
  return texts.flatMap(([name, yaml]) =>
    parseAllDocuments(yaml)
      .map((document, index) => ({
        source: `${name} document ${index + 1}`,
        value: document.toJS() as unknown,
      }))
      .filter((document) => document.value !== null),
  );
}

/** Fixture files by name, as documents. */
export function fixtures(...names: readonly string[]): SourceDocument[] {
  return documents(...names.map((name): [string, string] => [name, fixture(name)]));
}

/** `kvsync convert` over in-memory files (stdin is the file "-"). */
export async function convertFiles(
  files: ReadonlyMap<string, string>,
  args: readonly string[] = [...files.keys()],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const read = (name: string): Promise<string> => {
    const content = files.get(name);
    if (content === undefined) {
      return Promise.reject(Object.assign(new Error(`no ${name}`), { code: 'ENOENT' }));
    }
    return Promise.resolve(content);
  };
  const code = await runConvert(args, {
    readFile: read,
    readStdin: () => read('-'),
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}
