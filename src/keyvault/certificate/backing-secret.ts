// A certificate's backing secret is base64 PFX (`application/x-pkcs12`) or PEM text
// (`application/x-pem-file`). The content type is a hint: secrets set by hand often carry a
// wrong or no content type, so the content decides whenever it is unambiguous.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { CertificateError } from './errors.ts';
import { looksLikePem, parsePemBlocks, type PemBlock } from './pem.ts';
import { readPkcs12 } from './pkcs12-read.ts';
import type { WorkBudget } from './work-budget.ts';

export interface BackingSecret {
  readonly value: string;
  readonly contentType?: string | undefined;
}

export interface BackingContents {
  readonly format: 'pem' | 'pfx';
  readonly certificates: readonly X509Certificate[];
  readonly privateKeys: readonly KeyObject[];
  /** The decoded PFX, when that is what the vault holds. */
  readonly pfx: Buffer | undefined;
}

// Whitespace is removed first (linear), so the test itself cannot backtrack: the character
// class and the padding share no character.
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

const PEM_KEY_TYPES: Readonly<Record<string, 'pkcs8' | 'pkcs1' | 'sec1'>> = {
  'PRIVATE KEY': 'pkcs8',
  'RSA PRIVATE KEY': 'pkcs1',
  'EC PRIVATE KEY': 'sec1',
};

function certificateFrom(der: Buffer, where: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch {
    throw new CertificateError(
      'Malformed',
      `a certificate in the ${where} is not a valid X.509 certificate; import the certificate again`,
    );
  }
}

function keyFrom(der: Buffer, type: 'pkcs8' | 'pkcs1' | 'sec1', where: string): KeyObject {
  try {
    return createPrivateKey({ key: der, format: 'der', type });
  } catch {
    throw new CertificateError(
      'Malformed',
      `the private key in the ${where} is damaged or of an unknown kind; import the certificate again`,
    );
  }
}

function passwordProtectedPem(): CertificateError {
  return new CertificateError(
    'PasswordProtected',
    'the private key in the PEM is encrypted with a password; import the certificate again ' +
      'with an unencrypted key (e.g. `openssl pkey -in key.pem -out key-plain.pem`)',
  );
}

function readPem(text: string, budget: WorkBudget): BackingContents {
  let blocks: PemBlock[];
  try {
    blocks = parsePemBlocks(text);
  } catch {
    throw new CertificateError(
      'Malformed',
      'the PEM contains a block with invalid base64; import the certificate again',
    );
  }
  const certificates: X509Certificate[] = [];
  const privateKeys: KeyObject[] = [];
  for (const block of blocks) {
    budget.item();
    if (block.type === 'CERTIFICATE' || block.type === 'X509 CERTIFICATE') {
      certificates.push(certificateFrom(block.der, 'PEM'));
      continue;
    }
    if (block.type === 'ENCRYPTED PRIVATE KEY') throw passwordProtectedPem();
    const keyType = PEM_KEY_TYPES[block.type];
    if (!keyType) continue; // EC PARAMETERS, PUBLIC KEY, ...: nothing a TLS Secret needs
    if (block.headers.get('Proc-Type')?.includes('ENCRYPTED')) throw passwordProtectedPem();
    privateKeys.push(keyFrom(block.der, keyType, 'PEM'));
  }
  return { format: 'pem', certificates, privateKeys, pfx: undefined };
}

function readPfx(der: Buffer, budget: WorkBudget): BackingContents {
  const contents = readPkcs12(der, budget);
  return {
    format: 'pfx',
    certificates: contents.certificates.map((c) => certificateFrom(c, 'PFX')),
    privateKeys: contents.privateKeys.map((k) => keyFrom(k, 'pkcs8', 'PFX')),
    pfx: der,
  };
}

export function readBackingSecret(backing: BackingSecret, budget: WorkBudget): BackingContents {
  const contentType = backing.contentType?.split(';')[0]?.trim().toLowerCase() || '(none)';
  if (looksLikePem(backing.value)) return readPem(backing.value, budget);
  const base64 = backing.value.replace(/\s+/g, '');
  // A DER SEQUENCE in base64 starts with "M" ("MII..." for anything of PFX size).
  if (BASE64.test(base64) && base64.startsWith('M')) {
    return readPfx(Buffer.from(base64, 'base64'), budget);
  }
  throw new CertificateError(
    'Malformed',
    `the certificate's secret (content type ${contentType}) is neither PEM nor base64 PKCS#12; ` +
      'import the certificate again as PFX or PEM',
  );
}
