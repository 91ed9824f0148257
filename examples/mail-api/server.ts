import { randomUUID } from 'node:crypto';
import { createEasyAuth } from '../../src/easyauth/index.ts';
import type { BearerError, FetchLike, Principal } from '../../src/easyauth/index.ts';
import { serveApi } from '../serve.ts';
import type { ApiResult, Route, RunningApi, ServeOptions } from '../serve.ts';
import { ACCESS_DENIED, graphError } from './graph-errors.ts';
import { defaultMailSeed, WELL_KNOWN_FOLDERS } from './mailbox-seed.ts';
import type { EmailAddress, MailSeed, Message } from './mailbox-seed.ts';

/**
 * Contoso Mail: a small Microsoft-Graph-shaped mail API protected by Easy Auth. Delegated scopes
 * `Mail.Read` and `Mail.Send`; app role `Mail.Read.All` for `/users/{id}/messages`.
 */
export interface MailApiOptions extends ServeOptions {
  /** The authority Easy Auth trusts, e.g. `https://localhost:7443/{tenantId}`. */
  readonly authority: string;
  readonly tenantId?: string;
  /** Accepted audiences: the Mail API's appId and identifier URI(s). */
  readonly audiences: readonly string[];
  readonly seed?: MailSeed;
  /** PEM of the CA the authority's TLS certificate chains to. */
  readonly ca?: string;
  readonly fetch?: FetchLike;
  readonly keyRefreshCooldownMs?: number;
}

const PAGE_MAX = 1000;
const FIELDS = new Set([
  'id',
  'parentFolderId',
  'subject',
  'bodyPreview',
  'body',
  'from',
  'toRecipients',
  'receivedDateTime',
  'sentDateTime',
  'isRead',
  'importance',
  'hasAttachments',
]);

