import { createPublicKey, X509Certificate } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { randomSerial } from '../../src/pki/certificates.js';
import { buildCertificate, rsaKeyPair } from '../../src/pki/forge.js';
import type { RunningTessera } from './tessera.js';

/** A client certificate and its private key, PEM. */
export interface Identity {
  cert: string;
  key: string;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface TlsRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as `application/x-www-form-urlencoded`. */
  form?: Record<string, string>;
  /** Presented in the TLS handshake (https only). */
  identity?: Identity;
  /** Trust anchor for the server certificate (https only). */
  ca?: string;
  /** Source address of the connection (any of 127/8 works on Linux). */
  localAddress?: string;
}

/**
 * One request over a fresh connection (no agent, so no TLS session is shared between
 * identities), returning status, headers and the parsed JSON body.
 */
export function send(url: string, options: TlsRequestOptions = {}): Promise<RawResponse> {
  const target = new URL(url);
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
  const headers: Record<string, string> = { ...options.headers };
  if (body !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  const common = {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    agent: false as const,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  };
  return new Promise((resolve, reject) => {
    const onResponse = (res: import('node:http').IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: Record<string, unknown> = {};
        if (text) {
          try {
            parsed = JSON.parse(text) as Record<string, unknown>;
          } catch {
            parsed = { text };
          }
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
      });
      res.on('error', reject);
    };
    const req =
      target.protocol === 'https:'
        ? httpsRequest(
            target,
            {
              ...common,
              ...(options.ca ? { ca: options.ca } : {}),
              ...(options.identity ? { cert: options.identity.cert, key: options.identity.key } : {}),
            },
            onResponse,
          )
        : httpRequest(target, common, onResponse);
    req.on('error', reject);
    req.end(body);
  });
}

/** The trust anchor for a test server's mTLS listener: its generated certificate. */
export function serverCa(tessera: RunningTessera): string {
  return String(tessera.container.mtlsServerOptions!.cert);
}

/** A `client_credentials` token request to the mTLS listener, authenticating by certificate. */
export function mtlsToken(
  tessera: RunningTessera,
  clientId: string,
  identity: Identity | undefined,
  extra: Record<string, string> = {},
): Promise<RawResponse> {
  return send(`${tessera.mtlsUrl}/oauth/token`, {
    form: { grant_type: 'client_credentials', client_id: clientId, ...extra },
    ca: serverCa(tessera),
    ...(identity ? { identity } : {}),
  });
}

/** A self-signed certificate (not from any CA Tessera knows), valid now unless told otherwise. */
export async function selfSignedIdentity(
  commonName: string,
  validity: { notBefore: Date; notAfter: Date } = {
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
  },
): Promise<Identity> {
  const { publicKey, privateKey, privateKeyPem } = await rsaKeyPair(2048);
  const cert = buildCertificate({
    subject: [{ name: 'commonName', value: commonName }],
    publicKey,
    signingKey: privateKey,
    serial: randomSerial(),
    ...validity,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
  return { cert, key: privateKeyPem };
}

/** The public JWK of a certificate with its `x5c`, as a self-signed client registers it. */
export function jwkWithX5c(identity: Identity): Record<string, unknown> {
  const cert = new X509Certificate(identity.cert);
  return {
    ...createPublicKey(identity.cert).export({ format: 'jwk' }),
    x5c: [cert.raw.toString('base64')],
  };
}

/** The certificate/key pair of an issuance response (`certificate_pem`, `private_key_pem`). */
export function identityOf(issued: Record<string, unknown>): Identity {
  return { cert: String(issued.certificate_pem), key: String(issued.private_key_pem) };
}
