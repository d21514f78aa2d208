/**
 * The slice of the `oidc-provider` package (which ships no type
 * declarations) that the test authorization server in server.ts uses.
 * Loosely typed on purpose: it only has to keep the child script honest
 * about the names it calls.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  /** The Koa context oidc-provider hands to configuration hooks and grant handlers. */
  export interface KoaContextWithOidc {
    readonly req: IncomingMessage;
    readonly socket: import('node:net').Socket;
    body: unknown;
    status: number;
    readonly oidc: {
      readonly params: Readonly<Record<string, string | undefined>>;
      readonly client: Client;
      readonly provider: Provider;
    };
  }

  /** A registered client. */
  export interface Client {
    readonly clientId: string;
  }

  /** Fields shared by the stored token models. */
  export interface BaseToken {
    jti: string;
    clientId: string;
    accountId?: string | undefined;
    grantId?: string | undefined;
    scope?: string | undefined;
    aud?: string | string[] | undefined;
    exp?: number | undefined;
    iat?: number | undefined;
    extra?: Record<string, unknown> | undefined;
    'x5t#S256'?: string | undefined;
    resourceServer?: ResourceServer | undefined;
    readonly isValid: boolean;
    readonly isExpired: boolean;
    readonly kind: string;
    save(): Promise<string>;
    destroy(): Promise<void>;
    setAudience(aud: string): void;
  }

  /** A token model class (AccessToken, ClientCredentials, Grant). */
  export interface TokenModel<T> {
    new (fields: Record<string, unknown>): T;
    find(value: string, opts?: Record<string, unknown>): Promise<T | undefined>;
  }

  export interface Grant extends BaseToken {
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
  }

  export class ResourceServer {
    constructor(identifier: string, data: Record<string, unknown>);
  }

  export type GrantHandler = (ctx: KoaContextWithOidc, next: () => Promise<void>) => Promise<void>;

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    readonly issuer: string;
    readonly AccessToken: TokenModel<BaseToken>;
    readonly ClientCredentials: TokenModel<BaseToken>;
    readonly Grant: TokenModel<Grant>;
    readonly Client: { find(id: string): Promise<Client | undefined> };
    readonly ResourceServer: typeof ResourceServer;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    registerGrantType(name: string, handler: GrantHandler, params?: readonly string[] | Set<string>): void;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }

  export const errors: {
    readonly InvalidGrant: new (detail: string) => Error;
    readonly InvalidRequest: new (detail: string) => Error;
    readonly InvalidTarget: new (detail?: string) => Error;
    readonly InvalidScope: new (description: string, scope: string) => Error;
  };
}
