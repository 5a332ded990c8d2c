// A throwaway certificate authority made at run time, so the Azure SDKs reach the doubles over
// HTTPS with certificate verification on, exactly as they reach Azure. The CA PEM also goes to a
// file because a separate process can only be taught to trust it through NODE_EXTRA_CA_CERTS.
// The openssl CLI does the work: @peculiar/x509 needs a reflect-metadata polyfill we do not ship.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Vault hosts are `<name>.vault.localtest`; the login host stands in for login.microsoftonline.com. */
export const VAULT_DNS_SUFFIX = 'vault.localtest';
export const LOGIN_HOST = 'login.localtest';
const SUBJECT_ALT_NAMES = `DNS:*.${VAULT_DNS_SUFFIX},DNS:${LOGIN_HOST},DNS:localhost,IP:127.0.0.1`;
const VALID_DAYS = '30';
// ECDSA P-256: key generation and handshakes are far cheaper than RSA, and Node trusts it.
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export interface TestPki {
  /** PEM of the test CA: the only thing a client needs to trust. */
  caPem: string;
  /** The same PEM on disk, for NODE_EXTRA_CA_CERTS. */
  caFile: string;
  /** Serving certificate (leaf) and its key, for `https.createServer`. */
  server: { certPem: string; keyPem: string };
}

/** Writes the CA and the serving certificate into `dir` (which must exist). */
export async function createTestPki(dir: string): Promise<TestPki> {
  const file = (name: string) => path.join(dir, name);
  await openssl([
    'req', '-x509', '-new', ...NEW_KEY,
    '-keyout', file('ca.key'), '-out', file('ca.crt'),
    '-subj', '/CN=kvsync test CA', '-days', VALID_DAYS,
    '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]); // prettier-ignore
  await openssl([
    'req', '-x509', '-new', ...NEW_KEY,
    '-CA', file('ca.crt'), '-CAkey', file('ca.key'),
    '-keyout', file('server.key'), '-out', file('server.crt'),
    '-subj', `/CN=${LOGIN_HOST}`, '-days', VALID_DAYS,
    '-addext', `subjectAltName=${SUBJECT_ALT_NAMES}`,
    '-addext', 'basicConstraints=critical,CA:FALSE',
    '-addext', 'keyUsage=critical,digitalSignature',
    '-addext', 'extendedKeyUsage=serverAuth',
  ]); // prettier-ignore
  const [caPem, certPem, keyPem] = await Promise.all(
    ['ca.crt', 'server.crt', 'server.key'].map((name) => readFile(file(name), 'utf8')),
  );
  return { caPem: caPem!, caFile: file('ca.crt'), server: { certPem: certPem!, keyPem: keyPem! } };
}

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim()}`, { cause: err });
  }
}
