// The kvsync command line as a user meets it: --help lists every flag, a bad value is refused at
// start with a message that names the flag and exit code 2, before anything connects anywhere.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { envName, flags } from '../../../src/config.ts';

const main = path.resolve(import.meta.dirname, '../../../src/main.ts');

async function kvsync(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [main, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('kvsync command line', () => {
  it('--help prints every flag with its environment variable and exits 0', async () => {
    const { code, stdout, stderr } = await kvsync(['--help']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    for (const name of Object.keys(flags)) {
      expect(stdout).toContain(`--${name}`);
      expect(stdout).toContain(envName(name));
    }
    expect(stdout).toContain('--help');
  });

  it.each([
    [['--workers=0'], '--workers: expected a whole number from 1 to 64, got "0"'],
    [['--default-refresh-interval=1d'], '--default-refresh-interval: expected 0 or a duration'],
    [['--leader-elect=maybe'], '--leader-elect: expected true or false, got "maybe"'],
    [['--metrics-address=8080'], '--metrics-address: expected host:port or :port'],
    [['--renew-deadline=20s'], '--lease-duration must be longer than --renew-deadline'],
    [['--no-such-flag'], "Unknown option '--no-such-flag'"],
  ])('refuses %j with exit code 2 and a clear message', async (args, message) => {
    const { code, stdout, stderr } = await kvsync(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('names the environment variable when the bad value came from one', async () => {
    const { code, stderr } = await kvsync([], { KVSYNC_LOG_LEVEL: 'loud' });
    expect(code).toBe(2);
    expect(stderr).toContain('KVSYNC_LOG_LEVEL: expected one of trace, debug, info');
  });

  it('refuses an authority host that is not https', async () => {
    const { code, stderr } = await kvsync([], { AZURE_AUTHORITY_HOST: 'http://login.example' });
    expect(code).toBe(2);
    expect(stderr).toContain('AZURE_AUTHORITY_HOST: expected an https URL');
  });
});
