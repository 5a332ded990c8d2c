// Every way a backing secret can fail, each with a message that says what to fix and never
// repeats the secret, a key or a password.
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { PFX } from 'pkijs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateError,
  type BackingSecret,
  type CertificateErrorCode,
  type TlsOptions,
} from '../../../src/keyvault/certificate/index.ts';
import { certificateToTls } from '../../../src/keyvault/certificate/certificate-to-tls.ts';
import {
  canMakePfx,
  keyPemAs,
  makeChain,
  makeKey,
  toPemBundle,
  toPfx,
  toPfxBase64,
  type TestChain,
  type TestKey,
} from '../../support/certs.ts';

const PASSWORD = 'correct-horse-battery';

let rsa: TestChain;
let ec: TestChain;
let long: TestChain; // root -> intermediate 1 -> intermediate 2 -> leaf
let strangerKey: TestKey;

beforeAll(async () => {
  rsa = await makeChain({ keyType: 'rsa-2048', length: 3 });
  ec = await makeChain({ keyType: 'ec-p256', length: 2 });
  long = await makeChain({ keyType: 'ec-p256', length: 4 });
  strangerKey = await makeKey('ec-p256');
}, 60_000);

function pemKey(key: string | Buffer): string {
  return key.toString();
}

interface FailureCase {
  readonly name: string;
  readonly code: CertificateErrorCode;
  readonly backing: () => Promise<BackingSecret> | BackingSecret;
  readonly options?: TlsOptions;
  /** Words the message must contain: what went wrong and what to do. */
  readonly says: RegExp;
}

const cases: FailureCase[] = [
  {
    name: 'PEM with certificates only (non-exportable key)',
    code: 'NonExportableKey',
    backing: () => ({
      value: toPemBundle(rsa, { key: 'none' }),
      contentType: 'application/x-pem-file',
    }),
    says: /exportable=true.*new version/,
  },
  {
    name: 'PFX without a key bag (non-exportable key)',
    code: 'NonExportableKey',
    backing: async () => ({ value: await toPfxBase64(rsa, { withoutKey: true }) }),
    says: /keyProperties\.exportable=true/,
  },
  {
    name: 'PFX protected by a password (AES)',
    code: 'PasswordProtected',
    backing: async () => ({ value: await toPfxBase64(rsa, { password: PASSWORD }) }),
    says: /password.*without a password/,
  },
  {
    name: 'PEM with an encrypted PKCS#8 key',
    code: 'PasswordProtected',
    backing: () => ({
      value: toPemBundle(rsa, {
        keyPem: pemKey(
          createPrivateKey(rsa.leafKeyPem).export({
            type: 'pkcs8',
            format: 'pem',
            cipher: 'aes-256-cbc',
            passphrase: PASSWORD,
          }),
        ),
      }),
    }),
    says: /encrypted.*unencrypted key/,
  },
  {
    name: 'PEM with a legacy encrypted PKCS#1 key (Proc-Type header)',
    code: 'PasswordProtected',
    backing: () => ({
      value: toPemBundle(rsa, {
        keyPem: pemKey(
          createPrivateKey(rsa.leafKeyPem).export({
            type: 'pkcs1',
            format: 'pem',
            cipher: 'aes-256-cbc',
            passphrase: PASSWORD,
          }),
        ),
      }),
    }),
    says: /encrypted/,
  },
  {
    name: 'a missing intermediate between leaf and root',
    code: 'BrokenChain',
    backing: () => ({ value: toPemBundle(long, { order: [3, 0, 1] }) }), // root, leaf, intermediate 2
    says: /stops at .*intermediate 2.*kvsync test intermediate 1.*complete chain/,
  },
  {
    name: 'the intermediate next to the leaf is missing',
    code: 'BrokenChain',
    backing: async () => ({ value: await toPfxBase64(long, { order: [2, 0, 3] }) }),
    says: /stops at .*kvsync test leaf.*intermediate 2/,
  },
  {
    name: 'keyFormat pkcs1 for an EC key',
    code: 'UnsupportedKeyType',
    backing: () => ({ value: toPemBundle(ec) }),
    options: { keyFormat: 'pkcs1' },
    says: /pkcs1 exists only for RSA.*EC P-256.*use keyFormat pkcs8/,
  },
  {
    name: 'an RSA 1024 key',
    code: 'UnsupportedKeyType',
    backing: () => ({
      value: toPemBundle(rsa, {
        keyPem: generateKeyPairSync('rsa', { modulusLength: 1024 })
          .privateKey.export({ type: 'pkcs8', format: 'pem' })
          .toString(),
      }),
    }),
    says: /RSA 1024.*too short.*2048/,
  },
  {
    name: 'an Ed25519 key',
    code: 'UnsupportedKeyType',
    backing: () => ({
      value: toPemBundle(ec, {
        keyPem: generateKeyPairSync('ed25519')
          .privateKey.export({ type: 'pkcs8', format: 'pem' })
          .toString(),
      }),
    }),
    says: /ed25519.*supports RSA/,
  },
  {
    name: 'a secp256k1 (Key Vault P-256K) key',
    code: 'UnsupportedKeyType',
    backing: () => ({
      value: toPemBundle(ec, {
        keyPem: generateKeyPairSync('ec', { namedCurve: 'secp256k1' })
          .privateKey.export({ type: 'pkcs8', format: 'pem' })
          .toString(),
      }),
    }),
    says: /EC secp256k1/,
  },
  {
    name: 'a key that belongs to no certificate',
    code: 'KeyMismatch',
    backing: () => ({ value: toPemBundle(ec, { keyPem: strangerKey.pkcs8Pem }) }),
    says: /does not belong to any of the 2 certificate/,
  },
  {
    name: 'text that is neither PEM nor base64',
    code: 'Malformed',
    backing: () => ({ value: 'hunter2 is my password', contentType: 'application/x-pkcs12' }),
    says: /content type application\/x-pkcs12.*neither PEM nor base64 PKCS#12/,
  },
  {
    name: 'base64 that is not a PFX',
    code: 'Malformed',
    backing: () => ({ value: Buffer.from('not a pfx at all, just words').toString('base64') }),
    says: /neither PEM nor base64 PKCS#12|not a valid PKCS#12/,
  },
  {
    name: 'a truncated PFX',
    code: 'Malformed',
    backing: async () => {
      const full = await toPfxBase64(rsa);
      return { value: full.slice(0, Math.floor(full.length / 2) & ~3) };
    },
    says: /PFX/,
  },
  ...[500_000, 10_000_000].map((iterations): FailureCase => ({
    // Untrusted input: a huge iteration count would block the operator's event loop.
    name: `a PFX whose MAC claims ${iterations} iterations`,
    code: 'Malformed',
    backing: async () => {
      const pfx = PFX.fromBER(await toPfx(rsa));
      if (pfx.macData) pfx.macData.iterations = iterations;
      return { value: Buffer.from(pfx.toSchema().toBER(false)).toString('base64') };
    },
    says: /integrity check kvsync does not support \(iteration count (500000|0 \(or too large to read\)) is outside 1\.\.100000\)/,
  })),
  {
    name: 'a PEM block with broken base64',
    code: 'Malformed',
    backing: () => ({
      value: `${rsa.leafKeyPem}-----BEGIN CERTIFICATE-----\nMIIB$$$$\n-----END CERTIFICATE-----\n`,
    }),
    says: /invalid base64/,
  },
  {
    name: 'a CERTIFICATE block that is not a certificate',
    code: 'Malformed',
    backing: () => ({
      value: `${rsa.leafKeyPem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`,
    }),
    says: /not a valid X.509 certificate/,
  },
  {
    name: 'a key without any certificate',
    code: 'Malformed',
    backing: () => ({ value: rsa.leafKeyPem }),
    says: /contains no certificate/,
  },
  {
    name: 'two different private keys',
    code: 'Malformed',
    backing: () => ({ value: toPemBundle(ec) + strangerKey.pkcs8Pem }),
    says: /2 different private keys/,
  },
];

