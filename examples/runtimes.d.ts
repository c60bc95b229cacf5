/**
 * The few Deno and Bun globals the examples use, declared for `tsc` (which checks `examples/`
 * with Node's types only). Deno and Bun never load this file: they bring their own, complete
 * declarations. Only what the examples call is here.
 */

interface DenoServeOptions {
  readonly hostname: string;
  readonly port: number;
  readonly cert?: string;
  readonly key?: string;
  readonly onListen?: (addr: { readonly hostname: string; readonly port: number }) => void;
}

interface DenoServer {
  /** Stops accepting; resolves once the requests in flight are answered. */
  shutdown(): Promise<void>;
  readonly finished: Promise<void>;
}

declare const Deno: {
  readonly args: readonly string[];
  serve(options: DenoServeOptions, handler: (request: Request, info: { readonly remoteAddr: { readonly hostname: string } }) => Response | Promise<Response>): DenoServer;
  addSignalListener(signal: 'SIGTERM' | 'SIGINT', handler: () => void): void;
  exit(code: number): never;
  readTextFileSync(path: string): string;
  readonly permissions: {
    querySync(descriptor: { readonly name: 'net'; readonly host: string }): { readonly state: 'granted' | 'prompt' | 'denied' };
  };
  readonly errors: {
    readonly NotCapable: new () => Error;
    readonly PermissionDenied: new () => Error;
  };
};

interface BunServer {
  readonly hostname: string;
  readonly port: number;
  /** Stops accepting; resolves once open connections are done (all cut when `closeActive`). */
  stop(closeActive?: boolean): Promise<void>;
  requestIP(request: Request): { readonly address: string; readonly port: number } | null;
}

declare const Bun: {
  readonly argv: readonly string[];
  serve(options: {
    readonly hostname: string;
    readonly port: number;
    readonly fetch: (request: Request, server: BunServer) => Response | Promise<Response>;
    readonly tls?: { readonly cert: string; readonly key: string };
    readonly idleTimeout?: number;
  }): BunServer;
  file(path: string): { text(): Promise<string> };
};
