// What GitOps tools make of a live object, computed by their own code: kstatus (Flux, kpt) and
// Argo CD's Lua runtime (gopher-lua), both in test/tools' gitops-health, built from the Go module
// proxy by scripts/build-test-tools.sh (npm test sets KVSYNC_TOOLS_DIR; otherwise built here).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(import.meta.dirname, '..', '..');
export const argoCdCustomizations = join(root, 'deploy', 'argocd', 'kvsync.io', 'VaultSecret');

export interface KstatusResult {
  readonly status: 'InProgress' | 'Failed' | 'Current' | 'Terminating' | 'NotFound' | 'Unknown';
  readonly message: string;
}

export interface ArgoHealth {
  readonly status: 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';
  readonly message?: string;
}

export interface GitOpsHealth {
  kstatus(object: object): Promise<KstatusResult>;
  /** The value an Argo CD script under deploy/argocd/kvsync.io/VaultSecret returns for the object. */
  lua<T = unknown>(script: string, object: object): Promise<T>;
}

export async function gitOpsHealth(): Promise<GitOpsHealth> {
  const dir = process.env.KVSYNC_TOOLS_DIR ?? (await buildTools());
  const tool = join(dir, 'gitops-health');
  const run = (args: string[], object: object) =>
    new Promise<unknown>((resolve, reject) => {
      const child = execFile(tool, args, (error, stdout, stderr) => {
        if (error) reject(new Error(`gitops-health ${args.join(' ')}: ${stderr || error.message}`));
        else resolve(JSON.parse(stdout));
      });
      child.stdin?.end(JSON.stringify(object));
    });
  return {
    kstatus: async (object) => (await run(['kstatus'], object)) as KstatusResult,
    lua: async <T>(script: string, object: object) =>
      (await run(['lua', join(argoCdCustomizations, script)], object)) as T,
  };
}

async function buildTools(): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', [join(root, 'scripts/build-test-tools.sh')]);
  return stdout.trim().split('\n').at(-1)!;
}
