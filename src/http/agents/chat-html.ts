import type { AgentView } from '../../agents/agent-model.ts';
import type { ChatEntry, ConversationView } from '../../agents/conversation.ts';

/**
 * The /chat page as server-rendered HTML: plain forms (no script needed), one stylesheet, every value
 * escaped. Pending decisions (confirm / cancel, retry after consent) are buttons on the entry that asks.
 */
const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const esc = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

export interface ChatPageModel {
  readonly user: string;
  readonly agent: AgentView | undefined;
  readonly agents: readonly AgentView[];
  readonly conversation: ConversationView | undefined;
  readonly csrf: string;
}

function hidden(fields: Record<string, string | undefined>): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v!)}">`)
    .join('');
}

function decisionForm(model: ChatPageModel, pendingId: string, buttons: [string, string][]): string {
  const fields = hidden({ csrf: model.csrf, conversationId: model.conversation!.id, pendingId });
  const list = buttons
    .map(([value, label]) => `<button type="submit" name="decision" value="${value}">${esc(label)}</button>`)
    .join(' ');
  return `<form method="post" action="/chat/decide" class="decision">${fields}${list}</form>`;
}

function entryHtml(model: ChatPageModel, entry: ChatEntry, last: boolean): string {
  const who = entry.role === 'user' ? 'You' : (model.agent?.displayName ?? 'Agent');
  const pending = last ? model.conversation?.pending : undefined;
  const parts = [`<p class="who">${esc(entry.notice ? 'Behalf' : who)}</p>`];
  const role = entry.problem ? ' role="alert"' : '';
  parts.push(`<div class="text${entry.problem ? ' problem' : ''}"${role}>${esc(entry.text)}</div>`);
  if (entry.card) {
    parts.push(
      `<div class="card" role="group" aria-label="Connection needed"><p>` +
        `<a href="${esc(entry.card.url)}" target="_blank" rel="noopener noreferrer">Connect to ${esc(entry.card.connectorName)}</a>` +
        `</p>${
          pending?.reason === 'consent'
            ? decisionForm(model, pending.id, [
                ['retry', 'I have connected: try again'],
                ['cancel', 'Cancel'],
              ])
            : ''
        }</div>`,
    );
  }
  if (entry.confirmation && pending?.reason === 'confirmation' && pending.id === entry.confirmation.id)
    parts.push(
      decisionForm(model, pending.id, [
        ['confirm', 'Run it'],
        ['cancel', 'Cancel'],
      ]),
    );
  const anchor = last ? ' id="latest"' : '';
  return `<li${anchor} class="entry ${entry.role}${entry.notice ? ' notice' : ''}">${parts.join('')}</li>`;
}

export function chatPageHtml(model: ChatPageModel): string {
  const entries = model.conversation?.entries ?? [];
  const agentNav = model.agents
    .map(
      (a) =>
        `<li><a href="/chat?agent=${encodeURIComponent(a.name)}"${a.name === model.agent?.name ? ' aria-current="page"' : ''}>${esc(a.displayName)}</a></li>`,
    )
    .join('');
  const conversation = entries.length
    ? `<ol class="conversation" aria-label="Conversation">${entries.map((e, i) => entryHtml(model, e, i === entries.length - 1)).join('')}</ol>`
    : `<p class="empty">Ask something, or type <kbd>/help</kbd> to list the tools and run one directly.</p>`;
  const composer = model.agent
    ? `<form method="post" action="/chat/send" class="composer">${hidden({
        csrf: model.csrf,
        agent: model.agent.name,
        conversationId: model.conversation?.id,
      })}<label for="text">Message to ${esc(model.agent.displayName)}</label>` +
      `<textarea id="text" name="text" rows="3" required maxlength="20000" autofocus></textarea>` +
      `<button type="submit">Send</button></form>`
    : '<p role="alert">There is no agent in your organization yet; a maker can create one with <code>behalf agent create</code>.</p>';
  return page(
    model.agent ? `${model.agent.displayName} · Behalf chat` : 'Behalf chat',
    `<header><h1>${esc(model.agent?.displayName ?? 'Behalf chat')}</h1>` +
      `<form method="post" action="/chat/signout" class="account">${hidden({ csrf: model.csrf })}` +
      `<span>Signed in as ${esc(model.user)}</span> <button type="submit">Sign out</button></form>` +
      `${agentNav ? `<nav aria-label="Agents"><ul>${agentNav}</ul></nav>` : ''}</header>` +
      `<main>${conversation}${composer}` +
      (model.conversation
        ? `<p><a href="/chat?agent=${encodeURIComponent(model.conversation.agent)}">New conversation</a></p>`
        : '') +
      `</main>`,
  );
}

export function messagePageHtml(
  title: string,
  message: string,
  link?: { href: string; text: string },
): string {
  return page(
    title,
    `<main><h1>${esc(title)}</h1><p role="alert">${esc(message)}</p>${link ? `<p><a href="${esc(link.href)}">${esc(link.text)}</a></p>` : ''}</main>`,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><link rel="stylesheet" href="/chat/chat.css"></head><body>${body}</body></html>`;
}

export const CHAT_CSS = `
body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:48rem;padding:1rem;color:#1b1b1b;background:#fafafa}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:baseline;justify-content:space-between;border-bottom:1px solid #ccc}
h1{font-size:1.4rem;margin:.5rem 0}
nav ul{list-style:none;display:flex;gap:1rem;padding:0;margin:0}
.conversation{list-style:none;padding:0}
.entry{margin:.75rem 0;padding:.5rem .75rem;border-radius:.5rem;background:#fff;border:1px solid #ddd}
.entry.user{background:#eef4ff;border-color:#b6ccf2}
.entry.notice{background:#fff7e0;border-color:#e0c26a}
.who{font-weight:600;margin:0 0 .25rem}
.text{white-space:pre-wrap;overflow-wrap:anywhere;font-family:ui-monospace,monospace;font-size:.9rem}
.problem{color:#8a1c1c}
.card{margin-top:.5rem;padding:.5rem;border:2px solid #2a5db0;border-radius:.5rem}
.composer{display:grid;gap:.5rem;margin-top:1rem}
textarea{font:inherit;padding:.5rem}
button{font:inherit;padding:.35rem .9rem;cursor:pointer}
a{color:#1a4fa0}
:focus-visible{outline:3px solid #1a4fa0;outline-offset:2px}
`;
