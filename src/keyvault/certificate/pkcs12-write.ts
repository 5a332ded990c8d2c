// Writes a PFX with an empty password the way OpenSSL 3 does by default (PBES2: PBKDF2-HMAC-
// SHA256 and AES-256-CBC for the key and the certificates; HMAC-SHA256 integrity), for apps that
// want a keystore when the vault holds PEM. Built from pkijs structures, encrypted with
// node:crypto so it stays synchronous.
import { createCipheriv, createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import {
  AlgorithmIdentifier,
  Attribute,
  AuthenticatedSafe,
  CertBag,
  ContentInfo,
  DigestInfo,
  EncryptedContentInfo,
  EncryptedData,
  MacData,
  PBES2Params,
  PBKDF2Params,
  PFX,
  PKCS8ShroudedKeyBag,
  SafeBag,
  SafeContents,
} from 'pkijs';
import { bmpPassword, pkcs12Kdf } from './pkcs12-kdf.ts';
import { OID } from './pkcs12-oids.ts';

const ITERATIONS = 2048; // OpenSSL 3's default, read by every PKCS#12 consumer

function encrypt(plain: Uint8Array): { algorithm: AlgorithmIdentifier; data: Buffer } {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(Buffer.alloc(0), salt, ITERATIONS, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const data = Buffer.concat([cipher.update(plain), cipher.final()]);
  const params = new PBES2Params({
    keyDerivationFunc: new AlgorithmIdentifier({
      algorithmId: OID.pbkdf2,
      algorithmParams: new PBKDF2Params({
        salt: new asn1js.OctetString({ valueHex: salt }),
        iterationCount: ITERATIONS,
        prf: new AlgorithmIdentifier({
          algorithmId: OID.hmacWithSha256,
          algorithmParams: new asn1js.Null(),
        }),
      }).toSchema(),
    }),
    encryptionScheme: new AlgorithmIdentifier({
      algorithmId: OID.aes256Cbc,
      algorithmParams: new asn1js.OctetString({ valueHex: iv }),
    }),
  });
  return {
    algorithm: new AlgorithmIdentifier({
      algorithmId: OID.pbes2,
      algorithmParams: params.toSchema(),
    }),
    data,
  };
}

function localKeyId(id: Uint8Array): Attribute {
  return new Attribute({
    type: OID.localKeyId,
    values: [new asn1js.OctetString({ valueHex: id })],
  });
}

function der(value: { toSchema(): asn1js.AsnType }): Buffer {
  return Buffer.from(value.toSchema().toBER(false));
}

/**
 * `certificates` leaf first (DER), `privateKey` PKCS#8 DER. The leaf and the key share a
 * localKeyId (the leaf's SHA-1), which Java and .NET use to pair them.
 */
export function writePkcs12(certificates: readonly Uint8Array[], privateKey: Uint8Array): Buffer {
  const [leaf] = certificates;
  if (!leaf) throw new Error('writePkcs12 needs at least the leaf certificate');
  const keyId = createHash('sha1').update(leaf).digest();
  const certBags = certificates.map(
    (certificate, index) =>
      new SafeBag({
        bagId: OID.certBag,
        bagValue: new CertBag({
          certId: OID.x509Certificate,
          certValue: new asn1js.OctetString({ valueHex: certificate }),
        }),
        ...(index === 0 ? { bagAttributes: [localKeyId(keyId)] } : {}),
      }),
  );
  const encryptedCerts = encrypt(der(new SafeContents({ safeBags: certBags })));
  const shrouded = encrypt(privateKey);
  const keyBag = new SafeBag({
    bagId: OID.pkcs8ShroudedKeyBag,
    bagValue: new PKCS8ShroudedKeyBag({
      encryptionAlgorithm: shrouded.algorithm,
      encryptedData: new asn1js.OctetString({ valueHex: shrouded.data }),
    }),
    bagAttributes: [localKeyId(keyId)],
  });
  const authSafe = new AuthenticatedSafe({
    safeContents: [
      new ContentInfo({
        contentType: OID.encryptedData,
        content: new EncryptedData({
          version: 0,
          encryptedContentInfo: new EncryptedContentInfo({
            contentType: OID.data,
            contentEncryptionAlgorithm: encryptedCerts.algorithm,
            encryptedContent: new asn1js.OctetString({ valueHex: encryptedCerts.data }),
          }),
        }).toSchema(),
      }),
      new ContentInfo({
        contentType: OID.data,
        content: new asn1js.OctetString({
          valueHex: der(new SafeContents({ safeBags: [keyBag] })),
        }),
      }),
    ],
  });
  const content = der(authSafe);
  const macSalt = randomBytes(16);
  const macKey = pkcs12Kdf('sha256', bmpPassword(''), macSalt, ITERATIONS, 3, 32);
  const pfx = new PFX({
    version: 3,
    authSafe: new ContentInfo({
      contentType: OID.data,
      content: new asn1js.OctetString({ valueHex: content }),
    }),
    macData: new MacData({
      mac: new DigestInfo({
        digestAlgorithm: new AlgorithmIdentifier({
          algorithmId: OID.sha256,
          algorithmParams: new asn1js.Null(),
        }),
        digest: new asn1js.OctetString({
          valueHex: createHmac('sha256', macKey).update(content).digest(),
        }),
      }),
      macSalt: new asn1js.OctetString({ valueHex: macSalt }),
      iterations: ITERATIONS,
    }),
  });
  return der(pfx);
}
