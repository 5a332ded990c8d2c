// Which modules kvsync's main thread loads: its whole graph, as the image starts it.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const src = path.resolve(import.meta.dirname, '../../src');

/** Loads kvsync's module graph in a fresh Node, as the image does, and lists what was loaded. */
export async function loadedModules(preload: boolean): Promise<string[]> {
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
