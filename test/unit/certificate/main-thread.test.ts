// Certificates are read on the conversion worker only: kvsync's main thread, which every cluster
// runs, never loads the PKCS#12 code and its libraries (pkijs, asn1js), with or without
// certificates to convert.
import { describe, expect, it } from 'vitest';
import { loadedModules } from '../../support/loaded-modules.ts';

describe("kvsync's main thread", () => {
  it('loads the certificate converter but not the conversion code it runs on the worker', async () => {
    const loaded = await loadedModules(true);
    expect(loaded.some((url) => url.endsWith('/keyvault/certificate/converter.ts'))).toBe(true);
    const conversion = loaded.filter((url) =>
      /\/node_modules\/(pkijs|asn1js)\/|\/keyvault\/certificate\/(certificate-to-tls|pkcs12-)/.test(
        url,
      ),
    );
    expect(conversion).toEqual([]);
  });
});
