import type { IncomingMessage } from 'node:http';
import type { Logger } from '../logger.js';

/** `--origin *`: pages from any site may connect. */
export const ANY_ORIGIN = '*';

/** How many distinct refused origins are logged, so a flood of made-up ones cannot fill the log. */
const MAX_LOGGED_REFUSALS = 100;

/** Whether a host name or address (`::1` with or without brackets) names this machine. */
export const isLoopback = (hostname: string): boolean =>
  hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === '[::1]' || hostname === '::1' || /^127\.\d+\.\d+\.\d+$/.test(hostname);

/** The origin `value` names, e.g. `https://shop.example` for `https://shop.example/`; undefined when it names none. */
export function parseOrigin(value: string): string | undefined {
  const url = URL.parse(value);
  if (url === null) return undefined;
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.pathname === '/' && !url.search && !url.hash ? url.origin : undefined;
}

/**
 * Which web pages may open a socket, judged by the `Origin` header browsers send with it.
 * A page served by this server may always connect, and so may clients that send no `Origin`
 * (they are not browsers, and could send any origin they liked). With no `--origin`, pages
 * from this machine (localhost) may connect too, which covers development servers; any other
 * site must be named with `--origin`, or all of them allowed with `--origin *`.
 *
 * A server that listens on loopback only counts a page as its own when it came by a loopback
 * name: otherwise a site that rebinds its name to 127.0.0.1 would pass for this server.
 */
export class OriginPolicy {
  private readonly refusalsLogged = new Set<string>();

  /** `origins`: what `--origin` gave, already checked with {@link parseOrigin} (or `*`). */
  constructor(
    private readonly origins: readonly string[],
    private readonly listensOnLoopback: boolean,
    private readonly logger: Logger,
  ) {}

  /** The policy in a sentence, for the start-up log. */
  describe(): string {
    if (this.origins.includes(ANY_ORIGIN)) return `origins: pages from any site may connect (--origin '*')`;
    if (this.origins.length === 0) {
      return `origins: pages from this server and from localhost may connect (the default); name each site that embeds the elements with --origin https://site.example, or allow any with --origin '*'`;
    }
    return `origins: pages from this server and from ${this.origins.join(', ')} may connect`;
  }

  allows = (origin: string | undefined, request: IncomingMessage): boolean => {
    if (origin === undefined || this.origins.includes(ANY_ORIGIN)) return true;
    const url = URL.parse(origin);
    const allowed =
      url !== null &&
      url.origin !== 'null' &&
      (this.isSameOrigin(url, request) || this.origins.includes(url.origin) || (this.origins.length === 0 && isLoopback(url.hostname)));
    if (!allowed) this.logRefusal(origin);
    return allowed;
  };

  private isSameOrigin(url: URL, request: IncomingMessage): boolean {
    return url.host === request.headers.host && (!this.listensOnLoopback || isLoopback(url.hostname));
  }

  private logRefusal(origin: string): void {
    if (this.refusalsLogged.has(origin) || this.refusalsLogged.size >= MAX_LOGGED_REFUSALS) return;
    this.refusalsLogged.add(origin);
    this.logger.warn(`refused a socket from ${origin}: not an allowed origin (to allow it: --origin ${origin})`);
  }
}
