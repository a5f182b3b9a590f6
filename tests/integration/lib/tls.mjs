// Test certificates made with the openssl CLI: a throwaway CA and a leaf for 127.0.0.1/localhost
// signed by it, so clients verify with the CA (curl --cacert, NODE_EXTRA_CA_CERTS).
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ossl = (args) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OPENSSL_CONF: '/dev/null' } });

// A CA in `dir` (ca.pem, ca.key); returns the paths.
export function makeCa(dir, cn = 'isvc test CA') {
  mkdirSync(dir, { recursive: true });
  const ca = { cert: path.join(dir, 'ca.pem'), key: path.join(dir, 'ca.key') };
  ossl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', ca.key, '-out', ca.cert, '-days', '2', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return ca;
}

// A leaf certificate `name`.pem/.key in `dir` signed by `ca` (key type: 'ec' or 'rsa').
// `chain` appends the CA to the certificate file (a PEM chain, as operators deploy them).
export function makeLeaf(dir, ca, name = 'leaf', { type = 'ec', chain = false } = {}) {
  const leaf = { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  writeFileSync(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  const keyArgs = type === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  ossl(['req', '-new', ...keyArgs, '-nodes', '-keyout', leaf.key, '-out', csr, '-subj', '/CN=localhost']);
  ossl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial',
    '-out', leaf.cert, '-days', '2', '-extfile', ext]);
  if (chain) writeFileSync(leaf.cert, readFileSync(leaf.cert, 'utf8') + readFileSync(ca.cert, 'utf8'));
  return leaf;
}

// SHA-256 fingerprint of the first certificate in a PEM file, as Node prints it (AA:BB:...).
export function fingerprint(pemFile) {
  return new X509Certificate(readFileSync(pemFile)).fingerprint256;
}

export const sha256 = (b) => createHash('sha256').update(b).digest('hex');
