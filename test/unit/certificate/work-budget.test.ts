// A tenant's certificate cannot cost kvsync more than one certificate's worth of work: many bags,
// high iteration counts or text built to make a regular expression backtrack are refused with a
// CertificateError that says what to do, and files as real tools write them still convert.
import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateError, type BackingSecret } from '../../../src/keyvault/certificate/index.ts';
import { certificateToTls } from '../../../src/keyvault/certificate/certificate-to-tls.ts';
import { makeChain, toPfxBase64, type TestChain } from '../../support/certs.ts';

let chain: TestChain;

beforeAll(async () => {
  chain = await makeChain({ keyType: 'ec-p256', length: 2 });
}, 60_000);

function failure(backing: BackingSecret): CertificateError {
  try {
    certificateToTls(backing);
  } catch (error) {
    if (error instanceof CertificateError) return error;
    throw error;
  }
  throw new Error('expected a CertificateError');
}

describe('the work budget of one certificate', () => {
  it('refuses a PFX whose bags add up to more key derivation than one certificate may cost', async () => {
    const value = await toPfxBase64(chain, { iterations: 600_000, keyCopies: 40 });
    const error = failure({ value, contentType: 'application/x-pkcs12' });
    expect(error.code).toBe('TooMuchWork');
    expect(error.message).toMatch(/more key-derivation work than kvsync spends on one certificate/);
    expect(error.message).toContain('over 4,000,000 PBKDF2 iterations in all');
    expect(error.message).toContain('import the certificate again');
  });

  it('refuses a PFX with more bags than a certificate, its chain and key need', async () => {
    const value = await toPfxBase64(chain, { keyCopies: 100 });
    const error = failure({ value });
    expect(error.code).toBe('TooMuchWork');
    expect(error.message).toMatch(/more than 64 items/);
  });

  it('refuses a PEM with more blocks than a certificate needs', () => {
    const block = chain.leaf.pem;
    const error = failure({ value: block.repeat(70) });
    expect(error.code).toBe('TooMuchWork');
  });

  it('still converts a PFX at the highest iteration count kvsync accepts per bag', async () => {
    const value = await toPfxBase64(chain, { iterations: 600_000 });
    const tls = certificateToTls({ value });
    expect(tls.privateKeyPem).toContain('-----BEGIN PRIVATE KEY-----');
  });
});

describe('text built to make a regular expression backtrack', () => {
  it('"M", 25,000 spaces and "!" is neither PEM nor base64', () => {
    const error = failure({
      value: `M${' '.repeat(25_000)}!`,
      contentType: 'application/x-pkcs12',
    });
    expect(error.code).toBe('Malformed');
    expect(error.message).toMatch(/neither PEM nor base64 PKCS#12/);
  });

  it('a PEM header of 25,000 spaces before a line separator is read as a header', () => {
    const value =
      `-----BEGIN PRIVATE KEY-----\nProc-Type:${' '.repeat(25_000)}4,ENCRYPTED\u2028x\n` +
      'AAAA\n-----END PRIVATE KEY-----\n';
    expect(failure({ value }).code).toBe('PasswordProtected');
  });
});
