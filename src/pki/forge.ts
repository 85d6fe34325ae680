/**
 * Certificate building with node-forge. Loaded only when Tessera generates key material or
 * issues a certificate, so a process that never does keeps it out of memory.
 */
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';

const generateRsaPair = promisify(generateKeyPair);

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

/** Parses a PEM certificate and RSA key for signing. */
export function signerFrom(
  certPem: string,
  keyPem: string,
): { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } {
  return {
    cert: forge.pki.certificateFromPem(certPem),
    key: forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey,
  };
}
