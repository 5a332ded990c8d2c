// Reads a PFX/PKCS#12 file (RFC 7292) with an empty password, the way Key Vault stores a
// certificate's backing secret. pkijs (with asn1js) parses the structures; the cryptography is
// node:crypto, synchronously, because pkijs's own decryption is WebCrypto-only (PBES2 with AES)
// and cannot read the 3DES/RC2 files Windows and older tooling produce.
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as asn1js from 'asn1js';
import type { ContentInfo } from 'pkijs';
import {
  AuthenticatedSafe,
  CertBag,
  EncryptedData,
  PFX,
  PKCS8ShroudedKeyBag,
  PrivateKeyInfo,
  SafeContents,
  type SafeBag,
} from 'pkijs';
import { CertificateError } from './errors.ts';
import {
  checkIterations,
  decryptWithPassword,
  MAX_PKCS12_KDF_ITERATIONS,
  UnsupportedAlgorithmError,
  type Password,
} from './pkcs12-decrypt.ts';
import { pkcs12Kdf } from './pkcs12-kdf.ts';
import { DIGESTS, OID } from './pkcs12-oids.ts';
import type { WorkBudget } from './work-budget.ts';

export interface Pkcs12Contents {
  /** DER certificates in file order. */
  readonly certificates: Buffer[];
  /** PKCS#8 DER private keys in file order. */
  readonly privateKeys: Buffer[];
}

// PKCS#12 encodes an empty password as a lone terminator; Windows and some libraries leave the
// terminator out. OpenSSL tries both, and so do we.
const EMPTY_PASSWORDS: readonly Password[] = [
  { bmp: new Uint8Array(2), utf8: new Uint8Array(0) },
  { bmp: new Uint8Array(0), utf8: new Uint8Array(0) },
];

const PASSWORD_HINT =
  'Key Vault stores certificates with an empty password: import the PFX again without a ' +
  'password (e.g. re-export it with `openssl pkcs12 -export -passout pass:`)';

function malformed(what: string): CertificateError {
  return new CertificateError(
    'Malformed',
    `the certificate's PFX ${what}; import the certificate again as PFX or PEM`,
  );
}

// asn1js also parses every OCTET STRING's content in case it is DER, so each level of a PFX would
// be parsed again inside the level above: three trees of the same bytes, 2-3 MiB of heap each
// for a 25 KB file. Each level is parsed once, when it is read.
const SHALLOW: asn1js.FromBerOptions = { parseEmbedded: false };

function parseDer(bytes: Uint8Array, what: string): asn1js.AsnType {
  const parsed = asn1js.fromBER(bytes, SHALLOW);
  if (parsed.offset === -1) throw malformed(`${what} is incomplete or damaged (not valid DER)`);
  return parsed.result;
}

function octets(value: unknown, what: string): Buffer {
  if (!(value instanceof asn1js.OctetString)) throw malformed(`${what} is not an OCTET STRING`);
  return Buffer.from(value.getValue());
}

