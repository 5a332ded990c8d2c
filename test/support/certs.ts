// Test-time certificates: RSA and EC chains of 1 to 4 (root -> intermediates -> leaf) with
// SKI/AKI, basicConstraints and key usage as a real CA issues them, encoded as PEM bundles and
// PFX files in any order. Shared by the unit tests, the fake Key Vault and integration tests.
//
// Certificates and AES/PBES2 PFX files are built with pkijs on WebCrypto; 3DES, legacy RC2 and
// unencrypted PFX files with the openssl CLI. None of it shares code with
// src/keyvault/certificate (which only borrows pkijs's ASN.1 classes to parse), so the converter
// is tested against independent producers. (@peculiar/x509 needs a Reflect metadata polyfill
// that is not installed, so it is not used.)
import { execFileSync } from 'node:child_process';
import {
  createHash,
  createPrivateKey,
  randomBytes,
  X509Certificate as NodeX509,
  webcrypto,
} from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

type CryptoKeyPair = webcrypto.CryptoKeyPair;
type KeyGenParams = webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams;

export type KeyType = 'rsa-2048' | 'rsa-4096' | 'ec-p256' | 'ec-p384';
export const KEY_TYPES: readonly KeyType[] = ['rsa-2048', 'rsa-4096', 'ec-p256', 'ec-p384'];

export interface TestKey {
  readonly keyType: KeyType;
  readonly keys: CryptoKeyPair;
  /** "PRIVATE KEY" */
  readonly pkcs8Pem: string;
  readonly pkcs8Der: Buffer;
}

export interface TestCert {
  readonly pem: string;
  readonly der: Buffer;
  /** "CN=..." as Node prints it (RDNs comma-separated). */
  readonly subject: string;
  readonly thumbprintSha1Hex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface TestChain {
  readonly keyType: KeyType;
  readonly length: number;
  readonly leaf: TestCert;
  /** Issuing order: the one that signed the leaf first. Empty for length 1 and 2. */
  readonly intermediates: readonly TestCert[];
  /** Self-signed. The leaf itself when length is 1. */
  readonly root: TestCert;
  /** leaf, intermediates..., root (length certificates; one when the leaf is its own root). */
  readonly issuingOrder: readonly TestCert[];
  readonly leafKey: TestKey;
  /** PKCS#8 PEM of the leaf's key. */
  readonly leafKeyPem: string;
}

export interface ChainOptions {
  readonly keyType?: KeyType;
  /** Certificates including the root, 1..4. Default 3 (root, one intermediate, leaf). */
  readonly length?: number;
  /** Default: a pooled key per key type, the same for every chain (see makeKey for a new one). */
  readonly leafKey?: TestKey;
  readonly leafCommonName?: string;
  /** Default: localhost and 127.0.0.1, so a loopback TLS handshake verifies. */
  readonly dnsNames?: readonly string[];
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

const ALGORITHMS: Record<KeyType, KeyGenParams> = {
  'rsa-2048': {
    name: 'RSASSA-PKCS1-v1_5',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  },
  'rsa-4096': {
    name: 'RSASSA-PKCS1-v1_5',
    modulusLength: 4096,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  },
  'ec-p256': { name: 'ECDSA', namedCurve: 'P-256' },
  'ec-p384': { name: 'ECDSA', namedCurve: 'P-384' },
};

/** Signature hash per issuer key type. */
const HASHES: Record<KeyType, string> = {
  'rsa-2048': 'SHA-256',
  'rsa-4096': 'SHA-256',
  'ec-p256': 'SHA-256',
  'ec-p384': 'SHA-384',
};

export function pem(type: string, der: Uint8Array): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}

/** A new key pair (RSA 4096 takes a second or two). */
export async function makeKey(keyType: KeyType): Promise<TestKey> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHMS[keyType], true, ['sign', 'verify']);
  const pkcs8Der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { keyType, keys, pkcs8Der, pkcs8Pem: pem('PRIVATE KEY', pkcs8Der) };
}

// Keys are what is slow to make; certificates are cheap. CA keys and the default leaf key come
// from a per-type pool (names differ per chain, so chains never link to each other).
const pool = new Map<string, Promise<TestKey>>();
function pooledKey(keyType: KeyType, slot: string): Promise<TestKey> {
  const id = `${keyType}/${slot}`;
  let key = pool.get(id);
  if (!key) {
    key = makeKey(keyType);
    pool.set(id, key);
  }
  return key;
}

