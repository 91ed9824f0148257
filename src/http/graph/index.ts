export { graphApiRoutes, GRAPH_ROUTES } from './plugin.ts';
export type { GraphApiOptions } from './plugin.ts';
export type { GraphCaller, VerifyBearer } from './caller.ts';
export { graphBearerVerifier, graphCallerFromClaims, GRAPH_AUDIENCES } from './verifier.ts';