/** Long enough not to occur in prose by chance. */
function secretFragments(backing: BackingSecret): string[] {
  const fragments = [PASSWORD, backing.value.slice(0, 40)];
  for (const body of backing.value.matchAll(/-----BEGIN [A-Z ]+-----\r?\n([\s\S]*?)-----END/g)) {
    const text = (body[1] ?? '').replace(/\s+/g, '');
    for (let i = 0; i + 24 <= text.length; i += 24) fragments.push(text.slice(i, i + 24));
  }
  return fragments.filter((f) => f.trim().length > 0);
}

describe.each(cases)('$code: $name', ({ code, backing, options, says }) => {
  it('throws a CertificateError with a message that says what to fix, and no secrets', async () => {
    const input = await backing();
    let thrown: unknown;
    try {
      certificateToTls(input, options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CertificateError);
    const error = thrown as CertificateError;
    expect(error.code).toBe(code);
    expect(error.message).toMatch(says);
    expect(error.cause).toBeUndefined();
    for (const fragment of secretFragments(input)) expect(error.message).not.toContain(fragment);
    expect(error.message).not.toMatch(/-----BEGIN/);
  });
});

describe('legacy and 3DES PFX with a password', () => {
  it.for(['3des', 'legacy'] as const)('%s', async (encryption, context) => {
    if (!(await canMakePfx(encryption))) {
      context.skip(`openssl on this machine cannot write ${encryption} PFX files`);
    }
    const value = await toPfxBase64(rsa, { encryption, password: PASSWORD });
    expect(() => certificateToTls({ value })).toThrow(
      expect.objectContaining({ code: 'PasswordProtected' }) as Error,
    );
  });
});

it('an EC key as SEC1 next to an RSA chain is a mismatch, not a crash', () => {
  const value = toPemBundle(rsa, { keyPem: keyPemAs(strangerKey, 'sec1') });
  expect(() => certificateToTls({ value })).toThrow(
    expect.objectContaining({ code: 'KeyMismatch' }) as Error,
  );
});
