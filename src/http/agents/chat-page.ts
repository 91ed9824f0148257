import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AgentRepository } from '../../agents/agent-repository.ts';
import type { ChatRuntime } from '../../agents/chat-runtime.ts';
import type { ConversationView } from '../../agents/conversation.ts';
import type { Caller } from '../../agents/ports.ts';
import type { Clock } from '../../core/clock.ts';
import { isWireError } from '../../core/errors.ts';
import type { Random } from '../../core/ids.ts';
import type { Logger } from '../../core/logger.ts';
import type { Envelope } from '../../crypto/envelope.ts';
import type { RouteModule } from '../server.ts';
import { CHAT_CSS, chatPageHtml, messagePageHtml } from './chat-html.ts';
import { FLOW_COOKIE, SESSION_COOKIE, clearCookie, createChatCookies, sameText } from './chat-session.ts';

/**
 * The end-user chat page at /chat. Sign-in is the authorization code flow with PKCE (RFC 7636) for the
 * Behalf Chat app against Behalf's own /authorize, asking for a token for Behalf Connections; the code is
 * redeemed in process with Behalf Chat's own client secret. Everything works with forms alone; the
 * content security policy allows no script at all.
 */
export interface ChatPageOptions {
  readonly agents: AgentRepository;
  readonly chat: ChatRuntime;
  readonly envelope: Envelope;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly publicUrl: () => string;
  /** Behalf Chat's appId and the tenant it is registered in; undefined when it is not registered. */
  readonly chatApp: () => Promise<{ appId: string; tenantId: string } | undefined>;
  readonly scope: () => string;
  /** Redeems an authorization code; resolves to the access token and its lifetime in seconds. */
  readonly redeem: (input: {
    tenantId: string;
    code: string;
    verifier: string;
    redirectUri: string;
  }) => Promise<{ accessToken: string; expiresIn: number }>;
  /** The person behind a token for Behalf Connections; throws a WireError when it is not acceptable. */
  readonly callerFromToken: (token: string) => Promise<Caller>;
}

const CSP =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CSP)
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
}

const html = (reply: FastifyReply, status: number, body: string) =>
  secure(reply).code(status).type('text/html; charset=utf-8').send(body);

type Form = Record<string, string | undefined>;

/** Only local paths under /chat come back from sign-in (no open redirect). */
const localReturn = (path: string | undefined) =>
  path && /^\/chat(?:[/?]|$)/.test(path) && !path.startsWith('//') ? path : '/chat';

