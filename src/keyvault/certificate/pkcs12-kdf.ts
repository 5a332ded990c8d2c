// The PKCS#12 key derivation function (RFC 7292 appendix B.2). Legacy PFX files (3DES/RC2, as
// Windows and `openssl pkcs12 -legacy` write them) and every PKCS#12 MAC use it; pkijs only
// implements it asynchronously, through WebCrypto, which has no 3DES or RC2 to go with it.
import { hash as digest } from 'node:crypto';

export type Pkcs12KdfPurpose = 1 | 2 | 3; // 1 = cipher key, 2 = IV, 3 = MAC key

const HASHES: Readonly<
  Record<string, { readonly name: string; readonly u: number; readonly v: number }>
> = {
  sha1: { name: 'sha1', u: 20, v: 64 },
  sha224: { name: 'sha224', u: 28, v: 64 },
  sha256: { name: 'sha256', u: 32, v: 64 },
  sha384: { name: 'sha384', u: 48, v: 128 },
  sha512: { name: 'sha512', u: 64, v: 128 },
};

/** The password as PKCS#12 wants it: big-endian UTF-16 with a two-byte terminator. */
export function bmpPassword(password: string): Buffer {
  const bytes = Buffer.alloc(password.length * 2 + 2);
  for (let i = 0; i < password.length; i++) bytes.writeUInt16BE(password.charCodeAt(i), i * 2);
  return bytes;
}

function repeatToMultiple(data: Uint8Array, v: number): Buffer {
  if (data.length === 0) return Buffer.alloc(0);
  const out = Buffer.alloc(v * Math.ceil(data.length / v));
  for (let i = 0; i < out.length; i++) out[i] = data[i % data.length] ?? 0;
  return out;
}

export function pkcs12Kdf(
  hash: string,
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  purpose: Pkcs12KdfPurpose,
  length: number,
): Buffer {
  const h = HASHES[hash];
  if (!h) throw new Error(`unsupported PKCS#12 KDF hash ${hash}`);
  const d = Buffer.alloc(h.v, purpose);
  const i = Buffer.concat([repeatToMultiple(salt, h.v), repeatToMultiple(password, h.v)]);
  const out: Buffer[] = [];
  for (let produced = 0; produced < length; produced += h.u) {
    // One-shot hashes: a Hash object per round would leave its native memory to the next GC, some
    // 14 MiB of RSS for the 100,000 rounds a file may ask for.
    let a = digest(h.name, Buffer.concat([d, i]), 'buffer');
    for (let round = 1; round < iterations; round++) a = digest(h.name, a, 'buffer');
    out.push(a);
    // I_j = (I_j + B + 1) mod 2^(8v) for every v-byte block of I, with B = A repeated to v bytes.
    const b = repeatToMultiple(a, h.v);
    for (let offset = 0; offset < i.length; offset += h.v) {
      let carry = 1;
      for (let k = h.v - 1; k >= 0; k--) {
        const sum = (i[offset + k] ?? 0) + (b[k] ?? 0) + carry;
        i[offset + k] = sum & 0xff;
        carry = sum >>> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, length);
}
