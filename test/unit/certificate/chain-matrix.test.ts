// Every key type x chain length x input order x encoding becomes a tls.crt in issuing order that
// a real TLS client, trusting only the root, accepts.
import { beforeAll, describe, expect, it } from 'vitest';
import { certificateToTls } from '../../../src/keyvault/certificate/certificate-to-tls.ts';
import {
  KEY_TYPES,
  makeChain,
  tlsHandshake,
  toPemBundle,
  toPfxBase64,
  type KeyType,
  type TestChain,
} from '../../support/certs.ts';
import { thumbprints } from './thumbprints.ts';

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((rest) =>
    Array.from({ length: n }, (_, i) => [...rest.slice(0, i), n - 1, ...rest.slice(i)]),
  );
}

const LENGTHS = [1, 2, 3, 4];
const chains = new Map<string, TestChain>();

beforeAll(async () => {
  for (const keyType of KEY_TYPES) {
    for (const length of LENGTHS)
      chains.set(`${keyType}/${length}`, await makeChain({ keyType, length }));
  }
}, 120_000);

const cases = KEY_TYPES.flatMap((keyType: KeyType) =>
  LENGTHS.flatMap((length) =>
    permutations(length).map((order, index) => ({ keyType, length, order, index })),
  ),
);

describe.each(['pem', 'pfx'] as const)('%s backing secret', (encoding) => {
  it.each(cases)(
    '$keyType, chain of $length, input order $order',
    async ({ keyType, length, order, index }) => {
      const chain = chains.get(`${keyType}/${length}`);
      if (!chain) throw new Error('chain not generated');
      const backing =
        encoding === 'pem'
          ? {
              // Key Vault puts the key first; uploads by hand often put it last.
              value: toPemBundle(chain, { order, key: index % 2 === 0 ? 'first' : 'last' }),
              contentType: 'application/x-pem-file',
            }
          : {
              value: await toPfxBase64(chain, {
                order,
                keyPosition: index % 2 === 0 ? 'first' : 'last',
              }),
              contentType: 'application/x-pkcs12',
            };

      const tlsMaterial = certificateToTls(backing);

      const expected = length === 1 ? [chain.leaf] : [chain.leaf, ...chain.intermediates];
      expect(thumbprints(tlsMaterial.certificateChainPem)).toEqual(
        expected.map((c) => c.thumbprintSha1Hex),
      );
      expect(tlsMaterial.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      expect(thumbprints(tlsMaterial.caPem ?? '')).toEqual([chain.root.thumbprintSha1Hex]);
      expect(tlsMaterial.leaf.thumbprintSha1Hex).toBe(chain.leaf.thumbprintSha1Hex);
      expect(tlsMaterial.ignoredCertificates).toEqual([]);

      const handshake = await tlsHandshake(
        { key: tlsMaterial.privateKeyPem, cert: tlsMaterial.certificateChainPem },
        chain.root.pem,
      );
      expect(handshake).toMatchObject({ authorized: true, error: undefined });
      expect(handshake.chain).toEqual(chain.issuingOrder.map((c) => c.thumbprintSha1Hex));
    },
  );
});

it('the handshake check is meaningful: a leaf without its intermediates is refused', async () => {
  const chain = chains.get('ec-p256/3');
  if (!chain) throw new Error('chain not generated');
  const handshake = await tlsHandshake(
    { key: chain.leafKeyPem, cert: chain.leaf.pem },
    chain.root.pem,
  );
  expect(handshake.authorized).toBe(false);
  expect(handshake.error).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/);
});