export function createChatPage(options: ChatPageOptions): RouteModule {
  const { agents, chat, clock, logger } = options;
  const cookies = createChatCookies(options.envelope, options.random, () => Math.floor(clock.now() / 1000));
  const redirectUri = () => `${options.publicUrl()}/chat/callback`;

  async function signedIn(request: FastifyRequest): Promise<{ caller: Caller; csrf: string } | undefined> {
    const session = cookies.session(request.headers.cookie);
    if (!session) return undefined;
    try {
      return { caller: await options.callerFromToken(session.token), csrf: session.sid };
    } catch (error) {
      if (isWireError(error) && error.status < 500) return undefined;
      throw error;
    }
  }

  return async (app: FastifyInstance) => {
    await app.register(async (scope) => {
      scope.addContentTypeParser(
        'application/x-www-form-urlencoded',
        { parseAs: 'string', bodyLimit: 64 * 1024 },
        (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
      );
      scope.setErrorHandler((error, request, reply) => {
        if (isWireError(error) && error.status < 500) {
          const body = error.body() as { error?: { message?: string } };
          return html(
            reply,
            error.status,
            messagePageHtml('Something is not right', body.error?.message ?? error.message, {
              href: '/chat',
              text: 'Back to the chat',
            }),
          );
        }
        const status = (error as { statusCode?: number }).statusCode;
        if (status !== undefined && status < 500)
          return html(reply, status, messagePageHtml('Bad request', 'The form could not be read.'));
        logger.error('chat page failed', { url: request.url.split('?')[0], error });
        return html(reply, 500, messagePageHtml('Something went wrong', 'Try again in a moment.'));
      });

      scope.get('/chat/chat.css', async (_request, reply) =>
        reply
          .type('text/css; charset=utf-8')
          .header('cache-control', 'public, max-age=3600')
          .header('x-content-type-options', 'nosniff')
          .send(CHAT_CSS),
      );

      scope.get<{ Querystring: { returnTo?: string } }>('/chat/signin', async (request, reply) => {
        const app = await options.chatApp();
        if (!app)
          return html(
            reply,
            503,
            messagePageHtml('Chat is not set up', 'The Behalf Chat app is not registered in this Behalf.'),
          );
        const { flow, challenge, cookie } = cookies.newFlow(localReturn(request.query.returnTo));
        const authorize = new URL(`${options.publicUrl()}/${app.tenantId}/oauth2/v2.0/authorize`);
        authorize.search = new URLSearchParams({
          client_id: app.appId,
          response_type: 'code',
          redirect_uri: redirectUri(),
          scope: options.scope(),
          state: flow.state,
          code_challenge: challenge,
          code_challenge_method: 'S256',
        }).toString();
        return secure(reply).header('set-cookie', cookie).redirect(authorize.toString(), 302);
      });

      scope.get<{ Querystring: Form }>('/chat/callback', async (request, reply) => {
        const flow = cookies.flow(request.headers.cookie);
        const { code, state, error, error_description: description } = request.query;
        if (!flow || !state || !sameText(state, flow.state))
          return html(
            reply,
            400,
            messagePageHtml('Sign-in expired', 'This sign-in did not start here or took too long.', {
              href: '/chat/signin',
              text: 'Sign in again',
            }),
          );
        reply.header('set-cookie', clearCookie(FLOW_COOKIE));
        if (error || !code)
          return html(
            reply,
            400,
            messagePageHtml(
              'Sign-in did not complete',
              (description ?? error ?? 'No code was returned.').split('\r\n')[0]!,
              {
                href: '/chat/signin',
                text: 'Try again',
              },
            ),
          );
        const app = await options.chatApp();
        if (!app)
          return html(reply, 503, messagePageHtml('Chat is not set up', 'Behalf Chat is not registered.'));
        const { accessToken, expiresIn } = await options.redeem({
          tenantId: app.tenantId,
          code,
          verifier: flow.verifier,
          redirectUri: redirectUri(),
        });
        await options.callerFromToken(accessToken);
        const exp = Math.floor(clock.now() / 1000) + expiresIn;
        return secure(reply)
          .header('set-cookie', [clearCookie(FLOW_COOKIE), cookies.newSession(accessToken, exp)])
          .redirect(flow.returnTo, 303);
      });

      scope.get<{ Querystring: { agent?: string; c?: string } }>('/chat', async (request, reply) => {
        const who = await signedIn(request);
        if (!who)
          return secure(reply).redirect(`/chat/signin?returnTo=${encodeURIComponent(request.url)}`, 302);
        const list = await agents.list(who.caller.tenantId);
        let conversation: ConversationView | undefined;
        if (request.query.c) conversation = await chat.get(who.caller, request.query.c);
        const wanted = conversation?.agent ?? request.query.agent;
        const agent = wanted ? list.find((a) => a.name === wanted) : list[0];
        return html(
          reply,
          wanted && !agent ? 404 : 200,
          chatPageHtml({
            user: who.caller.displayName ?? who.caller.userPrincipalName ?? who.caller.userObjectId,
            agent,
            agents: list,
            conversation,
            csrf: who.csrf,
          }),
        );
      });

      const posted = async (request: FastifyRequest, reply: FastifyReply) => {
        const who = await signedIn(request);
        const form = (request.body ?? {}) as Form;
        if (!who) {
          secure(reply).redirect('/chat/signin', 303);
          return undefined;
        }
        if (typeof form.csrf !== 'string' || !sameText(form.csrf, who.csrf)) {
          html(
            reply,
            403,
            messagePageHtml('Form expired', 'Reload the chat and try again.', {
              href: '/chat',
              text: 'Reload',
            }),
          );
          return undefined;
        }
        return { caller: who.caller, form };
      };
      const back = (reply: FastifyReply, view: ConversationView) =>
        secure(reply).redirect(`/chat?c=${encodeURIComponent(view.id)}#latest`, 303);

      scope.post('/chat/send', async (request, reply) => {
        const ok = await posted(request, reply);
        if (!ok) return reply;
        const { caller, form } = ok;
        const text = form.text?.trim() ?? '';
        if (!text || text.length > 20_000 || !form.agent)
          return html(
            reply,
            400,
            messagePageHtml('Nothing to send', 'Type a message first.', { href: '/chat', text: 'Back' }),
          );
        const view = await chat.send(caller, {
          agent: form.agent,
          text,
          ...(form.conversationId ? { conversationId: form.conversationId } : {}),
        });
        return back(reply, view);
      });

      scope.post('/chat/decide', async (request, reply) => {
        const ok = await posted(request, reply);
        if (!ok) return reply;
        const { caller, form } = ok;
        const decision = form.decision;
        if (decision !== 'confirm' && decision !== 'cancel' && decision !== 'retry')
          return html(reply, 400, messagePageHtml('Unknown choice', 'Choose one of the buttons.'));
        const view = await chat.decide(caller, {
          conversationId: form.conversationId ?? '',
          pendingId: form.pendingId ?? '',
          decision,
        });
        return back(reply, view);
      });

      scope.post('/chat/signout', async (request, reply) => {
        const ok = await posted(request, reply);
        if (!ok) return reply;
        return html(
          reply.header('set-cookie', clearCookie(SESSION_COOKIE)),
          200,
          messagePageHtml('Signed out', 'You are signed out of the chat.', {
            href: '/chat',
            text: 'Sign in again',
          }),
        );
      });
    });
  };
}
