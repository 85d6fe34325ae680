import { X509Certificate } from 'node:crypto';
import type { BlockList } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Context } from 'koa';
import { isTrustedProxy } from '../config.js';

/** Where a request's client certificate may come from. */
export interface CertificateSource {
  /** Header set by a TLS-terminating proxy (`TESSERA_MTLS_PROXY_HEADER`), lower case. */
  proxyHeader: string | undefined;
  /** Peers allowed to set that header (`TESSERA_TRUSTED_PROXIES`). */
  trustedProxies: BlockList;
}

const CACHE = Symbol('tessera.clientCertificate');

type WithCache = { [CACHE]?: X509Certificate | null };

/**
 * Reads the certificate a proxy forwarded: URL-encoded PEM (nginx `$ssl_client_escaped_cert`),
 * plain PEM, or the base64 DER body alone. Anything else counts as no certificate.
 */
export function parseForwardedCertificate(value: string): X509Certificate | undefined {
  try {
    const text = value.includes('%') ? decodeURIComponent(value) : value;
    if (text.includes('-----BEGIN CERTIFICATE-----')) return new X509Certificate(text);
    const der = Buffer.from(text.replace(/\s+/g, ''), 'base64');
    return der.length > 0 ? new X509Certificate(der) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The client certificate of this request: the one a trusted proxy forwarded in the configured
 * header, else the one presented in this connection's TLS handshake, else none. The header from
 * any other peer is ignored. The answer is kept on the request, as oidc-provider asks repeatedly.
 */
export function requestCertificate(ctx: Context, source: CertificateSource): X509Certificate | undefined {
  const state = ctx.state as WithCache;
  if (state[CACHE] !== undefined) return state[CACHE] ?? undefined;
  let cert: X509Certificate | undefined;
  const socket = ctx.req.socket as Partial<TLSSocket>;
  const forwarded = source.proxyHeader ? ctx.get(source.proxyHeader) : '';
  if (forwarded && isTrustedProxy(socket.remoteAddress, source.trustedProxies)) {
    cert = parseForwardedCertificate(forwarded);
  } else if (typeof socket.getPeerX509Certificate === 'function') {
    cert = socket.getPeerX509Certificate();
  }
  state[CACHE] = cert ?? null;
  return cert;
}
