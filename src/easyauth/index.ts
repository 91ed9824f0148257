/**
 * `behalf/easyauth`: protect any HTTP API with Entra-shaped access tokens, as App Service
 * Authentication does. See docs/easyauth.md.
 */
export { createEasyAuth, applyIdentity } from './easy-auth.ts';
export type { EasyAuth, EasyAuthOptions, Decision, UnauthenticatedAction } from './easy-auth.ts';
export { createTokenValidator } from './validator.ts';
export type { TokenValidator, ValidatorOptions } from './validator.ts';
export { discoveryUrls, AuthorityUnavailableError } from './authority.ts';
export type { TokenVersion } from './authority.ts';
export { BearerError } from './errors.ts';
export type { Principal } from './principal.ts';
export { principalFromClaims, isAppOnlyToken } from './principal.ts';
export type { Requirement } from './requirement.ts';
export { enforce } from './requirement.ts';
export { identityHeaders, clientPrincipal, parseClientPrincipal } from './client-principal.ts';
export type { ClientPrincipal } from './client-principal.ts';
export {
  authenticate,
  expressMiddleware,
  fastifyPreHandler,
  protectFetchHandler,
  principalOf,
} from './adapters.ts';
export type { CorsOptions } from './cors.ts';
export type { TokenStore, SessionTokens } from './token-store.ts';
export { memoryTokenStore } from './token-store.ts';
export { fetchTrusting } from './http-client.ts';
export type { FetchLike } from './http-client.ts';
export { startReverseProxy } from './proxy.ts';
export type { ReverseProxyOptions, ReverseProxy } from './proxy.ts';
