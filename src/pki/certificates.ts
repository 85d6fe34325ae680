import { createHash, generateKeyPair, randomBytes, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';

const generateRsaPair = promisify(generateKeyPair);

/** The RFC 8705 `x5t#S256` of a certificate: SHA-256 of its DER, base64url. */
export function thumbprint(cert: X509Certificate): string {
  return createHash('sha256').update(cert.raw).digest('base64url');
}

/** A positive 128-bit serial number as lowercase hex, never with a leading zero nibble. */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x10;
  return bytes.toString('hex');
}

/**
 * An RSA key pair made by Node's native generator (off the event loop), in the shapes forge
 * needs to build a certificate and a caller needs to keep the key.
 */
export async function rsaKeyPair(bits = 2048): Promise<{
  publicKey: forge.pki.rsa.PublicKey;
  privateKey: forge.pki.rsa.PrivateKey;
  privateKeyPem: string;
}> {
  const { publicKey, privateKey } = await generateRsaPair('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey,
    privateKey: forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey,
    privateKeyPem: privateKey,
  };
}

export interface CertificateSpec {
  subject: forge.pki.CertificateField[];
  /** The issuing CA's certificate; none for a self-signed one. */
  issuer?: forge.pki.Certificate;
  publicKey: forge.pki.rsa.PublicKey;
  signingKey: forge.pki.rsa.PrivateKey;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  extensions: Record<string, unknown>[];
}

/** Builds and signs (SHA-256 with RSA) an X.509 v3 certificate; returns its PEM. */
export function buildCertificate(spec: CertificateSpec): string {
  const cert = forge.pki.createCertificate();
  cert.serialNumber = spec.serial;
  cert.publicKey = spec.publicKey;
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  cert.setSubject(spec.subject);
  cert.setIssuer(spec.issuer ? spec.issuer.subject.attributes : spec.subject);
  cert.setExtensions([
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: spec.issuer ? keyIdentifier(spec.issuer) : true },
    ...spec.extensions,
  ]);
  cert.sign(spec.signingKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** A CA's key identifier (binary string): from its extension, else computed as forge does. */
function keyIdentifier(ca: forge.pki.Certificate): string {
  const ext = ca.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  return ext?.subjectKeyIdentifier
    ? forge.util.hexToBytes(ext.subjectKeyIdentifier)
    : ca.generateSubjectKeyIdentifier().getBytes();
}

/** The subject DN Tessera gives a client's certificate, as `tls_client_auth_subject_dn`. */
export const clientSubjectDn = (clientId: string): string => `CN=${clientId}`;

/** A certificate's subject in one-line RFC 4514-ish form (`CN=a,O=b`), for comparisons. */
export function subjectDn(cert: X509Certificate): string {
  return cert.subject.split('\n').filter(Boolean).join(',');
}
