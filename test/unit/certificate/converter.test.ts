// Conversion runs on a worker thread and once per version: the outcome, material or failure, is
// kept for (vault and identity, name, version, output options).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateConverter } from '../../../src/keyvault/certificate/index.ts';
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