function toTestCert(der: Buffer): TestCert {
  const node = new NodeX509(der);
  return {
    der,
    pem: pem('CERTIFICATE', der),
    subject: node.subject.split('\n').join(', '),
    thumbprintSha1Hex: createHash('sha1').update(der).digest('hex').toUpperCase(),
    notBefore: node.validFromDate,
    notAfter: node.validToDate,
  };
}

interface Issuer {
  /** [[oid, value], ...] in encoding order, e.g. [['2.5.4.3', 'localhost']] */
  readonly name: readonly (readonly [string, string])[];
  readonly key: TestKey;
}

const CN = '2.5.4.3';

function rdn(name: Issuer['name']): pkijs.RelativeDistinguishedNames {
  return new pkijs.RelativeDistinguishedNames({
    typesAndValues: name.map(
      ([type, value]) =>
        new pkijs.AttributeTypeAndValue({ type, value: new asn1js.Utf8String({ value }) }),
    ),
  });
}

function extension(extnID: string, critical: boolean, value: asn1js.AsnType): pkijs.Extension {
  return new pkijs.Extension({
    extnID,
    critical,
    extnValue: value.toBER(false),
  });
}

/** RFC 5280 method 1: SHA-1 of the subjectPublicKey BIT STRING. */
function keyIdentifier(spki: pkijs.PublicKeyInfo): Buffer {
  return createHash('sha1').update(spki.subjectPublicKey.valueBlock.valueHexView).digest();
}

// KeyUsage bits (RFC 5280 4.2.1.3) as a DER named-bit BIT STRING.
function keyUsage(bits: readonly number[]): asn1js.BitString {
  const byte = bits.reduce((acc, bit) => acc | (0x80 >> bit), 0);
  const unused = Math.min(...bits.map((bit) => 7 - bit));
  return new asn1js.BitString({ valueHex: new Uint8Array([byte]), unusedBits: unused });
}

