import { describe, expect, it } from 'vitest';
import { loadedModules } from '../../support/loaded-modules.ts';

describe('slim-client-node preload', () => {
  const generated = (urls: string[]) => urls.filter((url) => url.includes('/dist/gen/models/'));

  it("keeps client-node's generated models out of kvsync's process", async () => {
    const withPreload = await loadedModules(true);
    expect(withPreload.some((url) => url.endsWith('/client-node/dist/config.js'))).toBe(true);
    expect(generated(withPreload)).toEqual([]);
  });

  it('is what keeps them out: without it they load', async () => {
    expect(generated(await loadedModules(false)).length).toBeGreaterThan(100);
  });
});
