import { createHash, randomBytes } from 'node:crypto';
import { send } from './tls.js';

export interface Page {
  status: number;
  url: string;
  html: string;
  location: string | null;
}

/** A minimal browser: a cookie jar and manual redirects, so tests can stop at the client's redirect URI. */
export class Browser {
  private readonly cookies = new Map<string, string>();

  /** `stopAt`: a URL prefix (a client's redirect URI) where following redirects stops, even on this server. */
  constructor(
    private readonly base: string,
    private readonly stopAt?: string,
    /** The source address of its connections (any of 127/8), for limits per address. */
    private readonly localAddress?: string,
  ) {}

  /** The `Cookie` header this browser sends to its server. */
  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(setCookies: string[]): void {
    for (const header of setCookies) {
      const [pair = ''] = header.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(header) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private async request(url: string, init: RequestInit = {}): Promise<Page> {
    const absolute = new URL(url, this.base).toString();
    const cookie = this.cookieHeader();
    const headers: Record<string, string> = {
      ...(init.headers as Record<string, string>),
      ...(cookie ? { cookie } : {}),
      accept: 'text/html',
    };
    if (this.localAddress) {
      const form =
        typeof init.body === 'string' ? Object.fromEntries(new URLSearchParams(init.body)) : undefined;
      const { 'content-type': _type, ...rest } = headers;
      const res = await send(absolute, {
        method: init.method ?? 'GET',
        headers: rest,
        localAddress: this.localAddress,
        ...(form ? { form } : {}),
      });
      const setCookie = res.headers['set-cookie'] ?? [];
      this.remember(setCookie);
      const location = res.headers.location;
      return {
        status: res.status,
        url: absolute,
        html: String(res.body.text ?? ''),
        location: location ?? null,
      };
    }
    const response = await fetch(absolute, { ...init, redirect: 'manual', headers });
    this.remember(response.headers.getSetCookie());
    return {
      status: response.status,
      url: absolute,
      html: await response.text(),
      location: response.headers.get('location'),
    };
  }

  /** Follows redirects within this server; stops at the first page, or at a redirect elsewhere. */
  async follow(url: string, init?: RequestInit): Promise<Page> {
    let page = await this.request(url, init);
    for (let hops = 0; page.location && hops < 10; hops += 1) {
      const next = new URL(page.location, page.url);
      if (next.origin !== new URL(this.base).origin) return page;
      if (this.stopAt && next.href.startsWith(this.stopAt)) return page;
      page = await this.request(next.toString());
    }
    return page;
  }

  /** Submits the form whose action ends with `actionSuffix`, with its hidden fields plus `fields`. */
  async submit(page: Page, actionSuffix: string, fields: Record<string, string> = {}): Promise<Page> {
    const forms = [...page.html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
    const form = forms.find((f) => f[1]!.endsWith(actionSuffix));
    if (!form) throw new Error(`no form ending in ${actionSuffix} on ${page.url}:\n${page.html}`);
    const hidden = Object.fromEntries(
      [...form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\s*\/?>/g)].map((m) => [
        m[1]!,
        m[2]!,
      ]),
    );
    return this.follow(form[1]!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...hidden, ...fields }).toString(),
    });
  }
}

/** A PKCE verifier and its S256 challenge. */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** `/oauth/authorize?...` for a code request with PKCE `S256` (a fresh challenge unless given). */
export function authorizePath(request: {
  clientId: string;
  redirectUri: string;
  scope: string;
  challenge?: string;
  state?: string;
  /** More parameters, such as `resource`. */
  extra?: Record<string, string>;
}): string {
  const query = new URLSearchParams({
    client_id: request.clientId,
    response_type: 'code',
    redirect_uri: request.redirectUri,
    scope: request.scope,
    ...(request.state ? { state: request.state } : {}),
    code_challenge: request.challenge ?? pkce().challenge,
    code_challenge_method: 'S256',
    ...request.extra,
  });
  return `/oauth/authorize?${query}`;
}

/**
 * Runs the authorization-code flow through the sign-in and consent forms as a fresh browser,
 * and returns the code with its PKCE verifier.
 */
export async function codeThroughForms(
  baseUrl: string,
  request: {
    clientId: string;
    redirectUri: string;
    scope: string;
    username: string;
    password: string;
    state?: string;
    extra?: Record<string, string>;
  },
): Promise<{ code: string; verifier: string }> {
  const browser = new Browser(baseUrl, request.redirectUri);
  const { verifier, challenge } = pkce();
  const login = await browser.follow(authorizePath({ ...request, challenge }));
  const consent = await browser.submit(login, '/login', {
    username: request.username,
    password: request.password,
  });
  // A first-party client is not asked for consent: signing in already returns the code.
  const back = consent.location?.startsWith(request.redirectUri)
    ? consent
    : await browser.submit(consent, '/confirm');
  return { code: new URL(back.location!).searchParams.get('code')!, verifier };
}
