// What a user configures (includeRoot, keyFormat, format) and what Key Vault may hand over (PFX
// from different tools, PEM with other key encodings, wrong content types, extra certificates).
import { execFileSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { certificateToTls } from '../../../src/keyvault/certificate/certificate-to-tls.ts';
import {
  canMakePfx,
  keyPemAs,
  makeChain,
  tlsHandshake,
  toPemBundle,
  toPfx,
  toPfxBase64,
  type PfxEncryption,
  type TestChain,
} from '../../support/certs.ts';
import { thumbprints } from './thumbprints.ts';

let rsa: TestChain; // RSA 2048, root -> intermediate -> leaf
let ec: TestChain; // EC P-384, root -> 2 intermediates -> leaf
let other: TestChain; // unrelated to both

beforeAll(async () => {
  rsa = await makeChain({ keyType: 'rsa-2048', length: 3 });
  ec = await makeChain({ keyType: 'ec-p384', length: 4 });
  other = await makeChain({ keyType: 'ec-p256', length: 2 });
}, 60_000);

const tp = (chain: TestChain, ...indexes: number[]) =>
  indexes.map((i) => chain.issuingOrder[i]?.thumbprintSha1Hex);

describe('PFX files from different producers', () => {
  const producers: PfxEncryption[] = ['aes', '3des', 'legacy', 'none'];
  for (const encryption of producers) {
    for (const withChain of [true, false]) {
      it(`${encryption} ${withChain ? 'with' : 'without'} chain`, async (context) => {
        if (!(await canMakePfx(encryption))) {
          // Loud, not silent: the reporter shows which producer this machine could not exercise.
          context.skip(`openssl on this machine cannot write ${encryption} PFX files`);
        }
        const value = await toPfxBase64(ec, { encryption, withChain });
        const tlsMaterial = certificateToTls({ value, contentType: 'application/x-pkcs12' });
        expect(thumbprints(tlsMaterial.certificateChainPem)).toEqual(
          withChain ? tp(ec, 0, 1, 2) : tp(ec, 0),
        );
        expect(tlsMaterial.caPem === undefined).toBe(!withChain);
        expect(
          createPrivateKey(tlsMaterial.privateKeyPem).equals(createPrivateKey(ec.leafKeyPem)),
        ).toBe(true);
      });
    }
  }
});

describe('options', () => {
  it('includeRoot appends the root after the intermediates', () => {
    const tlsMaterial = certificateToTls(
      { value: toPemBundle(ec, { order: 'reverse' }) },
      { includeRoot: true },
    );
    expect(thumbprints(tlsMaterial.certificateChainPem)).toEqual(tp(ec, 0, 1, 2, 3));
  });

  it('includeRoot does not repeat a self-signed leaf', async () => {
    const single = await makeChain({ keyType: 'ec-p256', length: 1 });
    const tlsMaterial = certificateToTls({ value: toPemBundle(single) }, { includeRoot: true });
    expect(thumbprints(tlsMaterial.certificateChainPem)).toEqual([single.leaf.thumbprintSha1Hex]);
    expect(thumbprints(tlsMaterial.caPem ?? '')).toEqual([single.leaf.thumbprintSha1Hex]);
  });

  it('ca.crt is the root only; without a root in the vault there is none', () => {
    const full = certificateToTls({ value: toPemBundle(ec) });
    expect(thumbprints(full.caPem ?? '')).toEqual(tp(ec, 3));
    const noRoot = certificateToTls({ value: toPemBundle(ec, { includeRoot: false }) });
    expect(thumbprints(noRoot.certificateChainPem)).toEqual(tp(ec, 0, 1, 2));
    expect(noRoot.caPem).toBeUndefined();
  });

  it('a leaf alone is fine', () => {
    const tlsMaterial = certificateToTls({ value: toPemBundle(rsa, { order: [0] }) });
    expect(thumbprints(tlsMaterial.certificateChainPem)).toEqual(tp(rsa, 0));
    expect(tlsMaterial.caPem).toBeUndefined();
  });

  it('keyFormat pkcs1 gives an RSA PRIVATE KEY that serves TLS', async () => {
    const tlsMaterial = certificateToTls({ value: toPemBundle(rsa) }, { keyFormat: 'pkcs1' });
    expect(tlsMaterial.privateKeyPem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    const handshake = await tlsHandshake(
      { key: tlsMaterial.privateKeyPem, cert: tlsMaterial.certificateChainPem },
      rsa.root.pem,
    );
    expect(handshake.authorized).toBe(true);
  });

  it('format pfx returns the vault PFX unchanged', async () => {
    const pfx = await toPfx(rsa, { order: 'reverse' });
    const tlsMaterial = certificateToTls({ value: pfx.toString('base64') }, { format: 'pfx' });
    expect(tlsMaterial.pfx?.equals(pfx)).toBe(true);
  });

  it('format pfx builds a PFX from PEM that Node TLS and kvsync itself read back', async () => {
    const tlsMaterial = certificateToTls(
      { value: toPemBundle(ec, { key: 'last' }) },
      { format: 'pfx' },
    );
    if (!tlsMaterial.pfx) throw new Error('no pfx');
    const handshake = await tlsHandshake({ pfx: tlsMaterial.pfx }, ec.root.pem);
    expect(handshake).toMatchObject({ authorized: true });
    expect(handshake.chain).toEqual(tp(ec, 0, 1, 2, 3));
    const again = certificateToTls({ value: tlsMaterial.pfx.toString('base64') });
    expect(again.certificateChainPem).toBe(tlsMaterial.certificateChainPem);
  });

  it('format pfx output is readable by the openssl CLI with an empty password', (context) => {
    const tlsMaterial = certificateToTls({ value: toPemBundle(rsa) }, { format: 'pfx' });
    const dir = mkdtempSync(join(tmpdir(), 'kvsync-pfx-test-'));
    try {
      writeFileSync(join(dir, 'out.pfx'), tlsMaterial.pfx ?? Buffer.alloc(0));
      let certs: string;
      try {
        certs = execFileSync(
          'openssl',
          ['pkcs12', '-in', join(dir, 'out.pfx'), '-passin', 'pass:', '-nokeys'],
          {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          context.skip('no openssl CLI on this machine');
        }
        throw error;
      }
      expect(thumbprints(certs)).toEqual(tp(rsa, 0, 1));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports the leaf for status and expiry', () => {
    const { leaf } = certificateToTls({ value: toPemBundle(ec, { order: 'reverse' }) });
    expect(leaf).toEqual({
      subject: ec.leaf.subject,
      issuer: ec.intermediates[0]?.subject,
      notBefore: ec.leaf.notBefore,
      notAfter: ec.leaf.notAfter,
      thumbprintSha1Hex: ec.leaf.thumbprintSha1Hex,
      keyType: 'EC P-384',
    });
  });
});

describe('what is in the vault', () => {
  it.each([
    ['PEM with a PKCS#12 content type', 'pem', 'application/x-pkcs12'],
    ['PFX with a PEM content type', 'pfx', 'application/x-pem-file'],
    ['PFX without a content type', 'pfx', undefined],
    ['PEM without a content type', 'pem', undefined],
    ['PEM with parameters on the content type', 'pem', 'application/x-pem-file; charset=utf-8'],
  ] as const)('%s', async (_name, encoding, contentType) => {
    const value = encoding === 'pem' ? toPemBundle(rsa) : await toPfxBase64(rsa);
    const tlsMaterial = certificateToTls({ value, contentType });
    expect(thumbprints(tlsMaterial.certificateChainPem)).toEqual(tp(rsa, 0, 1));
  });

  it('base64 PFX wrapped at 76 columns with CRLF', async () => {
    const wrapped = (await toPfxBase64(rsa)).match(/.{1,76}/g)?.join('\r\n') ?? '';
    const tlsMaterial = certificateToTls({ value: wrapped, contentType: 'application/x-pkcs12' });
    expect(thumbprints(tlsMaterial.certificateChainPem)).toEqual(tp(rsa, 0, 1));
  });

  it.each([
    ['RSA key as PKCS#1', () => keyPemAs(rsa.leafKey, 'pkcs1'), () => rsa],
    ['EC key as SEC1', () => keyPemAs(ec.leafKey, 'sec1'), () => ec],
  ] as const)('PEM with the %s', (_name, keyPem, chain) => {
    const tlsMaterial = certificateToTls({ value: toPemBundle(chain(), { keyPem: keyPem() }) });
    expect(tlsMaterial.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('PEM with CRLF line ends, comments and EC PARAMETERS', () => {
    const ecParams = '-----BEGIN EC PARAMETERS-----\nBgUrgQQAIg==\n-----END EC PARAMETERS-----\n';
    const value =
      `Bag Attributes: friendlyName web\n${ecParams}${toPemBundle(ec, { key: 'last' })}`.replaceAll(
        '\n',
        '\r\n',
      );
    const tlsMaterial = certificateToTls({ value });
    expect(thumbprints(tlsMaterial.certificateChainPem)).toEqual(tp(ec, 0, 1, 2));
  });

  it('the same certificate twice counts once', () => {
    const value = toPemBundle(rsa) + rsa.leaf.pem + rsa.intermediates[0]?.pem;
    expect(thumbprints(certificateToTls({ value }).certificateChainPem)).toEqual(tp(rsa, 0, 1));
  });

  it('unrelated certificates next to a complete chain are left out and reported', () => {
    const value = other.root.pem + toPemBundle(rsa) + other.leaf.pem;
    const tlsMaterial = certificateToTls({ value });
    expect(thumbprints(tlsMaterial.certificateChainPem)).toEqual(tp(rsa, 0, 1));
    expect(tlsMaterial.ignoredCertificates).toEqual([other.root.subject, other.leaf.subject]);
  });
});
