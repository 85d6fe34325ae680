import { createHash, randomBytes, X509Certificate } from 'node:crypto';

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

/** The subject DN Tessera gives a client's certificate, as `tls_client_auth_subject_dn`. */
export const clientSubjectDn = (clientId: string): string => `CN=${clientId}`;

/** A certificate's subject in one-line RFC 4514-ish form (`CN=a,O=b`), for comparisons. */
export function subjectDn(cert: X509Certificate): string {
  return cert.subject.split('\n').filter(Boolean).join(',');
}
