// `kvsync convert` as a user runs it: the real entrypoint, files and stdin, YAML on stdout, the
// report and consent lines on stderr, exit codes 0, 1 and 2.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { fixture, fixtureDir } from '../../support/eso-fixtures.ts';

const main = path.resolve(import.meta.dirname, '../../../src/main.ts');

async function kvsync(
  args: readonly string[],
  stdin = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [main, ...args], {
    cwd: fixtureDir,
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(stdin);
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('kvsync convert', () => {
  it('converts files to VaultSecret YAML and prints the consent lines, exit 0', async () => {
    const { code, stdout, stderr } = await kvsync(['convert', 'hand-made/migration.yaml']);
    expect(code).toBe(0);
    const [document, ...rest] = parseAllDocuments(stdout);
    expect(rest).toEqual([]);
    expect(document?.toJS()).toMatchObject({
      kind: 'VaultSecret',
      metadata: { name: 'payments' },
      spec: { target: { name: 'payments-env', adopt: true } },
    });
    expect(stderr).toContain(
      'ExternalSecret payments (hand-made/migration.yaml document 2): converted\n',
    );
    expect(stderr.trim().split('\n').at(-1)).toBe(
      'kubectl annotate secret payments-env kvsync.io/adopt-by=payments',
    );
  });

  it('reads stdin and exits 1 when objects were skipped, listing each reason', async () => {
    const input = `${fixture('snippets/azkv-secret-store-mi.yaml')}---\n${fixture('snippets/azkv-external-secret.yaml')}`;
    const { code, stdout, stderr } = await kvsync(['convert', '-'], input);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('ExternalSecret database-credentials (stdin document 2): skipped\n');
    expect(stderr).toContain('  not converted: data[5] (encryption-pubkey): key/encryption-pubkey');
  });

  it('exits 2 on input that is not an ESO object, naming file and document', async () => {
    const { code, stdout, stderr } = await kvsync([
      'convert',
      'snippets/azkv-pushsecret-secret.yaml',
    ]);
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toBe(
      'kvsync convert: snippets/azkv-pushsecret-secret.yaml document 1: v1 Secret source-secret is not an External Secrets Operator object\n',
    );
  });

  it('prints its usage', async () => {
    const { code, stdout } = await kvsync(['convert', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: kvsync convert [FILE...]');
  });
});
