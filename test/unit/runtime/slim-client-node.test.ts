import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const src = path.resolve(import.meta.dirname, '../../../src');

/** Loads kvsync's module graph in a fresh Node, as the image does, and lists what was loaded. */
async function loadedModules(preload: boolean): Promise<string[]> {
  const script = `
    import { writeFileSync } from 'node:fs';
    import { registerHooks } from 'node:module';
    const loaded = [];
    registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
    await import(${JSON.stringify(path.join(src, 'main.ts'))}).catch(() => {});
    writeFileSync(process.env.KVSYNC_LOADED_LIST, JSON.stringify(loaded));
    process.exit(0);
  `;
  const dir = await mkdtemp(path.join(tmpdir(), 'kvsync-slim-'));
  const file = path.join(dir, 'load.mjs');
  await writeFile(file, script);
  const args = [
    ...(preload ? [`--import=${path.join(src, 'runtime', 'slim-client-node.ts')}`] : []),
    file,
    // main.ts prints its usage and returns: the whole graph is loaded and nothing runs.
    '--help',
  ];
  const list = path.join(dir, 'loaded.json');
  await promisify(execFile)(process.execPath, args, {
    maxBuffer: 1 << 26,
    timeout: 60_000,
    // Not the test runner's own options.
    env: { PATH: process.env.PATH ?? '', KVSYNC_LOADED_LIST: list },
  });
  try {
    return JSON.parse(await readFile(list, 'utf8')) as string[];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('slim-client-node preload', () => {
  const generated = (urls: string[]) => urls.filter((url) => url.includes('/dist/gen/models/'));
  const undici = (urls: string[]) => urls.filter((url) => url.includes('/node_modules/undici/'));

  it("keeps client-node's generated models out of kvsync's process", async () => {
    const withPreload = await loadedModules(true);
    expect(withPreload.some((url) => url.endsWith('/client-node/dist/config.js'))).toBe(true);
    expect(generated(withPreload)).toEqual([]);
    expect(undici(withPreload)).toEqual([]);
  });

  it('loads no library that only events, certificates, `kvsync convert` or name patterns need', async () => {
    const packages = ['@azure/storage-queue', 'pkijs', 'asn1js', 'yaml', 're2js'];
    const loaded = (await loadedModules(true)).filter((url) =>
      packages.some((name) => url.includes(`/node_modules/${name}/`)),
    );
    expect(loaded).toEqual([]);
  });

  it('is what keeps them out: without it they load', async () => {
    const withoutPreload = await loadedModules(false);
    expect(generated(withoutPreload).length).toBeGreaterThan(100);
    expect(undici(withoutPreload).length).toBeGreaterThan(10);
  });
});
