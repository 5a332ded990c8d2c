// Prometheus's own tools for the tests of kvsync's alerts and dashboard: promtool (check rules,
// test rules) and test/promql's promql-selectors (the metric names a query reads, from
// Prometheus's parser). Built by scripts/build-promtool.sh; scripts/dev.sh builds them before the
// tests and passes the directory as $KVSYNC_PROMTOOL_DIR.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../..');

let binDir: Promise<string> | undefined;

/** The directory holding promtool and promql-selectors (built when the cache is cold). */
export function promtoolDir(): Promise<string> {
  binDir ??= process.env.KVSYNC_PROMTOOL_DIR
    ? Promise.resolve(process.env.KVSYNC_PROMTOOL_DIR)
    : exec('bash', [path.join(repoRoot, 'scripts/build-promtool.sh')], {
        maxBuffer: 16 * 1024 * 1024,
      }).then(({ stdout }) => stdout.trim().split('\n').at(-1)!);
  return binDir;
}

export interface ToolResult {
  readonly code: number;
  readonly output: string;
}

/** Runs promtool with `files` (name -> text) written to a temporary directory, its cwd. */
export async function promtool(
  args: readonly string[],
  files: Readonly<Record<string, string>>,
): Promise<ToolResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kvsync-promtool-'));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
    const bin = path.join(await promtoolDir(), 'promtool');
    try {
      const { stdout, stderr } = await exec(bin, [...args], { cwd: dir });
      return { code: 0, output: stdout + stderr };
    } catch (error) {
      const { code, stdout, stderr } = error as { code?: number; stdout?: string; stderr?: string };
      return { code: code ?? -1, output: `${stdout ?? ''}${stderr ?? ''}` };
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface Selectors {
  readonly expr: string;
  /** Prometheus's parse error, if any. */
  readonly error?: string;
  /** The metric names the query's selectors name. */
  readonly metrics: readonly string[];
}

/** What Prometheus's parser reads in each query. */
export async function promqlSelectors(exprs: readonly string[]): Promise<Selectors[]> {
  const bin = path.join(await promtoolDir(), 'promql-selectors');
  const child = execFile(bin, [], { maxBuffer: 16 * 1024 * 1024 });
  const done = new Promise<string>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`promql-selectors: ${stderr}`)),
    );
  });
  child.stdin?.end(JSON.stringify(exprs));
  return JSON.parse(await done) as Selectors[];
}