export async function startMailApi(options: MailApiOptions): Promise<RunningApi> {
  const mailboxes = new Map<string, Message[]>(
    Object.entries(options.seed ?? defaultMailSeed()).map(([upn, list]) => [upn.toLowerCase(), [...list]]),
  );
  const auth = createEasyAuth({
    authority: options.authority,
    audiences: options.audiences,
    ...(options.tenantId ? { allowedTenants: [options.tenantId] } : {}),
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.keyRefreshCooldownMs !== undefined
      ? { keyRefreshCooldownMs: options.keyRefreshCooldownMs }
      : {}),
    formatError: graphAuthError,
  });

  const mailboxOf = (who: string | undefined) => (who ? mailboxes.get(who.toLowerCase()) : undefined);
  const myMailbox = (p: Principal) => mailboxOf(p.upn);
  const denied = () => graphError(403, 'ErrorAccessDenied', ACCESS_DENIED);

  function list(
    messages: readonly Message[] | undefined,
    query: URLSearchParams,
    path: string,
    folder?: string,
  ): ApiResult {
    if (!messages) return denied();
    const top = query.has('$top') ? Number(query.get('$top')) : 10;
    const skip = query.has('$skip') ? Number(query.get('$skip')) : 0;
    if (!Number.isInteger(top) || top < 1 || top > PAGE_MAX)
      return graphError(
        400,
        'ErrorInvalidUrlQuery',
        `Invalid value '${query.get('$top')}' for query option $top.`,
      );
    if (!Number.isInteger(skip) || skip < 0)
      return graphError(
        400,
        'ErrorInvalidUrlQuery',
        `Invalid value '${query.get('$skip')}' for query option $skip.`,
      );
    const filter = parseFilter(query.get('$filter'));
    if (filter === 'invalid')
      return graphError(400, 'BadRequest', `Invalid filter clause: ${query.get('$filter')}`);
    const select = (query.get('$select') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = select.find((f) => !FIELDS.has(f));
    if (unknown)
      return graphError(
        400,
        'RequestBroker--ParseUri',
        `Could not find a property named '${unknown}' on type 'microsoft.graph.message'.`,
      );
    const matching = messages
      .filter((m) => (folder ? m.parentFolderId === folder : true))
      .filter((m) => (filter ? m.isRead === filter.isRead : true))
      .sort((a, b) => b.receivedDateTime.localeCompare(a.receivedDateTime));
    const page = matching.slice(skip, skip + top).map((m) => project(m, select));
    const next = new URLSearchParams(query);
    next.set('$skip', String(skip + top));
    return {
      status: 200,
      body: {
        '@odata.context': `$metadata#${path}`,
        value: page,
        ...(skip + top < matching.length ? { '@odata.nextLink': `${path}?${next.toString()}` } : {}),
      },
    };
  }

  const folderOf = (name: string) => {
    const lower = name.toLowerCase();
    return (WELL_KNOWN_FOLDERS as readonly string[]).includes(lower) ? lower : undefined;
  };

  const FOLDER_NAMES: Record<string, string> = {
    inbox: 'Inbox',
    sentitems: 'Sent Items',
    drafts: 'Drafts',
    deleteditems: 'Deleted Items',
    archive: 'Archive',
  };

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: /^\/v1\.0\/me\/mailFolders\/?$/,
      requirement: { scopes: ['Mail.Read', 'Mail.ReadWrite'] },
      handle: ({ principal }) => {
        const mailbox = myMailbox(principal);
        if (!mailbox) return denied();
        const value = WELL_KNOWN_FOLDERS.map((id) => ({
          id,
          displayName: FOLDER_NAMES[id] ?? id,
          totalItemCount: mailbox.filter((m) => m.parentFolderId === id).length,
          unreadItemCount: mailbox.filter((m) => m.parentFolderId === id && !m.isRead).length,
        }));
        return { status: 200, body: { '@odata.context': '$metadata#/v1.0/me/mailFolders', value } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\.0\/me\/messages\/?$/,
      requirement: { scopes: ['Mail.Read', 'Mail.ReadWrite'] },
      handle: ({ principal, query }) => list(myMailbox(principal), query, '/v1.0/me/messages'),
    },
    {
      method: 'GET',
      pattern: /^\/v1\.0\/me\/mailFolders\/(?<folder>[^/]+)\/messages\/?$/,
      requirement: { scopes: ['Mail.Read', 'Mail.ReadWrite'] },
      handle: ({ principal, query, params }) => {
        const mailbox = myMailbox(principal);
        if (!mailbox) return denied();
        const folder = folderOf(params['folder']!);
        if (!folder)
          return graphError(
            404,
            'ErrorItemNotFound',
            'The specified folder could not be found in the store.',
          );
        return list(mailbox, query, `/v1.0/me/mailFolders/${params['folder']}/messages`, folder);
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\.0\/me\/messages\/(?<id>[^/]+)\/?$/,
      requirement: { scopes: ['Mail.Read', 'Mail.ReadWrite'] },
      handle: ({ principal, params, query }) => {
        const mailbox = myMailbox(principal);
        if (!mailbox) return denied();
        const message = mailbox.find((m) => m.id === params['id']);
        if (!message)
          return graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
        const select = (query.get('$select') ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        return { status: 200, body: project(message, select) };
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\.0\/me\/sendMail\/?$/,
      requirement: { scopes: ['Mail.Send'] },
      handle: ({ principal, body }) => {
        const mailbox = myMailbox(principal);
        if (!mailbox) return denied();
        const parsed = parseSendMail(body);
        if (typeof parsed === 'string') return graphError(400, 'ErrorInvalidRequest', parsed);
        const now = new Date().toISOString();
        const from: EmailAddress = {
          emailAddress: { name: principal.name ?? principal.upn ?? '', address: principal.upn ?? '' },
        };
        const { saveToSentItems, ...content } = parsed;
        const base = {
          ...content,
          from,
          receivedDateTime: now,
          sentDateTime: now,
          importance: 'normal' as const,
          hasAttachments: false,
        };
        if (saveToSentItems)
          mailbox.push({
            ...base,
            id: `AAMkAGI2-${randomUUID()}`,
            parentFolderId: 'sentitems',
            isRead: true,
          });
        for (const to of parsed.toRecipients)
          mailboxOf(to.emailAddress.address)?.push({
            ...base,
            id: `AAMkAGI2-${randomUUID()}`,
            parentFolderId: 'inbox',
            isRead: false,
          });
        return { status: 202 };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\.0\/users\/(?<user>[^/]+)\/messages\/?$/,
      requirement: { roles: ['Mail.Read.All'] },
      handle: ({ params, query }) => {
        const mailbox = mailboxOf(params['user']);
        if (!mailbox)
          return graphError(
            404,
            'ErrorItemNotFound',
            `The mailbox of '${params['user']}' could not be found.`,
          );
        return list(mailbox, query, `/v1.0/users/${params['user']}/messages`);
      },
    },
  ];

  return serveApi(
    auth,
    routes,
    (path) =>
      graphError(400, 'BadRequest', `Resource not found for the segment '${path.split('/').pop() ?? ''}'.`),
    (message) => graphError(400, 'BadRequest', message),
    options,
  );
}

/** Only the filters the demo supports; anything else is refused, never silently ignored. */
function parseFilter(filter: string | null): { isRead: boolean } | undefined | 'invalid' {
  if (filter === null || filter.trim() === '') return undefined;
  const match = /^\s*isRead\s+eq\s+(true|false)\s*$/.exec(filter);
  return match ? { isRead: match[1] === 'true' } : 'invalid';
}

function project(message: Message, select: readonly string[]): Record<string, unknown> {
  if (select.length === 0) return { ...message };
  const out: Record<string, unknown> = { id: message.id };
  for (const field of select) out[field] = message[field as keyof Message];
  return out;
}

function parseSendMail(body: unknown) {
  const message = (body as { message?: Record<string, unknown> } | undefined)?.message;
  if (!message || typeof message !== 'object') return 'The request body must contain a message.';
  const subject = typeof message['subject'] === 'string' ? message['subject'] : '';
  const content = (message['body'] as { content?: unknown } | undefined)?.content;
  const recipients = message['toRecipients'];
  if (!Array.isArray(recipients) || recipients.length === 0) return 'At least one recipient is required.';
  const toRecipients: EmailAddress[] = [];
  for (const r of recipients) {
    const address = (r as EmailAddress | undefined)?.emailAddress?.address;
    if (typeof address !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(address))
      return 'A recipient address is not valid.';
    toRecipients.push({ emailAddress: { name: (r as EmailAddress).emailAddress.name ?? address, address } });
  }
  const text = typeof content === 'string' ? content : '';
  return {
    subject,
    body: { contentType: 'text' as const, content: text },
    bodyPreview: text.slice(0, 255),
    toRecipients,
    saveToSentItems: (body as { saveToSentItems?: unknown }).saveToSentItems !== false,
  };
}

/** Graph's codes for authentication failures, keeping Easy Auth's precise description as the message. */
function graphAuthError(error: BearerError) {
  const code =
    error.status === 401
      ? 'InvalidAuthenticationToken'
      : error.status === 403
        ? 'ErrorAccessDenied'
        : 'BadRequest';
  return graphError(error.status, code, error.description).body;
}
