import { isObject } from '../pointer.ts';
import type { Accessor } from './expression.ts';
import { parseAccessors } from './expression.ts';

/**
 * A property path in a body as templates write it: `@body()`, `@body().a.b`, `body()` (the `@` is
 * sometimes omitted, e.g. Miro), `@body()['@odata.id']`, `['@odata.id']`, `a.b`, or `"null"` for none.
 */
export function bodyPath(raw: unknown): Accessor[] {
  if (typeof raw !== 'string') return [];
  let text = raw.trim();
  if (text === '' || text === 'null') return [];
  text = text.replace(/^@/, '').replace(/^(triggerBody|body)\(\)/i, '');
  if (text === '') return [];
  if (!text.startsWith('.') && !text.startsWith('[')) text = '.' + text;
  const c = { text, pos: 0 };
  const path = parseAccessors(c);
  // Keys with characters the accessor grammar does not cover: fall back to dotted names.
  return c.pos === text.length ? path : text.slice(1).split('.');
}

export function getAt(root: unknown, path: readonly Accessor[]): unknown {
  let node = root;
  for (const step of path) {
    if (Array.isArray(node)) node = node[Number(step)];
    else if (isObject(node)) node = node[String(step)];
    else return undefined;
  }
  return node;
}

/** Sets a value, creating objects on the way; returns the (possibly new) root. */
export function setAt(root: unknown, path: readonly Accessor[], value: unknown): unknown {
  if (path.length === 0) return value;
  const base: Record<string, unknown> | unknown[] = isObject(root) || Array.isArray(root) ? root : {};
  let node: Record<string, unknown> | unknown[] = base;
  for (let i = 0; i < path.length - 1; i++) {
    const step = path[i]!;
    const next = Array.isArray(node) ? node[Number(step)] : node[String(step)];
    const child = isObject(next) || Array.isArray(next) ? next : {};
    if (Array.isArray(node)) node[Number(step)] = child;
    else node[String(step)] = child;
    node = child;
  }
  const last = path.at(-1)!;
  if (Array.isArray(node)) node[Number(last)] = value;
  else node[String(last)] = value;
  return base;
}

export function deleteAt(root: unknown, path: readonly Accessor[]): void {
  if (path.length === 0) return;
  const parent = getAt(root, path.slice(0, -1));
  const last = path.at(-1)!;
  if (isObject(parent)) delete parent[String(last)];
  else if (Array.isArray(parent)) parent.splice(Number(last), 1);
}
