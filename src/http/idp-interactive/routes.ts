import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Random } from '../../core/ids.ts';
import type { Logger } from '../../core/logger.ts';
import { entraTimestamp } from '../../idp/errors/entra-error.ts';
import { startAuthorization } from '../../idp/endpoints/authorize.ts';
import { submitAccountChoice, submitConsent, submitSignIn } from '../../idp/endpoints/authorize-forms.ts';
import type { BrowserContext, InteractiveDeps } from '../../idp/endpoints/authorize-deps.ts';
import type { InteractiveResponse } from '../../idp/endpoints/authorize-response.ts';
import { errorPage } from '../../idp/pages/error.ts';
import { FORM_POST_SCRIPT } from '../../idp/pages/form-post.ts';
import { pageHeaders } from '../../idp/pages/layout.ts';
import type { RouteModule } from '../server.ts';
import { showAccount, submitAccountSignIn } from '../../idp/endpoints/account.ts';
import { startAdminConsent } from '../../idp/endpoints/admin-consent.ts';
import { deviceAuthorization } from '../../idp/endpoints/device-authorization.ts';
import {
  DEVICE_LOGIN_PATH,
  showDeviceCodeEntry,
  submitDeviceCode,
} from '../../idp/endpoints/device-verification.ts';
import { logout } from '../../idp/endpoints/logout.ts';
import { bearerOf, userInfo } from '../../idp/endpoints/userinfo.ts';
import type { UserInfoDeps } from '../../idp/endpoints/userinfo.ts';
import { browserContext, send } from './render.ts';

/** Extra interactive endpoints (admin consent, logout, device code, userinfo) plug in here. */
export type InteractiveRoute = (
  app: FastifyInstance,
  handle: (
    step: (browser: BrowserContext, request: FastifyRequest) => Promise<InteractiveResponse>,
  ) => (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>,
) => void;

/**
 * The Fastify binding of the interactive identity provider: /authorize (v1 and v2), the sign-in,
 * account-picker and consent form posts, admin consent, logout, the account page, the device code
 * endpoint and its verification page, userinfo, and the form_post script. Form bodies are parsed here with
 * URLSearchParams (only this plugin's routes see the parser).
 */
export function idpInteractiveRoutes(
  deps: InteractiveDeps & { logger: Logger; random: Random; userInfo?: UserInfoDeps },
  extra: readonly InteractiveRoute[] = [],
): RouteModule {
  return async (app) => {
    await app.register(async (scope) => {
      scope.addContentTypeParser(
        'application/x-www-form-urlencoded',
        { parseAs: 'string', bodyLimit: 64 * 1024 },
        (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
      );
      // A framework fault (bad body, wrong content type) is still a page with a correlation id.
      scope.setErrorHandler((error, request, reply) => {
        const status = (error as { statusCode?: number }).statusCode;
        const correlationId = deps.random.uuid();
        if (status === undefined || status >= 500)
          deps.logger.error('interactive endpoint failed', {
            url: request.url.split('?')[0],
            correlationId,
            error,
          });
        const page = errorPage({
          code: 90100,
          message:
            status !== undefined && status < 500
              ? 'The request could not be read. Go back to the application and start again.'
              : 'An internal error occurred. The details are in the server log.',
          correlationId,
          timestamp: entraTimestamp(deps.clock.now()),
          status: status !== undefined && status < 500 ? status : 500,
        });
        return reply.code(page.status).headers(pageHeaders(page)).send(page.html);
      });

      const handle =
        (step: (browser: BrowserContext, request: FastifyRequest) => Promise<InteractiveResponse>) =>
        async (request: FastifyRequest, reply: FastifyReply) =>
          send(reply, await step(browserContext(request, deps.random), request));
      const tenantOf = (request: FastifyRequest) => (request.params as { tenant: string }).tenant;

      for (const [path, version] of [
        ['/:tenant/oauth2/v2.0/authorize', 'v2'],
        ['/:tenant/oauth2/authorize', 'v1'],
      ] as const) {
        const handler = handle((browser, request) =>
          startAuthorization(deps, version, tenantOf(request), browser),
        );
        scope.get(path, handler);
        scope.post(path, handler);
      }
      scope.post(
        '/:tenant/login',
        handle((browser, request) => submitSignIn(deps, tenantOf(request), browser)),
      );
      scope.post(
        '/:tenant/login/select',
        handle((browser, request) => submitAccountChoice(deps, tenantOf(request), browser)),
      );
      scope.post(
        '/:tenant/consent',
        handle((browser, request) => submitConsent(deps, tenantOf(request), browser)),
      );
      scope.get('/_behalf/form-post.js', async (_request, reply) =>
        reply
          .headers({
            'content-type': 'text/javascript; charset=utf-8',
            'cache-control': 'public, max-age=3600',
            'x-content-type-options': 'nosniff',
          })
          .send(FORM_POST_SCRIPT),
      );
      for (const [path, version] of [
        ['/:tenant/v2.0/adminconsent', 'v2'],
        ['/:tenant/adminconsent', 'v1'],
      ] as const)
        scope.get(
          path,
          handle((browser, request) => startAdminConsent(deps, version, tenantOf(request), browser)),
        );
      for (const path of ['/:tenant/oauth2/v2.0/logout', '/:tenant/oauth2/logout']) {
        const handler = handle((browser, request) => logout(deps, tenantOf(request), browser));
        scope.get(path, handler);
        scope.post(path, handler);
      }
      scope.get(
        '/:tenant/account',
        handle((browser, request) => showAccount(deps, tenantOf(request), browser)),
      );
      scope.post(
        '/:tenant/account/login',
        handle((browser, request) => submitAccountSignIn(deps, tenantOf(request), browser)),
      );
      scope.get(
        DEVICE_LOGIN_PATH,
        handle(async (browser) => showDeviceCodeEntry(deps, browser)),
      );
      scope.post(
        DEVICE_LOGIN_PATH,
        handle((browser) => submitDeviceCode(deps, browser)),
      );
      for (const [path, endpoint] of [
        ['/:tenant/oauth2/v2.0/devicecode', 2],
        ['/:tenant/oauth2/devicecode', 1],
      ] as const)
        scope.post(path, async (request, reply) => {
          const browser = browserContext(request, deps.random);
          // Without a configured public URL, the address this client reached us at.
          const base = deps.baseUrl() || `https://${request.headers.host ?? 'localhost'}`;
          const answer = await deviceAuthorization(
            deps,
            endpoint,
            tenantOf(request),
            browser.params,
            { traceId: deps.random.uuid(), correlationId: browser.correlationId },
            base,
          );
          return reply.code(answer.status).headers(answer.headers).send(answer.body);
        });
      if (deps.userInfo) {
        const userInfoDeps = deps.userInfo;
        for (const path of ['/oidc/userinfo', '/:tenant/openid/userinfo']) {
          const handler = async (request: FastifyRequest, reply: FastifyReply) => {
            const form = request.method === 'POST' ? browserContext(request, deps.random).params : {};
            const answer = await userInfo(userInfoDeps, bearerOf(request.headers.authorization, form));
            return reply.code(answer.status).headers(answer.headers).send(answer.body);
          };
          scope.get(path, handler);
          scope.post(path, handler);
        }
      }
      for (const route of extra) route(scope, handle);
    });
  };
}
