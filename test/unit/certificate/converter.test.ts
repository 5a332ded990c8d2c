// Conversion runs on a worker thread and once per version: the outcome, material or failure, is
// kept for (vault and identity, name, version, output options). The worker ends when idle and
// starts again for the next conversion.
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateConverter, type TlsMaterial } from '../../../src/keyvault/certificate/index.ts';
import { makeChain, toPemBundle, toPfxBase64, type TestChain } from '../../support/certs.ts';

let chain: TestChain;
let other: TestChain;
const converter = new CertificateConverter();
const key = (version: string) => ({
  mirror: 'default|https://a.vault.azure.net',
  name: 'tls',
  version,
});
const hostile = { value: `M${' '.repeat(25_000)}!` };

beforeAll(async () => {
  chain = await makeChain({ keyType: 'ec-p256', length: 2 });
  other = await makeChain({ keyType: 'ec-p256', length: 2 });
}, 60_000);

afterAll(() => converter.close());

describe('CertificateConverter', () => {
  it('converts on a worker thread, the PFX unchanged as a Buffer', async () => {
    const value = await toPfxBase64(chain);
    const tls = await converter.convert(key('v1'), { value }, { format: 'pfx' });
    expect(tls.certificateChainPem).toBe(chain.leaf.pem);
    expect(Buffer.isBuffer(tls.pfx)).toBe(true);
    expect(tls.pfx?.toString('base64')).toBe(value);
    expect(tls.leaf.notAfter).toEqual(chain.leaf.notAfter);
  });

  it('converts a version once: the same key gives the first outcome', async () => {
    const first = await converter.convert(key('v2'), { value: toPemBundle(chain) }, {});
    const again = await converter.convert(key('v2'), { value: toPemBundle(other) }, {});
    expect(again.certificateChainPem).toBe(first.certificateChainPem);
    const next = await converter.convert(key('v3'), { value: toPemBundle(other) }, {});
    expect(next.certificateChainPem).toBe(other.leaf.pem);
  });

  it('keeps a failure too: a version that failed is not converted again', async () => {
    await expect(converter.convert(key('v4'), hostile, {})).rejects.toMatchObject({
      name: 'CertificateError',
      code: 'Malformed',
    });
    await expect(
      converter.convert(key('v4'), { value: toPemBundle(chain) }, {}),
    ).rejects.toMatchObject({ code: 'Malformed' });
    expect(converter.cached.entries).toBeGreaterThanOrEqual(4);
  });

  it('converts each set of output options of a version on its own', async () => {
    const pem = await converter.convert(key('v5'), { value: toPemBundle(chain) }, {});
    const asPfx = await converter.convert(
      key('v5'),
      { value: toPemBundle(chain) },
      { format: 'pfx' },
    );
    expect(pem.pfx).toBeUndefined();
    expect(asPfx.pfx).toBeInstanceOf(Buffer);
  });
});

/** The next worker thread this process starts. */
function nextWorker(): Promise<Worker> {
  return new Promise((resolve) => process.once('worker', resolve));
}

describe('CertificateConverter when its worker runs out of memory', () => {
  it("reports the certificate's CertificateError and starts a new worker for the next one", async () => {
    // Too little heap to read any certificate: every conversion runs its worker out of memory.
    const starved = new CertificateConverter({ workerHeapMb: 6 });
    try {
      for (const version of ['oom1', 'oom2']) {
        const started = nextWorker();
        await expect(
          starved.convert(key(version), { value: toPemBundle(chain) }, {}),
        ).rejects.toMatchObject({ code: 'TooMuchWork', message: /needs more memory/ });
        await started;
      }
    } finally {
      await starved.close();
    }
  });
});

describe('CertificateConverter when idle', () => {
  it('ends its worker after the idle period and starts one again for the next conversion', async () => {
    const idle = new CertificateConverter({ workerIdleMs: 1 });
    try {
      const first = nextWorker();
      await idle.convert(key('idle1'), { value: toPemBundle(chain) }, {});
      await once(await first, 'exit');
      const second = nextWorker();
      const tls = await idle.convert(key('idle2'), { value: toPemBundle(other) }, {});
      expect(tls.certificateChainPem).toBe(other.leaf.pem);
      expect(await second).not.toBe(await first);
    } finally {
      await idle.close();
    }
  });

  it('serves a conversion that arrives while its idle worker is ending', async () => {
    const idle = new CertificateConverter({ workerIdleMs: 1 });
    try {
      const started = nextWorker();
      await idle.convert(key('ending1'), { value: toPemBundle(chain) }, {});
      const worker = await started;
      // The moment the converter ends the worker, a conversion comes in.
      const arriving = new Promise<TlsMaterial>((resolve, reject) => {
        const terminate = worker.terminate.bind(worker);
        worker.terminate = () => {
          const ending = terminate();
          idle.convert(key('ending2'), { value: toPemBundle(other) }, {}).then(resolve, reject);
          return ending;
        };
      });
      expect((await arriving).certificateChainPem).toBe(other.leaf.pem);
    } finally {
      await idle.close();
    }
  });
});
