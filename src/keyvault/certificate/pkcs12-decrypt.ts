// Password-based decryption of PKCS#12 contents, synchronously with node:crypto: PBES2 (PBKDF2
// with AES or 3DES, what OpenSSL 3 and current Windows write) and the legacy PKCS#12 PBE
// schemes (3DES and RC2, what older Windows, Key Vault imports of such files and
// `openssl pkcs12 -legacy` write).
import { createDecipheriv, pbkdf2Sync } from 'node:crypto';
import * as asn1js from 'asn1js';
import type { AlgorithmIdentifier } from 'pkijs';
import { PBES2Params, PBKDF2Params } from 'pkijs';
import { PBES2_CIPHERS, PBKDF2_PRFS, PKCS12_PBE, OID } from './pkcs12-oids.ts';
import { pkcs12Kdf } from './pkcs12-kdf.ts';
import { rc2CbcDecrypt } from './rc2.ts';
import type { WorkBudget } from './work-budget.ts';

// A file from a vault is untrusted input, so iteration counts are capped: real files use 2,000
// (Windows), 2,048 (OpenSSL) or 10,000 (Java). The caps bound one derivation to roughly 0.3 s
// (PBKDF2 is native, the PKCS#12 KDF a JavaScript loop); the WorkBudget bounds the whole file.
export const MAX_PBKDF2_ITERATIONS = 600_000;
export const MAX_PKCS12_KDF_ITERATIONS = 100_000;

/** The same password in the two encodings PKCS#12 uses. */
export interface Password {
  /** UTF-16BE with terminator, for the PKCS#12 KDF (MAC and legacy PBE). */
  readonly bmp: Uint8Array;
  /** UTF-8, for PBKDF2 (PBES2). */
  readonly utf8: Uint8Array;
}

/** Thrown for algorithms kvsync cannot decrypt; a wrong password is a plain Error. */
export class UnsupportedAlgorithmError extends Error {
  override readonly name = 'UnsupportedAlgorithmError';
}

export function checkIterations(iterations: number, max: number): void {
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > max) {
    // asn1js reads integers of 4 bytes and more as 0 ("hex only"): refused here as well.
    const count = iterations === 0 ? '0 (or too large to read)' : String(iterations);
    throw new UnsupportedAlgorithmError(`iteration count ${count} is outside 1..${max}`);
  }
}

/** Output bytes of each PBKDF2 pseudo-random function: a derivation costs one run per block. */
const HASH_BYTES: Readonly<Record<string, number>> = {
  sha1: 20,
  sha224: 28,
  sha256: 32,
  sha384: 48,
  sha512: 64,
};

function octets(value: unknown): Buffer {
  if (!(value instanceof asn1js.OctetString)) throw new Error('expected an OCTET STRING');
  return Buffer.from(value.getValue());
}

function decryptPkcs12Pbe(
  scheme: { cipher: 'des-ede3-cbc' | 'des-ede-cbc' | 'rc2'; keyLength: number },
  params: unknown,
  data: Uint8Array,
  password: Password,
  budget: WorkBudget,
): Buffer {
  // pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER }
  if (!(params instanceof asn1js.Sequence)) throw new Error('bad PKCS#12 PBE parameters');
  const [salt, count] = params.valueBlock.value;
  if (!(count instanceof asn1js.Integer)) throw new Error('bad PKCS#12 PBE parameters');
  const iterations = count.valueBlock.valueDec;
  checkIterations(iterations, MAX_PKCS12_KDF_ITERATIONS);
  const saltBytes = octets(salt);
  // Key and IV: SHA-1 gives 20 bytes per block.
  budget.derive('pkcs12', iterations, Math.ceil(scheme.keyLength / 20) + 1);
  const key = pkcs12Kdf('sha1', password.bmp, saltBytes, iterations, 1, scheme.keyLength);
  const iv = pkcs12Kdf('sha1', password.bmp, saltBytes, iterations, 2, 8);
  if (scheme.cipher === 'rc2') return rc2CbcDecrypt(key, scheme.keyLength * 8, iv, data);
  const decipher = createDecipheriv(scheme.cipher, key, iv);
  return Buffer.concat([decipher.update(data), decipher.final()]);
}

function decryptPbes2(
  params: unknown,
  data: Uint8Array,
  password: Password,
  budget: WorkBudget,
): Buffer {
  if (!(params instanceof asn1js.Sequence)) throw new Error('bad PBES2 parameters');
  const pbes2 = new PBES2Params({ schema: params });
  if (pbes2.keyDerivationFunc.algorithmId !== OID.pbkdf2) {
    throw new UnsupportedAlgorithmError(
      `key derivation ${pbes2.keyDerivationFunc.algorithmId} is not supported`,
    );
  }
  const kdf = new PBKDF2Params({ schema: pbes2.keyDerivationFunc.algorithmParams });
  const cipher = PBES2_CIPHERS[pbes2.encryptionScheme.algorithmId];
  if (!cipher) {
    throw new UnsupportedAlgorithmError(
      `cipher ${pbes2.encryptionScheme.algorithmId} is not supported`,
    );
  }
  const prf = kdf.prf ? PBKDF2_PRFS[kdf.prf.algorithmId] : 'sha1';
  if (!prf)
    throw new UnsupportedAlgorithmError(`PBKDF2 PRF ${kdf.prf?.algorithmId} is not supported`);
  checkIterations(kdf.iterationCount, MAX_PBKDF2_ITERATIONS);
  const salt = octets(kdf.salt);
  const iv = octets(pbes2.encryptionScheme.algorithmParams);
  budget.derive(
    'pbkdf2',
    kdf.iterationCount,
    Math.ceil(cipher.keyLength / (HASH_BYTES[prf] ?? 20)),
  );
  const key = pbkdf2Sync(password.utf8, salt, kdf.iterationCount, cipher.keyLength, prf);
  const decipher = createDecipheriv(cipher.cipher, key, iv);
  return Buffer.concat([decipher.update(data), decipher.final()]);
}

/** Decrypts `data` as described by `algorithm`. A wrong password throws (bad padding). */
export function decryptWithPassword(
  algorithm: AlgorithmIdentifier,
  data: Uint8Array,
  password: Password,
  budget: WorkBudget,
): Buffer {
  if (algorithm.algorithmId === OID.pbes2) {
    return decryptPbes2(algorithm.algorithmParams, data, password, budget);
  }
  const legacy = PKCS12_PBE[algorithm.algorithmId];
  if (legacy) return decryptPkcs12Pbe(legacy, algorithm.algorithmParams, data, password, budget);
  throw new UnsupportedAlgorithmError(`encryption ${algorithm.algorithmId} is not supported`);
}
