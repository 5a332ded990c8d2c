// The hand-written pieces under the PKCS#12 reader, checked against published vectors and against
// independent implementations (pkijs's PKCS#12 KDF, OpenSSL's legacy RC2).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { getCrypto } from 'pkijs';
import { describe, expect, it } from 'vitest';
import { parsePemBlocks, toPem } from '../../../src/keyvault/certificate/pem.ts';
import { bmpPassword, pkcs12Kdf } from '../../../src/keyvault/certificate/pkcs12-kdf.ts';
import { rc2CbcDecrypt, rc2DecryptBlock } from '../../../src/keyvault/certificate/rc2.ts';
import { createHmac } from 'node:crypto';

describe('RC2 (RFC 2268)', () => {
  // RFC 2268 section 5: key, effective bits, plaintext, ciphertext.
  it.each([
    ['0000000000000000', 63, '0000000000000000', 'ebb773f993278eff'],
    ['ffffffffffffffff', 64, 'ffffffffffffffff', '278b27e42e2f0d49'],
    ['3000000000000000', 64, '1000000000000001', '30649edf9be7d2c2'],
    ['88', 64, '0000000000000000', '61a8a244adacccf0'],
    ['88bca90e90875a', 64, '0000000000000000', '6ccf4308974c267f'],
    ['88bca90e90875a7f0f79c384627bafb2', 64, '0000000000000000', '1a807d272bbe5db1'],
    ['88bca90e90875a7f0f79c384627bafb2', 128, '0000000000000000', '2269552ab0f85ca6'],
    [
      '88bca90e90875a7f0f79c384627bafb216f80a6f85920584c42fceb0be255daf1e',
      129,
      '0000000000000000',
      '5b78d3a43dfff1f1',
    ],
  ] as const)('key %s, %i bits', (key, bits, plain, cipher) => {
    const out = rc2DecryptBlock(Buffer.from(key, 'hex'), bits, Buffer.from(cipher, 'hex'));
    expect(out.toString('hex')).toBe(plain);
  });

  it('decrypts what OpenSSL encrypts with rc2-40-cbc', (context) => {
    const key = randomBytes(5);
    const iv = randomBytes(8);
    const plain = randomBytes(1000);
    let cipher: Buffer;
    try {
      cipher = execFileSync(
        'openssl',
        [
          'enc',
          '-rc2-40-cbc',
          '-provider',
          'legacy',
          '-provider',
          'default',
          '-K',
          key.toString('hex'),
          '-iv',
          iv.toString('hex'),
        ],
        { input: plain, stdio: ['pipe', 'pipe', 'pipe'] },
      );
    } catch {
      return context.skip('openssl with the legacy provider is not available here');
    }
    expect(rc2CbcDecrypt(key, 40, iv, cipher).equals(plain)).toBe(true);
  });

  it('rejects wrong padding, i.e. a wrong key', () => {
    const data = Buffer.alloc(16, 0x41);
    expect(() => rc2CbcDecrypt(randomBytes(5), 40, randomBytes(8), data)).toThrow();
  });
});

describe('PKCS#12 KDF', () => {
  it.each(['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'])(
    'gives the MAC key pkijs derives (%s)',
    async (hashName) => {
      const salt = randomBytes(20);
      const content = randomBytes(100);
      for (const password of ['', 'pässwörd']) {
        const expected = Buffer.from(
          await getCrypto(true).stampDataWithPassword({
            password: new TextEncoder().encode(password).buffer,
            hashAlgorithm: hashName,
            salt: salt.buffer.slice(salt.byteOffset, salt.byteOffset + salt.length),
            iterationCount: 2048,
            contentToStamp: content.buffer.slice(
              content.byteOffset,
              content.byteOffset + content.length,
            ),
          }),
        );
        const hash = hashName.replace('-', '').toLowerCase();
        const key = pkcs12Kdf(hash, bmpPassword(password), salt, 2048, 3, expected.length);
        expect(createHmac(hash, key).update(content).digest().equals(expected)).toBe(true);
      }
    },
  );
});

describe('PEM', () => {
  it('finds blocks among other text, with CRLF and headers', () => {
    const der = randomBytes(200);
    const text =
      'friendlyName: x\r\n' +
      toPem('CERTIFICATE', der).replaceAll('\n', '\r\n') +
      '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n';
    const blocks = parsePemBlocks(text);
    expect(blocks.map((b) => b.type)).toEqual(['CERTIFICATE', 'RSA PRIVATE KEY']);
    expect(blocks[0]?.der.equals(der)).toBe(true);
    expect(blocks[1]?.headers.get('Proc-Type')).toBe('4,ENCRYPTED');
  });

  it('rejects a block whose body is not base64, without quoting it', () => {
    expect(() =>
      parsePemBlocks('-----BEGIN CERTIFICATE-----\nsecret!!\n-----END CERTIFICATE-----'),
    ).toThrow(/^PEM block "CERTIFICATE" does not contain valid base64$/);
  });
});
