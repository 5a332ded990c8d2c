// `npm run demo` on the test run's control plane (the demo starts its own otherwise): every step
// happens and it exits 0. Certificates may be shown; private keys and values never are.
import { describe, expect, inject, it } from 'vitest';
import { runScript } from './run-script.ts';

describe('npm run demo', () => {
  it('runs every step and exits 0', async () => {
    const run = await runScript('scripts/demo.ts', [
      `--kubeconfig=${inject('controlPlane').kubeconfigPath}`,
      '--entry=source',
    ]);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('11/11  Shut down');
    expect(run.stdout).toContain('Demo complete: every step happened.');
    expect(run.stdout).toMatch(/shop-[0-9a-f]{6}\/db-password changed [\d.]+ s after the vault/);
    expect(run.stdout).not.toContain('PRIVATE KEY-----');
  }, 240_000);
});