function macMatches(pfx: PFX, content: Buffer, password: Password, budget: WorkBudget): boolean {
  const macData = pfx.macData;
  if (!macData) return true;
  const algorithm = macData.mac.digestAlgorithm.algorithmId;
  const hash = DIGESTS[algorithm];
  if (!hash) {
    const name = algorithm === OID.pbmac1 ? 'PBMAC1' : algorithm;
    throw malformed(`uses an integrity algorithm kvsync does not support (${name})`);
  }
  const iterations = macData.iterations ?? 1;
  checkIterations(iterations, MAX_PKCS12_KDF_ITERATIONS);
  const expected = Buffer.from(macData.mac.digest.getValue());
  const salt = Buffer.from(macData.macSalt.getValue());
  const size = createHmac(hash, '').digest().length;
  budget.derive('pkcs12', iterations, 1);
  const key = pkcs12Kdf(hash, password.bmp, salt, iterations, 3, size);
  const actual = createHmac(hash, key).update(content).digest();
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Decrypts with the first password that yields valid DER, or reports a password problem. */
function decrypt(
  decryptOne: (password: Password) => Buffer,
  passwords: readonly Password[],
): asn1js.AsnType {
  for (const password of passwords) {
    try {
      const plain = decryptOne(password);
      const parsed = asn1js.fromBER(plain, SHALLOW);
      if (parsed.offset !== -1) return parsed.result;
    } catch (error) {
      if (error instanceof CertificateError) throw error;
      if (error instanceof UnsupportedAlgorithmError) {
        throw malformed(`is encrypted in a way kvsync does not support (${error.message})`);
      }
    }
  }
  throw new CertificateError(
    'PasswordProtected',
    `the certificate's PFX cannot be decrypted without a password. ${PASSWORD_HINT}`,
  );
}

function collectBags(
  bags: readonly SafeBag[],
  passwords: readonly Password[],
  out: Pkcs12Contents,
  budget: WorkBudget,
): void {
  for (const bag of bags) {
    budget.item();
    const value: unknown = bag.bagValue;
    if (value instanceof CertBag) {
      if (value.certId !== OID.x509Certificate) continue;
      out.certificates.push(octets(value.certValue, 'certificate bag'));
    } else if (value instanceof PrivateKeyInfo) {
      out.privateKeys.push(Buffer.from(value.toSchema().toBER(false)));
    } else if (value instanceof PKCS8ShroudedKeyBag) {
      const encrypted = octets(value.encryptedData, 'shrouded key bag');
      const keyInfo = decrypt(
        (password) => decryptWithPassword(value.encryptionAlgorithm, encrypted, password, budget),
        passwords,
      );
      out.privateKeys.push(Buffer.from(keyInfo.toBER(false)));
    } else if (value instanceof SafeContents) {
      collectBags(value.safeBags, passwords, out, budget);
    }
    // CRL and secret bags carry nothing a TLS Secret needs.
  }
}

function safeContentsOf(
  info: ContentInfo,
  passwords: readonly Password[],
  budget: WorkBudget,
): SafeContents {
  switch (info.contentType) {
    case OID.data:
      return new SafeContents({ schema: parseDer(octets(info.content, 'content'), 'content') });
    case OID.encryptedData: {
      const encrypted = new EncryptedData({ schema: info.content });
      const eci = encrypted.encryptedContentInfo;
      const data = Buffer.from(eci.getEncryptedContent());
      const schema = decrypt(
        (password) => decryptWithPassword(eci.contentEncryptionAlgorithm, data, password, budget),
        passwords,
      );
      return new SafeContents({ schema });
    }
    case OID.envelopedData:
      throw malformed('is encrypted to a public key (public-key privacy mode)');
    default:
      throw malformed(`has content of unknown type ${info.contentType}`);
  }
}

/** Certificates and keys of a PFX that uses an empty password. Throws CertificateError. */
export function readPkcs12(der: Uint8Array, budget: WorkBudget): Pkcs12Contents {
  let pfx: PFX;
  let authSafe: AuthenticatedSafe;
  let content: Buffer;
  try {
    pfx = new PFX({ schema: parseDer(der, 'file') });
    if (pfx.authSafe.contentType !== OID.data) {
      throw malformed('uses public-key integrity (a signed PFX), which kvsync does not support');
    }
    content = octets(pfx.authSafe.content, 'authSafe');
    authSafe = new AuthenticatedSafe({ schema: parseDer(content, 'authSafe') });
  } catch (error) {
    if (error instanceof CertificateError) throw error;
    throw malformed('is not a valid PKCS#12 file');
  }
  const passwords = macPasswords(pfx, content, budget);
  const out: Pkcs12Contents = { certificates: [], privateKeys: [] };
  try {
    for (const info of authSafe.safeContents) {
      budget.item();
      collectBags(safeContentsOf(info, passwords, budget).safeBags, passwords, out, budget);
    }
  } catch (error) {
    if (error instanceof CertificateError) throw error;
    throw malformed('has damaged contents');
  }
  return out;
}

function macPasswords(pfx: PFX, content: Buffer, budget: WorkBudget): readonly Password[] {
  if (!pfx.macData) return EMPTY_PASSWORDS;
  try {
    const matching = EMPTY_PASSWORDS.filter((password) =>
      macMatches(pfx, content, password, budget),
    );
    if (matching.length > 0) return matching;
  } catch (error) {
    if (error instanceof CertificateError) throw error;
    if (error instanceof UnsupportedAlgorithmError) {
      throw malformed(`has an integrity check kvsync does not support (${error.message})`);
    }
    throw malformed('has a damaged integrity check');
  }
  throw new CertificateError(
    'PasswordProtected',
    `the certificate's PFX is protected by a password. ${PASSWORD_HINT}`,
  );
}