async function issue(
  subject: Issuer,
  issuer: Issuer | undefined,
  role: { ca: boolean; pathLength?: number; dnsNames?: readonly string[] },
  validity: { notBefore: Date; notAfter: Date },
): Promise<Buffer> {
  const signer = issuer ?? subject;
  const certificate = new pkijs.Certificate();
  certificate.version = 2;
  certificate.serialNumber = new asn1js.Integer({
    valueHex: Buffer.concat([Buffer.from([0x01]), randomBytes(15)]),
  });
  certificate.subject = rdn(subject.name);
  certificate.issuer = rdn(signer.name);
  certificate.notBefore.value = validity.notBefore;
  certificate.notAfter.value = validity.notAfter;
  await certificate.subjectPublicKeyInfo.importKey(subject.key.keys.publicKey);
  const signerSpki = new pkijs.PublicKeyInfo();
  await signerSpki.importKey(signer.key.keys.publicKey);
  const basic = new pkijs.BasicConstraints({
    cA: role.ca,
    ...(role.pathLength === undefined ? {} : { pathLenConstraint: role.pathLength }),
  });
  const extensions = [
    extension('2.5.29.19', true, basic.toSchema()),
    extension(
      '2.5.29.14',
      false,
      new asn1js.OctetString({ valueHex: keyIdentifier(certificate.subjectPublicKeyInfo) }),
    ),
    extension(
      '2.5.29.35',
      false,
      new pkijs.AuthorityKeyIdentifier({
        keyIdentifier: new asn1js.OctetString({ valueHex: keyIdentifier(signerSpki) }),
      }).toSchema(),
    ),
  ];
  if (role.ca) {
    extensions.push(extension('2.5.29.15', true, keyUsage([5, 6]))); // keyCertSign, cRLSign
  } else {
    const rsa = subject.key.keyType.startsWith('rsa');
    // digitalSignature (+ keyEncipherment for RSA key exchange in TLS 1.2)
    extensions.push(extension('2.5.29.15', true, keyUsage(rsa ? [0, 2] : [0])));
    const eku = new pkijs.ExtKeyUsage({ keyPurposes: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'] });
    extensions.push(extension('2.5.29.37', false, eku.toSchema()));
    const names = (role.dnsNames ?? ['localhost']).map(
      (value) => new pkijs.GeneralName({ type: 2, value }),
    );
    if (!role.dnsNames) {
      const loopback = new asn1js.OctetString({ valueHex: new Uint8Array([127, 0, 0, 1]) });
      names.push(new pkijs.GeneralName({ type: 7, value: loopback }));
    }
    extensions.push(
      extension('2.5.29.17', false, new pkijs.AltName({ altNames: names }).toSchema()),
    );
  }
  certificate.extensions = extensions;
  await certificate.sign(signer.key.keys.privateKey, HASHES[signer.key.keyType]);
  return Buffer.from(certificate.toSchema(true).toBER(false));
}

/** A fresh chain (new names and serials every call; keys pooled unless given). */
export async function makeChain(options: ChainOptions = {}): Promise<TestChain> {
  const keyType = options.keyType ?? 'ec-p256';
  const length = options.length ?? 3;
  if (!Number.isInteger(length) || length < 1 || length > 4) throw new Error('length must be 1..4');
  const id = randomBytes(4).toString('hex');
  const validity = {
    notBefore: options.notBefore ?? new Date(Date.now() - 60 * 60 * 1000),
    notAfter: options.notAfter ?? new Date(Date.now() + 90 * 24 * 60 * 60 * 1000),
  };
  const leafKey = options.leafKey ?? (await pooledKey(keyType, 'leaf'));
  // Clients match the SAN (localhost, 127.0.0.1); the CN only has to be unique.
  const leafName = [[CN, options.leafCommonName ?? `kvsync test leaf ${id}`]] as const;
  const leafRole = { ca: false, ...(options.dnsNames ? { dnsNames: options.dnsNames } : {}) };
  if (length === 1) {
    const self = { name: leafName, key: leafKey };
    const leaf = toTestCert(await issue(self, undefined, leafRole, validity));
    return {
      keyType,
      length,
      leaf,
      intermediates: [],
      root: leaf,
      issuingOrder: [leaf],
      leafKey,
      leafKeyPem: leafKey.pkcs8Pem,
    };
  }
  // Root first, then intermediates down to the one that signs the leaf.
  const cas: Issuer[] = [];
  for (let i = 0; i < length - 1; i++) {
    const cn = i === 0 ? `kvsync test root ${id}` : `kvsync test intermediate ${i} ${id}`;
    cas.push({ name: [[CN, cn]], key: await pooledKey(keyType, `ca${i}`) });
  }
  const caCerts: TestCert[] = [];
  for (const [i, ca] of cas.entries()) {
    const role = { ca: true, pathLength: length - 2 - i };
    caCerts.push(toTestCert(await issue(ca, cas[i - 1], role, validity)));
  }
  const leafCert = toTestCert(
    await issue({ name: leafName, key: leafKey }, cas.at(-1), leafRole, validity),
  );
  const [root, ...downward] = caCerts;
  if (!root) throw new Error('unreachable');
  const intermediates = downward.reverse();
  return {
    keyType,
    length,
    leaf: leafCert,
    intermediates,
    root,
    issuingOrder: [leafCert, ...intermediates, root],
    leafKey,
    leafKeyPem: leafKey.pkcs8Pem,
  };
}

/** Which certificates, in which order: indexes into issuingOrder (0 = leaf, last = root). */
export type CertOrder = 'issuing' | 'reverse' | readonly number[];

function selectCerts(
  chain: TestChain,
  order: CertOrder = 'issuing',
  includeRoot = true,
): TestCert[] {
  const all = chain.issuingOrder;
  const indexes =
    order === 'issuing'
      ? all.map((_, i) => i)
      : order === 'reverse'
        ? all.map((_, i) => all.length - 1 - i)
        : order;
  const rootIndex = all.length - 1;
  return indexes
    .filter((i) => includeRoot || i !== rootIndex || all.length === 1)
    .map((i) => {
      const cert = all[i];
      if (!cert) throw new Error(`no certificate ${i} in a chain of ${all.length}`);
      return cert;
    });
}

export interface PemBundleOptions {
  readonly order?: CertOrder;
  /** Default true. */
  readonly includeRoot?: boolean;
  /** Where the private key goes; 'none' for a certificate without its key. Default 'first'
   * (Key Vault's own PEM puts the key first). */
  readonly key?: 'first' | 'last' | 'none';
  /** Key encoding. Default pkcs8. */
  readonly keyPem?: string;
}

export function toPemBundle(chain: TestChain, options: PemBundleOptions = {}): string {
  const certs = selectCerts(chain, options.order, options.includeRoot).map((c) => c.pem);
  const keyPem = options.keyPem ?? chain.leafKeyPem;
  const key = options.key ?? 'first';
  if (key === 'none') return certs.join('');
  return key === 'first' ? keyPem + certs.join('') : certs.join('') + keyPem;
}

/**
 * aes: PBES2 (PBKDF2-SHA256, AES-256-CBC) and a SHA-256 MAC, made by pkijs — OpenSSL 3's default.
 * 3des: pbeWithSHAAnd3-KeyTripleDES-CBC everywhere and a SHA-1 MAC (older Windows), by openssl.
 * legacy: `openssl pkcs12 -legacy` — 40-bit RC2 certificates, 3DES key, SHA-1 MAC.
 * none: unencrypted key bag and certificates, no MAC (`-keypbe NONE -certpbe NONE -nomac`).
 */
export type PfxEncryption = 'aes' | '3des' | 'legacy' | 'none';

export interface PfxOptions {
  readonly encryption?: PfxEncryption;
  /** Default '' (what Key Vault uses). */
  readonly password?: string;
  /** Default true: all certificates; false: the leaf only. */
  readonly withChain?: boolean;
  readonly includeRoot?: boolean;
  /** Bag order for 'aes' (openssl chooses its own order). */
  readonly order?: CertOrder;
  /** Whether the key's SafeContents comes before or after the certificates (aes only). */
  readonly keyPosition?: 'first' | 'last';
  /** Leave the private key out (a non-exportable certificate). */
  readonly withoutKey?: boolean;
  /** Key-derivation iterations of the bags (aes only). Default 2,048, OpenSSL's. */
  readonly iterations?: number;
  /** The shrouded key bag this many times (aes only), as a hostile file would. Default 1. */
  readonly keyCopies?: number;
  /** PBKDF2's HMAC hash (aes only). Default SHA-256; SHA-1 costs more per iteration. */
  readonly prf?: 'SHA-1' | 'SHA-256';
}

export async function toPfx(chain: TestChain, options: PfxOptions = {}): Promise<Buffer> {
  const certs =
    options.withChain === false
      ? [chain.leaf]
      : selectCerts(chain, options.order, options.includeRoot);
  const encryption = options.encryption ?? 'aes';
  const password = options.password ?? '';
  if (encryption === 'aes')
    return pkijsPfx(certs, options.withoutKey ? undefined : chain.leafKey, password, {
      keyPosition: options.keyPosition ?? 'first',
      iterations: options.iterations ?? 2048,
      keyCopies: options.keyCopies ?? 1,
      prf: options.prf ?? 'SHA-256',
    });
  return opensslPfx(certs, options.withoutKey ? undefined : chain.leafKeyPem, password, encryption);
}

/** Key Vault's representation of a PFX backing secret. */
export async function toPfxBase64(chain: TestChain, options: PfxOptions = {}): Promise<string> {
  return (await toPfx(chain, options)).toString('base64');
}

async function pkijsPfx(
  certs: readonly TestCert[],
  key: TestKey | undefined,
  password: string,
  layout: {
    keyPosition: 'first' | 'last';
    iterations: number;
    keyCopies: number;
    prf: 'SHA-1' | 'SHA-256';
  },
): Promise<Buffer> {
  const { keyPosition, iterations, keyCopies, prf } = layout;
  const passwordBytes = new TextEncoder().encode(password).buffer;
  const encryption = {
    password: passwordBytes,
    contentEncryptionAlgorithm: { name: 'AES-CBC', length: 256 },
    hmacHashAlgorithm: prf,
    iterationCount: iterations,
  };
  const certContents = new pkijs.SafeContents({
    safeBags: certs.map(
      (c) =>
        new pkijs.SafeBag({
          bagId: '1.2.840.113549.1.12.10.1.3',
          bagValue: new pkijs.CertBag({ parsedValue: pkijs.Certificate.fromBER(c.der) }),
        }),
    ),
  });
  const contents: { privacyMode: number; value: pkijs.SafeContents }[] = [
    { privacyMode: 1, value: certContents },
  ];
  const parameters: object[] = [encryption];
  if (key) {
    const shrouded = new pkijs.PKCS8ShroudedKeyBag({
      parsedValue: pkijs.PrivateKeyInfo.fromBER(key.pkcs8Der),
    });
    await shrouded.makeInternalValues(encryption);
    // Copies share one encryption (salt and all): made once, each costs a reader a derivation.
    const bag = new pkijs.SafeBag({ bagId: '1.2.840.113549.1.12.10.1.2', bagValue: shrouded });
    const keyContents = new pkijs.SafeContents({
      safeBags: Array.from({ length: keyCopies }, () => bag),
    });
    const entry = { privacyMode: 0, value: keyContents };
    if (keyPosition === 'first') {
      contents.unshift(entry);
      parameters.unshift({});
    } else {
      contents.push(entry);
      parameters.push({});
    }
  }
  const authenticatedSafe = new pkijs.AuthenticatedSafe({
    parsedValue: { safeContents: contents },
  });
  await authenticatedSafe.makeInternalValues({ safeContents: parameters });
  const pfx = new pkijs.PFX({ parsedValue: { integrityMode: 0, authenticatedSafe } });
  await pfx.makeInternalValues({
    password: passwordBytes,
    iterations: 2048,
    pbkdf2HashAlgorithm: 'SHA-256',
    hmacHashAlgorithm: 'SHA-256',
  });
  return Buffer.from(pfx.toSchema().toBER(false));
}

const OPENSSL_ARGS: Record<Exclude<PfxEncryption, 'aes'>, string[]> = {
  '3des': ['-certpbe', 'PBE-SHA1-3DES', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'],
  legacy: ['-legacy'],
  none: ['-certpbe', 'NONE', '-keypbe', 'NONE', '-nomac'],
};

function opensslPfx(
  certs: readonly TestCert[],
  keyPem: string | undefined,
  password: string,
  encryption: Exclude<PfxEncryption, 'aes'>,
): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'kvsync-pfx-'));
  try {
    const [first, ...rest] = certs;
    if (!first) throw new Error('no certificates');
    writeFileSync(join(dir, 'cert.pem'), first.pem);
    writeFileSync(join(dir, 'chain.pem'), rest.map((c) => c.pem).join(''));
    const args = [
      'pkcs12',
      '-export',
      '-in',
      join(dir, 'cert.pem'),
      '-out',
      join(dir, 'out.pfx'),
      '-passout',
      `pass:${password}`,
    ];
    if (rest.length > 0) args.push('-certfile', join(dir, 'chain.pem'));
    if (keyPem) {
      writeFileSync(join(dir, 'key.pem'), keyPem, { mode: 0o600 });
      args.push('-inkey', join(dir, 'key.pem'));
    } else {
      args.push('-nokeys');
    }
    execFileSync('openssl', [...args, ...OPENSSL_ARGS[encryption]], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    return readFileSync(join(dir, 'out.pfx'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const support = new Map<PfxEncryption, boolean>();

/** Whether this machine's openssl can write PFX files with the given encryption ('aes' needs
 * no openssl). Tests skip, and say so, when it cannot. */
export async function canMakePfx(encryption: PfxEncryption): Promise<boolean> {
  if (encryption === 'aes') return true;
  let ok = support.get(encryption);
  if (ok === undefined) {
    try {
      opensslPfx([(await makeChain({ length: 1 })).leaf], undefined, '', encryption);
      ok = true;
    } catch {
      ok = false;
    }
    support.set(encryption, ok);
  }
  return ok;
}

/** A key in another encoding: PKCS#1 ("RSA PRIVATE KEY", RSA only) or SEC1 ("EC PRIVATE KEY"). */
export function keyPemAs(key: TestKey, type: 'pkcs1' | 'sec1'): string {
  return createPrivateKey(key.pkcs8Pem).export({ type, format: 'pem' }).toString();
}

export interface HandshakeResult {
  /** The client verified the server's chain against `trust` and the name "localhost". */
  readonly authorized: boolean;
  readonly error: string | undefined;
  /** SHA-1 thumbprints (upper-case hex) of the chain as the client assembled it, leaf first and
   * ending at the trusted root (Node re-orders what the server sent by issuer). */
  readonly chain: readonly string[];
}

/**
 * A loopback TLS handshake: a server with `server` (PEM key + tls.crt, or a PFX) and a client
 * that trusts only `trustPem` (no system roots). Proves that tls.crt carries a chain a real
 * client accepts.
 */
export async function tlsHandshake(
  server: { key: string; cert: string } | { pfx: Buffer },
  trustPem: string,
): Promise<HandshakeResult> {
  const listener = tls.createServer(server, (socket) => socket.end());
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as AddressInfo;
  try {
    return await new Promise<HandshakeResult>((resolve, reject) => {
      const client = tls.connect({
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        ca: [trustPem],
        rejectUnauthorized: false,
      });
      client.once('secureConnect', () => {
        const chain: string[] = [];
        let peer: tls.DetailedPeerCertificate | undefined = client.getPeerCertificate(true);
        const seen = new Set<string>();
        while (peer?.raw && !seen.has(peer.fingerprint)) {
          seen.add(peer.fingerprint);
          chain.push(peer.fingerprint.replaceAll(':', '').toUpperCase());
          peer = peer.issuerCertificate;
        }
        const error = client.authorizationError;
        resolve({
          authorized: client.authorized,
          error: error === null || error === undefined ? undefined : String(error),
          chain,
        });
        client.destroy();
      });
      client.once('error', reject);
    });
  } finally {
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  }
}
