import { describe, expect, it } from 'vitest';
import { loadedModules } from '../../support/loaded-modules.ts';

describe('slim-client-node preload', () => {
  const generated = (urls: string[]) => urls.filter((url) => url.includes('/dist/gen/models/'));
  const undici = (urls: string[]) => urls.filter((url) => url.includes('/node_modules/undici/'));

  it("keeps client-node's generated models out of kvsync's process", async () => {
    const withPreload = await loadedModules(true);
    expect(withPreload.some((url) => url.endsWith('/client-node/dist/config.js'))).toBe(true);
    expect(generated(withPreload)).toEqual([]);
    expect(undici(withPreload)).toEqual([]);
  });

  // Certificates' libraries: test/unit/certificate/main-thread.test.ts.
  it('loads no library that only events, `kvsync convert` or name patterns need', async () => {
    const packages = ['@azure/storage-queue', 'yaml', 're2js'];
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
